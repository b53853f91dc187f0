//! A labelled traffic model of a content site, written to test whether logtally's human figures
//! hold: every line comes with its truth (a person's or a bot's, which class, a page view or not).
//!
//! People arrive in sessions, not as independent lines: with a referrer (search, social, a
//! campaign link with `utm_*`, another site) or none, they read one to six pages with human think
//! times, each page's HTML followed within a second or two by its subresources with `Referer` set
//! to that page. Returning visitors have the shared assets cached (and often the page's own), so
//! many of their pages come alone. People behind a carrier NAT share addresses with other agents,
//! some browse from a VPN in a cloud network, some use in-app browsers, single-page-app users call
//! `/api/...` from the page, and the site's owner reloads pages and admin screens all day.
//!
//! Bots are modelled as they show up in real logs: declared search, AI and SEO crawlers; feed
//! readers; link previews; scrapers with current browser agents from cloud networks; scrapers
//! spread thin over hundreds of residential addresses sharing one rare agent; scrapers rotating
//! agents within one /24; referrer spammers (HTTP/1.0, a 404 then `/`, the agent changed between
//! the two); monitors hitting `/` every minute with a browser agent; headless Chrome and Lighthouse
//! rendering pages with their assets, and headless renderers dressed as Chrome in cloud networks;
//! Meta's link scanner replaying the clicker's in-app agent; vulnerability scanners; HTTP clients.
//!
//! The model was written from what the logs in the corpus and their labels show, not from
//! logtally's rules: it has cases those rules get wrong (a returning visitor on a VPN with a full
//! cache, a spread scraper using a common agent), and the accuracy test holds the rules to it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Rng;
use logtally::classify::browser_age::current_version;
use logtally::classify::network::{self, Ranges};

/// What to generate.
#[derive(Clone, Debug)]
pub struct Config {
    /// Number of lines (the last session may be cut).
    pub lines: u64,
    /// Days the log spans; the rate of traffic is set so `lines` fill them.
    pub days: u32,
    /// Seed: the same seed gives the same log.
    pub seed: u64,
    /// First timestamp, unix ms (midnight UTC).
    pub start_ms: i64,
    /// The site's host.
    pub host: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            lines: 100_000,
            days: 30,
            seed: 1,
            start_ms: 1_790_812_800_000, // 2026-10-01T00:00:00Z
            host: "example.com".into(),
        }
    }
}

/// The truth about one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineTruth {
    /// Sent by a person's browser.
    pub human: bool,
    /// `person`, `owner`, or the bot's class.
    pub class: &'static str,
    /// A person loading an HTML page (what Plausible counts).
    pub pageview: bool,
}

const DAY_MS: i64 = 86_400_000;
const MIN_MS: i64 = 60_000;

/// One request.
struct Req {
    ts: i64,
    addr: String,
    method: &'static str,
    target: String,
    proto: &'static str,
    status: u16,
    bytes: u32,
    referrer: Option<String>,
    agent: String,
    truth: LineTruth,
}

/// The site: pages with their images, ranked by popularity (Zipf).
struct Site {
    host: String,
    pages: Vec<(String, u32)>,
    popularity: super::Zipf,
    docs: Vec<usize>,
}

const SHARED_ASSETS: &[&str] = &[
    "/static/css/site.4f2a9c.css",
    "/static/js/main.91bd03.js",
    "/static/fonts/inter-var.woff2",
    "/static/img/logo.svg",
    "/favicon.ico",
];
const SPA_BUNDLE: &str = "/static/js/app.7c3e11.js";
const API_CALLS: &[&str] = &[
    "/api/v1/me",
    "/api/v1/projects",
    "/api/v1/projects/42/events?page=1",
    "/api/v1/notifications",
    "/api/v1/search?q=logs",
    "/api/v1/stats/today",
];
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
    "docker",
    "postgres",
    "monitoring",
    "rsync",
];

impl Site {
    fn new(rng: &mut Rng, host: &str) -> Site {
        let mut pages: Vec<(String, u32)> = vec![
            ("/".into(), 2),
            ("/blog/".into(), 1),
            ("/pricing/".into(), 1),
            ("/app/".into(), 0),
            ("/docs/".into(), 0),
            ("/about/".into(), 1),
        ];
        let mut docs = Vec::new();
        for i in 0..220 {
            let (a, b) = (rng.pick(TOPICS), rng.pick(TOPICS));
            if i % 4 == 3 {
                docs.push(pages.len());
                pages.push((format!("/docs/{a}/{b}-{i}/"), 0));
            } else {
                pages.push((format!("/blog/{a}-and-{b}-{i}/"), rng.range(1, 4) as u32));
            }
        }
        Site {
            host: host.to_string(),
            popularity: super::Zipf::new(pages.len(), 1.05),
            pages,
            docs,
        }
    }

    /// A page by popularity.
    fn page(&self, rng: &mut Rng) -> usize {
        self.popularity.pick(rng)
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}{}", self.host, path)
    }

    /// The images of a page.
    fn images(&self, page: usize) -> Vec<String> {
        let (path, n) = &self.pages[page];
        let slug = path.trim_matches('/').replace('/', "-");
        let slug = if slug.is_empty() {
            "home".to_string()
        } else {
            slug
        };
        (0..*n)
            .map(|i| format!("/images/{slug}-{i}.webp"))
            .collect()
    }
}

/// Addresses: residential (outside every datacenter range), cloud (inside), carrier NAT pools,
/// and iCloud Private Relay exits (inside datacenter ranges, but people).
struct Addresses {
    cloud: Vec<(u32, u32)>,
    relay: Vec<(u32, u32)>,
    nat_pool: Vec<String>,
}

fn dotted(a: u32) -> String {
    std::net::Ipv4Addr::from(a).to_string()
}

impl Addresses {
    fn new(rng: &mut Rng) -> Addresses {
        // The big clouds' ranges (wide ones), to draw scrapers and VPN exits from.
        let cloud: Vec<(u32, u32)> = Ranges::datacenters()
            .ipv4()
            .iter()
            .copied()
            .filter(|(a, b)| b - a >= 4095)
            .collect();
        let mut a = Addresses {
            cloud,
            relay: Ranges::private_relay().ipv4().to_vec(),
            nat_pool: Vec::new(),
        };
        // One mobile carrier's NAT: a few hundred public addresses shared by many phones.
        let base = a.residential(rng);
        let base = u32::from(base.parse::<std::net::Ipv4Addr>().expect("an address")) & !0xffff;
        a.nat_pool = (0..400)
            .map(|i| dotted(base + 256 * (i / 200) + 1 + i % 200))
            .collect();
        a
    }

    fn residential(&self, rng: &mut Rng) -> String {
        loop {
            let a = rng.next_u64() as u32;
            let first = a >> 24;
            if first == 0
                || first == 10
                || first == 127
                || first >= 224
                || first == 100
                || first == 172
                || first == 192
            {
                continue;
            }
            let ip = std::net::IpAddr::V4(a.into());
            if !network::is_datacenter(ip) {
                return dotted(a);
            }
        }
    }

    fn relay(&self, rng: &mut Rng) -> String {
        let (lo, hi) = *rng.pick(&self.relay);
        dotted(lo + (rng.next_u64() % u64::from(hi - lo + 1)) as u32)
    }

    fn cloud(&self, rng: &mut Rng) -> String {
        let (lo, hi) = *rng.pick(&self.cloud);
        dotted(lo + (rng.next_u64() % u64::from(hi - lo + 1)) as u32)
    }

    /// A /24 base (x.y.z.0) for a rotating scraper.
    fn net24(&self, rng: &mut Rng, cloud: bool) -> u32 {
        let a = if cloud {
            self.cloud(rng)
        } else {
            self.residential(rng)
        };
        u32::from(a.parse::<std::net::Ipv4Addr>().expect("an address")) & !0xff
    }
}

/// Browsers dressed for the day: versions current then, or a little behind.
fn browser_agent(rng: &mut Rng, ts: i64) -> String {
    let chrome = current_version("chrome", ts);
    let firefox = current_version("firefox", ts);
    let safari = current_version("safari", ts);
    let lag = |rng: &mut Rng| -> u32 {
        let u = rng.f64();
        if u < 0.6 {
            0
        } else if u < 0.85 {
            1
        } else if u < 0.95 {
            2
        } else {
            rng.range(3, 8) as u32
        }
    };
    let c = chrome - lag(rng);
    let f = firefox - lag(rng);
    let s = safari - u32::from(rng.chance(0.2));
    let minor = rng.range(0, 5);
    let android = rng.range(11, 15);
    let u = rng.f64();
    if u < 0.30 {
        format!("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c}.0.0.0 Safari/537.36")
    } else if u < 0.38 {
        format!("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c}.0.0.0 Safari/537.36 Edg/{c}.0.0.0")
    } else if u < 0.46 {
        format!("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c}.0.0.0 Safari/537.36")
    } else if u < 0.52 {
        format!("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{s}.{minor} Safari/605.1.15")
    } else if u < 0.58 {
        format!("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{f}.0) Gecko/20100101 Firefox/{f}.0")
    } else if u < 0.61 {
        format!("Mozilla/5.0 (X11; Linux x86_64; rv:{f}.0) Gecko/20100101 Firefox/{f}.0")
    } else if u < 0.64 {
        format!("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c}.0.0.0 Safari/537.36")
    } else if u < 0.80 {
        format!("Mozilla/5.0 (iPhone; CPU iPhone OS {s}_{minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{s}.{minor} Mobile/15E148 Safari/604.1")
    } else if u < 0.83 {
        format!("Mozilla/5.0 (iPad; CPU OS {s}_{minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{s}.{minor} Mobile/15E148 Safari/604.1")
    } else if u < 0.95 {
        format!("Mozilla/5.0 (Linux; Android {android}; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c}.0.0.0 Mobile Safari/537.36")
    } else {
        format!("Mozilla/5.0 (Linux; Android {android}; SM-S92{}B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/{}.0 Chrome/{}.0.0.0 Mobile Safari/537.36", rng.range(0, 9), 28 + rng.range(0, 2), c - 10)
    }
}

/// An in-app browser of a social network, on a phone.
fn in_app_agent(rng: &mut Rng, ts: i64) -> String {
    let s = current_version("safari", ts);
    let c = current_version("chrome", ts);
    match rng.range(0, 3) {
        0 => format!("Mozilla/5.0 (iPhone; CPU iPhone OS {s}_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/{}.0.0.41.109;FBBV/6{};FBDV/iPhone15,3;FBMD/iPhone;FBSN/iOS;FBSV/{s}.1;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/80]", 480 + rng.range(0, 20), rng.range(10_000_000, 99_999_999)),
        1 => format!("Mozilla/5.0 (iPhone; CPU iPhone OS {s}_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram {}.0.0.23.77 (iPhone14,7; iOS {s}_0; en_US; en; scale=3.00; 1170x2532; 7{})", 360 + rng.range(0, 20), rng.range(10_000_000, 99_999_999)),
        2 => format!("Mozilla/5.0 (Linux; Android 14; SM-A546B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/{c}.0.0.0 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/{}.0.0.50.71;]", 480 + rng.range(0, 20)),
        _ => format!("Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/{c}.0.0.0 Mobile Safari/537.36 KAKAOTALK 10.{}.3", rng.range(1, 9)),
    }
}

const SEARCH: &[&str] = &[
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.google.de/",
    "https://www.google.co.uk/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://search.brave.com/",
    "https://www.ecosia.org/",
];
const SOCIAL: &[&str] = &[
    "https://t.co/Xk3dPq9",
    "https://www.reddit.com/r/selfhosted/comments/1abcde/",
    "https://news.ycombinator.com/",
    "https://lobste.rs/",
    "https://mastodon.social/",
    "https://l.facebook.com/",
    "https://www.linkedin.com/",
];
const OTHER_SITES: &[&str] = &[
    "https://blog.example.net/2026/links",
    "https://github.com/example/project",
    "https://dev.to/someone/post",
    "https://stackoverflow.com/questions/123456/",
];
const CAMPAIGNS: &[(&str, &str, &str)] = &[
    ("newsletter", "email", "october-digest"),
    ("newsletter", "email", "launch"),
    ("mastodon", "social", "launch"),
    ("producthunt", "referral", "launch"),
    ("google", "cpc", "brand"),
];
const SPAM_HOSTS: &[&str] = &[
    "http://01casino-x.ru/",
    "http://start-fit.ru/",
    "http://bvb-alyans.ru/",
    "http://best-seo-offer.com/",
    "http://free-traffic-now.xyz/",
    "http://buttons-for-website.com/",
];
const PROBES: &[&str] = &[
    "/wp-login.php",
    "/.env",
    "/.git/config",
    "/xmlrpc.php",
    "/wp-admin/setup-config.php",
    "/phpmyadmin/index.php",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci/;stok=/locale",
    "/config.json",
    "/backup.zip",
    "/.aws/credentials",
    "/server-status",
    "/actuator/env",
];

struct Model<'c> {
    cfg: &'c Config,
    rng: Rng,
    site: Site,
    addrs: Addresses,
    out: Vec<Req>,
    /// The owner's address and agent, fixed for the month.
    owner: (String, String),
    /// Returning visitors: (address, agent) pairs seen on earlier days.
    regulars: Vec<(String, String, bool)>,
    /// Daily-running bots that keep their identity: monitors, feed readers.
    monitors: Vec<(String, String, i64)>,
    feeds: Vec<(String, String, i64)>,
    /// A rare agent shared by the spread-thin scrapers, and their rotation list.
    rare_agent: String,
    rotation: Vec<String>,
    /// Recent facebook arrivals, for Meta's link scanner to replay.
    fb_clicks: Vec<(i64, usize, String)>,
}

fn bot(class: &'static str) -> LineTruth {
    LineTruth {
        human: false,
        class,
        pageview: false,
    }
}

/// A person's client: address, agent, and what their browser has cached.
struct Client {
    addr: String,
    agent: String,
    returning: bool,
    truth_class: &'static str,
}

impl<'c> Model<'c> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        ts: i64,
        addr: &str,
        agent: &str,
        method: &'static str,
        target: String,
        status: u16,
        referrer: Option<String>,
        truth: LineTruth,
    ) {
        let bytes = match status {
            304 => 0,
            // A server answers one URL with one size (a dynamic page varies a little): the size of
            // a path is fixed by the path, give or take 3%.
            200 => {
                let path = target.split('?').next().unwrap_or("");
                let base = 500
                    + path.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, c| {
                        (h ^ u64::from(c)).wrapping_mul(0x100_0000_01b3)
                    }) % 40_000;
                let jitter = self.rng.next_u64() % (base / 16 + 1);
                (base - base / 32 + jitter) as u32
            }
            _ => 150 + (self.rng.next_u64() % 400) as u32,
        };
        self.out.push(Req {
            ts,
            addr: addr.to_string(),
            method,
            target,
            proto: "HTTP/2.0",
            status,
            bytes,
            referrer,
            agent: agent.to_string(),
            truth,
        });
    }

    /// A bot's GET answered 200, without referrer.
    fn bot_get(&mut self, ts: i64, addr: &str, agent: &str, path: String, class: &'static str) {
        self.push(ts, addr, agent, "GET", path, 200, None, bot(class));
    }

    /// A page and its subresources, as a browser loads them; returns the page's URL.
    fn load_page(
        &mut self,
        c: &Client,
        ts: i64,
        page: usize,
        referrer: Option<String>,
        query: Option<String>,
        first: bool,
    ) -> String {
        let path = self.site.pages[page].0.clone();
        let target = match &query {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        let status = if c.returning && self.rng.chance(0.3) {
            304
        } else {
            200
        };
        let human = LineTruth {
            human: true,
            class: c.truth_class,
            pageview: true,
        };
        self.push(
            ts,
            &c.addr,
            &c.agent,
            "GET",
            target.clone(),
            status,
            referrer,
            human,
        );
        let url = self.site.url(&target);
        let sub = LineTruth {
            pageview: false,
            ..human
        };
        let mut t = ts + 40 + (self.rng.next_u64() % 300) as i64;
        let mut subresources: Vec<String> = Vec::new();
        if first && !c.returning {
            subresources.extend(SHARED_ASSETS.iter().map(|s| s.to_string()));
        }
        if path == "/app/" && !c.returning {
            subresources.push(SPA_BUNDLE.to_string());
        }
        for img in self.site.images(page) {
            // A returning visitor has most images of pages seen before.
            if !c.returning || self.rng.chance(0.35) {
                subresources.push(img);
            }
        }
        for s in subresources {
            t += 20 + (self.rng.next_u64() % 250) as i64;
            self.push(t, &c.addr, &c.agent, "GET", s, 200, Some(url.clone()), sub);
        }
        if path == "/app/" {
            // The single-page app calls its API from the page for a while.
            let calls = self.rng.range(3, 14);
            let mut at = t + 200;
            for _ in 0..calls {
                let call = self.rng.pick(API_CALLS).to_string();
                self.push(
                    at,
                    &c.addr,
                    &c.agent,
                    "GET",
                    call,
                    200,
                    Some(url.clone()),
                    sub,
                );
                at += (self.rng.exp(25_000.0) as i64).max(300);
            }
        }
        url
    }

    /// One person's visit starting at `t0`.
    fn visit(&mut self, c: &Client, t0: i64) {
        let u = self.rng.f64();
        let (referrer, query, landing) = if u < 0.42 {
            (
                Some(self.rng.pick(SEARCH).to_string()),
                None,
                self.article(),
            )
        } else if u < 0.56 {
            let r = self.rng.pick(SOCIAL).to_string();
            (Some(r), None, self.article())
        } else if u < 0.64 {
            let (s, m, camp) = *self.rng.pick(CAMPAIGNS);
            let q = format!("utm_source={s}&utm_medium={m}&utm_campaign={camp}");
            let landing = if self.rng.chance(0.5) {
                2
            } else {
                self.article()
            };
            let r = if m == "email" {
                None
            } else {
                Some(self.rng.pick(SOCIAL).to_string())
            };
            (r, Some(q), landing)
        } else if u < 0.69 {
            (
                Some(self.rng.pick(OTHER_SITES).to_string()),
                None,
                self.article(),
            )
        } else if u < 0.75 {
            (None, None, 3) // straight to the app
        } else {
            let landing = if self.rng.chance(0.6) {
                0
            } else {
                self.site.page(&mut self.rng)
            };
            (None, None, landing)
        };
        if referrer.as_deref().is_some_and(|r| r.contains("facebook")) {
            self.fb_clicks.push((t0, landing, c.agent.clone()));
        }
        let pages = {
            let mut n = 1;
            while n < 6 && self.rng.chance(0.5) {
                n += 1;
            }
            n
        };
        let mut t = t0;
        let mut url = self.load_page(c, t, landing, referrer, query, true);
        let mut current = landing;
        for _ in 1..pages {
            t += (self.rng.exp(45_000.0) as i64).clamp(4_000, 15 * MIN_MS);
            let next = if current == 0 || self.rng.chance(0.6) {
                self.site.page(&mut self.rng)
            } else {
                self.site.docs[(self.rng.next_u64() % self.site.docs.len() as u64) as usize]
            };
            url = self.load_page(c, t, next, Some(url), None, false);
            current = next;
        }
    }

    fn article(&mut self) -> usize {
        loop {
            let p = self.site.page(&mut self.rng);
            if p >= 6 {
                return p;
            }
        }
    }

    /// A random time in the day, denser in the daytime (UTC +1 audience).
    fn when(&mut self, day0: i64) -> i64 {
        loop {
            let t = (self.rng.f64() * DAY_MS as f64) as i64;
            let hour = t as f64 / 3_600_000.0;
            let density =
                0.35 + 0.65 * (((hour - 14.0) / 24.0 * std::f64::consts::TAU).cos() * 0.5 + 0.5);
            if self.rng.f64() < density {
                return day0 + t;
            }
        }
    }

    fn people(&mut self, day0: i64, visits: u64) {
        for _ in 0..visits {
            let t0 = self.when(day0);
            let u = self.rng.f64();
            let c = if u < 0.30 && !self.regulars.is_empty() {
                // A returning visitor, with a warm cache.
                let i = (self.rng.next_u64() % self.regulars.len() as u64) as usize;
                let (addr, agent, _) = self.regulars[i].clone();
                Client {
                    addr,
                    agent,
                    returning: true,
                    truth_class: "person",
                }
            } else {
                let ua = if self.rng.chance(0.05) {
                    in_app_agent(&mut self.rng, t0)
                } else {
                    browser_agent(&mut self.rng, t0)
                };
                let mobile = ua.contains("Mobile");
                let addr =
                    if ua.contains("iPhone") && ua.contains("Version/") && self.rng.chance(0.2) {
                        self.addrs.relay(&mut self.rng) // iCloud Private Relay
                    } else if mobile && self.rng.chance(0.15) {
                        self.rng.pick(&self.addrs.nat_pool).clone()
                    } else if self.rng.chance(0.04) {
                        self.addrs.cloud(&mut self.rng) // a VPN exit
                    } else {
                        self.addrs.residential(&mut self.rng)
                    };
                if self.rng.chance(0.3) {
                    self.regulars.push((addr.clone(), ua.clone(), mobile));
                }
                Client {
                    addr,
                    agent: ua,
                    returning: false,
                    truth_class: "person",
                }
            };
            self.visit(&c, t0);
        }
        if self.regulars.len() > 5_000 {
            let keep = self.regulars.split_off(self.regulars.len() - 5_000);
            self.regulars = keep;
        }
    }

    /// The owner at work: reloads, admin screens and their API, with the cache off half the time.
    fn owner(&mut self, day0: i64) {
        if !self.rng.chance(0.75) {
            return;
        }
        let (addr, agent) = self.owner.clone();
        let owner = Client {
            addr: addr.clone(),
            agent: agent.clone(),
            returning: true,
            truth_class: "owner",
        };
        let fresh = Client {
            returning: false,
            ..Client {
                addr: addr.clone(),
                agent: agent.clone(),
                returning: false,
                truth_class: "owner",
            }
        };
        let mut t = day0 + 8 * 3_600_000 + (self.rng.next_u64() % 3_600_000) as i64;
        let actions = self.rng.range(40, 220);
        let draft = self.article();
        for _ in 0..actions {
            t += (self.rng.exp(150_000.0) as i64).max(2_000);
            let u = self.rng.f64();
            if u < 0.45 {
                let c = if self.rng.chance(0.5) { &fresh } else { &owner };
                let (a, ag, ret, cl) =
                    (c.addr.clone(), c.agent.clone(), c.returning, c.truth_class);
                self.load_page(
                    &Client {
                        addr: a,
                        agent: ag,
                        returning: ret,
                        truth_class: cl,
                    },
                    t,
                    draft,
                    None,
                    None,
                    true,
                );
            } else if u < 0.75 {
                let screen = *self.rng.pick(&[
                    "/admin/",
                    "/admin/posts/",
                    "/admin/posts/edit/12/",
                    "/admin/settings/",
                ]);
                let truth = LineTruth {
                    human: true,
                    class: "owner",
                    pageview: false,
                };
                self.push(
                    t,
                    &addr,
                    &agent,
                    "GET",
                    screen.to_string(),
                    200,
                    Some(self.site.url("/admin/")),
                    truth,
                );
                for call in ["/admin/api/posts", "/admin/api/session"] {
                    self.push(
                        t + 300,
                        &addr,
                        &agent,
                        "GET",
                        call.to_string(),
                        200,
                        Some(self.site.url(screen)),
                        truth,
                    );
                }
            } else {
                let page = self.site.page(&mut self.rng);
                self.load_page(&owner, t, page, Some(self.site.url("/admin/")), None, false);
            }
        }
    }

    fn crawlers(&mut self, day0: i64, scale: f64) {
        const DECLARED: &[(&str, &str, u64, bool)] = &[
            ("search-crawler", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 300, true),
            ("search-crawler", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", 200, false),
            ("search-crawler", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", 60, false),
            ("search-crawler", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", 40, false),
            ("ai-crawler", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", 250, false),
            ("ai-crawler", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", 200, false),
            ("ai-crawler", "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)", 150, false),
            ("ai-crawler", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)", 40, false),
            ("seo-crawler", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", 150, false),
            ("seo-crawler", "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", 120, false),
            ("seo-crawler", "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)", 40, false),
        ];
        for (class, agent, pages, renders) in DECLARED {
            let n = ((*pages as f64) * scale * (0.5 + self.rng.f64())) as u64;
            let addr = self.addrs.cloud(&mut self.rng);
            let mut t = self.when(day0);
            self.push(
                t,
                &addr,
                agent,
                "GET",
                "/robots.txt".into(),
                200,
                None,
                bot(class),
            );
            for _ in 0..n {
                t += (self.rng.exp(DAY_MS as f64 / (n as f64 + 1.0) / 3.0) as i64).max(200);
                let page = self.site.page(&mut self.rng);
                let path = self.site.pages[page].0.clone();
                self.push(t, &addr, agent, "GET", path, 200, None, bot(class));
                if *renders && self.rng.chance(0.3) {
                    for s in SHARED_ASSETS.iter().take(2) {
                        self.push(
                            t + 900,
                            &addr,
                            agent,
                            "GET",
                            s.to_string(),
                            200,
                            None,
                            bot(class),
                        );
                    }
                }
            }
        }
        // Feed readers, every half hour or hour, from one address each for the month.
        for i in 0..self.feeds.len() {
            let (addr, agent, every) = self.feeds[i].clone();
            let mut t = day0 + (self.rng.next_u64() % every as u64) as i64;
            while t < day0 + DAY_MS {
                self.bot_get(t, &addr, &agent, "/feed.xml".into(), "feed-reader");
                t += every;
            }
        }
        // Link previews when someone shares a post.
        for _ in 0..((15.0 * scale) as u64 + 1) {
            let agent = *self.rng.pick(&[
                "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
                "Twitterbot/1.0",
                "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
                "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
                "TelegramBot (like TwitterBot)",
            ]);
            let t = self.when(day0);
            let addr = self.addrs.cloud(&mut self.rng);
            let page = self.article();
            let path = self.site.pages[page].0.clone();
            self.bot_get(t, &addr, agent, path, "social-preview");
            if let Some(img) = self.site.images(page).first() {
                self.bot_get(t + 400, &addr, agent, img.clone(), "social-preview");
            }
        }
    }

    fn scrapers(&mut self, day0: i64, scale: f64) {
        // Browser agents from cloud networks, fast, pages only.
        for _ in 0..((4.0 * scale) as u64 + 1) {
            let addr = self.addrs.cloud(&mut self.rng);
            let mut t = self.when(day0);
            let agent = browser_agent(&mut self.rng, t);
            for _ in 0..self.rng.range(15, 180) {
                t += self.rng.range(300, 4_000) as i64;
                let page = self.site.page(&mut self.rng);
                let path = self.site.pages[page].0.clone();
                self.bot_get(t, &addr, &agent, path, "scraper");
            }
        }
        // One rare agent spread thin over residential proxies: one or two hits an address.
        for _ in 0..((120.0 * scale) as u64 + 5) {
            let addr = self.addrs.residential(&mut self.rng);
            let t = self.when(day0);
            let agent = self.rare_agent.clone();
            let page = self.article();
            let path = self.site.pages[page].0.clone();
            self.bot_get(t, &addr, &agent, path, "scraper-spread");
            if self.rng.chance(0.3) {
                let page = self.article();
                let path = self.site.pages[page].0.clone();
                let at = t + self.rng.range(500, 20_000) as i64;
                self.bot_get(at, &addr, &agent, path, "scraper-spread");
            }
        }
        // Agents rotated per request within one /24.
        for _ in 0..((1.0 * scale) as u64 + 1) {
            let cloud = self.rng.chance(0.5);
            let base = self.addrs.net24(&mut self.rng, cloud);
            let mut t = self.when(day0);
            for _ in 0..self.rng.range(40, 200) {
                t += self.rng.range(1_000, 60_000) as i64;
                let addr = dotted(base + 1 + (self.rng.next_u64() % 250) as u32);
                let agent = self.rng.pick(&self.rotation).clone();
                let page = self.site.page(&mut self.rng);
                let path = self.site.pages[page].0.clone();
                self.bot_get(t, &addr, &agent, path, "scraper-rotating");
            }
        }
    }

    fn spammers(&mut self, day0: i64, scale: f64) {
        for _ in 0..((10.0 * scale) as u64 + 1) {
            let t = self.when(day0);
            let addr = if self.rng.chance(0.5) {
                self.addrs.cloud(&mut self.rng)
            } else {
                self.addrs.residential(&mut self.rng)
            };
            let spam = self.rng.pick(SPAM_HOSTS).to_string();
            let a1 = browser_agent(&mut self.rng, t - 400 * DAY_MS);
            let a2 = browser_agent(&mut self.rng, t - 200 * DAY_MS);
            let junk = format!("/{}", self.rng.range(100_000, 999_999));
            for (i, (path, status, agent)) in [(junk, 404u16, a1), ("/".to_string(), 200, a2)]
                .into_iter()
                .enumerate()
            {
                self.out.push(Req {
                    ts: t + i as i64 * 1_500,
                    addr: addr.clone(),
                    method: "GET",
                    target: path,
                    proto: if i == 0 || spam.contains(".ru") {
                        "HTTP/1.0"
                    } else {
                        "HTTP/1.1"
                    },
                    status,
                    bytes: 1_200,
                    referrer: Some(spam.clone()),
                    agent,
                    truth: bot("referrer-spam"),
                });
            }
        }
    }

    fn monitors(&mut self, day0: i64) {
        for i in 0..self.monitors.len() {
            let (addr, agent, every) = self.monitors[i].clone();
            let mut t = day0 + (self.rng.next_u64() % 1_000) as i64;
            while t < day0 + DAY_MS {
                let jitter = (self.rng.next_u64() % 1_500) as i64;
                self.bot_get(t + jitter, &addr, &agent, "/".into(), "monitor");
                t += every;
            }
        }
    }

    fn headless(&mut self, day0: i64, scale: f64) {
        for i in 0..((6.0 * scale) as u64 + 1) {
            let t = self.when(day0);
            let agent = match i % 3 {
                0 => format!("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/{}.0.0.0 Safari/537.36", current_version("chrome", t)),
                1 => format!("Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse", current_version("chrome", t)),
                // Dressed as a desktop Chrome, from a cloud network.
                _ => format!("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.0.0 Safari/537.36", current_version("chrome", t) - 1),
            };
            let addr = self.addrs.cloud(&mut self.rng);
            let c = Client {
                addr,
                agent,
                returning: false,
                truth_class: "headless",
            };
            let page = if self.rng.chance(0.5) {
                0
            } else {
                self.article()
            };
            let start = self.out.len();
            self.load_page(&c, t, page, None, None, true);
            for r in &mut self.out[start..] {
                r.truth = bot("headless");
            }
        }
    }

    /// Meta's link scanner replaying the clicks of the day's people from Facebook (run after
    /// every kind of person of the day).
    fn meta_scanner(&mut self, day0: i64) {
        let clicks = std::mem::take(&mut self.fb_clicks);
        for (t, page, agent) in clicks {
            if t < day0 - DAY_MS || !self.rng.chance(0.6) {
                continue;
            }
            let addr = dotted(
                u32::from(std::net::Ipv4Addr::new(69, 171, 249, 0)) + self.rng.range(1, 250) as u32,
            );
            let path = self.site.pages[page].0.clone();
            let at = t + self.rng.range(1_000, 8_000) as i64;
            self.bot_get(at, &addr, &agent, path, "link-scanner");
        }
    }

    /// Hard cases the real logs show: a current browser agent fetching `/` once or twice from a
    /// home address, over HTTP/2, with nothing after it (survey scanners, uptime checks of the
    /// cheap kind); and a scraper that uses the commonest phone agent of the day, spread thin.
    fn quiet_bots(&mut self, day0: i64, scale: f64) {
        for _ in 0..((12.0 * scale) as u64 + 1) {
            let t = self.when(day0);
            let addr = self.addrs.residential(&mut self.rng);
            let agent = browser_agent(&mut self.rng, t);
            for i in 0..self.rng.range(1, 2) {
                let at = t + i as i64 * self.rng.range(600_000, 20_000_000) as i64;
                self.bot_get(at, &addr, &agent, "/".into(), "scanner");
            }
        }
        let s = current_version("safari", day0);
        let common = format!("Mozilla/5.0 (iPhone; CPU iPhone OS {s}_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{s}.0 Mobile/15E148 Safari/604.1");
        for _ in 0..((30.0 * scale) as u64 + 1) {
            let t = self.when(day0);
            let addr = self.addrs.residential(&mut self.rng);
            let page = self.article();
            let path = self.site.pages[page].0.clone();
            self.bot_get(t, &addr, &common, path, "scraper-spread");
        }
    }

    /// People the detector must not lose: Chrome's prefetch proxy fetching the page a person
    /// then loads the assets of from home, and people on browsers their devices no longer
    /// update (an old Android phone, Windows 7's last Chrome).
    fn hard_people(&mut self, day0: i64, scale: f64) {
        for _ in 0..((6.0 * scale) as u64 + 1) {
            let t0 = self.when(day0);
            let agent = browser_agent(&mut self.rng, t0);
            let page = self.article();
            let path = self.site.pages[page].0.clone();
            let proxy = dotted(
                u32::from(std::net::Ipv4Addr::new(66, 249, 93, 0)) + self.rng.range(1, 250) as u32,
            );
            let truth = LineTruth {
                human: true,
                class: "person",
                pageview: true,
            };
            self.push(
                t0,
                &proxy,
                &agent,
                "GET",
                path.clone(),
                200,
                Some("https://www.google.com/".into()),
                truth,
            );
            let home = self.addrs.residential(&mut self.rng);
            let url = self.site.url(&path);
            let sub = LineTruth {
                pageview: false,
                ..truth
            };
            for (i, a) in SHARED_ASSETS.iter().enumerate() {
                self.push(
                    t0 + 800 + 90 * i as i64,
                    &home,
                    &agent,
                    "GET",
                    a.to_string(),
                    200,
                    Some(url.clone()),
                    sub,
                );
            }
        }
        for _ in 0..((25.0 * scale) as u64 + 1) {
            let t0 = self.when(day0);
            let c = current_version("chrome", t0);
            let agent = if self.rng.chance(0.5) {
                // Windows 7 stopped at Chrome 109; old phones at the WebView they shipped with.
                "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36".to_string()
            } else {
                format!("Mozilla/5.0 (Linux; Android 9; SM-J730F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.0.0 Mobile Safari/537.36", c - 30)
            };
            let c = Client {
                addr: self.addrs.residential(&mut self.rng),
                agent,
                returning: self.rng.chance(0.3),
                truth_class: "person",
            };
            self.visit(&c, t0);
        }
    }

    fn scanners(&mut self, day0: i64, scale: f64) {
        for _ in 0..((25.0 * scale) as u64 + 1) {
            let t = self.when(day0);
            let addr = if self.rng.chance(0.7) {
                self.addrs.cloud(&mut self.rng)
            } else {
                self.addrs.residential(&mut self.rng)
            };
            let agent = match self.rng.range(0, 4) {
                0 => "Mozilla/5.0 zgrab/0.x".to_string(),
                1 => String::new(),
                2 => browser_agent(&mut self.rng, t - 1_500 * DAY_MS),
                3 => "python-requests/2.32.3".to_string(),
                _ => browser_agent(&mut self.rng, t),
            };
            if self.rng.chance(0.5) {
                self.bot_get(t, &addr, &agent, "/".into(), "scanner");
            }
            for i in 0..self.rng.range(1, 12) {
                let probe = self.rng.pick(PROBES).to_string();
                self.push(
                    t + 300 * (i as i64 + 1),
                    &addr,
                    &agent,
                    "GET",
                    probe,
                    404,
                    None,
                    bot("scanner"),
                );
            }
        }
        for _ in 0..((6.0 * scale) as u64 + 1) {
            let t = self.when(day0);
            let addr = self.addrs.cloud(&mut self.rng);
            let agent = *self.rng.pick(&[
                "curl/8.5.0",
                "python-requests/2.32.3",
                "Go-http-client/1.1",
                "Wget/1.21.4",
                "okhttp/4.12.0",
            ]);
            let target = if self.rng.chance(0.5) {
                "/".to_string()
            } else {
                self.rng.pick(API_CALLS).to_string()
            };
            self.bot_get(t, &addr, agent, target, "http-client");
        }
    }

    fn day(&mut self, d: u32, scale: f64) {
        let day0 = self.cfg.start_ms + i64::from(d) * DAY_MS;
        let visits = (900.0 * scale * (0.85 + 0.3 * self.rng.f64())) as u64;
        self.people(day0, visits);
        self.hard_people(day0, scale);
        self.owner(day0);
        self.crawlers(day0, scale);
        self.scrapers(day0, scale);
        self.spammers(day0, scale);
        self.monitors(day0);
        self.headless(day0, scale);
        self.meta_scanner(day0);
        self.scanners(day0, scale);
        self.quiet_bots(day0, scale);
    }
}

fn month(m: u32) -> &'static str {
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize]
}

fn write_line(r: &Req, out: &mut Vec<u8>) {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::from_timestamp_millis(r.ts).expect("time in range");
    let mut s = String::with_capacity(300);
    let _ = writeln!(
        s,
        "{} - - [{:02}/{}/{}:{:02}:{:02}:{:02} +0000] \"{} {} {}\" {} {} \"{}\" \"{}\"",
        r.addr,
        t.day(),
        month(t.month()),
        t.year(),
        t.hour(),
        t.minute(),
        t.second(),
        r.method,
        r.target,
        r.proto,
        r.status,
        r.bytes,
        r.referrer.as_deref().unwrap_or("-"),
        if r.agent.is_empty() { "-" } else { &r.agent },
    );
    out.extend_from_slice(s.as_bytes());
}

/// Lines a day makes at scale 1, besides the monitors' and feed readers' fixed beat (measured on
/// the model itself, to set the scale for a target).
const LINES_PER_DAY_AT_SCALE_1: f64 = 11_100.0;
/// Lines a day of the monitors and feed readers, whatever the scale.
const FIXED_LINES_PER_DAY: f64 = 3_300.0;

/// Writes the model's log and the truth of each of its lines.
pub fn generate_labelled(cfg: &Config) -> (Vec<u8>, Vec<LineTruth>) {
    let mut rng = Rng::new(cfg.seed);
    let site = Site::new(&mut rng, &cfg.host);
    let addrs = Addresses::new(&mut rng);
    let t0 = cfg.start_ms;
    let owner = (
        addrs.residential(&mut rng),
        format!(
            "Mozilla/5.0 (X11; Linux x86_64; rv:{f}.0) Gecko/20100101 Firefox/{f}.0",
            f = current_version("firefox", t0)
        ),
    );
    let monitors = (0..3)
        .map(|i| {
            let agent = browser_agent(&mut rng, t0 - 300 * DAY_MS);
            let addr = if i == 0 {
                addrs.residential(&mut rng)
            } else {
                addrs.cloud(&mut rng)
            };
            (addr, agent, if i == 2 { 5 * MIN_MS } else { MIN_MS })
        })
        .collect();
    let feeds = [
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 5 subscribers; like FeedFetcher-Google)",
        "NewsBlur Feed Fetcher - 12 subscribers - https://www.newsblur.com/site/1234/example (Mozilla/5.0)",
        "Mozilla/5.0 (compatible; Miniflux/2.2.1; +https://miniflux.app)",
        "Inoreader/1.0 (+http://www.inoreader.com/feed-fetcher; 3 subscribers; )",
    ]
    .iter()
    .enumerate()
    .map(|(i, a)| (addrs.cloud(&mut rng), a.to_string(), if i % 2 == 0 { 30 * MIN_MS } else { 60 * MIN_MS }))
    .collect();
    let rare_agent = "Mozilla/5.0 (Linux; Android 10; SM-G973F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36".to_string();
    let rotation = (0..60)
        .map(|i| browser_agent(&mut rng, t0 - i64::from(i % 20) * 30 * DAY_MS))
        .collect();
    let mut m = Model {
        cfg,
        rng,
        site,
        addrs,
        out: Vec::new(),
        owner,
        regulars: Vec::new(),
        monitors,
        feeds,
        rare_agent,
        rotation,
        fb_clicks: Vec::new(),
    };
    let per_day = cfg.lines as f64 / f64::from(cfg.days.max(1));
    let scale = ((per_day - FIXED_LINES_PER_DAY) / LINES_PER_DAY_AT_SCALE_1).max(0.01);
    let mut log = Vec::with_capacity(cfg.lines as usize * 220);
    let mut truth = Vec::with_capacity(cfg.lines as usize);
    let mut pending: BTreeMap<(i64, u64), Req> = BTreeMap::new();
    let mut seq = 0u64;
    let mut d = 0u32;
    while (truth.len() as u64) < cfg.lines {
        m.day(d, scale);
        for r in m.out.drain(..) {
            seq += 1;
            pending.insert((r.ts, seq), r);
        }
        // Everything before the next day starts is final (sessions spill over midnight).
        let cut = cfg.start_ms + i64::from(d + 1) * DAY_MS;
        while let Some(entry) = pending.first_entry() {
            if entry.key().0 >= cut || truth.len() as u64 >= cfg.lines {
                break;
            }
            let r = entry.remove();
            write_line(&r, &mut log);
            truth.push(r.truth);
        }
        d += 1;
    }
    (log, truth)
}
