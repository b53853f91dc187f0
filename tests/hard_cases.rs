//! The error classes that real logs showed logtally's human figures (issue #24), one test each on
//! a hand-written day that shows it, through the real binary and a real database: what a bot
//! does to pass for a person, and what people do that looked like a bot.

mod common;

use common::day::{browse, people, report};
use common::Env;

/// The hits of each bot reason of a report.
fn bot_hits(v: &serde_json::Value) -> Vec<(String, u64)> {
    reason_hits(&v["sections"]["bots"])
}

/// (reason, hits) of rows carrying both, as the bots section and `check --bots` give them.
fn reason_hits(rows: &serde_json::Value) -> Vec<(String, u64)> {
    rows.as_array()
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

/// Asserts that `check --bots` on `log` judges it as import and rollup did (report `v`, with
/// its overview and bots sections): the same people's page views, the same hits per reason.
fn check_agrees(env: &Env, log: &std::path::Path, v: &serde_json::Value) {
    let c = common::json(
        env.cmd()
            .args(["check", "--json", "--bots", "--tz", "UTC"])
            .arg(log),
        0,
    );
    let bots = &c["bots"];
    assert_eq!(bots["human_pageviews"], v["overview"]["pageviews"], "{c:#}");
    let mut checked = reason_hits(&bots["reasons"]);
    let mut rolled = bot_hits(v);
    checked.sort();
    rolled.sort();
    assert_eq!(checked, rolled, "check --bots and rollup");
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

/// A combined line on 2024-10-14 at `secs` seconds after 12:00 UTC, answered `bytes` bytes.
#[allow(clippy::too_many_arguments)]
fn at(
    secs: u32,
    ip: &str,
    request: &str,
    status: u16,
    bytes: u32,
    referrer: &str,
    agent: &str,
) -> String {
    format!(
        "{ip} - - [14/Oct/2024:{:02}:{:02}:{:02} +0000] \"{request}\" {status} {bytes} \"{referrer}\" \"{agent}\"\n",
        12 + secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A page at `secs` with its stylesheet and image, `scale` times the size most browsers get.
fn render(secs: u32, ip: &str, path: &str, referrer: &str, agent: &str, scale: u32) -> String {
    let page = format!("https://example.com{path}");
    [
        at(
            secs,
            ip,
            &format!("GET {path} HTTP/2.0"),
            200,
            9_000 * scale,
            referrer,
            agent,
        ),
        at(
            secs + 1,
            ip,
            "GET /static/site.css HTTP/2.0",
            200,
            3_000 * scale,
            &page,
            agent,
        ),
        at(
            secs + 1,
            ip,
            "GET /images/hero.webp HTTP/2.0",
            200,
            40_000,
            &page,
            agent,
        ),
    ]
    .concat()
}

/// Ten people reading `/` with what it needs, from their own addresses.
fn ten_people() -> String {
    (0..10)
        .map(|i| {
            render(
                i * 300,
                &format!("81.2.69.{}", 10 + i),
                "/",
                "https://www.google.com/",
                common::day::CHROME,
                1,
            )
        })
        .collect()
}

/// Class 1: a real browser engine driven by a bot renders every subresource, but its HTTP stack
/// asks for no compression: it takes the page and the stylesheet at their full size, several
/// times what every browser gets.
#[test]
fn a_full_render_that_takes_its_text_uncompressed_is_a_bot() {
    let env = Env::new();
    let mut log = ten_people();
    for i in 0..3 {
        log.push_str(&render(
            4_000 + i * 60,
            &format!("81.2.80.{}", 10 + i),
            "/",
            "-",
            common::day::CHROME,
            9,
        ));
    }
    let file = env.write("access.log", log);
    env.import_and_rollup(&file, &[]);
    let v = report(&env, &["overview", "bots"]);
    assert_eq!(v["overview"]["pageviews"], 10, "the ten people only: {v:#}");
    assert!(
        bot_hits(&v).contains(&("uncompressed".to_string(), 9)),
        "{:?}",
        bot_hits(&v)
    );
    check_agrees(&env, &file, &v);
}

/// Class 1 and 5: a day of one request, the home page, with no referrer and none of what it
/// loads, is what monitors and scrapers send, one address after another.
#[test]
fn a_day_of_one_bare_home_page_is_a_bot_and_a_lone_page_from_search_is_not() {
    let env = Env::new();
    let mut log = ten_people();
    for i in 0..4 {
        log.push_str(&at(
            5_000 + i * 900,
            &format!("81.2.81.{i}"),
            "GET / HTTP/2.0",
            200,
            9_000,
            "-",
            common::day::CHROME,
        ));
    }
    // A returning reader with the assets cached, arriving from a search: still a person.
    log.push_str(&at(
        6_000,
        "81.2.82.1",
        "GET /pricing HTTP/2.0",
        200,
        9_000,
        "https://www.google.com/",
        common::day::FIREFOX,
    ));
    env.import_and_rollup(&env.write("access.log", log), &[]);
    let v = report(&env, &["overview", "bots"]);
    assert_eq!(v["overview"]["pageviews"], 11, "{v:#}");
    assert!(
        bot_hits(&v).contains(&("lone-root".to_string(), 4)),
        "{:?}",
        bot_hits(&v)
    );
}

/// Class 2: a search engine prefetches a result from its proxy (a cloud address): the page only,
/// the engine as referrer, the reader's agent. When the same agent then loads the page's
/// subresources from its own address, without fetching the page itself, the reader opened it: one
/// page view, counted once. A prefetch nobody opened is no visit.
#[test]
fn a_search_engines_prefetch_that_the_reader_opens_is_one_page_view() {
    let env = Env::new();
    let reader = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36";
    let other = "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36";
    let mut log = ten_people();
    // Opened: the prefetch, then the reader's own address loads what the page needs.
    log.push_str(&at(
        4_000,
        "34.0.0.10",
        "GET /article HTTP/2.0",
        200,
        9_000,
        "https://www.google.com/",
        reader,
    ));
    log.push_str(&at(
        4_020,
        "81.2.90.7",
        "GET /static/site.css HTTP/2.0",
        200,
        3_000,
        "https://example.com/article",
        reader,
    ));
    log.push_str(&at(
        4_020,
        "81.2.90.7",
        "GET /images/hero.webp HTTP/2.0",
        200,
        40_000,
        "https://example.com/article",
        reader,
    ));
    // Never opened.
    log.push_str(&at(
        4_500,
        "34.0.0.10",
        "GET /other HTTP/2.0",
        200,
        9_000,
        "https://www.google.com/",
        other,
    ));
    env.import_and_rollup(&env.write("access.log", log), &[]);
    let v = report(&env, &["overview", "pages"]);
    assert_eq!(
        v["overview"]["pageviews"], 11,
        "the ten people and the opened prefetch: {v:#}"
    );
    let pages: Vec<&str> = v["sections"]["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["page"].as_str().unwrap())
        .collect();
    assert!(
        pages.contains(&"/article") && !pages.contains(&"/other"),
        "{pages:?}"
    );
}

/// Class 3: what is normal for a site's own audience tells nothing about a client. Behind a proxy
/// that logs every page as HTTP/1.0, HTTP/1.0 is no bot's sign; a carrier's NAT through which many
/// people render pages is a network, not one client rotating agents; a browser that renders its
/// pages and once looks at robots.txt is its owner checking it; an old phone that renders what it
/// reads is a person's, whatever the age of its browser.
#[test]
fn traits_normal_for_the_sites_audience_are_no_sign_of_a_bot() {
    // HTTP/1.0 for everyone: returning readers with cached assets, two pages, from a search.
    let env = Env::new();
    let mut log = ten_people().replace("HTTP/2.0", "HTTP/1.0");
    for i in 0..2 {
        let ip = format!("81.2.83.{i}");
        log.push_str(&at(
            5_000 + i * 100,
            &ip,
            "GET /pricing HTTP/1.0",
            200,
            9_000,
            "https://www.google.com/",
            common::day::FIREFOX,
        ));
        log.push_str(&at(
            5_060 + i * 100,
            &ip,
            "GET /about HTTP/1.0",
            200,
            9_000,
            "https://example.com/pricing",
            common::day::FIREFOX,
        ));
    }
    env.import_and_rollup(&env.write("access.log", log), &[]);
    assert_eq!(
        report(&env, &["overview"])["overview"]["pageviews"],
        14,
        "HTTP/1.0 site"
    );

    // A carrier NAT: twelve people render pages through one /24 that day, and six more with
    // other phones read a page each with their assets cached.
    let env = Env::new();
    let mut log = ten_people();
    for i in 0..12 {
        log.push_str(&render(
            4_000 + i * 30,
            &format!("100.64.7.{i}"),
            "/",
            "https://www.google.com/",
            common::day::SAFARI,
            1,
        ));
    }
    for i in 0..6 {
        let agent = format!("Mozilla/5.0 (Linux; Android 14; SM-S91{i}B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36");
        log.push_str(&at(
            5_000 + i * 30,
            &format!("100.64.7.{}", 50 + i),
            "GET / HTTP/2.0",
            200,
            9_000,
            "https://www.google.com/",
            &agent,
        ));
    }
    env.import_and_rollup(&env.write("access.log", log), &[]);
    assert_eq!(
        report(&env, &["overview"])["overview"]["pageviews"],
        28,
        "carrier NAT"
    );

    // The owner checks robots.txt between two pages; an Android 6 phone keeps its Chrome 50.
    let env = Env::new();
    let mut log = ten_people();
    log.push_str(&render(
        4_000,
        "81.2.84.1",
        "/",
        "-",
        common::day::FIREFOX,
        1,
    ));
    log.push_str(&at(
        4_010,
        "81.2.84.1",
        "GET /robots.txt HTTP/2.0",
        200,
        100,
        "-",
        common::day::FIREFOX,
    ));
    log.push_str(&render(
        4_100,
        "81.2.84.1",
        "/pricing",
        "https://example.com/",
        common::day::FIREFOX,
        1,
    ));
    let old_phone = "Mozilla/5.0 (Linux; Android 6.0.1; SM-J510FN Build/MMB29M) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/50.0.2661.89 Mobile Safari/537.36";
    log.push_str(&render(
        4_500,
        "81.2.84.2",
        "/",
        "https://www.google.com/",
        old_phone,
        1,
    ));
    env.import_and_rollup(&env.write("access.log", log), &[]);
    assert_eq!(
        report(&env, &["overview"])["overview"]["pageviews"],
        13,
        "owner and old phone"
    );
}

/// Class 5: a platform's link scanner renders the link it sends, click id and all, from the
/// platform's own network, with a current browser's agent; the person who clicks comes from theirs.
#[test]
fn a_link_with_a_click_id_rendered_from_a_datacenter_is_the_platforms_scanner() {
    let env = Env::new();
    let mut log = ten_people();
    log.push_str(&render(
        4_000,
        "173.252.127.5",
        "/?fbclid=IwAR0ATvpxMdrub",
        "-",
        common::day::CHROME,
        1,
    ));
    // It takes its time, as a person would: no headless renderer's few seconds.
    log.push_str(&at(
        4_030,
        "173.252.127.5",
        "GET /static/lang.js HTTP/2.0",
        200,
        500,
        "https://example.com/?fbclid=IwAR0ATvpxMdrub",
        common::day::CHROME,
    ));
    log.push_str(&render(
        4_200,
        "81.2.85.1",
        "/?fbclid=IwAR0ATvpxMdrub",
        "https://l.facebook.com/",
        common::day::SAFARI,
        1,
    ));
    env.import_and_rollup(&env.write("access.log", log), &[]);
    let v = report(&env, &["overview", "bots"]);
    assert_eq!(v["overview"]["pageviews"], 11, "{v:#}");
    assert!(
        bot_hits(&v).iter().any(|(r, _)| r == "click-scanner"),
        "{:?}",
        bot_hits(&v)
    );
}

/// Class 3, a server's own habit: where a proxy in front and the server behind it both log each
/// request (the backend's line over HTTP/1.0), a page read once is one page view; and what a page
/// fetches for itself at once (a frame, a script's call to a PHP endpoint) is none.
#[test]
fn a_request_logged_by_the_proxy_and_its_backend_and_what_a_page_embeds_count_once() {
    let env = Env::new();
    let mut log = String::new();
    for i in 0..10 {
        let ip = format!("81.2.69.{}", 10 + i);
        let secs = i * 300;
        let page = render(
            secs,
            &ip,
            "/",
            "https://www.google.com/",
            common::day::CHROME,
            1,
        );
        // The backend's copy of the page, the same second, small and over HTTP/1.0.
        log.push_str(&at(
            secs,
            &ip,
            "GET / HTTP/1.0",
            200,
            220,
            "https://www.google.com/",
            common::day::CHROME,
        ));
        log.push_str(&page);
        // The page's script asks an endpoint for its data at once.
        log.push_str(&at(
            secs + 1,
            &ip,
            "GET /getStaticData.php HTTP/2.0",
            200,
            700,
            "https://example.com/",
            common::day::CHROME,
        ));
    }
    let file = env.write("access.log", log);
    env.import_and_rollup(&file, &[]);
    let v = report(&env, &["overview", "pages", "bots"]);
    assert_eq!(v["overview"]["pageviews"], 10, "one a reader: {v:#}");
    assert_eq!(v["sections"]["pages"].as_array().unwrap().len(), 1, "{v:#}");
    check_agrees(&env, &file, &v);
}
