//! End-to-end tests of `logtally cleanup`: retention never deletes a day that is not rolled up.

mod common;

use std::path::Path;

use chrono::{Duration, TimeZone, Utc};
use common::genlog::{generate, Config};
use common::{json, Env};
use predicates::prelude::*;
use rusqlite::Connection;
use serde_json::Value;

fn line(ts: chrono::DateTime<Utc>, ip: &str, path: &str) -> String {
    format!(
        "{ip} - - [{}] \"GET {path} HTTP/1.1\" 200 512 \"https://www.google.com/\" \"{}\"\n",
        ts.format("%d/%b/%Y:%H:%M:%S +0000"),
        common::firefox_at(ts.timestamp_millis())
    )
}

fn import(env: &Env, file: &Path) {
    env.cmd()
        .args(["import", "--tz", "UTC", "--db"])
        .arg(env.db())
        .arg(file)
        .assert()
        .success();
}

fn rollup(env: &Env) {
    env.cmd()
        .args(["rollup", "--tz", "UTC", "--db"])
        .arg(env.db())
        .assert()
        .success()
        .stdout("");
}

fn cleanup(env: &Env, extra: &[&str]) -> Value {
    json(
        env.cmd()
            .args(["cleanup", "--json", "--tz", "UTC", "--db"])
            .arg(env.db())
            .args(extra),
        0,
    )
}

fn q(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_day_not_rolled_up_is_kept_then_goes_after_rollup_and_rollups_are_untouched() {
    let env = Env::new();
    let old = |d: u32, h: u32| Utc.with_ymd_and_hms(2020, 6, d, h, 0, 0).unwrap();
    let recent = Utc::now() - Duration::hours(2);
    let mut text = String::new();
    for d in 1..=3 {
        for i in 0..4 {
            text.push_str(&line(
                old(d, 9 + i),
                &format!("10.3.{d}.{i}"),
                &format!("/page-{d}"),
            ));
        }
    }
    text.push_str(&line(recent, "10.3.9.9", "/recent"));
    import(&env, &env.write("a.log", &text));
    rollup(&env);
    // Late lines for June 2 arrive after the rollup: that day is no longer fully rolled up.
    import(
        &env,
        &env.write("late.log", line(old(2, 20), "10.3.7.7", "/late")),
    );
    let before = common::dump_rollups(&env.db());

    let out = env
        .cmd()
        .args(["cleanup", "--json", "--tz", "UTC", "--db"])
        .arg(env.db())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["days_cleaned"],
        serde_json::json!(["2020-06-01", "2020-06-03"])
    );
    assert_eq!(v["days_kept"][0]["day"], "2020-06-02");
    assert!(String::from_utf8_lossy(&out.stderr).contains("kept the raw events of 2020-06-02"));
    assert_eq!(
        q(&env.db(), "SELECT count(*) FROM events"),
        4 + 1 + 1,
        "June 2 and today remain"
    );
    assert_eq!(
        common::dump_rollups(&env.db()),
        before,
        "cleanup never touches rollups"
    );

    rollup(&env);
    let v = cleanup(&env, &[]);
    assert_eq!(v["days_cleaned"], serde_json::json!(["2020-06-02"]));
    assert_eq!(
        q(&env.db(), "SELECT count(*) FROM events"),
        1,
        "only the recent event is left"
    );
    assert_eq!(
        q(
            &env.db(),
            "SELECT pageviews FROM daily_totals WHERE day = '2020-06-02'"
        ),
        5
    );
    assert_eq!(q(&env.db(), "SELECT sum(thinned) FROM rollup_state"), 3);

    // Old salts are gone, today's stays (with the days after it, settled ahead); paths only
    // old events used are gone.
    let today = Utc::now().timestamp_millis().div_euclid(86_400_000);
    assert_eq!(
        q(
            &env.db(),
            &format!("SELECT count(*) FROM salts WHERE day < {}", today - 2)
        ),
        0
    );
    assert_eq!(
        q(
            &env.db(),
            &format!("SELECT count(*) FROM salts WHERE day = {today}")
        ),
        1
    );
    assert_eq!(q(&env.db(), "SELECT count(*) FROM paths"), 1);
    assert!(v["dictionary_rows_deleted"].as_u64().unwrap() >= 1);

    // A rebuild leaves the cleaned days as they were.
    let before = common::dump_rollups(&env.db());
    env.cmd()
        .args(["rollup", "--rebuild", "--tz", "UTC", "--db"])
        .arg(env.db())
        .assert()
        .success();
    assert_eq!(common::dump_rollups(&env.db()), before);

    // Importing again after a cleanup still works (new dictionary ids are made).
    import(
        &env,
        &env.write("again.log", line(recent, "10.3.9.8", "/page-1")),
    );
    assert_eq!(
        q(
            &env.db(),
            "SELECT count(*) FROM events e JOIN paths p ON p.id = e.path"
        ),
        2
    );
}

#[test]
fn recent_days_are_kept_whatever_their_rollup_state() {
    let env = Env::new();
    let recent = Utc::now() - Duration::days(3);
    import(&env, &env.write("r.log", line(recent, "10.4.0.1", "/")));
    rollup(&env);
    let v = cleanup(&env, &["--keep-days", "7"]);
    assert_eq!(
        (
            v["events_deleted"].as_u64(),
            v["days_kept"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    let v = cleanup(&env, &["--keep-days", "1"]);
    assert_eq!(v["events_deleted"], 1);
}

#[test]
fn cleanup_runs_while_an_import_writes_and_loses_nothing() {
    let env = Env::new();
    let mut logs = Vec::new();
    for seed in 0..4u64 {
        let mut out = Vec::new();
        let start_ms = Utc
            .with_ymd_and_hms(2021, 1, 1 + seed as u32 * 3, 0, 0, 0)
            .unwrap()
            .timestamp_millis();
        generate(
            &Config {
                lines: 25_000,
                days: 2,
                seed: 200 + seed,
                start_ms,
                ..Config::default()
            },
            &mut out,
            None,
        )
        .unwrap();
        logs.push(env.write(&format!("p{seed}.log"), out));
    }
    import(&env, &logs[0]);
    rollup(&env);
    let db = env.db();
    let writer = {
        let logs = logs[1..].to_vec();
        let w = Env::new();
        let db = db.clone();
        std::thread::spawn(move || {
            for log in logs {
                w.cmd()
                    .args(["import", "--tz", "UTC", "--db"])
                    .arg(&db)
                    .arg(&log)
                    .assert()
                    .success();
            }
        })
    };
    while !writer.is_finished() {
        env.cmd()
            .args(["rollup", "--tz", "UTC", "--db"])
            .arg(&db)
            .assert()
            .success();
        env.cmd()
            .args(["cleanup", "--tz", "UTC", "--db"])
            .arg(&db)
            .assert()
            .code(0);
    }
    writer.join().unwrap();
    rollup(&env);
    cleanup(&env, &[]);
    assert_eq!(
        q(&db, "SELECT count(*) FROM events"),
        0,
        "every day was old, rolled up and cleaned"
    );
    let imported: i64 = logs
        .iter()
        .map(|l| {
            std::fs::read(l)
                .unwrap()
                .split(|c| *c == b'\n')
                .filter(|l| logtally::parse::Format::Combined.parse(l).is_ok())
                .count() as i64
        })
        .sum();
    assert_eq!(
        q(&db, "SELECT sum(hits) FROM daily_totals"),
        imported,
        "every hit is in the rollups"
    );
}

#[test]
fn vacuum_returns_space_and_verbose_prints_one_line() {
    let env = Env::new();
    let mut out = Vec::new();
    let start_ms = Utc
        .with_ymd_and_hms(2022, 3, 1, 0, 0, 0)
        .unwrap()
        .timestamp_millis();
    generate(
        &Config {
            lines: 50_000,
            days: 2,
            start_ms,
            ..Config::default()
        },
        &mut out,
        None,
    )
    .unwrap();
    import(&env, &env.write("v.log", out));
    rollup(&env);
    let size_before = std::fs::metadata(env.db()).unwrap().len();
    env.cmd()
        .args(["cleanup", "--vacuum", "--verbose", "--tz", "UTC", "--db"])
        .arg(env.db())
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                "^deleted [0-9,]+ events of [0-9]+ days, .* longest transaction [0-9]+ ms; .*\n$",
            )
            .unwrap(),
        );
    let size_after = std::fs::metadata(env.db()).unwrap().len();
    assert!(
        size_after * 4 < size_before,
        "{size_before} -> {size_after}"
    );
}

#[test]
fn a_locked_database_makes_rollup_and_cleanup_exit_75() {
    let env = Env::new();
    import(
        &env,
        &env.write(
            "a.log",
            line(
                Utc.with_ymd_and_hms(2020, 6, 1, 9, 0, 0).unwrap(),
                "10.5.0.1",
                "/",
            ),
        ),
    );
    let holder = Connection::open(env.db()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    for cmd in ["rollup", "cleanup"] {
        env.cmd()
            .args([cmd, "--tz", "UTC", "--db"])
            .arg(env.db())
            .assert()
            .code(75)
            .stderr(predicate::str::contains("locked"));
    }
    holder.execute_batch("ROLLBACK").unwrap();
    rollup(&env);
    assert_eq!(q(&env.db(), "SELECT count(*) FROM daily_totals"), 1);
}

#[test]
fn the_record_of_visits_outlives_raw_events_and_goes_only_when_asked() {
    let env = Env::new();
    let now = Utc::now();
    let mut text = String::new();
    for (days_ago, ip) in [(40, "10.9.0.1"), (39, "10.9.0.2"), (2, "10.9.0.3")] {
        text.push_str(&line(now - Duration::days(days_ago), ip, "/kept"));
    }
    import(&env, &env.write("a.log", &text));
    rollup(&env);
    let record_days = |db: &Path| q(db, "SELECT count(*) FROM record_days WHERE visits > 0");
    assert_eq!(record_days(&env.db()), 3);
    // Raw events go after keep_days; the record of visits stays (default: forever).
    let report = cleanup(&env, &["--keep-days", "7"]);
    assert_eq!(report["events_deleted"], 2);
    assert_eq!(record_days(&env.db()), 3);
    assert_eq!(report["record_days_deleted"], 0);
    // A page filter still answers for the cleaned days, from the record.
    let v = json(
        env.cmd()
            .args(["stats", "--tz", "UTC", "--format", "json", "--since"])
            .arg((now - Duration::days(50)).format("%Y-%m-%d").to_string())
            .args(["--filter", "page=/kept", "--db"])
            .arg(env.db()),
        0,
    );
    assert_eq!(v["overview"]["pageviews"], 3);
    let report = cleanup(&env, &["--keep-days", "7", "--record-days", "30"]);
    assert_eq!(report["record_days_deleted"], 2);
    assert_eq!(record_days(&env.db()), 1);
}
