//! Hostile values (issue #15, cases 7 and 9): out-of-range flags, variables and configuration
//! values are usage errors naming what to fix, never panics; impossible or implausible times are
//! rejected as `bad-timestamp`; the line after a hole of NULs is imported.

mod common;

use std::path::Path;

use common::{json, Env};
use predicates::prelude::*;
use rusqlite::Connection;

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// Exit code 2 (not 101) and stderr naming `names`.
fn usage_error(cmd: &mut assert_cmd::Command, names: &[&str]) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for n in names {
        assert!(stderr.contains(n), "{n:?} not in: {stderr}");
    }
}

#[test]
fn out_of_range_flags_are_usage_errors() {
    let env = Env::new();
    let log = env.write("a.log", "");
    usage_error(
        env.cmd()
            .args(["tail", "--flush-interval", "99999999999999999999s"])
            .arg(&log),
        &["--flush-interval", "100ms to 1h"],
    );
    usage_error(
        env.cmd()
            .args(["cleanup", "--keep-days", "4294967295", "--db"])
            .arg(env.db()),
        &["--keep-days", "1 to 36500"],
    );
    usage_error(
        env.cmd()
            .args(["tail", "--batch-size", "99999999999999999999"])
            .arg(&log),
        &["--batch-size", "1 to 1000000"],
    );
    usage_error(
        env.cmd().args(["live", "--interval", "1e400h"]),
        &["--interval"],
    );
    assert!(!env.db().exists());
}

#[test]
fn out_of_range_variables_are_usage_errors() {
    let env = Env::new();
    usage_error(
        env.cmd()
            .args(["stats", "--db"])
            .arg(env.db())
            .env("LOGTALLY_TAIL__FLUSH_INTERVAL", "99999999999999999999s"),
        &["LOGTALLY_TAIL__FLUSH_INTERVAL", "100ms to 1h"],
    );
    usage_error(
        env.cmd()
            .args(["cleanup", "--db"])
            .arg(env.db())
            .env("LOGTALLY_RETENTION__KEEP_DAYS", "4294967295"),
        &["LOGTALLY_RETENTION__KEEP_DAYS", "1 to 36500"],
    );
    usage_error(
        env.cmd()
            .args(["config", "check"])
            .env("LOGTALLY_TAIL__POLL_INTERVAL", "99999999999999999999h"),
        &["LOGTALLY_TAIL__POLL_INTERVAL"],
    );
    assert!(!env.db().exists());
}

#[test]
fn out_of_range_config_values_are_usage_errors_for_every_command() {
    let env = Env::new();
    let cases = [
        (
            "[tail]\nflush_interval = \"99999999999999999999s\"\n",
            ":2: tail.flush_interval",
            "100ms to 1h",
        ),
        (
            "\n[retention]\nkeep_days = 4294967295\n",
            ":3: retention.keep_days",
            "1 to 36500",
        ),
        (
            "[live]\nwindow = \"99999999999999999999m\"\n",
            ":2: live.window",
            "1s to 24h",
        ),
    ];
    for (text, key, range) in cases {
        let file = env.write("bad.toml", text);
        usage_error(
            env.cmd().args(["config", "check"]).arg(&file),
            &[key, range],
        );
        for command in [&["cleanup"][..], &["stats"], &["rollup"]] {
            usage_error(
                env.cmd()
                    .arg("--config")
                    .arg(&file)
                    .args(command)
                    .arg("--db")
                    .arg(env.db()),
                &[key, range],
            );
        }
    }
    assert!(!env.db().exists());
}

/// A combined line at `time`.
fn line(time: &str, path: &str) -> String {
    format!("203.0.113.7 - - [{time} +0000] \"GET {path} HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:147.0) Gecko/20100101 Firefox/147.0\"\n")
}

#[test]
fn impossible_and_implausible_times_are_bad_timestamps() {
    let env = Env::new();
    let log = [
        line("01/Mar/2026:10:00:00", "/a"),
        line("31/Feb/2026:10:00:01", "/feb-31"),
        line("01/Mar/2026:10:00:02", "/b"),
        line("29/Feb/2025:10:00:03", "/feb-29-2025"),
        line("01/Mar/2026:10:00:04", "/c"),
        line("01/Jan/0001:00:00:00", "/year-1"),
        line("01/Mar/2026:10:00:05", "/d"),
        line("31/Dec/9999:23:59:59", "/year-9999"),
        line("01/Mar/2026:10:00:06", "/e"),
        // A real date, but years from its neighbours.
        line("01/Mar/2031:10:00:07", "/far"),
        line("01/Mar/2026:10:00:08", "/f"),
    ]
    .concat();
    let log = env.write("times.log", log);
    let v = json(
        env.cmd()
            .args(["import", "--json", "--format", "combined", "--db"])
            .arg(env.db())
            .arg(&log),
        0,
    );
    assert_eq!(
        (v["imported"].as_u64(), v["rejected"].as_u64()),
        (Some(6), Some(5))
    );
    assert_eq!(count(&env.db(), "SELECT count(*) FROM events"), 6);
    assert_eq!(
        count(
            &env.db(),
            "SELECT coalesce(sum(count), 0) FROM rejects WHERE reason = 'bad-timestamp'"
        ),
        5
    );
    // None was rolled into March.
    assert_eq!(
        count(
            &env.db(),
            "SELECT count(*) FROM events WHERE ts >= 1772409600000"
        ),
        0,
        "no event on or after 2026-03-02"
    );
    // `check` reads the impossible dates as bad-timestamp too.
    let v = json(
        env.cmd()
            .args([
                "check",
                "--json",
                "--max-reject-ratio",
                "1",
                "--format",
                "combined",
            ])
            .arg(&log),
        0,
    );
    let bad = v["total"]["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reason"] == "bad-timestamp")
        .cloned()
        .unwrap_or_default();
    assert_eq!(bad["count"], 4, "{v:#}");
}

#[test]
fn the_line_after_a_hole_of_nuls_is_imported() {
    let env = Env::new();
    let mut data = [
        line("01/Mar/2026:10:00:00", "/a"),
        line("01/Mar/2026:10:00:01", "/b"),
    ]
    .concat()
    .into_bytes();
    // copytruncate with a writer not using O_APPEND: the file starts again with a hole of NULs
    // longer than the line limit (1 MiB), then the writer's next line.
    data.extend(std::iter::repeat_n(0u8, (1 << 20) + 4096));
    data.extend_from_slice(line("01/Mar/2026:10:00:02", "/after-hole").as_bytes());
    data.extend_from_slice(line("01/Mar/2026:10:00:03", "/c").as_bytes());
    let log = env.write("holed.log", &data);
    let v = json(
        env.cmd()
            .args(["import", "--json", "--format", "combined", "--db"])
            .arg(env.db())
            .arg(&log),
        0,
    );
    assert_eq!(
        (v["imported"].as_u64(), v["rejected"].as_u64()),
        (Some(4), Some(0)),
        "{v:#}"
    );
    assert_eq!(count(&env.db(), "SELECT count(*) FROM events"), 4);
    // Imported again: nothing new, and the whole file is covered.
    let v = json(
        env.cmd()
            .args(["import", "--json", "--format", "combined", "--db"])
            .arg(env.db())
            .arg(&log),
        0,
    );
    assert_eq!(v["imported"], 0, "{v:#}");
    assert_eq!(count(&env.db(), "SELECT count(*) FROM events"), 4);
    assert_eq!(
        count(&env.db(), "SELECT max(offset) FROM files"),
        data.len() as i64
    );
}

#[test]
fn a_valid_config_still_passes() {
    let env = Env::new();
    let file = env.write(
        "ok.toml",
        "[tail]\nflush_interval = \"1h\"\npoll_interval = \"10ms\"\n[retention]\nkeep_days = 36500\n",
    );
    env.cmd()
        .args(["config", "check"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("36500"));
}
