//! Bot detection layer 4: behaviour over a day, decided inside `rollup` before it aggregates
//! (DESIGN.md, Bots). Hits already flagged at ingest keep their reason; this flags the rest of a
//! bot's day and the clients whose behaviour, not their agent, gives them away.

use foldhash::{HashMap, HashMapExt, HashSet};

use super::aggregate::Event;
use crate::classify::bots::Reason;
use crate::classify::Kind;

/// Behaviour thresholds (defaults from DESIGN.md; configurable).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// A visitor with more than this many hits on one path in a day is a bot.
    pub repeated_path: u32,
    /// A visitor with more than this many page views in a day is a bot.
    pub many_pageviews: u32,
    /// A visitor with at least this many requests in a day...
    pub errors_min_requests: u32,
    /// ...of which more than this share are 4xx is a bot.
    pub errors_share: f64,
    /// An agent with more than this many visitors in a day...
    pub monitor_min_visitors: u32,
    /// ...more than this share of its hits on `/`...
    pub monitor_root_share: f64,
    /// ...and more than this share without referrer is a monitor.
    pub monitor_no_referrer_share: f64,
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
        }
    }
}

#[derive(Default)]
struct VisitorDay {
    /// Most hits on a single path.
    max_path_hits: u32,
    pageviews: u32,
    requests: u32,
    errors: u32,
    flagged_at_ingest: Option<u8>,
}

#[derive(Default)]
struct AgentDay {
    visitors: HashSet<i64>,
    hits: u32,
    root: u32,
    no_referrer: u32,
}

/// The verdict for one visitor's day, if its behaviour is a bot's.
fn visitor_verdict(v: &VisitorDay, t: &Thresholds) -> Option<u8> {
    if let Some(r) = v.flagged_at_ingest {
        return Some(r);
    }
    if v.max_path_hits > t.repeated_path {
        return Some(Reason::RepeatedPath as u8);
    }
    if v.pageviews > t.many_pageviews {
        return Some(Reason::ManyPageViews as u8);
    }
    if v.requests >= t.errors_min_requests && v.errors as f64 > t.errors_share * v.requests as f64 {
        return Some(Reason::MostlyErrors as u8);
    }
    None
}

fn agent_is_monitor(a: &AgentDay, t: &Thresholds) -> bool {
    a.visitors.len() as u32 > t.monitor_min_visitors
        && a.root as f64 > t.monitor_root_share * a.hits as f64
        && a.no_referrer as f64 > t.monitor_no_referrer_share * a.hits as f64
}

/// Flags the bots of one day of events in place (events already flagged keep their reason).
pub fn flag(events: &mut [Event<'_>], t: &Thresholds) {
    let mut visitors: HashMap<(&str, i64), VisitorDay> = HashMap::new();
    let mut agents: HashMap<(&str, i64), AgentDay> = HashMap::new();
    // Hits per (site, visitor, path) in one flat map: no map per visitor.
    let mut path_hits: HashMap<(&str, i64, &str), u32> = HashMap::new();
    for e in events.iter() {
        let v = visitors.entry((e.site, e.visitor)).or_default();
        v.requests += 1;
        v.errors += u32::from((400..500).contains(&e.status));
        if let Some(p) = e.path {
            let n = path_hits.entry((e.site, e.visitor, p)).or_default();
            *n += 1;
            v.max_path_hits = v.max_path_hits.max(*n);
        }
        v.pageviews += u32::from(e.kind == Kind::Page as u8);
        // A robots.txt fetch or a probe makes the client a bot for the whole day.
        if e.bot == Reason::RobotsTxt as u8 || e.bot == Reason::ProbePath as u8 {
            v.flagged_at_ingest.get_or_insert(e.bot);
        }
        if e.bot == 0 {
            let a = agents.entry((e.site, e.agent)).or_default();
            a.visitors.insert(e.visitor);
            a.hits += 1;
            a.root += u32::from(e.path == Some("/"));
            a.no_referrer += u32::from(e.source.is_none());
        }
    }
    let verdicts: HashMap<(&str, i64), u8> = visitors
        .iter()
        .filter_map(|(k, v)| visitor_verdict(v, t).map(|r| (*k, r)))
        .collect();
    let monitors: HashSet<(&str, i64)> = agents
        .iter()
        .filter(|(_, a)| agent_is_monitor(a, t))
        .map(|(k, _)| *k)
        .collect();
    for e in events.iter_mut().filter(|e| e.bot == 0) {
        if let Some(r) = verdicts.get(&(e.site, e.visitor)) {
            e.bot = *r;
        } else if monitors.contains(&(e.site, e.agent)) {
            e.bot = Reason::MonitorPattern as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(visitor: i64, path: &'static str) -> Event<'static> {
        Event {
            ts: 0,
            site: "s",
            path: Some(path),
            source: Some("Google"),
            browser: "Firefox",
            os: "Linux",
            device: "Desktop",
            country: None,
            agent: visitor,
            visitor,
            status: 200,
            bytes: 0,
            kind: Kind::Page as u8,
            bot: 0,
        }
    }

    fn flagged(events: &[Event<'_>]) -> Vec<u8> {
        events.iter().map(|e| e.bot).collect()
    }

    #[test]
    fn repeated_path_at_just_under_and_over_the_limit() {
        let t = Thresholds::default();
        for (n, expect) in [(19, 0), (20, 0), (21, Reason::RepeatedPath as u8)] {
            let mut events: Vec<Event> = (0..n).map(|_| ev(1, "/same")).collect();
            flag(&mut events, &t);
            assert!(flagged(&events).iter().all(|b| *b == expect), "{n} hits");
        }
    }

    #[test]
    fn many_pageviews_at_the_limit() {
        let paths: Vec<&'static str> = (0..101)
            .map(|i| &*Box::leak(format!("/p{i}").into_boxed_str()))
            .collect();
        for (n, expect) in [(99, 0), (100, 0), (101, Reason::ManyPageViews as u8)] {
            let mut events: Vec<Event> = paths[..n].iter().map(|p| ev(1, p)).collect();
            flag(&mut events, &Thresholds::default());
            assert_eq!(events[0].bot, expect, "{n} views");
        }
    }

    #[test]
    fn mostly_errors_needs_enough_requests_and_a_majority() {
        let run = |requests: usize, errors: usize| {
            let mut events: Vec<Event> = (0..requests)
                .map(|i| ev(1, if i % 2 == 0 { "/a" } else { "/b" }))
                .collect();
            for e in events.iter_mut().take(errors) {
                e.status = 404;
            }
            flag(&mut events, &Thresholds::default());
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
        flag(&mut events, &Thresholds::default());
        let r = Reason::RobotsTxt as u8;
        let p = Reason::ProbePath as u8;
        assert_eq!(flagged(&events), vec![r, r, r, p, p, 0]);
    }

    #[test]
    fn an_agent_of_many_visitors_fetching_only_the_root_without_referrer_is_a_monitor() {
        let run = |visitors: i64, root_share_high: bool, referrer: bool| {
            let mut events: Vec<Event> = Vec::new();
            for v in 0..visitors {
                for i in 0..4 {
                    let mut e = ev(
                        v,
                        if root_share_high || i == 0 {
                            "/"
                        } else {
                            "/page"
                        },
                    );
                    e.agent = 99;
                    e.source = if referrer { Some("Google") } else { None };
                    events.push(e);
                }
            }
            flag(&mut events, &Thresholds::default());
            events[0].bot
        };
        assert_eq!(run(21, true, false), Reason::MonitorPattern as u8);
        assert_eq!(run(20, true, false), 0, "20 visitors is not more than 20");
        assert_eq!(run(21, false, false), 0, "25% on / is not a monitor");
        assert_eq!(run(21, true, true), 0, "with referrers it is not a monitor");
    }
}
