//! The report as CSV in long form, one number per line, so the columns never change:
//!
//! ```text
//! section,key,metric,value
//! overview,,visitors,1234
//! overview,2026-10-01,pageviews,45
//! pages,/about,visitors,12
//! ```
//! Overview figures have an empty key, its per-day page views the day as key; `previous` rows
//! hold the period before. Fields are quoted per RFC 4180 when needed.

use super::{Overview, Report};

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
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
            for (c, v) in s.columns.iter().zip(&r.values) {
                out.push_str(&format!(
                    "{},{},{},{v}\n",
                    s.name,
                    field(&r.key),
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

    #[test]
    fn quoting() {
        assert_eq!(field("/a"), "/a");
        assert_eq!(field("/a,b"), "\"/a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
