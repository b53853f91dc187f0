//! Replaces one day's rollup rows in a single transaction, so readers see the old day or the new
//! one, never a mix, and a key that dropped to zero disappears.

use chrono_tz::Tz;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::aggregate::SiteDay;

/// Tables holding one row per (day, site, key).
pub const TABLES: &[&str] = &[
    "daily_totals",
    "daily_pages",
    "daily_entry_pages",
    "daily_referrers",
    "daily_browsers",
    "daily_os",
    "daily_devices",
    "daily_countries",
    "daily_status",
    "daily_not_found",
    "daily_bots",
    "daily_crawlers",
    "hourly_totals",
];

/// Writes `rolled` as the whole of `day`, records on the events the behaviour verdicts that
/// changed (`flagged`: new bot reasons, or 0 where a day's new lines cleared one), and records
/// `max_id` in `rollup_state`, with the day's permanent record of human visits. Returns `false`, writing nothing, when cleanup has begun to delete
/// the day's raw events since they were read: `rollup` may have read part of them, and a day's
/// rollup is never replaced by one computed from part of its events. Cleanup marks a day
/// (`thinned`) in a transaction of its own before deleting anything of it, so checking the mark
/// under the write lock is enough.
pub fn replace_day(
    conn: &mut Connection,
    day: &str,
    tz: Tz,
    max_id: i64,
    rolled: &foldhash::HashMap<String, SiteDay>,
    flagged: &[(i64, u8)],
    record: &[crate::model::RecordVisit],
) -> rusqlite::Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let thinned: bool = tx
        .prepare_cached("SELECT thinned FROM rollup_state WHERE day = ?1")?
        .query_row([day], |r| r.get(0))
        .optional()?
        .unwrap_or(false);
    if thinned {
        return Ok(false);
    }
    // Every site with rows on that day has a daily_totals row: delete by (site, day) prefixes.
    let sites: Vec<String> = tx
        .prepare_cached("SELECT site FROM daily_totals WHERE day = ?1")?
        .query_map([day], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for t in TABLES {
        let mut delete =
            tx.prepare_cached(&format!("DELETE FROM {t} WHERE site = ?1 AND day = ?2"))?;
        for site in &sites {
            delete.execute([site.as_str(), day])?;
        }
    }
    for (site, d) in rolled {
        let t = &d.totals;
        tx.prepare_cached(
            "INSERT INTO daily_totals (day, site, pageviews, visitors, visits, bounces, duration_s, hits, bytes, bot_hits, status_4xx, status_5xx)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![day, site, t.pageviews, t.visitors, t.visits, t.bounces, t.duration_s, t.hits, t.bytes, t.bot_hits, t.status_4xx, t.status_5xx])?;
        for (sql, rows) in [
            ("INSERT INTO daily_pages (day, site, path, visitors, pageviews) VALUES (?1, ?2, ?3, ?4, ?5)", &d.pages),
            ("INSERT INTO daily_browsers (day, site, browser, visitors, pageviews) VALUES (?1, ?2, ?3, ?4, ?5)", &d.browsers),
            ("INSERT INTO daily_os (day, site, os, visitors, pageviews) VALUES (?1, ?2, ?3, ?4, ?5)", &d.os),
            ("INSERT INTO daily_devices (day, site, device, visitors, pageviews) VALUES (?1, ?2, ?3, ?4, ?5)", &d.devices),
            ("INSERT INTO daily_countries (day, site, country, visitors, pageviews) VALUES (?1, ?2, ?3, ?4, ?5)", &d.countries),
        ] {
            let mut stmt = tx.prepare_cached(sql)?;
            for (key, r) in rows {
                stmt.execute(params![day, site, key, r.visitors, r.pageviews])?;
            }
        }
        let mut stmt = tx.prepare_cached("INSERT INTO daily_entry_pages (day, site, path, visits, bounces) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for (path, e) in &d.entry_pages {
            stmt.execute(params![day, site, path, e.visits, e.bounces])?;
        }
        let mut stmt = tx.prepare_cached(
            "INSERT INTO daily_referrers (day, site, source, visits, visitors, pageviews) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (source, e) in &d.sources {
            stmt.execute(params![
                day,
                site,
                source,
                e.visits,
                e.visitors,
                e.pageviews
            ])?;
        }
        let mut stmt = tx.prepare_cached(
            "INSERT INTO daily_status (day, site, status, hits) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (status, hits) in &d.status {
            stmt.execute(params![day, site, status, hits])?;
        }
        let mut stmt = tx.prepare_cached("INSERT INTO daily_not_found (day, site, path, hits, bot_hits) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for (path, (hits, bots)) in &d.not_found {
            stmt.execute(params![day, site, path, hits, bots])?;
        }
        let mut stmt = tx.prepare_cached("INSERT INTO daily_bots (day, site, reason, hits, visitors) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for (reason, (hits, visitors)) in &d.bots {
            stmt.execute(params![day, site, reason, hits, visitors])?;
        }
        let mut stmt = tx.prepare_cached("INSERT INTO daily_crawlers (day, site, name, hits, visitors) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for (name, (hits, visitors)) in &d.crawlers {
            stmt.execute(params![day, site, name, hits, visitors])?;
        }
        let mut stmt = tx.prepare_cached("INSERT INTO hourly_totals (day, site, hour, pageviews, visitors, hits) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        for (hour, (pv, visitors, hits)) in &d.hourly {
            stmt.execute(params![day, site, hour, pv, visitors, hits])?;
        }
    }
    let day_number = super::days::day_number(
        chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("a day key"),
    );
    crate::store::record::replace_day(&tx, day_number, record)?;
    // Layer-4 bot verdicts stay on the events, as marks until cleanup; they are decided again
    // whenever the day is.
    let mut mark = tx.prepare_cached("UPDATE events SET bot = ?2 WHERE id = ?1")?;
    for (id, bot) in flagged {
        mark.execute(params![id, bot])?;
    }
    drop(mark);
    let now = crate::clock::now_ms();
    tx.prepare_cached(
        "INSERT INTO rollup_state (day, max_id, thinned, tz, rolled_at) VALUES (?1, ?2, 0, ?3, ?4)
         ON CONFLICT (day) DO UPDATE SET max_id = excluded.max_id, tz = excluded.tz, rolled_at = excluded.rolled_at",
    )?
    .execute(params![day, max_id, tz.name(), now])?;
    tx.commit()?;
    Ok(true)
}
