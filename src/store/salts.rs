//! Day salts in the database: read once at start, and settled (get-or-create) in a short write
//! transaction of their own the first time a process needs a day's salt, so that every writer of
//! a day (`tail`, one or more `import`s) hashes its visitors with the one committed salt.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::classify::visitor::{Salt, SaltBook, SaltError};

/// How long settling a salt waits for another process's write lock before giving up.
pub const SETTLE_PATIENCE: Duration = Duration::from_secs(60);

/// A stored salt that is not 16 bytes long: the database was changed by hand or is damaged.
#[derive(Debug, thiserror::Error)]
#[error("the visitor salt of day {day} in the database is {len} bytes long, not 16; delete it with `sqlite3 DB 'DELETE FROM salts WHERE day = {day}'` (that day's visitors then count again from a new salt)")]
pub struct DamagedSalt {
    /// Days since 1970-01-01.
    pub day: i64,
    /// Its length.
    pub len: usize,
}

/// Reading salts failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A salt of the wrong length.
    #[error(transparent)]
    Damaged(#[from] DamagedSalt),
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

fn salt_of(day: i64, blob: &[u8]) -> Result<Salt, DamagedSalt> {
    blob.try_into().map_err(|_| DamagedSalt {
        day,
        len: blob.len(),
    })
}

/// Every recorded salt.
pub fn saved(conn: &Connection) -> Result<Vec<(i64, Salt)>, Error> {
    let mut stmt = conn.prepare("SELECT day, salt FROM salts")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let day: i64 = r.get(0)?;
        let blob: Vec<u8> = r.get(1)?;
        out.push((day, salt_of(day, &blob)?));
    }
    Ok(out)
}

/// The salts of the days of `fresh`, recording each fresh one where a day has none, in one
/// `BEGIN IMMEDIATE` transaction.
fn settle_once(conn: &mut Connection, fresh: &[(i64, Salt)]) -> Result<Vec<(i64, Salt)>, Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = Vec::with_capacity(fresh.len());
    for (day, salt) in fresh {
        tx.prepare_cached("INSERT OR IGNORE INTO salts (day, salt) VALUES (?1, ?2)")?
            .execute((day, &salt[..]))?;
        let blob: Option<Vec<u8>> = tx
            .prepare_cached("SELECT salt FROM salts WHERE day = ?1")?
            .query_row([day], |r| r.get(0))
            .optional()?;
        let blob = blob.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        out.push((*day, salt_of(*day, &blob)?));
    }
    tx.commit()?;
    Ok(out)
}

/// Settles salts through a connection of its own (parsing threads ask while the writer holds the
/// main connection).
pub struct Book {
    conn: Mutex<Connection>,
}

impl Book {
    /// A book on the database at `path`.
    pub fn open(path: &Path) -> rusqlite::Result<Book> {
        let mut conn = Connection::open(path)?;
        // Parsing waits while a salt is settled: ask for the lock again every millisecond
        // (SQLite's own busy handler backs off to 100 ms sleeps, which cost an import a fifth of
        // its time when the writer commits chunk after chunk), for as long as `BUSY_TIMEOUT`.
        conn.busy_handler(Some(|tries: i32| {
            std::thread::sleep(Duration::from_millis(1));
            i64::from(tries) < super::BUSY_TIMEOUT.as_millis() as i64
        }))?;
        // As every writer's: a commit in WAL mode need not wait for the disk.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(Book {
            conn: Mutex::new(conn),
        })
    }
}

fn is_busy(e: &Error) -> bool {
    matches!(e, Error::Sqlite(e) if matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    ))
}

impl SaltBook for Book {
    fn settle(&self, fresh: &[(i64, Salt)]) -> Result<Vec<(i64, Salt)>, SaltError> {
        let day = fresh.first().map_or(0, |(d, _)| *d);
        let mut conn = self.conn.lock().expect("salt book lock");
        let started = Instant::now();
        loop {
            match settle_once(&mut conn, fresh) {
                Ok(salt) => return Ok(salt),
                Err(e) if is_busy(&e) && started.elapsed() < SETTLE_PATIENCE => continue,
                Err(e) => {
                    let busy = is_busy(&e);
                    let reason = if busy {
                        format!(
                            "{e}; another process held the write lock for {} s: run again later",
                            SETTLE_PATIENCE.as_secs()
                        )
                    } else {
                        e.to_string()
                    };
                    return Err(SaltError { day, busy, reason });
                }
            }
        }
    }
}

impl Error {
    /// The SQLite error code, if SQLite failed.
    pub fn sqlite_error_code(&self) -> Option<rusqlite::ErrorCode> {
        match self {
            Error::Sqlite(e) => e.sqlite_error_code(),
            Error::Damaged(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_books_on_one_database_settle_on_one_salt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(super::super::Store::open(&path).unwrap());
        let (a, b) = (Book::open(&path).unwrap(), Book::open(&path).unwrap());
        let first = a.settle(&[(20_000, [1; 16])]).unwrap();
        let second = b.settle(&[(20_000, [2; 16]), (20_001, [3; 16])]).unwrap();
        assert_eq!(first, vec![(20_000, [1; 16])]);
        assert_eq!(
            second,
            vec![(20_000, [1; 16]), (20_001, [3; 16])],
            "the recorded salt wins over the fresh one"
        );
        let conn = Connection::open(&path).unwrap();
        assert_eq!(
            saved(&conn).unwrap(),
            vec![(20_000, [1; 16]), (20_001, [3; 16])]
        );
    }

    #[test]
    fn a_short_salt_is_reported_not_a_panic() {
        let store = super::super::Store::open_in_memory().unwrap();
        store
            .conn
            .execute("INSERT INTO salts (day, salt) VALUES (5, x'0102')", [])
            .unwrap();
        let err = saved(&store.conn).unwrap_err().to_string();
        assert!(err.contains("day 5") && err.contains("2 bytes"), "{err}");
    }
}
