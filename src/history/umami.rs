//! Umami's `website_event.csv` (its data export): one row per event, page views of
//! `event_type` 1, with the session each belongs to. Columns are read by name (they differ
//! between Umami's versions); custom events are left out and the page views are replayed through
//! logtally's own sessions (`views::replay`) in the database's zone (Umami's times are UTC).

use super::files::CsvFile;
use super::names;
use super::table::{rows, Refused, Row};
use super::views::{replay, visitor_key, View};
use super::{Export, Read};

const COLUMNS: &[&str] = &[
    "session_id",
    "created_at",
    "url_path",
    "event_type",
    "referrer_domain",
    "utm_source",
    "hostname",
    "browser",
    "os",
    "device",
    "country",
];

/// Rollup tables an Umami export gives.
pub const TABLES: &[&str] = &[
    "daily_pages",
    "daily_entry_pages",
    "daily_referrers",
    "daily_browsers",
    "daily_os",
    "daily_devices",
    "daily_countries",
];

fn view(row: &Row<'_>, site: Option<&str>) -> Result<Option<View>, Refused> {
    // 1: a page view; 2: a custom event.
    if row.count("event_type")? > 1 {
        return Ok(None);
    }
    let ts = row.instant("created_at", chrono_tz::UTC)?;
    let path = row.text("url_path").unwrap_or("").trim();
    let path = if path.is_empty() { "/" } else { path };
    let utm = row.text("utm_source").unwrap_or("").trim();
    let source = if utm.is_empty() {
        names::source_of_referrer(row.text("referrer_domain").unwrap_or(""), site)
    } else {
        Some(utm.to_string())
    };
    Ok(Some(View {
        ts,
        visitor: visitor_key(row.text("session_id").unwrap_or("").trim()),
        path: path.to_string(),
        source,
        browser: names::browser(row.text("browser").unwrap_or("")),
        os: names::os(row.text("os").unwrap_or("")),
        device: names::device(row.text("device").unwrap_or("")),
        country: names::country(row.text("country").unwrap_or("")),
    }))
}

/// Reads an Umami export's `website_event.csv`.
pub fn read(
    files: &[CsvFile],
    read: &Read<'_>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Export, Refused> {
    let mut views = Vec::new();
    let mut hostname: Option<String> = None;
    for (i, file) in files.iter().enumerate() {
        rows(
            file,
            COLUMNS,
            &["session_id", "created_at", "url_path"],
            |row| {
                if hostname.is_none() {
                    hostname = row
                        .text("hostname")
                        .map(str::trim)
                        .filter(|h| !h.is_empty())
                        .map(str::to_string);
                }
                let site = read.site.or(hostname.as_deref());
                views.extend(view(row, site)?);
                Ok(())
            },
        )?;
        progress(i + 1, files.len());
    }
    Ok(Export {
        hostname,
        days: replay(views, read.zone),
        tables: TABLES.to_vec(),
    })
}
