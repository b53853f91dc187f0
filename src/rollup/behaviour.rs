//! Bot detection layer 4: the verdict on a client-day (address + agent + day, the `visitor`), made
//! inside `rollup` with every signal of the day at hand (DESIGN.md, Bots). Hits flagged at ingest
//! keep their reason; this flags the rest of a bot's day and the clients whose behaviour, not their
//! agent, gives them away.
//!
//! The one sign of a person that scripts rarely fake is a browser at work: a page followed by the
//! stylesheets, scripts, images and API calls it needs. A client-day that loads them is a person,
//! however many pages it reads (the site's owner reloading all day is one), unless it probes, is a
//! named tool, or renders pages from a datacenter like a headless browser (in seconds with no
//! referrer, or with an out-of-date browser) or with an out-of-date browser over HTTP/1.x on a
//! site whose browsers speak HTTP/2. A client-day whose pages are never followed by a subresource
//! is a bot when a second sign agrees: a datacenter network, HTTP/1.0, an out-of-date browser, a
//! regular beat on one path; and, on pages known to load subresources, an address or /24 sending
//! many agents, an agent spread thin over many addresses, HTTP/1.x where browsers speak HTTP/2,
//! page after page without a referrer, pages faster than anyone reads, a made-up referrer. A lone
//! page with none of these stays a person's: a returning visitor has the assets cached.

use foldhash::{HashMap, HashMapExt, HashSet};

use super::aggregate::Event;
use crate::classify::bots::Reason;
use crate::classify::referrer::INTERNAL;
use crate::classify::visitor::{origin_address, origin_network};
use crate::classify::{kind, traits, Kind, Method};
use crate::store::facts::Window;

/// Behaviour thresholds (defaults from DESIGN.md; configurable).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// A client with more than this many hits on one path in a day, and no subresources, is a bot.
    pub repeated_path: u32,
    /// A client with more than this many page views in a day, and no subresources, is a bot.
    pub many_pageviews: u32,
    /// A client with at least this many requests in a day...
    pub errors_min_requests: u32,
    /// ...of which more than this share are 4xx is a bot.
    pub errors_share: f64,
    /// An agent with more than this many visitors in a day...
    pub monitor_min_visitors: u32,
    /// ...more than this share of its hits on `/`...
    pub monitor_root_share: f64,
    /// ...and more than this share without referrer is a monitor.
    pub monitor_no_referrer_share: f64,
    /// An address sending at least this many agents without subresources in a day (a /24: twice
    /// as many) rotates agents.
    pub rotation_agents: u32,
    /// An agent seen from at least this many addresses in a day...
    pub spread_addresses: u32,
    /// ...at least this share of them with one or two hits and no subresources, is spread thin.
    pub spread_share: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            repeated_path: 20,
            many_pageviews: 100,
            errors_min_requests: 10,
            errors_share: 0.5,
            monitor_min_visitors: 20,
            monitor_root_share: 0.75,
            monitor_no_referrer_share: 0.75,
            rotation_agents: 3,
            spread_addresses: 5,
            spread_share: 0.8,
        }
    }
}

/// Pages faster than this apart, on average, are not read by a person.
const FAST_PAGES_MS: i64 = 2_000;
/// Hits of one path needed to judge their rhythm.
const RHYTHM_MIN_HITS: usize = 6;
/// Gaps whose spread (standard deviation over mean) is below this are a machine's beat.
const RHYTHM_MAX_SPREAD: f64 = 0.15;
/// A client-day shorter than this that renders one page is a headless renderer's, when it comes
/// from a datacenter without a referrer.
const RENDER_MS: i64 = 10_000;
/// A subresource counts for a page when it comes within this time of it, before or after: a
/// server logs a request when it ends, so a page's stylesheet may be logged before the page.
const SUBRESOURCE_WINDOW_MS: i64 = 60_000;
/// Text a client takes at this many times the size most clients get was not compressed: every
/// browser asks for gzip or brotli, and compressed text is a fifth to a tenth of its size.
const UNCOMPRESSED_RATIO: f64 = 2.5;
/// Clients that must have taken a text for the size most get to mean anything...
const UNCOMPRESSED_MIN_CLIENTS: usize = 5;
/// ...and the smallest such size (tiny files are not worth compressing, and servers do not)...
const UNCOMPRESSED_MIN_BYTES: i64 = 1_000;
/// ...and the share of clients that got within half again of that size: a size many got, not a
/// stray one (for a page: most clients' size).
const UNCOMPRESSED_USUAL_SHARE: f64 = 0.2;
const UNCOMPRESSED_PAGE_SHARE: f64 = 0.5;
/// A /24 (a carrier's NAT) through which this many clients render pages in a day is a network of
/// people, not one rotating agents (issue #24, class 3).
const BUSY_NETWORK_RENDERERS: u32 = 10;
/// A search engine's prefetch of a result is the person's page view when the same browser agent
/// loads the page's subresources from its own address within this time, with no page of its own
/// fetched meanwhile: it opened the page it had prefetched (issue #24, class 2).
const PREFETCH_FOLLOW_MS: i64 = 300_000;
/// The search engines whose results a browser prefetches through a proxy of the engine's.
const PREFETCHING_ENGINES: &[&str] = &["Google", "Bing", "Yahoo", "DuckDuckGo", "Ecosia"];

/// HTTP/1.0 tells nothing on a site where at least this share of the pages that browsers render
/// that day come over it (a proxy in front that speaks it to the server for everyone).
const HTTP10_NORMAL_SHARE: f64 = 0.3;

/// One client's day (a visitor hash: address + agent + day).
struct ClientDay {
    /// The site, by its number in the day.
    site: u32,
    agent: i64,
    address: u32,
    network: u32,
    traits: u8,
    requests: u32,
    errors: u32,
    pages: u32,
    /// Subresources within [`SUBRESOURCE_WINDOW_MS`] of one of its pages, before or after.
    loads: u32,
    /// Page views of pages known to load subresources.
    loading_pages: u32,
    /// Pages with a referrer (other than a made-up first one).
    referred_pages: u32,
    /// Page times, for speed, and subresource times, to tie them to pages (both in time order).
    page_times: Vec<i64>,
    subresource_times: Vec<i64>,
    /// Most hits on a single path, and that path's key.
    max_path_hits: u32,
    max_path: Option<i64>,
    /// A reason given at ingest to a hit of this client, and whether it flags the whole day
    /// (robots.txt, a probe).
    ingest_reason: Option<u8>,
    whole_day: Option<u8>,
    /// Root hits and hits without referrer (monitors).
    root: u32,
    no_referrer: u32,
    /// Its agent's browser is stale that day, or years out of date.
    stale: bool,
    old: bool,
    /// Its first page named the site itself as referrer, with no page before it.
    phantom_referrer: bool,
    /// Its first and last hit.
    first_hit: i64,
    last_hit: i64,
    /// Requests over HTTP/1.x.
    http1: u32,
    /// It took a page, stylesheet or script at its uncompressed size.
    uncompressed: bool,
    /// Its page views over HTTP/1.0.
    http10_pages: u32,
}

impl ClientDay {
    fn new(e: &Event<'_>, site: u32) -> ClientDay {
        ClientDay {
            site,
            agent: e.agent,
            address: origin_address(e.origin),
            network: origin_network(e.origin),
            traits: 0,
            requests: 0,
            errors: 0,
            pages: 0,
            loads: 0,
            loading_pages: 0,
            referred_pages: 0,
            page_times: Vec::new(),
            subresource_times: Vec::new(),
            max_path_hits: 0,
            max_path: None,
            ingest_reason: None,
            whole_day: None,
            root: 0,
            no_referrer: 0,
            stale: e.stale,
            old: e.old,
            phantom_referrer: false,
            first_hit: e.ts,
            last_hit: e.ts,
            http1: 0,
            uncompressed: false,
            http10_pages: 0,
        }
    }

    /// Viewed pages and loaded no subresource after any.
    fn unloaded(&self) -> bool {
        self.pages > 0 && self.loads == 0
    }

    /// Loaded no subresource after any page, though it viewed pages that load them.
    fn bare(&self) -> bool {
        self.loading_pages > 0 && self.loads == 0
    }
}

/// Per agent of a site: its clients and how many of them look like one-hit scripts.
#[derive(Default)]
struct AgentDay {
    visitors: u32,
    addresses: HashSet<u32>,
    thin: u32,
    hits: u32,
    root: u32,
    no_referrer: u32,
}

/// Whether an event is a subresource a page loads: a stylesheet, script, image, font or media
/// file with a referrer (any status: a browser asks for what the page names, found or not; a
/// favicon or a hotlinked file fetched without one proves nothing, and neither does a crawler's
/// `ads.txt` or a download), or another successful GET referred by the site itself (an API call
/// from the page; a form's POST, or a redirect to the page, is no proof of a browser).
fn is_subresource(e: &Event<'_>) -> bool {
    (e.kind == Kind::Asset as u8
        && e.referrer_host.is_some()
        && e.path.is_some_and(|p| kind::is_subresource(p.as_bytes())))
        || (e.kind == Kind::Other as u8
            && e.method == Method::Get as u8
            && ((200..300).contains(&e.status) || e.status == 304)
            && e.source == Some(INTERNAL))
}

/// Whether an ingest reason marks a client that hides what it is (a probe, junk, a script's or a
/// forged agent): other agents from its address that day are likely the same script. Declared
/// crawlers, feed readers and monitors say what they are, and often share a home address with
/// the person who runs them.
fn hides(reason: u8) -> bool {
    [
        Reason::ProbePath,
        Reason::GarbageRequest,
        Reason::HttpClient,
        Reason::EmptyAgent,
        Reason::MalformedAgent,
        Reason::OldBrowser,
        Reason::FutureBrowser,
        Reason::ReferrerSpam,
    ]
    .iter()
    .any(|r| *r as u8 == reason)
}

/// How many of `times` lie within `window` of one of `anchors` (both sorted).
fn near(times: &[i64], anchors: &[i64], window: i64) -> u32 {
    let mut i = 0;
    let mut n = 0;
    for t in times {
        while i < anchors.len() && anchors[i] < t - window {
            i += 1;
        }
        n += u32::from(i < anchors.len() && anchors[i] <= t + window);
    }
    n
}

/// Whether the hits' gaps beat like a clock.
fn regular(times: &mut [i64]) -> bool {
    if times.len() < RHYTHM_MIN_HITS {
        return false;
    }
    times.sort_unstable();
    let gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    if mean < 1_000.0 {
        return false; // a burst, judged by other rules
    }
    let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
    var.sqrt() / mean < RHYTHM_MAX_SPREAD
}

/// Whether a path is a site's home page: `/` or its index file.
fn is_home(path: &str) -> bool {
    matches!(
        path,
        "/" | "/index.php" | "/index.html" | "/index.htm" | "/default.aspx"
    )
}

/// A text of a day: (site, path key, host of the pages naming it; empty for a page).
type TextKey<'n> = (u32, i64, &'n str);

/// Whether a successful GET is of text a server compresses: a page, or a stylesheet or script a
/// page names (with a referrer).
fn is_text(e: &Event<'_>) -> bool {
    e.status == 200
        && e.method == Method::Get as u8
        && e.bytes > 0
        && e.path.is_some_and(|p| {
            e.kind == Kind::Page as u8 || {
                let p = p.as_bytes();
                let ends =
                    |x: &[u8]| p.len() >= x.len() && p[p.len() - x.len()..].eq_ignore_ascii_case(x);
                e.referrer_host.is_some() && (ends(b".css") || ends(b".js"))
            }
        })
}

/// The clients (site, visitor) that took some text at [`UNCOMPRESSED_RATIO`] times the size most
/// clients took it at. A client's size of a text is the smallest it got over the protocol it
/// spoke, so a server that logs a request twice (a proxy in front, and the backend's line over
/// HTTP/1.0 with the backend's size) marks nobody and hides nobody. A subresource is
/// known by its path and the host of the pages naming it; a page by its path, only where the log
/// holds one site (where several share it without a host field, `/` of one is not `/` of
/// another), and any text only where most clients got one size of it
/// ([`UNCOMPRESSED_USUAL_SHARE`]).
fn uncompressed_clients(events: &[Event<'_>], site_of: &[u32]) -> HashSet<(u32, i64)> {
    // Per site: the hosts its subresources name. More than one that matters (a tenth of them or
    // more) means several sites share this site's log, and pages cannot be told apart by path.
    let mut hosts: HashMap<(u32, &str), u32> = HashMap::new();
    let mut named: HashMap<u32, u32> = HashMap::new();
    for (e, site) in events.iter().zip(site_of) {
        if let (true, Some(h)) = (e.kind == Kind::Asset as u8, e.referrer_host) {
            *hosts.entry((*site, h)).or_default() += 1;
            *named.entry(*site).or_default() += 1;
        }
    }
    let mut shared: HashMap<u32, u32> = HashMap::new();
    for ((site, _), n) in &hosts {
        if *n * 10 >= named[site] {
            *shared.entry(*site).or_default() += 1;
        }
    }
    let several = |site: u32| shared.get(&site).is_some_and(|n| *n > 1);
    // Per text and client: the smallest size it got over its own protocol, and over HTTP/1.0
    // (where a proxy in front also logs its request to the backend, the backend's line has the
    // backend's size, which says nothing of what the client asked for).
    let mut sizes: HashMap<TextKey<'_>, HashMap<i64, (i64, i64)>> = HashMap::new();
    for (e, site) in events.iter().zip(site_of) {
        if is_text(e) && !(e.kind == Kind::Page as u8 && several(*site)) {
            let host = if e.kind == Kind::Page as u8 {
                ""
            } else {
                e.referrer_host.unwrap_or_default()
            };
            let size = sizes
                .entry((*site, e.page_key, host))
                .or_default()
                .entry(e.visitor)
                .or_insert((i64::MAX, i64::MAX));
            if e.traits & traits::HTTP10 != 0 {
                size.1 = size.1.min(e.bytes);
            } else {
                size.0 = size.0.min(e.bytes);
            }
        }
    }
    let mut out = HashSet::default();
    for ((site, _, host), by_client) in sizes {
        // Pages vary (a reader signed in, a mobile variant), so for them "what browsers get" is
        // what half the clients got, and it must be most clients' size; a stylesheet or script is
        // one file, and a fifth of its clients getting one size says what browsers get.
        let page = host.is_empty();
        let (quantile, share) = if page {
            (2, UNCOMPRESSED_PAGE_SHARE)
        } else {
            (5, UNCOMPRESSED_USUAL_SHARE)
        };
        let by_client: HashMap<i64, i64> = by_client
            .into_iter()
            .map(|(v, (own, http10))| (v, if own < i64::MAX { own } else { http10 }))
            .collect();
        if by_client.len() < UNCOMPRESSED_MIN_CLIENTS {
            continue;
        }
        let mut all: Vec<i64> = by_client.values().copied().collect();
        all.sort_unstable();
        // What browsers get: for a file, the size at the fifth of clients that got least, which
        // stands where uncompressed clients are most (a click farm outnumbering a small site's
        // readers).
        let usual = all[all.len() / quantile];
        let near_usual = all
            .iter()
            .filter(|s| (**s as f64) * 1.5 >= usual as f64 && (**s as f64) <= 1.5 * usual as f64)
            .count();
        if usual < UNCOMPRESSED_MIN_BYTES || (near_usual as f64) < share * all.len() as f64 {
            continue;
        }
        for (visitor, size) in by_client {
            if size as f64 >= UNCOMPRESSED_RATIO * usual as f64 {
                out.insert((site, visitor));
            }
        }
    }
    out
}

/// What the client's address and network did that day.
#[derive(Clone, Copy, Default)]
struct Rotation {
    /// Another client of the address was named a bot at ingest (a probe, a tool's agent).
    address_flagged: bool,
    /// The address, or its /24, sent many agents without subresources.
    agents: bool,
}

/// What a site's browsers do, over a window of days around the one decided (`store::facts`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SiteProfile {
    /// The site serves subresources: a browser that fetched none is unusual.
    pub serves: bool,
    /// Its browsers speak HTTP/2 or 3: the site offers it.
    pub modern: bool,
    /// The host its subresource requests name as referrer: its own.
    pub own_host: Option<String>,
    /// The pages its subresource requests name as referrer (`classify::referrer::page_key`): the
    /// pages that load subresources.
    pub pages: std::collections::HashSet<i64>,
}

/// Referred subresource requests a window needs before it says anything.
const MIN_REFERRED_ASSETS: u64 = 10;

impl SiteProfile {
    /// The profile a window of facts shows.
    pub fn from_window(w: &Window) -> SiteProfile {
        let enough = w.referred_assets >= MIN_REFERRED_ASSETS;
        SiteProfile {
            serves: enough,
            modern: enough && w.referred_assets_http1 * 10 < w.referred_assets,
            own_host: w
                .top_host
                .as_ref()
                .filter(|(_, n)| enough && 2 * n >= w.referred_assets)
                .map(|(h, _)| h.clone()),
            pages: w.pages.clone(),
        }
    }
}

/// Three or more pages faster apart, on average, than anyone reads.
fn fast_pages(c: &ClientDay) -> bool {
    if c.pages < 3 {
        return false;
    }
    let first = c.page_times.iter().min().copied().unwrap_or(0);
    let last = c.page_times.iter().max().copied().unwrap_or(0);
    (last - first) / i64::from(c.pages - 1) < FAST_PAGES_MS
}

/// The verdict for one client-day, if its behaviour is a bot's.
fn verdict(
    c: &ClientDay,
    t: &Thresholds,
    site: &SiteProfile,
    rotating: Rotation,
    spread: bool,
    rhythm: bool,
    http10_normal: bool,
) -> Option<u8> {
    match c.whole_day {
        // One look at robots.txt by a browser that renders its pages is its owner checking it.
        Some(r) if r == Reason::RobotsTxt as u8 && c.loads > 0 => {}
        Some(r) => return Some(r),
        None => {}
    }
    if c.uncompressed {
        return Some(Reason::Uncompressed as u8);
    }
    if c.old && c.loads == 0 {
        return Some(Reason::ObsoleteBrowser as u8);
    }
    if c.loads == 0
        && c.requests >= t.errors_min_requests
        && c.errors as f64 > t.errors_share * c.requests as f64
    {
        return Some(Reason::MostlyErrors as u8);
    }
    let datacenter = c.traits & traits::DATACENTER != 0;
    if datacenter
        && c.pages > 0
        && (c.stale || (c.referred_pages == 0 && c.last_hit - c.first_hit < RENDER_MS))
    {
        // A cloud network rendering pages with a browser long out of date, or a page with all it
        // needs in a few seconds and no referrer: a headless renderer (a person on a VPN comes
        // from somewhere, or reads on).
        return Some(Reason::Datacenter as u8);
    }
    if c.loads > 0 && c.stale && site.modern && c.http1 == c.requests {
        // An out-of-date browser that loads everything over HTTP/1.x where every browser
        // speaks HTTP/2: a script's HTTP stack dressed as a browser.
        return Some(Reason::LegacyProtocol as u8);
    }
    if !c.unloaded() {
        // A browser at work, or no page views at all: only a beat on one path gives it away.
        return (c.loads == 0 && rhythm).then_some(Reason::RegularInterval as u8);
    }
    // Pages viewed and nothing loaded: signs that need no knowledge of the pages...
    let reason = if c.traits & traits::DATACENTER != 0 {
        Reason::Datacenter
    } else if c.traits & traits::HTTP10 != 0 && !http10_normal {
        Reason::Http10
    } else if rotating.address_flagged {
        Reason::AgentRotation
    } else if c.stale && (c.bare() || !site.serves) {
        Reason::StaleBrowser
    } else if rhythm {
        Reason::RegularInterval
    } else if c.max_path_hits > t.repeated_path {
        Reason::RepeatedPath
    } else if c.pages > t.many_pageviews {
        Reason::ManyPageViews
    } else if !c.bare() {
        return None;
    // ...and signs that hold only where the pages viewed load subresources.
    } else if c.requests == 1 && c.pages == 1 && c.root == 1 && c.referred_pages == 0 {
        Reason::LoneRoot
    } else if rotating.agents {
        Reason::AgentRotation
    } else if spread {
        Reason::AgentSpread
    } else if site.modern && c.http1 == c.requests {
        Reason::LegacyProtocol
    } else if c.pages >= 2 && c.referred_pages == 0 || fast_pages(c) || c.phantom_referrer {
        Reason::NoSubresources
    } else {
        return None;
    };
    Some(reason as u8)
}

/// Flags the bots of one day of events in place (events already flagged keep their reason), with
/// each site's profile (`profiles`: a site missing from it has none).
pub fn flag(events: &mut [Event<'_>], t: &Thresholds, profiles: &HashMap<&str, SiteProfile>) {
    // Sites by number, so every per-event key below is integers only (a day holds few sites).
    let none = SiteProfile::default();
    let mut sites: Vec<&str> = Vec::new();
    let mut numbers: HashMap<&str, u32> = HashMap::new();
    let site_of: Vec<u32> = events
        .iter()
        .map(|e| {
            *numbers.entry(e.site).or_insert_with(|| {
                sites.push(e.site);
                sites.len() as u32 - 1
            })
        })
        .collect();
    let site_profiles: Vec<&SiteProfile> = sites
        .iter()
        .map(|s| profiles.get(s).unwrap_or(&none))
        .collect();

    let mut clients: HashMap<(u32, i64), ClientDay> = HashMap::new();
    // Hits per (site, visitor, page key) in one flat map: no map per visitor.
    let mut path_hits: HashMap<(u32, i64, i64), u32> = HashMap::new();
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| events[i].ts);
    for &i in &order {
        let (e, site) = (&events[i], site_of[i]);
        let c = clients
            .entry((site, e.visitor))
            .or_insert_with(|| ClientDay::new(e, site));
        c.requests += 1;
        c.last_hit = e.ts;
        c.traits |= e.traits;
        c.old |= e.old;
        c.http1 += u32::from(e.traits & traits::HTTP1 != 0);
        c.errors += u32::from((400..500).contains(&e.status));
        if e.path.is_some() {
            let n = path_hits.entry((site, e.visitor, e.page_key)).or_default();
            *n += 1;
            if *n > c.max_path_hits {
                c.max_path_hits = *n;
                c.max_path = Some(e.page_key);
            }
        }
        c.root += u32::from(e.path.is_some_and(is_home));
        c.no_referrer += u32::from(e.source.is_none() && e.referrer_host.is_none());
        // A 408 is a connection a browser opened ahead and never used: no sign of anything.
        if e.bot != 0 && e.status != 408 {
            c.ingest_reason.get_or_insert(e.bot);
            // A robots.txt fetch or a probe makes the client a bot for the whole day, and so does
            // an agent caught lying about its browser or a platform's link scanner.
            if [
                Reason::RobotsTxt,
                Reason::ProbePath,
                Reason::NoHttp2,
                Reason::ClickScanner,
            ]
            .iter()
            .any(|r| *r as u8 == e.bot)
            {
                c.whole_day.get_or_insert(e.bot);
            }
        }
        if e.kind == Kind::Page as u8 {
            c.loading_pages += u32::from(site_profiles[site as usize].pages.contains(&e.page_key));
            // The site's own address as the referrer of a client's first page is made up: a
            // person gets there from one of its pages, which the log would show.
            let internal = e.source == Some(INTERNAL);
            if internal && c.pages == 0 {
                c.phantom_referrer = true;
            } else if e.referrer_host.is_some() || e.source.is_some() {
                c.referred_pages += 1;
            }
            c.pages += 1;
            c.http10_pages += u32::from(e.traits & traits::HTTP10 != 0);
            c.page_times.push(e.ts);
        } else if is_subresource(e) {
            c.subresource_times.push(e.ts);
        }
    }
    for c in clients.values_mut() {
        c.loads = near(&c.subresource_times, &c.page_times, SUBRESOURCE_WINDOW_MS);
    }
    for key in uncompressed_clients(events, &site_of) {
        if let Some(c) = clients.get_mut(&key) {
            c.uncompressed = true;
        }
    }
    // Per site: whether HTTP/1.0 is what the pages its browsers render come over that day.
    let mut rendered: Vec<(u32, u32)> = vec![(0, 0); sites.len()];
    for c in clients.values().filter(|c| c.loads > 0) {
        let n = &mut rendered[c.site as usize];
        n.0 += c.pages;
        n.1 += c.http10_pages;
    }
    let http10_normal: Vec<bool> = rendered
        .iter()
        .map(|(all, http10)| {
            *all >= 5 && f64::from(*http10) >= HTTP10_NORMAL_SHARE * f64::from(*all)
        })
        .collect();

    // Neighbours: agents per address and per /24, addresses per agent.
    let mut by_address: HashMap<(u32, u32), (HashSet<i64>, bool)> = HashMap::new();
    let mut by_network: HashMap<(u32, u32), HashSet<i64>> = HashMap::new();
    let mut renderers: HashMap<(u32, u32), u32> = HashMap::new();
    let mut agents: HashMap<(u32, i64), AgentDay> = HashMap::new();
    for c in clients.values() {
        let flagged = c.ingest_reason.is_some();
        if c.loads > 0 {
            *renderers.entry((c.site, c.network)).or_default() += 1;
        }
        let a = by_address.entry((c.site, c.address)).or_default();
        a.1 |= c.ingest_reason.is_some_and(hides);
        if c.bare() && !flagged {
            a.0.insert(c.agent);
            by_network
                .entry((c.site, c.network))
                .or_default()
                .insert(c.agent);
        }
        if !flagged {
            let ag = agents.entry((c.site, c.agent)).or_default();
            ag.visitors += 1;
            ag.addresses.insert(c.address);
            ag.thin += u32::from(c.bare() && c.requests <= 2);
            ag.hits += c.requests;
            ag.root += c.root;
            ag.no_referrer += c.no_referrer;
        }
    }

    let mut verdicts: HashMap<(u32, i64), u8> = HashMap::new();
    let mut rhythm_of: HashMap<(u32, i64), Vec<i64>> = HashMap::new();
    for (key, c) in &clients {
        if c.max_path_hits as usize >= RHYTHM_MIN_HITS && c.loads == 0 {
            rhythm_of.insert(*key, Vec::with_capacity(c.max_path_hits as usize));
        }
    }
    if !rhythm_of.is_empty() {
        for (e, site) in events.iter().zip(&site_of) {
            let key = (*site, e.visitor);
            if let Some(times) = rhythm_of.get_mut(&key) {
                if e.path.is_some() && Some(e.page_key) == clients[&key].max_path {
                    times.push(e.ts);
                }
            }
        }
    }
    for (key, c) in &clients {
        if c.ingest_reason.is_some() && c.whole_day.is_none() {
            continue; // named at ingest: its hits keep their reasons
        }
        let address = &by_address[&(c.site, c.address)];
        let busy_network = renderers
            .get(&(c.site, c.network))
            .is_some_and(|n| *n >= BUSY_NETWORK_RENDERERS);
        let rotating = Rotation {
            address_flagged: c.unloaded() && address.1,
            agents: c.bare()
                && !busy_network
                && (address.0.len() as u32 >= t.rotation_agents
                    || by_network
                        .get(&(c.site, c.network))
                        .is_some_and(|n| n.len() as u32 >= 2 * t.rotation_agents)),
        };
        let spread = c.bare()
            && c.requests <= 2
            && agents.get(&(c.site, c.agent)).is_some_and(|a| {
                a.addresses.len() as u32 >= t.spread_addresses
                    && f64::from(a.thin) >= t.spread_share * f64::from(a.visitors)
            });
        let rhythm = rhythm_of.get_mut(key).is_some_and(|times| regular(times));
        let site = site_profiles[c.site as usize];
        let normal = http10_normal[c.site as usize];
        if let Some(r) = verdict(c, t, site, rotating, spread, rhythm, normal) {
            verdicts.insert(*key, r);
        }
    }
    let monitors: HashSet<(u32, i64)> = agents
        .iter()
        .filter(|(_, a)| {
            a.visitors > t.monitor_min_visitors
                && a.root as f64 > t.monitor_root_share * a.hits as f64
                && a.no_referrer as f64 > t.monitor_no_referrer_share * a.hits as f64
        })
        .map(|(k, _)| *k)
        .collect();
    let opened = opened_prefetches(events, &site_of, &clients);
    for (i, (e, site)) in events.iter_mut().zip(&site_of).enumerate() {
        if e.bot != 0 || opened.contains(&i) {
            continue;
        }
        if let Some(r) = verdicts.get(&(*site, e.visitor)) {
            e.bot = *r;
        } else if monitors.contains(&(*site, e.agent)) {
            e.bot = Reason::MonitorPattern as u8;
        }
    }
}

/// The events that are a search engine's prefetch of a page from a datacenter address (its
/// proxy), with the search engine as referrer and no subresource of its own, which the same
/// browser agent then opened from another network: its subresources follow within
/// [`PREFETCH_FOLLOW_MS`] and it fetched no page itself in between. Each such page view is the
/// person's, counted once, on the prefetch; a follower opens one prefetch only. A prefetch nobody
/// opened is a search engine guessing, not a visit (Chrome prefetches results before any click).
fn opened_prefetches(
    events: &[Event<'_>],
    site_of: &[u32],
    clients: &HashMap<(u32, i64), ClientDay>,
) -> HashSet<usize> {
    // Clients that may have opened a prefetch, by (site, agent): not in a datacenter, loading
    // subresources.
    let mut followers: HashMap<(u32, i64), Vec<(i64, &ClientDay)>> = HashMap::new();
    for ((site, visitor), c) in clients {
        if c.traits & traits::DATACENTER == 0 && !c.subresource_times.is_empty() {
            followers
                .entry((*site, c.agent))
                .or_default()
                .push((*visitor, c));
        }
    }
    let mut used: HashSet<(u32, i64)> = HashSet::default();
    let mut opened = HashSet::default();
    for (i, (e, site)) in events.iter().zip(site_of).enumerate() {
        let prefetch = e.bot == 0
            && e.kind == Kind::Page as u8
            && e.traits & traits::DATACENTER != 0
            && e.source.is_some_and(|s| PREFETCHING_ENGINES.contains(&s))
            && clients
                .get(&(*site, e.visitor))
                .is_some_and(|c| c.subresource_times.is_empty());
        if !prefetch {
            continue;
        }
        let Some(candidates) = followers.get(&(*site, e.agent)) else {
            continue;
        };
        let t = e.ts;
        let follower = candidates.iter().find(|(visitor, f)| {
            if used.contains(&(*site, *visitor)) {
                return false;
            }
            let Some(first) = f
                .subresource_times
                .iter()
                .find(|s| (t..=t + PREFETCH_FOLLOW_MS).contains(*s))
            else {
                return false;
            };
            // A page of its own around its first subresources (a server logs a request when it
            // ends, so its page may come after them): it fetched what it reads itself.
            !f.page_times
                .iter()
                .any(|p| (t - SUBRESOURCE_WINDOW_MS..=*first + SUBRESOURCE_WINDOW_MS).contains(p))
        });
        if let Some((visitor, _)) = follower {
            used.insert((*site, *visitor));
            opened.insert(i);
        }
    }
    opened
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::referrer::page_key;
    use crate::rollup::aggregate::tests::ev as page;

    const MIN: i64 = 60_000;

    /// A page view by `visitor` (its own address and agent) at minute `m`.
    fn ev(visitor: i64, path: &'static str) -> Event<'static> {
        let mut e = page(0, visitor, path);
        e.agent = visitor;
        e.source = Some("Google");
        e.referrer_host = Some("google.com");
        e
    }

    /// A page and its stylesheet a second later.
    fn browsed(visitor: i64, at_min: i64, path: &'static str) -> [Event<'static>; 2] {
        let mut p = ev(visitor, path);
        p.ts = at_min * MIN;
        let mut css = ev(visitor, "/site.css");
        css.ts = p.ts + 1_000;
        css.kind = Kind::Asset as u8;
        css.source = Some(INTERNAL);
        [p, css]
    }

    fn flagged(events: &[Event<'_>]) -> Vec<u8> {
        events.iter().map(|e| e.bot).collect()
    }

    /// Three people loading pages with their assets.
    fn people() -> Vec<Event<'static>> {
        (100..103).flat_map(|v| browsed(v, v, "/")).collect()
    }

    /// Site `s` serves subresources over HTTP/2.
    fn serving() -> HashMap<&'static str, SiteProfile> {
        let mut m = HashMap::new();
        m.insert(
            "s",
            SiteProfile {
                serves: true,
                modern: true,
                own_host: None,
                pages: ["/", "/a", "/b", "/c", "/page", "/same", "/admin-page"]
                    .iter()
                    .map(|p| page_key(p))
                    .chain((0..101).map(|i| page_key(&format!("/p{i}"))))
                    .collect(),
            },
        );
        m
    }

    #[test]
    fn subresources_count_for_pages_within_a_minute_either_side() {
        assert_eq!(near(&[0, 30_000, 200_000], &[50_000], 60_000), 2);
        assert_eq!(near(&[], &[1], 60_000), 0);
        assert_eq!(near(&[5], &[], 60_000), 0);
        assert_eq!(near(&[-60_000, 60_000, 60_001], &[0], 60_000), 2);
    }

    #[test]
    fn a_profile_needs_enough_facts() {
        let w = |assets, http1, host: Option<(&str, u64)>| Window {
            referred_assets: assets,
            referred_assets_http1: http1,
            top_host: host.map(|(h, n)| (h.to_string(), n)),
            pages: Default::default(),
        };
        assert_eq!(
            SiteProfile::from_window(&w(9, 0, Some(("a.example", 9)))),
            SiteProfile::default()
        );
        let p = SiteProfile::from_window(&w(20, 1, Some(("a.example", 12))));
        assert!(p.serves && p.modern);
        assert_eq!(p.own_host.as_deref(), Some("a.example"));
        let p = SiteProfile::from_window(&w(20, 2, Some(("a.example", 9))));
        assert!(p.serves && !p.modern && p.own_host.is_none());
    }

    #[test]
    fn without_subresource_facts_bare_clients_need_a_stronger_sign() {
        // The same spread-thin agent and one address rotating agents, on a site known to serve
        // subresources on these pages, and on one that is not.
        let events = || {
            let mut events = Vec::new();
            for address in 0..6 {
                let mut e = ev(50 + address, "/");
                e.agent = 999;
                e.origin = (address << 32) | (1000 + address);
                events.push(e);
            }
            for agent in 0..3 {
                let mut e = ev(70 + agent, "/a");
                e.origin = 7;
                events.push(e);
            }
            events
        };
        let mut known = events();
        flag(&mut known, &Thresholds::default(), &serving());
        let spread = Reason::AgentSpread as u8;
        let rotation = Reason::AgentRotation as u8;
        assert_eq!(
            flagged(&known),
            [vec![spread; 6], vec![rotation; 3]].concat()
        );
        let mut unknown = events();
        flag(&mut unknown, &Thresholds::default(), &HashMap::new());
        assert!(unknown.iter().all(|e| e.bot == 0));
    }

    #[test]
    fn repeated_path_without_assets_at_just_under_and_over_the_limit() {
        let t = Thresholds::default();
        for (n, expect) in [(19, 0), (20, 0), (21, Reason::RepeatedPath as u8)] {
            let mut events: Vec<Event> = (0..n)
                .map(|i| {
                    let mut e = ev(1, "/same");
                    e.ts = i * 7_919 * 13; // irregular
                    e.ts += (i * i * 31_337) % 50_000;
                    e
                })
                .collect();
            flag(&mut events, &t, &serving());
            assert!(flagged(&events).iter().all(|b| *b == expect), "{n} hits");
        }
    }

    #[test]
    fn a_heavy_human_with_assets_is_never_lost_to_page_counts() {
        let mut events: Vec<Event> = (0..150)
            .flat_map(|i| browsed(1, i, "/admin-page"))
            .collect();
        flag(&mut events, &Thresholds::default(), &serving());
        assert!(flagged(&events).iter().all(|b| *b == 0));
    }

    #[test]
    fn many_pageviews_without_assets_at_the_limit() {
        let paths: Vec<&'static str> = (0..101)
            .map(|i| &*Box::leak(format!("/p{i}").into_boxed_str()))
            .collect();
        for (n, expect) in [(100, 0), (101, Reason::ManyPageViews as u8)] {
            let mut events: Vec<Event> = paths[..n]
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let mut e = ev(1, p);
                    e.ts = i as i64 * 45_000 + (i as i64 % 7) * 9_000;
                    e
                })
                .collect();
            flag(&mut events, &Thresholds::default(), &serving());
            assert_eq!(events[0].bot, expect, "{n} views");
        }
    }

    #[test]
    fn mostly_errors_needs_enough_requests_and_a_majority() {
        let run = |requests: usize, errors: usize| {
            let mut events: Vec<Event> = (0..requests)
                .map(|i| {
                    let mut e = ev(1, if i % 2 == 0 { "/a" } else { "/b" });
                    e.ts = [0, 1, 5, 6, 13, 14, 30, 31, 70, 71, 72][i] * 60_000;
                    e
                })
                .collect();
            for e in events.iter_mut().take(errors) {
                e.status = 404;
                e.kind = Kind::Other as u8;
            }
            flag(&mut events, &Thresholds::default(), &serving());
            events[requests - 1].bot
        };
        assert_eq!(run(9, 9), 0, "under 10 requests");
        assert_eq!(run(10, 5), 0, "half is not most");
        assert_eq!(run(10, 6), Reason::MostlyErrors as u8);
    }

    #[test]
    fn robots_and_probes_flag_the_rest_of_the_day() {
        let mut events = vec![
            ev(1, "/"),
            ev(1, "/robots.txt"),
            ev(1, "/page"),
            ev(2, "/"),
            ev(2, "/.env"),
            ev(3, "/"),
        ];
        events[1].bot = Reason::RobotsTxt as u8;
        events[4].bot = Reason::ProbePath as u8;
        flag(&mut events, &Thresholds::default(), &serving());
        let r = Reason::RobotsTxt as u8;
        let p = Reason::ProbePath as u8;
        assert_eq!(flagged(&events), vec![r, r, r, p, p, 0]);
    }

    #[test]
    fn pages_from_a_datacenter_without_subresources_are_bots_with_them_people() {
        let mut bare = ev(1, "/");
        bare.traits = traits::DATACENTER;
        let [mut vpn_page, mut vpn_css] = browsed(2, 5, "/");
        vpn_page.traits = traits::DATACENTER;
        vpn_css.traits = traits::DATACENTER;
        let mut events = vec![bare, vpn_page, vpn_css];
        flag(&mut events, &Thresholds::default(), &serving());
        assert_eq!(flagged(&events), vec![Reason::Datacenter as u8, 0, 0]);
    }

    #[test]
    fn one_address_rotating_agents_is_a_bot_a_shared_address_of_browsers_is_not() {
        // Address 7 sends three agents, each one bare page; address 8 three browsers with assets.
        let mut events = people();
        for agent in 0..3 {
            let mut e = ev(10 + agent, "/");
            e.origin = 7;
            events.push(e);
        }
        for agent in 0..3 {
            for mut e in browsed(20 + agent, agent, "/") {
                e.origin = 8;
                events.push(e);
            }
        }
        flag(&mut events, &Thresholds::default(), &serving());
        let rot = Reason::AgentRotation as u8;
        assert_eq!(&flagged(&events)[6..9], &[rot, rot, rot]);
        assert!(flagged(&events)[9..].iter().all(|b| *b == 0));
    }

    #[test]
    fn a_bare_client_beside_a_flagged_one_on_its_address_is_a_bot() {
        let mut probe = ev(1, "/.env");
        probe.bot = Reason::ProbePath as u8;
        probe.origin = 9;
        let mut other = ev(2, "/");
        other.origin = 9;
        let mut events = vec![probe, other];
        flag(&mut events, &Thresholds::default(), &serving());
        assert_eq!(events[1].bot, Reason::AgentRotation as u8);
    }

    #[test]
    fn an_agent_spread_thin_over_many_addresses_is_a_bot() {
        let mut events = people();
        for address in 0..6 {
            let mut e = ev(50 + address, "/");
            e.agent = 999;
            e.origin = (address << 32) | (1000 + address);
            events.push(e);
        }
        flag(&mut events, &Thresholds::default(), &serving());
        assert!(events[6..]
            .iter()
            .all(|e| e.bot == Reason::AgentSpread as u8));
        // Four addresses are not enough.
        let mut events = people();
        for address in 0..4 {
            let mut e = ev(50 + address, "/");
            e.agent = 999;
            e.origin = (address << 32) | (1000 + address);
            events.push(e);
        }
        flag(&mut events, &Thresholds::default(), &serving());
        assert!(events[6..].iter().all(|e| e.bot == 0));
    }

    #[test]
    fn a_path_fetched_like_a_clock_is_a_monitor() {
        let mut events: Vec<Event> = (0..12)
            .map(|i| {
                let mut e = ev(1, "/");
                e.ts = i * 5 * MIN + (i % 2) * 2_000;
                e
            })
            .collect();
        flag(&mut events, &Thresholds::default(), &serving());
        assert_eq!(events[0].bot, Reason::RegularInterval as u8);
        // The same number of hits at a person's irregular pace.
        let mut events: Vec<Event> = [0, 3, 4, 19, 25, 61]
            .iter()
            .map(|m| {
                let mut e = ev(1, "/");
                e.ts = m * MIN;
                e
            })
            .collect();
        flag(&mut events, &Thresholds::default(), &serving());
        assert_eq!(events[0].bot, 0);
    }

    #[test]
    fn pages_without_referrers_or_assets_on_a_site_that_serves_them() {
        let mut events = people();
        for (i, path) in ["/a", "/b"].iter().enumerate() {
            let mut e = ev(1, path);
            e.ts = i as i64 * 5 * MIN;
            e.source = None;
            e.referrer_host = None;
            events.push(e);
        }
        // A returning visitor: one page from a search, assets cached.
        events.push(ev(2, "/c"));
        flag(&mut events, &Thresholds::default(), &serving());
        assert_eq!(
            &flagged(&events)[6..],
            &[
                Reason::NoSubresources as u8,
                Reason::NoSubresources as u8,
                0
            ]
        );
    }

    #[test]
    fn an_agent_of_many_visitors_fetching_only_the_root_without_referrer_is_a_monitor() {
        // Health checks: HEAD / from many addresses, no page views, no referrer.
        let run = |visitors: i64, root_share_high: bool, referrer: bool| {
            let mut events: Vec<Event> = Vec::new();
            for v in 0..visitors {
                for i in 0..4 {
                    let path = if root_share_high || i == 0 {
                        "/"
                    } else {
                        "/page"
                    };
                    let mut e = ev(v, path);
                    e.agent = 99;
                    e.kind = Kind::Other as u8;
                    e.method = Method::Head as u8;
                    e.ts = v * MIN + i * 17 * MIN + (v * i) % 7 * 1000;
                    e.source = if referrer { Some("Google") } else { None };
                    e.referrer_host = e.source.map(|_| "google.com");
                    events.push(e);
                }
            }
            flag(&mut events, &Thresholds::default(), &serving());
            events[0].bot
        };
        assert_eq!(run(21, true, false), Reason::MonitorPattern as u8);
        assert_eq!(run(20, true, false), 0, "20 visitors is not more than 20");
        assert_eq!(run(21, false, false), 0, "25% on / is not a monitor");
        assert_eq!(run(21, true, true), 0, "with referrers it is not a monitor");
    }
}
