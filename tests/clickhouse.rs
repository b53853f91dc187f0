//! `import --store clickhouse://...` on a real clickhouse-server: every line once, judged as
//! SQLite's import judges it, a batch sent again counted once, and a refused batch moving no
//! file's offset.

mod common;

use common::clickhouse::Server;
use common::{fixture, Env};

/// (bot reason, kind) -> rows, as `sql` lists them (`bot \t kind \t count` lines).
fn verdicts(lines: &str) -> Vec<(u64, u64, u64)> {
    let mut v: Vec<(u64, u64, u64)> = lines
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<u64> = l.split(['\t', '|']).map(|x| x.parse().unwrap()).collect();
            (f[0], f[1], f[2])
        })
        .collect();
    v.sort();
    v
}

fn sqlite(db: &std::path::Path, sql: &str) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((0..r.as_ref().column_count())
                .map(|i| r.get::<_, i64>(i).unwrap().to_string())
                .collect::<Vec<_>>()
                .join("\t"))
        })
        .unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
}

#[test]
fn a_log_imported_into_clickhouse_is_each_line_once_with_the_verdicts_of_sqlite() {
    let env = Env::new();
    let server = Server::start(&env.path("ch"));
    let log = fixture("nginx-combined-bots.log");
    let store = server.url("lt");
    let out = env
        .cmd()
        .args(["import", "--tz", "UTC", "--db"])
        .arg(env.path("collector.db"))
        .args(["--store", &store])
        .arg(&log)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains("900 imported") && text.contains(&store),
        "{text}"
    );
    assert_eq!(server.number("SELECT count() FROM lt.events FINAL"), 900);
    // The collector keeps the files' progress, not the rows.
    assert_eq!(
        sqlite(&env.path("collector.db"), "SELECT count(*) FROM events"),
        "0"
    );
    assert_eq!(
        sqlite(&env.path("collector.db"), "SELECT lines FROM files"),
        "900"
    );

    // The same log into SQLite: the same verdicts, line for line.
    env.cmd()
        .args(["import", "--tz", "UTC", "--db"])
        .arg(env.db())
        .arg(&log)
        .assert()
        .success();
    let in_sqlite = verdicts(&sqlite(
        &env.db(),
        "SELECT bot, kind, count(*) FROM events GROUP BY bot, kind",
    ));
    let in_clickhouse = verdicts(
        &server
            .query("SELECT bot, kind, count() FROM lt.events FINAL GROUP BY bot, kind")
            .unwrap(),
    );
    assert_eq!(in_clickhouse, in_sqlite);
    assert_eq!(
        server.number("SELECT uniqExact(visitor) FROM lt.events FINAL WHERE bot = 0"),
        sqlite(
            &env.db(),
            "SELECT count(DISTINCT visitor) FROM events WHERE bot = 0"
        )
        .parse::<u64>()
        .unwrap()
    );

    // Run again: nothing new is sent.
    env.cmd()
        .args(["import", "--tz", "UTC", "--db"])
        .arg(env.path("collector.db"))
        .args(["--store", &store])
        .arg(&log)
        .assert()
        .success()
        .stdout(predicates::str::contains("0 imported"));
    assert_eq!(server.number("SELECT count() FROM lt.events"), 900);

    // A collector that lost its progress sends every batch again (the same file, so the same
    // file record): stored twice, counted once.
    env.cmd()
        .args(["import", "--tz", "UTC", "--db"])
        .arg(env.path("collector-again.db"))
        .args(["--store", &store])
        .arg(&log)
        .assert()
        .success();
    assert_eq!(server.number("SELECT count() FROM lt.events FINAL"), 900);
    assert!(server.number("SELECT count() FROM lt.events") >= 900);
}

#[test]
fn a_batch_clickhouse_refuses_moves_no_offset_and_lands_once_it_takes_it() {
    let env = Env::new();
    let mut server = Server::start(&env.path("ch"));
    let store = server.url("lt");
    let log = env.write(
        "access.log",
        std::fs::read(fixture("nginx-combined-bots.log")).unwrap(),
    );
    // A table that cannot take the rows (a column missing): the insert is refused.
    server.query("CREATE DATABASE lt").unwrap();
    server
        .query("CREATE TABLE lt.events (date Date, line UInt64) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(date) ORDER BY (date, line)")
        .unwrap();
    let collector = env.path("collector.db");
    let import = || {
        let mut c = env.cmd();
        c.args(["import", "--tz", "UTC", "--db"])
            .arg(&collector)
            .args(["--store", &store])
            .arg(&log);
        c
    };
    import()
        .assert()
        .code(75)
        .stderr(predicates::str::contains("did not take the batch"))
        .stderr(predicates::str::contains("the next run resumes there"));
    assert_eq!(
        sqlite(&collector, "SELECT offset, lines FROM files"),
        "0\t0"
    );

    // The table put right, and the server restarted: the next run sends every line once.
    server.query("DROP TABLE lt.events").unwrap();
    server.restart();
    import().assert().success();
    assert_eq!(server.number("SELECT count() FROM lt.events FINAL"), 900);
    assert_eq!(sqlite(&collector, "SELECT lines FROM files"), "900");
}

#[test]
fn a_store_that_does_not_answer_is_exit_75_and_a_bad_address_a_usage_error() {
    let env = Env::new();
    let log = fixture("nginx-combined-bots.log");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.cmd()
        .args(["import", "--tz", "UTC", "--store"])
        .arg(format!("clickhouse://127.0.0.1:{closed}/lt"))
        .arg(&log)
        .assert()
        .code(75)
        .stderr(predicates::str::contains(
            "is clickhouse-server running there?",
        ));
    env.cmd()
        .args([
            "import",
            "--tz",
            "UTC",
            "--store",
            "http://127.0.0.1:8123/lt",
        ])
        .arg(&log)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("clickhouse://HOST:PORT/DATABASE"));
}

/// A line of the writer's, each with its own path.
fn numbered(n: u64) -> String {
    let now = chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S +0000");
    format!(
        "10.2.{}.{} - - [{now}] \"GET /k/{n} HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0\"\n",
        (n / 250) % 250,
        n % 250
    )
}

#[test]
fn tail_into_clickhouse_survives_kill_9_and_a_server_restart_with_every_line_once() {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    let env = Env::new();
    let mut server = Server::start(&env.path("ch"));
    let store = server.url("lt");
    let log = env.path("access.log");
    std::fs::write(&log, "").unwrap();
    let stop_writer = std::sync::Arc::new(AtomicBool::new(false));
    let writer = {
        let (log, stop_writer) = (log.clone(), stop_writer.clone());
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            let mut n = 0u64;
            while !stop_writer.load(Ordering::Relaxed) {
                n += 1;
                f.write_all(numbered(n).as_bytes()).unwrap();
                if n.is_multiple_of(20) {
                    std::thread::sleep(Duration::from_millis(3));
                }
            }
            n
        })
    };
    let db = env.db().display().to_string();
    let path = log.display().to_string();
    let tail = || {
        env.spawn(&[
            "tail",
            "--db",
            &db,
            "--store",
            &store,
            "--flush-interval",
            "200ms",
            &path,
        ])
    };
    for round in 0..6 {
        let t = tail();
        std::thread::sleep(Duration::from_millis(300 + 110 * round));
        if round == 3 {
            // The server goes away under a running tail and comes back: its batches wait.
            server.restart();
            std::thread::sleep(Duration::from_millis(300));
        }
        t.signal(libc::SIGKILL);
        drop(t);
    }
    stop_writer.store(true, Ordering::Relaxed);
    let total = writer.join().unwrap();
    let mut t = tail();
    let until = Instant::now() + Duration::from_secs(60);
    let count = |sql: &str| {
        server
            .query(sql)
            .ok()
            .and_then(|a| a.trim().parse::<u64>().ok())
    };
    while count("SELECT count() FROM lt.events FINAL") != Some(total) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        (
            count("SELECT count() FROM lt.events FINAL"),
            count("SELECT uniqExact(path) FROM lt.events FINAL")
        ),
        (Some(total), Some(total)),
        "every line once; stderr:\n{}",
        t.stderr_text()
    );
    t.signal(libc::SIGTERM);
    assert_eq!(t.wait_for_exit(Duration::from_secs(5)), Some(0));
}

/// Imports `logs` into SQLite (`env.db()`) and into ClickHouse store `lt`, and rolls up both.
fn both_stores(env: &Env, server: &Server, logs: &[std::path::PathBuf]) -> String {
    let store = server.url("lt");
    for log in logs {
        env.cmd()
            .args(["import", "--tz", "UTC", "--db"])
            .arg(env.db())
            .arg(log)
            .assert()
            .success();
        env.cmd()
            .args(["import", "--tz", "UTC", "--db"])
            .arg(env.path("collector.db"))
            .args(["--store", &store])
            .arg(log)
            .assert()
            .success();
    }
    env.cmd()
        .args(["rollup", "--tz", "UTC", "--db"])
        .arg(env.db())
        .assert()
        .success();
    env.cmd()
        .args(["rollup", "--tz", "UTC", "--db"])
        .arg(env.path("collector.db"))
        .args(["--store", &store])
        .assert()
        .success();
    store
}

/// `stats --format json ARGS` of the SQLite database, and of the ClickHouse store.
fn stats_of_both(env: &Env, store: &str, args: &[&str]) -> (serde_json::Value, serde_json::Value) {
    let run = |extra: Vec<String>| {
        let mut cmd = env.cmd();
        cmd.args(["stats", "--tz", "UTC", "--no-refresh", "--format", "json"])
            .args(extra)
            .args(args);
        common::json(&mut cmd, 0)
    };
    let db = env.db().to_string_lossy().into_owned();
    (
        run(vec!["--db".into(), db]),
        run(vec!["--store".into(), store.into()]),
    )
}

#[test]
fn reports_of_a_clickhouse_store_are_those_of_sqlite_figure_for_figure() {
    let env = Env::new();
    let server = Server::start(&env.path("ch"));
    let people = env.write("people.log", common::three_days_of_people(7, "/blog/ch"));
    let logs = [
        people,
        fixture("nginx-combined-bots.log"),
        fixture("apache-combined-ipv6.log"),
        fixture("nginx-main-forwarded.log"),
    ];
    let store = both_stores(&env, &server, &logs);
    let every_section: Vec<String> = {
        let (sqlite, _) = stats_of_both(&env, &store, &["--period", "all"]);
        let pageviews = sqlite["overview"]["pageviews"].as_u64().unwrap();
        assert!(pageviews > 150, "{pageviews}");
        vec!["--period".into(), "all".into()]
    };
    let every: Vec<&str> = every_section.iter().map(String::as_str).collect();
    // The store's answers are its own: an empty store beside it has none of them.
    assert!(server.number("SELECT count() FROM lt.daily_pages") > 10);
    let (_, empty) = stats_of_both(&env, &server.url("lt_empty"), &every);
    assert_eq!(empty["overview"]["pageviews"], 0, "{}", empty["overview"]);
    let sections = [
        "overview",
        "pages",
        "entry-pages",
        "exit-pages",
        "sources",
        "campaigns",
        "browsers",
        "os",
        "devices",
        "countries",
        "status",
        "not-found",
        "bots",
        "hours",
    ];
    let cases: Vec<Vec<&str>> = vec![
        every.clone(),
        [every.clone(), sections.to_vec()].concat(),
        vec![
            "--since",
            "2026-11-03",
            "--until",
            "2026-11-04",
            "overview",
            "pages",
            "sources",
        ],
        vec![
            "--period",
            "all",
            "--filter",
            "source=Hacker News",
            "overview",
            "pages",
        ],
        vec![
            "--period",
            "all",
            "--filter",
            "page=/pricing",
            "--goal",
            "Read=/blog/*",
        ],
        vec![
            "--period",
            "all",
            "--filter",
            "page!=/",
            "entry-pages",
            "browsers",
            "hours",
        ],
    ];
    for args in cases {
        let (sqlite, clickhouse) = stats_of_both(&env, &store, &args);
        if clickhouse != sqlite {
            panic!(
                "stats {args:?}:\nSQLite:     {}\nClickHouse: {}",
                sqlite["sections"], clickhouse["sections"]
            );
        }
        assert_eq!(clickhouse, sqlite, "stats {args:?}");
    }

    // A second rollup finds nothing due; a day with a new line is made again, and reads so.
    let again = env
        .cmd()
        .args(["rollup", "--tz", "UTC", "--json", "--store", &store])
        .output()
        .unwrap();
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["days"], serde_json::json!([]), "{again}");
    let late = env.write(
        "late.log",
        "10.9.9.9 - - [03/Nov/2026:12:00:00 +0000] \"GET /late HTTP/1.1\" 200 900 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0\"\n",
    );
    let store = both_stores(&env, &server, &[late]);
    let (sqlite, clickhouse) = stats_of_both(&env, &store, &["--period", "all", "pages"]);
    assert_eq!(clickhouse, sqlite);
    assert!(clickhouse.to_string().contains("/late"), "{clickhouse}");

    // The dashboard's JSON too.
    let (_sqlite_server, a) = common::web::serve(&env, &["--cache-mib", "0"]);
    let (_ch_server, b) = common::web::serve(&env, &["--store", &store]);
    for view in [
        "/report.json?period=all",
        "/report.json?period=all&filter=source%3DHacker%20News",
    ] {
        let (sa, _, ja) = common::web::http(a, "GET", view, &[], "");
        let (sb, _, jb) = common::web::http(b, "GET", view, &[], "");
        assert_eq!((sa, sb), (200, 200), "{view}: {ja} / {jb}");
        let (ja, jb): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(&ja).unwrap(),
            serde_json::from_str(&jb).unwrap(),
        );
        assert_eq!(jb, ja, "{view}");
    }
}

#[test]
fn a_person_seen_by_two_web_servers_is_one_visitor_of_the_store() {
    use common::day::{browse, people, CHROME, FIREFOX};
    use std::io::Write;
    use std::time::{Duration, Instant};

    let env = Env::new();
    let server = Server::start(&env.path("ch"));
    let store = server.url("lt");
    // Two web servers' logs, as two folders; a tail on each, started together, so both find the
    // day without a salt.
    let mut tails = Vec::new();
    let mut logs = Vec::new();
    for host in ["web-a", "web-b"] {
        std::fs::create_dir_all(env.path(host)).unwrap();
        let log = env.path(&format!("{host}/access.log"));
        std::fs::write(&log, "").unwrap();
        let db = env.path(&format!("{host}.db")).display().to_string();
        let path = log.display().to_string();
        tails.push(env.spawn(&[
            "tail",
            "--tz",
            "UTC",
            "--site",
            "example.com",
            "--db",
            &db,
            "--store",
            &store,
            "--collector",
            host,
            "--flush-interval",
            "200ms",
            &path,
        ]));
        logs.push(log);
    }
    std::thread::sleep(Duration::from_millis(500));
    // The same person reads the front page on one server and the pricing on the other; one
    // person more on each, and the usual day on the first.
    let a = [
        people(),
        browse(300, "10.1.1.1", "/", "-", FIREFOX),
        browse(320, "10.2.2.2", "/docs", "-", CHROME),
    ]
    .concat();
    let b = [
        browse(302, "10.1.1.1", "/pricing", "https://example.com/", FIREFOX),
        browse(330, "10.3.3.3", "/blog", "-", CHROME),
    ]
    .concat();
    let lines = a.lines().count() + b.lines().count();
    for (log, text) in logs.iter().zip([&a, &b]) {
        let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }
    let until = Instant::now() + Duration::from_secs(60);
    while server
        .query("SELECT count() FROM lt.events FINAL")
        .ok()
        .map(|s| s.trim().to_string())
        != Some(lines.to_string())
        && Instant::now() < until
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    for t in &tails {
        t.signal(libc::SIGTERM);
    }
    for mut t in tails {
        assert_eq!(
            t.wait_for_exit(Duration::from_secs(10)),
            Some(0),
            "{}",
            t.stderr_text()
        );
    }
    assert_eq!(
        server.number("SELECT count() FROM lt.events FINAL"),
        lines as u64
    );
    // Both collectors took one salt for the day.
    assert_eq!(
        server.number(
            "SELECT uniqExact(visitor) FROM lt.events FINAL WHERE path IN ('/pricing', '/') AND agent LIKE '%Firefox%'"
        ),
        1
    );
    env.cmd()
        .args(["rollup", "--tz", "UTC", "--store", &store, "--db"])
        .arg(env.path("web-a.db"))
        .assert()
        .success();
    let mut cmd = env.cmd();
    cmd.args([
        "stats",
        "--tz",
        "UTC",
        "--format",
        "json",
        "--since",
        "2024-10-14",
        "--until",
        "2024-10-14",
        "--store",
        &store,
        "overview",
        "pages",
    ]);
    let report = common::json(&mut cmd, 0);
    let o = &report["overview"];
    // people() is five people of one page each.
    assert_eq!(
        (o["visitors"].as_u64(), o["pageviews"].as_u64()),
        (Some(5 + 3), Some(5 + 4)),
        "{o}"
    );
}

#[test]
fn a_sqlite_history_migrated_into_clickhouse_reads_the_same_and_is_copied_once() {
    let env = Env::new();
    let server = Server::start(&env.path("ch"));
    let people = env.write("people.log", common::three_days_of_people(3, "/blog/m"));
    for log in [
        people,
        fixture("nginx-combined-bots.log"),
        fixture("apache-combined-ipv6.log"),
    ] {
        env.import_and_rollup(&log, &[]);
    }
    let store = server.url("copy");
    let migrate = |expect_days: usize| {
        let mut cmd = env.cmd();
        cmd.args(["migrate", "--json", "--to", &store, "--db"])
            .arg(env.db());
        let out = common::json(&mut cmd, 0);
        assert_eq!(out["days"].as_array().unwrap().len(), expect_days, "{out}");
        out
    };
    let first = migrate(6);
    assert_eq!(first["kept"], 0);
    for args in [
        vec!["--period", "all"],
        vec![
            "--period",
            "all",
            "pages",
            "sources",
            "browsers",
            "status",
            "bots",
            "hours",
            "exit-pages",
        ],
        vec![
            "--period",
            "all",
            "--filter",
            "page=/pricing",
            "overview",
            "sources",
            "campaigns",
        ],
    ] {
        let (sqlite, clickhouse) = stats_of_both(&env, &store, &args);
        assert_eq!(clickhouse, sqlite, "stats {args:?}");
    }
    // Again: every day is there already.
    let again = migrate(0);
    assert_eq!(again["kept"], 6);
    let (sqlite, clickhouse) = stats_of_both(&env, &store, &["--period", "all"]);
    assert_eq!(clickhouse, sqlite);
    // A store that does not answer is a temporary failure.
    env.cmd()
        .args(["migrate", "--to", "clickhouse://127.0.0.1:1/x", "--db"])
        .arg(env.db())
        .assert()
        .code(75);
}

/// Rows of `table` in database `db`, each version of a day counted.
fn rows(server: &Server, db: &str, table: &str) -> u64 {
    server.number(&format!("SELECT count() FROM {db}.{table}"))
}

#[test]
fn the_configured_store_is_cleaned_of_rolled_up_days_only_and_keeps_its_figures() {
    let env = Env::new();
    let server = Server::start(&env.path("ch"));
    let store = server.url("kept");
    // The store named once, in the configuration: no command below says --store.
    let config = env.write(
        "logtally.toml",
        format!(
            "db = \"{}\"\ntz = \"UTC\"\n\n[clickhouse]\nurl = \"{store}\"\ncollector = \"web-1\"\n",
            env.path("collector.db").display()
        ),
    );
    let run = |args: &[&str]| {
        let mut cmd = env.cmd();
        cmd.arg("--config").arg(&config).args(args);
        cmd
    };
    let people = env.write("people.log", common::three_days_of_people(4, "/blog/c"));
    run(&["import"]).arg(&people).assert().success();
    assert_eq!(server.number("SELECT count() FROM kept.events FINAL"), 360);
    assert_eq!(
        server
            .query("SELECT DISTINCT host FROM kept.events")
            .unwrap()
            .trim(),
        "web-1"
    );
    run(&["rollup"]).assert().success();
    // Rolled up again from scratch: each day now has a replaced version beside its own.
    run(&["rollup", "--rebuild"]).assert().success();
    let totals_before = rows(&server, "kept", "daily_totals");
    let stats = || {
        let mut cmd = run(&[
            "stats", "--format", "json", "--period", "all", "overview", "pages",
        ]);
        common::json(&mut cmd, 0)
    };
    let before = stats();
    assert_eq!(before["overview"]["pageviews"], 180, "{before}");
    // `--store sqlite` reads the database, which keeps the files' progress and none of it.
    let mut sqlite = run(&[
        "stats",
        "--store",
        "sqlite",
        "--no-refresh",
        "--format",
        "json",
        "--period",
        "all",
    ]);
    assert_eq!(common::json(&mut sqlite, 0)["overview"]["pageviews"], 0);

    // A fourth day arrives (the three days' people on one) and is not rolled up yet.
    let fourth = common::three_days_of_people(5, "/blog/c")
        .lines()
        .map(|l| {
            l.replace("02/Nov/2026", "05/Nov/2026")
                .replace("03/Nov/2026", "05/Nov/2026")
                .replace("04/Nov/2026", "05/Nov/2026")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let fourth = env.write("fourth.log", fourth + "\n");
    run(&["import"]).arg(&fourth).assert().success();

    let mut cleanup = run(&["cleanup", "--keep-days", "1", "--json"]);
    let report = common::json(&mut cleanup, 0);
    assert_eq!(report["events_deleted"], 360, "{report}");
    assert_eq!(
        report["days_cleaned"],
        serde_json::json!(["2026-11-02", "2026-11-03", "2026-11-04"])
    );
    assert_eq!(report["days_kept"][0]["day"], "2026-11-05", "{report}");
    assert!(report["replaced_versions_deleted"].as_u64().unwrap() > 0);
    assert!(report["salts_deleted"].as_u64().unwrap() >= 3, "{report}");
    // Only the day not rolled up keeps its raw events; every figure reads as before.
    assert_eq!(server.number("SELECT count() FROM kept.events FINAL"), 360);
    assert_eq!(
        server.number(
            "SELECT count() FROM kept.events FINAL WHERE ts_ms < toInt64(toUnixTimestamp(toDateTime('2026-11-05 00:00:00', 'UTC'))) * 1000"
        ),
        0
    );
    assert!(rows(&server, "kept", "daily_totals") < totals_before);
    assert_eq!(stats(), before);

    // A late line for a cleaned day: rollup leaves the final day alone, the figures stand.
    let late = env.write(
        "late.log",
        "10.9.9.9 - - [03/Nov/2026:12:00:00 +0000] \"GET /late HTTP/1.1\" 200 900 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0\"\n",
    );
    run(&["import"]).arg(&late).assert().success();
    let mut rollup = run(&["rollup", "--json"]);
    let rolled = common::json(&mut rollup, 0);
    assert_eq!(rolled["final_days_skipped"], 1, "{rolled}");
    assert_eq!(
        rolled["days"],
        serde_json::json!(["2026-11-05"]),
        "{rolled}"
    );
    let after = stats();
    assert_eq!(after["overview"]["pageviews"], 360, "{after}");
    // The next cleanup takes the late line too.
    let mut cleanup = run(&["cleanup", "--keep-days", "1", "--json"]);
    let report = common::json(&mut cleanup, 0);
    assert_eq!(report["events_deleted"], 1 + 360, "{report}");
    assert_eq!(stats(), after);
}
