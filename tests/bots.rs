//! Bot detection end to end: every layer through import and rollup, scored against the labelled
//! traffic model's truth, and `check --bots`.

mod common;

use common::genlog::model;
use common::{fixture, json, score, Env};
use logtally::parse::Format;
use rusqlite::Connection;

/// The figures the product stands on, on a million lines (30 days) of the labelled traffic model:
/// human page views within 5% of the truth, bots' page views at most 5% of those reported, at
/// most 3% of people's page views lost, visitors within 5%; and every class of bot mostly caught.
#[test]
fn human_figures_hold_on_a_million_lines_of_the_traffic_model() {
    let env = Env::new();
    let (log, truth) = model::generate_labelled(&model::Config {
        lines: 1_000_000,
        days: 30,
        seed: 7,
        ..model::Config::default()
    });
    let log_path = env.write("model.log", &log);
    for args in [vec!["import", "--tz", "UTC"], vec!["rollup", "--tz", "UTC"]] {
        env.cmd()
            .args(&args)
            .arg("--db")
            .arg(env.db())
            .args(if args[0] == "import" {
                vec![&log_path]
            } else {
                vec![]
            })
            .assert()
            .success();
    }
    let truth: Vec<score::Truth> = truth.into_iter().map(score::Truth::from).collect();
    let table = score::score(&log, &Format::Combined, &truth, &env.db());
    println!("{table}");
    assert!(table.truth_pageviews > 100_000, "{table}");
    assert!((table.pageview_ratio() - 1.0).abs() <= 0.05, "{table}");
    assert!(table.bot_share() <= 0.05, "{table}");
    assert!(table.lost_share() <= 0.03, "{table}");
    assert!((table.visitor_ratio() - 1.0).abs() <= 0.05, "{table}");
    for (class, row) in &table.classes {
        if !matches!(class.as_str(), "person" | "owner") && row.pages > 100 {
            assert!(row.counted * 4 <= row.pages, "{class}: {row:?}");
        }
    }

    // The report says what the events say: page views are the page hits no layer flagged.
    let c = Connection::open(env.db()).unwrap();
    let views: i64 = c
        .query_row("SELECT sum(pageviews) FROM daily_totals", [], |r| r.get(0))
        .unwrap();
    assert_eq!(views as u64, table.reported_pageviews);
    let reasons: i64 = c
        .query_row("SELECT count(DISTINCT reason) FROM daily_bots", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(reasons >= 10, "{reasons} reasons");
}

#[test]
fn check_bots_shows_reasons_agents_and_addresses() {
    let env = Env::new();
    let v = json(
        env.cmd()
            .args(["check", "--json", "--bots", "--tz", "UTC"])
            .arg(fixture("nginx-combined-bots.log")),
        0,
    );
    let bots = &v["bots"];
    assert_eq!(bots["hits"], 900);
    assert!(
        bots["bot_hits"].as_u64().unwrap() > 800,
        "a log of internet bots: {}",
        bots["bot_hits"]
    );
    let reasons: Vec<&str> = bots["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    for expected in ["mostly-errors", "probe-path", "ua-search", "ua-old-browser"] {
        assert!(reasons.contains(&expected), "{expected} in {reasons:?}");
    }
    let search = bots["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reason"] == "ua-search")
        .unwrap();
    assert!(search["top_agents"][0][0]
        .as_str()
        .unwrap()
        .contains("Googlebot"));
    assert_eq!(search["top_addresses"][0][0], "66.249.66.0");
}

#[test]
fn extra_agent_patterns_flag_an_in_house_monitor() {
    let env = Env::new();
    let line = "10.0.0.9 - - [01/Jun/2020:10:00:00 +0000] \"GET /health HTTP/1.1\" 200 2 \"-\" \"acme-healthcheck/2.1 (ops)\"\n";
    let log = env.write("a.log", line.repeat(3));
    let patterns = env.write("bots.txt", "# ours\nmonitor\tacme-healthcheck\n");
    env.cmd()
        .args(["import", "--db"])
        .arg(env.db())
        .arg(&log)
        .assert()
        .success();
    let db2 = env.path("b.db");
    env.cmd()
        .args(["import", "--bot-agents"])
        .arg(&patterns)
        .arg("--db")
        .arg(&db2)
        .arg(&log)
        .assert()
        .success();
    let q = |db: &std::path::Path| -> i64 {
        Connection::open(db)
            .unwrap()
            .query_row("SELECT max(bot) FROM events", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(
        q(&env.db()),
        0,
        "without the pattern the agent looks like a person"
    );
    assert_eq!(q(&db2), 6, "ua-monitor");
    let bad = env.write("bad.txt", "monitor acme\n");
    env.cmd()
        .args(["import", "--bot-agents"])
        .arg(&bad)
        .arg("--db")
        .arg(&db2)
        .arg(&log)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("line 1"));
}
