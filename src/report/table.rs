//! Terminal tables (tabled), fitted to the terminal width, numbers right-aligned with separators.

use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Modify, Style, Width};

use super::{change, duration, sanitize, sparkline, Overview, Report, VISITORS_NOTE};
use crate::output::thousands;

fn change_cell(now: f64, before: f64, color: bool, higher_is_better: bool) -> String {
    match change(now, before) {
        None => "-".into(),
        Some(pct) => {
            let text = format!("{pct:+.1}%");
            if !color || pct.abs() < 0.05 {
                return text;
            }
            let good = (pct > 0.0) == higher_is_better;
            format!("\x1b[{}m{text}\x1b[0m", if good { 32 } else { 31 })
        }
    }
}

fn overview_table(
    now: &Overview,
    before: &Overview,
    days: i64,
    color: bool,
    filtered: bool,
) -> String {
    let mut b = Builder::default();
    b.push_record(["", "value", &format!("vs previous {days} days")]);
    let rows: [(&str, String, f64, f64, bool); 6] = [
        (
            "visitors",
            thousands(now.visitors),
            now.visitors as f64,
            before.visitors as f64,
            true,
        ),
        (
            "page views",
            thousands(now.pageviews),
            now.pageviews as f64,
            before.pageviews as f64,
            true,
        ),
        (
            "visits",
            thousands(now.visits),
            now.visits as f64,
            before.visits as f64,
            true,
        ),
        (
            "views per visit",
            format!("{:.2}", now.views_per_visit),
            now.views_per_visit,
            before.views_per_visit,
            true,
        ),
        (
            "bounce rate",
            format!("{:.1}%", now.bounce_rate * 100.0),
            now.bounce_rate,
            before.bounce_rate,
            false,
        ),
        (
            "visit duration",
            duration(now.visit_duration_s),
            now.visit_duration_s,
            before.visit_duration_s,
            true,
        ),
    ];
    for (label, value, a, z, up) in rows {
        b.push_record([label.to_string(), value, change_cell(a, z, color, up)]);
    }
    // Filters select human visits: bots are outside them, not a count of zero.
    if !filtered {
        b.push_record([
            "bot hits (excluded)".to_string(),
            thousands(now.bot_hits),
            String::new(),
        ]);
    }
    b.push_record([
        "page views per day".to_string(),
        sparkline(&now.daily_pageviews),
        String::new(),
    ]);
    let mut t = b.build();
    t.with(Style::psql())
        .with(Modify::new(Columns::new(1..)).with(Alignment::right()));
    t.to_string()
}

/// Renders the report for a terminal `width` columns wide. Keys (and the site) come from logs and
/// are shown through [`sanitize::text`], so no visitor can send the terminal a control sequence.
pub fn render(report: &Report, width: usize, color: bool) -> String {
    let mut out = String::new();
    let days = (report.until - report.from).num_days() + 1;
    let site = sanitize::text(report.site.as_deref().unwrap_or("all sites"));
    out.push_str(&format!(
        "{site}, {} .. {} ({days} days, {} with data)\n",
        report.from, report.until, report.days_with_data
    ));
    if report.days_with_data == 0 {
        out.push_str("no rolled-up data in this range: import logs and run `logtally rollup` (or pick another --period)\n");
        return out;
    }
    if !report.filters.is_empty() {
        let filters: Vec<String> = report
            .filters
            .iter()
            .map(|f| sanitize::text(f).into_owned())
            .collect();
        out.push_str(&format!(
            "filters: {}\nnote: {}\n",
            filters.join(", "),
            super::FILTER_NOTE
        ));
    }
    if days > 1 {
        out.push_str(&format!("note: {VISITORS_NOTE}\n"));
    }
    for i in &report.imported {
        out.push_str(&format!("imported: {}\n", i.describe()));
    }
    if !report.imported.is_empty() {
        let note = if report.filters.is_empty() {
            super::IMPORTED_NOTE
        } else {
            super::FILTERED_IMPORT_NOTE
        };
        out.push_str(&format!("note: {note}\n"));
    }
    if let (Some(now), Some(before)) = (&report.overview, &report.previous) {
        out.push_str("\noverview\n");
        out.push_str(&overview_table(
            now,
            before,
            days,
            color,
            !report.filters.is_empty(),
        ));
        out.push('\n');
    }
    for s in &report.sections {
        out.push_str(&format!("\n{}\n", s.name));
        if let Some(note) = s.note {
            out.push_str(&format!("note: {note}\n"));
        }
        if s.rows.is_empty() {
            out.push_str("  (nothing in this range)\n");
            continue;
        }
        let mut b = Builder::default();
        let mut header = vec![s.key.to_string()];
        header.extend(s.columns.iter().map(|c| c.to_string()));
        header.extend(s.rate.map(str::to_string));
        b.push_record(header);
        for r in &s.rows {
            let mut cells = vec![sanitize::text(&r.key).into_owned()];
            cells.extend(r.values.iter().map(|v| thousands(*v)));
            if s.rate.is_some() {
                cells.push(
                    r.rate
                        .map_or_else(String::new, |x| format!("{:.1}%", x * 100.0)),
                );
            }
            b.push_record(cells);
        }
        let mut t = b.build();
        t.with(Style::psql())
            .with(Modify::new(Columns::new(1..)).with(Alignment::right()));
        t.with(Width::truncate(width.max(40)).suffix("…"));
        out.push_str(&t.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Row, Section};

    #[test]
    fn keys_from_logs_never_reach_the_terminal_raw() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let report = Report {
            site: Some("evil\x1b]0;t\x07.example".into()),
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
                    key: "\x1b]0;HACKED\x07\x1b[2J\u{9b}\u{202e}".into(),
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
        let text = render(&report, 120, false);
        assert!(
            !text.chars().any(|c| c != '\n' && sanitize::is_hostile(c)),
            "{text:?} holds a raw control"
        );
        assert!(
            text.contains("\\x1b]0;HACKED\\x07\\x1b[2J\\u{9b}\\u{202e}"),
            "{text}"
        );
        assert!(text.starts_with("evil\\x1b]0;t\\x07.example, "), "{text}");
    }
}
