//! What bot detection would flag in a log, and why (`logtally check --bots`): layers 1 and 2 per
//! request, layer 4 per day, with the top agents and client addresses of each reason, so thresholds
//! can be tuned before going live. Nothing is stored; addresses are shown because the log is the
//! user's own. Memory grows with the hits (about 40 bytes each) and the distinct strings.

use std::collections::HashMap;

use chrono_tz::Tz;

use crate::classify::bots::{self, Reason};
use crate::classify::network;
use crate::classify::Kind;
use crate::classify::{browser_age, kind, path, referrer, traits, DayClock, Method, Rules};
use crate::parse::Hit;
use crate::rollup::aggregate::Event;
use crate::rollup::behaviour::{SiteProfile, Thresholds};
use crate::rollup::verdicts;
use crate::store::facts::Window;

/// Strings kept once.
#[derive(Default)]
struct Pool {
    items: Vec<String>,
    index: HashMap<String, u32>,
}

impl Pool {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.index.get(s) {
            return *i;
        }
        self.items.push(s.to_owned());
        self.index.insert(s.to_owned(), self.items.len() as u32 - 1);
        self.items.len() as u32 - 1
    }
}

/// One hit, compactly.
struct Record {
    day: i64,
    ts: i64,
    path: u32,
    /// Referrer host and source (pool ids), when there is a referrer.
    referrer: Option<(u32, u32)>,
    /// The key of the path, and of the page the referrer names.
    page_key: i64,
    referrer_page: Option<i64>,
    agent: u32,
    client: u32,
    network: u32,
    visitor: i64,
    status: u16,
    /// Response bytes, 0 for none (the uncompressed-text rule compares them).
    bytes: i64,
    kind: u8,
    method: u8,
    bot: u8,
    traits: u8,
    stale: bool,
}

/// Gathers hits, then reports.
pub struct BotCheck<'p> {
    rules: &'p Rules,
    clock: DayClock,
    strings: Pool,
    records: Vec<Record>,
    /// By (agent, month): its layer-1 verdict and whether its browser is stale then.
    agents: HashMap<(u32, browser_age::Month), (u8, bool, bool)>,
}

/// Hits of one reason.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ReasonRow {
    /// Reason name (`ua-search`, `probe-path`...).
    pub reason: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// Hits flagged for it.
    pub hits: u64,
    /// Distinct clients (address and agent) flagged for it.
    pub clients: u64,
    /// Agents with most hits, and their hits.
    pub top_agents: Vec<(String, u64)>,
    /// Client addresses with most hits, and their hits.
    pub top_addresses: Vec<(String, u64)>,
}

/// The whole verdict.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BotReport {
    /// All hits.
    pub hits: u64,
    /// Hits flagged as bots.
    pub bot_hits: u64,
    /// Page views left to people.
    pub human_pageviews: u64,
    /// Page views flagged as bots.
    pub bot_pageviews: u64,
    /// Per reason, most hits first.
    pub reasons: Vec<ReasonRow>,
}

const TOP: usize = 5;

/// Per reason while counting: hits, clients, hits per agent, hits per address.
#[derive(Default)]
struct ReasonTally(
    u64,
    std::collections::HashSet<i64>,
    HashMap<u32, u64>,
    HashMap<u32, u64>,
);

fn top(counts: HashMap<u32, u64>, pool: &Pool) -> Vec<(String, u64)> {
    let mut v: Vec<(u32, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter()
        .take(TOP)
        .map(|(id, n)| (pool.items[id as usize].clone(), n))
        .collect()
}

impl<'p> BotCheck<'p> {
    /// A check with these rules, days in `tz`.
    pub fn new(rules: &'p Rules, tz: Tz) -> BotCheck<'p> {
        BotCheck {
            rules,
            clock: DayClock::new(tz),
            strings: Pool::default(),
            records: Vec::new(),
            agents: HashMap::new(),
        }
    }

    /// Adds one hit (`logged`: whether its format records user agents), judged by the same rules
    /// as at ingest.
    pub fn add(&mut self, hit: &Hit<'_>, logged: bool) {
        let method = Method::from_bytes(hit.method.as_deref());
        let path_text = hit.path.as_deref().map(|p| path::normalise(p).into_owned());
        let agent_text = hit.user_agent.as_deref().map(String::from_utf8_lossy);
        let path = self.strings.id(path_text.as_deref().unwrap_or(""));
        let agent = self.strings.id(agent_text.as_deref().unwrap_or(""));
        let client = self.strings.id(&String::from_utf8_lossy(&hit.addr));
        let ip = network::parse_addr(&hit.addr);
        let network = self
            .strings
            .id(&String::from_utf8_lossy(&network::network_key(
                &hit.addr, ip,
            )));
        let host = hit.referrer.as_deref().and_then(referrer::host);
        let spam = host.as_deref().is_some_and(|h| self.rules.spam.is_spam(h));
        let day = self.clock.day(hit.ts_ms);
        let month = browser_age::month_of_day(day);
        let (by_agent, stale, before_http2) =
            *self.agents.entry((agent, month)).or_insert_with(|| {
                let by_agent =
                    bots::agent_verdict(&self.rules.agents, agent_text.as_deref(), month, logged);
                let lower = agent_text.as_deref().map(str::to_ascii_lowercase);
                let stale = lower
                    .as_deref()
                    .is_some_and(|a| browser_age::stale_from(a).is_some_and(|m| month >= m));
                let before_http2 = lower.as_deref().is_some_and(browser_age::predates_http2);
                (by_agent, stale, before_http2)
            });
        let bot = bots::combine(
            by_agent,
            method != Method::None,
            || bots::path_verdict(path_text.as_deref(), (400..500).contains(&hit.status)),
            spam,
        );
        let class = path_text.as_deref().map(|p| self.rules.pages.class(p));
        let kind = kind::kind(method, hit.status, class);
        let datacenter = ip.is_some_and(network::is_datacenter);
        let bot = bots::request_verdict(
            bot,
            &bots::Request {
                protocol: hit.protocol.as_deref(),
                agent_predates_http2: before_http2,
                page_with_click_id: kind == crate::classify::Kind::Page
                    && hit.query.as_deref().is_some_and(path::has_click_id),
                datacenter,
            },
        );
        let referrer = host.map(|h| {
            let source = referrer::source_of_host(&h, None);
            (self.strings.id(&h), self.strings.id(&source))
        });
        let obsolete = by_agent == Reason::ObsoleteBrowser as u8;
        self.records.push(Record {
            day,
            ts: hit.ts_ms,
            path,
            referrer,
            page_key: referrer::page_key(path_text.as_deref().unwrap_or("")),
            referrer_page: hit
                .referrer
                .as_deref()
                .and_then(referrer::referrer_page_key),
            agent,
            client,
            network,
            visitor: ((client as i64) << 32) | agent as i64,
            status: hit.status,
            bytes: hit.bytes.map_or(0, |b| b.min(i64::MAX as u64) as i64),
            kind: kind as u8,
            method: method as u8,
            bot,
            traits: traits::of(datacenter, hit.protocol.as_deref(), obsolete),
            stale,
        });
    }

    /// The site's profile from the whole of what was read (rollup reads the same facts from the
    /// database over a window of days).
    fn profile(&self) -> SiteProfile {
        let mut window = Window::default();
        let mut hosts: HashMap<u32, u64> = HashMap::new();
        let mut pages: Vec<(u32, i64)> = Vec::new();
        for r in &self.records {
            let counted = kind::is_referred_subresource(
                r.bot,
                Kind::from_code(r.kind),
                r.referrer.is_some(),
                Some(self.strings.items[r.path as usize].as_bytes()),
            );
            if let (true, Some((host, _))) = (counted, r.referrer) {
                window.referred_assets += 1;
                window.referred_assets_http1 += u64::from(r.traits & traits::HTTP1 != 0);
                *hosts.entry(host).or_default() += 1;
                pages.extend(r.referrer_page.map(|p| (host, p)));
            }
        }
        let top = hosts
            .into_iter()
            .max_by_key(|(h, n)| (*n, std::cmp::Reverse(*h)));
        let ip_host = self.strings.index.get(referrer::IP_HOST).copied();
        window.pages = pages
            .into_iter()
            .filter(|(h, _)| top.is_some_and(|(t, _)| t == *h) || Some(*h) == ip_host)
            .map(|(_, p)| p)
            .collect();
        window.top_host = top.map(|(h, n)| (self.strings.items[h as usize].clone(), n));
        SiteProfile::from_window(&window)
    }

    /// Runs layer 4 per day and reports.
    pub fn finish(mut self, thresholds: &Thresholds) -> BotReport {
        self.records.sort_by_key(|r| (r.day, r.ts));
        let profile = self.profile();
        let profiles: foldhash::HashMap<&str, SiteProfile> = [("", profile)].into_iter().collect();
        let mut report = BotReport {
            hits: self.records.len() as u64,
            bot_hits: 0,
            human_pageviews: 0,
            bot_pageviews: 0,
            reasons: Vec::new(),
        };
        let mut per_reason: HashMap<u8, ReasonTally> = HashMap::new();
        for day in self.records.chunk_by(|a, b| a.day == b.day) {
            let mut events: Vec<Event> = day
                .iter()
                .map(|r| Event {
                    ts: r.ts,
                    site: "",
                    path: Some(self.strings.items[r.path as usize].as_str()),
                    page_key: r.page_key,
                    source: r
                        .referrer
                        .map(|(_, s)| self.strings.items[s as usize].as_str()),
                    referrer_host: r
                        .referrer
                        .map(|(h, _)| self.strings.items[h as usize].as_str()),
                    campaign: false,
                    utm: [""; 4],
                    crawler: None,
                    stale: r.stale,
                    old: r.traits & traits::OBSOLETE != 0,
                    origin: (i64::from(r.network) << 32) | i64::from(r.client),
                    traits: r.traits,
                    browser: "",
                    os: "",
                    device: "",
                    country: None,
                    agent: r.agent as i64,
                    visitor: r.visitor,
                    status: r.status,
                    bytes: r.bytes,
                    kind: r.kind,
                    method: r.method,
                    bot: r.bot,
                })
                .collect();
            verdicts::decide(&mut events, thresholds, &profiles);
            for (r, e) in day.iter().zip(&events) {
                // The kind as the day decided it (a request logged twice is one page view).
                let page = e.kind == kind::Kind::Page as u8;
                if e.bot == 0 {
                    report.human_pageviews += u64::from(page);
                    continue;
                }
                report.bot_hits += 1;
                report.bot_pageviews += u64::from(page);
                let entry = per_reason.entry(e.bot).or_default();
                entry.0 += 1;
                entry.1.insert(r.visitor);
                *entry.2.entry(r.agent).or_default() += 1;
                *entry.3.entry(r.client).or_default() += 1;
            }
        }
        let mut rows: Vec<ReasonRow> = per_reason
            .into_iter()
            .map(
                |(code, ReasonTally(hits, clients, agents, addrs))| ReasonRow {
                    reason: Reason::from_code(code).map_or("unknown", Reason::name),
                    meaning: Reason::from_code(code).map_or("", Reason::describe),
                    hits,
                    clients: clients.len() as u64,
                    top_agents: top(agents, &self.strings),
                    top_addresses: top(addrs, &self.strings),
                },
            )
            .collect();
        rows.sort_by(|a, b| b.hits.cmp(&a.hits).then(a.reason.cmp(b.reason)));
        report.reasons = rows;
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Format;

    #[test]
    fn reports_reasons_with_agents_and_addresses() {
        let lines = [
            r#"66.249.66.1 - - [01/Sep/2022:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)""#,
            r#"203.0.113.5 - - [01/Sep/2022:10:00:01 +0000] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:104.0) Gecko/20100101 Firefox/104.0""#,
            r#"203.0.113.5 - - [01/Sep/2022:10:00:02 +0000] "GET /.env HTTP/1.1" 404 5 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:104.0) Gecko/20100101 Firefox/104.0""#,
            r#"198.51.100.7 - - [01/Sep/2022:10:00:03 +0000] "GET /post HTTP/1.1" 200 5 "https://www.google.com/" "Mozilla/5.0 (X11; Linux x86_64; rv:104.0) Gecko/20100101 Firefox/104.0""#,
        ];
        let rules = Rules::builtin();
        let mut check = BotCheck::new(&rules, chrono_tz::UTC);
        for l in lines {
            check.add(&Format::Combined.parse(l.as_bytes()).unwrap(), true);
        }
        let r = check.finish(&Thresholds::default());
        assert_eq!((r.hits, r.bot_hits, r.human_pageviews), (4, 3, 1));
        let probe = r.reasons.iter().find(|x| x.reason == "probe-path").unwrap();
        assert_eq!(
            probe.hits, 2,
            "the probe makes the client's whole day a bot"
        );
        assert_eq!(probe.top_addresses, vec![("203.0.113.5".to_string(), 2)]);
        let search = r.reasons.iter().find(|x| x.reason == "ua-search").unwrap();
        assert!(search.top_agents[0].0.contains("Googlebot"));
    }
}
