//! Serving the live map: a Unix socket next to the database (mode 0660) that answers one JSON
//! snapshot per connection, read by `logtally live`; and, only when asked, `GET /live.json` over
//! HTTP on a loopback address for a site's "N people reading now" widget.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::state::{LiveState, Snapshot};
use crate::clock::now_ms;

/// Mode of the socket file: the owner and its group (e.g. an `adm` or `logtally` group) may read.
pub const SOCKET_MODE: u32 = 0o660;
/// Rows per list in a snapshot unless asked otherwise.
pub const DEFAULT_TOP: usize = 10;
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// What a client asks for.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Request {
    /// One site only.
    pub site: Option<String>,
    /// Rows per list.
    pub top: Option<usize>,
}

/// The default socket path for a database: `<db>.live.sock` beside it.
pub fn default_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".live.sock");
    db.with_file_name(name)
}

fn snapshot_json(live: &Mutex<LiveState>, req: &Request) -> Vec<u8> {
    let snap = live.lock().expect("live map lock").snapshot(
        now_ms(),
        req.site.as_deref(),
        req.top.unwrap_or(DEFAULT_TOP).clamp(1, 1000),
    );
    serde_json::to_vec(&snap).expect("a snapshot serialises")
}

/// Removes the socket file when `tail` stops.
#[derive(Debug)]
pub struct SocketGuard {
    path: PathBuf,
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Why the socket could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another `tail` answers on the socket.
    #[error(
        "another `logtally tail` is already serving {path}; stop it or give this one --live-socket"
    )]
    InUse {
        /// The socket.
        path: String,
    },
    /// Binding failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Path or address.
        addr: String,
        /// Why.
        source: io::Error,
    },
    /// `--live-http` must stay on this machine.
    #[error("--live-http {addr} is not a loopback address; use 127.0.0.1:PORT or [::1]:PORT and put a reverse proxy in front")]
    NotLoopback {
        /// The address.
        addr: SocketAddr,
    },
}

/// Listens on `path` and answers snapshots on a thread until the process ends.
pub fn serve_unix(path: &Path, live: Arc<Mutex<LiveState>>) -> Result<SocketGuard, Error> {
    let bind_err = |source| Error::Bind {
        addr: path.display().to_string(),
        source,
    };
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            return Err(Error::InUse {
                path: path.display().to_string(),
            });
        }
        std::fs::remove_file(path).map_err(bind_err)?; // left by a tail that was killed
    }
    let listener = UnixListener::bind(path).map_err(bind_err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))
        .map_err(bind_err)?;
    std::thread::Builder::new()
        .name("logtally-live".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = answer_unix(stream, &live);
            }
        })
        .map_err(bind_err)?;
    Ok(SocketGuard {
        path: path.to_path_buf(),
    })
}

fn answer_unix(stream: UnixStream, live: &Mutex<LiveState>) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut line = String::new();
    BufReader::new((&stream).take(4096)).read_line(&mut line)?;
    let req: Request = serde_json::from_str(line.trim()).unwrap_or_default();
    (&stream).write_all(&snapshot_json(live, &req))
}

/// Asks the `tail` listening on `path` for a snapshot.
pub fn fetch(path: &Path, req: &Request) -> io::Result<Snapshot> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut body = serde_json::to_vec(req).map_err(io::Error::other)?;
    body.push(b'\n');
    stream.write_all(&body)?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    serde_json::from_slice(&reply).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Serves `GET /live.json[?site=NAME]` on a loopback address, on a thread.
pub fn serve_http(addr: SocketAddr, live: Arc<Mutex<LiveState>>) -> Result<(), Error> {
    if !addr.ip().is_loopback() {
        return Err(Error::NotLoopback { addr });
    }
    let bind_err = |source| Error::Bind {
        addr: addr.to_string(),
        source,
    };
    let listener = TcpListener::bind(addr).map_err(bind_err)?;
    std::thread::Builder::new()
        .name("logtally-http".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = answer_http(stream, &live);
            }
        })
        .map_err(bind_err)?;
    Ok(())
}

/// The value of `key` in a query string (no percent-decoding beyond `+` and `%2E`-free names).
fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.replace('+', " "))
    })
}

fn answer_http(stream: TcpStream, live: &Mutex<LiveState>) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new((&stream).take(16 * 1024));
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (status, body) = match (method, path) {
        ("GET", "/live.json") => {
            let req = Request {
                site: query_value(query, "site"),
                top: query_value(query, "top").and_then(|t| t.parse().ok()),
            };
            ("200 OK", snapshot_json(live, &req))
        }
        ("GET", _) => (
            "404 Not Found",
            b"{\"error\":\"not found; try /live.json\"}".to_vec(),
        ),
        _ => (
            "405 Method Not Allowed",
            b"{\"error\":\"only GET is served\"}".to_vec(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nCache-Control: no-store\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut out = &stream;
    out.write_all(head.as_bytes())?;
    out.write_all(&body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::state::LiveSettings;

    #[test]
    fn unix_and_http_serve_a_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = default_path(&dir.path().join("x.db"));
        assert!(path.ends_with("x.db.live.sock"));
        let live = Arc::new(Mutex::new(LiveState::new(LiveSettings::default())));
        let guard = serve_unix(&path, live.clone()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, SOCKET_MODE);
        let snap = fetch(&path, &Request::default()).unwrap();
        assert_eq!((snap.visitors, snap.window_seconds), (0, 300));
        assert!(matches!(
            serve_unix(&path, live.clone()),
            Err(Error::InUse { .. })
        ));
        drop(guard);
        assert!(!path.exists(), "the socket goes away with the tail");

        assert!(matches!(
            serve_http("0.0.0.0:0".parse().unwrap(), live.clone()),
            Err(Error::NotLoopback { .. })
        ));
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        serve_http(addr, live).unwrap();
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /live.json?site=a HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
        assert!(reply.contains("\"visitors\":0"), "{reply}");
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /other HTTP/1.1\r\n\r\n").unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");
    }
}
