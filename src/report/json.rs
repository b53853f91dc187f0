//! The report as JSON, for scripts. The shape is stable:
//!
//! ```json
//! {"site": null, "from": "2026-10-01", "until": "2026-10-30", "days": 30, "days_with_data": 30,
//!  "note": "...", "section_notes": {"crawlers": "..."},
//!  "overview": {"visitors": 1, ..., "daily_pageviews": [..]},
//!  "previous": {...}, "sections": {"pages": [{"page": "/", "visitors": 1, "pageviews": 2}], ...}}
//! ```
//! Each section is a list of objects whose keys are the column names of the table.

use serde_json::{json, Map, Value};

use super::{Report, VISITORS_NOTE};

/// The report as a JSON value.
pub fn render(report: &Report) -> Value {
    let mut sections = Map::new();
    let mut notes = Map::new();
    for s in &report.sections {
        if let Some(note) = s.note {
            notes.insert(s.name.to_string(), json!(note));
        }
        let rows: Vec<Value> = s
            .rows
            .iter()
            .map(|r| {
                let mut o = Map::new();
                o.insert(s.key.replace(' ', "_"), json!(r.key));
                for (c, v) in s.columns.iter().zip(&r.values) {
                    o.insert(c.replace(' ', "_"), json!(v));
                }
                Value::Object(o)
            })
            .collect();
        sections.insert(s.name.to_string(), Value::Array(rows));
    }
    json!({
        "site": report.site,
        "from": report.from.to_string(),
        "until": report.until.to_string(),
        "days": (report.until - report.from).num_days() + 1,
        "days_with_data": report.days_with_data,
        "note": VISITORS_NOTE,
        "section_notes": notes,
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
                rows: vec![Row {
                    key: "\x1b]0;HACKED\x07\u{9b}".into(),
                    values: vec![1],
                }],
                note: None,
            }],
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
    }
}
