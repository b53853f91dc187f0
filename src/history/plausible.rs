//! Plausible's CSV export (`imported_visitors_*.csv`, `imported_pages_*.csv`, ...; Plausible CE,
//! Pirsch and Swetrix read it too). Each file is one kind of daily figures, told by its header;
//! columns are read by name, as they vary between versions. `visit_duration` is total seconds.
//! Dates are the site's own (the export's zone).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::files::CsvFile;
use super::names;
use super::table::{rows, Refused, Row};
use super::Export;
use crate::store::history::{Figures, ImportedDay};

/// The kinds of file of the export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `imported_visitors`: the site's totals.
    Visitors,
    /// `imported_pages`.
    Pages,
    /// `imported_entry_pages`.
    EntryPages,
    /// `imported_exit_pages` (read, not kept: exit pages come from the record of visits).
    ExitPages,
    /// `imported_sources`.
    Sources,
    /// `imported_browsers`.
    Browsers,
    /// `imported_operating_systems`.
    OperatingSystems,
    /// `imported_devices`.
    Devices,
    /// `imported_locations`.
    Locations,
    /// `imported_custom_events` (read, not kept: goals come from the record of visits).
    CustomEvents,
}

/// The kind of file a Plausible header is of.
pub fn kind_of(header: &[String]) -> Option<Kind> {
    let has = |name: &str| header.iter().any(|h| h == name);
    if !has("date") {
        return None;
    }
    Some(if has("entry_page") {
        Kind::EntryPages
    } else if has("exit_page") {
        Kind::ExitPages
    } else if has("page") && has("pageviews") {
        Kind::Pages
    } else if has("source") && has("visitors") {
        Kind::Sources
    } else if has("browser") {
        Kind::Browsers
    } else if has("operating_system") {
        Kind::OperatingSystems
    } else if has("device") {
        Kind::Devices
    } else if has("country") {
        Kind::Locations
    } else if has("name") && has("events") {
        Kind::CustomEvents
    } else if has("visitors") && has("pageviews") && has("visits") {
        Kind::Visitors
    } else {
        return None;
    })
}

/// Plausible's names where logtally's differ (`Mac` is `macOS`, `Direct / None` is `Direct`).
fn logtally_name(kind: Kind, name: &str) -> String {
    let name = name.trim();
    match kind {
        Kind::Sources if name.is_empty() || name == "Direct / None" => "Direct".to_string(),
        Kind::Browsers => names::browser(name),
        Kind::OperatingSystems => names::os(name),
        Kind::Devices => names::device(name),
        Kind::Locations => names::country(name).unwrap_or_default(),
        _ => name.to_string(),
    }
}

/// The rollup table a kind of file gives figures of, and its key column.
fn table_of(kind: Kind) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        Kind::Pages => ("daily_pages", "page"),
        Kind::EntryPages => ("daily_entry_pages", "entry_page"),
        Kind::Sources => ("daily_referrers", "source"),
        Kind::Browsers => ("daily_browsers", "browser"),
        Kind::OperatingSystems => ("daily_os", "operating_system"),
        Kind::Devices => ("daily_devices", "device"),
        Kind::Locations => ("daily_countries", "country"),
        Kind::Visitors | Kind::ExitPages | Kind::CustomEvents => return None,
    })
}

/// The rollup table, key and the figures of a row of a dimension file.
fn keyed(kind: Kind, row: &Row<'_>) -> Result<Option<(&'static str, String, Figures)>, Refused> {
    let Some((table, column)) = table_of(kind) else {
        return Ok(None);
    };
    let key = logtally_name(kind, row.text(column).unwrap_or(""));
    if key.is_empty() {
        // A page or a country Plausible could not tell: no row, as in the logs' rollups.
        return Ok(None);
    }
    let figures = Figures {
        pageviews: row.count("pageviews")?,
        visitors: row.count("visitors")?,
        visits: if kind == Kind::EntryPages {
            row.count("entrances")?
        } else {
            row.count("visits")?
        },
        bounces: row.count("bounces")?,
        duration_s: 0,
    };
    Ok(Some((table, key, figures)))
}

/// Columns read, by name.
const COLUMNS: &[&str] = &[
    "date",
    "hostname",
    "page",
    "entry_page",
    "exit_page",
    "source",
    "browser",
    "operating_system",
    "device",
    "country",
    "visitors",
    "pageviews",
    "visits",
    "entrances",
    "bounces",
    "visit_duration",
];

/// The days and hostname one file of `kind` gives.
type FileDays = (BTreeMap<NaiveDate, ImportedDay>, Option<String>);

/// Reads one file of `kind`.
fn read_file(kind: Kind, file: &CsvFile) -> Result<FileDays, Refused> {
    let mut days: BTreeMap<NaiveDate, ImportedDay> = BTreeMap::new();
    let mut hostname: Option<String> = None;
    let required: &[&'static str] = match kind {
        Kind::Visitors => &["date", "visitors", "pageviews", "visits"],
        Kind::Pages => &["date", "page", "visitors", "pageviews"],
        _ => &["date", "visitors"],
    };
    rows(file, COLUMNS, required, |row| {
        let day = days.entry(row.date("date")?).or_default();
        if kind == Kind::Visitors {
            let t = Figures {
                pageviews: row.count("pageviews")?,
                visitors: row.count("visitors")?,
                visits: row.count("visits")?,
                bounces: row.count("bounces")?,
                duration_s: row.count("visit_duration")?,
            };
            day.totals.get_or_insert_with(Figures::default).add(&t);
            return Ok(());
        }
        if kind == Kind::Pages && hostname.is_none() {
            hostname = row
                .text("hostname")
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_string);
        }
        if let Some((table, key, f)) = keyed(kind, row)? {
            day.keyed.entry((table, key)).or_default().add(&f);
        }
        Ok(())
    })?;
    Ok((days, hostname))
}

/// Reads the files of a Plausible export, each on a thread of its own (one kind of figures a
/// file); `progress(done, total)` is called as each is merged.
pub fn read(files: &[CsvFile], progress: &mut dyn FnMut(usize, usize)) -> Result<Export, Refused> {
    use rayon::prelude::*;
    let mut seen: Vec<(Kind, &str)> = Vec::new();
    for file in files {
        let kind = kind_of(&file.header).ok_or_else(|| {
            Refused::at(
                &file.name,
                1,
                None,
                format!(
                    "not a file of a Plausible export (header {})",
                    file.header.join(",")
                ),
            )
        })?;
        if let Some((_, other)) = seen.iter().find(|(k, _)| *k == kind) {
            return Err(Refused::whole(
                &file.name,
                format!("holds the same figures as {other}: give each file of the export once"),
            ));
        }
        seen.push((kind, &file.name));
    }
    let read: Vec<Result<FileDays, Refused>> = files
        .par_iter()
        .zip(&seen)
        .map(|(file, (kind, _))| read_file(*kind, file))
        .collect();
    let mut days: BTreeMap<NaiveDate, ImportedDay> = BTreeMap::new();
    let mut hostname: Option<String> = None;
    let mut read: Vec<(usize, Result<FileDays, Refused>)> =
        files.iter().map(|f| f.bytes.len()).zip(read).collect();
    // The largest first: it is the base the others are merged into.
    read.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
    for (i, (_, one)) in read.into_iter().enumerate() {
        let (file_days, file_host) = one?;
        hostname = hostname.or(file_host);
        if days.is_empty() {
            days = file_days;
        } else {
            for (date, day) in file_days {
                let into = days.entry(date).or_default();
                if let Some(t) = day.totals {
                    into.totals.get_or_insert_with(Figures::default).add(&t);
                }
                into.keyed.extend(day.keyed);
            }
        }
        progress(i + 1, files.len());
    }
    let tables = seen
        .iter()
        .filter_map(|(k, _)| table_of(*k))
        .map(|(t, _)| t)
        .collect();
    Ok(Export {
        hostname,
        days,
        tables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(name: &str, text: &str) -> CsvFile {
        super::super::files::csv_file(name.into(), text.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn files_are_told_by_their_headers_and_columns_read_by_name() {
        let files = [
            csv(
                "v.csv",
                "date,visitors,pageviews,bounces,visits,visit_duration\n2024-01-01,10,30,4,12,600\n",
            ),
            // Another version's order, and a version column summed into its browser.
            csv(
                "b.csv",
                "date,browser,browser_version,visitors,visits,visit_duration,bounces,pageviews\n2024-01-01,Chrome,120,3,3,10,1,5\n2024-01-01,Chrome,121,2,2,10,1,4\n2024-01-01,Microsoft Edge,1,1,1,0,0,1\n",
            ),
            csv(
                "s.csv",
                "date,source,referrer,utm_source,utm_medium,utm_campaign,utm_content,utm_term,pageviews,visitors,visits,visit_duration,bounces\n2024-01-01,,,,,,,,7,5,5,0,2\n",
            ),
        ];
        let export = read(&files, &mut |_, _| ()).unwrap();
        let day = &export.days[&NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()];
        assert_eq!(
            day.totals,
            Some(Figures {
                pageviews: 30,
                visitors: 10,
                visits: 12,
                bounces: 4,
                duration_s: 600
            })
        );
        assert_eq!(day.keyed[&("daily_browsers", "Chrome".into())].pageviews, 9);
        assert!(day.keyed.contains_key(&("daily_browsers", "Edge".into())));
        assert_eq!(day.keyed[&("daily_referrers", "Direct".into())].visits, 5);
    }

    #[test]
    fn a_bad_number_names_its_file_line_and_column() {
        let files = [csv(
            "imported_pages.csv",
            "date,hostname,page,visitors,pageviews\n2024-01-01,a.com,/,1,2\n2024-01-02,a.com,/,x,2\n",
        )];
        let e = read(&files, &mut |_, _| ()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "imported_pages.csv:3: column visitors: \"x\" is not a whole number"
        );
    }
}
