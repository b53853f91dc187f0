//! Rollups are kept forever, so what visitors send must not grow them without bound; and the
//! hours of a day are the hours of its clock, on DST days too.

mod common;

use common::Env;
use rusqlite::Connection;

fn line(ts_ms: i64, ip: &str, path: &str, status: u16) -> String {
    let when = chrono::DateTime::from_timestamp_millis(ts_ms)
        .unwrap()
        .format("%d/%b/%Y:%H:%M:%S +0000");
    format!(
        "{ip} - - [{when}] \"GET {path} HTTP/1.1\" {status} 512 \"-\" \"{}\"\n",
        common::firefox_at(ts_ms)
    )
}

#[test]
fn random_long_paths_leave_a_bounded_rollup() {
    let env = Env::new();
    let start = 1_790_812_800_000; // 2026-10-01T00:00:00Z
    let mut text = String::new();
    let mut seed = 7u64;
    for i in 0..3_000 {
        let mut path = String::from("/");
        while path.len() < 1_024 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            path.push_str(&format!("{:016x}", seed));
        }
        text.push_str(&line(
            start + i * 20_000,
            &format!("10.1.{}.{}", i / 250, i % 250 + 1),
            &path,
            404,
        ));
    }
    let log = env.write("scan.log", &text);
    env.import_and_rollup(&log, &[]);
    let c = Connection::open(env.db()).unwrap();
    let (rows, longest, hits): (i64, i64, i64) = c
        .query_row(
            "SELECT count(*), max(length(path)), sum(hits) FROM daily_not_found",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(rows <= 101, "{rows} rows of 404 paths for one day");
    assert!(longest <= 301, "keys are cut: {longest} characters");
    assert_eq!(hits, 3_000, "nothing lost: the rest is in the other row");
    let other: i64 = c
        .query_row(
            "SELECT hits FROM daily_not_found WHERE path = '(other)'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(other, 3_000 - 100);
    drop(c);
    env.cmd()
        .args([
            "cleanup",
            "--tz",
            "UTC",
            "--keep-days",
            "1",
            "--vacuum",
            "--db",
        ])
        .arg(env.db())
        .assert()
        .success();
    let size = std::fs::metadata(env.db()).unwrap().len();
    assert!(
        size < 1_000_000,
        "3 MB of requested paths leave {size} bytes once raw events are gone"
    );
}

#[test]
fn the_hours_of_a_dst_day_are_clock_hours() {
    let env = Env::new();
    let at = |h: u32, m: u32| {
        chrono::NaiveDate::from_ymd_opt(2026, 10, 25)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis()
    };
    // 00:30 UTC is 02:30 CEST and 01:30 UTC 02:30 CET: one clock hour, twice; 22:30 UTC is 23:30.
    let mut text = String::new();
    for (ip, (h, m)) in
        ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
            .iter()
            .zip([(0, 30), (1, 30), (22, 30)])
    {
        text.push_str(&line(at(h, m), ip, "/", 200));
    }
    let log = env.write("dst.log", &text);
    env.cmd()
        .args(["import", "--tz", "Europe/Berlin", "--db"])
        .arg(env.db())
        .arg(&log)
        .assert()
        .success();
    env.cmd()
        .args(["rollup", "--tz", "Europe/Berlin", "--db"])
        .arg(env.db())
        .assert()
        .success();
    let c = Connection::open(env.db()).unwrap();
    let hours: Vec<(i64, i64)> = c
        .prepare("SELECT hour, hits FROM hourly_totals WHERE day = '2026-10-25' ORDER BY hour")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(hours, vec![(2, 2), (23, 1)]);
}
