//! End-to-end tests of `logtally rollup` on real databases built by `logtally import`.

mod common;

use std::path::Path;

use chrono::{TimeZone, Utc};
use common::genlog::{generate, Config};
use common::{json, Env};
use predicates::prelude::*;
use rusqlite::Connection;
use serde_json::Value;

fn import(env: &Env, file: &Path, tz: &str) {
    env.cmd()
        .args(["import", "--tz", tz, "--db"])
        .arg(env.db())
        .arg(file)
        .assert()
        .success();
}

fn rollup(env: &Env, args: &[&str]) -> Value {
    json(
        env.cmd()
            .args(["rollup", "--json", "--db"])
            .arg(env.db())
            .args(args),
        0,
    )
}

/// A combined line at a UTC time.
fn line(ts: chrono::DateTime<Utc>, ip: &str, path: &str) -> String {
    format!(
        "{ip} - - [{}] \"GET {path} HTTP/1.1\" 200 512 \"-\" \"{}\"\n",
        ts.format("%d/%b/%Y:%H:%M:%S +0000"),
        common::firefox_at(ts.timestamp_millis())
    )
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn totals(db: &Path, day: &str) -> (i64, i64, i64, i64) {
    Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT pageviews, visitors, visits, bounces FROM daily_totals WHERE day = ?1",
            [day],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap()
}

/// (day, page views, visitors, hits, bytes, 4xx, 5xx, visits, bounces).
type DayFigures = (String, i64, i64, i64, i64, i64, i64, i64, i64);

#[test]
fn rollup_totals_equal_a_plain_recomputation_and_a_second_run_changes_nothing() {
    let env = Env::new();
    let log = env.path("gen.log");
    let mut out = Vec::new();
    generate(
        &Config {
            lines: 60_000,
            days: 6,
            seed: 5,
            ..Config::default()
        },
        &mut out,
        None,
    )
    .unwrap();
    std::fs::write(&log, &out).unwrap();
    import(&env, &log, "UTC");
    let v = rollup(&env, &["--tz", "UTC"]);
    assert!(v["days"].as_array().unwrap().len() >= 6);
    let stored: i64 = Connection::open(env.db())
        .unwrap()
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v["events"], stored, "every stored event was read once");

    // The reference: the same figures written as one SQL query over the raw events.
    let c = Connection::open(env.db()).unwrap();
    let reference = "
        WITH e AS (SELECT date(ts / 1000, 'unixepoch') AS day, * FROM events),
        views AS (SELECT day, visitor, ts,
                         ts - lag(ts) OVER (PARTITION BY day, visitor ORDER BY ts) AS gap
                  FROM e WHERE kind = 0 AND bot = 0),
        starts AS (SELECT day, visitor, ts, sum(gap IS NULL OR gap >= 1800000) OVER (PARTITION BY day, visitor ORDER BY ts) AS visit FROM views),
        visits AS (SELECT day, visitor, visit, count(*) AS n FROM starts GROUP BY day, visitor, visit)
        SELECT e.day, sum(kind = 0 AND bot = 0), count(DISTINCT CASE WHEN kind = 0 AND bot = 0 THEN visitor END),
               count(*), sum(coalesce(bytes, 0)), sum(status BETWEEN 400 AND 499), sum(status >= 500),
               (SELECT count(*) FROM visits v WHERE v.day = e.day), (SELECT count(*) FROM visits v WHERE v.day = e.day AND n = 1)
        FROM e GROUP BY e.day ORDER BY e.day";
    let expected: Vec<DayFigures> = c
        .prepare(reference)
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let rolled: Vec<DayFigures> = c
        .prepare("SELECT day, pageviews, visitors, hits, bytes, status_4xx, status_5xx, visits, bounces FROM daily_totals ORDER BY day")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rolled, expected);
    let pages: i64 = c
        .query_row("SELECT sum(pageviews) FROM daily_pages", [], |r| r.get(0))
        .unwrap();
    let views: i64 = c
        .query_row(
            "SELECT count(*) FROM events WHERE kind = 0 AND bot = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pages, views);
    let entries: i64 = c
        .query_row("SELECT sum(visits) FROM daily_entry_pages", [], |r| {
            r.get(0)
        })
        .unwrap();
    let sources: i64 = c
        .query_row("SELECT sum(visits) FROM daily_referrers", [], |r| r.get(0))
        .unwrap();
    let visits: i64 = c
        .query_row("SELECT sum(visits) FROM daily_totals", [], |r| r.get(0))
        .unwrap();
    assert_eq!((entries, sources), (visits, visits));

    let before = common::dump_rollups(&env.db());
    let v = rollup(&env, &["--tz", "UTC"]);
    assert_eq!(
        v["days"].as_array().unwrap().len(),
        0,
        "nothing new: nothing recomputed"
    );
    rollup(&env, &["--tz", "UTC", "--rebuild"]);
    assert_eq!(
        common::dump_rollups(&env.db()),
        before,
        "a rebuild gives identical tables"
    );
}

#[test]
fn late_events_for_an_old_day_update_only_that_day() {
    let env = Env::new();
    let mut text = String::new();
    for day in 1..=4 {
        for i in 0..5 {
            text.push_str(&line(
                utc(2026, 3, day, 10, i),
                &format!("10.0.{day}.{i}"),
                "/",
            ));
        }
    }
    import(&env, &env.write("a.log", &text), "UTC");
    rollup(&env, &["--tz", "UTC"]);
    let before = common::dump_rollups(&env.db());

    // A rotated file from another server arrives late with lines of March 2.
    let late: String = (0..3)
        .map(|i| line(utc(2026, 3, 2, 18, i), &format!("10.9.9.{i}"), "/late"))
        .collect();
    import(&env, &env.write("late.log", &late), "UTC");
    let v = rollup(&env, &["--tz", "UTC"]);
    assert_eq!(v["days"], serde_json::json!(["2026-03-02"]));
    assert_eq!(totals(&env.db(), "2026-03-02").0, 8);
    let after = common::dump_rollups(&env.db());
    let changed: Vec<&String> = after.iter().filter(|r| !before.contains(r)).collect();
    assert!(
        changed.iter().all(|r| r.contains("2026-03-02")),
        "{changed:?}"
    );
}

#[test]
fn a_dst_day_keeps_every_hour_and_a_visitor_crossing_midnight_counts_on_both_days() {
    let env = Env::new();
    // Europe/Berlin leaves summer time on 2026-10-25: that local day has 25 hours,
    // from 2026-10-24T22:00Z to 2026-10-25T23:00Z.
    let text = [
        line(utc(2026, 10, 24, 21, 59), "10.1.1.1", "/before"), // Oct 24, 23:59 local
        line(utc(2026, 10, 24, 22, 10), "10.1.1.1", "/after"), // Oct 25, 00:10 local: same person, next day
        line(utc(2026, 10, 25, 0, 30), "10.1.1.2", "/a"),      // 02:30 CEST
        line(utc(2026, 10, 25, 1, 30), "10.1.1.3", "/b"),      // 02:30 CET, the repeated hour
        line(utc(2026, 10, 25, 22, 59), "10.1.1.4", "/late"),  // 23:59 CET, the 25th hour
    ]
    .concat();
    import(&env, &env.write("dst.log", &text), "Europe/Berlin");
    rollup(&env, &["--tz", "Europe/Berlin"]);
    assert_eq!(totals(&env.db(), "2026-10-24"), (1, 1, 1, 1));
    assert_eq!(totals(&env.db(), "2026-10-25"), (4, 4, 4, 4));
    let hours: Vec<(i64, i64)> = Connection::open(env.db())
        .unwrap()
        .prepare("SELECT hour, hits FROM hourly_totals WHERE day = '2026-10-25' ORDER BY hour")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        hours,
        [(0, 1), (2, 2), (23, 1)],
        "clock hours: 02:00-03:00 happened twice, and the last hour is 23"
    );
}

#[test]
fn a_31_minute_gap_splits_a_visit_and_a_29_minute_gap_does_not() {
    let env = Env::new();
    let text = [
        line(utc(2026, 5, 1, 10, 0), "10.2.2.1", "/a"),
        line(utc(2026, 5, 1, 10, 31), "10.2.2.1", "/b"), // 31 minutes: a new visit
        line(utc(2026, 5, 1, 12, 0), "10.2.2.2", "/a"),
        line(utc(2026, 5, 1, 12, 29), "10.2.2.2", "/b"), // 29 minutes: same visit
    ]
    .concat();
    import(&env, &env.write("gap.log", &text), "UTC");
    rollup(&env, &["--tz", "UTC"]);
    let (pv, visitors, visits, bounces) = totals(&env.db(), "2026-05-01");
    assert_eq!((pv, visitors, visits, bounces), (4, 2, 3, 2));
    let duration: i64 = Connection::open(env.db())
        .unwrap()
        .query_row("SELECT duration_s FROM daily_totals", [], |r| r.get(0))
        .unwrap();
    assert_eq!(duration, 29 * 60);
}

#[test]
fn rollup_runs_while_an_import_writes_and_misses_nothing() {
    let env = Env::new();
    let mut logs = Vec::new();
    for seed in 0..4u64 {
        let mut out = Vec::new();
        generate(
            &Config {
                lines: 30_000,
                days: 3,
                seed: 100 + seed,
                ..Config::default()
            },
            &mut out,
            None,
        )
        .unwrap();
        logs.push(env.write(&format!("part{seed}.log"), out));
    }
    let db = env.db();
    import(&env, &logs[0], "UTC");
    let writer = {
        let logs = logs[1..].to_vec();
        let cmd_env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        let db = db.clone();
        std::thread::spawn(move || {
            for log in logs {
                cmd_env
                    .cmd()
                    .args(["import", "--tz", "UTC", "--db"])
                    .arg(&db)
                    .arg(&log)
                    .assert()
                    .success();
            }
        })
    };
    while !writer.is_finished() {
        rollup(&env, &["--tz", "UTC"]); // exit 0 asserted: no lock error escapes
    }
    writer.join().unwrap();
    rollup(&env, &["--tz", "UTC"]);
    let c = Connection::open(&db).unwrap();
    let (rolled, events): (i64, i64) = c
        .query_row(
            "SELECT (SELECT sum(hits) FROM daily_totals), (SELECT count(*) FROM events)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(rolled, events);
}

#[test]
fn a_bad_date_or_zone_is_a_usage_error() {
    let env = Env::new();
    env.cmd()
        .args(["rollup", "--since", "yesterday", "--db"])
        .arg(env.db())
        .assert()
        .code(2);
    env.cmd()
        .args(["rollup", "--tz", "Nowhere/City", "--db"])
        .arg(env.db())
        .assert()
        .code(2);
}

#[test]
fn countries_come_from_a_geoip_database_given_at_import() {
    let env = Env::new();
    let db_file = env.write(
        "countries.mmdb",
        common::mmdb::country_db(&[("10.1.0.0", 16, "DE"), ("10.2.0.0", 16, "FR")]),
    );
    let at = |m| utc(2026, 4, 1, 10, m);
    let text = [
        line(at(0), "10.1.0.5", "/"),
        line(at(1), "10.1.0.5", "/about"),
        line(at(2), "10.1.9.9", "/"),
        line(at(3), "10.2.3.4", "/"),
        line(at(4), "10.3.0.1", "/"), // in no network: no country
    ]
    .concat();
    let log = env.write("geo.log", &text);
    env.cmd()
        .args(["import", "--tz", "UTC", "--geoip"])
        .arg(&db_file)
        .arg("--db")
        .arg(env.db())
        .arg(&log)
        .assert()
        .success();
    rollup(&env, &["--tz", "UTC"]);
    let c = Connection::open(env.db()).unwrap();
    let rows: Vec<(String, i64, i64)> = c
        .prepare("SELECT country, visitors, pageviews FROM daily_countries ORDER BY country")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        vec![("DE".to_string(), 2, 3), ("FR".to_string(), 1, 1)]
    );

    env.cmd()
        .args(["import", "--geoip"])
        .arg(env.path("missing.mmdb"))
        .arg("--db")
        .arg(env.db())
        .arg(&log)
        .assert()
        .code(1)
        .stderr(
            predicates::str::contains("cannot open the GeoIP database")
                .and(predicates::str::contains("missing.mmdb")),
        );
}
