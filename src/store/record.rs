//! The permanent record of human visits (schema 6): one packed row per day, written by rollup in
//! the transaction of the day's rollups, read by filtered reports. A year of a busy site is a few
//! million visits, and a report reads all of them: rows per visit would cost seconds to read, a
//! packed day costs microseconds to decode. Each write gives the day a new random stamp (schema
//! 7), by which a reader that keeps decoded days (`query::cache`) knows they are current.
//!
//! Layout of `record_days.data`, all numbers LEB128 varints, strings as `record_strings` ids
//! (0 for absent):
//! - profiles: count, then per profile `site source utm_source utm_medium utm_campaign
//!   utm_content utm_term browser os device country` (what a visit's filters look at, shared by
//!   the many visits that have the same);
//! - visits: count, then per visit `profile visitor entry exit pageviews duration_s hits`;
//! - requests, the visits' in order: per request `path status-100 (method << 6 | page << 5 |
//!   hour)` (a status below 100 as 900 and up).

use foldhash::{HashMap, HashMapExt};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::model::RecordVisit;

/// What filters look at of a visit, shared by visits alike: ids of record strings (0: absent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Profile {
    /// Site.
    pub site: u32,
    /// Source.
    pub source: u32,
    /// `utm_source`, `utm_medium`, `utm_campaign`, `utm_content`, `utm_term`.
    pub utm: [u32; 5],
    /// Browser.
    pub browser: u32,
    /// OS.
    pub os: u32,
    /// Device.
    pub device: u32,
    /// Country.
    pub country: u32,
}

/// A stored visit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoredVisit {
    /// Index of its profile in its day's [`Day::profiles`].
    pub profile: u32,
    /// Visitor number within site and day.
    pub visitor: u32,
    /// Entry page.
    pub entry: u32,
    /// Exit page.
    pub exit: u32,
    /// Page views.
    pub pageviews: u32,
    /// Seconds from first to last page view.
    pub duration_s: u32,
    /// Its requests: `Day::hits[hits.0..hits.1]`.
    pub hits: (u32, u32),
}

/// A stored request (8 bytes: a year of a busy site holds millions of them decoded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoredHit {
    /// Path.
    pub path: u32,
    /// HTTP status.
    pub status: u16,
    /// `classify::Method` code.
    pub method: u8,
    /// Bit 5: a page view; bits 0-4: the local clock hour.
    flags: u8,
}

impl StoredHit {
    /// A page view.
    #[inline]
    pub fn page(&self) -> bool {
        self.flags & 0x20 != 0
    }

    /// Local clock hour.
    #[inline]
    pub fn hour(&self) -> u8 {
        self.flags & 0x1f
    }
}

/// One day of the record, decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Day {
    /// Days since 1970-01-01.
    pub day: i64,
    /// Distinct profiles of its visits.
    pub profiles: Vec<Profile>,
    /// Visits, each visitor's together.
    pub visits: Vec<StoredVisit>,
    /// Requests of all visits.
    pub hits: Vec<StoredHit>,
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads packed varints; a damaged blob yields zeros rather than a panic.
struct Reader<'b> {
    data: &'b [u8],
    at: usize,
}

impl Reader<'_> {
    #[inline]
    fn get(&mut self) -> u64 {
        // Most numbers are below 128: one byte, no loop.
        if let Some(&b) = self.data.get(self.at) {
            if b < 0x80 {
                self.at += 1;
                return u64::from(b);
            }
        }
        self.get_long()
    }

    #[cold]
    fn get_long(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        while let Some(&b) = self.data.get(self.at) {
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 || shift > 56 {
                return v;
            }
            shift += 7;
        }
        v
    }

    #[inline]
    fn u32(&mut self) -> u32 {
        self.get() as u32
    }
}

/// A status as stored: 200 as 100, so the usual ones take one byte (0-99, never sent by a
/// server, as 900-999); [`status_of`] reverses it.
fn status_code(status: u16) -> u16 {
    if status >= 100 {
        status - 100
    } else {
        status + 900
    }
}

/// The status stored as `code`.
fn status_of(code: u16) -> u16 {
    if code >= 900 {
        code - 900
    } else {
        code + 100
    }
}

/// Gives record strings their ids ("" is 0), adding those not known yet.
pub trait Intern {
    /// Why an id could not be given.
    type Error;
    /// The id of `text`.
    fn id(&mut self, text: &str) -> Result<u32, Self::Error>;
}

/// Ids of record strings, looked up or added within one transaction.
struct Strings<'t, 'c> {
    tx: &'t Transaction<'c>,
    ids: HashMap<String, u32>,
}

impl Intern for Strings<'_, '_> {
    type Error = rusqlite::Error;

    fn id(&mut self, text: &str) -> rusqlite::Result<u32> {
        if text.is_empty() {
            return Ok(0);
        }
        if let Some(id) = self.ids.get(text) {
            return Ok(*id);
        }
        let found: Option<u32> = self
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
                self.tx.last_insert_rowid() as u32
            }
        };
        self.ids.insert(text.to_string(), id);
        Ok(id)
    }
}

/// Packs `visits` (as `rollup::record` makes them), their strings as `strings` numbers them.
pub fn pack<I: Intern>(strings: &mut I, visits: &[RecordVisit]) -> Result<Vec<u8>, I::Error> {
    let mut profiles: HashMap<Profile, u32> = HashMap::new();
    let mut order: Vec<Profile> = Vec::new();
    let mut body = Vec::with_capacity(visits.len() * 12);
    let mut hits = Vec::with_capacity(visits.len() * 8);
    for v in visits {
        let mut utm = [0u32; 5];
        for (slot, text) in utm.iter_mut().zip(&v.utm) {
            *slot = strings.id(text)?;
        }
        let p = Profile {
            site: strings.id(&v.site)?,
            source: strings.id(&v.source)?,
            utm,
            browser: strings.id(&v.browser)?,
            os: strings.id(&v.os)?,
            device: strings.id(&v.device)?,
            country: strings.id(v.country.as_deref().unwrap_or(""))?,
        };
        let index = *profiles.entry(p).or_insert_with(|| {
            order.push(p);
            order.len() as u32 - 1
        });
        for n in [
            index,
            v.visitor,
            strings.id(&v.entry)?,
            strings.id(&v.exit)?,
            v.pageviews,
            v.duration_s,
            v.hits.len() as u32,
        ] {
            put(&mut body, u64::from(n));
        }
        for h in &v.hits {
            put(&mut hits, u64::from(strings.id(&h.path)?));
            put(&mut hits, u64::from(status_code(h.status)));
            put(
                &mut hits,
                (u64::from(h.method) << 6) | (u64::from(h.page) << 5) | u64::from(h.hour.min(23)),
            );
        }
    }
    let mut out = Vec::with_capacity(order.len() * 12 + body.len() + hits.len() + 8);
    put(&mut out, order.len() as u64);
    for p in &order {
        for n in [p.site, p.source]
            .into_iter()
            .chain(p.utm)
            .chain([p.browser, p.os, p.device, p.country])
        {
            put(&mut out, u64::from(n));
        }
    }
    put(&mut out, visits.len() as u64);
    out.extend_from_slice(&body);
    out.extend_from_slice(&hits);
    Ok(out)
}

/// Decodes a packed day; without `hits`, its requests are left out (most of the bytes) and every
/// visit's range of them is empty.
pub fn unpack_with(day: i64, data: &[u8], hits: bool) -> Day {
    let mut r = Reader { data, at: 0 };
    let n = (r.get() as usize).min(data.len());
    let profiles = (0..n)
        .map(|_| Profile {
            site: r.u32(),
            source: r.u32(),
            utm: [r.u32(), r.u32(), r.u32(), r.u32(), r.u32()],
            browser: r.u32(),
            os: r.u32(),
            device: r.u32(),
            country: r.u32(),
        })
        .collect();
    let n = (r.get() as usize).min(data.len());
    let mut visits = Vec::with_capacity(n);
    let mut total = 0u32;
    for _ in 0..n {
        let mut v = StoredVisit {
            profile: r.u32(),
            visitor: r.u32(),
            entry: r.u32(),
            exit: r.u32(),
            pageviews: r.u32(),
            duration_s: r.u32(),
            hits: (0, 0),
        };
        let len = r.u32();
        v.hits = (total, total.saturating_add(len));
        total = total.saturating_add(len);
        visits.push(v);
    }
    // Each request takes at least three bytes: a damaged count cannot ask for more.
    let total = if hits {
        total.min(data.len() as u32)
    } else {
        0
    };
    for v in &mut visits {
        v.hits = (v.hits.0.min(total), v.hits.1.min(total));
    }
    let mut requests = Vec::with_capacity(total as usize);
    for _ in 0..total {
        let path = r.u32();
        let status = status_of(r.get() as u16);
        let bits = r.get();
        requests.push(StoredHit {
            path,
            status,
            method: (bits >> 6) as u8,
            flags: (bits & 0x3f) as u8,
        });
    }
    Day {
        day,
        profiles,
        visits,
        hits: requests,
    }
}

/// The visits of a decoded day (with its requests), their strings looked up in `strings` (as
/// [`load`] gives them): what [`pack`] packed.
pub fn visits_of(day: &Day, strings: &[String]) -> Vec<RecordVisit> {
    let text = |id: u32| strings.get(id as usize).cloned().unwrap_or_default();
    day.visits
        .iter()
        .map(|v| {
            let p = day
                .profiles
                .get(v.profile as usize)
                .copied()
                .unwrap_or_default();
            let hits = &day.hits[v.hits.0 as usize..v.hits.1 as usize];
            RecordVisit {
                site: text(p.site),
                visitor: v.visitor,
                entry: text(v.entry),
                exit: text(v.exit),
                source: text(p.source),
                utm: p.utm.map(text),
                browser: text(p.browser),
                os: text(p.os),
                device: text(p.device),
                country: Some(text(p.country)).filter(|c| !c.is_empty()),
                pageviews: v.pageviews,
                duration_s: v.duration_s,
                hits: hits
                    .iter()
                    .map(|h| crate::model::RecordHit {
                        path: text(h.path),
                        method: h.method,
                        status: h.status,
                        page: h.page(),
                        hour: h.hour(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Replaces the record of `day` (days since 1970-01-01) with `visits`, inside `tx`.
pub fn replace_day(tx: &Transaction<'_>, day: i64, visits: &[RecordVisit]) -> rusqlite::Result<()> {
    let mut strings = Strings {
        tx,
        ids: HashMap::new(),
    };
    let data = pack(&mut strings, visits)?;
    let pageviews: u64 = visits.iter().map(|v| u64::from(v.pageviews)).sum();
    tx.prepare_cached(
        "INSERT OR REPLACE INTO record_days (day, visits, pageviews, data, stamp) \
         VALUES (?1, ?2, ?3, ?4, random())",
    )?
    .execute(params![day, visits.len() as i64, pageviews as i64, data])?;
    super::generation::bump(tx)
}

/// Deletes the record of days before `day` (inside the caller's transaction); returns the days
/// deleted.
pub fn forget_before(conn: &Connection, day: i64) -> rusqlite::Result<u64> {
    let gone = conn
        .prepare_cached("DELETE FROM record_days WHERE day < ?1")?
        .execute([day])? as u64;
    if gone > 0 {
        super::generation::bump(conn)?;
    }
    Ok(gone)
}

/// Days whose record is held, oldest first.
pub fn days(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    conn.prepare_cached("SELECT day FROM record_days ORDER BY day")?
        .query_map([], |r| r.get(0))?
        .collect()
}

/// Packed days (day, data) and the record strings by id.
pub type Loaded = (Vec<(i64, Vec<u8>)>, Vec<String>);

/// The packed days `from..=until` (days since 1970-01-01; decode each with [`unpack_with`]), and
/// every record string by id (`strings[id]`, "" for 0 and ids not in use), in one read
/// transaction.
pub fn load(conn: &Connection, from: i64, until: i64) -> rusqlite::Result<Loaded> {
    conn.execute_batch("BEGIN")?;
    let loaded = load_in(conn, from, until);
    conn.execute_batch("COMMIT")?;
    loaded
}

fn load_in(conn: &Connection, from: i64, until: i64) -> rusqlite::Result<Loaded> {
    let blobs: Vec<(i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT day, data FROM record_days WHERE day BETWEEN ?1 AND ?2 ORDER BY day",
        )?
        .query_map((from, until), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok((blobs, strings_in(conn)?))
}

/// A day, its stamp, and its packed data unless the reader knew it.
pub type StampedDay = (i64, i64, Option<Vec<u8>>);

/// The days `from..=until` as [`load_unless_known`] reads them: each day's stamp, and its packed
/// data unless the reader already holds the day under that stamp.
#[derive(Debug, Default)]
pub struct Stamped {
    /// (day, stamp, data: `None` when known), oldest first.
    pub days: Vec<StampedDay>,
    /// Every record string by id, as [`load`] gives them; read only when some day's data was.
    pub strings: Option<Vec<String>>,
}

/// Reads, in one read transaction, the stamps of days `from..=until`, and the data of those days
/// for which `known(day, stamp)` is false, with the strings they need. A reader that keeps decoded
/// days reads a few bytes a day for the days it holds.
pub fn load_unless_known(
    conn: &Connection,
    from: i64,
    until: i64,
    known: impl Fn(i64, i64) -> bool,
) -> rusqlite::Result<Stamped> {
    conn.execute_batch("BEGIN")?;
    let loaded = load_unless_known_in(conn, from, until, known);
    conn.execute_batch("COMMIT")?;
    loaded
}

fn load_unless_known_in(
    conn: &Connection,
    from: i64,
    until: i64,
    known: impl Fn(i64, i64) -> bool,
) -> rusqlite::Result<Stamped> {
    let stamps: Vec<(i64, i64)> = conn
        .prepare_cached(
            "SELECT day, stamp FROM record_days WHERE day BETWEEN ?1 AND ?2 ORDER BY day",
        )?
        .query_map((from, until), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut data = conn.prepare_cached("SELECT data FROM record_days WHERE day = ?1")?;
    let mut out = Stamped::default();
    for (day, stamp) in stamps {
        let blob = if known(day, stamp) {
            None
        } else {
            Some(data.query_row([day], |r| r.get(0))?)
        };
        out.days.push((day, stamp, blob));
    }
    if out.days.iter().any(|d| d.2.is_some()) {
        out.strings = Some(strings_in(conn)?);
    }
    Ok(out)
}

/// Every record string by id (`strings[id]`, "" for 0 and ids not in use).
pub fn strings(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    strings_in(conn)
}

/// The packed data of `day`, if the record holds it.
pub fn day_data(conn: &Connection, day: i64) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT data FROM record_days WHERE day = ?1")?
        .query_row([day], |r| r.get(0))
        .optional()
}

fn strings_in(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut strings = vec![String::new()];
    let mut stmt = conn.prepare_cached("SELECT id, text FROM record_strings ORDER BY id")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if let Ok(id) = u32::try_from(id) {
            place_string(&mut strings, id, r.get(1)?);
        }
    }
    Ok(strings)
}

/// Puts string `id` at its place in `strings` (by id; "" where no string has the id).
pub fn place_string(strings: &mut Vec<String>, id: u32, text: String) {
    let id = id as usize;
    if id >= strings.len() {
        strings.resize(id + 1, String::new());
    }
    strings[id] = text;
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
                .enumerate()
                .map(|(i, p)| RecordHit {
                    path: p.to_string(),
                    method: if i == 1 { 3 } else { 1 },
                    status: if i == 1 { 201 } else { 200 },
                    page: i != 1,
                    hour: 23 - i as u8,
                })
                .collect(),
        }
    }

    #[test]
    fn a_day_is_replaced_whole_and_read_back_with_its_requests() {
        let mut store = Store::open_in_memory().unwrap();
        let tx = store.conn_mut().transaction().unwrap();
        replace_day(&tx, 10, &[visit("/", &["/", "/a"]), visit("/b", &["/b"])]).unwrap();
        replace_day(&tx, 11, &[visit("/c", &["/c"])]).unwrap();
        replace_day(
            &tx,
            10,
            &[visit("/d", &["/d", "/e", "/f"]), visit("/g", &["/g"])],
        )
        .unwrap();
        tx.commit().unwrap();
        let (loaded, strings) = load(store.conn(), 10, 11).unwrap();
        assert_eq!(loaded.len(), 2, "day 10 replaced, day 11 kept");
        let d = &unpack_with(loaded[0].0, &loaded[0].1, true);
        assert_eq!(d.visits.len(), 2);
        assert_eq!(d.profiles.len(), 1, "both visits share one profile");
        assert_eq!(strings[d.visits[0].entry as usize], "/d");
        assert_eq!(d.visits[0].hits, (0, 3));
        assert_eq!(d.visits[1].hits, (3, 4));
        let post = d.hits[1];
        assert_eq!(
            (
                strings[post.path as usize].as_str(),
                post.method,
                post.status,
                post.page(),
                post.hour()
            ),
            ("/e", 3, 201, false, 22)
        );
        let p = d.profiles[0];
        assert_eq!(strings[p.utm[1] as usize], "email");
        assert_eq!(p.utm[2], 0, "absent campaign field");
        assert_eq!(p.country, 0);
        assert_eq!(days(store.conn()).unwrap(), vec![10, 11]);
        // Decoded back, the visits are those packed.
        assert_eq!(
            visits_of(d, &strings),
            vec![visit("/d", &["/d", "/e", "/f"]), visit("/g", &["/g"])]
        );
    }

    #[test]
    fn a_rewritten_day_has_a_new_stamp_and_only_unknown_days_are_read() {
        let mut store = Store::open_in_memory().unwrap();
        let write = |store: &mut Store, day: i64, entry: &str| {
            let tx = store.conn_mut().transaction().unwrap();
            replace_day(&tx, day, &[visit(entry, &[entry])]).unwrap();
            tx.commit().unwrap();
        };
        write(&mut store, 10, "/a");
        write(&mut store, 11, "/b");
        let first = load_unless_known(store.conn(), 10, 11, |_, _| false).unwrap();
        assert!(first.days.iter().all(|d| d.2.is_some()));
        assert!(first.strings.as_ref().unwrap().contains(&"/b".to_string()));
        let stamps: Vec<(i64, i64)> = first.days.iter().map(|d| (d.0, d.1)).collect();
        let known = |day: i64, stamp: i64| stamps.contains(&(day, stamp));
        let again = load_unless_known(store.conn(), 10, 11, known).unwrap();
        assert!(again.days.iter().all(|d| d.2.is_none()), "nothing changed");
        assert!(again.strings.is_none(), "no day read, no strings read");
        write(&mut store, 11, "/c");
        let after = load_unless_known(store.conn(), 10, 11, known).unwrap();
        assert!(after.days[0].2.is_none(), "day 10 untouched");
        assert_ne!(
            after.days[1].1, stamps[1].1,
            "day 11 rewritten: a new stamp"
        );
        let data = after.days[1].2.as_ref().expect("day 11 read again");
        let strings = after.strings.unwrap();
        let d = unpack_with(11, data, true);
        assert_eq!(strings[d.visits[0].entry as usize], "/c");
    }

    #[test]
    fn every_status_survives_its_packing() {
        for status in 0..=999 {
            assert_eq!(status_of(status_code(status)), status);
        }
        assert!(status_code(200) < 128 && status_code(204) < 128, "one byte");
    }

    #[test]
    fn damaged_data_decodes_without_panicking() {
        for data in [&[][..], &[0xff; 7], &[5, 1, 2], &[0, 3, 0x80]] {
            let _ = unpack_with(1, data, true);
        }
    }
}
