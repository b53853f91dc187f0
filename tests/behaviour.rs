//! End to end: what counts as a person and as a page view on small hand-written logs, through the
//! real binary and a real database. Each test holds one rule of README's "What counts" and "Bots".

mod common;

use common::day::{browse, line, people, report, CHROME, FIREFOX};
use common::{json, Env};
use predicates::prelude::*;

fn import_rollup(env: &Env, name: &str, log: &str) {
    env.import_and_rollup(&env.write(name, log), &[]);
}

fn section_keys(v: &serde_json::Value, section: &str, key: &str) -> Vec<String> {
    v["sections"][section]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn endpoints_feeds_admin_and_media_are_not_page_views() {
    let env = Env::new();
    let ip = "81.2.69.20";
    let mut log = people();
    for (i, request) in [
        "GET /wp-json/wp/v2/posts HTTP/2.0",
        "GET //xmlrpc.php HTTP/2.0",
        "GET /feed/ HTTP/2.0",
        "GET /api/v1/items HTTP/2.0",
        "GET /admin/ HTTP/2.0",
        "GET /graphql HTTP/2.0",
        "GET /video/seg-001.ts HTTP/2.0",
        "GET /photo.jpe HTTP/2.0",
        "GET /images/12345 HTTP/2.0",
        "GET /blog//post HTTP/2.0",
    ]
    .iter()
    .enumerate()
    {
        log.push_str(&line(30 + i as u32, ip, request, 200, "-", FIREFOX));
    }
    log.push_str(&line(
        41,
        ip,
        "GET /static/site.css HTTP/2.0",
        200,
        "https://example.com/blog/post",
        FIREFOX,
    ));
    import_rollup(&env, "a.log", &log);
    let v = report(&env, &["overview", "pages"]);
    assert_eq!(
        v["overview"]["pageviews"], 6,
        "five people's / and /blog/post: {v:#}"
    );
    let pages = section_keys(&v, "pages", "page");
    assert_eq!(
        pages,
        vec!["/".to_string(), "/blog/post".into()],
        "// collapsed"
    );
}

#[test]
fn browsers_are_judged_by_the_day_of_the_hit() {
    // Chrome 44 was current in September 2015, and nine years old in October 2024.
    let chrome_44 = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/44.0.2403.157 Safari/537.36";
    let env = Env::new();
    let old = line(1, "81.2.69.30", "GET / HTTP/1.1", 200, "-", chrome_44)
        .replace("14/Oct/2024", "12/Sep/2015");
    let new = line(1, "81.2.69.30", "GET / HTTP/1.1", 200, "-", chrome_44);
    import_rollup(&env, "a.log", &format!("{old}{new}"));
    let bots = |day: &str| -> serde_json::Value {
        json(
            env.cmd()
                .args(["stats", "--tz", "UTC", "--no-refresh", "--format", "json"])
                .args(["--since", day, "--until", day, "--db"])
                .arg(env.db())
                .args(["overview", "bots"]),
            0,
        )
    };
    assert_eq!(bots("2015-09-12")["overview"]["pageviews"], 1);
    let v = bots("2024-10-14");
    assert_eq!(v["overview"]["pageviews"], 0);
    assert_eq!(section_keys(&v, "bots", "reason"), vec!["ua-old-browser"]);
}

#[test]
fn an_obsolete_browser_is_a_person_when_it_loads_its_pages_and_a_bot_when_it_probes() {
    // Internet Explorer 8 in 2024, on a site served over HTTP/1.1 (IE 8 speaks nothing newer):
    // a forgotten machine loading a page with all it needs, and the same agent elsewhere probing
    // for /.env with a stylesheet fetched to look the part.
    let ie8 = "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)";
    let env = Env::new();
    let mut log = people();
    log.push_str(&browse(20, "81.2.69.60", "/", "-", ie8));
    log.push_str(&browse(30, "81.2.69.61", "/", "-", ie8));
    log.push_str(&line(31, "81.2.69.61", "GET /.env HTTP/1.1", 404, "-", ie8));
    log.push_str(&line(40, "81.2.69.62", "GET / HTTP/1.1", 200, "-", ie8));
    let log = log.replace("HTTP/2.0", "HTTP/1.1");
    import_rollup(&env, "a.log", &log);
    let check = |env: &Env| {
        let v = report(env, &["overview", "bots"]);
        assert_eq!(v["overview"]["pageviews"], 5 + 1, "{v:#}");
        let reasons = section_keys(&v, "bots", "reason");
        assert!(reasons.contains(&"probe-path".to_string()), "{reasons:?}");
        assert!(reasons.contains(&"ua-obsolete".to_string()), "{reasons:?}");
    };
    check(&env);
    // Rolling the day up again decides it the same way.
    env.cmd()
        .args(["rollup", "--rebuild", "--tz", "UTC", "--db"])
        .arg(env.db())
        .assert()
        .success();
    check(&env);
}

#[test]
fn agents_with_non_ascii_bytes_are_named_without_breaking_rollup() {
    let env = Env::new();
    let mut log = people();
    log.push_str(&line(
        20,
        "81.2.69.70",
        "GET /post HTTP/1.1",
        200,
        "-",
        "Xébot/1.0",
    ));
    log.push_str(&line(
        21,
        "81.2.69.71",
        "GET /post HTTP/1.1",
        200,
        "-",
        "ñ-spider (+https://x.example)",
    ));
    import_rollup(&env, "a.log", &log);
    let v = report(&env, &["bots"]);
    let names = section_keys(&v, "crawlers", "crawler");
    assert_eq!(names, vec!["bot".to_string(), "spider".into()], "{v:#}");
}

#[test]
fn a_browser_at_work_is_a_person_the_same_agent_without_one_from_a_cloud_is_not() {
    let env = Env::new();
    let mut log = people();
    // A person reading three pages with their subresources, from home.
    for (i, path) in ["/a", "/b", "/c"].iter().enumerate() {
        log.push_str(&browse(
            20 + i as u32 * 4,
            "81.2.69.40",
            path,
            "https://example.com/",
            CHROME,
        ));
    }
    // The same agent from an AWS address, pages only, fast.
    for (i, path) in ["/a", "/b", "/c", "/d"].iter().enumerate() {
        log.push_str(&line(
            40 + i as u32,
            "3.80.0.7",
            &format!("GET {path} HTTP/2.0"),
            200,
            "-",
            CHROME,
        ));
    }
    import_rollup(&env, "a.log", &log);
    let v = report(&env, &["overview", "bots"]);
    assert_eq!(v["overview"]["pageviews"], 5 + 3, "{v:#}");
    assert_eq!(section_keys(&v, "bots", "reason"), vec!["datacenter"]);
}

#[test]
fn a_verdict_changes_when_late_lines_show_the_subresources() {
    let env = Env::new();
    // A person on a VPN: the page arrives first, its subresources in a later file.
    let page = line(
        30,
        "3.80.0.9",
        "GET /post HTTP/2.0",
        200,
        "https://www.google.com/",
        FIREFOX,
    );
    import_rollup(&env, "a.log", &format!("{}{page}", people()));
    assert_eq!(
        report(&env, &["overview"])["overview"]["pageviews"],
        5,
        "pages from a cloud address, nothing loaded"
    );
    let url = "https://example.com/post";
    let late = [
        line(
            30,
            "3.80.0.9",
            "GET /static/site.css HTTP/2.0",
            200,
            url,
            FIREFOX,
        ),
        line(
            30,
            "3.80.0.9",
            "GET /images/post.webp HTTP/2.0",
            200,
            url,
            FIREFOX,
        ),
        line(33, "3.80.0.9", "GET /next HTTP/2.0", 200, url, FIREFOX),
    ]
    .concat();
    import_rollup(&env, "b.log", &late);
    assert_eq!(
        report(&env, &["overview"])["overview"]["pageviews"],
        7,
        "the day is decided again with its subresources"
    );
}

#[test]
fn the_sites_own_host_and_address_are_internal_and_referrer_spam_is_no_source() {
    let env = Env::new();
    let mut log = people();
    // A visit referred by the site itself (its host named by every subresource) and one by the
    // server's address; a spam referrer from the shipped list.
    log.push_str(&browse(20, "81.2.69.50", "/", "-", FIREFOX));
    log.push_str(&browse(
        21,
        "81.2.69.50",
        "/about",
        "https://example.com/",
        FIREFOX,
    ));
    log.push_str(&browse(
        40,
        "81.2.69.51",
        "/",
        "http://203.0.113.80/",
        CHROME,
    ));
    log.push_str(&line(
        45,
        "81.2.69.52",
        "GET / HTTP/1.1",
        200,
        "http://01casino-x.ru/",
        CHROME,
    ));
    import_rollup(&env, "a.log", &log);
    let v = report(&env, &["overview", "sources", "bots"]);
    let sources = section_keys(&v, "sources", "source");
    assert_eq!(
        sources,
        vec!["Google".to_string(), "Direct".into()],
        "{v:#}"
    );
    assert!(section_keys(&v, "bots", "reason").contains(&"referrer-spam".to_string()));
}

#[test]
fn stats_bots_names_the_crawlers() {
    let env = Env::new();
    let mut log = people();
    for i in 0..3 {
        log.push_str(&line(20 + i, "20.171.207.17", "GET /post HTTP/1.1", 200, "-", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"));
    }
    log.push_str(&line(
        30,
        "66.249.66.1",
        "GET / HTTP/1.1",
        200,
        "-",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    ));
    import_rollup(&env, "a.log", &log);
    let v = report(&env, &["bots"]);
    assert_eq!(
        v["sections"]["crawlers"],
        serde_json::json!([
            {"crawler": "GPTBot", "hits": 3, "visitors": 1},
            {"crawler": "Googlebot", "hits": 1, "visitors": 1}
        ])
    );
    env.cmd()
        .args([
            "stats",
            "--tz",
            "UTC",
            "--no-refresh",
            "--since",
            "2024-10-14",
            "--until",
            "2024-10-14",
            "--db",
        ])
        .arg(env.db())
        .arg("bots")
        .assert()
        .success()
        .stdout(predicate::str::contains("crawlers").and(predicate::str::contains("GPTBot")));
}

#[test]
fn a_common_log_counts_people_and_says_its_browsers_stay_empty() {
    let env = Env::new();
    let log: String = (0..3)
        .map(|i| format!("81.2.69.{i} - - [14/Oct/2024:10:0{i}:00 +0000] \"GET /post-{i} HTTP/1.1\" 200 1000\n"))
        .collect();
    let path = env.write("common.log", &log);
    env.cmd()
        .args(["import", "--tz", "UTC", "--db"])
        .arg(env.db())
        .arg(&path)
        .assert()
        .success()
        .stdout(predicates::str::contains("records no user agent"));
    env.cmd()
        .args(["rollup", "--tz", "UTC", "--db"])
        .arg(env.db())
        .assert()
        .success();
    let v = report(&env, &["overview", "browsers"]);
    assert_eq!(v["overview"]["pageviews"], 3, "{v:#}");
    assert!(v["section_notes"]["browsers"]
        .as_str()
        .unwrap()
        .contains("without them"));
}

#[test]
fn a_custom_log_format_is_refused_with_the_one_its_fields_suggest() {
    let env = Env::new();
    let log = concat!(
        "183.162.52.7 - - [10/Nov/2016:00:01:02 +0800] \"POST /api3/getadv HTTP/1.1\" 200 813 \"www.imooc.com\" \"-\" cid=0&timestamp=1478707261865 \"mukewang/5.0.0 (Android 5.1.1; Xiaomi Redmi 3 Build/LMY47V)\" \"-\" 10.100.134.244:80 200 0.027 0.027\n",
        "117.35.88.11 - - [10/Nov/2016:00:01:02 +0800] \"GET /article/124 HTTP/1.1\" 200 2345 \"www.imooc.com\" \"http://www.imooc.com/code/1852\" - \"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36\" \"-\" 10.100.136.65:80 200 0.616 0.616\n",
    );
    let path = env.write("custom.log", log);
    let refused = || {
        predicate::str::contains("start like `combined` but are not").and(predicate::str::contains(
            "\"$host\" \"$http_referer\" $request_body \"$http_user_agent\"",
        ))
    };
    env.cmd()
        .args(["import", "--db"])
        .arg(env.db())
        .arg(&path)
        .assert()
        .code(1)
        .stderr(refused());
    env.cmd()
        .arg("check")
        .arg(&path)
        .assert()
        .code(1)
        .stderr(refused());
}
