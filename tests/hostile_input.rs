//! Issue #15, cases 8 and 10, end to end: what any visitor can put in a log never reaches the
//! operator's terminal or spreadsheet raw, and the live servers of `tail` neither clobber files
//! nor wait on idle clients.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use common::{Env, Running};

/// A Firefox current in March 2021, when the hostile log below was written.
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:86.0) Gecko/20100101 Firefox/86.0";

/// What the request `/?utm_source=%1b%5d0;HACKED%07%1b%5b2J` decodes to: set the terminal's
/// title, then clear its screen.
const ATTACK: &str = "\x1b]0;HACKED\x07\x1b[2J";
/// [`ATTACK`] as it must be shown.
const SHOWN: &str = "\\x1b]0;HACKED\\x07\\x1b[2J";

fn combined(ts: chrono::DateTime<Utc>, ip: &str, target: &str, agent: &str) -> String {
    format!(
        "{ip} - - [{}] \"GET {target} HTTP/1.1\" 200 1000 \"-\" \"{agent}\"\n",
        ts.format("%d/%b/%Y:%H:%M:%S +0000")
    )
}

/// A Caddy JSON line with `\u001b` in the path, host, referrer and user agent.
fn caddy(ts: chrono::DateTime<Utc>, ip: &str, agent: &str) -> String {
    let agent = format!("{agent} \\u001b]0;AGENT\\u0007");
    format!(
        concat!(
            r#"{{"level":"info","ts":{}.0,"logger":"http.log.access","msg":"handled request","#,
            r#""request":{{"remote_ip":"{ip}","proto":"HTTP/2.0","method":"GET","#,
            r#""host":"evil\u001b[2J.example","uri":"/caddy\u001b]0;PATH\u0007page","#,
            r#""headers":{{"User-Agent":["{agent}"],"#,
            r#""Referer":["https://ref\u001b[2J.example/\u001b]0;REF\u0007"]}}}},"#,
            r#""status":200,"size":1000}}"#,
            "\n"
        ),
        ts.timestamp(),
        ip = ip,
        agent = agent
    )
}

/// A database of March 1, 2021 holding the hostile requests of three people.
fn hostile_db(env: &Env) {
    let at = |m| Utc.with_ymd_and_hms(2021, 3, 1, 10, m, 0).unwrap();
    let combined_log = [
        combined(
            at(0),
            "10.0.0.1",
            "/?utm_source=%1b%5d0;HACKED%07%1b%5b2J",
            FIREFOX,
        ),
        combined(
            at(1),
            "10.0.0.2",
            "/pricing?utm_source=%3dcmd|'%20/C%20calc'!A0",
            FIREFOX,
        ),
        // A right-to-left override and a one-byte CSI (U+009B).
        combined(
            at(2),
            "10.0.0.4",
            "/blog?utm_source=%e2%80%aegpj.exe%c2%9b2J",
            FIREFOX,
        ),
    ]
    .concat();
    env.import_and_rollup(
        &env.write("combined.log", combined_log),
        &["--site", "example.com"],
    );
    env.import_and_rollup(
        &env.write("caddy.log", caddy(at(5), "10.0.0.3", FIREFOX)),
        &[],
    );
}

fn stats(env: &Env, format: &str) -> Vec<u8> {
    let out = env
        .cmd()
        .args(["stats", "--tz", "UTC", "--db"])
        .arg(env.db())
        .args(["--since", "2021-03-01", "--until", "2021-03-01"])
        .args(["--format", format, "--top", "100"])
        .args(["overview", "pages", "entry-pages", "sources", "bots"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// No ESC or BEL byte, nor any C1 control or bidirectional override, anywhere in `out`.
fn assert_no_raw_controls(out: &[u8], what: &str) {
    let text = String::from_utf8(out.to_vec()).unwrap();
    assert!(
        !out.contains(&0x1b) && !out.contains(&0x07),
        "{what} holds a raw control: {text:?}"
    );
    assert!(
        !text
            .chars()
            .any(|c| c != '\n' && logtally::report::sanitize::is_hostile(c)),
        "{what}: {text:?}"
    );
}

#[test]
fn stats_tables_show_controls_from_logs_escaped() {
    let env = Env::new();
    hostile_db(&env);
    let out = stats(&env, "table");
    assert_no_raw_controls(&out, "the table");
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(SHOWN), "the utm_source, escaped: {text}");
    assert!(
        text.contains("/caddy\\x1b]0;PATH\\x07page"),
        "the Caddy path, escaped: {text}"
    );
    assert!(
        text.contains("=cmd|' /C calc'!A0"),
        "a table shows a formula as text: {text}"
    );
    assert!(text.contains("\\u{202e}gpj.exe\\u{9b}2J"), "{text}");
}

#[test]
fn stats_json_writes_controls_as_json_escapes() {
    let env = Env::new();
    hostile_db(&env);
    let out = stats(&env, "json");
    assert_no_raw_controls(&out, "the JSON");
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(r"\u001b]0;HACKED\u0007\u001b[2J"),
        "JSON escapes: {text}"
    );
    assert!(
        text.contains(r"\u202egpj.exe\u009b2J"),
        "C1 controls and overrides too: {text}"
    );
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let sources = doc["sections"]["sources"].as_array().unwrap();
    assert!(
        sources.iter().any(|s| s["source"] == ATTACK),
        "a JSON reader gets the value itself back: {doc:#}"
    );
    let pages = doc["sections"]["pages"].as_array().unwrap();
    assert!(
        pages
            .iter()
            .any(|p| p["page"] == "/caddy\x1b]0;PATH\x07page"),
        "the Caddy hit counts as a person's page view: {doc:#}"
    );
}

#[test]
fn stats_csv_keeps_one_record_per_line_and_neutralises_formulas() {
    let env = Env::new();
    hostile_db(&env);
    let out = stats(&env, "csv");
    assert_no_raw_controls(&out, "the CSV");
    let text = String::from_utf8(out).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&stats(&env, "json")).unwrap();
    // One header, then one line per figure: 7 overview figures and 1 day, the same for the day
    // before, and one line per number of each ranked row.
    let mut expected = 1 + 8 + 8;
    for rows in json["sections"].as_object().unwrap().values() {
        for row in rows.as_array().unwrap() {
            expected += row.as_object().unwrap().len() - 1;
        }
    }
    assert_eq!(text.lines().count(), expected, "{text}");
    assert_eq!(text.matches('\n').count(), expected, "{text}");
    for line in text.lines().skip(1) {
        let section = line.split(',').next().unwrap();
        assert!(
            [
                "overview",
                "previous",
                "pages",
                "entry-pages",
                "sources",
                "bots",
                "crawlers"
            ]
            .contains(&section),
            "every line is a record of its own: {line:?}"
        );
    }
    assert!(
        text.contains(&format!("sources,\"{SHOWN}\",visitors,1\n")),
        "{text}"
    );
    assert!(
        text.contains("sources,'=cmd|' /C calc'!A0,visitors,1\n"),
        "a formula from a log starts with ' in a spreadsheet: {text}"
    );
    assert!(
        !text.contains(",=") && !text.contains(",\"="),
        "no cell starts with = : {text}"
    );
    assert!(
        text.contains("sources,\\u{202e}gpj.exe\\u{9b}2J,visitors,1\n"),
        "{text}"
    );
}

#[test]
fn check_shows_rejected_lines_and_bot_agents_escaped() {
    let env = Env::new();
    let at = Utc.with_ymd_and_hms(2021, 3, 1, 10, 0, 0).unwrap();
    let log = env.write(
        "mixed.log",
        [
            combined(at, "10.0.0.1", "/", FIREFOX),
            combined(at, "10.0.0.2", "/", "EvilBot/1.0 \u{202e}\u{9b}2J"),
            "garbage \u{202e}\x1b]0;HACKED\x07 line\n".to_string(),
        ]
        .concat(),
    );
    for json in [false, true] {
        let mut cmd = env.cmd();
        cmd.args(["check", "--bots", "--max-reject-ratio", "1"]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.arg(&log).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_raw_controls(&out.stdout, "check");
        let text = String::from_utf8(out.stdout).unwrap();
        let shown = if json { r"\u202e" } else { r"\u{202e}" };
        assert!(
            text.contains(&format!("garbage {shown}")),
            "the rejected line: {text}"
        );
        assert!(
            text.contains(&format!("EvilBot/1.0 {shown}")),
            "the bot's agent: {text}"
        );
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `tail` on `logs` with `extra` flags.
fn tail(env: &Env, logs: &[&Path], extra: &[&str]) -> Running {
    let db = env.db().display().to_string();
    let logs: Vec<String> = logs.iter().map(|l| l.display().to_string()).collect();
    let mut args = vec!["tail", "--db", &db, "--flush-interval", "300ms"];
    args.extend_from_slice(extra);
    args.extend(logs.iter().map(String::as_str));
    env.spawn(&args)
}

/// Waits until the running tail has written `text` to stderr.
fn wait_for_stderr(t: &mut Running, text: &str) -> String {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let err = t.stderr_text();
        if err.contains(text) {
            return err;
        }
        assert!(
            Instant::now() < until && t.is_running(),
            "no {text:?} in stderr:\n{err}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `GET /live.json` on `addr`, answered before a generous deadline.
fn get_live_json(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /live.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply)
        .expect("an answer within 10 s while idle clients are connected");
    reply
}

#[test]
fn tail_leaves_a_file_that_is_not_a_socket_alone() {
    let env = Env::new();
    let log = env.write("access.log", "");
    let precious = env.write("precious.db", "SQLite format 3\0 and much more");
    let out = env
        .cmd()
        .args(["tail", "--db"])
        .arg(env.db())
        .arg("--live-socket")
        .arg(&precious)
        .arg(&log)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{} exists and is not a socket",
            precious.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&precious).unwrap(),
        b"SQLite format 3\0 and much more"
    );

    // The database itself given as the socket: refused, and still a database.
    env.cmd()
        .args(["tail", "--db"])
        .arg(env.db())
        .arg("--live-socket")
        .arg(env.db())
        .arg(&log)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1);
    let c = rusqlite::Connection::open(env.db()).unwrap();
    let _: i64 = c
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .expect("the database is intact");
}

#[test]
fn idle_clients_do_not_hold_up_live_or_the_http_endpoint() {
    let env = Env::new();
    let now = Utc::now();
    let agent = common::firefox_at(now.timestamp_millis());
    let combined_log = env.write(
        "access.log",
        combined(
            now,
            "192.0.2.1",
            "/?utm_source=%1b%5d0;HACKED%07%1b%5b2J",
            &agent,
        ),
    );
    let caddy_log = env.write("caddy.log", caddy(now, "192.0.2.2", &agent));
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut t = tail(
        &env,
        &[&combined_log, &caddy_log],
        &["--live-http", &addr.to_string()],
    );
    wait_for_stderr(&mut t, "live view on");
    let socket = env.path("logtally.db.live.sock");
    let until = Instant::now() + Duration::from_secs(20);
    while common::json(
        env.cmd()
            .args(["live", "--once", "--json", "--db"])
            .arg(env.db()),
        0,
    )["visitors"]
        != 2
    {
        assert!(Instant::now() < until, "{}", t.stderr_text());
        std::thread::sleep(Duration::from_millis(100));
    }

    let idle_http: Vec<TcpStream> = (0..10).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let idle_unix: Vec<UnixStream> = (0..5)
        .map(|_| UnixStream::connect(&socket).unwrap())
        .collect();

    let reply = get_live_json(addr);
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    let out = env
        .cmd()
        .args(["live", "--once", "--db"])
        .arg(env.db())
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "live answers while idle clients are connected: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The live view shows what visitors sent escaped, as `stats` does, in JSON too.
    let json = env
        .cmd()
        .args(["live", "--once", "--json", "--db"])
        .arg(env.db())
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert!(json.status.success());
    assert_no_raw_controls(&json.stdout, "the live JSON");
    assert_no_raw_controls(&out.stdout, "the live view");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(SHOWN), "{text}");
    assert!(text.contains("/caddy\\x1b]0;PATH\\x07page"), "{text}");
    drop((idle_http, idle_unix));
}

#[test]
fn live_http_on_port_zero_shows_the_port_chosen() {
    let env = Env::new();
    let log = env.write("access.log", "");
    let mut t = tail(&env, &[&log], &["--live-http", "127.0.0.1:0"]);
    let err = wait_for_stderr(&mut t, "/live.json");
    let shown = err
        .split("serving http://")
        .nth(1)
        .and_then(|rest| rest.split("/live.json").next())
        .unwrap_or_else(|| panic!("no address in stderr:\n{err}"));
    let addr: SocketAddr = shown.parse().unwrap();
    assert_ne!(addr.port(), 0, "{err}");
    let reply = get_live_json(addr);
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
}
