//! `logtally tail` end to end: the real binary following real files into a real database, through
//! appends, every rotation mode, kill -9, SIGTERM, a busy database and garbage.

mod common;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Env, Running};

const BROWSER: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

/// A combined line stamped now, unique by its path.
fn line(tag: &str, n: u64) -> String {
    line_from(
        tag,
        n,
        &format!("10.1.{}.{}", (n / 250) % 250, n % 250),
        BROWSER,
    )
}

fn line_from(tag: &str, n: u64, ip: &str, agent: &str) -> String {
    let now = chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S +0000");
    format!("{ip} - - [{now}] \"GET /{tag}/{n} HTTP/1.1\" 200 512 \"-\" \"{agent}\"\n")
}

fn append(path: &Path, text: &str) {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
        .write_all(text.as_bytes())
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

/// Waits until the database holds `n` events (or the limit passes) and returns the counts.
fn wait_for(db: &Path, n: u64, limit: Duration) -> (u64, u64) {
    let until = Instant::now() + limit;
    loop {
        let c = counts(db);
        if c.0 >= n || Instant::now() >= until {
            return c;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `logs/` folder: (folder, its `access.log`, the pattern `.../access.log*`).
fn logs(env: &Env) -> (PathBuf, PathBuf, String) {
    let dir = env.path("logs");
    std::fs::create_dir(&dir).unwrap();
    let log = dir.join("access.log");
    let pattern = format!("{}/access.log*", dir.display());
    (dir, log, pattern)
}

/// Appends the lines numbered `range` tagged `tag`.
fn append_lines(log: &Path, tag: &str, range: std::ops::RangeInclusive<u64>) {
    append(log, &range.map(|n| line(tag, n)).collect::<String>());
}

/// `tail` on `paths` with `extra` flags, and short intervals where those do not set them (clap
/// refuses a flag given twice).
fn tail(env: &Env, extra: &[&str], paths: &[&str]) -> Running {
    let db = env.db().display().to_string();
    let mut args = vec!["tail", "--db", &db];
    for (flag, value) in [("--flush-interval", "300ms"), ("--drain-idle", "1s")] {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    args.extend_from_slice(paths);
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    env.spawn(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Runs a tail on `pattern` until the database holds `total` lines, each once, then stops it.
fn tail_until(env: &Env, pattern: &str, total: u64) {
    let t = tail(env, &[], &[pattern]);
    assert_exactly_once(&env.db(), total, &t);
    stop(t);
}

/// Stops a tail with SIGTERM and asserts it exits 0 within 2 s.
fn stop(mut t: Running) {
    t.signal(libc::SIGTERM);
    let code = t.wait_for_exit(Duration::from_secs(2));
    assert_eq!(code, Some(0), "stderr:\n{}", t.stderr_text());
}

fn assert_exactly_once(db: &Path, total: u64, t: &Running) {
    let (events, distinct) = wait_for(db, total, Duration::from_secs(30));
    assert_eq!(
        (events, distinct),
        (total, total),
        "every line exactly once; stderr:\n{}",
        t.stderr_text()
    );
}

/// Shifts `access.log.N` to `.N+1`, newest first.
fn shift(dir: &Path, upto: usize) {
    for n in (1..=upto).rev() {
        let from = dir.join(format!("access.log.{n}"));
        if from.exists() {
            std::fs::rename(&from, dir.join(format!("access.log.{}", n + 1))).unwrap();
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Rotation {
    RenameCreate,
    CopyTruncate,
    DeleteRecreate,
}

/// Writes lines while rotating five times in `mode`; returns how many were written.
fn write_with_rotations(dir: &Path, mode: Rotation) -> u64 {
    let log = dir.join("access.log");
    let mut n = 0;
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    for round in 0..6 {
        for _ in 0..150 {
            n += 1;
            let l = line("r", n);
            // Now and then a line arrives in two writes.
            if n.is_multiple_of(37) {
                file.write_all(&l.as_bytes()[..20]).unwrap();
                file.flush().unwrap();
                std::thread::sleep(Duration::from_millis(5));
                file.write_all(&l.as_bytes()[20..]).unwrap();
            } else {
                file.write_all(l.as_bytes()).unwrap();
            }
            if n.is_multiple_of(10) {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        if round == 5 {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
        match mode {
            Rotation::RenameCreate => {
                shift(dir, round + 1);
                std::fs::rename(&log, dir.join("access.log.1")).unwrap();
                // The server writes to the old file until it reopens.
                for _ in 0..3 {
                    n += 1;
                    file.write_all(line("r", n).as_bytes()).unwrap();
                }
                file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .unwrap();
            }
            Rotation::CopyTruncate => {
                shift(dir, round + 1);
                std::fs::copy(&log, dir.join("access.log.1")).unwrap();
                file.set_len(0).unwrap();
            }
            Rotation::DeleteRecreate => {
                std::fs::remove_file(&log).unwrap();
                file = File::create(&log).unwrap();
            }
        }
        std::thread::sleep(Duration::from_millis(400));
    }
    n
}

fn rotation_test(mode: Rotation, pattern: &str) {
    let env = Env::new();
    let dir = env.path("logs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("access.log"), "").unwrap();
    let t = tail(&env, &[], &[&format!("{}/{pattern}", dir.display())]);
    let total = write_with_rotations(&dir, mode);
    assert_exactly_once(&env.db(), total, &t);
    // Nothing more arrives later (no file read twice once drained).
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(counts(&env.db()), (total, total), "{}", t.stderr_text());
    stop(t);
}

#[test]
fn rename_and_create_rotation_five_times() {
    rotation_test(Rotation::RenameCreate, "access.log*");
}

#[test]
fn copytruncate_rotation_five_times() {
    rotation_test(Rotation::CopyTruncate, "access.log*");
}

#[test]
fn delete_and_recreate_five_times() {
    rotation_test(Rotation::DeleteRecreate, "access.log");
}

#[test]
fn polling_alone_follows_rotation() {
    let env = Env::new();
    let dir = env.path("logs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("access.log"), "").unwrap();
    let t = tail(
        &env,
        &["--poll", "--poll-interval", "100ms"],
        &[&format!("{}/access.log*", dir.display())],
    );
    let total = write_with_rotations(&dir, Rotation::RenameCreate);
    assert_exactly_once(&env.db(), total, &t);
    stop(t);
}

#[test]
fn a_file_rotated_while_stopped_is_read_to_its_end_and_the_new_one_from_its_start() {
    let env = Env::new();
    let (dir, log, pattern) = logs(&env);
    append_lines(&log, "s", 1..=100);
    tail_until(&env, &pattern, 100);
    // While stopped: more lines, then a rotation, then lines in the new file.
    append_lines(&log, "s", 101..=150);
    std::fs::rename(&log, dir.join("access.log.1")).unwrap();
    append_lines(&log, "s", 151..=200);
    tail_until(&env, &pattern, 200);
    // Replaced while stopped by a shorter file: read from 0, nothing of the old one again.
    std::fs::remove_file(dir.join("access.log.1")).unwrap();
    std::fs::write(&log, line("s", 201)).unwrap();
    tail_until(&env, &pattern, 201);
}

#[test]
fn kill_9_twenty_times_loses_and_repeats_nothing() {
    let env = Env::new();
    let log = env.path("access.log");
    std::fs::write(&log, "").unwrap();
    let stop_writer = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (log, stop_writer) = (log.clone(), stop_writer.clone());
        std::thread::spawn(move || {
            let mut f = OpenOptions::new().append(true).open(&log).unwrap();
            let mut n = 0u64;
            while !stop_writer.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let l = line("k", n);
                if n.is_multiple_of(7) {
                    f.write_all(&l.as_bytes()[..30]).unwrap();
                    std::thread::sleep(Duration::from_millis(1));
                    f.write_all(&l.as_bytes()[30..]).unwrap();
                } else {
                    f.write_all(l.as_bytes()).unwrap();
                }
                if n.is_multiple_of(20) {
                    std::thread::sleep(Duration::from_millis(3));
                }
            }
            n
        })
    };
    let path = log.display().to_string();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20 {
        let t = tail(&env, &["--flush-interval", "150ms"], &[&path]);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(100 + seed % 500));
        t.signal(libc::SIGKILL);
        drop(t);
    }
    stop_writer.store(true, std::sync::atomic::Ordering::Relaxed);
    let total = writer.join().unwrap();
    let t = tail(&env, &[], &[&path]);
    assert_exactly_once(&env.db(), total, &t);
    stop(t);
}

#[test]
fn sigterm_commits_what_was_read_and_exits_0() {
    let env = Env::new();
    let log = env.path("access.log");
    std::fs::write(&log, "").unwrap();
    let db = env.db().display().to_string();
    let path = log.display().to_string();
    // A flush interval far longer than the test: only the signal can commit.
    let t = env.spawn(&["tail", "--db", &db, "--flush-interval", "10m", &path]);
    std::thread::sleep(Duration::from_millis(500));
    append_lines(&log, "t", 1..=500);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        counts(&env.db()).0,
        0,
        "nothing committed before the signal"
    );
    let started = Instant::now();
    stop(t);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(counts(&env.db()), (500, 500));
}

#[test]
fn a_busy_database_pauses_tail_without_loss_or_exit() {
    let env = Env::new();
    let log = env.path("access.log");
    std::fs::write(&log, line("b", 0)).unwrap();
    let t = tail(&env, &[], &[&log.display().to_string()]);
    assert_eq!(wait_for(&env.db(), 1, Duration::from_secs(10)).0, 1);
    // Another writer holds the lock for 3 s (as a long import or cleanup transaction would),
    // and a reader keeps reading.
    let db = env.db();
    let holder = std::thread::spawn(move || {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        std::thread::sleep(Duration::from_secs(3));
        c.execute_batch("COMMIT").unwrap();
    });
    let import = env.write(
        "old.log",
        (1..=2000).map(|n| line("old", n)).collect::<String>(),
    );
    std::thread::sleep(Duration::from_millis(200));
    append_lines(&log, "b", 1..=1000);
    let reader_db = env.db();
    let reader = std::thread::spawn(move || {
        // A stats-like reader: long read transactions all along.
        let c = rusqlite::Connection::open(&reader_db).unwrap();
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            let _: i64 = c
                .query_row(
                    "SELECT count(*) FROM events, (SELECT 1 UNION SELECT 2)",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
        }
    });
    let mut t = t;
    std::thread::sleep(Duration::from_millis(1500));
    assert!(t.is_running(), "tail must not exit: {}", t.stderr_text());
    holder.join().unwrap();
    reader.join().unwrap();
    env.cmd()
        .args(["import", "--db"])
        .arg(env.db())
        .arg(&import)
        .assert()
        .success();
    assert_exactly_once(&env.db(), 3001, &t);
    assert!(t.is_running());
    let err = t.stderr_text();
    assert!(
        err.contains("cannot commit"),
        "the failure is logged: {err}"
    );
    assert_eq!(
        err.matches("cannot commit").count(),
        1,
        "logged once, not per retry: {err}"
    );
    assert!(err.contains("nothing was lost"), "{err}");
    stop(t);
}

#[test]
fn garbage_binary_a_10_mb_line_and_a_truncated_last_line_are_survived() {
    let env = Env::new();
    let log = env.path("access.log");
    let mut f = File::create(&log).unwrap();
    f.write_all(line("g", 1).as_bytes()).unwrap();
    f.write_all(b"this is not a log line\n").unwrap();
    f.write_all(&[0xff, 0xfe, 0x00, 0x01, 0x80, b'\n']).unwrap();
    f.write_all(&vec![b'x'; 10 << 20]).unwrap();
    f.write_all(b"\n").unwrap();
    f.write_all(line("g", 2).as_bytes()).unwrap();
    let last = line("g", 3);
    f.write_all(&last.as_bytes()[..40]).unwrap();
    drop(f);
    let t = tail(&env, &[], &[&log.display().to_string()]);
    assert_eq!(wait_for(&env.db(), 2, Duration::from_secs(20)), (2, 2));
    std::thread::sleep(Duration::from_millis(700));
    stop(t);
    assert_eq!(counts(&env.db()).0, 2, "the unfinished line waits");
    let c = rusqlite::Connection::open(env.db()).unwrap();
    let rejects: i64 = c
        .query_row("SELECT sum(count) FROM rejects", [], |r| r.get(0))
        .unwrap();
    let too_long: i64 = c
        .query_row(
            "SELECT count FROM rejects WHERE reason = 'too-long'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((rejects, too_long), (3, 1));
    // The rest of the last line arrives after a restart: it is read whole.
    append(&log, &last[40..]);
    let t = tail(&env, &[], &[&log.display().to_string()]);
    assert_eq!(wait_for(&env.db(), 3, Duration::from_secs(20)), (3, 3));
    stop(t);
}

#[test]
fn from_end_skips_history_but_reads_new_lines() {
    let env = Env::new();
    let log = env.path("access.log");
    append_lines(&log, "e", 1..=50);
    let t = tail(&env, &["--from", "end"], &[&log.display().to_string()]);
    std::thread::sleep(Duration::from_millis(500));
    append_lines(&log, "e", 51..=60);
    assert_eq!(wait_for(&env.db(), 10, Duration::from_secs(10)), (10, 10));
    std::thread::sleep(Duration::from_millis(500));
    stop(t);
    assert_eq!(counts(&env.db()).0, 10);
}

fn live_json(env: &Env) -> serde_json::Value {
    common::json(
        env.cmd()
            .args(["live", "--once", "--json", "--db"])
            .arg(env.db()),
        0,
    )
}

#[test]
fn live_shows_visitors_now_without_bots_and_forgets_them_after_the_window() {
    let env = Env::new();
    let log = env.path("access.log");
    std::fs::write(&log, "").unwrap();
    env.cmd()
        .args(["live", "--once", "--db"])
        .arg(env.db())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("no `logtally tail` is serving"));
    let t = tail(
        &env,
        &["--live-window", "3s"],
        &[&log.display().to_string()],
    );
    std::thread::sleep(Duration::from_millis(300));
    append(&log, &line_from("page", 1, "192.0.2.1", BROWSER));
    append(&log, &line_from("page", 2, "192.0.2.2", BROWSER));
    append(&log, &line_from("page", 1, "192.0.2.3", BROWSER));
    append(
        &log,
        &line_from(
            "page",
            9,
            "192.0.2.4",
            "Mozilla/5.0 (compatible; Googlebot/2.1)",
        ),
    );
    // A scraper: 70 requests within a minute.
    for n in 0..70 {
        append(&log, &line_from("scraped", n, "192.0.2.5", BROWSER));
    }
    std::thread::sleep(Duration::from_millis(600));
    let snap = live_json(&env);
    assert_eq!(snap["visitors"], 3, "{snap:#}");
    assert_eq!(snap["flagged_by_rate"], 1, "{snap:#}");
    let pages = &snap["sites"][0]["pages"];
    assert_eq!(pages[0]["name"], "/page/1", "{snap:#}");
    assert_eq!(pages[0]["visitors"], 2);
    assert!(
        !snap.to_string().contains("scraped") && !snap.to_string().contains("/page/9"),
        "bots never appear: {snap:#}"
    );
    let table = env
        .cmd()
        .args(["live", "--once", "--db"])
        .arg(env.db())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("3 visitors now"), "{text}");
    std::thread::sleep(Duration::from_millis(3200));
    assert_eq!(live_json(&env)["visitors"], 0, "past the window");
    stop(t);
    // The scraper's rows from the 61st on are stored as flagged by rate (reason 30).
    let c = rusqlite::Connection::open(env.db()).unwrap();
    let flagged: i64 = c
        .query_row("SELECT count(*) FROM events WHERE bot = 30", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(flagged, 10);
    let _: PathBuf = env.db();
}

#[test]
fn two_files_with_the_same_first_line_are_both_read() {
    let env = Env::new();
    let first = line("same", 0);
    let a = env.write("a.log", format!("{first}{}", line("a", 1)));
    let b = env.write("b.log", format!("{first}{}", line("b", 1)));
    let t = tail(&env, &[], &[&env.path("*.log").display().to_string()]);
    let (events, _) = wait_for(&env.db(), 4, Duration::from_secs(15));
    assert_eq!(events, 4, "{}", t.stderr_text());
    append(&a, &line("a", 2));
    append(&b, &line("b", 2));
    assert_eq!(wait_for(&env.db(), 6, Duration::from_secs(15)).0, 6);
    std::thread::sleep(Duration::from_millis(500));
    stop(t);
    assert_eq!(
        counts(&env.db()),
        (6, 5),
        "the shared first line is one path, read twice"
    );
}

#[test]
fn sighup_reopens_without_losing_or_repeating_lines() {
    let env = Env::new();
    let log = env.path("access.log");
    append_lines(&log, "h", 1..=100);
    let t = tail(&env, &[], &[&log.display().to_string()]);
    assert_eq!(wait_for(&env.db(), 100, Duration::from_secs(10)).0, 100);
    for round in 0..3 {
        for n in 0..50 {
            append(&log, &line("h", 1000 + round * 50 + n));
        }
        t.signal(libc::SIGHUP);
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_exactly_once(&env.db(), 250, &t);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(counts(&env.db()), (250, 250));
    let mut t = t;
    assert!(t.is_running());
    stop(t);
}

#[test]
fn under_systemd_it_notifies_ready_watchdog_status_and_logs_for_journald() {
    let env = Env::new();
    let socket_path = env.path("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let log = env.path("access.log");
    append(&log, &line("n", 1));
    let db = env.db().display().to_string();
    let t = env.spawn_with_env(
        &["tail", "--db", &db, &log.display().to_string()],
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "200000"),
            ("JOURNAL_STREAM", "8:12345"),
        ],
    );
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until
        && !(seen.contains("READY=1") && seen.contains("WATCHDOG=1") && seen.contains("STATUS="))
    {
        if let Ok(n) = socket.recv(&mut buf) {
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            seen.push('\n');
        }
    }
    assert!(seen.contains("READY=1"), "{seen}");
    assert!(seen.contains("WATCHDOG=1"), "{seen}");
    assert!(seen.contains("STATUS=1 files, "), "{seen}");
    stop(t);
    let mut rest = String::new();
    while let Ok(n) = socket.recv(&mut buf) {
        rest.push_str(&String::from_utf8_lossy(&buf[..n]));
        if rest.contains("STOPPING=1") {
            break;
        }
    }
    assert!(rest.contains("STOPPING=1"), "{rest}");
    let err = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("stderr-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect::<String>();
    assert!(
        err.lines()
            .all(|l| l.starts_with("<6>") || l.starts_with("<4>")),
        "journald lines carry a priority and no timestamp: {err}"
    );
    assert!(err.contains("<6>following "), "{err}");
}

#[test]
fn several_rotations_between_two_polls_lose_nothing() {
    let env = Env::new();
    let dir = env.path("logs");
    std::fs::create_dir(&dir).unwrap();
    let log = dir.join("access.log");
    append(&log, &line("p", 0));
    let t = tail(
        &env,
        &["--poll", "--poll-interval", "2s"],
        &[&format!("{}/access.log*", dir.display())],
    );
    assert_eq!(wait_for(&env.db(), 1, Duration::from_secs(10)).0, 1);
    // Three rename rotations within one poll interval, lines in every generation.
    let mut n = 0;
    for round in 0..3 {
        for _ in 0..20 {
            n += 1;
            append(&log, &line("p", n));
        }
        shift(&dir, round + 1);
        std::fs::rename(&log, dir.join("access.log.1")).unwrap();
    }
    for _ in 0..20 {
        n += 1;
        append(&log, &line("p", n));
    }
    assert_exactly_once(&env.db(), n + 1, &t);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(counts(&env.db()), (n + 1, n + 1));
    stop(t);
}

#[test]
fn caddy_roll_rename_gzip_delete_is_followed() {
    let env = Env::new();
    let dir = env.path("logs");
    std::fs::create_dir(&dir).unwrap();
    let log = dir.join("access.log");
    let t = tail(&env, &[], &[&log.display().to_string()]);
    let mut n = 0;
    for round in 0..3 {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        for _ in 0..50 {
            n += 1;
            f.write_all(line("c", n).as_bytes()).unwrap();
        }
        std::thread::sleep(Duration::from_millis(300));
        // Caddy: rename to a timestamped name, write on in the new file, gzip and delete the
        // renamed one.
        let rolled = dir.join(format!("access-2026-11-25T10-0{round}.log"));
        std::fs::rename(&log, &rolled).unwrap();
        for _ in 0..5 {
            n += 1;
            f.write_all(line("c", n).as_bytes()).unwrap();
        }
        let data = std::fs::read(&rolled).unwrap();
        let mut gz = flate2::write::GzEncoder::new(
            File::create(rolled.with_extension("log.gz")).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(&data).unwrap();
        gz.finish().unwrap();
        std::fs::remove_file(&rolled).unwrap();
    }
    assert_exactly_once(&env.db(), n, &t);
    stop(t);
}

#[test]
fn copytruncate_while_stopped_with_longer_new_content() {
    let env = Env::new();
    let (dir, log, pattern) = logs(&env);
    append_lines(&log, "w", 1..=30);
    tail_until(&env, &pattern, 30);
    append_lines(&log, "w", 31..=40);
    std::fs::copy(&log, dir.join("access.log.1")).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append_lines(&log, "w", 41..=200);
    let t = tail(&env, &[], &[&pattern]);
    assert_exactly_once(&env.db(), 200, &t);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(counts(&env.db()), (200, 200));
    stop(t);
}

#[test]
fn copytruncate_with_a_writer_not_using_o_append_skips_the_nul_hole() {
    let env = Env::new();
    let log = env.path("access.log");
    // A writer that keeps its own offset (no O_APPEND), as some loggers do.
    let mut writer = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&log)
        .unwrap();
    for n in 1..=40 {
        writer.write_all(line("o", n).as_bytes()).unwrap();
    }
    let t = tail(&env, &[], &[&log.display().to_string()]);
    assert_exactly_once(&env.db(), 40, &t);
    // logrotate copytruncate: the copy is taken, the file cut to 0; the writer goes on at its
    // old offset, leaving a hole of NULs before its next lines.
    std::fs::copy(&log, env.path("access.log.1")).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    for n in 41..=60 {
        writer.write_all(line("o", n).as_bytes()).unwrap();
    }
    writer.flush().unwrap();
    assert_exactly_once(&env.db(), 60, &t);
    let c = rusqlite::Connection::open(env.db()).unwrap();
    let rejects: i64 = c
        .query_row("SELECT coalesce(sum(count), 0) FROM rejects", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(rejects, 0, "the hole is skipped, not read as a line");
    stop(t);
}

#[test]
fn metrics_count_what_tail_read_rejected_and_committed() {
    let env = Env::new();
    let log = env.path("access.log");
    let mut text = String::new();
    for n in 0..5 {
        text.push_str(&line_from(
            "page",
            n,
            &format!("192.0.2.{}", n + 1),
            BROWSER,
        ));
    }
    text.push_str(&line_from(
        "page",
        9,
        "192.0.2.9",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    ));
    text.push_str("this is no access log line\n");
    std::fs::write(&log, text).unwrap();
    let mut t = tail(
        &env,
        &["--live-http", "127.0.0.1:0"],
        &[&log.display().to_string()],
    );
    let until = Instant::now() + Duration::from_secs(20);
    let addr = loop {
        let err = t.stderr_text();
        if let Some(rest) = err.split("serving http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
        assert!(Instant::now() < until && t.is_running(), "{err}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(wait_for(&env.db(), 6, Duration::from_secs(15)).0, 6);
    let get = || {
        use std::io::Read;
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = get();
        if text.contains("logtally_tail_lines_committed_total 7") {
            break text;
        }
        assert!(Instant::now() < deadline, "{text}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(text.contains("application/openmetrics-text"), "{text}");
    for line in [
        "logtally_tail_lines_read_total 7",
        "logtally_tail_hits_committed_total 6",
        "logtally_tail_human_pageviews_total{site=\"default\"} 5",
        "logtally_tail_bot_hits_total{site=\"default\",reason=\"ua-search\"} 1",
        "logtally_tail_waiting_rows 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    assert!(
        text.lines().any(
            |l| l.starts_with("logtally_tail_lines_rejected_total{reason=") && l.ends_with(" 1")
        ),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"));
    stop(t);
}
