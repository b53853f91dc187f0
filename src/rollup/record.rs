//! The permanent, filterable record of one day's human traffic: each visit with what filters ask
//! of it (entry and exit page, source, campaign, browser, OS, device, country, page views,
//! duration), and the requests it made (pages viewed, and the other requests a goal may name, such
//! as a form's `POST /signup`). Pure: a day's events in, visits out. Bots never enter it, and no
//! visitor hash either: visitors are numbered within their site and day.

use foldhash::{HashMap, HashMapExt};

use super::aggregate::{Event, VISIT_GAP_MS};
use super::days::ClockHours;
use crate::classify::referrer::{DIRECT, INTERNAL};
use crate::classify::{kind, Kind};
pub use crate::model::{RecordHit as Hit, RecordVisit as Visit, Utm};

/// Whether a human request belongs in the record: page views, and requests other than the
/// stylesheets, scripts, images and fonts a page pulls in.
fn recorded(e: &Event<'_>) -> bool {
    e.bot == 0
        && (e.kind != Kind::Asset as u8
            || !e.path.is_some_and(|p| kind::is_subresource(p.as_bytes())))
        && e.path.is_some()
}

/// The campaign fields of an event: its source when the query named it, and the details.
fn utm_of(e: &Event<'_>) -> Utm {
    let source = if e.campaign {
        e.source.unwrap_or("")
    } else {
        ""
    };
    let [medium, campaign, content, term] = e.utm;
    [source, medium, campaign, content, term].map(str::to_string)
}

/// The visits of one local day.
pub fn visits<'n>(events: &[Event<'n>], tz: chrono_tz::Tz) -> Vec<Visit> {
    // Per (site, visitor): the recorded events, in time order.
    let mut by_client: HashMap<(&'n str, i64), Vec<&Event<'n>>> = HashMap::new();
    for e in events.iter().filter(|e| recorded(e)) {
        by_client.entry((e.site, e.visitor)).or_default().push(e);
    }
    let mut clients: Vec<_> = by_client.into_iter().collect();
    // A stable order (by site, then first request), so a day's record is the same every run.
    for (_, evs) in clients.iter_mut() {
        evs.sort_by_key(|e| e.ts);
    }
    clients.sort_by_key(|((site, visitor), evs)| (*site, evs[0].ts, *visitor));
    let mut clock = ClockHours::new(tz);
    let mut numbers: HashMap<&'n str, u32> = HashMap::new();
    let mut out = Vec::new();
    for ((site, _), evs) in clients {
        let pages: Vec<&Event<'n>> = evs
            .iter()
            .copied()
            .filter(|e| e.kind == Kind::Page as u8)
            .collect();
        if pages.is_empty() {
            continue; // requests without a page view are no visit a person made
        }
        let number = numbers.entry(site).or_insert(0);
        let visitor = *number;
        *number += 1;
        // Visits: page views with gaps under the visit gap; other requests join the visit
        // running (or last started) at their time, or the first one.
        let mut starts = vec![0usize];
        for i in 1..pages.len() {
            if pages[i].ts - pages[i - 1].ts >= VISIT_GAP_MS {
                starts.push(i);
            }
        }
        let first_visit = out.len();
        for (v, &s) in starts.iter().enumerate() {
            let end = starts.get(v + 1).copied().unwrap_or(pages.len());
            let (first, last) = (pages[s], pages[end - 1]);
            let source = match first.source {
                None => DIRECT,
                Some(s) if s == INTERNAL => DIRECT,
                Some(s) => s,
            };
            out.push(Visit {
                site: site.to_string(),
                visitor,
                entry: first.path.unwrap_or("/").to_string(),
                exit: last.path.unwrap_or("/").to_string(),
                source: source.to_string(),
                utm: utm_of(first),
                browser: first.browser.to_string(),
                os: first.os.to_string(),
                device: first.device.to_string(),
                country: first.country.map(str::to_string),
                pageviews: (end - s) as u32,
                duration_s: ((last.ts - first.ts) / 1000) as u32,
                hits: Vec::new(),
            });
        }
        let starts_ts: Vec<i64> = starts.iter().map(|&s| pages[s].ts).collect();
        for e in evs {
            let v = starts_ts.partition_point(|&t| t <= e.ts).saturating_sub(1);
            out[first_visit + v].hits.push(Hit {
                path: e.path.unwrap_or("/").to_string(),
                method: e.method,
                status: e.status,
                page: e.kind == Kind::Page as u8,
                hour: clock.of(e.ts) as u8,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::aggregate::tests::ev;

    #[test]
    fn visits_with_their_pages_and_other_requests_and_no_bots() {
        let mut post = ev(3, 1, "/signup");
        post.kind = Kind::Other as u8;
        post.method = 2;
        let mut css = ev(1, 1, "/style.css");
        css.kind = Kind::Asset as u8;
        let mut bot = ev(2, 2, "/");
        bot.bot = 1;
        let events = [
            ev(0, 1, "/"),
            css,
            post,
            ev(5, 1, "/thanks"),
            ev(100, 1, "/later"),
            bot,
        ];
        let v = visits(&events, chrono_tz::UTC);
        assert_eq!(v.len(), 2, "two visits of one visitor, none of the bot");
        assert_eq!(
            (&*v[0].entry, &*v[0].exit, v[0].pageviews),
            ("/", "/thanks", 2)
        );
        assert_eq!(v[0].duration_s, 300);
        let paths: Vec<&str> = v[0].hits.iter().map(|h| h.path.as_str()).collect();
        assert_eq!(paths, ["/", "/signup", "/thanks"], "no stylesheet");
        assert!(!v[0].hits[1].page);
        assert_eq!(
            (&*v[1].entry, v[1].pageviews, v[1].visitor),
            ("/later", 1, 0)
        );
    }

    #[test]
    fn visitors_are_numbered_per_site_in_order_of_arrival() {
        let events = [ev(10, 7, "/a"), ev(0, 9, "/b")];
        let v = visits(&events, chrono_tz::UTC);
        assert_eq!((&*v[0].entry, v[0].visitor), ("/b", 0));
        assert_eq!((&*v[1].entry, v[1].visitor), ("/a", 1));
    }
}
