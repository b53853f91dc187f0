//! Shared test setup: a temp directory with an empty HOME, and the real `logtally` binary.
#![allow(dead_code)]

pub mod clickhouse;
pub mod day;
#[path = "../genlog/mod.rs"]
pub mod genlog;
pub mod history;
pub mod mmdb;
pub mod score;
pub mod web;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// A fresh environment per test: its own directory, HOME and database path.
pub struct Env {
    /// The temp directory (removed on drop).
    pub dir: TempDir,
}

impl Env {
    /// A new empty environment.
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A path inside the environment.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The database path tests use.
    pub fn db(&self) -> PathBuf {
        self.path("logtally.db")
    }

    /// `logtally` with HOME and XDG dirs pointed into the temp dir and no LOGTALLY_* leaking in.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("logtally").expect("binary built");
        c.env_clear()
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.path("data"))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        c
    }

    /// Writes a file into the environment and returns its path.
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).expect("write file");
        p
    }

    /// Imports `log` (days in UTC, plus `import_args`) and rolls it up; both must succeed.
    pub fn import_and_rollup(&self, log: &Path, import_args: &[&str]) {
        self.cmd()
            .args(["import", "--tz", "UTC"])
            .args(import_args)
            .arg("--db")
            .arg(self.db())
            .arg(log)
            .assert()
            .success();
        self.cmd()
            .args(["rollup", "--tz", "UTC", "--db"])
            .arg(self.db())
            .assert()
            .success();
    }
}

/// A Firefox agent current on the day of `ts_ms` (bot detection judges browsers by the hit's date).
pub fn firefox_at(ts_ms: i64) -> String {
    let v = logtally::classify::browser_age::current_version("firefox", ts_ms);
    format!("Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0")
}

/// Path of a committed fixture.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Runs a command, asserts its exit code and parses its stdout as JSON.
pub fn json(cmd: &mut Command, code: i32) -> serde_json::Value {
    let out = cmd.output().expect("run logtally");
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// All rollup tables as sorted text lines, to compare a database before and after a run.
pub fn dump_rollups(db: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).expect("open database");
    let mut out = Vec::new();
    for t in logtally::store::rollups::TABLES {
        let mut stmt = c
            .prepare(&format!("SELECT * FROM {t}"))
            .expect("rollup table");
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let cols: Vec<String> = (0..n)
                    .map(|i| match r.get_ref(i).expect("column") {
                        rusqlite::types::ValueRef::Text(b) => {
                            String::from_utf8_lossy(b).into_owned()
                        }
                        other => format!("{other:?}"),
                    })
                    .collect();
                Ok(format!("{t}|{}", cols.join("|")))
            })
            .expect("query");
        out.extend(rows.map(Result::unwrap));
    }
    out.sort();
    out
}

/// A `logtally` process running in the background (for `tail`), killed when dropped.
pub struct Running {
    /// The process.
    pub child: std::process::Child,
    /// Where its stderr goes.
    pub stderr: PathBuf,
}

impl Env {
    /// Starts `logtally ARGS` in the background with the same environment as [`Env::cmd`].
    pub fn spawn(&self, args: &[&str]) -> Running {
        self.spawn_with_env(args, &[])
    }

    /// [`Env::spawn`] with more environment variables.
    pub fn spawn_with_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Running {
        let stderr = self.path(&format!(
            "stderr-{}.txt",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("logtally"))
            .args(args)
            .env_clear()
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.path("data"))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .envs(vars.iter().copied())
            .current_dir(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start logtally");
        Running { child, stderr }
    }
}

impl Running {
    /// Sends a signal.
    pub fn signal(&self, sig: i32) {
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }

    /// Waits at most `limit` for the process to end and returns its exit code.
    pub fn wait_for_exit(&mut self, limit: std::time::Duration) -> Option<i32> {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!(
            "still running after {limit:?}; stderr:\n{}",
            self.stderr_text()
        );
    }

    /// What it wrote to stderr so far.
    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Whether it still runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three days (from 2026-11-02, UTC) of 40 people a day, each visit's pages followed by their
/// stylesheet: a third from Hacker News, half reading `/` then `/pricing`, the others `blog`.
/// Addresses are 10.NET.DAY.N.
pub fn three_days_of_people(net: u8, blog: &str) -> String {
    const START_MS: i64 = 1_793_577_600_000;
    let mut lines: Vec<(i64, String)> = Vec::new();
    for day in 0..3i64 {
        for p in 0..40i64 {
            let ts0 = START_MS + day * 86_400_000 + 9 * 3_600_000 + p * 400_000;
            let agent = firefox_at(ts0);
            let referrer = if p % 3 == 0 {
                "https://news.ycombinator.com/"
            } else {
                "-"
            };
            let pages: &[&str] = if p % 2 == 0 {
                &["/", "/pricing"]
            } else {
                &[blog]
            };
            for (k, page) in pages.iter().enumerate() {
                let ts = ts0 + k as i64 * 30_000;
                let when = chrono::DateTime::from_timestamp_millis(ts)
                    .unwrap()
                    .format("%d/%b/%Y:%H:%M:%S +0000");
                let r = if k == 0 {
                    referrer.to_string()
                } else {
                    "https://example.com/".into()
                };
                let ip = format!("10.{net}.{day}.{}", p + 1);
                lines.push((
                    ts,
                    format!(
                        "{ip} - - [{when}] \"GET {page} HTTP/1.1\" 200 900 \"{r}\" \"{agent}\"\n"
                    ),
                ));
                lines.push((ts + 100, format!("{ip} - - [{when}] \"GET /app.css HTTP/1.1\" 200 900 \"https://example.com{page}\" \"{agent}\"\n")));
            }
        }
    }
    lines.sort_by_key(|(ts, _)| *ts);
    lines.into_iter().map(|(_, l)| l).collect()
}
