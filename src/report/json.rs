//! The report as JSON, for scripts. The shape is stable:
//!
//! ```json
//! {"schema_version": 2, "site": null, "from": "2026-10-01", "until": "2026-10-30", "days": 30, "days_with_data": 30,
//!  "note": "...", "section_notes": {"crawlers": "..."},
//!  "overview": {"visitors": 1, ..., "daily_pageviews": [..]},
//!  "previous": {...}, "sections": {"pages": [{"page": "/", "visitors": 1, "pageviews": 2}], ...}}
//! ```
//! Each section is a list of objects whose keys are the column names of the table. Every key is
//! a snake_case identifier holding one value (section names too: `entry_pages`), a campaign's
//! source and medium are fields of their own, and `"schema_version"` says which shape this is
//! (`docs/report.schema.json`).
//!
//! [`write_pretty`] writes it (and the other JSON that shows text from logs) with every character
//! [`sanitize::is_hostile`] as a `\uXXXX` escape, so JSON shown on a terminal is as safe as a
//! table, and a JSON reader still gets the values exactly.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::{json, Map, Value};

use super::{sanitize, Report, VISITORS_NOTE};

/// serde_json's pretty layout, with the escapes serde_json leaves out: it escapes U+0000..U+001F
/// only, and DEL, C1 controls and bidirectional overrides are valid JSON left raw, which a
/// terminal still acts on (issue #15, case 8).
struct Escaping(PrettyFormatter<'static>);

impl Formatter for Escaping {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(sanitize::is_hostile) {
            w.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().expect("a char at a match");
            // Every hostile character is in the Basic Multilingual Plane: four digits suffice.
            write!(w, "\\u{:04x}", c as u32)?;
            rest = &rest[at + c.len_utf8()..];
        }
        w.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Writes `value` as pretty JSON (as `serde_json::to_writer_pretty` does) with every
/// [`sanitize::is_hostile`] character escaped as `\uXXXX`.
pub fn write_pretty<W: io::Write, T: Serialize + ?Sized>(
    out: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Escaping(PrettyFormatter::new()));
    value.serialize(&mut ser)
}

/// The version of the JSON's shape, carried as `"schema_version"`: raised whenever a key is
/// renamed, removed or changes meaning (adding keys keeps it). `docs/report.schema.json` is its
/// JSON Schema.
pub const SCHEMA_VERSION: u32 = 2;

/// A name as a JSON key: snake_case (`entry-pages` and `entry page` both give `entry_page(s)`).
pub fn key_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// One row of a section as a JSON object: the key (or the values it joins, each under its own
/// name), then the numbers, then the share.
fn row_object(s: &super::Section, r: &super::Row) -> Value {
    let mut o = Map::new();
    if s.name == "hours" {
        // A weekday's 24 hourly counts: one array, as "00".."23" are no identifiers.
        o.insert("weekday".into(), json!(r.key));
        o.insert("pageviews".into(), json!(r.values));
        return Value::Object(o);
    }
    if s.parts.is_empty() || r.parts.len() != s.parts.len() {
        o.insert(key_name(s.key), json!(r.key));
    } else {
        for (name, v) in s.parts.iter().zip(&r.parts) {
            o.insert(key_name(name), json!(v));
        }
    }
    for (c, v) in s.columns.iter().zip(&r.values) {
        o.insert(key_name(c), json!(v));
    }
    if let (Some(c), Some(x)) = (s.rate, r.rate) {
        o.insert(key_name(c), json!(x));
    }
    Value::Object(o)
}

/// `"imported"`: the days read from imported exports, by import, or `null` for none.
fn imported(report: &Report) -> Value {
    if report.imported.is_empty() {
        return Value::Null;
    }
    let imports: Vec<Value> = report
        .imported
        .iter()
        .map(|i| {
            json!({
                "id": i.id,
                "source": i.source,
                "from": i.from.to_string(),
                "until": i.until.to_string(),
                "days": i.days,
                "description": i.describe(),
            })
        })
        .collect();
    json!({
        "days": report.imported.iter().map(|i| i.days).sum::<u64>(),
        "imports": imports,
        "note": if report.filters.is_empty() { super::IMPORTED_NOTE } else { super::FILTERED_IMPORT_NOTE },
    })
}

/// The report as a JSON value.
pub fn render(report: &Report) -> Value {
    let mut sections = Map::new();
    let mut notes = Map::new();
    for s in &report.sections {
        if let Some(note) = s.note {
            notes.insert(key_name(s.name), json!(note));
        }
        let rows: Vec<Value> = s.rows.iter().map(|r| row_object(s, r)).collect();
        sections.insert(key_name(s.name), Value::Array(rows));
    }
    json!({
        "schema_version": SCHEMA_VERSION,
        "site": report.site,
        "from": report.from.to_string(),
        "until": report.until.to_string(),
        "days": (report.until - report.from).num_days() + 1,
        "days_with_data": report.days_with_data,
        "note": VISITORS_NOTE,
        "filters": report.filters,
        "filter_note": (!report.filters.is_empty()).then_some(super::FILTER_NOTE),
        "section_notes": notes,
        "imported": imported(report),
        "overview": report.overview,
        "previous": report.previous,
        "sections": sections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Row, Section};

    #[test]
    fn controls_are_written_as_json_escapes() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let report = Report {
            site: None,
            from: day,
            until: day,
            days_with_data: 1,
            overview: None,
            previous: None,
            sections: vec![Section {
                name: "sources",
                key: "source",
                columns: vec!["visitors"],
                rate: None,
                rows: vec![Row {
                    key: "\x1b]0;HACKED\x07\u{9b}".into(),
                    values: vec![1],
                    rate: None,
                    parts: Vec::new(),
                }],
                note: None,
                parts: &[],
            }],
            filters: Vec::new(),
            imported: Vec::new(),
        };
        let doc = render(&report);
        let text = serde_json::to_string_pretty(&doc).unwrap();
        assert!(!text.contains(['\x1b', '\x07']), "{text:?}");
        assert!(
            text.contains(r#""source": "\u001b]0;HACKED\u0007"#),
            "{text}"
        );
        assert_eq!(
            doc["sections"]["sources"][0]["source"], "\x1b]0;HACKED\x07\u{9b}",
            "the value itself is kept: JSON readers get the real bytes back"
        );

        let mut out = Vec::new();
        write_pretty(&mut out, &doc).unwrap();
        let escaped = String::from_utf8(out).unwrap();
        assert!(
            escaped.contains(r#""source": "\u001b]0;HACKED\u0007\u009b""#),
            "C1 controls escaped too: {escaped}"
        );
        assert_eq!(
            escaped.replace(r"\u009b", "\u{9b}"),
            text,
            "the same layout as serde_json's"
        );
    }

    #[test]
    fn every_hostile_character_is_escaped_and_read_back() {
        let value =
            json!({"k\u{202e}": ["a\u{7f}b\u{85}c\u{202e}d\u{2066}e\u{2028}f\x1bg", 1, null]});
        let mut out = Vec::new();
        write_pretty(&mut out, &value).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.chars().any(|c| c != '\n' && sanitize::is_hostile(c)),
            "{text:?}"
        );
        assert!(
            text.contains(r"a\u007fb\u0085c\u202ed\u2066e\u2028f\u001bg"),
            "{text}"
        );
        assert!(text.contains(r#""k\u202e": ["#), "keys too: {text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
    }
}
