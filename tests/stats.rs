//! End-to-end tests of `logtally stats` on a database built from a known log.

mod common;

use chrono::{TimeZone, Utc};
use common::{json, Env};
use predicates::prelude::*;

fn line(d: u32, h: u32, m: u32, ip: &str, path: &str, referrer: &str, agent: &str) -> String {
    let ts = Utc.with_ymd_and_hms(2021, 3, d, h, m, 0).unwrap();
    format!(
        "{ip} - - [{}] \"GET {path} HTTP/1.1\" 200 1000 \"{referrer}\" \"{agent}\"\n",
        ts.format("%d/%b/%Y:%H:%M:%S +0000")
    )
}

/// Browsers current in March 2021, when the known log was written.
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:86.0) Gecko/20100101 Firefox/86.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 14_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.0.3 Mobile/15E148 Safari/604.1";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// March 1: two visitors (3 and 1 page views); March 2: one visitor; plus a crawler.
fn known_db(env: &Env) {
    let log = [
        line(
            1,
            10,
            0,
            "10.0.0.1",
            "/",
            "https://www.google.com/",
            FIREFOX,
        ),
        line(
            1,
            10,
            1,
            "10.0.0.1",
            "/about",
            "https://example.com/",
            FIREFOX,
        ),
        line(
            1,
            10,
            2,
            "10.0.0.1",
            "/pricing",
            "https://example.com/about",
            FIREFOX,
        ),
        line(1, 11, 0, "10.0.0.2", "/", "-", IPHONE),
        line(1, 12, 0, "66.249.66.1", "/", "-", GOOGLEBOT),
        line(
            2,
            9,
            0,
            "10.0.0.3",
            "/about",
            "https://news.ycombinator.com/",
            IPHONE,
        ),
    ]
    .concat();
    env.import_and_rollup(&env.write("known.log", log), &["--site", "example.com"]);
}

fn stats(env: &Env, args: &[&str]) -> assert_cmd::assert::Assert {
    env.cmd()
        .args(["stats", "--tz", "UTC", "--db"])
        .arg(env.db())
        .args(args)
        .assert()
}

#[test]
fn json_figures_match_the_known_log() {
    let env = Env::new();
    known_db(&env);
    let mut cmd = env.cmd();
    cmd.args([
        "stats",
        "--tz",
        "UTC",
        "--format",
        "json",
        "--since",
        "2021-03-01",
        "--until",
        "2021-03-02",
        "--db",
    ])
    .arg(env.db())
    .args([
        "overview", "pages", "sources", "browsers", "devices", "bots",
    ]);
    let v = json(&mut cmd, 0);
    let o = &v["overview"];
    assert_eq!(
        (
            o["visitors"].as_u64(),
            o["pageviews"].as_u64(),
            o["visits"].as_u64()
        ),
        (Some(3), Some(5), Some(3))
    );
    assert_eq!(o["bot_hits"], 1);
    assert!((o["bounce_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(o["daily_pageviews"], serde_json::json!([4, 1]));
    assert_eq!(v["days_with_data"], 2);
    let s = &v["sections"];
    assert_eq!(
        s["pages"][0],
        serde_json::json!({"page": "/", "visitors": 2, "pageviews": 2})
    );
    assert_eq!(
        s["pages"][1],
        serde_json::json!({"page": "/about", "visitors": 2, "pageviews": 2})
    );
    let sources: Vec<(&str, u64)> = s["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["source"].as_str().unwrap(), r["visits"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        sources,
        vec![("Direct", 1), ("Google", 1), ("Hacker News", 1)]
    );
    assert_eq!(
        s["browsers"][0],
        serde_json::json!({"browser": "Safari", "visitors": 2, "pageviews": 2})
    );
    assert_eq!(s["devices"][0]["device"], "Mobile");
    assert_eq!(
        s["bots"][0],
        serde_json::json!({"reason": "ua-search", "hits": 1, "visitors": 1})
    );
    assert!(v["note"]
        .as_str()
        .unwrap()
        .contains("sums of daily visitors"));
}

#[test]
fn table_and_csv_show_the_same_figures() {
    let env = Env::new();
    known_db(&env);
    stats(&env, &["--since", "2021-03-01", "--until", "2021-03-02"])
        .success()
        .stdout(predicate::str::contains(
            "all sites, 2021-03-01 .. 2021-03-02 (2 days, 2 with data)",
        ))
        .stdout(predicate::str::is_match(r"visitors\s+\|\s+3 ").unwrap())
        .stdout(predicate::str::is_match(r"page views\s+\|\s+5 ").unwrap())
        .stdout(predicate::str::is_match(r"bounce rate\s+\|\s+66.7% ").unwrap())
        .stdout(predicate::str::contains("sums of daily visitors"))
        .stdout(predicate::str::contains("\x1b[").not());
    stats(
        &env,
        &[
            "--since",
            "2021-03-01",
            "--until",
            "2021-03-02",
            "--format",
            "csv",
            "overview",
            "pages",
        ],
    )
    .success()
    .stdout(predicate::str::starts_with("section,key,metric,value\n"))
    .stdout(predicate::str::contains("overview,,visitors,3\n"))
    .stdout(predicate::str::contains(
        "overview,2021-03-01,pageviews,4\n",
    ))
    .stdout(predicate::str::contains("pages,/pricing,pageviews,1\n"));
}

#[test]
fn stats_reads_rollups_only_and_answers_after_cleanup_emptied_events() {
    let env = Env::new();
    known_db(&env);
    let args = [
        "--format",
        "csv",
        "--since",
        "2021-03-01",
        "--until",
        "2021-03-02",
        "overview",
        "pages",
        "sources",
    ];
    let before = stats(&env, &args).success().get_output().stdout.clone();
    env.cmd()
        .args(["cleanup", "--tz", "UTC", "--db"])
        .arg(env.db())
        .assert()
        .success();
    let events: i64 = rusqlite::Connection::open(env.db())
        .unwrap()
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(events, 0);
    let after = stats(&env, &args).success().get_output().stdout.clone();
    assert_eq!(
        String::from_utf8(after).unwrap(),
        String::from_utf8(before).unwrap()
    );
}

#[test]
fn an_empty_range_says_so_and_bad_sections_are_usage_errors() {
    let env = Env::new();
    known_db(&env);
    stats(&env, &["--since", "2020-01-01", "--until", "2020-01-31"])
        .success()
        .stdout(predicate::str::contains("no rolled-up data in this range"));
    stats(&env, &["visitors"])
        .code(2)
        .stderr(predicate::str::contains("sections are: overview"));
    env.cmd()
        .args(["stats", "--db"])
        .arg(env.path("none.db"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("import some logs first"));
}

#[test]
fn one_site_among_several() {
    let env = Env::new();
    known_db(&env);
    let other = env.write(
        "other.log",
        line(1, 10, 0, "10.9.9.9", "/shop", "-", FIREFOX),
    );
    env.import_and_rollup(&other, &["--site", "shop.example"]);
    let mut cmd = env.cmd();
    cmd.args([
        "stats",
        "--tz",
        "UTC",
        "--format",
        "json",
        "--since",
        "2021-03-01",
        "--until",
        "2021-03-02",
        "--site",
        "shop.example",
        "--db",
    ])
    .arg(env.db());
    let v = json(&mut cmd, 0);
    assert_eq!(v["overview"]["pageviews"], 1);
    assert_eq!(v["sections"]["pages"][0]["page"], "/shop");
}
