//! History imported from other services' exports (`import-history`): written in one
//! transaction per import, listed, removed, and the rule reports read it by. The logs win: an
//! imported day of a site counts only where the rollups of the logs hold no figures for that site
//! and day, except the logs' first day of the site when its import says `fill_first_day` (that
//! day's log figures are then left out instead), so no day is ever counted from both.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::generation;

/// Figures of a site's day, or of one key of it (columns a section lacks are 0, never read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Page views.
    pub pageviews: u64,
    /// Visitors of the day.
    pub visitors: u64,
    /// Visits.
    pub visits: u64,
    /// Visits of one page.
    pub bounces: u64,
    /// Time spent over all visits, seconds (totals only).
    pub duration_s: u64,
}

impl Figures {
    /// Adds `o` (hourly rows folded into a day, a key given twice).
    pub fn add(&mut self, o: &Figures) {
        self.pageviews += o.pageviews;
        self.visitors += o.visitors;
        self.visits += o.visits;
        self.bounces += o.bounces;
        self.duration_s += o.duration_s;
    }
}

/// One day of an export: its totals, and its figures by (rollup table, key).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportedDay {
    /// The site's totals, when the export has them.
    pub totals: Option<Figures>,
    /// (rollup table such as `daily_pages`, key) -> figures.
    pub keyed: BTreeMap<(&'static str, String), Figures>,
}

/// An import to write.
#[derive(Clone, Debug)]
pub struct NewImport<'a> {
    /// `plausible`, ...
    pub source: &'a str,
    /// Of the export's contents.
    pub digest: &'a str,
    /// The site it is of.
    pub site: &'a str,
    /// The zone of its dates.
    pub zone: &'a str,
    /// Whether it fills the logs' first day of the site.
    pub fill_first_day: bool,
    /// The files read.
    pub files: &'a [String],
    /// The rollup tables it has figures of.
    pub tables: &'a [&'static str],
    /// Its days.
    pub days: &'a BTreeMap<NaiveDate, ImportedDay>,
}

/// What writing an import did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    /// The import's id (for `import-history remove`).
    pub id: i64,
    /// Days written.
    pub days: u64,
    /// Days left out because an earlier import of the site holds them.
    pub days_held_by_other_imports: u64,
}

/// One import, as `import-history list` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ImportInfo {
    /// Its id.
    pub id: i64,
    /// `plausible`, ...
    pub source: String,
    /// Of the export's contents.
    pub digest: String,
    /// The site.
    pub site: String,
    /// The zone of its dates.
    pub zone: String,
    /// Its first and last day.
    pub first_day: Option<String>,
    /// Its last day.
    pub last_day: Option<String>,
    /// Days it holds.
    pub days: u64,
    /// Days reports read from it now (those the logs do not cover).
    pub days_used: u64,
    /// Whether it fills the logs' first day.
    pub fill_first_day: bool,
    /// The files it was read from.
    pub files: Vec<String>,
    /// The rollup tables it has figures of (reports read the others from the log days only).
    pub tables: Vec<String>,
    /// When it was imported, Unix ms.
    pub imported_at: i64,
}

fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The first day of the month of `day` (`2026-03-14`).
fn month_of(day: &str) -> NaiveDate {
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(|d| d.with_day(1).expect("day 1"))
        .unwrap_or_default()
}

/// The last day of the month that starts on `first`.
fn month_last(first: NaiveDate) -> NaiveDate {
    first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first)
}

/// The import of `site` with this `digest`, if there is one.
pub fn find(conn: &Connection, site: &str, digest: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM history_imports WHERE site = ?1 AND digest = ?2",
        (site, digest),
        |r| r.get(0),
    )
    .optional()
}

/// Sites with figures of their own: from the logs' rollups or from imports.
pub fn sites(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare("SELECT site FROM daily_totals UNION SELECT site FROM history_totals ORDER BY 1")?
        .query_map([], |r| r.get(0))?
        .collect()
}

/// Writes `import` in one transaction (days another import of the site holds are left out).
pub fn write(conn: &mut Connection, import: &NewImport<'_>) -> rusqlite::Result<Written> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let held: BTreeSet<String> = tx
        .prepare("SELECT day FROM history_totals WHERE site = ?1")?
        .query_map([import.site], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let kept: Vec<(String, &ImportedDay)> = import
        .days
        .iter()
        .map(|(d, rows)| (day_key(*d), rows))
        .filter(|(d, _)| !held.contains(d))
        .collect();
    // One transaction of hundreds of MB: keep its pages in memory rather than spill them.
    tx.pragma_update(None, "cache_size", -512_000)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    tx.execute(
        "INSERT INTO history_imports (source, digest, site, zone, first_day, last_day, days, fill_first_day, files, tables, imported_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            import.source,
            import.digest,
            import.site,
            import.zone,
            kept.first().map(|(d, _)| d.as_str()),
            kept.last().map(|(d, _)| d.as_str()),
            kept.len() as i64,
            import.fill_first_day,
            import.files.join("\n"),
            import.tables.join("\n"),
            now
        ],
    )?;
    let id = tx.last_insert_rowid();
    {
        let mut totals = Batched::new(
            &tx,
            "INSERT INTO history_totals (site, day, import, pageviews, visitors, visits, bounces, duration_s)",
            8,
        );
        for (day, rows) in &kept {
            // A day without totals (a dimension file alone) still needs its row: it is what
            // reports find the day by.
            let t = rows.totals.unwrap_or_default();
            totals.push(&[
                Cell::Text(import.site),
                Cell::Text(day),
                Cell::Int(id),
                Cell::Int(t.pageviews as i64),
                Cell::Int(t.visitors as i64),
                Cell::Int(t.visits as i64),
                Cell::Int(t.bounces as i64),
                Cell::Int(t.duration_s as i64),
            ])?;
        }
        totals.flush()?;
        let mut keyed = Batched::new(
            &tx,
            "INSERT INTO history_keyed (tbl, site, day, key, import, pageviews, visitors, visits, bounces)",
            9,
        );
        // In key order (table, day, key): each row appends to the table's tree.
        for table in import.tables {
            let mut by_month: BTreeMap<(NaiveDate, &str), Figures> = BTreeMap::new();
            for (day, rows) in &kept {
                let first = (*table, String::new());
                let month = month_of(day);
                for ((_, key), f) in rows
                    .keyed
                    .range(first..)
                    .take_while(|((t, _), _)| t == table)
                {
                    by_month.entry((month, key)).or_default().add(f);
                    let head = [
                        Cell::Text(table),
                        Cell::Text(import.site),
                        Cell::Text(day),
                        Cell::Text(key),
                        Cell::Int(id),
                    ];
                    keyed.push(&[&head[..], &counts(f)].concat())?;
                }
            }
            // The table's months, after its days.
            keyed.flush()?;
            let sums: Vec<(String, String, &str, Figures)> = by_month
                .into_iter()
                .map(|((m, key), f)| (day_key(m), day_key(month_last(m)), key, f))
                .collect();
            let mut months = Batched::new(
                &tx,
                "INSERT INTO history_months (tbl, site, month, key, month_last, import, pageviews, visitors, visits, bounces)",
                10,
            );
            for (month, last, key, f) in &sums {
                let head = [
                    Cell::Text(table),
                    Cell::Text(import.site),
                    Cell::Text(month),
                    Cell::Text(key),
                    Cell::Text(last),
                    Cell::Int(id),
                ];
                months.push(&[&head[..], &counts(f)].concat())?;
            }
            months.flush()?;
        }
        keyed.flush()?;
    }
    generation::bump(&tx)?;
    tx.commit()?;
    conn.pragma_update(None, "cache_size", -32_000)?;
    Ok(Written {
        id,
        days: kept.len() as u64,
        days_held_by_other_imports: (import.days.len() - kept.len()) as u64,
    })
}

/// A value of a row [`Batched`] writes.
#[derive(Clone, Copy)]
enum Cell<'a> {
    Text(&'a str),
    Int(i64),
}

impl rusqlite::ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(match *self {
            Cell::Text(t) => t.into(),
            Cell::Int(i) => i.into(),
        })
    }
}

/// The counts of a keyed row, as `history_keyed` and `history_months` hold them.
fn counts(f: &Figures) -> [Cell<'static>; 4] {
    [
        Cell::Int(f.pageviews as i64),
        Cell::Int(f.visitors as i64),
        Cell::Int(f.visits as i64),
        Cell::Int(f.bounces as i64),
    ]
}

/// Rows inserted many to a statement (`INSERT ... VALUES (...), (...), ...`): an import writes
/// millions, and one statement a row spends most of its time binding and stepping.
struct Batched<'t, 'a> {
    tx: &'t rusqlite::Transaction<'t>,
    head: &'static str,
    width: usize,
    cells: Vec<Cell<'a>>,
}

/// Rows a statement of [`Batched`] holds.
const BATCH_ROWS: usize = 256;

impl<'t, 'a> Batched<'t, 'a> {
    fn new(tx: &'t rusqlite::Transaction<'t>, head: &'static str, width: usize) -> Self {
        Batched {
            tx,
            head,
            width,
            cells: Vec::with_capacity(width * BATCH_ROWS),
        }
    }

    fn push(&mut self, row: &[Cell<'a>]) -> rusqlite::Result<()> {
        debug_assert_eq!(row.len(), self.width);
        self.cells.extend_from_slice(row);
        if self.cells.len() == self.width * BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> rusqlite::Result<()> {
        let rows = self.cells.len() / self.width;
        if rows == 0 {
            return Ok(());
        }
        let one = format!("({})", vec!["?"; self.width].join(","));
        let sql = format!("{} VALUES {}", self.head, vec![one; rows].join(","));
        self.tx
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(self.cells.iter()))?;
        self.cells.clear();
        Ok(())
    }
}

/// Every import, oldest first.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<ImportInfo>> {
    let fills = fills(conn)?;
    let mut out: Vec<ImportInfo> = conn
        .prepare(
            "SELECT id, source, digest, site, zone, first_day, last_day, days, fill_first_day, files, tables, imported_at
             FROM history_imports ORDER BY id",
        )?
        .query_map([], |r| {
            let files: String = r.get(9)?;
            let tables: String = r.get(10)?;
            Ok(ImportInfo {
                id: r.get(0)?,
                source: r.get(1)?,
                digest: r.get(2)?,
                site: r.get(3)?,
                zone: r.get(4)?,
                first_day: r.get(5)?,
                last_day: r.get(6)?,
                days: r.get::<_, i64>(7)? as u64,
                days_used: 0,
                fill_first_day: r.get(8)?,
                files: files.lines().map(str::to_string).collect(),
                tables: tables.lines().map(str::to_string).collect(),
                imported_at: r.get(11)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let visible = Visible {
        fills,
        first_log_days: Vec::new(),
    };
    for info in &mut out {
        info.days_used = conn.query_row(
            &format!(
                "SELECT count(*) FROM history_totals h WHERE h.import = ?1 AND {}",
                visible.history_clause("h")
            ),
            [info.id],
            |r| r.get::<_, i64>(0),
        )? as u64;
    }
    Ok(out)
}

/// Removes import `id` with all its rows; `None` when there is none.
pub fn remove(conn: &mut Connection, id: i64) -> rusqlite::Result<Option<ImportInfo>> {
    let Some(info) = list(conn)?.into_iter().find(|i| i.id == id) else {
        return Ok(None);
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // By the primary keys' ranges: the import's site and days, table by table.
    for table in TABLES {
        for sql in [
            "DELETE FROM history_keyed WHERE tbl = ?1 AND site = ?2 AND day BETWEEN ?3 AND ?4 AND import = ?5",
            "DELETE FROM history_months WHERE tbl = ?1 AND site = ?2 AND month BETWEEN ?3 AND ?4 AND import = ?5",
        ] {
            tx.execute(
                sql,
                params![
                    table,
                    info.site,
                    info.first_day.as_deref().map(|d| day_key(month_of(d))),
                    info.last_day,
                    id
                ],
            )?;
        }
    }
    tx.execute("DELETE FROM history_totals WHERE import = ?1", [id])?;
    tx.execute("DELETE FROM history_imports WHERE id = ?1", [id])?;
    generation::bump(&tx)?;
    tx.commit()?;
    Ok(Some(info))
}

/// (site, day) pairs an import fills instead of the logs: the logs' first day of a site, where
/// an import of the site with `fill_first_day` holds that day.
fn fills(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    conn.prepare(
        "SELECT h.site, h.day FROM history_totals h JOIN history_imports i ON i.id = h.import
         WHERE i.fill_first_day = 1
           AND h.day = (SELECT min(t.day) FROM daily_totals t WHERE t.site = h.site)",
    )?
    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// How reads take imported days beside the logs' (see the module's rule).
#[derive(Clone, Debug, Default)]
pub struct Visible {
    fills: Vec<(String, String)>,
    /// Each site's first log day.
    first_log_days: Vec<(String, String)>,
}

/// A text as an SQL literal.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Visible {
    /// The rule in force, or `None` when nothing was imported (reads are then those of the logs
    /// alone, at their speed).
    pub fn of(conn: &Connection) -> rusqlite::Result<Option<Visible>> {
        let any: bool =
            conn.query_row("SELECT EXISTS (SELECT 1 FROM history_imports)", [], |r| {
                r.get(0)
            })?;
        if !any {
            return Ok(None);
        }
        let first_log_days = conn
            .prepare("SELECT site, min(day) FROM daily_totals GROUP BY site")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(Visible {
            fills: fills(conn)?,
            first_log_days,
        }))
    }

    fn fill_list(&self, alias: &str) -> Option<String> {
        (!self.fills.is_empty()).then(|| {
            self.fills
                .iter()
                .map(|(s, d)| {
                    format!(
                        "({alias}.site = {} AND {alias}.day = {})",
                        quoted(s),
                        quoted(d)
                    )
                })
                .collect::<Vec<_>>()
                .join(" OR ")
        })
    }

    /// Holds for the rows (alias `alias`) of a rollup table that reports read: every row but
    /// those of a day an import fills.
    pub fn logs_clause(&self, alias: &str) -> String {
        match self.fill_list(alias) {
            Some(list) => format!("NOT ({list})"),
            None => "1".into(),
        }
    }

    /// The whole months of `from..=until` whose imported figures reads may take from
    /// `history_months`: months before every log day of `site` (of any site, for all), as
    /// (first day of the first, last day of the last); `None` when there is none.
    pub fn whole_months(
        &self,
        site: Option<&str>,
        from: NaiveDate,
        until: NaiveDate,
    ) -> Option<(String, String)> {
        let logs_from = self
            .first_log_days
            .iter()
            .filter(|(s, _)| site.is_none_or(|site| site == s))
            .filter_map(|(_, d)| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .min();
        let last = match logs_from {
            Some(d) => until.min(d.pred_opt()?),
            None => until,
        };
        let first = if from.day() == 1 {
            from
        } else {
            month_last(from.with_day(1)?).succ_opt()?
        };
        let last_whole = if month_last(last.with_day(1)?) == last {
            last
        } else {
            last.with_day(1)?.pred_opt()?
        };
        (first < last_whole).then(|| (day_key(first), day_key(last_whole)))
    }

    /// Holds for the rows (alias `alias`, with `site` and `day`) of an imported day that
    /// reports read: the logs hold no figures for its site and day, or it fills that day.
    pub fn history_clause(&self, alias: &str) -> String {
        let uncovered = format!(
            "NOT EXISTS (SELECT 1 FROM daily_totals t WHERE t.site = {alias}.site AND t.day = {alias}.day)"
        );
        match self.fill_list(alias) {
            Some(list) => format!("({uncovered} OR {list})"),
            None => uncovered,
        }
    }
}

/// Imported days a report over `from..=until` (one site, or all) reads, by import.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ImportedSpan {
    /// The import's id.
    pub id: i64,
    /// `plausible`, ...
    pub source: String,
    /// The first and last imported day read.
    pub from: String,
    /// The last.
    pub until: String,
    /// Imported days read.
    pub days: u64,
    /// The rollup tables it has figures of.
    pub tables: Vec<String>,
}

/// The imported days of `from..=until` that reports read, by import (none without imports).
pub fn spans(
    conn: &Connection,
    site: Option<&str>,
    from: NaiveDate,
    until: NaiveDate,
) -> rusqlite::Result<Vec<ImportedSpan>> {
    let Some(visible) = Visible::of(conn)? else {
        return Ok(Vec::new());
    };
    conn.prepare(&format!(
        "SELECT i.id, i.source, min(h.day), max(h.day), count(*), i.tables
         FROM history_totals h JOIN history_imports i ON i.id = h.import
         WHERE h.day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR h.site = ?3) AND {}
         GROUP BY i.id ORDER BY i.id",
        visible.history_clause("h")
    ))?
    .query_map(params![day_key(from), day_key(until), site], |r| {
        Ok(ImportedSpan {
            id: r.get(0)?,
            source: r.get(1)?,
            from: r.get(2)?,
            until: r.get(3)?,
            days: r.get::<_, i64>(4)? as u64,
            tables: r.get::<_, String>(5)?.lines().map(str::to_string).collect(),
        })
    })?
    .collect()
}

/// Rollup tables an import can hold figures for (the others read as the logs' alone).
pub const TABLES: &[&str] = &[
    "daily_pages",
    "daily_entry_pages",
    "daily_referrers",
    "daily_browsers",
    "daily_os",
    "daily_devices",
    "daily_countries",
];
