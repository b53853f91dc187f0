//! Reports for `stats`, read from rollup tables only (never `events`), and their renderings:
//! terminal tables, JSON, CSV and a self-contained HTML page, each showing text from logs
//! through [`sanitize`].

pub mod catalogue;
pub mod csv;
pub mod html;
pub mod json;
pub mod sanitize;
pub mod table;

use chrono::NaiveDate;

/// The note every multi-day report carries.
pub const VISITORS_NOTE: &str =
    "visitors over several days are sums of daily visitors (visitor ids change daily, by design)";

/// Totals of a period, and the same for the period of equal length before it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Overview {
    /// Visitors (sum of daily visitors).
    pub visitors: u64,
    /// Page views.
    pub pageviews: u64,
    /// Visits.
    pub visits: u64,
    /// Page views per visit.
    pub views_per_visit: f64,
    /// Share of one-page visits, 0..1.
    pub bounce_rate: f64,
    /// Mean visit duration in seconds.
    pub visit_duration_s: f64,
    /// Bot hits (kept out of every other figure).
    pub bot_hits: u64,
    /// Page views per day over the period, oldest first (0 for days without data).
    pub daily_pageviews: Vec<u64>,
}

/// One row of a ranked section: a key and its numbers, named per section.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Row {
    /// The key (a path, a source, a browser...).
    pub key: String,
    /// Numbers, in the order of [`Section::columns`].
    pub values: Vec<u64>,
    /// A share (0..1) after the numbers, when the section has a [`Section::rate`] column.
    pub rate: Option<f64>,
    /// The values the key joins, named by [`Section::parts`] (a campaign, its source and its
    /// medium), so JSON gives each its own field; empty where the key is one value.
    pub parts: Vec<String>,
}

/// A ranked section.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Section {
    /// Section name.
    pub name: &'static str,
    /// Name of the key column.
    pub key: &'static str,
    /// Names of the number columns.
    pub columns: Vec<&'static str>,
    /// The name of a share column after the numbers (a goal's conversion rate), if any.
    pub rate: Option<&'static str>,
    /// Rows, largest first.
    pub rows: Vec<Row>,
    /// What to know to read it (why it is empty, what a row means).
    pub note: Option<&'static str>,
    /// Names of the values a key joins ([`Row::parts`]); empty where the key is one value.
    pub parts: &'static [&'static str],
}

/// The note of a browsers, systems or devices section whose only row is `Other`.
pub const NO_AGENTS_NOTE: &str = "no browser, system or device could be told from the user agents: a log format without them (common) leaves this empty";

/// A whole report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Site, or `None` for all sites together.
    pub site: Option<String>,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub until: NaiveDate,
    /// Days in the period with rolled-up data.
    pub days_with_data: u64,
    /// The period.
    pub overview: Option<Overview>,
    /// The period before, of the same length.
    pub previous: Option<Overview>,
    /// Ranked sections, in the order asked.
    pub sections: Vec<Section>,
    /// The filters applied (`page=/pricing`), empty for none.
    pub filters: Vec<String>,
    /// Days whose figures come from an imported export, by import (empty: the logs' alone).
    pub imported: Vec<Imported>,
}

/// Days of a report read from one import of another service's export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    /// The import's id (`import-history list`).
    pub id: i64,
    /// The service, as people write it (`Plausible`).
    pub source: String,
    /// The first imported day read.
    pub from: NaiveDate,
    /// The last.
    pub until: NaiveDate,
    /// Imported days read.
    pub days: u64,
}

impl Imported {
    /// `1 Jan 2024 - 26 Mar 2024 from a Plausible export`.
    pub fn describe(&self) -> String {
        let fmt = |d: NaiveDate| d.format("%-d %b %Y").to_string();
        let range = if self.from == self.until {
            fmt(self.from)
        } else {
            format!("{} - {}", fmt(self.from), fmt(self.until))
        };
        format!("{range} from a {} export ({} days)", self.source, self.days)
    }
}

/// What an import cannot give, said wherever imported days are in a report.
pub const IMPORTED_NOTE: &str = "imported days carry what the export has: visitors, page views, visits, bounces and duration, pages, entry pages, sources, browsers, systems, devices and countries; every other figure (filters, hits, bytes, bots, statuses, 404s, hours, exit pages, campaigns, goals) covers the log days only";

/// The note of a section that imported days have nothing of.
pub const LOG_DAYS_ONLY_NOTE: &str =
    "covers the log days only: the imported days have no such figures";

/// The note of a filtered report over imported days.
pub const FILTERED_IMPORT_NOTE: &str =
    "a filtered report covers the log days only: an export cannot be filtered across dimensions";

/// What a filtered report counts, shown with it.
pub const FILTER_NOTE: &str = "filters keep whole visits (a page filter: the visits that viewed the page; a goal filter: those that reached it); every figure is of those visits";

/// Relative change from `before` to `now` in percent; `None` when there was nothing before.
pub fn change(now: f64, before: f64) -> Option<f64> {
    (before > 0.0).then(|| (now - before) * 100.0 / before)
}

/// A visit duration as people read it (`1m 05s`, `42s`).
pub fn duration(s: f64) -> String {
    let s = s.round() as u64;
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// A sparkline of daily values.
pub fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|v| {
            if max == 0 {
                BARS[0]
            } else {
                BARS[((*v as f64 / max as f64) * 7.0).round() as usize]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_and_sparklines() {
        assert_eq!(change(150.0, 100.0), Some(50.0));
        assert_eq!(change(5.0, 0.0), None);
        assert_eq!(sparkline(&[0, 4, 8]), "▁▅█");
        assert_eq!(sparkline(&[0, 0]), "▁▁");
    }
}
