//! Aggregates one local day of events into its rollup rows. Pure: events and names in, rows out.
//!
//! Definitions (DESIGN.md): a page view is a human hit of kind page; a visit is a visitor's page
//! views with gaps under 30 minutes; a bounce is a visit of one page view; a visit's source and
//! entry page are those of its first page view. Hits, bytes and status counts include bots.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use crate::classify::referrer::{DIRECT, INTERNAL};
use crate::classify::Kind;
use crate::store::rollups::SiteDay;

/// A visit ends after this long without a page view.
pub const VISIT_GAP_MS: i64 = 30 * 60 * 1000;

/// One event as rollup reads it, with its names resolved.
#[derive(Clone, Debug)]
pub struct Event<'n> {
    /// Unix ms.
    pub ts: i64,
    /// Site name.
    pub site: &'n str,
    /// Path, if the request had one.
    pub path: Option<&'n str>,
    /// The path's key (`classify::referrer::page_key`), 0 without a path.
    pub page_key: i64,
    /// Source (utm/ref or referrer host name), `None` for direct.
    pub source: Option<&'n str>,
    /// The referrer's host, `None` without a referrer.
    pub referrer_host: Option<&'n str>,
    /// Whether the source was named in the query (`utm_source`, `ref`), not by the referrer.
    pub campaign: bool,
    /// `utm_medium`, `utm_campaign`, `utm_content`, `utm_term` of the query (empty when absent).
    pub utm: [&'n str; 4],
    /// The automated client the agent names (`GPTBot`), if any.
    pub crawler: Option<&'n str>,
    /// The agent's browser is stale on that day (`classify::browser_age::stale_from`).
    pub stale: bool,
    /// The agent's browser is years out of date and does not update itself (ingest gave it
    /// `ua-obsolete`, which stands unless the client loads subresources as a browser does).
    pub old: bool,
    /// Browser, OS and device of the agent.
    pub browser: &'n str,
    /// OS family.
    pub os: &'n str,
    /// Device class.
    pub device: &'n str,
    /// Country code (`DE`), when a GeoIP database was used at ingest.
    pub country: Option<&'n str>,
    /// Agent id (for per-agent behaviour), 0 for none.
    pub agent: i64,
    /// Visitor hash.
    pub visitor: i64,
    /// HTTP status.
    pub status: u16,
    /// Response bytes.
    pub bytes: i64,
    /// `classify::Kind` code.
    pub kind: u8,
    /// `classify::Method` code.
    pub method: u8,
    /// Bot reason, 0 for human.
    pub bot: u8,
    /// Salted hashes of the client's network and address (`classify::visitor::origin_hash`).
    pub origin: i64,
    /// `classify::traits` bits.
    pub traits: u8,
}

/// The entry for `key`, allocating its `String` only the first time (most hits repeat a key).
fn bump<'m, V: Default>(map: &'m mut HashMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key).expect("just inserted")
}

/// A human page view, kept per visitor to build visits.
struct View<'n> {
    ts: i64,
    path: &'n str,
    source: Option<&'n str>,
}

#[derive(Default)]
struct Work<'n> {
    day: SiteDay,
    views: HashMap<i64, Vec<View<'n>>>,
    agent_of: HashMap<i64, (&'n str, &'n str, &'n str)>,
    country_of: HashMap<i64, &'n str>,
    page_visitors: HashMap<&'n str, HashSet<i64>>,
    bot_visitors: HashMap<u8, HashSet<i64>>,
    crawler_visitors: HashMap<&'n str, HashSet<i64>>,
    hour_visitors: HashMap<u32, HashSet<i64>>,
}

/// Rolls up one local day of events (any order) in `tz`; hours are the zone's clock hours.
/// Rows with keys visitors choose (pages, sources, 404 paths) are bounded (`bound`).
pub fn aggregate<'n>(events: &[Event<'n>], tz: chrono_tz::Tz) -> HashMap<String, SiteDay> {
    let mut sites: HashMap<&'n str, Work<'n>> = HashMap::new();
    let mut clock = super::days::ClockHours::new(tz);
    for e in events {
        let w = sites.entry(e.site).or_default();
        let t = &mut w.day.totals;
        t.hits += 1;
        t.bytes += e.bytes.max(0) as u64;
        match e.status {
            400..=499 => t.status_4xx += 1,
            500..=599 => t.status_5xx += 1,
            _ => {}
        }
        *w.day.status.entry(e.status).or_default() += 1;
        let hour = clock.of(e.ts);
        w.day.hourly.entry(hour).or_default().2 += 1;
        if e.status == 404 {
            if let Some(p) = e.path {
                let nf = bump(&mut w.day.not_found, p);
                nf.0 += 1;
                nf.1 += u64::from(e.bot != 0);
            }
        }
        if e.bot != 0 {
            t.bot_hits += 1;
            w.day.bots.entry(e.bot).or_default().0 += 1;
            w.bot_visitors.entry(e.bot).or_default().insert(e.visitor);
            if let Some(name) = e.crawler {
                bump(&mut w.day.crawlers, name).0 += 1;
                w.crawler_visitors
                    .entry(name)
                    .or_default()
                    .insert(e.visitor);
            }
            continue;
        }
        if e.kind != Kind::Page as u8 {
            continue;
        }
        let path = e.path.unwrap_or("/");
        t.pageviews += 1;
        bump(&mut w.day.pages, path).pageviews += 1;
        w.page_visitors.entry(path).or_default().insert(e.visitor);
        w.day.hourly.entry(hour).or_default().0 += 1;
        w.hour_visitors.entry(hour).or_default().insert(e.visitor);
        w.views.entry(e.visitor).or_default().push(View {
            ts: e.ts,
            path,
            source: e.source,
        });
        w.agent_of
            .entry(e.visitor)
            .or_insert((e.browser, e.os, e.device));
        if let Some(c) = e.country {
            w.country_of.entry(e.visitor).or_insert(c);
        }
    }

    sites
        .into_iter()
        .map(|(site, mut w)| {
            finish_visits(&mut w);
            for (path, set) in w.page_visitors {
                w.day.pages.get_mut(path).expect("page seen").visitors = set.len() as u64;
            }
            for (reason, set) in w.bot_visitors {
                w.day.bots.get_mut(&reason).expect("reason seen").1 = set.len() as u64;
            }
            for (name, set) in w.crawler_visitors {
                w.day.crawlers.get_mut(name).expect("crawler seen").1 = set.len() as u64;
            }
            for (hour, set) in w.hour_visitors {
                w.day.hourly.get_mut(&hour).expect("hour seen").1 = set.len() as u64;
            }
            super::bound::bound(&mut w.day);
            (site.to_string(), w.day)
        })
        .collect()
}

/// Splits each visitor's page views into visits and counts visits, bounces, durations, entry
/// pages, sources, and visitors per browser, OS and device.
fn finish_visits(w: &mut Work<'_>) {
    let day = &mut w.day;
    day.totals.visitors = w.views.len() as u64;
    for (visitor, views) in &mut w.views {
        views.sort_by_key(|v| v.ts);
        let (browser, os, device) = w.agent_of[visitor];
        for (map, key) in [
            (&mut day.browsers, browser),
            (&mut day.os, os),
            (&mut day.devices, device),
        ] {
            let r = bump(map, key);
            r.visitors += 1;
            r.pageviews += views.len() as u64;
        }
        if let Some(c) = w.country_of.get(visitor) {
            let r = bump(&mut day.countries, c);
            r.visitors += 1;
            r.pageviews += views.len() as u64;
        }
        let mut sources_seen: HashSet<&str> = HashSet::new();
        let mut start = 0;
        for i in 1..=views.len() {
            if i < views.len() && views[i].ts - views[i - 1].ts < VISIT_GAP_MS {
                continue;
            }
            let visit = &views[start..i];
            start = i;
            let pageviews = visit.len() as u64;
            let bounce = u64::from(pageviews == 1);
            day.totals.visits += 1;
            day.totals.bounces += bounce;
            day.totals.duration_s += ((visit[visit.len() - 1].ts - visit[0].ts) / 1000) as u64;
            let entry = bump(&mut day.entry_pages, visit[0].path);
            entry.visits += 1;
            entry.bounces += bounce;
            let source = match visit[0].source {
                None => DIRECT,
                Some(s) if s == INTERNAL => DIRECT,
                Some(s) => s,
            };
            let src = bump(&mut day.sources, source);
            src.visits += 1;
            src.bounces += bounce;
            src.pageviews += pageviews;
            if sources_seen.insert(source) {
                src.visitors += 1;
            }
        }
    }
    for entry in day.entry_pages.values_mut() {
        entry.visitors = 0; // not kept for entry pages
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::rollups::{Entries, Reach};

    const MIN: i64 = 60_000;

    /// A human page view at minute `ts_min` by `visitor` (whose address is its number).
    pub(crate) fn ev(ts_min: i64, visitor: i64, path: &'static str) -> Event<'static> {
        Event {
            ts: ts_min * MIN,
            site: "s",
            path: Some(path),
            page_key: crate::classify::referrer::page_key(path),
            source: None,
            referrer_host: None,
            campaign: false,
            utm: [""; 4],
            crawler: None,
            stale: false,
            old: false,
            origin: visitor,
            traits: 0,
            browser: "Firefox",
            os: "Linux",
            device: "Desktop",
            country: None,
            agent: 0,
            visitor,
            status: 200,
            bytes: 100,
            kind: Kind::Page as u8,
            method: 1,
            bot: 0,
        }
    }

    #[test]
    fn visits_split_at_a_30_minute_gap() {
        // Visitor 1: views at 0, 10, then 41 (31 minutes later): two visits, the second a bounce.
        // Visitor 2: views at 0 and 30 exactly: a 30-minute gap also splits.
        let events = vec![
            ev(0, 1, "/a"),
            ev(10, 1, "/b"),
            ev(41, 1, "/c"),
            ev(0, 2, "/a"),
            ev(30, 2, "/a"),
        ];
        let day = &aggregate(&events, chrono_tz::UTC)["s"];
        let t = &day.totals;
        assert_eq!(
            (t.pageviews, t.visitors, t.visits, t.bounces, t.duration_s),
            (5, 2, 4, 3, 600)
        );
        assert_eq!(
            day.entry_pages["/a"],
            Entries {
                visits: 3,
                bounces: 2,
                visitors: 0,
                pageviews: 0
            }
        );
        assert_eq!(day.entry_pages["/c"].visits, 1);
        assert_eq!(
            day.pages["/a"],
            Reach {
                visitors: 2,
                pageviews: 3
            }
        );
        assert_eq!(day.sources["Direct"].visits, 4);
        assert_eq!(day.sources["Direct"].visitors, 2);
        assert_eq!(
            day.browsers["Firefox"],
            Reach {
                visitors: 2,
                pageviews: 5
            }
        );
    }

    #[test]
    fn bots_assets_and_errors_count_as_hits_not_views() {
        let mut bot = ev(1, 3, "/wp-login.php");
        bot.bot = 7;
        bot.status = 404;
        bot.kind = Kind::Other as u8;
        let mut asset = ev(2, 1, "/app.js");
        asset.kind = Kind::Asset as u8;
        let mut err = ev(3, 1, "/x");
        err.status = 500;
        err.kind = Kind::Other as u8;
        let events = vec![ev(0, 1, "/"), bot, asset, err];
        let day = &aggregate(&events, chrono_tz::UTC)["s"];
        let t = &day.totals;
        assert_eq!(
            (
                t.hits,
                t.pageviews,
                t.visitors,
                t.bot_hits,
                t.status_4xx,
                t.status_5xx,
                t.bytes
            ),
            (4, 1, 1, 1, 1, 1, 400)
        );
        assert_eq!(day.bots[&7], (1, 1));
        assert_eq!(day.not_found["/wp-login.php"], (1, 1));
        assert_eq!(day.status[&200], 2);
        assert!(!day.pages.contains_key("/wp-login.php"));
    }

    #[test]
    fn sources_come_from_the_first_view_and_internal_means_direct() {
        let mut a = ev(0, 1, "/");
        a.source = Some("Google");
        let mut b = ev(5, 1, "/b");
        b.source = Some(INTERNAL);
        let mut c = ev(100, 1, "/c");
        c.source = Some(INTERNAL);
        let day = &aggregate(&[a, b, c], chrono_tz::UTC)["s"];
        assert_eq!(
            day.sources["Google"],
            Entries {
                visits: 1,
                bounces: 0,
                visitors: 1,
                pageviews: 2
            }
        );
        assert_eq!(
            day.sources["Direct"],
            Entries {
                visits: 1,
                bounces: 1,
                visitors: 1,
                pageviews: 1
            }
        );
    }

    #[test]
    fn hours_count_from_local_midnight() {
        let day = &aggregate(&[ev(60 * 24 + 30, 1, "/")], chrono_tz::UTC)["s"];
        assert_eq!(day.hourly[&0], (1, 1, 1));
    }

    #[test]
    fn sites_are_kept_apart() {
        let mut other = ev(0, 1, "/");
        other.site = "t";
        let days = aggregate(&[ev(0, 1, "/"), other], chrono_tz::UTC);
        assert_eq!(
            (days["s"].totals.pageviews, days["t"].totals.pageviews),
            (1, 1)
        );
    }
}
