//! Exports of one row per page view (GoatCounter, Umami), replayed through logtally's own
//! sessions: each local day's human page views go through the rollup's aggregation
//! (`rollup::aggregate`), so visits, bounces, durations, entry pages and sources are decided
//! exactly as for the logs' page views. Views the export flags as bots are left out, as a log's
//! bots are left out of every human figure.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::classify::Kind;
use crate::rollup::aggregate::{aggregate, Event};
use crate::rollup::days::local_date;
use crate::store::history::{Figures, ImportedDay};
use crate::store::rollups::{Entries, Reach, SiteDay};

/// One page view of an export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// Unix ms, UTC.
    pub ts: i64,
    /// The export's visitor or session, hashed.
    pub visitor: i64,
    /// The page's path.
    pub path: String,
    /// The source it came from (`Google`, a campaign), `None` for direct.
    pub source: Option<String>,
    /// Browser, as logtally names it.
    pub browser: String,
    /// OS family.
    pub os: String,
    /// Device class.
    pub device: String,
    /// Country code, where the export has one.
    pub country: Option<String>,
}

/// A stable key of an export's visitor or session id.
pub fn visitor_key(id: &str) -> i64 {
    use std::hash::Hasher;
    let mut h = siphasher::sip::SipHasher13::new_with_keys(0x6869_7374_6f72_7921, 1);
    h.write(id.as_bytes());
    h.finish() as i64
}

/// The days of `views` in `tz`, each rolled up as a log's day is. Hours, statuses, bytes and bots
/// are not kept: an export of page views has no hits to give them from.
pub fn replay(mut views: Vec<View>, tz: Tz) -> BTreeMap<NaiveDate, ImportedDay> {
    views.sort_by_key(|v| v.ts);
    let mut out = BTreeMap::new();
    let mut start = 0;
    while start < views.len() {
        let day = local_date(tz, views[start].ts);
        let end = start
            + views[start..]
                .iter()
                .position(|v| local_date(tz, v.ts) != day)
                .unwrap_or(views.len() - start);
        let events: Vec<Event<'_>> = views[start..end].iter().map(event).collect();
        if let Some(rolled) = aggregate(&events, tz).remove("") {
            out.insert(day, imported(rolled));
        }
        start = end;
    }
    out
}

fn event(v: &View) -> Event<'_> {
    Event {
        ts: v.ts,
        site: "",
        path: Some(&v.path),
        page_key: crate::classify::referrer::page_key(&v.path),
        source: v.source.as_deref(),
        referrer_host: None,
        campaign: false,
        utm: [""; 4],
        crawler: None,
        stale: false,
        old: false,
        browser: &v.browser,
        os: &v.os,
        device: &v.device,
        country: v.country.as_deref(),
        agent: 0,
        visitor: v.visitor,
        status: 200,
        bytes: 0,
        kind: Kind::Page as u8,
        method: 1,
        bot: 0,
        origin: v.visitor,
        traits: 0,
    }
}

fn reach(r: &Reach) -> Figures {
    Figures {
        pageviews: r.pageviews,
        visitors: r.visitors,
        ..Figures::default()
    }
}

fn entries(e: &Entries) -> Figures {
    Figures {
        pageviews: e.pageviews,
        visitors: e.visitors,
        visits: e.visits,
        bounces: e.bounces,
        duration_s: 0,
    }
}

/// A rolled-up day as an imported one.
fn imported(day: SiteDay) -> ImportedDay {
    let t = &day.totals;
    let mut keyed = BTreeMap::new();
    let reached: [(&'static str, &_); 5] = [
        ("daily_pages", &day.pages),
        ("daily_browsers", &day.browsers),
        ("daily_os", &day.os),
        ("daily_devices", &day.devices),
        ("daily_countries", &day.countries),
    ];
    for (table, rows) in reached {
        for (key, r) in rows {
            keyed.insert((table, key.clone()), reach(r));
        }
    }
    for (table, rows) in [
        ("daily_entry_pages", &day.entry_pages),
        ("daily_referrers", &day.sources),
    ] {
        for (key, e) in rows {
            keyed.insert((table, key.clone()), entries(e));
        }
    }
    ImportedDay {
        totals: Some(Figures {
            pageviews: t.pageviews,
            visitors: t.visitors,
            visits: t.visits,
            bounces: t.bounces,
            duration_s: t.duration_s,
        }),
        keyed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(minute: i64, visitor: &str, path: &str) -> View {
        View {
            ts: 1_700_000_000_000 + minute * 60_000,
            visitor: visitor_key(visitor),
            path: path.into(),
            source: None,
            browser: "Firefox".into(),
            os: "Linux".into(),
            device: "Desktop".into(),
            country: Some("DE".into()),
        }
    }

    #[test]
    fn page_views_become_visits_by_the_logs_own_rule() {
        // a: two views 10 minutes apart (one visit), then one 40 minutes later (a second
        // visit, a bounce); b: one view (a bounce).
        let views = vec![
            view(0, "a", "/"),
            view(10, "a", "/about"),
            view(50, "a", "/"),
            view(5, "b", "/blog"),
        ];
        let days = replay(views, chrono_tz::UTC);
        assert_eq!(days.len(), 1);
        let day = days.values().next().unwrap();
        assert_eq!(
            day.totals,
            Some(Figures {
                pageviews: 4,
                visitors: 2,
                visits: 3,
                bounces: 2,
                duration_s: 600
            })
        );
        assert_eq!(day.keyed[&("daily_pages", "/".into())].pageviews, 2);
        assert_eq!(day.keyed[&("daily_pages", "/".into())].visitors, 1);
        assert_eq!(day.keyed[&("daily_entry_pages", "/".into())].visits, 2);
        assert_eq!(day.keyed[&("daily_referrers", "Direct".into())].visits, 3);
        assert_eq!(day.keyed[&("daily_countries", "DE".into())].visitors, 2);
    }

    #[test]
    fn days_are_the_zones_days() {
        // 23:30 and 00:30 UTC are one day in New York (18:30, 19:30).
        let base = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
            .unwrap()
            .and_hms_opt(23, 30, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let mut a = view(0, "a", "/");
        a.ts = base;
        let mut b = view(0, "b", "/");
        b.ts = base + 3_600_000;
        assert_eq!(replay(vec![a.clone(), b.clone()], chrono_tz::UTC).len(), 2);
        let ny = replay(vec![a, b], chrono_tz::America::New_York);
        assert_eq!(ny.len(), 1);
        assert_eq!(ny.values().next().unwrap().totals.unwrap().visitors, 2);
    }
}
