//! Imports running now. `import` writes a day's lines over many commits; a `rollup` and a
//! `cleanup` between two of them would make the day final with part of its lines, and the rest
//! would never be counted. So each import holds a row here while it runs, and cleanup makes no day
//! final while any live import holds one (checked under the write lock that marks the day).

use std::path::Path;

use rusqlite::Connection;

/// The start time of process `pid` in clock ticks since boot (field 22 of `/proc/PID/stat`),
/// which tells a live process from a later one that reused its PID.
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// This import's row, removed when dropped (a crash leaves it to [`running`] to remove).
pub struct Lease {
    conn: Connection,
    id: i64,
}

impl Lease {
    /// Records this process as an import running on the database at `path`.
    pub fn begin(path: &Path) -> rusqlite::Result<Lease> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(super::BUSY_TIMEOUT)?;
        let pid = std::process::id();
        conn.execute(
            "INSERT INTO imports (pid, start_ticks, started_at) VALUES (?1, ?2, ?3)",
            (
                pid,
                start_ticks(pid).unwrap_or(0) as i64,
                crate::clock::now_ms(),
            ),
        )?;
        let id = conn.last_insert_rowid();
        Ok(Lease { conn, id })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let _ = self
            .conn
            .execute("DELETE FROM imports WHERE id = ?1", [self.id]);
    }
}

/// The PIDs of imports running now; rows of processes that are gone are removed.
pub fn running(conn: &Connection) -> rusqlite::Result<Vec<u32>> {
    let rows: Vec<(i64, u32, i64)> = conn
        .prepare_cached("SELECT id, pid, start_ticks FROM imports")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut live = Vec::new();
    for (id, pid, ticks) in rows {
        if start_ticks(pid).map(|t| t as i64) == Some(ticks) {
            live.push(pid);
        } else {
            conn.prepare_cached("DELETE FROM imports WHERE id = ?1")?
                .execute([id])?;
        }
    }
    Ok(live)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_lives_with_its_process_and_goes_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = super::super::Store::open(&path).unwrap();
        let lease = Lease::begin(&path).unwrap();
        assert_eq!(running(store.conn()).unwrap(), vec![std::process::id()]);
        drop(lease);
        assert!(running(store.conn()).unwrap().is_empty());
        // A row left by a process that is gone (a crash) is not a running import.
        store
            .conn()
            .execute(
                "INSERT INTO imports (pid, start_ticks, started_at) VALUES (?1, 1, 0)",
                [std::process::id()],
            )
            .unwrap();
        assert!(running(store.conn()).unwrap().is_empty());
        let left: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM imports", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "the stale row is removed");
    }
}
