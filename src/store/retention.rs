//! The deletes of retention, each small enough for a short transaction: a day's raw events by id
//! range, its spans, salts, dictionary rows no event references, and returning free pages to the
//! file system. Which days and rows go is `cleanup`'s decision.

use std::collections::HashSet;

use rusqlite::{Connection, Transaction};

use super::batch::BUCKET_MS;

/// Deletes the events of `[start, end)` whose ids are in `[lo, hi]`; returns how many.
pub fn delete_events(
    tx: &Transaction<'_>,
    lo: i64,
    hi: i64,
    start: i64,
    end: i64,
) -> rusqlite::Result<usize> {
    tx.prepare_cached("DELETE FROM events WHERE id BETWEEN ?1 AND ?2 AND ts >= ?3 AND ts < ?4")?
        .execute((lo, hi, start, end))
}

/// Deletes the spans of `[start, end)` whose events are all at or below `max_id` (spans written
/// later stay, with their events).
pub fn delete_spans(
    tx: &Transaction<'_>,
    start: i64,
    end: i64,
    max_id: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "DELETE FROM event_spans WHERE bucket >= ?1 AND bucket < ?2 AND max_id <= ?3",
    )?
    .execute((
        start.div_euclid(BUCKET_MS),
        (end + BUCKET_MS - 1).div_euclid(BUCKET_MS),
        max_id,
    ))?;
    Ok(())
}

/// Days (since 1970-01-01) of the salts recorded for days before `day`.
pub fn salt_days_before(conn: &Connection, day: i64) -> rusqlite::Result<Vec<i64>> {
    conn.prepare("SELECT day FROM salts WHERE day < ?1")?
        .query_map([day], |r| r.get(0))?
        .collect()
}

/// Deletes the salts of `days`.
pub fn delete_salts(tx: &Transaction<'_>, days: &[i64]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached("DELETE FROM salts WHERE day = ?1")?;
    for d in days {
        stmt.execute([d])?;
    }
    Ok(())
}

/// A dictionary table whose rows no event references any more are deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dictionary {
    /// `paths`.
    Paths,
    /// `referrers`.
    Referrers,
    /// `agents`.
    Agents,
}

impl Dictionary {
    /// Every one, in the order cleanup handles them.
    pub const ALL: [Dictionary; 3] = [Dictionary::Paths, Dictionary::Referrers, Dictionary::Agents];

    /// (table, column of `events` referring to it).
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Dictionary::Paths => ("paths", "path"),
            Dictionary::Referrers => ("referrers", "referrer"),
            Dictionary::Agents => ("agents", "agent"),
        }
    }
}

/// The dictionary ids the events reference, up to the last event at the time of the scan.
#[derive(Debug, Default)]
pub struct Referenced {
    /// The highest event id scanned.
    pub scanned_to: i64,
    /// Path ids.
    pub paths: HashSet<i64>,
    /// Referrer ids.
    pub referrers: HashSet<i64>,
    /// Agent ids.
    pub agents: HashSet<i64>,
}

impl Referenced {
    /// The ids referenced in `dictionary`.
    pub fn of(&self, dictionary: Dictionary) -> &HashSet<i64> {
        match dictionary {
            Dictionary::Paths => &self.paths,
            Dictionary::Referrers => &self.referrers,
            Dictionary::Agents => &self.agents,
        }
    }
}

/// Scans every event, in one read transaction, for the dictionary ids it references.
pub fn scan_referenced(conn: &mut Connection) -> rusqlite::Result<Referenced> {
    let mut out = Referenced::default();
    let tx = conn.transaction()?;
    let max: i64 = tx.query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))?;
    let mut stmt = tx.prepare("SELECT path, referrer, agent FROM events WHERE id <= ?1")?;
    let mut rows = stmt.query([max])?;
    while let Some(r) = rows.next()? {
        if let Some(p) = r.get::<_, Option<i64>>(0)? {
            out.paths.insert(p);
        }
        if let Some(x) = r.get::<_, Option<i64>>(1)? {
            out.referrers.insert(x);
        }
        if let Some(a) = r.get::<_, Option<i64>>(2)? {
            out.agents.insert(a);
        }
    }
    drop(rows);
    drop(stmt);
    tx.commit()?;
    out.scanned_to = max;
    Ok(out)
}

/// The ids of `dictionary` not in `used` (rows that fail to read are left out).
pub fn unused_ids(
    conn: &Connection,
    dictionary: Dictionary,
    used: &HashSet<i64>,
) -> rusqlite::Result<Vec<i64>> {
    let (table, _) = dictionary.names();
    Ok(conn
        .prepare(&format!("SELECT id FROM {table}"))?
        .query_map([], |r| r.get(0))?
        .filter_map(|id| id.ok().filter(|id| !used.contains(id)))
        .collect())
}

/// Deletes the rows of `ids` from `dictionary`, except those an event written after `scanned_to`
/// references, and bumps `dict_generation` so writers that cached a deleted id look it up again;
/// returns the rows deleted.
pub fn delete_unused(
    tx: &Transaction<'_>,
    dictionary: Dictionary,
    scanned_to: i64,
    ids: &[i64],
) -> rusqlite::Result<u64> {
    let (table, column) = dictionary.names();
    let fresh: HashSet<i64> = tx
        .prepare_cached(&format!(
            "SELECT DISTINCT {column} FROM events WHERE id > ?1 AND {column} IS NOT NULL"
        ))?
        .query_map([scanned_to], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = tx.prepare_cached(&format!("DELETE FROM {table} WHERE id = ?1"))?;
    let mut n = 0;
    for id in ids.iter().filter(|id| !fresh.contains(id)) {
        n += stmt.execute([id])? as u64;
    }
    tx.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'dict_generation'",
        [],
    )?;
    Ok(n)
}

/// Pages on the free list.
pub fn freelist_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))
}

/// Returns up to `pages` free pages to the file system.
pub fn incremental_vacuum(conn: &Connection, pages: i64) -> rusqlite::Result<()> {
    // The pragma frees one page per step of its statement: run it to completion.
    let mut stmt = conn.prepare_cached(&format!("PRAGMA incremental_vacuum({pages})"))?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}
