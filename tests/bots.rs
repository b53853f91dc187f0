//! Bot detection end to end: every layer through import and rollup, scored against the generator's
//! ground truth, and `check --bots`.

mod common;

use common::{fixture, json, Env};
use logtally::genlog::{generate, Config};
use rusqlite::Connection;

#[test]
fn detection_scores_against_the_generators_ground_truth_on_a_million_lines() {
    let env = Env::new();
    let (mut log, mut truth) = (Vec::new(), Vec::new());
    generate(
        &Config {
            lines: 1_000_000,
            seed: 11,
            ..Config::default()
        },
        &mut log,
        Some(&mut truth),
    )
    .unwrap();
    let log_path = env.write("gen.log", &log);
    drop(log);
    env.cmd()
        .args(["import", "--tz", "UTC", "--db"])
        .arg(env.db())
        .arg(&log_path)
        .assert()
        .success();
    env.cmd()
        .args(["rollup", "--tz", "UTC", "--db"])
        .arg(env.db())
        .assert()
        .success();

    // Garbage lines are the rejects; every other line is an event, in line order.
    let labels: Vec<&str> = std::str::from_utf8(&truth)
        .unwrap()
        .lines()
        .filter(|l| *l != "garbage")
        .collect();
    let c = Connection::open(env.db()).unwrap();
    let rows: Vec<(i64, i64)> = c
        .prepare("SELECT bot, kind FROM events ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), labels.len());
    let (mut tp, mut fn_, mut fp, mut human_views, mut human_views_flagged) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for (label, (bot, kind)) in labels.iter().zip(&rows) {
        let flagged = *bot != 0;
        if label.starts_with("bot") {
            if flagged {
                tp += 1
            } else {
                fn_ += 1
            }
        } else {
            fp += u64::from(flagged);
            if *kind == 0 {
                human_views += 1;
                human_views_flagged += u64::from(flagged);
            }
        }
    }
    let recall = tp as f64 / (tp + fn_) as f64;
    let precision = tp as f64 / (tp + fp) as f64;
    let wrongly = human_views_flagged as f64 / human_views as f64;
    println!("bot hits: recall {recall:.4}, precision {precision:.4}; human page views wrongly flagged {:.3}%", wrongly * 100.0);
    assert!(recall >= 0.97, "recall {recall}");
    assert!(
        wrongly <= 0.01,
        "human page views wrongly flagged: {wrongly}"
    );

    // Rollups keep bots by reason, and human figures leave them out.
    let (bot_hits, reasons): (i64, i64) = c
        .query_row(
            "SELECT sum(hits), count(DISTINCT reason) FROM daily_bots",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(bot_hits as u64, tp + fp);
    assert!(
        reasons >= 6,
        "crawlers, AI, monitors, feeds, probes, headless, page-view scrapers: {reasons}"
    );
    let views: i64 = c
        .query_row("SELECT sum(pageviews) FROM daily_totals", [], |r| r.get(0))
        .unwrap();
    let unflagged_views = rows
        .iter()
        .filter(|(bot, kind)| *bot == 0 && *kind == 0)
        .count() as i64;
    assert_eq!(
        views, unflagged_views,
        "page views are the page hits no layer flagged"
    );
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
