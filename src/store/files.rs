//! The `files` table: each log file read, by content identity, with its committed offset.

use rusqlite::{Connection, OptionalExtension};

use crate::clock::now_ms;

/// What the database knows of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRecord {
    /// Row id.
    pub id: i64,
    /// Where it was last seen.
    pub path: String,
    /// Fingerprint of its first line.
    pub fingerprint: i64,
    /// Bytes committed.
    pub offset: u64,
    /// Lines committed.
    pub lines: u64,
    /// Bytes covered by the marker.
    pub marker_len: u32,
    /// Hash of the bytes before `offset`.
    pub marker: i64,
}

/// The columns [`FileRecord::from_row`] reads, in order.
const COLUMNS: &str = "id, path, fingerprint, offset, lines, marker_len, marker";

impl FileRecord {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FileRecord> {
        Ok(FileRecord {
            id: r.get(0)?,
            path: r.get(1)?,
            fingerprint: r.get(2)?,
            offset: r.get::<_, i64>(3)? as u64,
            lines: r.get::<_, i64>(4)? as u64,
            marker_len: r.get::<_, i64>(5)? as u32,
            marker: r.get(6)?,
        })
    }
}

/// Files with this fingerprint, furthest read first.
pub fn candidates(conn: &Connection, fingerprint: i64) -> rusqlite::Result<Vec<FileRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM files WHERE fingerprint = ?1 ORDER BY offset DESC, id"
    ))?;
    let rows = stmt.query_map([fingerprint], FileRecord::from_row)?;
    rows.collect()
}

/// The record for a file read from its start. Under the write lock: a record with this fingerprint
/// that nothing was committed for yet (offset 0, e.g. made by an import running right now) is
/// reused rather than doubled, so two processes reading the same new file share one record and
/// the offset check of [`advance`] lets only one of them commit each chunk.
pub fn create(
    conn: &Connection,
    path: &str,
    fingerprint: i64,
    dev_ino: Option<(u64, u64)>,
    gzip: bool,
) -> rusqlite::Result<FileRecord> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        let existing = conn
            .query_row(&format!("SELECT {COLUMNS} FROM files WHERE fingerprint = ?1 AND offset = 0 ORDER BY id LIMIT 1"), [fingerprint], FileRecord::from_row)
            .optional()?;
        if let Some(record) = existing {
            return Ok(record);
        }
        conn.execute(
            "INSERT INTO files (path, fingerprint, dev, ino, gzip, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            (path, fingerprint, dev_ino.map(|d| d.0 as i64), dev_ino.map(|d| d.1 as i64), gzip, now_ms()),
        )?;
        Ok(FileRecord {
            id: conn.last_insert_rowid(),
            path: path.into(),
            fingerprint,
            offset: 0,
            lines: 0,
            marker_len: 0,
            marker: 0,
        })
    })();
    match &result {
        Ok(_) => conn.execute_batch("COMMIT")?,
        Err(_) => {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
    result
}

/// Records progress inside the transaction that inserted the events read from `from` to `to`; fails
/// when the committed offset is no longer `from` (another process read the same lines).
pub fn advance(
    conn: &Connection,
    id: i64,
    path: &str,
    from: u64,
    to: u64,
    lines: u64,
    marker: (u32, i64),
) -> Result<(), AdvanceError> {
    let n = conn
        .prepare_cached(
            "UPDATE files SET path = ?2, offset = ?4, lines = ?5, marker_len = ?6, marker = ?7, updated_at = ?8
             WHERE id = ?1 AND offset = ?3",
        )?
        .execute((id, path, from as i64, to as i64, lines as i64, marker.0 as i64, marker.1, now_ms()))?;
    if n != 1 {
        return Err(AdvanceError::Moved {
            path: path.to_string(),
        });
    }
    Ok(())
}

/// Moves a new record (offset 0) to `offset` without reading the lines before it (`tail --from
/// end`).
pub fn skip_to(
    conn: &Connection,
    id: i64,
    path: &str,
    offset: u64,
    lines: u64,
    marker: (u32, i64),
) -> Result<(), AdvanceError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match advance(conn, id, path, 0, offset, lines, marker) {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

impl AdvanceError {
    /// Whether a later try may succeed: the database stayed locked, or the store the rows go
    /// to did not take them.
    pub fn is_temporary(&self) -> bool {
        matches!(self, AdvanceError::Remote { .. })
            || matches!(
                self.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            )
    }

    /// The SQLite error code, if SQLite failed.
    pub fn sqlite_error_code(&self) -> Option<rusqlite::ErrorCode> {
        match self {
            AdvanceError::Sqlite(e) => e.sqlite_error_code(),
            AdvanceError::Salt(e) if e.busy => Some(rusqlite::ErrorCode::DatabaseBusy),
            AdvanceError::Salt(_) | AdvanceError::Moved { .. } | AdvanceError::Remote { .. } => {
                None
            }
        }
    }
}

/// The offset could not be advanced.
#[derive(Debug, thiserror::Error)]
pub enum AdvanceError {
    /// Another process committed lines of this file meanwhile: writing ours would count them twice.
    #[error("another logtally process is reading {path} at the same time; nothing of this chunk was written, run again once it is done")]
    Moved {
        /// The file.
        path: String,
    },
    /// A day salt could not be settled, so the chunk's visitors could not be hashed.
    #[error(transparent)]
    Salt(#[from] crate::classify::visitor::SaltError),
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The store the rows go to (ClickHouse) did not take them; nothing of the batch counts as
    /// committed and it is sent again.
    #[error("{store} did not take the batch: {detail}")]
    Remote {
        /// The store, as configured (`clickhouse://127.0.0.1:8123/logtally`).
        store: String,
        /// What it answered, or why it could not be reached.
        detail: String,
    },
}

/// A record by id.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<FileRecord>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM files WHERE id = ?1"),
        [id],
        FileRecord::from_row,
    )
    .optional()
}
