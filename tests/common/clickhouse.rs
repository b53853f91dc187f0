//! A real clickhouse-server for a test, as a plain process: Debian's configuration copied with
//! its data and log paths moved into a temp directory and its three ports replaced by free ones.
//! Stopped (killed) on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The configuration the package installs.
const PACKAGED: &str = "/etc/clickhouse-server";

/// A running server.
pub struct Server {
    child: Option<Child>,
    dir: PathBuf,
    /// Its HTTP port.
    pub http_port: u16,
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Server {
    /// Starts a server keeping its data under `dir`, and waits until it answers `/ping`.
    pub fn start(dir: &Path) -> Server {
        let config = std::fs::read_to_string(format!("{PACKAGED}/config.xml")).expect(
            "clickhouse-server is installed (apt-get install clickhouse-server; .ci/run does)",
        );
        let data = dir.join("data/");
        let logs = dir.join("log/");
        std::fs::create_dir_all(&logs).unwrap();
        let http_port = free_port();
        let config = config
            .replace("/var/lib/clickhouse/", &data.display().to_string())
            .replace("/var/log/clickhouse-server/", &logs.display().to_string())
            .replace(
                "<http_port>8123</http_port>",
                &format!("<http_port>{http_port}</http_port>"),
            )
            .replace(
                "<tcp_port>9000</tcp_port>",
                &format!("<tcp_port>{}</tcp_port>", free_port()),
            )
            .replace(
                "<interserver_http_port>9009</interserver_http_port>",
                &format!(
                    "<interserver_http_port>{}</interserver_http_port>",
                    free_port()
                ),
            );
        std::fs::write(dir.join("config.xml"), config).unwrap();
        std::fs::copy(format!("{PACKAGED}/users.xml"), dir.join("users.xml")).unwrap();
        let mut server = Server {
            child: None,
            dir: dir.to_path_buf(),
            http_port,
        };
        server.run();
        server
    }

    fn run(&mut self) {
        let child = Command::new("clickhouse-server")
            .arg(format!(
                "--config-file={}",
                self.dir.join("config.xml").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("clickhouse-server starts");
        self.child = Some(child);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if self.query("SELECT 1").is_ok_and(|a| a.trim() == "1") {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("clickhouse-server did not answer within 60 s");
    }

    /// Stops the server at once (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same data and ports.
    pub fn restart(&mut self) {
        self.kill();
        self.run();
    }

    /// The `--store` address of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("clickhouse://127.0.0.1:{}/{db}", self.http_port)
    }

    /// Answers `sql` over HTTP (a minimal client, so the test checks the server, not our code).
    pub fn query(&self, sql: &str) -> std::io::Result<String> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.http_port))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            s,
            "POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{sql}",
            sql.len()
        )?;
        let mut answer = String::new();
        s.read_to_string(&mut answer)?;
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
            return Err(std::io::Error::other(format!("{head}\n{body}")));
        }
        Ok(body.to_string())
    }

    /// A number `sql` answers.
    pub fn number(&self, sql: &str) -> u64 {
        let a = self.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        a.trim().parse().unwrap_or_else(|_| panic!("{sql}: {a:?}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
