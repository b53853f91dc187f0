//! Serving the live map: a Unix socket next to the database (mode 0660) that answers one JSON
//! snapshot per connection, read by `logtally live`; and, only when asked, `GET /live.json` over
//! HTTP on a loopback address for a site's "N people reading now" widget.
//!
//! Both listeners answer up to [`MAX_CLIENTS`] connections at once, each on its own thread and
//! each within [`IO_TIMEOUT`] for its request and again for its reply, so idle or slow clients
//! never keep others waiting (issue #15, case 10). The socket file replaces only a stale socket,
//! never another kind of file, and is removed at exit only while it is still ours.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::state::{LiveState, Snapshot};
use crate::clock::now_ms;

/// Mode of the socket file: the owner and its group (e.g. an `adm` or `logtally` group) may read.
pub const SOCKET_MODE: u32 = 0o660;
/// Rows per list in a snapshot unless asked otherwise.
pub const DEFAULT_TOP: usize = 10;
/// Time a client has to send its whole request, and then to take the whole reply.
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections answered at once per listener; more wait in the listen queue until one ends,
/// which takes at most twice [`IO_TIMEOUT`].
pub const MAX_CLIENTS: usize = 32;
/// Pause after a failed `accept` (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

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

/// A snapshot for `req`, as JSON (what the socket and `/live.json` answer).
pub fn snapshot_json(live: &Mutex<LiveState>, req: &Request) -> Vec<u8> {
    let snap = live.lock().expect("live map lock").snapshot(
        now_ms(),
        req.site.as_deref(),
        req.top.unwrap_or(DEFAULT_TOP).clamp(1, 1000),
    );
    serde_json::to_vec(&snap).expect("a snapshot serialises")
}

/// Removes the socket file when `tail` stops, if the file there is still the socket it bound
/// (same device and inode): a socket another `tail` has since put there stays.
#[derive(Debug)]
pub struct SocketGuard {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.file_type().is_socket() && m.dev() == self.dev && m.ino() == self.ino);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
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
    /// Something other than a socket is at the socket's path (a database, a log...).
    #[error("{path} exists and is not a socket, so it is left alone; give --live-socket (or live.socket) a path where nothing is, such as one ending in .live.sock")]
    NotSocket {
        /// The path.
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

/// Makes way for a socket at `path`: nothing there, or a socket nobody answers on (left by a
/// `tail` that was killed), which is removed. Anything else is refused and left as it is.
fn clear_stale(path: &Path) -> Result<(), Error> {
    let shown = || path.display().to_string();
    let bind_err = |source| Error::Bind {
        addr: shown(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(bind_err(e)),
        Ok(m) if !m.file_type().is_socket() => Err(Error::NotSocket { path: shown() }),
        Ok(_) => match UnixStream::connect(path) {
            Ok(_) => Err(Error::InUse { path: shown() }),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                std::fs::remove_file(path).map_err(bind_err)
            }
            Err(e) => Err(bind_err(e)),
        },
    }
}

/// Listens on `path` and answers snapshots on threads until the process ends.
pub fn serve_unix(path: &Path, live: Arc<Mutex<LiveState>>) -> Result<SocketGuard, Error> {
    let bind_err = |source| Error::Bind {
        addr: path.display().to_string(),
        source,
    };
    clear_stale(path)?;
    let listener = UnixListener::bind(path).map_err(bind_err)?;
    let meta = std::fs::symlink_metadata(path).map_err(bind_err)?;
    let guard = SocketGuard {
        path: path.to_path_buf(),
        dev: meta.dev(),
        ino: meta.ino(),
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))
        .map_err(bind_err)?;
    serve_each(
        "logtally-live",
        move || listener.accept().map(|(s, _)| s),
        move |stream| {
            let _ = answer_unix(Conn::new(stream), &live);
        },
    )
    .map_err(bind_err)?;
    Ok(guard)
}

/// The number of connections being answered, and a signal when one ends.
#[derive(Default)]
struct Slots {
    busy: Mutex<usize>,
    freed: Condvar,
}

/// One of [`MAX_CLIENTS`] places, given back when dropped.
struct Slot(Arc<Slots>);

impl Slots {
    /// Waits for a free place.
    fn take(self: &Arc<Self>) -> Slot {
        let mut busy = self.busy.lock().expect("slots lock");
        while *busy >= MAX_CLIENTS {
            busy = self.freed.wait(busy).expect("slots lock");
        }
        *busy += 1;
        Slot(self.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        *self.0.busy.lock().expect("slots lock") -= 1;
        self.0.freed.notify_one();
    }
}

/// Accepts connections on a thread named `name` and answers each on a thread of its own, at most
/// [`MAX_CLIENTS`] at once.
fn serve_each<S: Send + 'static>(
    name: &str,
    mut accept: impl FnMut() -> io::Result<S> + Send + 'static,
    answer: impl Fn(S) + Send + Sync + 'static,
) -> io::Result<()> {
    let answer = Arc::new(answer);
    let slots = Arc::new(Slots::default());
    let worker = format!("{name}-client");
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || loop {
            let slot = slots.take();
            let stream = match accept() {
                Ok(s) => s,
                Err(_) => {
                    std::thread::sleep(ACCEPT_RETRY);
                    continue;
                }
            };
            let answer = answer.clone();
            // When no thread can be started, the connection is closed and its place freed.
            let _ = std::thread::Builder::new()
                .name(worker.clone())
                .spawn(move || {
                    let _slot = slot;
                    answer(stream);
                });
        })?;
    Ok(())
}

/// A stream whose timeouts shrink to what is left until a deadline, so a client trickling a
/// byte at a time cannot hold its thread longer than [`IO_TIMEOUT`] per direction.
struct Conn<S> {
    stream: S,
    until: Instant,
}

/// The timeouts of a stream ([`UnixStream`]).
trait Timeouts {
    fn set_timeouts(&self, left: Duration) -> io::Result<()>;
}

impl Timeouts for UnixStream {
    fn set_timeouts(&self, left: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(left))?;
        self.set_write_timeout(Some(left))
    }
}

impl<S: Timeouts> Conn<S> {
    fn new(stream: S) -> Conn<S> {
        Conn {
            stream,
            until: Instant::now() + IO_TIMEOUT,
        }
    }

    /// Starts the reply's own [`IO_TIMEOUT`].
    fn replying(&mut self) {
        self.until = Instant::now() + IO_TIMEOUT;
    }

    /// Sets the stream's timeouts to the time left, or fails once it is up.
    fn arm(&self) -> io::Result<()> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client took too long",
            ));
        }
        self.stream.set_timeouts(left)
    }
}

impl<S: Timeouts> Read for Conn<S>
where
    for<'a> &'a S: Read,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        (&self.stream).read(buf)
    }
}

impl<S: Timeouts> Write for Conn<S>
where
    for<'a> &'a S: Write,
{
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        (&self.stream).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&self.stream).flush()
    }
}

fn answer_unix(mut conn: Conn<UnixStream>, live: &Mutex<LiveState>) -> io::Result<()> {
    let mut line = String::new();
    BufReader::new((&mut conn).take(4096)).read_line(&mut line)?;
    let req: Request = serde_json::from_str(line.trim()).unwrap_or_default();
    conn.replying();
    conn.write_all(&snapshot_json(live, &req))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::state::LiveSettings;

    #[test]
    fn the_unix_socket_serves_a_snapshot() {
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
    }

    #[test]
    fn only_a_stale_socket_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let live = Arc::new(Mutex::new(LiveState::new(LiveSettings::default())));
        let db = dir.path().join("x.db");
        std::fs::write(&db, b"SQLite format 3\0").unwrap();
        let err = serve_unix(&db, live.clone()).unwrap_err();
        assert!(matches!(err, Error::NotSocket { .. }), "{err}");
        assert!(err.to_string().contains("x.db exists and is not a socket"));
        assert_eq!(std::fs::read(&db).unwrap(), b"SQLite format 3\0");
        let link = dir.path().join("link.sock");
        std::os::unix::fs::symlink(&db, &link).unwrap();
        assert!(matches!(
            serve_unix(&link, live.clone()),
            Err(Error::NotSocket { .. })
        ));

        // A socket nobody listens on any more is stale: it makes way.
        let path = dir.path().join("x.db.live.sock");
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let guard = serve_unix(&path, live.clone()).unwrap();
        fetch(&path, &Request::default()).unwrap();

        // Another file put in its place before exit is not removed with the guard.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"not ours").unwrap();
        drop(guard);
        assert_eq!(std::fs::read(&path).unwrap(), b"not ours");
    }

    #[test]
    fn idle_clients_keep_no_one_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db.live.sock");
        let live = Arc::new(Mutex::new(LiveState::new(LiveSettings::default())));
        let _guard = serve_unix(&path, live).unwrap();
        let idle: Vec<UnixStream> = (0..5)
            .map(|_| UnixStream::connect(&path).unwrap())
            .collect();
        let started = Instant::now();
        fetch(&path, &Request::default()).unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "answered while the idle clients wait: {:?}",
            started.elapsed()
        );
        // An idle client is let go after IO_TIMEOUT.
        let mut rest = Vec::new();
        let mut first = &idle[0];
        first
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(
            first.read_to_end(&mut rest).unwrap(),
            0,
            "closed, nothing sent"
        );
    }
}
