//! Who is on the site now, as `serve` knows it: one snapshot of every site from the running
//! `tail`'s socket, fetched at most once a second however many clients ask (the dashboard's now
//! panel, `/api/live.json` for a site's "N reading now"), and cut to the site, page and length
//! each asks for. `tail` answers its socket from a few threads: a thousand widgets polling must
//! not become a thousand socket requests.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::answers::Weigh;
use crate::live::socket;
use crate::live::state::{Count, SiteNow, Snapshot};

/// How long one snapshot answers for.
pub const SNAPSHOT_TTL: Duration = Duration::from_secs(1);
/// Rows per list fetched from `tail` (pages, sources, browsers of each site): enough to answer
/// "how many on this page" for any page with a reader.
const FETCH_TOP: usize = 1000;

/// A snapshot, or why there is none.
#[derive(Debug)]
pub struct Now(pub Result<Snapshot, String>);

impl Weigh for Now {
    fn weight(&self) -> usize {
        match &self.0 {
            Ok(s) => {
                s.sites
                    .iter()
                    .map(|site| {
                        (site.pages.len() + site.sources.len() + site.browsers.len()) * 48
                            + site.per_minute.len() * 24
                    })
                    .sum::<usize>()
                    + 128
            }
            Err(e) => e.len() + 64,
        }
    }
}

/// Asks the running `tail` on `socket_path` (blocking: at most the socket's time-outs).
pub fn fetch(socket_path: &Path) -> Now {
    let req = socket::Request {
        site: None,
        top: Some(FETCH_TOP),
    };
    Now(socket::fetch(socket_path, &req).map_err(|_| {
        format!(
            "no `logtally tail` is running for this database (no answer on {}): the live view needs one",
            socket_path.display()
        )
    }))
}

fn cut(list: &[Count], top: usize) -> Vec<Count> {
    list.iter()
        .take(top)
        .map(|c| Count {
            name: c.name.clone(),
            visitors: c.visitors,
        })
        .collect()
}

/// The snapshot as `/live.json` shapes it, for one site or all, with `top` rows per list, and
/// the visitors on `page` when one is named.
pub fn view(snap: &Snapshot, site: Option<&str>, page: Option<&str>, top: usize) -> Value {
    let sites: Vec<&SiteNow> = snap
        .sites
        .iter()
        .filter(|s| site.is_none_or(|w| s.site == w))
        .collect();
    let visitors: u64 = sites.iter().map(|s| s.visitors).sum();
    let shown: Vec<SiteNow> = sites
        .iter()
        .map(|s| SiteNow {
            site: s.site.clone(),
            visitors: s.visitors,
            pages: cut(&s.pages, top),
            sources: cut(&s.sources, top),
            browsers: cut(&s.browsers, top),
            per_minute: s
                .per_minute
                .iter()
                .map(|m| crate::live::state::Minute {
                    minute: m.minute,
                    requests: m.requests,
                    pageviews: m.pageviews,
                })
                .collect(),
        })
        .collect();
    let mut v = json!({
        "schema_version": crate::report::json::SCHEMA_VERSION,
        "now": snap.now,
        "window_seconds": snap.window_seconds,
        "visitors": visitors,
        "flagged_by_rate": snap.flagged_by_rate,
        "sites": shown,
    });
    if let Some(p) = page {
        let on_page: u64 = sites
            .iter()
            .flat_map(|s| s.pages.iter())
            .filter(|c| c.name == p)
            .map(|c| c.visitors)
            .sum();
        v["page"] = json!({"page": p, "visitors": on_page});
    }
    v
}

/// The dashboard's now panel: visitors of `site` (or all) and their five busiest pages.
pub fn panel(snap: &Snapshot, site: Option<&str>) -> (u64, Vec<(String, u64)>) {
    let sites: Vec<&SiteNow> = snap
        .sites
        .iter()
        .filter(|s| site.is_none_or(|w| s.site == w))
        .collect();
    let mut pages: Vec<(String, u64)> = sites
        .iter()
        .flat_map(|s| s.pages.iter().map(|c| (c.name.clone(), c.visitors)))
        .collect();
    pages.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    pages.truncate(5);
    (sites.iter().map(|s| s.visitors).sum(), pages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::state::Minute;

    fn snapshot() -> Snapshot {
        let count = |name: &str, visitors| Count {
            name: name.into(),
            visitors,
        };
        let site = |name: &str, pages: Vec<Count>| SiteNow {
            site: name.into(),
            visitors: pages.iter().map(|c| c.visitors).sum(),
            pages,
            sources: vec![count("Google", 1)],
            browsers: vec![count("Firefox", 1)],
            per_minute: vec![Minute {
                minute: 0,
                requests: 3,
                pageviews: 2,
            }],
        };
        Snapshot {
            now: 1,
            window_seconds: 300,
            visitors: 6,
            flagged_by_rate: 0,
            sites: vec![
                site("a.example", vec![count("/", 3), count("/post", 2)]),
                site("b.example", vec![count("/post", 1)]),
            ],
        }
    }

    #[test]
    fn a_view_is_cut_to_its_site_page_and_length() {
        let snap = snapshot();
        let all = view(&snap, None, Some("/post"), 10);
        assert_eq!(all["visitors"], 6);
        assert_eq!(all["page"]["visitors"], 3, "both sites' readers of /post");
        let a = view(&snap, Some("a.example"), Some("/post"), 1);
        assert_eq!(a["visitors"], 5);
        assert_eq!(a["page"], json!({"page": "/post", "visitors": 2}));
        assert_eq!(a["sites"][0]["pages"].as_array().unwrap().len(), 1);
        assert!(view(&snap, None, None, 10).get("page").is_none());
        assert_eq!(view(&snap, Some("nobody.example"), None, 10)["visitors"], 0);
        assert_eq!(
            panel(&snap, None),
            (
                6,
                vec![("/".into(), 3), ("/post".into(), 2), ("/post".into(), 1)]
            )
        );
    }
}
