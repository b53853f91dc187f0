//! Reads a [`Report`] from the rollup tables. Every query is a range over `(day, site, key)`
//! primary keys of the `daily_*` tables; `events` is never read.

use chrono::NaiveDate;
use rusqlite::{params, Connection};

use super::{Overview, Report, Row, Section};
use crate::classify::bots::Reason;
use crate::rollup::days::day_key;

/// What to read.
#[derive(Clone, Debug)]
pub struct Query {
    /// One site, or all.
    pub site: Option<String>,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub until: NaiveDate,
    /// Rows per ranked section.
    pub top: usize,
    /// Sections, in order.
    pub sections: Vec<String>,
}

/// `site = ?` or any site.
fn site_clause(site: &Option<String>) -> &'static str {
    if site.is_some() {
        "site = ?3"
    } else {
        "?3 IS NULL"
    }
}

fn overview(
    conn: &Connection,
    site: &Option<String>,
    from: NaiveDate,
    until: NaiveDate,
) -> rusqlite::Result<Overview> {
    let sql = format!(
        "SELECT coalesce(sum(visitors), 0), coalesce(sum(pageviews), 0), coalesce(sum(visits), 0), coalesce(sum(bounces), 0),
                coalesce(sum(duration_s), 0), coalesce(sum(bot_hits), 0)
         FROM daily_totals WHERE day BETWEEN ?1 AND ?2 AND {}",
        site_clause(site)
    );
    let (visitors, pageviews, visits, bounces, duration, bot_hits): (u64, u64, u64, u64, u64, u64) =
        conn.prepare_cached(&sql)?
            .query_row(params![day_key(from), day_key(until), site], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?;
    let per_day: std::collections::HashMap<String, u64> = conn
        .prepare_cached(&format!(
            "SELECT day, sum(pageviews) FROM daily_totals WHERE day BETWEEN ?1 AND ?2 AND {} GROUP BY day",
            site_clause(site)
        ))?
        .query_map(params![day_key(from), day_key(until), site], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let daily_pageviews = from
        .iter_days()
        .take_while(|d| *d <= until)
        .map(|d| per_day.get(&day_key(d)).copied().unwrap_or(0))
        .collect();
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(Overview {
        visitors,
        pageviews,
        visits,
        views_per_visit: ratio(pageviews, visits),
        bounce_rate: ratio(bounces, visits),
        visit_duration_s: ratio(duration, visits),
        bot_hits,
        daily_pageviews,
    })
}

/// A section key as stored: a number (`Ok`) or text bytes (`Err`).
type RowKey = Result<i64, Vec<u8>>;

fn ranked(conn: &Connection, q: &Query, name: &str) -> rusqlite::Result<Option<Section>> {
    let Some(described) = super::catalogue::described(name) else {
        return Ok(None);
    };
    let super::catalogue::Origin::Rollup {
        table,
        key,
        numbers,
    } = described.origin
    else {
        return Ok(None);
    };
    // Summed here rather than by SQLite's GROUP BY, whose sorter over a year of text keys is
    // most of a report's time.
    let sql = format!(
        "SELECT {key}, {} FROM {table} WHERE day BETWEEN ?1 AND ?2 AND {}",
        numbers.join(", "),
        site_clause(&q.site)
    );
    let width = numbers.len();
    let mut texts: foldhash::HashMap<Vec<u8>, Vec<i64>> = Default::default();
    let mut ints: foldhash::HashMap<i64, Vec<i64>> = Default::default();
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![day_key(q.from), day_key(q.until), q.site])?;
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
    let text_key = |k: &[u8]| String::from_utf8_lossy(k).into_owned();
    let int_key = |i: i64| match Reason::from_code(i as u8).filter(|_| name == "bots") {
        Some(r) => r.name().to_string(),
        None => i.to_string(),
    };
    // Largest first, then by key (numbers before text, as SQLite orders them).
    let mut ranked: Vec<(Vec<i64>, RowKey)> = ints
        .into_iter()
        .map(|(k, v)| (v, Ok(k)))
        .chain(texts.into_iter().map(|(k, v)| (v, Err(k))))
        .collect();
    ranked.sort_by(|(a, ka), (b, kb)| b[0].cmp(&a[0]).then_with(|| ka.cmp(kb)));
    ranked.truncate(q.top);
    let rows: Vec<Row> = ranked
        .into_iter()
        .map(|(values, k)| Row {
            key: match k {
                Ok(i) => int_key(i),
                Err(t) => text_key(&t),
            },
            values: values.into_iter().map(|v| v.max(0) as u64).collect(),
            rate: None,
            parts: Vec::new(),
        })
        .collect();
    let name = described.name;
    let only_other = !rows.is_empty() && rows.iter().all(|r| r.key == "Other");
    let note = match name {
        "browsers" | "os" | "devices" if only_other => Some(super::NO_AGENTS_NOTE),
        "crawlers" => Some("automated clients that name themselves in their user agent"),
        _ => None,
    };
    Ok(Some(Section {
        name,
        key: described.key,
        columns: described.columns.to_vec(),
        rate: None,
        rows,
        note,
        parts: &[],
    }))
}

/// Reads the report.
pub fn read(conn: &Connection, q: &Query) -> rusqlite::Result<Report> {
    let days_with_data: u64 = conn
        .prepare_cached(&format!(
            "SELECT count(DISTINCT day) FROM daily_totals WHERE day BETWEEN ?1 AND ?2 AND {}",
            site_clause(&q.site)
        ))?
        .query_row(params![day_key(q.from), day_key(q.until), q.site], |r| {
            r.get(0)
        })?;
    let mut report = Report {
        site: q.site.clone(),
        from: q.from,
        until: q.until,
        days_with_data,
        overview: None,
        previous: None,
        sections: Vec::new(),
        filters: Vec::new(),
    };
    for name in &q.sections {
        if name == "overview" {
            let len = (q.until - q.from).num_days() + 1;
            let prev_until = q.from - chrono::Duration::days(1);
            let prev_from = q.from - chrono::Duration::days(len);
            report.overview = Some(overview(conn, &q.site, q.from, q.until)?);
            report.previous = Some(overview(conn, &q.site, prev_from, prev_until)?);
        } else if let Some(section) = ranked(conn, q, name)? {
            report.sections.push(section);
            // Bots by reason, then the named ones among them (GPTBot, Googlebot...).
            for extra in super::catalogue::CATALOGUE
                .iter()
                .filter(|d| d.with == Some(name.as_str()))
            {
                if !q.sections.iter().any(|s| s == extra.name) {
                    report.sections.extend(ranked(conn, q, extra.name)?);
                }
            }
        }
    }
    Ok(report)
}

/// The first and last days with rolled-up data.
pub fn data_range(conn: &Connection) -> rusqlite::Result<Option<(NaiveDate, NaiveDate)>> {
    let (a, b): (Option<String>, Option<String>) =
        conn.query_row("SELECT min(day), max(day) FROM daily_totals", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let parse = |s: Option<String>| s.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
    Ok(parse(a).zip(parse(b)))
}
