//! `logtally serve`, end to end: the real server on a database built from a known log, asked
//! over HTTP, and driven in Debian's headless chromium through chromedriver (W3C WebDriver, spoken
//! here over plain HTTP): the figures on the page are those of `stats --format json`, clicking a
//! source filters the view, the period picker changes it, and the page fetches nothing from
//! anywhere. CI installs chromium and chromium-driver.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::web::{http, serve, tail_on, Browser};
use common::Env;
use serde_json::{json, Value};

fn stats_json(env: &Env, extra: &[&str]) -> Value {
    common::json(
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
                "--db",
            ])
            .arg(env.db())
            .args(extra),
        0,
    )
}

fn built() -> Env {
    let env = Env::new();
    let log = env.write("access.log", common::three_days_of_people(6, "/blog/a"));
    env.import_and_rollup(&log, &[]);
    env
}

#[test]
fn the_dashboard_answers_with_the_figures_of_stats_and_refuses_nonsense() {
    let env = built();
    let (_server, addr) = serve(&env, &[]);
    let (status, head, body) = http(addr, "GET", "/report.json?period=all", &[], "");
    assert_eq!(status, 200, "{body}");
    let served: Value = serde_json::from_str(&body).unwrap();
    let stats = stats_json(&env, &[]);
    assert_eq!(served["overview"], stats["overview"]);
    assert!(head
        .to_ascii_lowercase()
        .contains("content-security-policy: default-src 'none'"));
    let filtered = http(
        addr,
        "GET",
        "/report.json?period=all&filter=source%3DHacker%20News",
        &[],
        "",
    )
    .2;
    let served: Value = serde_json::from_str(&filtered).unwrap();
    assert_eq!(
        served["overview"],
        stats_json(&env, &["--filter", "source=Hacker News"])["overview"]
    );
    assert_eq!(served["filters"], json!(["source=Hacker News"]));
    for (path, needle) in [
        ("/?filter=colour%3Dred", "unknown filter key"),
        ("/?period=fortnight", "periods are"),
        ("/?since=2026-13-01", "YYYY-MM-DD"),
        ("/?x=1", "unknown parameter"),
        ("/?filter=%ZZ", "bad escape"),
    ] {
        let (status, _, body) = http(addr, "GET", path, &[], "");
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains(needle), "{path}: {body}");
    }
    assert_eq!(http(addr, "GET", "/nothing-here", &[], "").0, 404);
    let (status, _, page) = http(addr, "GET", "/?period=all", &[], "");
    assert_eq!(status, 200);
    assert!(
        page.contains("no `logtally tail` is running"),
        "the now panel says so"
    );
}

#[test]
fn days_kept_in_memory_are_read_again_once_rollup_rewrites_them() {
    let env = built();
    let (_server, addr) = serve(&env, &[]);
    let view = "/report.json?period=all&filter=page%3D%2Fblog%2Fb";
    let read = |path: &str| -> Value {
        serde_json::from_str(&http(addr, "GET", path, &[], "").2).unwrap()
    };
    let before = read(view);
    assert_eq!(
        before["overview"]["visits"],
        json!(0),
        "no one read /blog/b yet"
    );
    // The same days gain visits: rollup rewrites them while the dashboard holds them.
    let more = env.write("more.log", common::three_days_of_people(7, "/blog/b"));
    env.import_and_rollup(&more, &[]);
    let after = read(view);
    assert_eq!(
        after["overview"]["visits"],
        json!(60),
        "20 a day, over three days"
    );
    assert_eq!(
        after["overview"],
        stats_json(&env, &["--filter", "page=/blog/b"])["overview"]
    );
    assert_eq!(
        read("/report.json?period=all")["overview"],
        stats_json(&env, &[])["overview"]
    );
}

#[test]
fn listening_beyond_loopback_needs_a_password_and_asks_for_it() {
    let env = built();
    let out = env
        .cmd()
        .args(["serve", "--tz", "UTC", "--listen", "0.0.0.0:0", "--db"])
        .arg(env.db())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--auth"));
    let secret = env.write("password", "correct horse battery staple\n");
    let (_server, addr) = serve(&env, &["--auth", secret.to_str().unwrap()]);
    let (status, head, _) = http(addr, "GET", "/", &[], "");
    assert_eq!(status, 401);
    assert!(head
        .to_ascii_lowercase()
        .contains("www-authenticate: basic"));
    // "me:correct horse battery staple" and a wrong password.
    let good = "Basic bWU6Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==";
    assert_eq!(
        http(addr, "GET", "/?period=all", &[("Authorization", good)], "").0,
        200
    );
    assert_eq!(
        http(
            addr,
            "GET",
            "/",
            &[("Authorization", "Basic bWU6d3Jvbmc=")],
            ""
        )
        .0,
        401
    );
}

#[test]
fn in_a_real_browser_clicking_a_source_filters_and_the_period_picker_works() {
    let env = built();
    let (_server, addr) = serve(&env, &[]);
    let browser = Browser::start(&env);
    let origin = format!("http://{addr}");
    browser.go(&format!("{origin}/?period=all"));
    let all = stats_json(&env, &[]);
    assert_eq!(
        browser.visitors(),
        all["overview"]["visitors"].as_u64().unwrap()
    );

    // Click a source: the filter is added, the URL holds it, the figures are the filtered ones.
    browser.click("a[data-filter-add='source=Hacker News']");
    browser.wait_for_url("filter=source%3DHacker%20News");
    let url = browser.call("GET", "/url", json!({}));
    assert!(
        url.as_str()
            .unwrap()
            .contains("filter=source%3DHacker%20News"),
        "{url}"
    );
    let hn = stats_json(&env, &["--filter", "source=Hacker News"]);
    assert_eq!(
        browser.visitors(),
        hn["overview"]["visitors"].as_u64().unwrap()
    );
    let chips =
        browser.script("return [...document.querySelectorAll('.chip')].map(c => c.dataset.filter)");
    assert_eq!(chips, json!(["source=Hacker News"]));

    // The period picker: one day, filter kept.
    browser.script("document.querySelector('input[name=since]').value = '2026-11-03'; document.querySelector('input[name=until]').value = '2026-11-03'; return 0");
    browser.click("form[aria-label='custom range'] button");
    browser.wait_for_url("since=2026-11-03");
    let day = common::json(
        env.cmd()
            .args([
                "stats",
                "--tz",
                "UTC",
                "--since",
                "2026-11-03",
                "--until",
                "2026-11-03",
                "--format",
                "json",
                "--no-refresh",
            ])
            .args(["--filter", "source=Hacker News", "--db"])
            .arg(env.db()),
        0,
    );
    assert_eq!(
        browser.visitors(),
        day["overview"]["visitors"].as_u64().unwrap()
    );

    // Removing the chip brings the unfiltered figures of that day back.
    browser.click("a[data-filter-remove='source=Hacker News']");
    browser.wait_for_url("until=2026-11-03");
    let deadline = Instant::now() + Duration::from_secs(20);
    while browser.script("return document.querySelectorAll('.chip').length") != json!(0) {
        assert!(Instant::now() < deadline, "the chip goes");
        std::thread::sleep(Duration::from_millis(50));
    }
    let chips = browser.script("return document.querySelectorAll('.chip').length");
    assert_eq!(chips, json!(0));

    // Nothing was fetched from anywhere but this server.
    let fetched =
        browser.script("return performance.getEntriesByType('resource').map(e => e.name)");
    for name in fetched.as_array().unwrap() {
        assert!(name.as_str().unwrap().starts_with(&origin), "{name}");
    }

    let png = browser.call("GET", "/screenshot", json!({}));
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let bytes = logtally::serve::params::base64_decode(png.as_str().unwrap()).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"));
    std::fs::write(shots.join("dashboard.png"), bytes).unwrap();
}

/// Lines of `n` people reading `page` (each followed by its stylesheet) at about this moment,
/// from 198.51.100.N with a current Firefox: what `tail` counts as on the site now.
fn people_now(n: u32, page: &str) -> String {
    let now = chrono::Utc::now();
    let when = now.format("%d/%b/%Y:%H:%M:%S +0000");
    let agent = common::firefox_at(now.timestamp_millis());
    (1..=n)
        .map(|i| {
            format!(
                "198.51.100.{i} - - [{when}] \"GET {page} HTTP/1.1\" 200 900 \"-\" \"{agent}\"\n\
                 198.51.100.{i} - - [{when}] \"GET /app.css HTTP/1.1\" 200 900 \"https://example.com{page}\" \"{agent}\"\n"
            )
        })
        .collect()
}

/// Sends `path` on each of `streams` at once (all connected first), and returns each status.
fn all_at_once(streams: Vec<std::net::TcpStream>, paths: &[String]) -> Vec<u16> {
    use std::io::{Read, Write};
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(streams.len()));
    let threads: Vec<_> = streams
        .into_iter()
        .zip(paths.iter().cycle())
        .map(|(mut s, path)| {
            let (barrier, path) = (barrier.clone(), path.clone());
            std::thread::spawn(move || {
                s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                barrier.wait();
                write!(
                    s,
                    "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                )
                .unwrap();
                let mut head = [0u8; 12];
                s.read_exact(&mut head).unwrap();
                let mut rest = Vec::new();
                let _ = s.read_to_end(&mut rest);
                String::from_utf8_lossy(&head[9..12])
                    .parse::<u16>()
                    .unwrap()
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn three_hundred_connections_at_once_get_200_or_503_and_a_rollup_changes_the_next_answer() {
    let env = built();
    let log = env.write("now.log", people_now(3, "/reading"));
    let mut tail = tail_on(&env, &log);
    // One worker and a queue of two: most distinct views at once must be refused, not queued.
    let (mut server, addr) = serve(&env, &["--workers", "1", "--queue", "2", "--timeout", "5s"]);
    let mut paths: Vec<String> = (0..60)
        .map(|i| format!("/?period=all&filter=page%21%3D%2Fnothing-{i}"))
        .collect();
    for p in [
        "/?period=all",
        "/report.json?period=all",
        "/api/pages.json?period=all",
        "/api/counter.json?page=/pricing",
        "/api/counter.svg?page=/pricing",
        "/api/live.json?page=/reading",
    ] {
        paths.extend(std::iter::repeat_n(p.to_string(), 40));
    }
    let streams: Vec<std::net::TcpStream> = (0..300)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let statuses = all_at_once(streams, &paths);
    let count = |code| statuses.iter().filter(|s| **s == code).count();
    assert_eq!(
        count(200) + count(503),
        300,
        "only 200 and 503: {statuses:?}"
    );
    assert!(count(200) > 0, "some are answered");
    assert!(count(503) > 0, "the excess is shed");
    assert!(server.0.try_wait().unwrap().is_none(), "serve is alive");

    // A plain request is answered once the burst is over.
    let deadline = Instant::now() + Duration::from_secs(20);
    let before = loop {
        let (status, _, body) = http(addr, "GET", "/api/pages.json?period=all", &[], "");
        if status == 200 {
            break serde_json::from_str::<Value>(&body).unwrap();
        }
        assert_eq!(status, 503);
        assert!(Instant::now() < deadline, "serve never recovered");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!before.to_string().contains("/blog/b"));
    // The live count comes from the running tail.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _, body) = http(addr, "GET", "/api/live.json?page=/reading", &[], "");
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        if status == 200 && v["page"]["visitors"] == 3 {
            assert_eq!(v["visitors"], 3, "{v}");
            break;
        }
        assert!(Instant::now() < deadline, "{status} {body}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // A rollup between two requests changes the second answer: nothing stale is kept.
    let more = env.write("more.log", common::three_days_of_people(7, "/blog/b"));
    env.import_and_rollup(&more, &[]);
    let (status, _, body) = http(addr, "GET", "/api/pages.json?period=all", &[], "");
    assert_eq!(status, 200);
    let after: Value = serde_json::from_str(&body).unwrap();
    assert_ne!(after, before);
    let blog_b = after["pages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["page"] == "/blog/b")
        .cloned();
    assert_eq!(
        blog_b,
        Some(json!({"page": "/blog/b", "visitors": 60, "pageviews": 60})),
        "{after}"
    );
    let metrics = http(addr, "GET", "/metrics", &[], "").2;
    for needle in [
        "logtally_serve_answers_total{class=\"5xx\"}",
        "logtally_serve_shed_total",
        "logtally_serve_cache_hits_total",
    ] {
        assert!(metrics.contains(needle), "{needle} in {metrics}");
    }
    assert!(metrics.trim_end().ends_with("# EOF"));
    tail.signal(libc::SIGTERM);
    assert_eq!(tail.wait_for_exit(Duration::from_secs(5)), Some(0));
}

#[test]
fn answers_come_compressed_with_an_etag_and_revalidate_with_304() {
    let env = built();
    let (_server, addr) = serve(&env, &[]);
    let plain = http(addr, "GET", "/report.json?period=all", &[], "");
    assert_eq!(plain.0, 200);
    let head = plain.1.to_ascii_lowercase();
    assert!(head.contains("cache-control: no-cache"), "{head}");
    assert!(head.contains("vary: accept-encoding"), "{head}");
    let etag = head
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .unwrap()
        .trim()
        .to_string();
    for (accept, coding) in [("gzip, deflate, br", "br"), ("gzip", "gzip")] {
        let (status, head, _) = http(
            addr,
            "GET",
            "/report.json?period=all",
            &[("Accept-Encoding", accept)],
            "",
        );
        assert_eq!(status, 200);
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("content-encoding: {coding}")),
            "{accept}: {head}"
        );
    }
    let (status, _, body) = http(
        addr,
        "GET",
        "/report.json?period=all",
        &[("If-None-Match", &etag)],
        "",
    );
    assert_eq!((status, body.as_str()), (304, ""), "unchanged: no body");
    // After a rollup the tag no longer matches.
    let more = env.write("more.log", common::three_days_of_people(7, "/blog/b"));
    env.import_and_rollup(&more, &[]);
    let (status, _, _) = http(
        addr,
        "GET",
        "/report.json?period=all",
        &[("If-None-Match", &etag)],
        "",
    );
    assert_eq!(status, 200);
}

/// The `pages` rows of `stats` over all days, as the API shapes them.
fn stats_pages(env: &Env) -> Vec<Value> {
    stats_json(env, &["pages"])["sections"]["pages"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn the_api_answers_the_figures_of_stats_to_the_origins_allowed_without_the_password() {
    let env = built();
    let secret = env.write("password", "correct horse battery staple\n");
    let (_server, addr) = serve(
        &env,
        &[
            "--auth",
            secret.to_str().unwrap(),
            "--public-api",
            "--allow-origin",
            "https://site.example",
        ],
    );
    let origin = [("Origin", "https://site.example")];
    let (status, head, body) = http(addr, "GET", "/api/pages.json?period=all", &origin, "");
    assert_eq!(status, 200, "{body}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("access-control-allow-origin: https://site.example"),
        "{head}"
    );
    assert!(!head.contains("set-cookie"));
    let pages: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(pages["pages"], json!(stats_pages(&env)));
    assert_eq!(pages["from"], "2026-11-02");
    assert_eq!(pages["until"], "2026-11-04");
    let (_, _, two) = http(addr, "GET", "/api/pages.json?period=all&limit=2", &[], "");
    let two: Value = serde_json::from_str(&two).unwrap();
    assert_eq!(two["pages"], json!(stats_pages(&env)[..2]));

    let pricing = stats_pages(&env)
        .into_iter()
        .find(|p| p["page"] == "/pricing")
        .unwrap();
    let (status, _, body) = http(
        addr,
        "GET",
        "/api/counter.json?page=/pricing?ref=x",
        &origin,
        "",
    );
    assert_eq!(status, 200, "{body}");
    let counter: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(counter["page"], "/pricing");
    assert_eq!(counter["visitors"], pricing["visitors"]);
    assert_eq!(counter["pageviews"], pricing["pageviews"]);
    let (status, head, svg) = http(addr, "GET", "/api/counter.svg?page=/pricing", &[], "");
    assert_eq!(status, 200);
    assert!(head
        .to_ascii_lowercase()
        .contains("content-type: image/svg+xml"));
    assert!(
        svg.contains(&format!(">{}</text>", pricing["pageviews"])),
        "{svg}"
    );
    let (_, _, unknown) = http(addr, "GET", "/api/counter.json?page=/never", &[], "");
    assert_eq!(
        serde_json::from_str::<Value>(&unknown).unwrap()["pageviews"],
        0
    );

    // Other origins get no grant; the dashboard keeps its password and never grants one.
    let (_, head, _) = http(
        addr,
        "GET",
        "/api/pages.json?period=all",
        &[("Origin", "https://evil.example")],
        "",
    );
    assert!(!head
        .to_ascii_lowercase()
        .contains("access-control-allow-origin"));
    assert_eq!(http(addr, "GET", "/report.json", &origin, "").0, 401);
    assert_eq!(http(addr, "GET", "/", &[], "").0, 401);
    let good = "Basic bWU6Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==";
    let (status, head, _) = http(
        addr,
        "GET",
        "/report.json",
        &[("Authorization", good), origin[0]],
        "",
    );
    assert_eq!(status, 200);
    assert!(!head
        .to_ascii_lowercase()
        .contains("access-control-allow-origin"));
    for (path, needle) in [
        ("/api/pages.json?limit=0", "limit"),
        ("/api/pages.json?page=/a", "unknown parameter"),
        ("/api/counter.json", "page is needed"),
        ("/api/live.json?period=7d", "about now"),
    ] {
        let (status, _, body) = http(addr, "GET", path, &[], "");
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains(needle), "{path}: {body}");
    }
    // No tail runs: the live count is unavailable, and says why.
    let (status, head, body) = http(addr, "GET", "/api/live.json", &[], "");
    assert_eq!(status, 503, "{body}");
    assert!(head.to_ascii_lowercase().contains("retry-after: 1"));
    assert!(body.contains("no `logtally tail` is running"));
}

/// The README's "popular posts" and "N reading now" snippet, pointed at `stats`.
fn readme_snippet(stats: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let after = readme
        .split("<!-- snippet: popular-and-reading -->")
        .nth(1)
        .expect("the README holds the snippet");
    let html = after
        .split("```html\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .unwrap();
    assert!(html.contains("https://stats.example.com"));
    html.replace("https://stats.example.com", stats)
}

/// Serves the page `page` holds at every path of `listener` (the site: another origin than the
/// statistics), on a thread, until the test ends.
fn site_serving(listener: std::net::TcpListener, page: std::sync::Arc<std::sync::Mutex<String>>) {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = page.lock().unwrap().clone();
            let html = format!("<!doctype html><html><head><meta charset=utf-8><title>A post</title></head><body>{body}</body></html>");
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
                html.len()
            );
        }
    });
}

/// Yesterday's readers: five of `/posts/hello`, three of `/posts/other`, each with its
/// stylesheet.
fn yesterdays_readers() -> String {
    let day = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
    let mut lines = String::new();
    for (i, page) in ["/posts/hello"; 5]
        .iter()
        .chain(["/posts/other"; 3].iter())
        .enumerate()
    {
        let ts = day.and_hms_opt(10, i as u32, 0).unwrap().and_utc();
        let when = ts.format("%d/%b/%Y:%H:%M:%S +0000");
        let agent = common::firefox_at(ts.timestamp_millis());
        let ip = format!("192.0.2.{}", i + 1);
        lines.push_str(&format!(
            "{ip} - - [{when}] \"GET {page} HTTP/1.1\" 200 900 \"-\" \"{agent}\"\n\
             {ip} - - [{when}] \"GET /app.css HTTP/1.1\" 200 900 \"https://example.com{page}\" \"{agent}\"\n"
        ));
    }
    lines
}

#[test]
fn the_readme_snippet_shows_popular_posts_and_readers_now_on_another_origin_in_a_browser() {
    let env = Env::new();
    let log = env.write("access.log", yesterdays_readers());
    env.import_and_rollup(&log, &[]);
    let now = env.write("now.log", people_now(2, "/posts/hello"));
    let mut tail = tail_on(&env, &now);
    // The site is bound first, so that the statistics can grant its origin.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let site = listener.local_addr().unwrap();
    let page = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    site_serving(listener, page.clone());
    let origin = format!("http://{site}");
    let (_server, stats) = serve(&env, &["--public-api", "--allow-origin", &origin]);
    *page.lock().unwrap() = readme_snippet(&format!("http://{stats}"));
    check_snippet(&env, site, stats, &mut tail);
}

fn check_snippet(
    env: &Env,
    site: std::net::SocketAddr,
    stats: std::net::SocketAddr,
    tail: &mut common::Running,
) {
    let browser = Browser::start(env);
    browser.go(&format!("http://{site}/posts/hello"));
    let want: Value =
        serde_json::from_str(&http(stats, "GET", "/api/pages.json?period=30d&limit=5", &[], "").2)
            .unwrap();
    let want: Vec<String> = want["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{} ({})", p["page"].as_str().unwrap(), p["visitors"]))
        .collect();
    assert_eq!(want, ["/posts/hello (5)", "/posts/other (3)"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let shown = browser.script(
            "return [...document.querySelectorAll('#popular li')].map(li => li.textContent)",
        );
        let reading = browser.script("return document.getElementById('reading').textContent");
        if shown == json!(want) && reading == json!("2") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "shown {shown}, reading {reading}; tail: {}",
            tail.stderr_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let links = browser.script(
        "return [...document.querySelectorAll('#popular a')].map(a => a.getAttribute('href'))",
    );
    assert_eq!(links, json!(["/posts/hello", "/posts/other"]));
    tail.signal(libc::SIGTERM);
    assert_eq!(tail.wait_for_exit(Duration::from_secs(5)), Some(0));
}

#[test]
fn idle_and_slow_clients_are_let_go_and_keep_no_one_waiting() {
    use std::io::{Read, Write};
    let env = built();
    let (mut server, addr) = serve(&env, &["--client-timeout", "1s", "--max-connections", "64"]);
    // Forty idle connections, and ten clients sending their request a byte at a time.
    let idle: Vec<std::net::TcpStream> = (0..40)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let slow: Vec<std::net::TcpStream> = (0..10)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /?period=all HTTP/1.1\r\nHo").unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    assert_eq!(http(addr, "GET", "/report.json?period=all", &[], "").0, 200);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered beside them"
    );
    // Past the client time-out the server has closed them all.
    std::thread::sleep(Duration::from_millis(2500));
    for mut s in idle.into_iter().chain(slow) {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(s.read(&mut buf).unwrap_or(0), 0, "closed by the server");
    }
    // Beyond --max-connections, a connection is answered 503 at once and closed.
    let held: Vec<std::net::TcpStream> = (0..64)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let (status, head, _) = http(addr, "GET", "/", &[], "");
    assert_eq!(status, 503, "{head}");
    assert!(head.to_ascii_lowercase().contains("retry-after: 1"));
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(http(addr, "GET", "/report.json?period=all", &[], "").0, 200);
    assert!(server.0.try_wait().unwrap().is_none());
}
