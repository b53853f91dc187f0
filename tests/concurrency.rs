//! Several real `logtally` processes on one database at once, as systemd, cron and people run
//! them: nothing lost, nothing counted twice, no finished rollup destroyed. Each race is run
//! several times, since one lucky interleaving proves nothing.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::Env;
use rusqlite::Connection;

/// 2026-10-01T00:00:00Z.
const START_MS: i64 = 1_790_812_800_000;
const DAY_MS: i64 = 86_400_000;

/// A log of `days` days: `per_day` people a day, each reading three pages with their images,
/// lines in time order. Returns the text and the distinct (address, agent) pairs of each day.
fn people_log(days: i64, per_day: u32) -> (String, BTreeMap<i64, usize>) {
    let mut lines: Vec<(i64, String)> = Vec::new();
    let mut pairs: BTreeMap<i64, HashSet<(String, String)>> = BTreeMap::new();
    for day in 0..days {
        for p in 0..per_day {
            let ip = format!("10.{}.{}.{}", day % 200, p / 250, p % 250 + 1);
            let ts0 = START_MS + day * DAY_MS + (p as i64 * 997) % (DAY_MS - 3_600_000);
            let agent = common::firefox_at(ts0);
            pairs
                .entry(day)
                .or_default()
                .insert((ip.clone(), agent.clone()));
            for (k, path) in ["/", "/blog/post-1", "/about"].iter().enumerate() {
                let ts = ts0 + k as i64 * 40_000;
                let when = chrono::DateTime::from_timestamp_millis(ts)
                    .unwrap()
                    .format("%d/%b/%Y:%H:%M:%S +0000");
                let referer = if k == 0 {
                    "https://news.ycombinator.com/".to_string()
                } else {
                    "https://example.com/".to_string()
                };
                lines.push((ts, format!("{ip} - - [{when}] \"GET {path} HTTP/1.1\" 200 5120 \"{referer}\" \"{agent}\"\n")));
                lines.push((ts + 300, format!("{ip} - - [{when}] \"GET /style.css HTTP/1.1\" 200 900 \"https://example.com{path}\" \"{agent}\"\n")));
            }
        }
    }
    lines.sort_by_key(|(ts, _)| *ts);
    let text = lines.into_iter().map(|(_, l)| l).collect();
    (text, pairs.into_iter().map(|(d, s)| (d, s.len())).collect())
}

/// `logtally ARGS` started in the background, with the test environment.
fn start(env: &Env, args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("logtally"))
        .args(args)
        .env_clear()
        .env("HOME", env.dir.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .current_dir(env.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start logtally")
}

/// Waits for a background run; it must succeed.
fn finish(child: Child) {
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Distinct visitor hashes per day (UTC) among the raw events.
fn visitors_per_day(db: &Path) -> BTreeMap<i64, usize> {
    let c = Connection::open(db).unwrap();
    let mut stmt = c
        .prepare("SELECT (ts - ?1) / ?2, count(DISTINCT visitor) FROM events GROUP BY 1")
        .unwrap();
    stmt.query_map([START_MS, DAY_MS], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as usize))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn q(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn two_imports_side_by_side_hash_each_day_with_one_salt() {
    let (log, expected) = people_log(2, 1_500);
    for round in 0..4 {
        let env = Env::new();
        let (mut odd, mut even) = (String::new(), String::new());
        for (i, line) in log.lines().enumerate() {
            let half = if i % 2 == 0 { &mut even } else { &mut odd };
            half.push_str(line);
            half.push('\n');
        }
        let a = env.write("odd.log", odd);
        let b = env.write("even.log", even);
        let db = env.db();
        let db = db.to_str().unwrap();
        let first = start(
            &env,
            &["import", "--tz", "UTC", "--db", db, a.to_str().unwrap()],
        );
        let second = start(
            &env,
            &["import", "--tz", "UTC", "--db", db, b.to_str().unwrap()],
        );
        finish(first);
        finish(second);
        assert_eq!(
            visitors_per_day(&env.db()),
            expected,
            "round {round}: one visitor per address and agent a day"
        );
        let first_day = START_MS / DAY_MS;
        assert_eq!(
            q(
                &env.db(),
                &format!(
                    "SELECT count(*) FROM salts WHERE day IN ({first_day}, {})",
                    first_day + 1
                )
            ),
            2,
            "one salt for each day of the log"
        );
    }
}

#[test]
fn an_idle_tail_and_an_import_of_today_share_the_salt() {
    // Lines of the last hour: the salt of today, which the idle tail may hold in memory.
    let now = chrono::Utc::now().timestamp_millis();
    for round in 0..3 {
        let env = Env::new();
        let watched = env.write("access.log", "");
        let db = env.db();
        let db = db.to_str().unwrap();
        let mut tail = env.spawn(&[
            "tail",
            "--tz",
            "UTC",
            "--db",
            db,
            "--flush-interval",
            "200ms",
            watched.to_str().unwrap(),
        ]);
        std::thread::sleep(std::time::Duration::from_millis(800));
        let mut tail_text = String::new();
        let mut import_text = String::new();
        for p in 0..200 {
            let ts = now - 3_000_000 + p * 1_000;
            let when = chrono::DateTime::from_timestamp_millis(ts)
                .unwrap()
                .format("%d/%b/%Y:%H:%M:%S +0000");
            let agent = common::firefox_at(ts);
            // The same people, other pages: the two files must not look like one file.
            for (text, path) in [(&mut tail_text, "/"), (&mut import_text, "/about")] {
                text.push_str(&format!(
                    "10.9.{}.{} - - [{when}] \"GET {path} HTTP/1.1\" 200 5120 \"-\" \"{agent}\"\n",
                    p / 100,
                    p % 100 + 1
                ));
            }
        }
        let file = env.write("today.log", &import_text);
        let import = start(
            &env,
            &["import", "--tz", "UTC", "--db", db, file.to_str().unwrap()],
        );
        std::fs::write(&watched, &tail_text).unwrap();
        finish(import);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while q(&env.db(), "SELECT count(*) FROM events") < 400 {
            assert!(
                std::time::Instant::now() < deadline,
                "tail committed its lines"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        tail.signal(libc::SIGTERM);
        assert_eq!(
            tail.wait_for_exit(std::time::Duration::from_secs(10)),
            Some(0)
        );
        assert_eq!(
            q(&env.db(), "SELECT count(DISTINCT visitor) FROM events"),
            200,
            "round {round}: the same 200 people, read by tail and by import"
        );
    }
}

#[test]
fn a_rebuild_beside_cleanup_never_replaces_a_day_with_part_of_it() {
    let (log, _) = people_log(12, 700);
    let env = Env::new();
    let file = env.write("a.log", &log);
    env.import_and_rollup(&file, &[]);
    let totals = |db: &Path| -> (i64, i64) {
        let c = Connection::open(db).unwrap();
        c.query_row(
            "SELECT count(*), coalesce(sum(pageviews), 0) FROM daily_totals",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let before = totals(&env.db());
    assert_eq!(before, (12, 12 * 700 * 3), "every day, every page view");
    let db = env.db();
    let db = db.to_str().unwrap();
    for round in 0..3 {
        let rebuild = start(&env, &["rollup", "--tz", "UTC", "--rebuild", "--db", db]);
        std::thread::sleep(std::time::Duration::from_millis(50 * round));
        let cleanup = start(
            &env,
            &["cleanup", "--tz", "UTC", "--keep-days", "1", "--db", db],
        );
        finish(rebuild);
        finish(cleanup);
        assert_eq!(
            totals(&env.db()),
            before,
            "round {round}: every day's rollup survives, whole"
        );
        // The next round rebuilds from nothing but final days: reload the raw events.
        if round < 2 {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{db}{suffix}"));
            }
            env.import_and_rollup(&file, &[]);
        }
    }
}

#[test]
fn a_restarted_tail_hashes_late_lines_of_an_old_day_with_that_days_salt() {
    let env = Env::new();
    let old_day = chrono::Utc::now().timestamp_millis() - 5 * DAY_MS;
    let lines = |path: &str| -> String {
        (0..10)
            .map(|p| {
                let ts = old_day + p * 60_000;
                let when = chrono::DateTime::from_timestamp_millis(ts)
                    .unwrap()
                    .format("%d/%b/%Y:%H:%M:%S +0000");
                format!(
                    "10.7.0.{} - - [{when}] \"GET {path} HTTP/1.1\" 200 5120 \"-\" \"{}\"\n",
                    p + 1,
                    common::firefox_at(ts)
                )
            })
            .collect()
    };
    let log = env.write("access.log", lines("/"));
    let db = env.db();
    let args = [
        "tail",
        "--tz",
        "UTC",
        "--flush-interval",
        "200ms",
        "--db",
        db.to_str().unwrap(),
        log.to_str().unwrap(),
    ];
    let wait_for = |n: i64| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let count = || {
            Connection::open(env.db())
                .and_then(|c| c.query_row("SELECT count(*) FROM events", [], |r| r.get(0)))
                .unwrap_or(0i64)
        };
        while count() < n {
            assert!(
                std::time::Instant::now() < deadline,
                "tail committed {n} events"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    for (round, path) in ["/", "/later"].iter().enumerate() {
        if round > 0 {
            let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            std::io::Write::write_all(&mut f, lines(path).as_bytes()).unwrap();
        }
        let mut tail = env.spawn(&args);
        wait_for(10 * (round as i64 + 1));
        tail.signal(libc::SIGTERM);
        assert_eq!(
            tail.wait_for_exit(std::time::Duration::from_secs(10)),
            Some(0)
        );
    }
    assert_eq!(
        q(&env.db(), "SELECT count(DISTINCT visitor) FROM events"),
        10,
        "the same ten people before and after the restart"
    );
}

#[test]
fn cleanup_makes_no_day_final_while_an_import_runs() {
    let (log, _) = people_log(3, 200);
    let env = Env::new();
    let first = env.write("first.log", &log);
    env.import_and_rollup(&first, &[]);
    let db = env.db();
    let db = db.to_str().unwrap();
    // An import reading stdin runs until its input ends: hold it open while cleanup runs.
    let mut import = Command::new(assert_cmd::cargo::cargo_bin("logtally"))
        .args(["import", "--tz", "UTC", "--db", db, "-"])
        .env_clear()
        .env("HOME", env.dir.path())
        .current_dir(env.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while q(&env.db(), "SELECT count(*) FROM imports") == 0 {
        assert!(std::time::Instant::now() < deadline, "the import registers");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = env
        .cmd()
        .args([
            "cleanup",
            "--tz",
            "UTC",
            "--keep-days",
            "1",
            "--json",
            "--db",
            db,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["events_deleted"], 0, "{report}");
    assert!(
        report["days_kept"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("an import is running"),
        "{report}"
    );
    drop(import.stdin.take());
    assert!(import.wait().unwrap().success());
    let out = env
        .cmd()
        .args([
            "cleanup",
            "--tz",
            "UTC",
            "--keep-days",
            "1",
            "--json",
            "--db",
            db,
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["days_cleaned"].as_array().unwrap().len(),
        3,
        "{report}"
    );
}
