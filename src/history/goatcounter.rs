//! GoatCounter's CSV export: one row per page view (header `2,Path,Title,Event,...`; version 1,
//! `1,Path`, carried the whole user agent as `Browser`). Columns are read by name; events and
//! rows GoatCounter flagged as bots are left out, and the page views are replayed through
//! logtally's own sessions (`views::replay`) in the database's zone (the export's times are UTC).

use super::files::CsvFile;
use super::names;
use super::table::{rows, Refused, Row};
use super::views::{replay, visitor_key, View};
use super::{Export, Read};

const COLUMNS: &[&str] = &[
    "path",
    "event",
    "browser",
    "system",
    "session",
    "bot",
    "referrer",
    "referrer_scheme",
    "screen_size",
    "location",
    "date",
];

/// Rollup tables a GoatCounter export gives (it has no device class).
pub const TABLES: &[&str] = &[
    "daily_pages",
    "daily_entry_pages",
    "daily_referrers",
    "daily_browsers",
    "daily_os",
    "daily_countries",
];

fn is_true(text: Option<&str>) -> bool {
    matches!(
        text.map(str::trim).map(str::to_ascii_lowercase).as_deref(),
        Some("true" | "1" | "t" | "yes")
    )
}

fn view(row: &Row<'_>, version_1: bool, read: &Read<'_>) -> Result<Option<View>, Refused> {
    if is_true(row.text("event")) {
        return Ok(None);
    }
    if row
        .text("bot")
        .map(str::trim)
        .is_some_and(|b| !b.is_empty() && b != "0")
    {
        return Ok(None);
    }
    let ts = row.instant("date", chrono_tz::UTC)?;
    let path = row.text("path").unwrap_or("").trim();
    let path = if path.is_empty() { "/" } else { path };
    let referrer = row.text("referrer").unwrap_or("").trim();
    let source = match row.text("referrer_scheme").map(str::trim) {
        // A name GoatCounter gave (`Hacker News`), a campaign, or an app: the name itself.
        Some("g" | "c" | "o") if !referrer.is_empty() => Some(referrer.to_string()),
        _ => names::source_of_referrer(referrer, read.site),
    };
    let (browser, os) = if version_1 {
        let agent = crate::classify::agent::classify(row.text("browser").unwrap_or(""));
        (agent.browser, agent.os)
    } else {
        (
            names::browser(row.text("browser").unwrap_or("")),
            names::os(row.text("system").unwrap_or("")),
        )
    };
    let session = row.text("session").unwrap_or("").trim();
    // Rows without a session (older exports) are told apart by what they carry.
    let visitor = if session.is_empty() {
        visitor_key(&format!(
            "{browser}|{os}|{}|{}",
            row.text("screen_size").unwrap_or(""),
            row.text("location").unwrap_or("")
        ))
    } else {
        visitor_key(session)
    };
    Ok(Some(View {
        ts,
        visitor,
        path: path.to_string(),
        source,
        browser,
        os,
        device: "Other".into(),
        country: names::country(row.text("location").unwrap_or("")),
    }))
}

/// Reads a GoatCounter export's CSV files (one, usually).
pub fn read(
    files: &[CsvFile],
    read: &Read<'_>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Export, Refused> {
    let mut views = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let version_1 = file.header.first().is_some_and(|h| h.starts_with("1,"));
        rows(file, COLUMNS, &["path", "date"], |row| {
            views.extend(view(row, version_1, read)?);
            Ok(())
        })?;
        progress(i + 1, files.len());
    }
    Ok(Export {
        hostname: None,
        days: replay(views, read.zone),
        tables: TABLES.to_vec(),
    })
}
