//! Reports of unfiltered sections, asked of the rollup tables (`store::reads`) and shaped as the
//! catalogue describes each section.

use chrono::NaiveDate;
use rusqlite::Connection;

use crate::classify::bots::Reason;
use crate::report::catalogue::{self, Origin};
use crate::report::{Overview, Report, Row, Section, NO_AGENTS_NOTE};
use crate::store::reads::{self, Span};

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

impl Query {
    fn span(&self) -> Span<'_> {
        Span {
            site: self.site.as_deref(),
            from: self.from,
            until: self.until,
        }
    }
}

fn overview(conn: &Connection, span: Span<'_>) -> rusqlite::Result<Overview> {
    let s = reads::sums(conn, span)?;
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(Overview {
        visitors: s.visitors,
        pageviews: s.pageviews,
        visits: s.visits,
        views_per_visit: ratio(s.pageviews, s.visits),
        bounce_rate: ratio(s.bounces, s.visits),
        visit_duration_s: ratio(s.duration_s, s.visits),
        bot_hits: s.bot_hits,
        daily_pageviews: s.daily_pageviews,
    })
}

/// Section `name` from its rollup table; `None` for a section the rollups do not hold.
fn ranked(conn: &Connection, q: &Query, name: &str) -> rusqlite::Result<Option<Section>> {
    let Some(described) = catalogue::described(name) else {
        return Ok(None);
    };
    let Origin::Rollup {
        table,
        key,
        numbers,
    } = described.origin
    else {
        return Ok(None);
    };
    let rows: Vec<Row> = reads::ranked(conn, q.span(), table, key, numbers, q.top)?
        .into_iter()
        .map(|(k, values)| Row {
            key: match k {
                Ok(i) => match Reason::from_code(i as u8).filter(|_| name == "bots") {
                    Some(r) => r.name().to_string(),
                    None => i.to_string(),
                },
                Err(t) => String::from_utf8_lossy(&t).into_owned(),
            },
            values,
            rate: None,
            parts: Vec::new(),
        })
        .collect();
    let only_other = !rows.is_empty() && rows.iter().all(|r| r.key == "Other");
    let note = match name {
        "browsers" | "os" | "devices" if only_other => Some(NO_AGENTS_NOTE),
        "crawlers" => Some("automated clients that name themselves in their user agent"),
        _ => None,
    };
    Ok(Some(described.section(rows, note)))
}

/// Reads the report of `q` from the rollups.
pub fn read(conn: &Connection, q: &Query) -> rusqlite::Result<Report> {
    let mut report = Report {
        site: q.site.clone(),
        from: q.from,
        until: q.until,
        days_with_data: reads::days_with_data(conn, q.span())?,
        overview: None,
        previous: None,
        sections: Vec::new(),
        filters: Vec::new(),
    };
    for name in &q.sections {
        if name == "overview" {
            let len = (q.until - q.from).num_days() + 1;
            let previous = Span {
                site: q.site.as_deref(),
                from: q.from - chrono::Duration::days(len),
                until: q.from - chrono::Duration::days(1),
            };
            report.overview = Some(overview(conn, q.span())?);
            report.previous = Some(overview(conn, previous)?);
        } else if let Some(section) = ranked(conn, q, name)? {
            report.sections.push(section);
            // Bots by reason, then the named ones among them (GPTBot, Googlebot...).
            for extra in catalogue::CATALOGUE
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
    reads::data_range(conn)
}
