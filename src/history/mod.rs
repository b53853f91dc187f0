//! Importers of other services' exports (`import-history`): the export's CSV files gathered from
//! a `.zip`, a folder or the files themselves, recognised by their headers, and read into days
//! of figures (`store::history::ImportedDay`). One file per format behind [`Format`].

pub mod fathom;
pub mod files;
pub mod goatcounter;
pub mod names;
pub mod plausible;
pub mod table;
pub mod umami;
pub mod views;

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::store::history::ImportedDay;
pub use files::CsvFile;
pub use table::Refused;

/// The services whose exports logtally reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plausible's CSV export (`imported_visitors`, `imported_pages`, ...; also what Plausible
    /// CE, Pirsch and Swetrix read).
    Plausible,
    /// Fathom's per-dimension CSVs.
    Fathom,
    /// GoatCounter's CSV export of page views.
    Goatcounter,
    /// Umami's `website_event.csv`.
    Umami,
}

impl Format {
    /// Its name, as `--from` takes it and `import-history list` shows it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Plausible => "plausible",
            Format::Fathom => "fathom",
            Format::Goatcounter => "goatcounter",
            Format::Umami => "umami",
        }
    }

    /// Its name as people write it.
    pub fn title(self) -> &'static str {
        match self {
            Format::Plausible => "Plausible",
            Format::Fathom => "Fathom",
            Format::Goatcounter => "GoatCounter",
            Format::Umami => "Umami",
        }
    }

    /// The format a file's header says it is of, if any.
    pub fn of_header(header: &[String]) -> Option<Format> {
        let has = |name: &str| header.iter().any(|h| h == name);
        if header
            .first()
            .is_some_and(|h| h.ends_with(",path") && h.starts_with(|c: char| c.is_ascii_digit()))
        {
            return Some(Format::Goatcounter);
        }
        if fathom::is_fathom(header) {
            return Some(Format::Fathom);
        }
        if has("website_id") && has("session_id") && has("url_path") {
            return Some(Format::Umami);
        }
        if plausible::kind_of(header).is_some() {
            return Some(Format::Plausible);
        }
        None
    }
}

/// A service's name as people write it, from the name `import-history list` shows.
pub fn title_of(name: &str) -> String {
    [
        Format::Plausible,
        Format::Fathom,
        Format::Goatcounter,
        Format::Umami,
    ]
    .into_iter()
    .find(|f| f.name() == name)
    .map_or(name.to_string(), |f| f.title().to_string())
}

/// An export read: the site it names (if it does), and its days.
#[derive(Clone, Debug, Default)]
pub struct Export {
    /// The hostname the export carries, if it does.
    pub hostname: Option<String>,
    /// Its days.
    pub days: BTreeMap<NaiveDate, ImportedDay>,
    /// The rollup tables it gives figures of (`daily_pages`, ...): reports read the others from
    /// the log days only.
    pub tables: Vec<&'static str>,
}

/// What reading an export needs besides its files.
#[derive(Clone, Copy, Debug)]
pub struct Read<'a> {
    /// The site it is of, where `--site` names it (the site's own host is not a source).
    pub site: Option<&'a str>,
    /// The database's zone: the days figures are counted in.
    pub zone: chrono_tz::Tz,
    /// The zone the export's times are written in, where they carry none (`--tz`; Fathom).
    pub export_zone: Option<chrono_tz::Tz>,
}

/// Reads `files` as an export of `format`; `progress(done, total)` is called after each file.
pub fn read(
    format: Format,
    files: &[CsvFile],
    read: &Read<'_>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Export, Refused> {
    match format {
        Format::Plausible => plausible::read(files, progress),
        Format::Fathom => fathom::read(files, read, progress),
        Format::Goatcounter => goatcounter::read(files, read, progress),
        Format::Umami => umami::read(files, read, progress),
    }
}

/// The one format all of `files` are of, by their headers (or `--from`).
pub fn format_of(files: &[CsvFile], given: Option<Format>) -> Result<Format, Refused> {
    let mut found: Option<(Format, &str)> = None;
    for f in files {
        let format = Format::of_header(&f.header).ok_or_else(|| {
            Refused::at(
                &f.name,
                1,
                None,
                format!(
                    "no export logtally knows has this header ({}); name the service with --from",
                    f.header.join(",")
                ),
            )
        });
        let format = match (format, given) {
            (Ok(x), _) => x,
            (Err(_), Some(g)) => g,
            (Err(e), None) => return Err(e),
        };
        if let Some(g) = given.filter(|g| *g != format) {
            return Err(Refused::at(
                &f.name,
                1,
                None,
                format!(
                    "its header is that of a {} export, not {} as --from says",
                    format.title(),
                    g.title()
                ),
            ));
        }
        match found {
            Some((other, name)) if other != format => {
                return Err(Refused::whole(
                    &f.name,
                    format!(
                        "a {} file, where {name} is of a {} export: import one service's export at a time",
                        format.title(),
                        other.title()
                    ),
                ))
            }
            _ => found = Some((format, &f.name)),
        }
    }
    found
        .map(|(f, _)| f)
        .ok_or_else(|| Refused::whole("(no files)", "no CSV files to import".into()))
}
