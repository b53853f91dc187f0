//! What reports read of the rollup tables of SQLite, and the shapes of its answers (which
//! `clickhouse::reads` gives too; `super::reader` asks either). Every read is a range over the
//! `(day, site, key)` primary keys of the `daily_*` tables; `events` is never read.

use chrono::NaiveDate;
use rusqlite::{params, Connection};

use super::history::{self, Visible};
use super::rollups::TABLES;

/// A day as the rollup tables store it (`2026-03-01`).
fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The days and site a read covers.
#[derive(Clone, Copy, Debug)]
pub struct Span<'a> {
    /// One site, or all.
    pub site: Option<&'a str>,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub until: NaiveDate,
}

/// The sums of `daily_totals` over a span.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    /// Visitors (daily visitors added up).
    pub visitors: u64,
    /// Page views.
    pub pageviews: u64,
    /// Visits.
    pub visits: u64,
    /// Visits of one page view.
    pub bounces: u64,
    /// Time spent over all visits, seconds.
    pub duration_s: u64,
    /// Bot hits.
    pub bot_hits: u64,
    /// Page views per day of the span, oldest first (0 for days without data).
    pub daily_pageviews: Vec<u64>,
}

/// A ranked key as stored: a number (`Ok`) or text bytes (`Err`).
pub type Key = Result<i64, Vec<u8>>;

/// `site = ?` or any site.
fn site_clause(site: Option<&str>) -> &'static str {
    if site.is_some() {
        "site = ?3"
    } else {
        "?3 IS NULL"
    }
}

/// `daily_totals` as reports read it: the logs' days, and the imported days they read
/// (`history::Visible`) with their figures under the same names (bot hits 0: no export has them).
fn totals_source(visible: Option<&Visible>) -> String {
    match visible {
        None => "daily_totals".into(),
        Some(v) => format!(
            "(SELECT day, site, visitors, pageviews, visits, bounces, duration_s, bot_hits FROM daily_totals d WHERE {}
              UNION ALL
              SELECT day, site, visitors, pageviews, visits, bounces, duration_s, 0 FROM history_totals h WHERE {})",
            v.logs_clause("d"),
            v.history_clause("h")
        ),
    }
}

/// Rollup table `table` as reports read it over `span`, with `columns`: the logs' rows and the
/// imported rows they read, where imports hold figures of that table; whole months before the
/// logs from `history_months`, the other imported days day by day.
fn table_source(table: &str, columns: &str, visible: Option<&Visible>, span: Span<'_>) -> String {
    let Some(v) = visible else {
        return table.to_string();
    };
    let logs = format!(
        "SELECT day, site, {columns} FROM {table} d WHERE {}",
        v.logs_clause("d")
    );
    if !history::TABLES.contains(&table) {
        return format!("({logs})");
    }
    let imported_columns = columns
        .split(", ")
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                format!("key AS {c}")
            } else {
                c.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    // Ranges of the primary keys (tbl, site, day...): the site given, or each imported one.
    let sites = if span.site.is_some() {
        "h.site = ?3"
    } else {
        "h.site IN (SELECT DISTINCT site FROM history_imports)"
    };
    let days = |range: &str| {
        format!(
            "SELECT day, site, {imported_columns} FROM history_keyed h
             WHERE tbl = '{table}' AND {sites} AND {range} AND {}",
            v.history_clause("h")
        )
    };
    match v.whole_months(span.site, span.from, span.until) {
        None => format!("({logs} UNION ALL {})", days("h.day BETWEEN ?1 AND ?2")),
        Some((first, last)) => format!(
            "({logs}
              UNION ALL {}
              UNION ALL {}
              UNION ALL SELECT month AS day, site, {imported_columns} FROM history_months h
                WHERE tbl = '{table}' AND {sites} AND h.month >= '{first}' AND h.month_last <= '{last}')",
            days(&format!("h.day >= ?1 AND h.day < '{first}'")),
            days(&format!("h.day > '{last}' AND h.day <= ?2")),
        ),
    }
}

/// The totals of `span`.
pub(super) fn sqlite_sums(conn: &Connection, span: Span<'_>) -> rusqlite::Result<Sums> {
    let bounds = params![day_key(span.from), day_key(span.until), span.site];
    let visible = Visible::of(conn)?;
    let totals = totals_source(visible.as_ref());
    let sql = format!(
        "SELECT coalesce(sum(visitors), 0), coalesce(sum(pageviews), 0), coalesce(sum(visits), 0), coalesce(sum(bounces), 0),
                coalesce(sum(duration_s), 0), coalesce(sum(bot_hits), 0)
         FROM {totals} WHERE day BETWEEN ?1 AND ?2 AND {}",
        site_clause(span.site)
    );
    let mut sums = conn.prepare_cached(&sql)?.query_row(bounds, |r| {
        Ok(Sums {
            visitors: r.get(0)?,
            pageviews: r.get(1)?,
            visits: r.get(2)?,
            bounces: r.get(3)?,
            duration_s: r.get(4)?,
            bot_hits: r.get(5)?,
            daily_pageviews: Vec::new(),
        })
    })?;
    let per_day: std::collections::HashMap<String, u64> = conn
        .prepare_cached(&format!(
            "SELECT day, sum(pageviews) FROM {totals} WHERE day BETWEEN ?1 AND ?2 AND {} GROUP BY day",
            site_clause(span.site)
        ))?
        .query_map(bounds, |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    sums.daily_pageviews = span
        .from
        .iter_days()
        .take_while(|d| *d <= span.until)
        .map(|d| per_day.get(&day_key(d)).copied().unwrap_or(0))
        .collect();
    Ok(sums)
}

/// The keys of column `key` of rollup table `table` over `span`, with the sums of its columns
/// `numbers`: the `top` largest by the first of them, then by key (numbers before text, as
/// SQLite orders them). `table` must be one of the rollup tables.
pub(super) fn sqlite_ranked(
    conn: &Connection,
    span: Span<'_>,
    table: &str,
    key: &str,
    numbers: &[&str],
    top: usize,
) -> rusqlite::Result<Vec<(Key, Vec<u64>)>> {
    assert!(TABLES.contains(&table), "{table} is no rollup table");
    // Summed here rather than by SQLite's GROUP BY, whose sorter over a year of text keys is
    // most of a report's time.
    let columns = std::iter::once(key)
        .chain(numbers.iter().copied())
        .collect::<Vec<_>>()
        .join(", ");
    let visible = Visible::of(conn)?;
    let sql = format!(
        "SELECT {columns} FROM {} WHERE day BETWEEN ?1 AND ?2 AND {}",
        table_source(table, &columns, visible.as_ref(), span),
        site_clause(span.site)
    );
    let width = numbers.len();
    let mut texts: foldhash::HashMap<Vec<u8>, Vec<i64>> = Default::default();
    let mut ints: foldhash::HashMap<i64, Vec<i64>> = Default::default();
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![day_key(span.from), day_key(span.until), span.site])?;
    while let Some(r) = rows.next()? {
        let sums = match r.get_ref(0)? {
            rusqlite::types::ValueRef::Integer(i) => {
                ints.entry(i).or_insert_with(|| vec![0; width])
            }
            v => {
                let bytes = v.as_bytes()?;
                if !texts.contains_key(bytes) {
                    texts.insert(bytes.to_vec(), vec![0; width]);
                }
                texts.get_mut(bytes).expect("just inserted")
            }
        };
        for (i, slot) in sums.iter_mut().enumerate() {
            *slot += r.get::<_, i64>(i + 1)?;
        }
    }
    drop(rows);
    let mut ranked: Vec<(Vec<i64>, Key)> = ints
        .into_iter()
        .map(|(k, v)| (v, Ok(k)))
        .chain(texts.into_iter().map(|(k, v)| (v, Err(k))))
        .collect();
    ranked.sort_by(|(a, ka), (b, kb)| b[0].cmp(&a[0]).then_with(|| ka.cmp(kb)));
    ranked.truncate(top);
    Ok(ranked
        .into_iter()
        .map(|(values, k)| (k, values.into_iter().map(|v| v.max(0) as u64).collect()))
        .collect())
}

/// Days of `span` with rolled-up data.
pub(super) fn sqlite_days_with_data(conn: &Connection, span: Span<'_>) -> rusqlite::Result<u64> {
    let visible = Visible::of(conn)?;
    conn.prepare_cached(&format!(
        "SELECT count(DISTINCT day) FROM {} WHERE day BETWEEN ?1 AND ?2 AND {}",
        totals_source(visible.as_ref()),
        site_clause(span.site)
    ))?
    .query_row(
        params![day_key(span.from), day_key(span.until), span.site],
        |r| r.get(0),
    )
}

/// The first and last days with rolled-up data.
pub(super) fn sqlite_data_range(
    conn: &Connection,
) -> rusqlite::Result<Option<(NaiveDate, NaiveDate)>> {
    let (a, b): (Option<String>, Option<String>) =
        conn.query_row(
            "SELECT min(day), max(day) FROM (SELECT day FROM daily_totals UNION ALL SELECT day FROM history_totals)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
    let parse = |s: Option<String>| s.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
    Ok(parse(a).zip(parse(b)))
}
