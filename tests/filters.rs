//! Filters, campaigns and goals over the permanent record, end to end: a log of people with known
//! sources, campaigns and sign-ups is imported and rolled up, and every filtered figure, in each
//! format, must equal what the log says when counted here, independently.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::Env;
use serde_json::{json, Value};

/// 2026-11-02T00:00:00Z, a Monday.
const START_MS: i64 = 1_793_577_600_000;
const DAY_MS: i64 = 86_400_000;

/// One person's visit as the log will show it.
#[derive(Clone, Debug)]
struct Planned {
    day: i64,
    ip: String,
    source: &'static str,
    campaign: Option<(&'static str, &'static str, &'static str)>,
    pages: Vec<&'static str>,
    signs_up: bool,
}

/// Visits of four days: each person one visit a day, from Hacker News, a newsletter campaign, a
/// social campaign, or directly; some sign up (POST /signup answered 201, then the thanks page).
fn plan() -> Vec<Planned> {
    let mut out = Vec::new();
    for day in 0..4 {
        for p in 0..60u32 {
            let (source, campaign) = match p % 4 {
                0 => ("Hacker News", None),
                1 => ("newsletter", Some(("newsletter", "email", "autumn-sale"))),
                2 => ("twitter", Some(("twitter", "social", "launch"))),
                _ => ("Direct", None),
            };
            let mut pages = vec!["/"];
            if p % 3 == 0 {
                pages.push("/pricing");
            }
            if p % 2 == 0 {
                pages.push("/blog/post-1");
            }
            let signs_up = p % 5 == 0;
            if signs_up {
                pages.push("/signup/thanks");
            }
            out.push(Planned {
                day,
                ip: format!("10.{}.{}.{}", day + 1, p / 100, p % 100 + 1),
                source,
                campaign,
                pages,
                signs_up,
            });
        }
    }
    out
}

fn when(ts: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ts)
        .unwrap()
        .format("%d/%b/%Y:%H:%M:%S +0000")
        .to_string()
}

/// The log of the plan: page views with their stylesheet, in time order.
fn log_of(plan: &[Planned]) -> String {
    let mut lines: Vec<(i64, String)> = Vec::new();
    for (n, v) in plan.iter().enumerate() {
        let t0 = START_MS + v.day * DAY_MS + 8 * 3_600_000 + (n as i64 % 60) * 600_000;
        let agent = common::firefox_at(t0);
        for (k, page) in v.pages.iter().enumerate() {
            let ts = t0 + k as i64 * 45_000;
            let (path, referrer) = if k == 0 {
                let query = v.campaign.map_or(String::new(), |(s, m, c)| {
                    format!("?utm_source={s}&utm_medium={m}&utm_campaign={c}")
                });
                let referrer = match v.source {
                    "Hacker News" => "https://news.ycombinator.com/",
                    _ => "-",
                };
                (format!("{page}{query}"), referrer.to_string())
            } else {
                (
                    page.to_string(),
                    format!("https://example.com{}", v.pages[k - 1]),
                )
            };
            if *page == "/signup/thanks" {
                lines.push((ts - 5_000, format!("{} - - [{}] \"POST /signup HTTP/1.1\" 201 120 \"https://example.com/\" \"{agent}\"\n", v.ip, when(ts - 5_000))));
            }
            lines.push((
                ts,
                format!(
                    "{} - - [{}] \"GET {path} HTTP/1.1\" 200 5120 \"{referrer}\" \"{agent}\"\n",
                    v.ip,
                    when(ts)
                ),
            ));
            lines.push((ts + 200, format!("{} - - [{}] \"GET /style.css HTTP/1.1\" 200 900 \"https://example.com{page}\" \"{agent}\"\n", v.ip, when(ts + 200))));
        }
    }
    lines.sort_by_key(|(ts, _)| *ts);
    lines.into_iter().map(|(_, l)| l).collect()
}

const GOAL: &str = "Signup=POST /signup 2xx";

/// Which planned visits a filter keeps, told from the plan.
type Keep = Box<dyn Fn(&Planned) -> bool>;

fn setup() -> (Env, Vec<Planned>) {
    let env = Env::new();
    let plan = plan();
    let log = env.write("access.log", log_of(&plan));
    env.import_and_rollup(&log, &[]);
    (env, plan)
}

fn stats(env: &Env, args: &[&str], format: &str) -> std::process::Output {
    env.cmd()
        .args([
            "stats",
            "--tz",
            "UTC",
            "--since",
            "2026-11-02",
            "--until",
            "2026-11-05",
        ])
        .args(["--format", format, "--goal", GOAL, "--db"])
        .arg(env.db())
        .args(args)
        .output()
        .unwrap()
}

fn json_of(env: &Env, args: &[&str]) -> Value {
    let out = stats(env, args, "json");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (visitors, page views, visits) of the planned visits that pass.
fn expected(plan: &[Planned], keep: impl Fn(&Planned) -> bool) -> (u64, u64, u64) {
    let kept: Vec<&Planned> = plan.iter().filter(|v| keep(v)).collect();
    let visitors: BTreeSet<(i64, &str)> = kept.iter().map(|v| (v.day, v.ip.as_str())).collect();
    let pageviews: usize = kept.iter().map(|v| v.pages.len()).sum();
    (visitors.len() as u64, pageviews as u64, kept.len() as u64)
}

fn overview(v: &Value) -> (u64, u64, u64) {
    let o = &v["overview"];
    (
        o["visitors"].as_u64().unwrap(),
        o["pageviews"].as_u64().unwrap(),
        o["visits"].as_u64().unwrap(),
    )
}

#[test]
fn filtered_figures_equal_the_logs_in_json_csv_and_table() {
    let (env, plan) = setup();
    let cases: Vec<(Vec<&str>, Keep)> = vec![
        (
            vec!["--filter", "source=Hacker News"],
            Box::new(|v| v.source == "Hacker News"),
        ),
        (
            vec!["--filter", "utm-campaign=autumn-sale"],
            Box::new(|v| v.campaign.is_some_and(|c| c.2 == "autumn-sale")),
        ),
        (
            vec!["--filter", "utm-medium=*"],
            Box::new(|v| v.campaign.is_some()),
        ),
        (
            vec!["--filter", "page=/pricing"],
            Box::new(|v| v.pages.contains(&"/pricing")),
        ),
        (
            vec!["--filter", "page!=/blog/*"],
            Box::new(|v| !v.pages.contains(&"/blog/post-1")),
        ),
        (vec!["--filter", "goal=Signup"], Box::new(|v| v.signs_up)),
        (
            vec![
                "--filter",
                "source=Hacker News",
                "--filter",
                "page=/pricing",
            ],
            Box::new(|v| v.source == "Hacker News" && v.pages.contains(&"/pricing")),
        ),
        (
            vec!["--filter", "exit-page=/signup/thanks"],
            Box::new(|v| v.signs_up),
        ),
        (
            vec!["--filter", "browser=Firefox", "--filter", "entry-page=/"],
            Box::new(|_| true),
        ),
    ];
    for (args, keep) in &cases {
        let want = expected(&plan, keep);
        let mut full = args.clone();
        full.push("overview");
        full.push("pages");
        let v = json_of(&env, &full);
        assert_eq!(overview(&v), want, "{args:?}");
        let filters: Vec<&str> = args.iter().skip(1).step_by(2).copied().collect();
        assert_eq!(
            v["filters"],
            serde_json::json!(filters),
            "the JSON echoes the filters"
        );
        // Page views per page, from the kept visits.
        let mut pages: BTreeMap<String, u64> = BTreeMap::new();
        for p in plan.iter().filter(|v| keep(v)) {
            for page in &p.pages {
                *pages.entry(page.to_string()).or_default() += 1;
            }
        }
        let got: BTreeMap<String, u64> = v["sections"]["pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["page"].as_str().unwrap().to_string(),
                    r["pageviews"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, pages, "{args:?}: pages");

        let csv = String::from_utf8(stats(&env, &full, "csv").stdout).unwrap();
        let line = |metric: &str| -> u64 {
            csv.lines()
                .find(|l| l.starts_with(&format!("overview,,{metric},")))
                .unwrap_or_else(|| panic!("{metric} in {csv}"))
                .rsplit(',')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        assert_eq!(
            (line("visitors"), line("pageviews"), line("visits")),
            want,
            "{args:?}: CSV"
        );
        assert_eq!(
            csv.lines().filter(|l| l.starts_with("filter,")).count(),
            filters.len()
        );

        let table = String::from_utf8(stats(&env, &full, "table").stdout).unwrap();
        assert!(
            table.contains(&format!("filters: {}", filters.join(", "))),
            "{table}"
        );
        let row = table
            .lines()
            .find(|l| l.trim_start().starts_with("page views "))
            .unwrap();
        assert!(
            row.contains(&format!("| {:>5} |", want.1)) || row.contains(&format!(" {} ", want.1)),
            "{args:?}: {row}"
        );
    }
}

#[test]
fn campaigns_sources_and_goals_over_the_whole_record() {
    let (env, plan) = setup();
    let v = json_of(
        &env,
        &["campaigns", "utm-mediums", "goals", "exit-pages", "hours"],
    );
    let campaigns = v["sections"]["campaigns"].as_array().unwrap();
    let by_key = |rows: &Vec<Value>, key: &str, name: &str| -> Value {
        rows.iter()
            .find(|r| r[key] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let autumn = by_key(campaigns, "campaign", "autumn-sale");
    assert_eq!(
        (&autumn["source"], &autumn["medium"]),
        (&json!("newsletter"), &json!("email")),
        "a campaign's source and medium are fields of their own"
    );
    let (visitors, pageviews, visits) =
        expected(&plan, |p| p.campaign.is_some_and(|c| c.2 == "autumn-sale"));
    assert_eq!(
        (
            autumn["visitors"].as_u64(),
            autumn["visits"].as_u64(),
            autumn["pageviews"].as_u64()
        ),
        (Some(visitors), Some(visits), Some(pageviews)),
        "{campaigns:?}"
    );
    let social = by_key(
        v["sections"]["utm_mediums"].as_array().unwrap(),
        "utm_medium",
        "social",
    );
    assert_eq!(
        social["visits"].as_u64(),
        Some(expected(&plan, |p| p.campaign.is_some_and(|c| c.1 == "social")).2)
    );
    let goal = &v["sections"]["goals"][0];
    let converted = expected(&plan, |p| p.signs_up).0;
    let all = expected(&plan, |_| true).0;
    assert_eq!(goal["goal"], "Signup");
    assert_eq!(goal["visitors"].as_u64(), Some(converted));
    assert_eq!(
        goal["completions"].as_u64(),
        Some(converted),
        "one sign-up each"
    );
    let rate = goal["conversion"].as_f64().unwrap();
    assert!(
        (rate - converted as f64 / all as f64).abs() < 1e-9,
        "{rate}"
    );
    let thanks = by_key(
        v["sections"]["exit_pages"].as_array().unwrap(),
        "exit_page",
        "/signup/thanks",
    );
    assert_eq!(thanks["visits"].as_u64(), Some(converted));
    // Page views by weekday and hour: 2026-11-02 is a Monday; every visit starts from 08:00.
    let hours = v["sections"]["hours"].as_array().unwrap();
    let total: u64 = hours
        .iter()
        .flat_map(|r| {
            r["pageviews"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_u64)
        })
        .sum();
    assert_eq!(total, expected(&plan, |_| true).1);
    assert_eq!(hours[0]["weekday"], "Mon");
    assert_eq!(hours[6]["weekday"], "Sun");
    assert_eq!(hours[0]["pageviews"][7].as_u64(), Some(0));
    assert!(hours[0]["pageviews"][8].as_u64().unwrap() > 0);
    assert_eq!(
        hours[4]["pageviews"][8].as_u64(),
        Some(0),
        "no Friday in the log"
    );
}

#[test]
fn the_previous_period_is_filtered_too() {
    let (env, plan) = setup();
    let out = env
        .cmd()
        .args([
            "stats",
            "--tz",
            "UTC",
            "--since",
            "2026-11-04",
            "--until",
            "2026-11-05",
        ])
        .args(["--format", "json", "--filter", "source=Hacker News", "--db"])
        .arg(env.db())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hn = |days: std::ops::Range<i64>| {
        expected(&plan, move |p| {
            p.source == "Hacker News" && days.contains(&p.day)
        })
    };
    assert_eq!(overview(&v), hn(2..4));
    let p = &v["previous"];
    assert_eq!(
        (
            p["visitors"].as_u64().unwrap(),
            p["pageviews"].as_u64().unwrap(),
            p["visits"].as_u64().unwrap()
        ),
        hn(0..2)
    );
}

#[test]
fn unfiltered_record_and_rollups_agree_and_bad_filters_are_usage_errors() {
    let (env, _) = setup();
    let rolled = json_of(&env, &["overview"]);
    let recorded = json_of(&env, &["--filter", "page=*", "overview"]);
    assert_eq!(overview(&rolled), overview(&recorded));
    for (args, needle) in [
        (vec!["--filter", "colour=red"], "utm-campaign"),
        (vec!["--filter", "page"], "KEY=VALUE"),
        (vec!["--filter", "goal=Nope"], "Signup"),
        (vec!["--filter", "page=/", "status"], "requests"),
        (vec!["--goal", "Bad=FETCH /x"], "method"),
    ] {
        let out = stats(&env, &args, "json");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn goals_from_the_configuration_apply_to_history() {
    let (env, plan) = setup();
    let config = env.write(
        "logtally.toml",
        "[[goal]]\nname = \"Thanks\"\npath = \"/signup/thanks\"\n\n[[goal]]\nname = \"Posted\"\npath = \"/signup\"\nmethod = \"POST\"\nstatus = \"2xx\"\n",
    );
    let out = env
        .cmd()
        .args(["--config"])
        .arg(&config)
        .args([
            "stats", "--tz", "UTC", "--period", "all", "--format", "json", "--db",
        ])
        .arg(env.db())
        .args(["--filter", "goal=Posted", "overview", "goals"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(overview(&v), expected(&plan, |p| p.signs_up));
    let names: Vec<&str> = v["sections"]["goals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["goal"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Thanks", "Posted"]);
}
