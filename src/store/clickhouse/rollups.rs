//! The rollups and the permanent record in ClickHouse: the same tables as SQLite's, each row
//! under the `version` of the rollup that wrote it. A day is written whole under a new version,
//! then `rollup_days` names that version, and readers read only the version it names: a reader
//! sees the old day or the new one, never a mix, a key that dropped to zero is gone, and a
//! rollup that failed half way left rows nobody reads. One `rollup` writes a store at a time
//! (it numbers the record's strings).

use chrono::NaiveDate;
use foldhash::HashMap;

use super::wire::{Binary, Rows};
use super::{date_of, day_number, ClickHouse, Error};
use crate::model::RecordDay;
use crate::store::record::{self, Intern};
use crate::store::rollups::SiteDay;

/// The type of a rollup table's key column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// `String`.
    Text,
    /// `UInt8`.
    U8,
    /// `UInt16`.
    U16,
    /// `UInt32`.
    U32,
}

impl KeyType {
    fn sql(self) -> &'static str {
        match self {
            KeyType::Text => "String",
            KeyType::U8 => "UInt8",
            KeyType::U16 => "UInt16",
            KeyType::U32 => "UInt32",
        }
    }
}

/// A rollup table: its key column (none for `daily_totals`) and its numbers, as in SQLite.
#[derive(Clone, Copy, Debug)]
pub struct Table {
    /// Name, as in SQLite.
    pub name: &'static str,
    /// Key column and type.
    pub key: Option<(&'static str, KeyType)>,
    /// Number columns, in the order rows are sent.
    pub numbers: &'static [&'static str],
}

/// The rollup tables (the SQLite store's `rollups::TABLES`).
pub const TABLES: &[Table] = &[
    Table {
        name: "daily_totals",
        key: None,
        numbers: &[
            "pageviews",
            "visitors",
            "visits",
            "bounces",
            "duration_s",
            "hits",
            "bytes",
            "bot_hits",
            "status_4xx",
            "status_5xx",
        ],
    },
    Table {
        name: "daily_pages",
        key: Some(("path", KeyType::Text)),
        numbers: &["visitors", "pageviews"],
    },
    Table {
        name: "daily_entry_pages",
        key: Some(("path", KeyType::Text)),
        numbers: &["visits", "bounces"],
    },
    Table {
        name: "daily_referrers",
        key: Some(("source", KeyType::Text)),
        numbers: &["visits", "visitors", "pageviews"],
    },
    Table {
        name: "daily_browsers",
        key: Some(("browser", KeyType::Text)),
        numbers: &["visitors", "pageviews"],
    },
    Table {
        name: "daily_os",
        key: Some(("os", KeyType::Text)),
        numbers: &["visitors", "pageviews"],
    },
    Table {
        name: "daily_devices",
        key: Some(("device", KeyType::Text)),
        numbers: &["visitors", "pageviews"],
    },
    Table {
        name: "daily_countries",
        key: Some(("country", KeyType::Text)),
        numbers: &["visitors", "pageviews"],
    },
    Table {
        name: "daily_status",
        key: Some(("status", KeyType::U16)),
        numbers: &["hits"],
    },
    Table {
        name: "daily_not_found",
        key: Some(("path", KeyType::Text)),
        numbers: &["hits", "bot_hits"],
    },
    Table {
        name: "daily_bots",
        key: Some(("reason", KeyType::U8)),
        numbers: &["hits", "visitors"],
    },
    Table {
        name: "daily_crawlers",
        key: Some(("name", KeyType::Text)),
        numbers: &["hits", "visitors"],
    },
    Table {
        name: "hourly_totals",
        key: Some(("hour", KeyType::U32)),
        numbers: &["pageviews", "visitors", "hits"],
    },
];

/// The rollup table named `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// Creates the rollup tables, the record and `rollup_days` where they do not exist.
pub fn ensure_schema(ch: &ClickHouse) -> Result<(), Error> {
    let db = ch.database();
    for t in TABLES {
        let key = t
            .key
            .map(|(k, ty)| format!("{k} {}, ", ty.sql()))
            .unwrap_or_default();
        let numbers: Vec<String> = t.numbers.iter().map(|n| format!("{n} UInt64")).collect();
        let order = t.key.map(|(k, _)| format!(", {k}")).unwrap_or_default();
        ch.execute(&format!(
            "CREATE TABLE IF NOT EXISTS {db}.{} (day Date, version UInt64, site String, {key}{})
             ENGINE = MergeTree() PARTITION BY toYYYYMM(day) ORDER BY (day, version, site{order})",
            t.name,
            numbers.join(", ")
        ))?;
    }
    ch.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {db}.record_days (day Date, version UInt64, visits UInt64, pageviews UInt64, data String)
         ENGINE = MergeTree() PARTITION BY toYYYYMM(day) ORDER BY (day, version)"
    ))?;
    ch.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {db}.record_strings (id UInt32, text String)
         ENGINE = ReplacingMergeTree() ORDER BY id"
    ))?;
    // The version of each day that readers read, and how many events it was made of.
    ch.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {db}.rollup_days (day Date, version UInt64, events UInt64, zone String)
         ENGINE = ReplacingMergeTree(version) ORDER BY day"
    ))?;
    Ok(())
}

/// The record's strings as a rollup numbers them: those stored, read once, and the new ones.
pub struct Strings {
    ids: HashMap<String, u32>,
    next: u32,
    /// Strings numbered since the last [`Strings::take_new`].
    new: Vec<(u32, String)>,
}

impl Strings {
    /// The strings stored in `ch`.
    pub fn load(ch: &ClickHouse) -> Result<Strings, Error> {
        let data = ch.select_binary(&format!(
            "SELECT id, text FROM {}.record_strings FINAL",
            ch.database()
        ))?;
        let mut rows = Rows::new(&data);
        let mut ids = HashMap::default();
        let mut next = 1;
        while rows.more() {
            let id = rows.u32().map_err(|e| ch.failed(e.to_string()))?;
            let text = rows.text().map_err(|e| ch.failed(e.to_string()))?;
            next = next.max(id + 1);
            ids.insert(text, id);
        }
        Ok(Strings {
            ids,
            next,
            new: Vec::new(),
        })
    }

    fn take_new(&mut self) -> Vec<(u32, String)> {
        std::mem::take(&mut self.new)
    }
}

impl Intern for Strings {
    type Error = std::convert::Infallible;

    fn id(&mut self, text: &str) -> Result<u32, Self::Error> {
        if text.is_empty() {
            return Ok(0);
        }
        if let Some(id) = self.ids.get(text) {
            return Ok(*id);
        }
        let id = self.next;
        self.next += 1;
        self.ids.insert(text.to_string(), id);
        self.new.push((id, text.to_string()));
        Ok(id)
    }
}

/// Rows of one table for one site's day, appended to `out` in `RowBinary`.
fn rows_of(t: &Table, day: i64, version: u64, site: &str, d: &SiteDay, out: &mut Vec<u8>) {
    let head = |out: &mut Vec<u8>| {
        let mut w = Binary(out);
        w.day(day);
        w.u64(version);
        w.text(site);
    };
    let text_rows = |out: &mut Vec<u8>, rows: Vec<(&str, Vec<u64>)>| {
        for (k, numbers) in rows {
            head(out);
            let mut w = Binary(out);
            w.text(k);
            for n in numbers {
                w.u64(n);
            }
        }
    };
    fn reach(m: &HashMap<String, crate::store::rollups::Reach>) -> Vec<(&str, Vec<u64>)> {
        m.iter()
            .map(|(k, r)| (k.as_str(), vec![r.visitors, r.pageviews]))
            .collect()
    }
    match t.name {
        "daily_totals" => {
            let s = &d.totals;
            head(out);
            let mut w = Binary(out);
            for n in [
                s.pageviews,
                s.visitors,
                s.visits,
                s.bounces,
                s.duration_s,
                s.hits,
                s.bytes,
                s.bot_hits,
                s.status_4xx,
                s.status_5xx,
            ] {
                w.u64(n);
            }
        }
        "daily_pages" => text_rows(out, reach(&d.pages)),
        "daily_browsers" => text_rows(out, reach(&d.browsers)),
        "daily_os" => text_rows(out, reach(&d.os)),
        "daily_devices" => text_rows(out, reach(&d.devices)),
        "daily_countries" => text_rows(out, reach(&d.countries)),
        "daily_entry_pages" => text_rows(
            out,
            d.entry_pages
                .iter()
                .map(|(k, e)| (k.as_str(), vec![e.visits, e.bounces]))
                .collect(),
        ),
        "daily_referrers" => text_rows(
            out,
            d.sources
                .iter()
                .map(|(k, e)| (k.as_str(), vec![e.visits, e.visitors, e.pageviews]))
                .collect(),
        ),
        "daily_not_found" => text_rows(
            out,
            d.not_found
                .iter()
                .map(|(k, (h, b))| (k.as_str(), vec![*h, *b]))
                .collect(),
        ),
        "daily_crawlers" => text_rows(
            out,
            d.crawlers
                .iter()
                .map(|(k, (h, v))| (k.as_str(), vec![*h, *v]))
                .collect(),
        ),
        "daily_status" => {
            for (status, hits) in &d.status {
                head(out);
                let mut w = Binary(out);
                w.u16(*status);
                w.u64(*hits);
            }
        }
        "daily_bots" => {
            for (reason, (hits, visitors)) in &d.bots {
                head(out);
                let mut w = Binary(out);
                w.u8(*reason);
                w.u64(*hits);
                w.u64(*visitors);
            }
        }
        "hourly_totals" => {
            for (hour, (pv, visitors, hits)) in &d.hourly {
                head(out);
                let mut w = Binary(out);
                w.u32(*hour);
                w.u64(*pv);
                w.u64(*visitors);
                w.u64(*hits);
            }
        }
        other => unreachable!("no rows for table {other}"),
    }
}

/// The columns of `t` in the order [`rows_of`] sends them.
fn columns_of(t: &Table) -> String {
    let mut cols = vec!["day", "version", "site"];
    cols.extend(t.key.map(|(k, _)| k));
    cols.extend(t.numbers);
    cols.join(", ")
}

/// The versions readers read of days `from..=until`.
pub fn committed(ch: &ClickHouse, from: NaiveDate, until: NaiveDate) -> String {
    format!(
        "(day, version) IN (SELECT day, version FROM {}.rollup_days FINAL WHERE day BETWEEN '{from}' AND '{until}')",
        ch.database()
    )
}

/// Each rolled-up day and the events it was made of.
pub fn rolled_days(ch: &ClickHouse) -> Result<HashMap<NaiveDate, (u64, u64)>, Error> {
    let data = ch.select_binary(&format!(
        "SELECT day, version, events FROM {}.rollup_days FINAL",
        ch.database()
    ))?;
    let mut rows = Rows::new(&data);
    let mut out = HashMap::default();
    while rows.more() {
        let bad = |e: super::wire::Truncated| ch.failed(e.to_string());
        let day = rows.u16().map_err(bad)?;
        let version = rows.u64().map_err(bad)?;
        let events = rows.u64().map_err(bad)?;
        let date = date_of(i64::from(day));
        out.insert(date, (version, events));
    }
    Ok(out)
}

/// One day made by rollup, to write.
pub struct RolledDay<'a> {
    /// The local day.
    pub day: NaiveDate,
    /// The events it was made of.
    pub events: u64,
    /// Each site's rollup rows.
    pub sites: &'a HashMap<String, SiteDay>,
    /// Its record of human visits.
    pub record: &'a RecordDay,
}

/// Writes `rolled` as the whole of its day (in zone `zone`) under a version above `previous`,
/// and then makes it the day readers read.
pub fn replace_day(
    ch: &ClickHouse,
    strings: &mut Strings,
    zone: &str,
    previous: u64,
    rolled: &RolledDay<'_>,
) -> Result<(), Error> {
    let RolledDay {
        day,
        events,
        sites,
        record,
    } = *rolled;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let version = now.max(previous + 1);
    let n = day_number(day);
    for t in TABLES {
        let mut body = Vec::new();
        for (site, d) in sites {
            rows_of(t, n, version, site, d, &mut body);
        }
        if !body.is_empty() {
            ch.insert_binary(t.name, &columns_of(t), &body)?;
        }
    }
    let Ok(data) = record::pack(strings, &record.visits);
    let new = strings.take_new();
    if !new.is_empty() {
        let mut body = Vec::new();
        for (id, text) in &new {
            let mut w = Binary(&mut body);
            w.u32(*id);
            w.text(text);
        }
        ch.insert_binary("record_strings", "id, text", &body)?;
    }
    let mut body = Vec::new();
    let mut w = Binary(&mut body);
    w.day(n);
    w.u64(version);
    w.u64(record.visits.len() as u64);
    w.u64(record.visits.iter().map(|v| u64::from(v.pageviews)).sum());
    w.bytes(&data);
    ch.insert_binary(
        "record_days",
        "day, version, visits, pageviews, data",
        &body,
    )?;
    let mut body = Vec::new();
    let mut w = Binary(&mut body);
    w.day(n);
    w.u64(version);
    w.u64(events);
    w.text(zone);
    ch.insert_binary("rollup_days", "day, version, events, zone", &body)
}

/// A number that moves whenever a rollup made a day new (the newest version readers read).
pub fn generation(ch: &ClickHouse) -> Result<i64, Error> {
    let data = ch.select_binary(&format!(
        "SELECT toUInt64(max(version)) FROM {}.rollup_days",
        ch.database()
    ))?;
    let mut rows = Rows::new(&data);
    let v = if rows.more() {
        rows.u64().map_err(|e| ch.failed(e.to_string()))?
    } else {
        0
    };
    Ok(v as i64)
}
