//! Fathom's export: one CSV file per dimension (pages, referrers, browsers, ...) and one of the
//! site's totals, each row an hour (`datetime`) of figures. Files are told by their columns, read
//! by name; the hours are taken in the export's zone (`--tz`: the zone its dashboard was set to)
//! and folded into the days of the database's zone. Fathom counts a visitor once a day, at the
//! first page view, so the hours' `uniques` add up to the day's visitors; bounces are the bounce
//! rate of the visits, time spent the average duration of the visits.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::files::CsvFile;
use super::names;
use super::table::{rows, Refused, Row};
use super::{Export, Read};
use crate::rollup::days::local_date;
use crate::store::history::{Figures, ImportedDay};

/// The kinds of file of the export, by the dimension column they have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Totals,
    Pages,
    Referrers,
    Browsers,
    OperatingSystems,
    Devices,
    Countries,
}

/// (dimension column, kind, rollup table)
const DIMENSIONS: &[(&str, Kind, &str)] = &[
    ("pathname", Kind::Pages, "daily_pages"),
    ("referrer_hostname", Kind::Referrers, "daily_referrers"),
    ("browser", Kind::Browsers, "daily_browsers"),
    ("operating_system", Kind::OperatingSystems, "daily_os"),
    ("device_type", Kind::Devices, "daily_devices"),
    ("country_code", Kind::Countries, "daily_countries"),
];

/// The columns that hold each hour's time, in the order they are looked for.
const TIME: &[&str] = &["datetime", "timestamp", "date"];

const COLUMNS: &[&str] = &[
    "datetime",
    "timestamp",
    "date",
    "hostname",
    "pathname",
    "referrer_hostname",
    "browser",
    "operating_system",
    "device_type",
    "country_code",
    "pageviews",
    "visits",
    "uniques",
    "visitors",
    "entries",
    "avg_duration",
    "bounce_rate",
];

/// Whether `header` is that of a Fathom export's file.
pub fn is_fathom(header: &[String]) -> bool {
    let has = |n: &str| header.iter().any(|h| h == n);
    has("datetime") && has("pageviews") && (has("uniques") || has("visits"))
}

fn kind_of(header: &[String]) -> (Kind, Option<&'static str>) {
    DIMENSIONS
        .iter()
        .find(|(column, ..)| header.iter().any(|h| h == column))
        .map_or((Kind::Totals, None), |(_, kind, table)| {
            (*kind, Some(*table))
        })
}

/// A rate as a fraction: `0.42`, `42` and `42%` are all 42%.
fn rate(row: &Row<'_>, name: &str) -> Result<f64, Refused> {
    let t = row.text(name).unwrap_or("").trim().trim_end_matches('%');
    if t.is_empty() {
        return Ok(0.0);
    }
    let x: f64 = t
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite() && *x >= 0.0)
        .ok_or_else(|| row.refused(name, format!("{t:?} is not a rate such as 0.42")))?;
    Ok(if x > 1.0 { x / 100.0 } else { x })
}

fn seconds(row: &Row<'_>, name: &str) -> Result<f64, Refused> {
    let t = row.text(name).unwrap_or("").trim();
    if t.is_empty() {
        return Ok(0.0);
    }
    t.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .ok_or_else(|| row.refused(name, format!("{t:?} is not a number of seconds")))
}

/// The figures of one hour's row.
fn figures(row: &Row<'_>) -> Result<Figures, Refused> {
    let visits = row.count("visits")?;
    let visitors = if row.text("uniques").is_some() {
        row.count("uniques")?
    } else {
        row.count("visitors")?
    };
    Ok(Figures {
        pageviews: row.count("pageviews")?,
        visitors,
        visits,
        bounces: (rate(row, "bounce_rate")? * visits as f64).round() as u64,
        duration_s: (seconds(row, "avg_duration")? * visits as f64).round() as u64,
    })
}

fn key(kind: Kind, row: &Row<'_>, column: &str, site: Option<&str>) -> Option<String> {
    let text = row.text(column).unwrap_or("").trim();
    match kind {
        Kind::Totals => None,
        Kind::Pages => Some(if text.is_empty() { "/" } else { text }.to_string()),
        Kind::Referrers => {
            Some(names::source_of_referrer(text, site).unwrap_or_else(|| "Direct".into()))
        }
        Kind::Browsers => Some(names::browser(text)),
        Kind::OperatingSystems => Some(names::os(text)),
        Kind::Devices => Some(names::device(text)),
        Kind::Countries => names::country(text),
    }
}

/// Reads the files of a Fathom export.
pub fn read(
    files: &[CsvFile],
    read: &Read<'_>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Export, Refused> {
    let zone = read.export_zone.ok_or_else(|| {
        Refused::whole(
            &files[0].name,
            "a Fathom export's hours are in the zone its dashboard was set to, which the export \
             does not say: give it with --tz, such as --tz Europe/Berlin (or --tz UTC)"
                .into(),
        )
    })?;
    let mut days: BTreeMap<NaiveDate, ImportedDay> = BTreeMap::new();
    let mut hostname: Option<String> = None;
    let mut seen: Vec<(Kind, &str)> = Vec::new();
    let mut tables = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let (kind, table) = kind_of(&file.header);
        if let Some((_, other)) = seen.iter().find(|(k, _)| *k == kind) {
            return Err(Refused::whole(
                &file.name,
                format!("holds the same figures as {other}: give each file of the export once"),
            ));
        }
        seen.push((kind, &file.name));
        tables.extend(table);
        let column = DIMENSIONS
            .iter()
            .find(|(_, k, _)| *k == kind)
            .map_or("", |(c, ..)| *c);
        let time = TIME
            .iter()
            .copied()
            .find(|t| file.header.iter().any(|h| h == t))
            .ok_or_else(|| {
                Refused::at(
                    &file.name,
                    1,
                    Some("datetime"),
                    "the header lacks the column \"datetime\"".into(),
                )
            })?;
        rows(file, COLUMNS, &["pageviews"], |row| {
            let day = local_date(read.zone, row.instant(time, zone)?);
            let f = figures(row)?;
            if hostname.is_none() {
                hostname = row
                    .text("hostname")
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_string);
            }
            let site = read.site.or(hostname.as_deref());
            let entry = days.entry(day).or_default();
            match (table, key(kind, row, column, site)) {
                (None, _) => entry.totals.get_or_insert_with(Figures::default).add(&f),
                (Some(table), Some(k)) => {
                    let entered = row.count("entries")?;
                    if kind == Kind::Pages && entered > 0 {
                        let entries = Figures {
                            visits: entered,
                            ..Figures::default()
                        };
                        entry
                            .keyed
                            .entry(("daily_entry_pages", k.clone()))
                            .or_default()
                            .add(&entries);
                    }
                    entry.keyed.entry((table, k)).or_default().add(&f);
                }
                (Some(_), None) => {}
            }
            Ok(())
        })?;
        if kind == Kind::Pages && file.header.iter().any(|h| h == "entries") {
            tables.push("daily_entry_pages");
        }
        progress(i + 1, files.len());
    }
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
    fn hours_fold_into_the_days_of_the_databases_zone() {
        let files = [csv(
            "site.csv",
            "datetime,visits,uniques,pageviews,avg_duration,bounce_rate\n\
             2024-03-01 22:00:00,4,4,10,30,0.5\n\
             2024-03-01 23:00:00,2,1,3,60,0\n\
             2024-03-02 00:00:00,1,1,1,0,1\n",
        )];
        let read_in = |zone| Read {
            site: None,
            zone,
            export_zone: Some(chrono_tz::UTC),
        };
        let utc = read(&files, &read_in(chrono_tz::UTC), &mut |_, _| ()).unwrap();
        let first = utc.days[&NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()]
            .totals
            .unwrap();
        assert_eq!(
            first,
            Figures {
                pageviews: 13,
                visitors: 5,
                visits: 6,
                bounces: 2,
                duration_s: 240
            }
        );
        // In Berlin (UTC+1) the 23:00 and 00:00 UTC hours are 2 March.
        let berlin = read(&files, &read_in(chrono_tz::Europe::Berlin), &mut |_, _| ()).unwrap();
        let second = berlin.days[&NaiveDate::from_ymd_opt(2024, 3, 2).unwrap()]
            .totals
            .unwrap();
        assert_eq!(second.pageviews, 4);
    }

    #[test]
    fn without_the_exports_zone_it_is_refused() {
        let files = [csv(
            "site.csv",
            "datetime,visits,uniques,pageviews\n2024-03-01 22:00:00,1,1,1\n",
        )];
        let e = read(
            &files,
            &Read {
                site: None,
                zone: chrono_tz::UTC,
                export_zone: None,
            },
            &mut |_, _| (),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--tz"), "{e}");
    }
}
