//! The daily rollup tables: the rows of one site's day, and replacing one day's rows in a single
//! transaction, so readers see the old day or the new one, never a mix, and a key that dropped to
//! zero disappears.

use chrono_tz::Tz;
use foldhash::HashMap;
use rusqlite::{params, Connection, TransactionBehavior};

use super::state;

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

/// Totals of one site on one day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Human page views.
    pub pageviews: u64,
    /// Distinct human visitors.
    pub visitors: u64,
    /// Visits.
    pub visits: u64,
    /// Visits of one page view.
    pub bounces: u64,
    /// Time spent over all visits, seconds.
    pub duration_s: u64,
    /// All hits, bots included.
    pub hits: u64,
    /// Response bytes of all hits.
    pub bytes: u64,
    /// Hits of bots.
    pub bot_hits: u64,
    /// Hits answered 4xx.
    pub status_4xx: u64,
    /// Hits answered 5xx.
    pub status_5xx: u64,
}

/// Visitors and page views under one key (a page, browser, OS, device...).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// Distinct visitors.
    pub visitors: u64,
    /// Page views.
    pub pageviews: u64,
}

/// Visits started under one key (an entry page or a source).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entries {
    /// Visits started.
    pub visits: u64,
    /// Of which bounced.
    pub bounces: u64,
    /// Distinct visitors.
    pub visitors: u64,
    /// Page views of those visits.
    pub pageviews: u64,
}

/// Everything rolled up for one site on one day.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SiteDay {
    /// `daily_totals`.
    pub totals: Totals,
    /// Path -> reach (`daily_pages`).
    pub pages: HashMap<String, Reach>,
    /// Entry path -> visits (`daily_entry_pages`).
    pub entry_pages: HashMap<String, Entries>,
    /// Source -> visits (`daily_referrers`).
    pub sources: HashMap<String, Entries>,
    /// Browser -> reach (`daily_browsers`).
    pub browsers: HashMap<String, Reach>,
    /// OS -> reach (`daily_os`).
    pub os: HashMap<String, Reach>,
    /// Device class -> reach (`daily_devices`).
    pub devices: HashMap<String, Reach>,
    /// Country -> reach (`daily_countries`).
    pub countries: HashMap<String, Reach>,
    /// HTTP status -> hits (`daily_status`).
    pub status: HashMap<u16, u64>,
    /// 404 path -> (hits, of which bots).
    pub not_found: HashMap<String, (u64, u64)>,
    /// Bot reason -> (hits, visitors).
    pub bots: HashMap<u8, (u64, u64)>,
    /// Named crawler -> (hits, visitors).
    pub crawlers: HashMap<String, (u64, u64)>,
    /// Hour from local midnight -> (page views, visitors, hits).
    pub hourly: HashMap<u32, (u64, u64, u64)>,
}

/// The rows of `day` (`YYYY-MM-DD`), by site, as [`replace_day`] wrote them.
pub fn read_day(conn: &Connection, day: &str) -> rusqlite::Result<HashMap<String, SiteDay>> {
    let mut out: HashMap<String, SiteDay> = HashMap::default();
    let mut stmt = conn.prepare_cached(
        "SELECT site, pageviews, visitors, visits, bounces, duration_s, hits, bytes, bot_hits, status_4xx, status_5xx
         FROM daily_totals WHERE day = ?1",
    )?;
    let mut rows = stmt.query([day])?;
    while let Some(r) = rows.next()? {
        let site: String = r.get(0)?;
        out.entry(site).or_default().totals = Totals {
            pageviews: r.get(1)?,
            visitors: r.get(2)?,
            visits: r.get(3)?,
            bounces: r.get(4)?,
            duration_s: r.get(5)?,
            hits: r.get(6)?,
            bytes: r.get(7)?,
            bot_hits: r.get(8)?,
            status_4xx: r.get(9)?,
            status_5xx: r.get(10)?,
        };
    }
    /// Each row of `sql` (site, key, numbers...) into the site's day.
    fn each<K: rusqlite::types::FromSql>(
        conn: &Connection,
        sql: &str,
        day: &str,
        out: &mut HashMap<String, SiteDay>,
        numbers: usize,
        mut put: impl FnMut(&mut SiteDay, K, &[u64]),
    ) -> rusqlite::Result<()> {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query([day])?;
        let mut n = vec![0u64; numbers];
        while let Some(r) = rows.next()? {
            let site: String = r.get(0)?;
            for (i, slot) in n.iter_mut().enumerate() {
                *slot = r.get(i + 2)?;
            }
            put(out.entry(site).or_default(), r.get(1)?, &n);
        }
        Ok(())
    }
    let reach = |n: &[u64]| Reach {
        visitors: n[0],
        pageviews: n[1],
    };
    for (table, key, pick) in [
        ("daily_pages", "path", 0),
        ("daily_browsers", "browser", 1),
        ("daily_os", "os", 2),
        ("daily_devices", "device", 3),
        ("daily_countries", "country", 4),
    ] {
        let sql = format!("SELECT site, {key}, visitors, pageviews FROM {table} WHERE day = ?1");
        each(conn, &sql, day, &mut out, 2, |d, k: String, n| {
            let map = match pick {
                0 => &mut d.pages,
                1 => &mut d.browsers,
                2 => &mut d.os,
                3 => &mut d.devices,
                _ => &mut d.countries,
            };
            map.insert(k, reach(n));
        })?;
    }
    each(
        conn,
        "SELECT site, path, visits, bounces FROM daily_entry_pages WHERE day = ?1",
        day,
        &mut out,
        2,
        |d, k: String, n| {
            d.entry_pages.insert(
                k,
                Entries {
                    visits: n[0],
                    bounces: n[1],
                    ..Default::default()
                },
            );
        },
    )?;
    each(
        conn,
        "SELECT site, source, visits, visitors, pageviews FROM daily_referrers WHERE day = ?1",
        day,
        &mut out,
        3,
        |d, k: String, n| {
            d.sources.insert(
                k,
                Entries {
                    visits: n[0],
                    visitors: n[1],
                    pageviews: n[2],
                    bounces: 0,
                },
            );
        },
    )?;
    each(
        conn,
        "SELECT site, status, hits FROM daily_status WHERE day = ?1",
        day,
        &mut out,
        1,
        |d, k: u16, n| {
            d.status.insert(k, n[0]);
        },
    )?;
    each(
        conn,
        "SELECT site, path, hits, bot_hits FROM daily_not_found WHERE day = ?1",
        day,
        &mut out,
        2,
        |d, k: String, n| {
            d.not_found.insert(k, (n[0], n[1]));
        },
    )?;
    each(
        conn,
        "SELECT site, reason, hits, visitors FROM daily_bots WHERE day = ?1",
        day,
        &mut out,
        2,
        |d, k: u8, n| {
            d.bots.insert(k, (n[0], n[1]));
        },
    )?;
    each(
        conn,
        "SELECT site, name, hits, visitors FROM daily_crawlers WHERE day = ?1",
        day,
        &mut out,
        2,
        |d, k: String, n| {
            d.crawlers.insert(k, (n[0], n[1]));
        },
    )?;
    each(
        conn,
        "SELECT site, hour, pageviews, visitors, hits FROM hourly_totals WHERE day = ?1",
        day,
        &mut out,
        3,
        |d, k: u32, n| {
            d.hourly.insert(k, (n[0], n[1], n[2]));
        },
    )?;
    Ok(out)
}

/// Writes `rolled` as the whole of `day`, records on the events the behaviour verdicts and kinds
/// that changed (`flagged`: (id, bot reason or 0 where a day's new lines cleared one, kind: a
/// page request that is no page view is retyped, `rollup::echoes`)), and records
/// `max_id` in `rollup_state`, with the day's permanent record of human visits. Returns `false`,
/// writing nothing, when cleanup has begun to delete the day's raw events since they were read: `rollup` may have read part of them, and a day's
/// rollup is never replaced by one computed from part of its events. Cleanup marks a day
/// (`thinned`) in a transaction of its own before deleting anything of it, so checking the mark
/// under the write lock is enough.
pub fn replace_day(
    conn: &mut Connection,
    day: &str,
    tz: Tz,
    max_id: i64,
    rolled: &HashMap<String, SiteDay>,
    flagged: &[(i64, u8, u8)],
    record: &crate::model::RecordDay,
) -> rusqlite::Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if state::thinned(&tx, day)? {
        return Ok(false);
    }
    super::generation::bump(&tx)?;
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
    super::record::replace_day(&tx, record.day, &record.visits)?;
    // Layer-4 bot verdicts stay on the events, as marks until cleanup; they are decided again
    // whenever the day is.
    let mut mark = tx.prepare_cached("UPDATE events SET bot = ?2, kind = ?3 WHERE id = ?1")?;
    for (id, bot, kind) in flagged {
        mark.execute(params![id, bot, kind])?;
    }
    drop(mark);
    state::record_rolled(&tx, day, max_id, tz)?;
    tx.commit()?;
    Ok(true)
}
