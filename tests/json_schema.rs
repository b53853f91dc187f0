//! The JSON that programs read (`stats --format json`, `serve`'s `/report.json` and `/api/*`) is
//! checked against its JSON Schema in `docs/schema/`, on real output of every section, and every
//! key in it is a snake_case identifier.

mod common;

use std::time::{Duration, Instant};

use common::web::{http, serve, tail_on};
use common::Env;
use serde_json::Value;

fn validator(name: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schema")
        .join(format!("{name}.schema.json"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Asserts `doc` is valid against schema `name`, and that every key is an identifier.
fn check(name: &str, doc: &Value) {
    let v = validator(name);
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{doc:#}");
    fn keys(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    out.push(k.clone());
                    keys(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    keys(doc, &mut all);
    for k in all {
        let ok = k.starts_with(|c: char| c.is_ascii_lowercase())
            && k.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        assert!(ok, "{name}: key {k:?} is not a snake_case identifier");
    }
}

/// People (some arriving from a newsletter campaign), bots and a 404, over three days.
fn site() -> Env {
    let env = Env::new();
    let mut log = common::three_days_of_people(6, "/blog/a");
    log.push_str(
        "10.9.0.1 - - [03/Nov/2026:10:00:00 +0000] \"GET /?utm_source=newsletter&utm_medium=email&utm_campaign=autumn&utm_content=top&utm_term=logs HTTP/1.1\" 200 900 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0\"\n\
         10.9.0.1 - - [03/Nov/2026:10:00:00 +0000] \"GET /app.css HTTP/1.1\" 200 900 \"https://example.com/\" \"Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0\"\n\
         66.249.66.1 - - [03/Nov/2026:11:00:00 +0000] \"GET /blog/a HTTP/1.1\" 200 900 \"-\" \"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)\"\n\
         203.0.113.9 - - [03/Nov/2026:12:00:00 +0000] \"GET /.env HTTP/1.1\" 404 100 \"-\" \"curl/8.0\"\n",
    );
    let log = env.write("access.log", log);
    env.import_and_rollup(&log, &[]);
    env
}

#[test]
fn stats_json_of_every_section_follows_its_schema() {
    let env = site();
    for extra in [&[][..], &["--filter", "source=Hacker News"][..]] {
        // Every section there is (those counting requests take no filter).
        let sections: Vec<&str> = logtally::query::sections()
            .filter(|s| extra.is_empty() || !logtally::report::catalogue::counts_hits(s))
            .collect();
        let doc = common::json(
            env.cmd()
                .args([
                    "stats",
                    "--tz",
                    "UTC",
                    "--period",
                    "all",
                    "--format",
                    "json",
                    "--no-refresh",
                ])
                .args(["--goal", "Pricing=/pricing", "--db"])
                .arg(env.db())
                .args(extra)
                .args(&sections),
            0,
        );
        check("report", &doc);
        if extra.is_empty() {
            let campaign = &doc["sections"]["campaigns"][0];
            assert_eq!(
                (
                    &campaign["campaign"],
                    &campaign["source"],
                    &campaign["medium"]
                ),
                (
                    &Value::from("autumn"),
                    &Value::from("newsletter"),
                    &Value::from("email")
                ),
                "{doc:#}"
            );
            for s in ["pages", "status", "not_found", "crawlers", "hours", "goals"] {
                assert!(
                    !doc["sections"][s].as_array().unwrap().is_empty(),
                    "{s} has rows to check"
                );
            }
        }
    }
}

#[test]
fn what_serve_answers_follows_its_schemas() {
    let env = site();
    let now = chrono::Utc::now();
    let when = now.format("%d/%b/%Y:%H:%M:%S +0000");
    let agent = common::firefox_at(now.timestamp_millis());
    let live = env.write(
        "now.log",
        format!("198.51.100.1 - - [{when}] \"GET /reading HTTP/1.1\" 200 900 \"-\" \"{agent}\"\n"),
    );
    let mut tail = tail_on(&env, &live);
    let (_server, addr) = serve(&env, &[]);
    let get = |path: &str| -> Value {
        let (status, _, body) = http(addr, "GET", path, &[], "");
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    };
    check("report", &get("/report.json?period=all"));
    check(
        "report",
        &get("/report.json?period=all&filter=page%3D%2Fpricing"),
    );
    check("pages", &get("/api/pages.json?period=all&limit=3"));
    let counter = get("/api/counter.json?page=/pricing");
    check("counter", &counter);
    let mut renamed = counter.clone();
    renamed["page_views"] = renamed["pageviews"].take();
    renamed.as_object_mut().unwrap().remove("pageviews");
    assert!(
        !validator("counter").is_valid(&renamed),
        "the schema refuses a renamed key"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let snap = loop {
        let (status, _, body) = http(addr, "GET", "/api/live.json?page=/reading", &[], "");
        if status == 200 {
            let v: Value = serde_json::from_str(&body).unwrap();
            if v["visitors"] == 1 {
                break v;
            }
        }
        assert!(Instant::now() < deadline, "{status}: {body}");
        std::thread::sleep(Duration::from_millis(200));
    };
    check("live", &snap);
    tail.signal(libc::SIGTERM);
    assert_eq!(tail.wait_for_exit(Duration::from_secs(5)), Some(0));
}
