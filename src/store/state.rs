//! `rollup_state`: per local day, the highest event id rolled up, and whether cleanup has begun
//! to delete the day's raw events (`thinned`: its rollups are final).

use std::collections::HashMap;

use chrono_tz::Tz;
use rusqlite::{params, Connection, OptionalExtension};

/// Every day recorded: day key -> (highest event id rolled up, thinned).
pub fn all(conn: &Connection) -> rusqlite::Result<HashMap<String, (i64, bool)>> {
    conn.prepare("SELECT day, max_id, thinned FROM rollup_state")?
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                (r.get::<_, i64>(1)?, r.get::<_, bool>(2)?),
            ))
        })?
        .collect()
}

/// Whether cleanup has begun to delete the raw events of `day`.
pub fn thinned(conn: &Connection, day: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("SELECT thinned FROM rollup_state WHERE day = ?1")?
        .query_row([day], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// Records `day` as rolled up to `max_id` in zone `tz`, now.
pub fn record_rolled(conn: &Connection, day: &str, max_id: i64, tz: Tz) -> rusqlite::Result<()> {
    let now = crate::clock::now_ms();
    conn.prepare_cached(
        "INSERT INTO rollup_state (day, max_id, thinned, tz, rolled_at) VALUES (?1, ?2, 0, ?3, ?4)
         ON CONFLICT (day) DO UPDATE SET max_id = excluded.max_id, tz = excluded.tz, rolled_at = excluded.rolled_at",
    )?
    .execute(params![day, max_id, tz.name(), now])?;
    Ok(())
}

/// Marks `day` final (`thinned`) if it is already, or if it is rolled up to at least `span_max`,
/// and no import is running (`store::imports`); returns the rows changed (0: the day is not
/// rolled up that far, or an import runs).
pub fn mark_thinned(conn: &Connection, day: &str, span_max: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "UPDATE rollup_state SET thinned = 1 WHERE day = ?1 AND (thinned = 1 OR max_id >= ?2)
         AND NOT EXISTS (SELECT 1 FROM imports)",
    )?
    .execute((day, span_max))
}
