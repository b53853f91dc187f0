//! The configuration file and its layering: flags over `LOGTALLY_*` over the file over defaults,
//! errors with line numbers, `config check` and `config example`, and settings that change what
//! the commands do (database path, bot thresholds, tail sources).

mod common;

use std::time::Duration;

use common::{fixture, json, Env};
use predicates::prelude::*;

#[test]
fn database_path_flag_beats_env_beats_file() {
    let env = Env::new();
    let config = env.write("logtally.toml", "db = \"from-file.db\"\n");
    let log = fixture("nginx-combined-bots.log");
    let import = |extra: &[&str], var: Option<&str>| {
        let mut c = env.cmd();
        c.arg("--config")
            .arg(&config)
            .arg("import")
            .args(extra)
            .arg(&log);
        if let Some(v) = var {
            c.env("LOGTALLY_DB", v);
        }
        c.assert().success();
    };
    import(&[], None);
    assert!(env.path("from-file.db").exists());
    import(&[], Some("from-env.db"));
    assert!(env.path("from-env.db").exists());
    import(&["--db", "from-flag.db"], Some("from-env.db"));
    assert!(env.path("from-flag.db").exists());
}

#[test]
fn config_check_shows_values_and_where_they_come_from() {
    let env = Env::new();
    let config = env.write(
        "logtally.toml",
        "tz = \"Europe/Berlin\"\n\n[tail]\nbatch_size = 500\nflush_interval = \"2s\"\n\n[[source]]\npath = \"/var/log/nginx/*.log\"\nformat = \"combined\"\nsite = \"example.com\"\n",
    );
    let report = json(
        env.cmd()
            .args(["config", "check", "--json"])
            .arg(&config)
            .env("LOGTALLY_TAIL__FLUSH_INTERVAL", "1s"),
        0,
    );
    let get = |name: &str| {
        report["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap()
    };
    let file = config.display().to_string();
    assert_eq!(get("tail.batch_size")["value"], "500");
    assert_eq!(get("tail.batch_size")["origin"], format!("{file}:4"));
    assert_eq!(get("tail.flush_interval")["value"], "1s");
    assert_eq!(
        get("tail.flush_interval")["origin"],
        "$LOGTALLY_TAIL__FLUSH_INTERVAL"
    );
    assert_eq!(get("bots.many_pageviews")["value"], "100");
    assert_eq!(get("bots.many_pageviews")["origin"], "default");
    assert_eq!(get("tz")["value"], "Europe/Berlin");
    assert_eq!(report["sources"][0]["site"], "example.com");
    assert_eq!(report["sources"][0]["line"], 8);
    env.cmd()
        .args(["config", "check"])
        .arg(&config)
        .assert()
        .success()
        .stdout(predicate::str::contains("valid"))
        .stdout(predicate::str::contains("tail.batch_size"));
}

#[test]
fn the_example_config_is_valid() {
    let env = Env::new();
    let out = env.cmd().args(["config", "example"]).output().unwrap();
    assert!(out.status.success());
    let file = env.write("example.toml", &out.stdout);
    env.cmd()
        .args(["config", "check"])
        .arg(&file)
        .assert()
        .success();
}

#[test]
fn bad_configs_are_usage_errors_with_the_line() {
    let env = Env::new();
    let cases = [
        (
            "db = \"x.db\"\n\n[tail]\nflush_intervall = \"5s\"\n",
            "line 4",
        ),
        (
            "[tail]\nbatch_size = \"lots\"\n",
            ":2: tail.batch_size: expected a whole number",
        ),
        (
            "[[source]]\npath = \"/var/log/[.log\"\n",
            ":2: source.path: invalid glob",
        ),
        ("[bots]\n\nerrors_share = 2\n", ":3: bots.errors_share"),
    ];
    for (text, expected) in cases {
        let file = env.write("bad.toml", text);
        env.cmd()
            .args(["config", "check"])
            .arg(&file)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected));
        // Every command refuses to run with it, before touching anything.
        env.cmd()
            .arg("--config")
            .arg(&file)
            .args(["stats", "--db"])
            .arg(env.db())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected));
    }
    assert!(!env.db().exists());
    env.cmd()
        .args(["stats", "--db"])
        .arg(env.db())
        .env("LOGTALLY_BOTS__MANY_PAGEVIEWS", "many")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("LOGTALLY_BOTS__MANY_PAGEVIEWS"));
}

/// One visitor viewing 8 pages on 2021-03-01, then the overview's human visitors.
fn visitors_with(env: &Env, config: Option<&str>) -> serde_json::Value {
    let log: String = (0..8)
        .map(|i| {
            format!(
                "10.0.0.9 - - [01/Mar/2021:10:0{i}:00 +0000] \"GET /p{i} HTTP/1.1\" 200 100 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:86.0) Gecko/20100101 Firefox/86.0\"\n"
            )
        })
        .collect();
    let log = env.write("eight.log", log);
    let cfg = env.write("logtally.toml", config.unwrap_or(""));
    for args in [
        vec!["import", "--tz", "UTC", log.to_str().unwrap()],
        vec!["rollup", "--tz", "UTC", "--rebuild"],
    ] {
        env.cmd()
            .arg("--config")
            .arg(&cfg)
            .args(&args)
            .arg("--db")
            .arg(env.db())
            .assert()
            .success();
    }
    json(
        env.cmd()
            .arg("--config")
            .arg(&cfg)
            .args([
                "stats",
                "--tz",
                "UTC",
                "--since",
                "2021-03-01",
                "--until",
                "2021-03-01",
            ])
            .args(["--format", "json", "overview", "--no-refresh", "--db"])
            .arg(env.db()),
        0,
    )
}

#[test]
fn bot_thresholds_come_from_the_config() {
    let env = Env::new();
    let human = visitors_with(&env, None);
    assert_eq!(human["overview"]["visitors"], 1, "{human:#}");
    let env = Env::new();
    let strict = visitors_with(&env, Some("[bots]\nmany_pageviews = 5\n"));
    assert_eq!(strict["overview"]["visitors"], 0, "{strict:#}");
}

#[test]
fn tail_follows_the_configured_sources_with_their_site() {
    let env = Env::new();
    let dir = env.path("logs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(fixture("nginx-combined-bots.log"), dir.join("a.log")).unwrap();
    let config = env.write(
        "logtally.toml",
        format!(
            "db = \"{}\"\n[tail]\nflush_interval = \"200ms\"\n[[source]]\npath = \"{}/*.log\"\nformat = \"combined\"\nsite = \"configured.example\"\n",
            env.db().display(),
            dir.display()
        ),
    );
    let config = config.display().to_string();
    let mut t = env.spawn(&["--config", &config, "tail"]);
    let until = std::time::Instant::now() + Duration::from_secs(15);
    let sites = loop {
        let sites: Vec<String> = rusqlite::Connection::open(env.db())
            .ok()
            .and_then(|c| {
                let mut s = c.prepare("SELECT name FROM sites").ok()?;
                let rows = s.query_map([], |r| r.get(0)).ok()?;
                rows.collect::<Result<Vec<String>, _>>().ok()
            })
            .unwrap_or_default();
        if !sites.is_empty() || std::time::Instant::now() > until {
            break sites;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    t.signal(libc::SIGTERM);
    assert_eq!(t.wait_for_exit(Duration::from_secs(3)), Some(0));
    assert_eq!(sites, ["configured.example"], "{}", t.stderr_text());
    // Without paths or sources, tail says what to do.
    env.cmd()
        .args(["tail", "--db"])
        .arg(env.db())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no logs to follow"));
}
