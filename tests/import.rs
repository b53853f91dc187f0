//! End-to-end tests of `logtally import`: the real binary, real files, a real SQLite database.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::genlog::Config;
use common::{fixture, json, Env};
use predicates::prelude::*;
use rusqlite::Connection;
use serde_json::Value;

fn import(env: &Env, files: &[&Path], code: i32) -> Value {
    let mut cmd = env.cmd();
    cmd.arg("import")
        .arg("--json")
        .arg("--db")
        .arg(env.db())
        .args(files);
    json(&mut cmd, code)
}

/// A generated combined log of `lines` lines written to `name`: its path and its bytes.
fn generated_log(env: &Env, name: &str, lines: u64, seed: u64) -> (std::path::PathBuf, Vec<u8>) {
    let out = common::genlog::generate_to_vec(&Config {
        lines,
        seed,
        ..Config::default()
    });
    (env.write(name, &out), out)
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn gzip(src: &Path, dst: &Path) {
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(dst).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(src).unwrap()).unwrap();
    enc.finish().unwrap();
}

/// Every (file, line) of a generated log, as the events table should hold them: the time of each
/// parsed line, so "exactly once" can be checked line by line.
fn parsed_times(log: &[u8]) -> Vec<i64> {
    log.split(|c| *c == b'\n')
        .filter_map(|l| {
            logtally::parse::Format::Combined
                .parse(l)
                .ok()
                .map(|h| h.ts_ms)
        })
        .collect()
}

fn stored_times(db: &Path) -> Vec<i64> {
    let c = Connection::open(db).unwrap();
    let mut stmt = c.prepare("SELECT ts FROM events ORDER BY id").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn counts_in_the_database_equal_the_parsed_lines_of_the_fixtures() {
    let env = Env::new();
    let names = [
        "nginx-combined-bots.log",
        "apache-combined-truncated.log",
        "nginx-combined-gzip-garbage.log",
        "caddy-json-crowdsec.log",
    ];
    let paths: Vec<_> = names.iter().map(|n| fixture(n)).collect();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let v = import(&env, &refs, 0);
    assert_eq!(v["imported"], 900 + 100 + 170 + 16);
    assert_eq!(v["rejected"], 1 + 30 + 1);
    assert_eq!(count(&env.db(), "SELECT count(*) FROM events"), 1186);
    assert_eq!(count(&env.db(), "SELECT count(*) FROM files"), 4);
    assert_eq!(count(&env.db(), "SELECT sum(count) FROM rejects"), 32);
    let formats: Vec<&str> = v["per_file"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["combined", "combined", "combined", "caddy"]);
    // The Caddy file's host field names its site; the others have no host field.
    assert_eq!(
        count(
            &env.db(),
            "SELECT count(*) FROM sites WHERE name = 'default'"
        ),
        1
    );
    assert!(count(&env.db(), "SELECT count(*) FROM sites") >= 2);
}

#[test]
fn importing_twice_adds_nothing_and_appending_adds_only_the_new_lines() {
    let env = Env::new();
    let log = env.path("access.log");
    let all = std::fs::read(fixture("nginx-combined-bots.log")).unwrap();
    let cut = all
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == b'\n')
        .nth(499)
        .unwrap()
        .0
        + 1;
    std::fs::write(&log, &all[..cut]).unwrap();

    let v = import(&env, &[&log], 0);
    assert_eq!(
        (v["imported"].as_u64(), v["already_imported"].as_u64()),
        (Some(500), Some(0))
    );
    let v = import(&env, &[&log], 0);
    assert_eq!(
        (v["imported"].as_u64(), v["already_imported"].as_u64()),
        (Some(0), Some(500))
    );

    std::fs::write(&log, &all).unwrap();
    let v = import(&env, &[&log], 0);
    assert_eq!(
        (v["imported"].as_u64(), v["already_imported"].as_u64()),
        (Some(400), Some(500))
    );
    assert_eq!(count(&env.db(), "SELECT count(*) FROM events"), 900);
    assert_eq!(stored_times(&env.db()), parsed_times(&all));
}

#[test]
fn rotated_and_gzipped_copies_are_recognised() {
    let env = Env::new();
    let log = env.path("access.log");
    std::fs::copy(fixture("nginx-combined-bots.log"), &log).unwrap();
    import(&env, &[&log], 0);

    // logrotate: access.log -> access.log.1 -> access.log.2.gz
    let rotated = env.path("access.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    let gz = env.path("access.log.2.gz");
    gzip(&rotated, &gz);
    let v = import(&env, &[&rotated, &gz], 0);
    assert_eq!(v["imported"], 0);
    assert_eq!(v["already_imported"], 1800);
    assert_eq!(count(&env.db(), "SELECT count(*) FROM events"), 900);

    // A gzip of a file that is imported first adds nothing either way round.
    let env = Env::new();
    let gz = env.path("old.log.gz");
    gzip(&fixture("apache-combined-ipv6.log"), &gz);
    import(&env, &[&gz], 0);
    let v = import(&env, &[&fixture("apache-combined-ipv6.log")], 0);
    assert_eq!(
        (v["imported"].as_u64(), v["already_imported"].as_u64()),
        (Some(0), Some(101))
    );
}

#[test]
fn a_different_file_with_the_same_first_line_is_imported_in_full() {
    let env = Env::new();
    let first = "1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"UA\"\n";
    let a = env.write(
        "a.log",
        format!("{first}{}", first.replace("GET /", "GET /a")),
    );
    let b = env.write(
        "b.log",
        format!(
            "{first}{}{}",
            first.replace("GET /", "GET /b"),
            first.replace("GET /", "GET /c")
        ),
    );
    import(&env, &[&a], 0);
    let v = import(&env, &[&b], 0);
    assert_eq!(
        v["imported"], 3,
        "the marker check tells b.log apart from a.log"
    );
    assert_eq!(count(&env.db(), "SELECT count(*) FROM events"), 5);
}

#[test]
fn stdin_is_imported_once_and_an_unfinished_last_line_waits() {
    let env = Env::new();
    let data = std::fs::read(fixture("apache-combined-ipv6.log")).unwrap();
    for expected in [101, 0] {
        let v = json(
            env.cmd()
                .args(["import", "--json", "--db"])
                .arg(env.db())
                .arg("-")
                .write_stdin(data.clone()),
            0,
        );
        assert_eq!(v["imported"], expected);
    }

    let env = Env::new();
    let line = "1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] \"GET /x HTTP/1.1\" 200 5 \"-\" \"UA\"";
    let log = env.write("live.log", format!("{line}\n{line}"));
    let v = import(&env, &[&log], 0);
    assert_eq!(v["imported"], 1);
    assert_eq!(v["per_file"][0]["held_back_bytes"], line.len());
    std::fs::write(&log, format!("{line}\n{line}\n")).unwrap();
    let v = import(&env, &[&log], 0);
    assert_eq!(
        (v["imported"].as_u64(), v["already_imported"].as_u64()),
        (Some(1), Some(1))
    );
}

#[test]
fn no_column_anywhere_holds_an_ip_address() {
    let env = Env::new();
    let (log, out) = generated_log(&env, "gen.log", 5_000, Config::default().seed);
    let f = fixture("nginx-combined-gzip-garbage.log"); // rejects: samples are stored
    let m = fixture("caddy-json-mirror.log"); // IPv6 and proxy addresses
    let bad = env.write("bad.log", "198.51.100.1 - - [01/Sep/2022:22:12:45 +0000] \"GET / HTTP/1.1\" 200 5\n203.0.113.77 - - [not a time] \"GET / HTTP/1.1\" 200 5 \"http://[2001:db8::99]/\"\n");
    import(&env, &[&log, &f, &m, &bad], 0);

    let mut addresses: Vec<String> = Vec::new();
    let inputs = [
        (out, logtally::parse::Format::Combined),
        (
            std::fs::read(&f).unwrap(),
            logtally::parse::Format::Combined,
        ),
        (std::fs::read(&m).unwrap(), logtally::parse::Format::Caddy),
        (
            std::fs::read(&bad).unwrap(),
            logtally::parse::Format::Combined,
        ),
    ];
    for (data, format) in &inputs {
        for line in data.split(|c| *c == b'\n') {
            if let Ok(hit) = format.parse(line) {
                addresses.push(String::from_utf8_lossy(&hit.addr).into_owned());
            }
        }
        // Rejected lines carry addresses too; they must be redacted in the samples.
        for line in data
            .split(|c| *c == b'\n')
            .filter(|l| format.parse(l).is_err())
        {
            if let Some(first) = line.split(|c| *c == b' ').next() {
                let s = String::from_utf8_lossy(first).into_owned();
                if s.parse::<std::net::IpAddr>().is_ok() {
                    addresses.push(s);
                }
            }
        }
    }
    addresses.push("2001:db8::99".into());
    addresses.sort();
    addresses.dedup();
    assert!(
        addresses.len() > 500,
        "the test log has many client addresses: {}",
        addresses.len()
    );

    let c = Connection::open(env.db()).unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut text = String::new();
    for t in &tables {
        let mut stmt = c.prepare(&format!("SELECT * FROM {t}")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..n {
                match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                        text.push_str(&String::from_utf8_lossy(b));
                        text.push('\n');
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(
        text.contains("<ip>"),
        "reject samples were stored, redacted"
    );
    for ip in &addresses {
        assert!(!text.contains(ip.as_str()), "{ip} found in the database");
    }
}

#[test]
fn kill_dash_nine_during_a_large_import_then_a_rerun_gives_every_line_once() {
    let env = Env::new();
    let (log, out) = generated_log(&env, "big.log", 400_000, 9);
    let expected = parsed_times(&out);

    let mut killed = 0;
    for delay_ms in [150u64, 300, 450] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("logtally"))
            .args(["import", "--db"])
            .arg(env.db())
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
    }
    assert!(killed > 0, "at least one import was killed mid-way");
    let v = import(&env, &[&log], 0);
    assert_eq!(
        v["already_imported"].as_u64().unwrap() + v["lines"].as_u64().unwrap(),
        400_000
    );
    assert_eq!(
        stored_times(&env.db()),
        expected,
        "every line exactly once, in order"
    );
}

#[test]
fn an_unreadable_file_is_named_and_the_others_still_import() {
    let env = Env::new();
    let good = fixture("apache-combined-ipv6.log");
    let missing = env.path("nope.log");
    let out = env
        .cmd()
        .args(["import", "--json", "--db"])
        .arg(env.db())
        .arg(&missing)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read") && stderr.contains("nope.log"),
        "{stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["imported"].as_u64(), v["failed_files"].as_u64()),
        (Some(101), Some(1))
    );
}

#[test]
fn a_locked_database_exits_75_and_commits_nothing() {
    let env = Env::new();
    let log = fixture("apache-combined-ipv6.log");
    import(&env, &[&fixture("nginx-combined-error-lines.log")], 0);
    let holder = Connection::open(env.db()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    env.cmd()
        .args(["import", "--db"])
        .arg(env.db())
        .arg(&log)
        .assert()
        .code(75)
        .stderr(predicate::str::contains("locked").or(predicate::str::contains("busy")));
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    let v = import(&env, &[&log], 0);
    assert_eq!(
        v["imported"], 101,
        "nothing of the failed run was committed"
    );
}

#[test]
fn the_database_goes_where_the_environment_says() {
    let env = Env::new();
    let f = fixture("caddy-json-mirror.log");
    env.cmd()
        .arg("import")
        .arg(&f)
        .env("LOGTALLY_DB", env.path("from-env.db"))
        .assert()
        .success();
    assert!(env.path("from-env.db").exists());
    if running_as_root() {
        return; // root's default is /var/lib/logtally, which tests must not touch
    }
    env.cmd().arg("import").arg(&f).assert().success();
    assert!(
        env.path("data/logtally/logtally.db").exists(),
        "XDG_DATA_HOME is the default for users"
    );
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

#[test]
fn a_full_disk_is_a_clear_error_and_the_next_run_resumes_exactly() {
    use std::os::unix::process::CommandExt;
    let env = Env::new();
    let (log, out) = generated_log(&env, "big.log", 60_000, 3);
    import(&env, &[&fixture("apache-combined-ipv6.log")], 0); // the database exists and is small

    // A 1 MiB file-size limit makes SQLite's writes fail as on a full disk.
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("logtally"));
    cmd.args(["import", "--json", "--db"])
        .arg(env.db())
        .arg(&log);
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1 << 20,
                rlim_max: 1 << 20,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let failed = cmd.output().unwrap();
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("cannot write") && stderr.contains("big.log"),
        "{stderr}"
    );
    assert!(
        stderr.contains("check free space") || stderr.contains("disk is full"),
        "{stderr}"
    );
    assert!(stderr.contains("the next run resumes there"), "{stderr}");
    let partial = count(&env.db(), "SELECT count(*) FROM events") - 101;
    assert!(
        partial > 0 && partial < 60_000,
        "the limit stopped the import part-way ({partial} rows)"
    );
    let summary: Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(
        summary["imported"].as_i64(),
        Some(partial),
        "the summary counts what was committed before the failure"
    );

    let v = import(&env, &[&log], 0);
    assert_eq!(
        v["already_imported"].as_u64().unwrap() + v["lines"].as_u64().unwrap(),
        60_000
    );
    let mut expected = parsed_times(&std::fs::read(fixture("apache-combined-ipv6.log")).unwrap());
    expected.extend(parsed_times(&out));
    assert_eq!(
        stored_times(&env.db()),
        expected,
        "every line exactly once after the failure"
    );
}

#[test]
fn two_imports_of_the_same_file_at_once_still_give_every_line_once() {
    let env = Env::new();
    let (log, out) = generated_log(&env, "big.log", 150_000, 21);
    let spawn = || {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("logtally"))
            .args(["import", "--db"])
            .arg(env.db())
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    import(&env, &[&fixture("apache-combined-ipv6.log")], 0); // the schema exists before the race
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        a.status.success() || b.status.success(),
        "at least one import finishes"
    );
    for o in [&a, &b] {
        if !o.status.success() {
            assert!(
                String::from_utf8_lossy(&o.stderr).contains("another logtally process is reading"),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    import(&env, &[&log], 0); // whatever was left
    let mut expected = parsed_times(&std::fs::read(fixture("apache-combined-ipv6.log")).unwrap());
    expected.extend(parsed_times(&out));
    assert_eq!(stored_times(&env.db()), expected, "every line exactly once");
}

#[test]
fn chunks_parsed_on_many_threads_are_stored_in_file_order() {
    let env = Env::new();
    // About 6 chunks of 2 MiB.
    let (log, out) = generated_log(&env, "many-chunks.log", 60_000, 4);
    let mut cmd = env.cmd();
    cmd.env("RAYON_NUM_THREADS", "4")
        .args(["import", "--json", "--db"])
        .arg(env.db())
        .arg(&log);
    let v = json(&mut cmd, 0);
    assert_eq!(v["lines"], 60_000);
    assert_eq!(stored_times(&env.db()), parsed_times(&out));
}

#[test]
fn the_shorter_of_two_files_with_the_same_first_line_still_imports_its_new_lines() {
    let env = Env::new();
    let first = "1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"UA\"\n";
    let other = |p: &str| first.replace("GET /", &format!("GET /{p}"));
    let long = env.write("a.log", format!("{first}{}{}", other("a1"), other("a2")));
    let short = env.write("b.log", format!("{first}{}", other("b1")));
    import(&env, &[&long, &short], 0);
    std::fs::write(&short, format!("{first}{}{}", other("b1"), other("b2"))).unwrap();
    let v = import(&env, &[&short], 0);
    assert_eq!(
        (v["imported"].as_u64(), v["already_imported"].as_u64()),
        (Some(1), Some(2)),
        "b.log is shorter than a.log's offset but continues its own record"
    );
    assert_eq!(count(&env.db(), "SELECT count(*) FROM events"), 6);
}

#[test]
fn a_new_database_folder_is_not_open_to_all_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let env = Env::new();
    let db = env.path("var/lib/logtally/logtally.db");
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("logtally"));
    cmd.args(["import", "--db"])
        .arg(&db)
        .arg(fixture("apache-combined-ipv6.log"));
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    assert!(cmd.output().unwrap().status.success());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(db.parent().unwrap()), 0o750);
    assert_eq!(mode(&env.path("var")), 0o750);
    assert_eq!(mode(&db), 0o640);
}
