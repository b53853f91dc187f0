//! `logtally tail` restarted after a rename rotation that its pattern does not name: lines written
//! to the renamed file after the last commit are read from the committed offset, once (issue #15,
//! case 3b). Also: a named pipe given to `tail` is refused with a clear message.

mod common;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Env, Running};

const BROWSER: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

/// A combined line stamped now, unique by its path.
fn line(tag: &str, n: u64) -> String {
    let now = chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S +0000");
    let ip = format!("10.2.{}.{}", (n / 250) % 250, n % 250);
    format!("{ip} - - [{now}] \"GET /{tag}/{n} HTTP/1.1\" 200 512 \"-\" \"{BROWSER}\"\n")
}

/// Appends the lines numbered `range` tagged `tag`.
fn append_lines(path: &Path, tag: &str, range: std::ops::RangeInclusive<u64>) {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
        .write_all(range.map(|n| line(tag, n)).collect::<String>().as_bytes())
        .unwrap();
}

/// (events, distinct paths) in the database; 0 when it does not exist yet or is locked.
fn counts(db: &Path) -> (u64, u64) {
    let Ok(c) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return (0, 0);
    };
    c.query_row(
        "SELECT count(*), count(DISTINCT path) FROM events",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap_or((0, 0))
}

/// Waits until the database holds at least `n` events (or 30 s pass) and returns the counts.
fn wait_for(db: &Path, n: u64) -> (u64, u64) {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let c = counts(db);
        if c.0 >= n || Instant::now() >= until {
            return c;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `tail` on `path` with `extra` flags, and short intervals where those do not set them.
fn tail(env: &Env, path: &Path, extra: &[&str]) -> Running {
    let db = env.db().display().to_string();
    let path = path.display().to_string();
    let mut args = vec!["tail", "--db", &db];
    for (flag, value) in [("--flush-interval", "300ms"), ("--drain-idle", "1s")] {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    args.push(&path);
    env.spawn(&args)
}

/// Asserts the database ends with exactly `total` events, each line once, and keeps that count
/// a while (nothing is read twice later).
fn assert_exactly(env: &Env, total: u64, t: &Running) {
    let got = wait_for(&env.db(), total);
    assert_eq!(
        got,
        (total, total),
        "every line exactly once; stderr:\n{}",
        t.stderr_text()
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        counts(&env.db()),
        (total, total),
        "nothing read twice; stderr:\n{}",
        t.stderr_text()
    );
}

/// Kills a tail with SIGKILL.
fn kill_9(mut t: Running) {
    t.signal(libc::SIGKILL);
    let _ = t.child.wait();
}

/// Stops a tail with SIGTERM; it must exit 0.
fn stop(mut t: Running) {
    t.signal(libc::SIGTERM);
    let code = t.wait_for_exit(Duration::from_secs(3));
    assert_eq!(code, Some(0), "stderr:\n{}", t.stderr_text());
}

/// A `logs/` folder and its `access.log`.
fn logs(env: &Env) -> (PathBuf, PathBuf) {
    let dir = env.path("logs");
    std::fs::create_dir(&dir).unwrap();
    let log = dir.join("access.log");
    (dir, log)
}

#[test]
fn rotation_while_stopped_with_writes_to_the_renamed_file_loses_nothing() {
    let env = Env::new();
    let (dir, log) = logs(&env);
    let (n, m, k) = (300, 120, 80);
    append_lines(&log, "a", 1..=n);
    let t = tail(&env, &log, &[]);
    assert_eq!(wait_for(&env.db(), n).0, n, "{}", t.stderr_text());
    kill_9(t);
    // While stopped: the server goes on writing to the renamed file until it reopens its log.
    let rotated = dir.join("access.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    append_lines(&rotated, "a", n + 1..=n + m);
    append_lines(&log, "a", n + m + 1..=n + m + k);
    let t = tail(&env, &log, &[]);
    assert_exactly(&env, n + m + k, &t);
    stop(t);
    // A later start reads neither file again.
    let t = tail(&env, &log, &[]);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(counts(&env.db()), (n + m + k, n + m + k));
    stop(t);
}

#[test]
fn kill_9_right_after_a_rename_rotation_loses_nothing() {
    let env = Env::new();
    let (dir, log) = logs(&env);
    let (n, m, k) = (400, 150, 100);
    std::fs::write(&log, "").unwrap();
    // Commits only when `n` hits wait or a rotated file has been idle for 10 s: what is read
    // after the first commit stays uncommitted until the kill.
    let t = tail(
        &env,
        &log,
        &[
            "--flush-interval",
            "10m",
            "--batch-size",
            &n.to_string(),
            "--drain-idle",
            "10s",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    append_lines(&log, "b", 1..=n);
    assert_eq!(wait_for(&env.db(), n).0, n, "{}", t.stderr_text());
    // Rename rotation: the server writes to the old file, then reopens the new one (still
    // empty, so nothing makes the tail commit what it read of the old one).
    let rotated = dir.join("access.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    append_lines(&rotated, "b", n + 1..=n + m);
    std::fs::write(&log, "").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        counts(&env.db()).0,
        n,
        "nothing after the rotation committed"
    );
    kill_9(t);
    append_lines(&log, "b", n + m + 1..=n + m + k);
    let t = tail(&env, &log, &[]);
    assert_exactly(&env, n + m + k, &t);
    stop(t);
}

#[test]
fn a_named_pipe_is_refused_with_a_clear_message() {
    let env = Env::new();
    let fifo = env.path("access.fifo");
    let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = env
        .cmd()
        .args(["tail", "--db"])
        .arg(env.db())
        .arg(&fifo)
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("named pipe") && stderr.contains("access.fifo"),
        "{stderr}"
    );
}

#[test]
fn a_glob_matching_a_named_pipe_warns_and_follows_the_files() {
    let env = Env::new();
    let (dir, log) = logs(&env);
    let fifo = dir.join("access.pipe");
    let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    append_lines(&log, "p", 1..=20);
    let t = tail(&env, &dir.join("access.*"), &[]);
    assert_exactly(&env, 20, &t);
    let stderr = t.stderr_text();
    assert_eq!(
        stderr.matches("named pipe").count(),
        1,
        "warned once: {stderr}"
    );
    stop(t);
}
