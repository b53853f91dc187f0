//! Builds the database of a year of a busy site for the report benchmarks (`benches/reports.sh`):
//! 365 days ending today, about 20,000 human page views and 9,000 visits a day, with sources,
//! campaigns, browsers and sign-ups, written through rollup's own aggregation and the store (no
//! raw events: what is left of a year once cleanup has run).
//!
//! cargo run --release --example record_year -- year.db [PAGEVIEWS_PER_DAY]

use std::path::PathBuf;

use logtally::rollup::aggregate::{aggregate, Event};
use logtally::rollup::{days, record};
use logtally::store::{rollups, Store};

#[path = "../tests/genlog/mod.rs"]
mod genlog;

/// Roughly Zipf-distributed index below `n`.
fn zipf(rng: &mut genlog::Rng, n: usize) -> usize {
    ((n as f64).powf(rng.f64()) - 1.0) as usize % n
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .expect("usage: record_year DB [PAGEVIEWS_PER_DAY]"),
    );
    let per_day: usize = args.next().map_or(20_000, |n| n.parse().expect("a number"));
    let _ = std::fs::remove_file(&path);
    let mut store = Store::open(&path).expect("database");
    let tz = chrono_tz::UTC;
    logtally::store::zone::settle(store.conn_mut(), tz).expect("zone");
    let pages: Vec<String> = (0..600)
        .map(|i| match i {
            0 => "/".to_string(),
            1 => "/pricing".into(),
            2 => "/signup".into(),
            3 => "/signup/thanks".into(),
            i => format!("/blog/post-{i}"),
        })
        .collect();
    let sources = [
        "Google",
        "Direct",
        "Hacker News",
        "DuckDuckGo",
        "Bing",
        "reddit.com",
        "lobste.rs",
        "github.com",
        "newsletter",
        "twitter",
        "Mastodon",
        "news.ycombinator.com",
    ];
    let campaigns = [
        ("newsletter", "email", "autumn-sale"),
        ("twitter", "social", "launch"),
    ];
    let browsers = [
        ("Firefox", "Linux", "Desktop"),
        ("Chrome", "Windows", "Desktop"),
        ("Safari", "iOS", "Mobile"),
        ("Chrome", "Android", "Mobile"),
        ("Edge", "Windows", "Desktop"),
    ];
    let countries = ["DE", "US", "FR", "GB", "NL", "JP", "BR", "IN"];
    let today = chrono::Utc::now().date_naive();
    let mut rng = genlog::Rng::new(7);
    let started = std::time::Instant::now();
    for back in (0..365).rev() {
        let day = today - chrono::Duration::days(back);
        let (start, _) = days::day_bounds(tz, day);
        let mut events: Vec<Event<'_>> = Vec::with_capacity(per_day + per_day / 10);
        let mut visitor = 0i64;
        while events.len() < per_day {
            visitor += 1;
            let mut ts = start + (rng.next_u64() % 80_000_000) as i64;
            let (browser, os, device) = browsers[zipf(&mut rng, browsers.len())];
            let country = countries[zipf(&mut rng, countries.len())];
            let visits = 1 + usize::from(rng.next_u64().is_multiple_of(10));
            for _ in 0..visits {
                let campaign = rng
                    .next_u64()
                    .is_multiple_of(12)
                    .then(|| campaigns[zipf(&mut rng, 2)]);
                let source = match campaign {
                    Some((s, _, _)) => Some(s),
                    None => Some(sources[zipf(&mut rng, sources.len())]).filter(|s| *s != "Direct"),
                };
                let n = 1 + zipf(&mut rng, 6);
                for k in 0..n {
                    let path = if k == 0 {
                        &pages[zipf(&mut rng, 40)]
                    } else {
                        &pages[zipf(&mut rng, pages.len())]
                    };
                    let mut e = Event {
                        ts,
                        site: "example.com",
                        path: Some(path),
                        page_key: 0,
                        source: if k == 0 { source } else { Some("Internal") },
                        referrer_host: None,
                        campaign: k == 0 && campaign.is_some(),
                        utm: campaign
                            .filter(|_| k == 0)
                            .map_or([""; 4], |(_, m, c)| [m, c, "", ""]),
                        crawler: None,
                        stale: false,
                        old: false,
                        browser,
                        os,
                        device,
                        country: Some(country),
                        agent: 1,
                        visitor,
                        status: 200,
                        bytes: 5_000,
                        kind: 0,
                        method: 1,
                        bot: 0,
                        origin: visitor,
                        traits: 0,
                    };
                    events.push(e.clone());
                    if path == "/signup/thanks" {
                        e.method = 3;
                        e.kind = 2;
                        e.status = 201;
                        e.path = Some("/signup");
                        e.ts -= 2_000;
                        events.push(e);
                    }
                    ts += 20_000 + (rng.next_u64() % 100_000) as i64;
                }
                ts += 3_600_000;
            }
        }
        let sites = aggregate(&events, tz);
        let visits = record::visits(&events, tz);
        rollups::replace_day(
            store.conn_mut(),
            &days::day_key(day),
            tz,
            0,
            &sites,
            &[],
            &logtally::model::RecordDay {
                day: days::day_number(day),
                visits,
            },
        )
        .expect("write a day");
    }

    eprintln!(
        "365 days of {per_day} page views written to {} in {:.1} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
}
