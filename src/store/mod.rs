//! The SQLite store, the only home of SQL: opening with the right pragmas, migrations, dictionary
//! caches, batch writes, and the reads and writes of rollup ([`events`], [`agents`], [`rollups`],
//! [`state`]) and cleanup ([`retention`]).
//!
//! One [`Store`] owns one connection. Every connection gets WAL, `synchronous=NORMAL` and a 5 s
//! `busy_timeout`, so readers never block the writer and a second writer waits instead of failing.

pub mod agents;
pub mod batch;
pub mod checkpoint;
pub mod clickhouse;
pub mod dict;
pub mod events;
pub mod facts;
pub mod files;
pub mod generation;
pub mod history;
pub mod imports;
pub mod migrate;
pub mod reader;
pub mod reads;
pub mod record;
pub mod retention;
pub mod rollups;
pub mod salts;
pub mod sink;
pub mod state;
pub mod zone;

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

/// How long a connection waits for a lock before failing with `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Mode of a database file logtally creates: owner read/write, group read (the web or stats user).
pub const DB_FILE_MODE: u32 = 0o640;
/// Mode of a folder logtally creates for a database (before the umask, which may only remove).
pub const DB_DIR_MODE: u32 = 0o750;

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder for the database could not be created.
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another process held the write lock longer than [`BUSY_TIMEOUT`].
    #[error(transparent)]
    Busy(#[from] Busy),
    /// There is no database to read.
    #[error("no database at {path}: import some logs first (logtally import FILE), or pass --db")]
    Missing {
        /// The path looked at.
        path: PathBuf,
    },
    /// The file could not be created or opened.
    #[error("cannot open the database {path}: {source}; {}", open_hint(.source))]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// Creating the file with its mode failed.
    #[error("cannot create the database {path}: {source}")]
    Create {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Migrating the schema failed.
    #[error("cannot prepare the database {path}: {source}")]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: migrate::Error,
    },
    /// A stored salt is damaged.
    #[error(transparent)]
    Damaged(#[from] salts::DamagedSalt),
    /// Any other SQLite failure.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// The database stayed locked by another process: a temporary failure (exit 75).
#[derive(Debug, thiserror::Error)]
#[error("the database {path} is locked by another process (an import, rollup or cleanup running, or a tail committing) and stayed locked for {} s; run again when it is done", BUSY_TIMEOUT.as_secs())]
pub struct Busy {
    /// The database file.
    pub path: PathBuf,
}

/// Whether SQLite failed because another connection held a lock.
pub fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// What to do about a database that cannot be opened.
fn open_hint(e: &rusqlite::Error) -> &'static str {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ReadOnly) => {
            "this command writes: run it as a user who may write the file and its folder"
        }
        Some(rusqlite::ErrorCode::NotADatabase) => {
            "the file is not a logtally database: check --db"
        }
        Some(rusqlite::ErrorCode::DiskFull) => "the disk is full: free some space and run again",
        _ => "check the path and its permissions, or pass --db",
    }
}

/// What to do about a failed write (`None` when the error says it all).
fn write_hint(err: &batch::CommitError) -> Option<&'static str> {
    use rusqlite::ErrorCode::*;
    Some(match err.sqlite_error_code()? {
        DiskFull => "the disk is full: free some space and run again",
        ReadOnly => "the database is read-only: check the permissions of the file and its folder",
        SystemIoFailure => "the disk refused the write: check free space, quotas and file-size limits",
        DatabaseBusy | DatabaseLocked => "another process held the database too long: run again later",
        CannotOpen => "the database file cannot be opened: check the path and permissions",
        _ => "run again; if it persists, check the database with `sqlite3 FILE 'PRAGMA integrity_check'`",
    })
}

/// A failed write with what to do about it, for error messages.
pub fn describe_write_error(err: &batch::CommitError) -> String {
    match write_hint(err) {
        Some(hint) => format!("{err}; {hint}"),
        None => err.to_string(),
    }
}

/// The database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Must precede table creation to take effect on a new file. Only then: on an existing file it
    // changes nothing but still waits for the write lock.
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    if pages == 0 {
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    }
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -32_000)?; // 32 MB
    Ok(())
}

/// A read-only connection; `immutable` reads the file without locks or the WAL index.
fn open_reader(path: &Path, immutable: bool) -> rusqlite::Result<Connection> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = if immutable {
        // A URI names the file: escape what a URI gives meaning to.
        let mut uri = String::from("file:");
        for c in path.to_string_lossy().chars() {
            match c {
                '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", c as u32)),
                c => uri.push(c),
            }
        }
        uri.push_str("?immutable=1");
        Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?
    } else {
        Connection::open_with_flags(path, flags)?
    };
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Opening is lazy: read the schema now, so a failure shows here.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })?;
    Ok(conn)
}

/// `n` read-only connections to the database at `path`, for work spread over threads (each
/// thread its own connection).
pub fn open_readers(path: &Path, n: usize) -> rusqlite::Result<Vec<Connection>> {
    (0..n)
        .map(|_| {
            let c = Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            c.busy_timeout(BUSY_TIMEOUT)?;
            Ok(c)
        })
        .collect()
}

/// Runs `f` on `conn` inside one read transaction, so that all it reads comes from one snapshot
/// of the database.
pub fn read_snapshot<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.execute_batch("BEGIN")?;
    let out = f(conn);
    conn.execute_batch("COMMIT")?;
    out
}

impl Store {
    /// Opens (creating if needed, with its folder and mode 0640) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Folders logtally makes are the owner's and the group's to read, whatever the umask.
            use std::os::unix::fs::DirBuilderExt;
            fs::DirBuilder::new()
                .recursive(true)
                .mode(DB_DIR_MODE)
                .create(dir)
                .map_err(|source| Error::CreateDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
        }
        if !path.exists() {
            let created = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(DB_FILE_MODE)
                .open(path);
            match created {
                Ok(f) => f
                    .set_permissions(fs::Permissions::from_mode(DB_FILE_MODE))
                    .map_err(|source| Error::Create {
                        path: path.to_path_buf(),
                        source,
                    })?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => {
                    return Err(Error::Create {
                        path: path.to_path_buf(),
                        source,
                    })
                }
            }
        }
        let open_err = |source: rusqlite::Error| {
            if is_busy(&source) {
                Error::Busy(Busy {
                    path: path.to_path_buf(),
                })
            } else {
                Error::Open {
                    path: path.to_path_buf(),
                    source,
                }
            }
        };
        // Setting the journal mode of a new file and migrating it can fail at once with
        // SQLITE_BUSY, without the busy handler, when another process does the same: retry.
        let started = std::time::Instant::now();
        let conn = loop {
            let attempt = Connection::open(path)
                .and_then(|conn| configure(&conn).map(|()| conn))
                .map_err(migrate::Error::Sqlite)
                .and_then(|mut conn| migrate::migrate(&mut conn).map(|_| conn));
            match attempt {
                Ok(conn) => break conn,
                Err(migrate::Error::Sqlite(e))
                    if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(migrate::Error::Sqlite(e)) => return Err(open_err(e)),
                Err(source) => {
                    return Err(Error::Migrate {
                        path: path.to_path_buf(),
                        source,
                    })
                }
            }
        };
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Opens the database at `path` for reading only, as reports do: it takes no lock a writer
    /// waits for, and it reads while another process writes, for a user who may only read the
    /// file (a group member of a 0640 database), and on a read-only mount. When SQLite cannot
    /// open the write-ahead log's index beside the file (a folder the user may not write, with no
    /// writer running), the file is read as immutable.
    pub fn open_read_only(path: &Path) -> Result<Store, Error> {
        let open_err = |source: rusqlite::Error| {
            if is_busy(&source) {
                Error::Busy(Busy {
                    path: path.to_path_buf(),
                })
            } else {
                Error::Open {
                    path: path.to_path_buf(),
                    source,
                }
            }
        };
        if !path.exists() {
            return Err(Error::Missing {
                path: path.to_path_buf(),
            });
        }
        let conn = match open_reader(path, false) {
            Ok(c) => c,
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)
                ) =>
            {
                open_reader(path, true).map_err(open_err)?
            }
            Err(e) => return Err(open_err(e)),
        };
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(open_err)?;
        if version != migrate::SCHEMA_VERSION {
            return Err(Error::Migrate {
                path: path.to_path_buf(),
                source: if version > migrate::SCHEMA_VERSION {
                    migrate::Error::TooNew { found: version }
                } else {
                    migrate::Error::Outdated { found: version }
                },
            });
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// An in-memory store for tests.
    pub fn open_in_memory() -> Result<Store, Error> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn)?;
        migrate::migrate(&mut conn).map_err(|source| Error::Migrate {
            path: ":memory:".into(),
            source,
        })?;
        Ok(Store {
            conn,
            path: PathBuf::from(":memory:"),
        })
    }

    /// Sets the page cache to `kib` KiB (a long-running process with a low write rate needs far
    /// less than the 32 MB an import uses).
    pub fn set_cache_kib(&self, kib: i64) -> rusqlite::Result<()> {
        self.conn.pragma_update(None, "cache_size", -kib)
    }

    /// The connection, lent to the functions of `store`'s modules (`store::files`,
    /// `store::zone`...) and to the readers above that call them.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, for the writes of `store`'s modules (batches, rollups, retention).
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The day salts recorded so far, with a book that records new ones in this database (in
    /// memory only for an in-memory database), so that every writer of a day hashes alike.
    pub fn salts(&self) -> Result<crate::classify::Salts, Error> {
        let saved = salts::saved(&self.conn).map_err(|e| match e {
            salts::Error::Sqlite(e) => Error::Sqlite(e),
            salts::Error::Damaged(e) => Error::Damaged(e),
        })?;
        let book: Option<Box<dyn crate::classify::visitor::SaltBook>> =
            if self.path == Path::new(":memory:") {
                None
            } else {
                Some(Box::new(salts::Book::open(&self.path)?))
            };
        Ok(crate::classify::Salts::from_saved(saved, book))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_folder_file_mode_and_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/logtally.db");
        let store = Store::open(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, DB_FILE_MODE);
        let jm: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(jm, "wal");
        let av: i64 = store
            .conn
            .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
            .unwrap();
        assert_eq!(av, 2, "incremental auto-vacuum, for cleanup --vacuum");
        drop(store);
        Store::open(&path).expect("reopens an existing database");
    }
}
