//! Reports of unfiltered sections, asked of the rollup tables (`store::reads`) and shaped as the
//! catalogue describes each section.

use chrono::NaiveDate;

use crate::classify::bots::Reason;
use crate::report::catalogue::{self, Origin};
use crate::report::{Overview, Report, Row, Section, NO_AGENTS_NOTE};
use crate::store::reader::{ReadError, Reader};
use crate::store::reads::Span;

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

fn overview(store: Reader<'_>, span: Span<'_>) -> Result<Overview, ReadError> {
    let s = store.sums(span)?;
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
fn ranked(store: Reader<'_>, q: &Query, name: &str) -> Result<Option<Section>, ReadError> {
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
    let rows: Vec<Row> = store
        .ranked(q.span(), table, key, numbers, q.top)?
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
pub fn read(store: Reader<'_>, q: &Query) -> Result<Report, ReadError> {
    let mut report = Report {
        site: q.site.clone(),
        from: q.from,
        until: q.until,
        days_with_data: store.days_with_data(q.span())?,
        overview: None,
        previous: None,
        sections: Vec::new(),
        filters: Vec::new(),
        imported: Vec::new(),
    };
    for name in &q.sections {
        if name == "overview" {
            let len = (q.until - q.from).num_days() + 1;
            let previous = Span {
                site: q.site.as_deref(),
                from: q.from - chrono::Duration::days(len),
                until: q.from - chrono::Duration::days(1),
            };
            report.overview = Some(overview(store, q.span())?);
            report.previous = Some(overview(store, previous)?);
        } else if let Some(section) = ranked(store, q, name)? {
            report.sections.push(section);
            // Bots by reason, then the named ones among them (GPTBot, Googlebot...).
            for extra in catalogue::CATALOGUE
                .iter()
                .filter(|d| d.with == Some(name.as_str()))
            {
                if !q.sections.iter().any(|s| s == extra.name) {
                    report.sections.extend(ranked(store, q, extra.name)?);
                }
            }
        }
    }
    Ok(report)
}

/// The first and last days with rolled-up data.
pub fn data_range(store: Reader<'_>) -> Result<Option<(NaiveDate, NaiveDate)>, ReadError> {
    store.data_range()
}
