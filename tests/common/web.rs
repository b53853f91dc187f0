//! The real `logtally serve` and plain HTTP/1.1 to it, and a headless chromium driven through
//! chromedriver (W3C WebDriver, spoken over plain HTTP).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::Env;

/// A child process killed when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `logtally serve ARGS` and returns it with the address it prints.
pub fn serve(env: &Env, args: &[&str]) -> (Killed, SocketAddr) {
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
pub fn http(
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

/// A WebDriver session on chromedriver.
pub struct Browser {
    driver: Killed,
    addr: SocketAddr,
    session: String,
}

impl Browser {
    pub fn start(env: &Env) -> Browser {
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

    pub fn call(&self, method: &str, path: &str, body: Value) -> Value {
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

    pub fn go(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url }));
    }

    pub fn click(&self, css: &str) {
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

    pub fn script(&self, code: &str) -> Value {
        self.call("POST", "/execute/sync", json!({"script": code, "args": []}))
    }

    /// Waits until the page's URL holds `part` (a click that submits a form may return before
    /// the next page has loaded), then until that page is ready.
    pub fn wait_for_url(&self, part: &str) {
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
    pub fn visitors(&self) -> u64 {
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

/// Starts `logtally tail` on `log` into `env`'s database, committing every 300 ms (its live
/// socket is where `serve` looks by default).
pub fn tail_on(env: &Env, log: &std::path::Path) -> super::Running {
    env.spawn(&[
        "tail",
        "--flush-interval",
        "300ms",
        "--db",
        env.db().to_str().unwrap(),
        log.to_str().unwrap(),
    ])
}
