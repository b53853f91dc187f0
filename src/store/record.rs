//! The permanent record of human visits (schema 6): written a day at a time by rollup, in the
//! transaction that writes the day's rollups, and read by filtered reports. Strings are kept once
//! in `record_strings`; a day's visits have contiguous ids, found through `record_days`.

use foldhash::HashMap;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::model::RecordVisit;

/// Ids of record strings, looked up or added within one transaction.
struct Strings<'t, 'c> {
    tx: &'t Transaction<'c>,
    ids: HashMap<String, i64>,
}

impl Strings<'_, '_> {
    fn id(&mut self, text: &str) -> rusqlite::Result<i64> {
        if let Some(id) = self.ids.get(text) {
            return Ok(*id);
        }
        let found: Option<i64> = self
            .tx
            .prepare_cached("SELECT id FROM record_strings WHERE text = ?1")?
            .query_row([text], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                self.tx
                    .prepare_cached("INSERT INTO record_strings (text) VALUES (?1)")?
                    .execute([text])?;
                self.tx.last_insert_rowid()
            }
        };
        self.ids.insert(text.to_string(), id);
        Ok(id)
    }

    fn opt(&mut self, text: &str) -> rusqlite::Result<Option<i64>> {
        if text.is_empty() {
            Ok(None)
        } else {
            self.id(text).map(Some)
        }
    }
}

/// Replaces the record of `day` (days since 1970-01-01) with `visits`, inside `tx`.
pub fn replace_day(tx: &Transaction<'_>, day: i64, visits: &[RecordVisit]) -> rusqlite::Result<()> {
    forget_day(tx, day)?;
    let mut strings = Strings {
        tx,
        ids: HashMap::default(),
    };
    let mut insert_visit = tx.prepare_cached(
        "INSERT INTO visits (day, site, visitor, entry, exit, source, utm_source, utm_medium, utm_campaign,
                             utm_content, utm_term, browser, os, device, country, pageviews, duration_s)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    let mut insert_hit = tx.prepare_cached(
        "INSERT INTO visit_hits (visit, seq, path, method, status, page, hour) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for v in visits {
        let [us, um, uc, ut, un] = &v.utm;
        insert_visit.execute(params![
            day,
            strings.id(&v.site)?,
            v.visitor,
            strings.id(&v.entry)?,
            strings.id(&v.exit)?,
            strings.id(&v.source)?,
            strings.opt(us)?,
            strings.opt(um)?,
            strings.opt(uc)?,
            strings.opt(ut)?,
            strings.opt(un)?,
            strings.id(&v.browser)?,
            strings.id(&v.os)?,
            strings.id(&v.device)?,
            strings.opt(v.country.as_deref().unwrap_or(""))?,
            v.pageviews,
            v.duration_s,
        ])?;
        let id = tx.last_insert_rowid();
        first = first.min(id);
        last = last.max(id);
        for (seq, h) in v.hits.iter().enumerate() {
            insert_hit.execute(params![
                id,
                seq as i64,
                strings.id(&h.path)?,
                h.method,
                h.status,
                h.page,
                h.hour
            ])?;
        }
    }
    tx.prepare_cached("INSERT INTO record_days (day, first_id, last_id) VALUES (?1, ?2, ?3)")?
        // A day without visits is recorded all the same, with the empty range (1, 0).
        .execute(if visits.is_empty() {
            (day, 1, 0)
        } else {
            (day, first, last)
        })?;
    Ok(())
}

/// Deletes the record of `day`.
pub fn forget_day(conn: &Connection, day: i64) -> rusqlite::Result<u64> {
    let range: Option<(i64, i64)> = conn
        .prepare_cached("SELECT first_id, last_id FROM record_days WHERE day = ?1")?
        .query_row([day], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((first, last)) = range else {
        return Ok(0);
    };
    conn.prepare_cached("DELETE FROM visit_hits WHERE visit BETWEEN ?1 AND ?2")?
        .execute((first, last))?;
    let n = conn
        .prepare_cached("DELETE FROM visits WHERE id BETWEEN ?1 AND ?2")?
        .execute((first, last))?;
    conn.prepare_cached("DELETE FROM record_days WHERE day = ?1")?
        .execute([day])?;
    Ok(n as u64)
}

/// Days whose record is held, oldest first.
pub fn days(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    conn.prepare_cached("SELECT day FROM record_days ORDER BY day")?
        .query_map([], |r| r.get(0))?
        .collect()
}

/// A stored visit, with ids of record strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredVisit {
    /// Days since 1970-01-01.
    pub day: i64,
    /// Site.
    pub site: i64,
    /// Visitor number within site and day.
    pub visitor: u32,
    /// Entry page.
    pub entry: i64,
    /// Exit page.
    pub exit: i64,
    /// Source.
    pub source: i64,
    /// `utm_source`, `utm_medium`, `utm_campaign`, `utm_content`, `utm_term` (0 when absent).
    pub utm: [i64; 5],
    /// Browser.
    pub browser: i64,
    /// OS.
    pub os: i64,
    /// Device.
    pub device: i64,
    /// Country (0 when unknown).
    pub country: i64,
    /// Page views.
    pub pageviews: u32,
    /// Seconds from first to last page view.
    pub duration_s: u32,
    /// Index of its first hit in [`Loaded::hits`], and the number of its hits.
    pub hits: (usize, usize),
}

/// A stored request: (path id, method, status, page view, hour).
pub type StoredHit = (i64, u8, u16, bool, u8);

/// Visits of a range of days with their hits, and the strings they name.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Visits, by day.
    pub visits: Vec<StoredVisit>,
    /// Hits of all visits, each visit's in order.
    pub hits: Vec<StoredHit>,
    /// Record strings by id.
    pub strings: HashMap<i64, String>,
}

/// Loads the visits of days `from..=until` (days since 1970-01-01), in one read transaction.
pub fn load(conn: &Connection, from: i64, until: i64) -> rusqlite::Result<Loaded> {
    conn.execute_batch("BEGIN")?;
    let loaded = load_in(conn, from, until);
    conn.execute_batch("COMMIT")?;
    loaded
}

fn load_in(conn: &Connection, from: i64, until: i64) -> rusqlite::Result<Loaded> {
    let mut out = Loaded::default();
    let ranges: Vec<(i64, i64)> = conn
        .prepare_cached(
            "SELECT first_id, last_id FROM record_days WHERE day BETWEEN ?1 AND ?2 ORDER BY day",
        )?
        .query_map((from, until), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut visit_stmt = conn.prepare_cached(
        "SELECT id, day, site, visitor, entry, exit, source, utm_source, utm_medium, utm_campaign, utm_content,
                utm_term, browser, os, device, country, pageviews, duration_s
         FROM visits WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
    )?;
    let mut hit_stmt = conn.prepare_cached(
        "SELECT visit, path, method, status, page, hour FROM visit_hits WHERE visit BETWEEN ?1 AND ?2 ORDER BY visit, seq",
    )?;
    for (first, last) in ranges {
        let start = out.visits.len();
        let mut ids = Vec::new();
        let mut rows = visit_stmt.query((first, last))?;
        while let Some(r) = rows.next()? {
            ids.push(r.get::<_, i64>(0)?);
            let opt = |i: usize| -> rusqlite::Result<i64> {
                Ok(r.get::<_, Option<i64>>(i)?.unwrap_or(0))
            };
            out.visits.push(StoredVisit {
                day: r.get(1)?,
                site: r.get(2)?,
                visitor: r.get(3)?,
                entry: r.get(4)?,
                exit: r.get(5)?,
                source: r.get(6)?,
                utm: [opt(7)?, opt(8)?, opt(9)?, opt(10)?, opt(11)?],
                browser: r.get(12)?,
                os: r.get(13)?,
                device: r.get(14)?,
                country: opt(15)?,
                pageviews: r.get(16)?,
                duration_s: r.get(17)?,
                hits: (0, 0),
            });
        }
        drop(rows);
        let mut rows = hit_stmt.query((first, last))?;
        let mut v = start;
        while let Some(r) = rows.next()? {
            let visit: i64 = r.get(0)?;
            while v < out.visits.len() && ids[v - start] < visit {
                v += 1;
            }
            if v == out.visits.len() {
                break;
            }
            let slot = &mut out.visits[v].hits;
            if slot.1 == 0 {
                slot.0 = out.hits.len();
            }
            slot.1 += 1;
            out.hits
                .push((r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?));
        }
    }
    let mut stmt = conn.prepare_cached("SELECT id, text FROM record_strings")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        out.strings.insert(r.get(0)?, r.get(1)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RecordHit;
    use crate::store::Store;

    fn visit(entry: &str, hits: &[&str]) -> RecordVisit {
        RecordVisit {
            site: "s".into(),
            visitor: 0,
            entry: entry.into(),
            exit: hits.last().copied().unwrap_or(entry).into(),
            source: "Direct".into(),
            utm: ["nl", "email", "", "", ""].map(String::from),
            browser: "Firefox".into(),
            os: "Linux".into(),
            device: "Desktop".into(),
            country: None,
            pageviews: hits.len() as u32,
            duration_s: 60,
            hits: hits
                .iter()
                .map(|p| RecordHit {
                    path: p.to_string(),
                    method: 1,
                    status: 200,
                    page: true,
                    hour: 9,
                })
                .collect(),
        }
    }

    #[test]
    fn a_day_is_replaced_whole_and_read_back_with_its_hits() {
        let mut store = Store::open_in_memory().unwrap();
        let tx = store.conn.transaction().unwrap();
        replace_day(&tx, 10, &[visit("/", &["/", "/a"]), visit("/b", &["/b"])]).unwrap();
        replace_day(&tx, 11, &[visit("/c", &["/c"])]).unwrap();
        replace_day(&tx, 10, &[visit("/d", &["/d", "/e", "/f"])]).unwrap();
        tx.commit().unwrap();
        let l = load(&store.conn, 10, 11).unwrap();
        assert_eq!(l.visits.len(), 2, "day 10 replaced, day 11 kept");
        let entry = |v: &StoredVisit| l.strings[&v.entry].as_str();
        assert_eq!((entry(&l.visits[0]), l.visits[0].day), ("/d", 10));
        assert_eq!(l.visits[0].hits, (0, 3));
        assert_eq!(l.visits[1].hits, (3, 1));
        assert_eq!(l.strings[&l.visits[0].utm[1]], "email");
        assert_eq!(l.visits[0].utm[2], 0, "absent campaign field");
        assert_eq!(days(&store.conn).unwrap(), vec![10, 11]);
        let n: i64 = store
            .conn
            .query_row("SELECT count(*) FROM visit_hits", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 4, "no hits of the replaced visits left");
    }
}
