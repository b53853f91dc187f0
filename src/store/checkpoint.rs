//! Checkpoints on a thread of their own while `import` writes, so the writer never waits for the
//! disk.
//!
//! With `synchronous=NORMAL` a commit only appends to the WAL; the fsyncs happen when the WAL is
//! checkpointed into the database (WAL first, then the database). Left to SQLite's automatic
//! checkpoint, that copy and both fsyncs run inside the writer's commit every 4 MB of WAL: a third
//! of an import's time was spent there, waiting. A PASSIVE checkpoint from a second connection
//! takes no write lock, so the writer keeps appending while the copy and fsyncs run here.
//! Durability is the same: a commit is in the WAL either way, and the same fsyncs happen, only on
//! another thread. Between checkpoints this thread also asks the kernel to start writing the new
//! WAL frames out (`sync_file_range`), so the fsync at the next checkpoint has little left to do.
//!
//! The writer keeps an automatic checkpoint at a larger size as a bound on the WAL, should this
//! thread fall behind or fail.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// SQLite's automatic checkpoint size, in pages, restored when the background thread stops.
const DEFAULT_AUTOCHECKPOINT: i64 = 1000;
/// The writer's own checkpoint size while the thread runs: a bound on the WAL (64 MB of 4 KiB
/// pages), reached only if this thread falls behind.
const BOUND_AUTOCHECKPOINT: i64 = 16_384;
/// How often the thread checkpoints.
const INTERVAL: Duration = Duration::from_millis(20);

/// A running background checkpointer; [`Background::stop`] ends it (dropping it does too).
pub struct Background {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// The WAL file of the database at `db`.
fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Asks the kernel to start writing `file`'s dirty pages out, without waiting for them.
#[cfg(target_os = "linux")]
fn start_writeback(file: &std::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain syscall on a descriptor we own; it reads no memory of ours.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

/// Elsewhere the next checkpoint's fsync does all the writing.
#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &std::fs::File) {}

fn run(conn: Connection, wal: PathBuf, stop: Arc<AtomicBool>) {
    let mut wal_file = None;
    while !stop.load(Ordering::Relaxed) {
        // Busy or failing checkpoints are left to the writer's bound; nothing is lost either way.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        if wal_file.is_none() {
            wal_file = std::fs::File::open(&wal).ok();
        }
        if let Some(f) = &wal_file {
            start_writeback(f);
        }
        std::thread::sleep(INTERVAL);
    }
}

impl Background {
    /// Starts checkpointing the database `writer` is connected to (a file database in WAL mode)
    /// from a second connection, and raises `writer`'s own checkpoint size to the WAL bound.
    pub fn start(writer: &Connection, db: &Path) -> rusqlite::Result<Background> {
        let conn = Connection::open(db)?;
        super::configure(&conn)?;
        writer.pragma_update(None, "wal_autocheckpoint", BOUND_AUTOCHECKPOINT)?;
        let stop = Arc::new(AtomicBool::new(false));
        let handle = std::thread::Builder::new()
            .name("logtally-checkpoint".into())
            .spawn({
                let stop = stop.clone();
                let wal = wal_path(db);
                move || run(conn, wal, stop)
            })
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Background {
            stop,
            handle: Some(handle),
        })
    }

    /// Stops the thread and gives `writer` back SQLite's usual checkpoint size.
    pub fn stop(mut self, writer: &Connection) -> rusqlite::Result<()> {
        self.halt();
        writer.pragma_update(None, "wal_autocheckpoint", DEFAULT_AUTOCHECKPOINT)
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.halt();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_while_the_writer_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = crate::store::Store::open(&path).unwrap();
        let conn = &store.conn;
        let bg = Background::start(conn, &path).unwrap();
        let auto: i64 = conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap();
        assert_eq!(auto, BOUND_AUTOCHECKPOINT);
        conn.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        for _ in 0..50 {
            conn.execute("INSERT INTO t VALUES (zeroblob(100000))", [])
                .unwrap();
        }
        // Well below the writer's bound: only the background thread copies pages into the file.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&path).unwrap().len() < 5_000_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the background thread never checkpointed"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        bg.stop(conn).unwrap();
        let auto: i64 = conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap();
        assert_eq!(auto, DEFAULT_AUTOCHECKPOINT);
    }
}
