//! Rows of an export's CSV file, read by header name (the columns vary between versions of an
//! export), and why a file is refused: its name, line and column.

use chrono::NaiveDate;

use super::files::CsvFile;

/// Why an export was refused: nothing is written then.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default(), column.as_ref().map(|c| format!(": column {c}")).unwrap_or_default())]
pub struct Refused {
    /// The file.
    pub file: String,
    /// Its line (1: the header), where one is at fault.
    pub line: Option<u64>,
    /// The column, where one is at fault.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Refused {
    /// A file refused as a whole.
    pub fn whole(file: &str, message: String) -> Refused {
        Refused {
            file: file.to_string(),
            line: None,
            column: None,
            message,
        }
    }

    /// A file refused at `line` (and `column`).
    pub fn at(file: &str, line: u64, column: Option<&str>, message: String) -> Refused {
        Refused {
            file: file.to_string(),
            line: Some(line),
            column: column.map(str::to_string),
            message,
        }
    }
}

/// One data row, its fields found by the header's names.
pub struct Row<'a> {
    file: &'a CsvFile,
    columns: &'a [Option<usize>],
    names: &'a [&'static str],
    record: csv::StringRecord,
    /// Its line in the file.
    pub line: u64,
}

impl Row<'_> {
    fn index(&self, name: &str) -> Option<usize> {
        let at = self.names.iter().position(|n| *n == name)?;
        self.columns[at]
    }

    /// The text of column `name`, if the file has that column.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.index(name).map(|i| self.record.get(i).unwrap_or(""))
    }

    /// Column `name` as a whole number (empty: 0); 0 where the file has no such column.
    pub fn count(&self, name: &str) -> Result<u64, Refused> {
        let Some(text) = self.text(name) else {
            return Ok(0);
        };
        let t = text.trim();
        if t.is_empty() {
            return Ok(0);
        }
        // Some exports write whole numbers as decimals ("12.0").
        t.parse::<u64>()
            .ok()
            .or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .map(|x| x.round() as u64)
            })
            .ok_or_else(|| {
                Refused::at(
                    &self.file.name,
                    self.line,
                    Some(name),
                    format!("{t:?} is not a whole number"),
                )
            })
    }

    /// Column `name` as a date (`2024-03-01`, also with a time after it).
    pub fn date(&self, name: &str) -> Result<NaiveDate, Refused> {
        let t = self.text(name).unwrap_or("").trim();
        let day = t.get(..10).unwrap_or(t);
        if let Some(d) = plain_date(day.as_bytes()) {
            return Ok(d);
        }
        NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| {
            Refused::at(
                &self.file.name,
                self.line,
                Some(name),
                format!("{t:?} is not a date such as 2024-03-01"),
            )
        })
    }
}

impl Row<'_> {
    /// The refusal of this row's column `name`.
    pub fn refused(&self, name: &str, message: String) -> Refused {
        Refused::at(&self.file.name, self.line, Some(name), message)
    }

    /// Column `name` as an instant, Unix ms: RFC 3339 (`2024-03-01T10:00:00Z`), or a date and
    /// time without a zone (`2024-03-01 10:00:00`, fractions allowed) taken in `zone`.
    pub fn instant(&self, name: &str, zone: chrono_tz::Tz) -> Result<i64, Refused> {
        let t = self.text(name).unwrap_or("").trim();
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) {
            return Ok(at.timestamp_millis());
        }
        let local = [
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        });
        local
            .and_then(|l| l.and_local_timezone(zone).earliest())
            .map(|at| at.timestamp_millis())
            .ok_or_else(|| {
                Refused::at(
                    &self.file.name,
                    self.line,
                    Some(name),
                    format!("{t:?} is not a time such as 2024-03-01T10:00:00Z"),
                )
            })
    }
}

/// `2024-03-01` read without a format string (an export has a date on each of millions of rows).
fn plain_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// Whether header field `h` names column `name`; GoatCounter's first field carries the export's
/// version before its name (`2,Path`).
fn names_column(h: &str, name: &str) -> bool {
    h == name
        || h.split_once(',').is_some_and(|(version, rest)| {
            rest == name && version.bytes().all(|b| b.is_ascii_digit())
        })
}

/// Calls `each` with every data row of `file`, its columns `names` found by header (those in
/// `required` must be there).
pub fn rows(
    file: &CsvFile,
    names: &[&'static str],
    required: &[&'static str],
    mut each: impl FnMut(&Row<'_>) -> Result<(), Refused>,
) -> Result<(), Refused> {
    let columns: Vec<Option<usize>> = names
        .iter()
        .map(|n| file.header.iter().position(|h| names_column(h, n)))
        .collect();
    for r in required {
        if !file.header.iter().any(|h| names_column(h, r)) {
            return Err(Refused::at(
                &file.name,
                1,
                Some(r),
                format!("the header lacks the column {r:?}"),
            ));
        }
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(&file.bytes[..]);
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(Refused::at(&file.name, line, None, e.to_string()));
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != file.header.len() {
            return Err(Refused::at(
                &file.name,
                line,
                None,
                format!(
                    "{} fields where the header has {}",
                    record.len(),
                    file.header.len()
                ),
            ));
        }
        let row = Row {
            file,
            columns: &columns,
            names,
            record: std::mem::take(&mut record),
            line,
        };
        each(&row)?;
        record = row.record;
    }
}
