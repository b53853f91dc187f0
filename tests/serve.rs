//! `logtally serve`, end to end: the real server on a database built from a known log, asked
//! over HTTP, and driven in Debian's headless chromium through chromedriver (W3C WebDriver, spoken
//! here over plain HTTP): the figures on the page are those of `stats --format json`, clicking a
//! source filters the view, the period picker changes it, and the page fetches nothing from
//! anywhere. CI installs chromium and chromium-driver.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Env;
use serde_json::{json, Value};

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `logtally serve ARGS` and returns it with the address it prints.
fn serve(env: &Env, args: &[&str]) -> (Killed, SocketAddr) {
    let stderr = env.path("serve.err");
    let child = Command::new(assert_cmd::cargo::cargo_bin("logtally"))
        .args(["serve", "--tz", "UTC", "--listen", "127.0.0.1:0", "--db"])
        .arg(env.db())
        .args(args)
        .env_clear()
        .env("HOME", env.dir.path())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let child = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&stderr).unwrap_or_default();
        if let Some(at) = text.find("http://") {
            let addr = text[at + 7..].split('/').next().unwrap();
            return (child, addr.parse().unwrap());
        }
        assert!(Instant::now() < deadline, "serve did not start: {text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A plain HTTP/1.1 request; returns (status, headers, body).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    // Read the head, then as much body as it announces (a keep-alive peer never closes).
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = s.read(&mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
        let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") else {
            assert!(n > 0, "connection closed before the head ended");
            continue;
        };
        let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse::<usize>().unwrap());
        let done = match length {
            Some(len) => out.len() >= end + 4 + len,
            None if head.contains("transfer-encoding: chunked") => out.ends_with(b"0\r\n\r\n"),
            None => n == 0,
        };
        if done || n == 0 {
            break;
        }
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head[9..12].parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut b = String::new();
        let mut r = rest;
        while let Some((size, tail)) = r.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            b.push_str(&tail[..n]);
            r = &tail[n + 2..];
        }
        b
    } else {
        rest.to_string()
    };
    (status, head.to_string(), body)
}

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

/// A WebDriver session on chromedriver.
struct Browser {
    driver: Killed,
    addr: SocketAddr,
    session: String,
}

impl Browser {
    fn start(env: &Env) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "these tests need chromedriver: apt-get install chromium-driver (CI installs it)",
            );
        let driver = Killed(driver);
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = env.path("chrome-profile");
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600",
                     format!("--user-data-dir={}", profile.display())]
        }}}});
        let (status, _, body) = http(
            addr,
            "POST",
            "/session",
            &[("Content-Type", "application/json")],
            &caps.to_string(),
        );
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let session = v["value"]["sessionId"].as_str().unwrap().to_string();
        Browser {
            driver,
            addr,
            session,
        }
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, _, text) = http(
            self.addr,
            method,
            &format!("/session/{}{path}", self.session),
            &[("Content-Type", "application/json")],
            &if method == "GET" {
                String::new()
            } else {
                body.to_string()
            },
        );
        assert_eq!(status, 200, "{method} {path}: {text}");
        serde_json::from_str::<Value>(&text).unwrap()["value"].clone()
    }

    fn go(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url }));
    }

    fn click(&self, css: &str) {
        let el = self.call(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        let id = el
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        self.call("POST", &format!("/element/{id}/click"), json!({}));
    }

    fn script(&self, code: &str) -> Value {
        self.call("POST", "/execute/sync", json!({"script": code, "args": []}))
    }

    /// Waits until the page's URL holds `part` (a click that submits a form may return before
    /// the next page has loaded), then until that page is ready.
    fn wait_for_url(&self, part: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let url = self.call("GET", "/url", json!({}));
            let ready = self.script("return document.readyState");
            if url.as_str().unwrap_or("").contains(part) && ready == json!("complete") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no page with {part:?} in its URL: {url}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The `data-value` of the visitors card.
    fn visitors(&self) -> u64 {
        self.script(
            "return document.querySelector('#overview-visitors [data-value]').dataset.value",
        )
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(
            self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            &[],
            "",
        );
        let _ = &self.driver;
    }
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
