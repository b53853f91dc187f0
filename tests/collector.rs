//! Many web servers, one collector: each server's rsyslog ships its access log over RELP with
//! `contrib/rsyslog/web-server.conf`, the collector's rsyslog files the lines by server with
//! `contrib/rsyslog/collector.conf`, and one `tail` follows `remote/*/access.log`: every line
//! once, under its server's name, across a restart of the collector's rsyslog.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::day::{browse, FIREFOX};
use common::Env;

/// rsyslogd, which `.ci/run` installs (Debian's rsyslog and rsyslog-relp).
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// A running rsyslogd, stopped when dropped.
struct Rsyslog {
    child: Child,
    config: PathBuf,
    pid: PathBuf,
}

impl Rsyslog {
    fn start(config: PathBuf) -> Rsyslog {
        let pid = config.with_extension("pid");
        let _ = std::fs::remove_file(&pid);
        let child = Command::new(RSYSLOGD)
            .args(["-n", "-f"])
            .arg(&config)
            .arg("-i")
            .arg(&pid)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{RSYSLOGD}: {e} (apt-get install rsyslog rsyslog-relp)"));
        Rsyslog { child, config, pid }
    }

    fn restart(&mut self) {
        self.stop();
        *self = Rsyslog::start(self.config.clone());
    }

    fn stop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.pid);
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A contrib configuration with its paths and addresses replaced, preceded by `head`.
fn configured(
    env: &Env,
    name: &str,
    as_name: &str,
    head: &str,
    replace: &[(&str, String)],
) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib/rsyslog")
        .join(name);
    let mut text = std::fs::read_to_string(&source).unwrap();
    for (from, to) in replace {
        assert!(text.contains(from), "{name} has no {from}");
        text = text.replace(from, to);
    }
    env.write(as_name, format!("{head}\n{text}"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Lines `from..to` of a server: one person each, reading page `/SERVER/N`.
fn lines(server: &str, from: u32, to: u32) -> String {
    (from..to)
        .map(|n| {
            browse(
                n,
                &format!("10.9.{}.{}", n / 200, n % 200 + 1),
                &format!("/{server}/{n}"),
                "-",
                FIREFOX,
            )
        })
        .collect()
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn count_lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[test]
fn two_servers_shipped_over_relp_are_followed_by_one_tail_each_line_once() {
    let env = Env::new();
    let port = free_port().to_string();
    let remote = env.path("remote");
    let collector = configured(
        &env,
        "collector.conf",
        "collector.conf",
        &format!("global(workDirectory=\"{}\")", env.path("").display()),
        &[
            (
                "port=\"2514\"",
                format!("port=\"{port}\" address=\"127.0.0.1\""),
            ),
            ("/var/log/remote", remote.display().to_string()),
        ],
    );
    let mut collector = Rsyslog::start(collector);
    let mut servers = Vec::new();
    let mut logs = Vec::new();
    for name in ["web-a", "web-b"] {
        let spool = env.path(&format!("spool-{name}"));
        std::fs::create_dir_all(&spool).unwrap();
        let log = env.path(&format!("{name}.access.log"));
        std::fs::write(&log, "").unwrap();
        let config = configured(
            &env,
            "web-server.conf",
            &format!("{name}.conf"),
            &format!(
                "global(workDirectory=\"{}\" localHostname=\"{name}\")",
                spool.display()
            ),
            &[
                ("/var/log/nginx/access.log", log.display().to_string()),
                (
                    "target=\"collector.example\"",
                    "target=\"127.0.0.1\"".into(),
                ),
                ("port=\"2514\"", format!("port=\"{port}\"")),
            ],
        );
        servers.push(Rsyslog::start(config));
        logs.push(log);
    }
    let pattern = format!("{}/*/access.log", remote.display());
    let db = env.db().display().to_string();
    let mut tail = env.spawn(&[
        "tail",
        "--tz",
        "UTC",
        "--site",
        "{dir}",
        "--db",
        &db,
        "--flush-interval",
        "200ms",
        &pattern,
    ]);
    std::thread::sleep(Duration::from_millis(800));

    let wait_for = |path: &Path, n: usize| {
        let until = Instant::now() + Duration::from_secs(60);
        while count_lines(path) < n && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(count_lines(path), n, "{}", path.display());
    };
    // First lines; then the collector's rsyslog restarts while the servers go on logging.
    append(&logs[0], &lines("a", 0, 100));
    append(&logs[1], &lines("b", 0, 50));
    wait_for(&remote.join("web-a/access.log"), 300);
    wait_for(&remote.join("web-b/access.log"), 150);
    collector.stop();
    append(&logs[0], &lines("a", 100, 160));
    append(&logs[1], &lines("b", 50, 90));
    std::thread::sleep(Duration::from_millis(500));
    collector.restart();
    wait_for(&remote.join("web-a/access.log"), 480);
    wait_for(&remote.join("web-b/access.log"), 270);
    // The lines arrive as the servers wrote them.
    assert_eq!(
        std::fs::read_to_string(remote.join("web-b/access.log")).unwrap(),
        lines("b", 0, 90)
    );

    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let count = || -> i64 {
        conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap_or(0)
    };
    let until = Instant::now() + Duration::from_secs(30);
    while count() < 750 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    tail.signal(libc::SIGTERM);
    assert_eq!(
        tail.wait_for_exit(Duration::from_secs(10)),
        Some(0),
        "{}",
        tail.stderr_text()
    );
    assert_eq!(count(), 750, "{}", tail.stderr_text());
    drop(servers);

    env.cmd()
        .args(["rollup", "--tz", "UTC", "--db", &db])
        .assert()
        .success();
    for (site, pages) in [("web-a", 160), ("web-b", 90)] {
        let mut cmd = env.cmd();
        cmd.args([
            "stats",
            "--tz",
            "UTC",
            "--db",
            &db,
            "--format",
            "json",
            "--site",
            site,
            "--since",
            "2024-10-14",
            "--until",
            "2024-10-14",
            "overview",
        ]);
        let report = common::json(&mut cmd, 0);
        assert_eq!(
            report["overview"]["pageviews"], pages,
            "{site}: {}",
            report["overview"]
        );
    }
}
