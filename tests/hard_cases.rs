//! The error classes that real logs showed logtally's human figures (issue #24), one test each on
//! a hand-written day that shows it, through the real binary and a real database: what a bot
//! does to pass for a person, and what people do that looked like a bot.

mod common;

use common::day::{browse, people};
use common::{json, Env};

fn report(env: &Env, sections: &[&str]) -> serde_json::Value {
    json(
        env.cmd()
            .args(["stats", "--tz", "UTC", "--no-refresh", "--format", "json"])
            .args(["--since", "2024-10-14", "--until", "2024-10-14", "--db"])
            .arg(env.db())
            .args(sections),
        0,
    )
}

/// The hits of each bot reason.
fn bot_hits(v: &serde_json::Value) -> Vec<(String, u64)> {
    v["sections"]["bots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["reason"].as_str().unwrap().to_string(),
                r["hits"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Class 4: browsers that came out before HTTP/2 cannot have made a request over it. An agent
/// claiming one on an HTTP/2 request is lying, however fully it renders the page.
#[test]
fn a_browser_older_than_http2_on_an_http2_request_is_a_bot_however_it_renders() {
    let env = Env::new();
    let ie10 = "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)";
    let chrome40 = "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36";
    let presto = "Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18";
    let mut log = people();
    for (i, agent) in [ie10, chrome40, presto].iter().enumerate() {
        log.push_str(&browse(
            40 + i as u32,
            &format!("81.2.70.{}", 10 + i),
            "/",
            "https://www.google.com/",
            agent,
        ));
    }
    env.import_and_rollup(&env.write("access.log", log), &[]);
    let v = report(&env, &["overview", "bots"]);
    assert_eq!(v["overview"]["pageviews"], 5, "the five people only: {v:#}");
    let hits = bot_hits(&v);
    assert!(
        hits.contains(&("ua-no-http2".to_string(), 6)),
        "IE 10 and Presto Opera over HTTP/2, page and subresources: {hits:?}"
    );
    assert!(
        hits.contains(&("ua-old-browser".to_string(), 3)),
        "Chrome 40 in 2024 is old whatever its protocol: {hits:?}"
    );
}
