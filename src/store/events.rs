//! Reading raw events by time: the spans (`event_spans`) that say which rowids hold a stretch of
//! time, and one local day's events as plain rows.

use rusqlite::Connection;

use super::batch::BUCKET_MS;

/// The highest event id of every span bucket that has events: (bucket, max id).
pub fn bucket_maxima(conn: &Connection) -> rusqlite::Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare("SELECT bucket, max(max_id) FROM event_spans GROUP BY bucket")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push((r.get(0)?, r.get(1)?));
    }
    Ok(out)
}

/// Merged rowid ranges holding the events of `[start, end)`.
pub fn id_ranges(conn: &Connection, start: i64, end: i64) -> rusqlite::Result<Vec<(i64, i64)>> {
    let mut spans: Vec<(i64, i64)> = conn
        .prepare_cached("SELECT min_id, max_id FROM event_spans WHERE bucket >= ?1 AND bucket < ?2 ORDER BY min_id")?
        .query_map([start.div_euclid(BUCKET_MS), (end + BUCKET_MS - 1).div_euclid(BUCKET_MS)], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    spans.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    Ok(merged)
}

/// One raw event as stored, with dictionary ids.
#[derive(Clone, Copy, Debug)]
pub struct RawEvent {
    /// Row id.
    pub id: i64,
    /// Unix ms, UTC.
    pub ts: i64,
    /// Site id.
    pub site: i64,
    /// Path id.
    pub path: Option<i64>,
    /// Referrer id, `None` for direct.
    pub referrer: Option<i64>,
    /// Agent id.
    pub agent: Option<i64>,
    /// Visitor hash.
    pub visitor: i64,
    /// HTTP status.
    pub status: u16,
    /// Response bytes.
    pub bytes: Option<i64>,
    /// `classify::Kind` code.
    pub kind: u8,
    /// Bot reason, 0 for human.
    pub bot: u8,
    /// Packed country code (`classify::geo::pack`).
    pub country: Option<i64>,
    /// Salted hashes of network and address; `None` on rows written before they were recorded.
    pub origin: Option<i64>,
    /// `classify::traits` bits.
    pub traits: u8,
    /// `classify::Method` code.
    pub method: u8,
}

/// The events of `[start, end)` (a local day), read through the spans that hold them.
pub fn load_day(conn: &Connection, start: i64, end: i64) -> rusqlite::Result<Vec<RawEvent>> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT id, ts, site, path, referrer, agent, visitor, status, bytes, kind, bot, country, origin, traits, method FROM events
         WHERE id BETWEEN ?1 AND ?2 AND ts >= ?3 AND ts < ?4",
    )?;
    for (lo, hi) in id_ranges(conn, start, end)? {
        let mut rows = stmt.query((lo, hi, start, end))?;
        while let Some(r) = rows.next()? {
            out.push(RawEvent {
                id: r.get(0)?,
                ts: r.get(1)?,
                site: r.get(2)?,
                path: r.get(3)?,
                referrer: r.get(4)?,
                agent: r.get(5)?,
                visitor: r.get(6)?,
                status: r.get(7)?,
                bytes: r.get(8)?,
                kind: r.get(9)?,
                bot: r.get(10)?,
                country: r.get(11)?,
                origin: r.get(12)?,
                traits: r.get(13)?,
                method: r.get(14)?,
            });
        }
    }
    Ok(out)
}
