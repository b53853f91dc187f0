//! The report as CSV in long form, one number per line, so the columns never change:
//!
//! ```text
//! section,key,metric,value
//! overview,,visitors,1234
//! overview,2026-10-01,pageviews,45
//! pages,/about,visitors,12
//! ```
//! Overview figures have an empty key, its per-day page views the day as key; `previous` rows
//! hold the period before.
//!
//! Keys come from logs, so any visitor chooses them: each is passed through
//! [`sanitize::spreadsheet`] (controls escaped, so a record stays on one line; a leading `=`, `+`,
//! `-`, `@`, tab or CR prefixed with `'`, so no spreadsheet runs it as a formula), then quoted per
//! RFC 4180 when it holds a comma, a double quote or a semicolon (the separator of spreadsheets in
//! many locales, which OWASP's "CSV Injection" names as a way to start a new cell).

use super::{sanitize, Overview, Report};

/// A key from a log as one CSV field.
fn field(s: &str) -> String {
    let s = sanitize::spreadsheet(s);
    if s.contains([',', '"', ';', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

fn overview_lines(out: &mut String, section: &str, o: &Overview, from: chrono::NaiveDate) {
    let figures: [(&str, String); 7] = [
        ("visitors", o.visitors.to_string()),
        ("pageviews", o.pageviews.to_string()),
        ("visits", o.visits.to_string()),
        ("views_per_visit", format!("{:.4}", o.views_per_visit)),
        ("bounce_rate", format!("{:.4}", o.bounce_rate)),
        ("visit_duration_s", format!("{:.1}", o.visit_duration_s)),
        ("bot_hits", o.bot_hits.to_string()),
    ];
    for (m, v) in figures {
        out.push_str(&format!("{section},,{m},{v}\n"));
    }
    for (i, v) in o.daily_pageviews.iter().enumerate() {
        out.push_str(&format!(
            "{section},{},pageviews,{v}\n",
            from + chrono::Duration::days(i as i64)
        ));
    }
}

/// The report as CSV text.
pub fn render(report: &Report) -> String {
    let mut out = String::from("section,key,metric,value\n");
    for (i, f) in report.filters.iter().enumerate() {
        out.push_str(&format!("filter,{},applied,{}\n", field(f), i + 1));
    }
    for i in &report.imported {
        out.push_str(&format!(
            "imported,{},days,{}\n",
            field(&format!("{} {} .. {}", i.source, i.from, i.until)),
            i.days
        ));
    }
    if let Some(o) = &report.overview {
        overview_lines(&mut out, "overview", o, report.from);
    }
    if let Some(p) = &report.previous {
        let len = (report.until - report.from).num_days() + 1;
        overview_lines(
            &mut out,
            "previous",
            p,
            report.from - chrono::Duration::days(len),
        );
    }
    for s in &report.sections {
        for r in &s.rows {
            let key = field(&r.key);
            for (c, v) in s.columns.iter().zip(&r.values) {
                out.push_str(&format!("{},{key},{},{v}\n", s.name, c.replace(' ', "_")));
            }
            if let (Some(c), Some(x)) = (s.rate, r.rate) {
                out.push_str(&format!(
                    "{},{key},{},{x:.6}\n",
                    s.name,
                    c.replace(' ', "_")
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Row, Section};

    #[test]
    fn quoting() {
        assert_eq!(field("/a"), "/a");
        assert_eq!(field("/a,b"), "\"/a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("a;=b"), "\"a;=b\"");
        assert_eq!(field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(field("-2+3,x"), "\"'-2+3,x\"");
        assert_eq!(field("a\r\nb\x1b[2J"), "a\\x0d\\x0ab\\x1b[2J");
    }

    #[test]
    fn one_record_per_line_and_numbers_as_they_are() {
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
                columns: vec!["visitors", "page views"],
                rate: None,
                rows: vec![
                    Row {
                        key: "=HYPERLINK(\"http://x\")\n\x1b]0;t\x07".into(),
                        values: vec![1, 2],
                        rate: None,
                        parts: Vec::new(),
                    },
                    Row {
                        key: "news.ycombinator.com".into(),
                        values: vec![3, 4],
                        rate: None,
                        parts: Vec::new(),
                    },
                ],
                note: None,
                parts: &[],
            }],
            filters: Vec::new(),
            imported: Vec::new(),
        };
        assert_eq!(
            render(&report),
            "section,key,metric,value\n\
             sources,\"'=HYPERLINK(\"\"http://x\"\")\\x0a\\x1b]0;t\\x07\",visitors,1\n\
             sources,\"'=HYPERLINK(\"\"http://x\"\")\\x0a\\x1b]0;t\\x07\",page_views,2\n\
             sources,news.ycombinator.com,visitors,3\n\
             sources,news.ycombinator.com,page_views,4\n"
        );
    }
}
