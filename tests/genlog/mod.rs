//! A realistic, deterministic access-log generator for tests and benchmarks
//! (`cargo run --release --example genlog`).
//!
//! Traffic is simulated as actors arriving over time (a Poisson process), each writing its own
//! script of requests: human visits (Zipf-distributed pages, each fetched with its assets, entry
//! referrers from search, social, utm links or none), and bots (search and AI crawlers, vulnerability
//! scanners probing `/wp-login.php` and `/.env`, uptime monitors, headless scrapers, feed readers)
//! making about a third of all hits. Lines come out in time order. With a truth writer, each line
//! gets a label: `human`, `bot <kind>` or `garbage`, so bot detection can be scored.
#![allow(dead_code)]

#[path = "model.rs"]
pub mod model;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

/// Output format of the generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenFormat {
    /// nginx/Apache combined.
    Combined,
    /// Caddy v2 JSON.
    Caddy,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Config {
    /// Number of lines.
    pub lines: u64,
    /// Seed: the same seed gives the same log, byte for byte.
    pub seed: u64,
    /// Days the log spans (approximately).
    pub days: u32,
    /// Output format.
    pub format: GenFormat,
    /// First timestamp, unix ms.
    pub start_ms: i64,
    /// Site host name.
    pub host: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            lines: 10_000,
            seed: 1,
            days: 30,
            format: GenFormat::Combined,
            start_ms: 1_790_812_800_000, // 2026-10-01T00:00:00Z
            host: "example.com".into(),
        }
    }
}

/// SplitMix64: tiny, fast and stable across versions (a rand upgrade must not change fixtures).
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in `[lo, hi]`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
    /// Exponentially distributed with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }
}

/// Current browsers, desktop and mobile.
pub const BROWSER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 Edg/141.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:144.0) Gecko/20100101 Firefox/144.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 OPR/124.0.0.0",
];

/// Search engines, AI crawlers, social previews, SEO tools.
pub const CRAWLER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/141.0.7390.122 Safari/537.36",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
    "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
    "CCBot/2.0 (https://commoncrawl.org/faq/)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
    "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)",
    "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
];

/// Scanners and HTTP client libraries; scanners also pose as browsers.
pub const SCANNER_AGENTS: &[&str] = &[
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "Mozilla/5.0 zgrab/0.x",
    "Wget/1.21.4",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
    "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:Port Check)",
    "python-httpx/0.27.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "",
];

/// Uptime monitors.
pub const MONITOR_AGENTS: &[&str] = &[
    "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
    "Mozilla/5.0 (compatible; StatusCake)",
    "Better Uptime Bot Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
];

/// Feed readers.
pub const FEED_AGENTS: &[&str] = &[
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 5 subscribers; like FeedFetcher-Google)",
    "NewsBlur Feed Fetcher - 12 subscribers - https://www.newsblur.com/site/1234/example (Mozilla/5.0)",
    "Tiny Tiny RSS/24.10 (https://tt-rss.org/)",
];

/// Headless browsers used for scraping.
pub const HEADLESS_AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.33 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
];

/// Paths vulnerability scanners probe.
pub const PROBE_PATHS: &[&str] = &[
    "/wp-login.php",
    "/wp-admin/",
    "/xmlrpc.php",
    "/.env",
    "/.git/config",
    "/.git/HEAD",
    "/phpmyadmin/",
    "/admin.php",
    "/backup.zip",
    "/config.php.bak",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci",
    "/.aws/credentials",
    "/wp-content/plugins/wp-file-manager/readme.txt",
    "/owa/auth/logon.aspx",
    "/actuator/health",
    "/server-status",
    "/.DS_Store",
    "/db.sql",
    "/shell.php",
];

const SEARCH_REFERRERS: &[&str] = &[
    "https://www.google.com/",
    "https://www.google.de/",
    "https://www.google.co.uk/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://search.brave.com/",
    "https://www.ecosia.org/",
];
const SOCIAL_REFERRERS: &[&str] = &[
    "https://t.co/",
    "https://www.reddit.com/r/selfhosted/",
    "https://news.ycombinator.com/",
    "https://www.facebook.com/",
    "https://lobste.rs/",
    "https://mastodon.social/",
];
const OTHER_REFERRERS: &[&str] = &[
    "https://blog.example.net/links",
    "https://github.com/example/project",
    "https://dev.to/someone/post",
];
const UTM_SOURCES: &[&str] = &["newsletter", "twitter", "mastodon", "producthunt"];

const SECTIONS: &[&str] = &["blog", "docs", "guides", "news"];
const TOPICS: &[&str] = &[
    "nginx",
    "sqlite",
    "backups",
    "privacy",
    "analytics",
    "caddy",
    "rust",
    "logs",
    "cron",
    "systemd",
    "dns",
    "tls",
];
const TOP_PAGES: &[&str] = &[
    "/",
    "/about",
    "/pricing",
    "/blog/",
    "/docs/",
    "/contact",
    "/changelog",
];
const ASSETS: &[&str] = &[
    "/static/css/site.css",
    "/static/js/app.js",
    "/static/fonts/inter.woff2",
    "/favicon.ico",
    "/static/img/logo.svg",
];

/// `n` ranks whose popularity falls as `1/rank^exponent` (Zipf), drawn by their cumulative
/// distribution.
pub(crate) struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub(crate) fn new(n: usize, exponent: f64) -> Zipf {
        let weights: Vec<f64> = (1..=n).map(|r| 1.0 / (r as f64).powf(exponent)).collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cdf = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        Zipf { cdf }
    }

    /// A rank in `0..n`, the most popular first.
    pub(crate) fn pick(&self, rng: &mut Rng) -> usize {
        let u = rng.f64();
        self.cdf.partition_point(|c| *c < u).min(self.cdf.len() - 1)
    }
}

/// Pages ranked by popularity; the popularity of rank `r` is proportional to `1/r^1.1` (Zipf).
struct Site {
    pages: Vec<String>,
    popularity: Zipf,
}

impl Site {
    fn new(rng: &mut Rng) -> Site {
        let mut pages: Vec<String> = TOP_PAGES.iter().map(|s| s.to_string()).collect();
        for i in 0..300 {
            let section = rng.pick(SECTIONS);
            let (a, b) = (rng.pick(TOPICS), rng.pick(TOPICS));
            pages.push(format!("/{section}/{a}-{b}-{i}"));
        }
        Site {
            popularity: Zipf::new(pages.len(), 1.1),
            pages,
        }
    }

    fn page(&self, rng: &mut Rng) -> &str {
        &self.pages[self.popularity.pick(rng)]
    }
}

/// One line waiting in the time-ordered queue.
struct Pending {
    ts_ms: i64,
    seq: u64,
    text: String,
    label: &'static str,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        (self.ts_ms, self.seq) == (o.ts_ms, o.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.ts_ms, self.seq).cmp(&(o.ts_ms, o.seq))
    }
}

/// One request of an actor's script.
struct Request<'a> {
    method: &'a str,
    path: &'a str,
    query: Option<String>,
    status: u16,
    bytes: u64,
    referrer: Option<String>,
}

/// Kinds of actors, with their share of all hits and their mean lines per arrival.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Human,
    Crawler,
    Scanner,
    Monitor,
    Scraper,
    Feed,
}

const MIX: &[(Kind, f64, f64)] = &[
    (Kind::Human, 0.66, 6.3),
    (Kind::Crawler, 0.17, 13.0),
    (Kind::Scanner, 0.08, 10.0),
    (Kind::Monitor, 0.04, 24.0),
    (Kind::Scraper, 0.03, 160.0),
    (Kind::Feed, 0.02, 2.0),
];

struct Generator<'c> {
    cfg: &'c Config,
    rng: Rng,
    site: Site,
    queue: BinaryHeap<Reverse<Pending>>,
    seq: u64,
}

fn ipv4(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.range(1, 223),
        rng.range(0, 255),
        rng.range(0, 255),
        rng.range(1, 254)
    )
}

fn ipv6(rng: &mut Rng) -> String {
    format!(
        "2001:db8:{:x}:{:x}::{:x}",
        rng.range(0, 0xffff),
        rng.range(0, 0xffff),
        rng.range(1, 0xffff)
    )
}

fn month_abbrev(m: u32) -> &'static str {
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize]
}

fn json_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
}

impl<'c> Generator<'c> {
    fn push(&mut self, ts_ms: i64, ip: &str, agent: &str, r: &Request, label: &'static str) {
        let text = match self.cfg.format {
            GenFormat::Combined => self.combined(ts_ms, ip, agent, r),
            GenFormat::Caddy => self.caddy(ts_ms, ip, agent, r),
        };
        self.seq += 1;
        self.queue.push(Reverse(Pending {
            ts_ms,
            seq: self.seq,
            text,
            label,
        }));
    }

    fn combined(&self, ts_ms: i64, ip: &str, agent: &str, r: &Request) -> String {
        let t = chrono::DateTime::from_timestamp_millis(ts_ms).expect("time in range");
        use chrono::{Datelike, Timelike};
        let target = match &r.query {
            Some(q) => format!("{}?{q}", r.path),
            None => r.path.to_string(),
        };
        format!(
            "{ip} - - [{:02}/{}/{}:{:02}:{:02}:{:02} +0000] \"{} {target} HTTP/1.1\" {} {} \"{}\" \"{}\"",
            t.day(),
            month_abbrev(t.month()),
            t.year(),
            t.hour(),
            t.minute(),
            t.second(),
            r.method,
            r.status,
            r.bytes,
            r.referrer.as_deref().unwrap_or("-"),
            if agent.is_empty() { "-" } else { agent },
        )
    }

    fn caddy(&self, ts_ms: i64, ip: &str, agent: &str, r: &Request) -> String {
        let mut s = String::with_capacity(600);
        s.push_str(&format!(
            "{{\"level\":\"info\",\"ts\":{}.{:03}{:03},\"logger\":\"http.log.access.log0\",\"msg\":\"handled request\",\"request\":{{\"remote_ip\":\"{ip}\",\"remote_port\":\"{}\",\"client_ip\":\"{ip}\",\"proto\":\"HTTP/2.0\",\"method\":\"{}\",\"host\":\"{}\",\"uri\":\"",
            ts_ms / 1000, ts_ms % 1000, (ts_ms * 7) % 1000, 30000 + ts_ms % 30000, r.method, self.cfg.host
        ));
        json_escape(r.path, &mut s);
        if let Some(q) = &r.query {
            s.push('?');
            json_escape(q, &mut s);
        }
        s.push_str(
            "\",\"headers\":{\"Accept-Encoding\":[\"gzip, deflate, br\"],\"User-Agent\":[\"",
        );
        json_escape(agent, &mut s);
        s.push_str("\"]");
        if let Some(rf) = &r.referrer {
            s.push_str(",\"Referer\":[\"");
            json_escape(rf, &mut s);
            s.push_str("\"]");
        }
        s.push_str(&format!(
            ",\"Accept\":[\"text/html,application/xhtml+xml\"]}},\"tls\":{{\"resumed\":false,\"version\":772,\"cipher_suite\":4865,\"proto\":\"h2\",\"server_name\":\"{}\"}}}},\"bytes_read\":0,\"user_id\":\"\",\"duration\":0.{:06},\"size\":{},\"status\":{},\"resp_headers\":{{\"Server\":[\"Caddy\"],\"Content-Type\":[\"text/html; charset=utf-8\"]}}}}",
            self.cfg.host, 200 + (ts_ms % 90_000), r.bytes, r.status
        ));
        s
    }

    fn client_ip(&mut self) -> String {
        if self.rng.chance(0.12) {
            ipv6(&mut self.rng)
        } else {
            ipv4(&mut self.rng)
        }
    }

    fn entry_referrer(&mut self) -> (Option<String>, Option<String>) {
        let u = self.rng.f64();
        if u < 0.40 {
            (None, None)
        } else if u < 0.70 {
            (Some(self.rng.pick(SEARCH_REFERRERS).to_string()), None)
        } else if u < 0.85 {
            (Some(self.rng.pick(SOCIAL_REFERRERS).to_string()), None)
        } else if u < 0.95 {
            let src = self.rng.pick(UTM_SOURCES);
            (
                None,
                Some(format!(
                    "utm_source={src}&utm_medium=link&utm_campaign=launch"
                )),
            )
        } else {
            (Some(self.rng.pick(OTHER_REFERRERS).to_string()), None)
        }
    }

    fn human(&mut self, at: i64) {
        let ip = self.client_ip();
        let agent = *self.rng.pick(BROWSER_AGENTS);
        let pages = 1 + self.rng.exp(1.3) as u64;
        let returning = self.rng.chance(0.3);
        let (mut referrer, utm) = self.entry_referrer();
        let mut t = at;
        for n in 0..pages.min(12) {
            let page = self.site.page(&mut self.rng).to_string();
            let (status, bytes) = if self.rng.chance(0.015) {
                (404, 3_650)
            } else if returning && self.rng.chance(0.2) {
                (304, 0)
            } else {
                (200, self.rng.range(4_000, 60_000))
            };
            let query = if n == 0 { utm.clone() } else { None };
            let req = Request {
                method: "GET",
                path: &page,
                query,
                status,
                bytes,
                referrer: referrer.clone(),
            };
            self.push(t, &ip, agent, &req, "human");
            let page_url = format!("https://{}{}", self.cfg.host, page);
            if status == 200 || status == 304 {
                let assets = if returning {
                    self.rng.range(0, 2)
                } else {
                    self.rng.range(1, 4)
                };
                for a in 0..assets {
                    let asset = ASSETS[(a as usize + n as usize) % ASSETS.len()];
                    let st = if returning { 304 } else { 200 };
                    let req = Request {
                        method: "GET",
                        path: asset,
                        query: None,
                        status: st,
                        bytes: if st == 304 {
                            0
                        } else {
                            self.rng.range(500, 90_000)
                        },
                        referrer: Some(page_url.clone()),
                    };
                    self.push(t + 40 + a as i64 * 25, &ip, agent, &req, "human");
                }
            }
            referrer = Some(page_url);
            t += (self.rng.exp(70.0) * 1000.0) as i64 + 2_000;
        }
    }

    fn crawler(&mut self, at: i64) {
        let ip = ipv4(&mut self.rng);
        let agent = *self.rng.pick(CRAWLER_AGENTS);
        let mut t = at;
        if self.rng.chance(0.3) {
            let req = Request {
                method: "GET",
                path: "/robots.txt",
                query: None,
                status: 200,
                bytes: 120,
                referrer: None,
            };
            self.push(t, &ip, agent, &req, "bot crawler");
            t += 1_500;
        }
        for _ in 0..self.rng.range(3, 22) {
            let page = self.site.page(&mut self.rng).to_string();
            let req = Request {
                method: "GET",
                path: &page,
                query: None,
                status: 200,
                bytes: self.rng.range(4_000, 60_000),
                referrer: None,
            };
            self.push(t, &ip, agent, &req, "bot crawler");
            t += (self.rng.exp(20.0) * 1000.0) as i64 + 500;
        }
    }

    fn scanner(&mut self, at: i64) {
        let ip = self.client_ip();
        let agent = *self.rng.pick(SCANNER_AGENTS);
        let mut t = at;
        let n = self.rng.range(4, 16);
        for i in 0..n {
            let (path, status) = if i == 0 {
                ("/", 200)
            } else {
                (
                    *self.rng.pick(PROBE_PATHS),
                    if self.rng.chance(0.9) { 404 } else { 403 },
                )
            };
            let method = if path == "/xmlrpc.php" || path == "/wp-login.php" {
                "POST"
            } else {
                "GET"
            };
            let req = Request {
                method,
                path,
                query: None,
                status,
                bytes: self.rng.range(150, 600),
                referrer: None,
            };
            self.push(t, &ip, agent, &req, "bot scanner");
            t += self.rng.range(50, 900) as i64;
        }
    }

    fn monitor(&mut self, at: i64) {
        let ip = ipv4(&mut self.rng);
        let agent = *self.rng.pick(MONITOR_AGENTS);
        let method = if self.rng.chance(0.5) { "HEAD" } else { "GET" };
        for i in 0..24 {
            let req = Request {
                method,
                path: "/",
                query: None,
                status: 200,
                bytes: 0,
                referrer: None,
            };
            self.push(at + i * 300_000, &ip, agent, &req, "bot monitor");
        }
    }

    fn scraper(&mut self, at: i64) {
        let ip = ipv4(&mut self.rng);
        let agent = *self.rng.pick(HEADLESS_AGENTS);
        let mut t = at;
        for _ in 0..self.rng.range(120, 200) {
            let page = self.site.page(&mut self.rng).to_string();
            let req = Request {
                method: "GET",
                path: &page,
                query: None,
                status: 200,
                bytes: self.rng.range(4_000, 60_000),
                referrer: None,
            };
            self.push(t, &ip, agent, &req, "bot scraper");
            t += self.rng.range(300, 4_000) as i64;
        }
    }

    fn feed(&mut self, at: i64) {
        let ip = ipv4(&mut self.rng);
        let agent = *self.rng.pick(FEED_AGENTS);
        for i in 0..2 {
            let req = Request {
                method: "GET",
                path: "/feed.xml",
                query: None,
                status: if i == 0 { 200 } else { 304 },
                bytes: 25_000,
                referrer: None,
            };
            self.push(at + i * 1_800_000, &ip, agent, &req, "bot feed");
        }
    }

    fn garbage(&mut self, at: i64) {
        let text = match self.cfg.format {
            GenFormat::Caddy => "{\"level\":\"info\",\"ts\":\"truncated".to_string(),
            GenFormat::Combined => match self.rng.range(0, 2) {
                0 => "\u{16}\u{3}\u{1}\u{0}binary garbage".to_string(),
                1 => format!("{} - - [trunc", ipv4(&mut self.rng)),
                _ => "upstream timed out (110: Connection timed out) while reading response header"
                    .to_string(),
            },
        };
        self.seq += 1;
        self.queue.push(Reverse(Pending {
            ts_ms: at,
            seq: self.seq,
            text,
            label: "garbage",
        }));
    }

    fn spawn(&mut self, at: i64) {
        if self.rng.chance(0.0005) {
            return self.garbage(at);
        }
        // Arrival weights: share of hits divided by lines per arrival.
        let total: f64 = MIX.iter().map(|(_, share, mean)| share / mean).sum();
        let mut u = self.rng.f64() * total;
        let mut kind = Kind::Human;
        for (k, share, mean) in MIX {
            u -= share / mean;
            if u <= 0.0 {
                kind = *k;
                break;
            }
        }
        match kind {
            Kind::Human => self.human(at),
            Kind::Crawler => self.crawler(at),
            Kind::Scanner => self.scanner(at),
            Kind::Monitor => self.monitor(at),
            Kind::Scraper => self.scraper(at),
            Kind::Feed => self.feed(at),
        }
    }
}

/// Writes `cfg.lines` lines to `out`, and one label per line to `truth` when given.
pub fn generate(
    cfg: &Config,
    out: &mut dyn Write,
    mut truth: Option<&mut dyn Write>,
) -> io::Result<()> {
    let mut rng = Rng::new(cfg.seed);
    let site = Site::new(&mut rng);
    let mut g = Generator {
        cfg,
        rng,
        site,
        queue: BinaryHeap::new(),
        seq: 0,
    };
    let mean_lines: f64 = 1.0 / MIX.iter().map(|(_, share, mean)| share / mean).sum::<f64>();
    let span_ms = cfg.days.max(1) as f64 * 86_400_000.0;
    let mean_gap_ms = span_ms * mean_lines / cfg.lines.max(1) as f64;
    let mut next_arrival = cfg.start_ms as f64;
    let mut written = 0;
    while written < cfg.lines {
        let due = g
            .queue
            .peek()
            .is_some_and(|Reverse(p)| (p.ts_ms as f64) < next_arrival);
        if due {
            let Reverse(p) = g.queue.pop().expect("peeked");
            out.write_all(p.text.as_bytes())?;
            out.write_all(b"\n")?;
            if let Some(t) = truth.as_deref_mut() {
                writeln!(t, "{}", p.label)?;
            }
            written += 1;
        } else {
            g.spawn(next_arrival as i64);
            next_arrival += g.rng.exp(mean_gap_ms);
        }
    }
    Ok(())
}

/// Generates into memory (for benches and tests).
pub fn generate_to_vec(cfg: &Config) -> Vec<u8> {
    let mut out = Vec::with_capacity(cfg.lines as usize * 220);
    generate(cfg, &mut out, None).expect("writing to memory");
    out
}
