//! The report as one self-contained HTML page (`stats --format html`): styles inline, the chart
//! drawn as SVG here, no script, and a Content-Security-Policy that lets the page fetch nothing
//! at all, so it can be mailed or published as it is. Text from logs goes through maud, which
//! escapes everything it is given unless told otherwise (only the fixed style sheet is), and
//! through [`sanitize`] for control characters. Every number carries its exact value in
//! `data-value`, the same as `--format json` gives, for scripts and tests.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::{change, duration, sanitize, Overview, Report, Section, FILTER_NOTE, VISITORS_NOTE};
use crate::output::thousands;

/// Allows inline styles and nothing else: no script, no font, no image but inline SVG, no request.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1d2129; --muted: #5f6673; --bg: #ffffff; --card: #f4f6f8;
  --line: #d8dde3; --bar: #2f6fdb; --up: #1a7f37; --down: #c0362c; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ee; --muted: #9aa3ae; --bg: #15181c;
  --card: #1f2328; --line: #343a41; --bar: #6aa1ff; --up: #4ac26b; --down: #ff7b72; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 1rem; font: 15px/1.45 system-ui, sans-serif;
  color: var(--fg); background: var(--bg); }
h1 { font-size: 1.3rem; margin: 0 0 .25rem; } h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
.muted, .note { color: var(--muted); font-size: .9rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: .6rem; }
.card { background: var(--card); border-radius: 8px; padding: .6rem .8rem; }
.card .value { font-size: 1.4rem; font-weight: 600; }
.up { color: var(--up); } .down { color: var(--down); }
.chips { display: flex; flex-wrap: wrap; gap: .4rem; margin: .4rem 0; }
.chip { background: var(--card); border: 1px solid var(--line); border-radius: 999px; padding: .1rem .6rem; }
svg.chart { width: 100%; height: auto; } svg.chart rect { fill: var(--bar); }
svg.chart text { fill: var(--muted); font-size: 11px; }
.sections { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 0 1.5rem; }
table { width: 100%; border-collapse: collapse; }
th, td { padding: .25rem .4rem; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; overflow-wrap: anywhere; }
.wide { grid-column: 1 / -1; overflow-x: auto; }
.grid td { text-align: center; font-size: .8rem; }
a { color: inherit; } a:focus-visible, button:focus-visible, select:focus-visible, input:focus-visible { outline: 2px solid var(--bar); }
.picker { display: inline-flex; flex-wrap: wrap; gap: .3rem; margin: .3rem 1rem .3rem 0; align-items: center; }
"#;

fn num(n: u64) -> Markup {
    html! { span.num data-value=(n) { (thousands(n)) } }
}

fn change_badge(now: f64, before: f64, higher_is_better: bool) -> Markup {
    match change(now, before) {
        None => html! { span.muted { "no earlier data" } },
        Some(pct) => {
            let good = (pct > 0.0) == higher_is_better;
            let class = if pct.abs() < 0.05 {
                "muted"
            } else if good {
                "up"
            } else {
                "down"
            };
            html! { span class=(class) data-change=(format!("{pct:.4}")) { (format!("{pct:+.1}%")) " vs previous period" } }
        }
    }
}

fn cards(now: &Overview, before: &Overview) -> Markup {
    let cards: [(&str, &str, Markup, f64, f64, bool); 6] = [
        (
            "visitors",
            "Visitors",
            num(now.visitors),
            now.visitors as f64,
            before.visitors as f64,
            true,
        ),
        (
            "pageviews",
            "Page views",
            num(now.pageviews),
            now.pageviews as f64,
            before.pageviews as f64,
            true,
        ),
        (
            "visits",
            "Visits",
            num(now.visits),
            now.visits as f64,
            before.visits as f64,
            true,
        ),
        (
            "views_per_visit",
            "Views per visit",
            html! { span data-value=(now.views_per_visit) { (format!("{:.2}", now.views_per_visit)) } },
            now.views_per_visit,
            before.views_per_visit,
            true,
        ),
        (
            "bounce_rate",
            "Bounce rate",
            html! { span data-value=(now.bounce_rate) { (format!("{:.1}%", now.bounce_rate * 100.0)) } },
            now.bounce_rate,
            before.bounce_rate,
            false,
        ),
        (
            "visit_duration_s",
            "Visit duration",
            html! { span data-value=(now.visit_duration_s) { (duration(now.visit_duration_s)) } },
            now.visit_duration_s,
            before.visit_duration_s,
            true,
        ),
    ];
    html! {
        div.cards {
            @for (id, label, value, a, b, up) in cards {
                div.card id=(format!("overview-{id}")) {
                    div.muted { (label) }
                    div.value { (value) }
                    div { (change_badge(a, b, up)) }
                }
            }
        }
    }
}

/// Bars of page views per day, drawn here.
fn chart(report: &Report, o: &Overview) -> Markup {
    let values = &o.daily_pageviews;
    let (w, h, pad) = (1000.0, 180.0, 20.0);
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = (w - 2.0 * pad) / values.len().max(1) as f64;
    let label = format!(
        "Page views per day, {} to {}, highest {}",
        report.from,
        report.until,
        thousands(max as u64)
    );
    html! {
        svg.chart viewBox=(format!("0 0 {w} {}", h + 24.0)) role="img" aria-label=(label) {
            title { (label) }
            @for (i, v) in values.iter().enumerate() {
                @let bar = (*v as f64 / max) * (h - pad);
                rect x=(format!("{:.1}", pad + i as f64 * step + step * 0.1))
                    y=(format!("{:.1}", h - bar)) width=(format!("{:.1}", (step * 0.8).max(1.0)))
                    height=(format!("{:.1}", bar)) data-day=(i) data-value=(v) {
                    title { (report.from + chrono::Duration::days(i as i64)) ": " (thousands(*v)) " page views" }
                }
            }
            text x=(pad) y=(h + 18.0) { (report.from) }
            text x=(w - pad) y=(h + 18.0) text-anchor="end" { (report.until) }
        }
    }
}

fn section_table(s: &Section, nav: Option<&Nav>) -> Markup {
    let link = |key: &str| nav.and_then(|n| n.add_filter(s.name, key));
    let grid = s.name == "hours";
    let max = s
        .rows
        .iter()
        .flat_map(|r| r.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    html! {
        section class=(if grid { "wide" } else { "" }) id=(format!("section-{}", s.name)) {
            h2 { (s.name) }
            @if let Some(note) = s.note { p.note { (note) } }
            @if s.rows.is_empty() {
                p.muted { "nothing in this range" }
            } @else {
                table class=(if grid { "grid" } else { "" }) {
                    thead { tr {
                        th scope="col" { (s.key) }
                        @for c in &s.columns { th scope="col" { (c) } }
                        @if let Some(rate) = s.rate { th scope="col" { (rate) } }
                    } }
                    tbody {
                        @for r in &s.rows {
                            tr data-key=(sanitize::text(&r.key)) {
                                td {
                                    @if let Some((href, filter)) = link(&r.key) {
                                        a href=(href) data-filter-add=(filter) title=(format!("only {filter}")) { (sanitize::text(&r.key)) }
                                    } @else {
                                        (sanitize::text(&r.key))
                                    }
                                }
                                @for v in &r.values {
                                    @if grid {
                                        td data-value=(v) style=(format!("background: color-mix(in srgb, var(--bar) {}%, transparent)", v * 85 / max)) { (v) }
                                    } @else {
                                        td { (num(*v)) }
                                    }
                                }
                                @if s.rate.is_some() {
                                    td data-value=(r.rate.unwrap_or(0.0)) { (format!("{:.1}%", r.rate.unwrap_or(0.0) * 100.0)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The page.
pub fn render(report: &Report) -> String {
    render_page(report, None)
}

/// Who is on the site now: visitors, and the pages they are on with how many.
pub type Now = (u64, Vec<(String, u64)>);

/// What makes the report a dashboard: the view's query (the same words as the command line),
/// from which each key links to itself as a filter, each filter to its removal, and the period
/// picker to other periods; and the "now" panel.
#[derive(Clone, Debug, Default)]
pub struct Nav {
    /// `period`, `since`, `until`, `site` of the view (in order, as given).
    pub view: Vec<(String, String)>,
    /// The filters of the view (`KEY=VALUE`), in order.
    pub filters: Vec<String>,
    /// The period picked (`7d`), or `None` for `since`/`until`.
    pub period: Option<String>,
    /// The periods the picker offers, in order.
    pub periods: &'static [&'static str],
    /// Who is on the site now, or why that is not known.
    pub now: Option<Result<Now, String>>,
}

/// Percent-encodes a query value.
fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b'*' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Nav {
    fn href(&self, filters: &[String]) -> String {
        let parts: Vec<String> = self
            .view
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .chain(filters.iter().map(|f| format!("filter={}", encode(f))))
            .collect();
        format!("?{}", parts.join("&"))
    }

    /// The link adding `key` of section `section` as a filter, and the filter.
    fn add_filter(&self, section: &str, key: &str) -> Option<(String, String)> {
        let name = super::catalogue::described(section)?.filter?;
        if key == crate::rollup::bound::OTHER || key.contains('*') {
            return None;
        }
        let filter = format!("{name}={key}");
        let mut filters = self.filters.clone();
        if !filters.contains(&filter) {
            filters.push(filter.clone());
        }
        Some((self.href(&filters), filter))
    }

    fn remove_filter(&self, i: usize) -> String {
        let mut filters = self.filters.clone();
        filters.remove(i);
        self.href(&filters)
    }
}

fn picker(nav: &Nav, report: &Report) -> Markup {
    html! {
        form.picker method="get" action="" aria-label="period" {
            @for (k, v) in nav.view.iter().filter(|(k, _)| k == "site") {
                input type="hidden" name=(k) value=(v);
            }
            @for f in &nav.filters { input type="hidden" name="filter" value=(f); }
            label { "Period "
                select name="period" {
                    @for p in nav.periods {
                        option value=(p) selected[nav.period.as_deref() == Some(*p)] { (p) }
                    }
                }
            }
            " "
            button type="submit" { "Show" }
        }
        form.picker method="get" action="" aria-label="custom range" {
            @for (k, v) in nav.view.iter().filter(|(k, _)| k == "site") {
                input type="hidden" name=(k) value=(v);
            }
            @for f in &nav.filters { input type="hidden" name="filter" value=(f); }
            label { "From " input type="date" name="since" value=(report.from) required; }
            " "
            label { "to " input type="date" name="until" value=(report.until) required; }
            " "
            button type="submit" { "Show range" }
        }
    }
}

fn now_panel(now: &Result<Now, String>) -> Markup {
    html! {
        section id="section-now" {
            h2 { "now" }
            @match now {
                Ok((visitors, pages)) => {
                    p { span.num data-value=(visitors) { (thousands(*visitors)) } " visitors on the site now" }
                    @if !pages.is_empty() {
                        table { tbody {
                            @for (page, n) in pages { tr { td { (sanitize::text(page)) } td { (num(*n)) } } }
                        } }
                    }
                }
                Err(why) => p.muted { (why) },
            }
        }
    }
}

/// The page, as a dashboard when `nav` is given.
pub fn render_page(report: &Report, nav: Option<&Nav>) -> String {
    let site = sanitize::text(report.site.as_deref().unwrap_or("all sites")).into_owned();
    let days = (report.until - report.from).num_days() + 1;
    let title = format!("{site}: {} to {}", report.from, report.until);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if nav.is_none() {
                    meta http-equiv="Content-Security-Policy" content=(CONTENT_SECURITY_POLICY);
                }
                meta name="referrer" content="no-referrer";
                title { "logtally: " (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { (site) }
                    p.muted { (report.from) " to " (report.until) " (" (days) " days, "
                        (report.days_with_data) " with data)" }
                    @if let Some(nav) = nav { (picker(nav, report)) }
                    @if !report.filters.is_empty() {
                        div.chips aria-label="filters" {
                            @for (i, f) in report.filters.iter().enumerate() {
                                span.chip data-filter=(sanitize::text(f)) {
                                    (sanitize::text(f))
                                    @if let Some(nav) = nav {
                                        " " a href=(nav.remove_filter(i)) data-filter-remove=(f) aria-label=(format!("remove {f}")) { "×" }
                                    }
                                }
                            }
                        }
                        p.note { (FILTER_NOTE) }
                    }
                }
                main {
                    @if let Some(now) = nav.and_then(|n| n.now.as_ref()) { (now_panel(now)) }
                    @if report.days_with_data == 0 {
                        p { "No data in this range." }
                    }
                    @if let (Some(now), Some(before)) = (&report.overview, &report.previous) {
                        section id="section-overview" {
                            h2 { "overview" }
                            (cards(now, before))
                            (chart(report, now))
                            @if days > 1 { p.note { (VISITORS_NOTE) } }
                            @for i in &report.imported { p.note.imported { (i.describe()) } }
                            @if !report.imported.is_empty() {
                                p.note {
                                    (if report.filters.is_empty() { super::IMPORTED_NOTE } else { super::FILTERED_IMPORT_NOTE })
                                }
                            }
                        }
                    }
                    div.sections {
                        @for s in &report.sections { (section_table(s, nav)) }
                    }
                }
                footer { p.muted { "Made by logtally from the server's access logs: no script, no cookie, nothing fetched from elsewhere." } }
            }
        }
    };
    page.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Row;

    fn report() -> Report {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        Report {
            site: Some("<b>site</b>".into()),
            from: day,
            until: day + chrono::Duration::days(2),
            days_with_data: 3,
            overview: Some(Overview {
                visitors: 1234,
                pageviews: 5000,
                daily_pageviews: vec![1, 0, 4999],
                ..Default::default()
            }),
            previous: Some(Overview::default()),
            sections: vec![Section {
                name: "pages",
                key: "page",
                columns: vec!["visitors", "pageviews"],
                rate: None,
                rows: vec![Row {
                    key: "/<script>alert(1)</script>\u{1b}[2J".into(),
                    values: vec![7, 9],
                    rate: None,
                    parts: Vec::new(),
                }],
                note: None,
                parts: &[],
            }],
            filters: vec!["source=\"x\"".into()],
            imported: Vec::new(),
        }
    }

    #[test]
    fn text_from_logs_is_escaped_and_nothing_is_fetched() {
        let page = render(&report());
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[2J"));
        assert!(page.contains("&lt;b&gt;site&lt;/b&gt;"));
        assert!(!page.contains('\u{1b}'));
        assert!(page.contains(CONTENT_SECURITY_POLICY));
        for scheme in ["http:", "https:", "//"] {
            assert!(
                !page.contains(&format!("src=\"{scheme}"))
                    && !page.contains(&format!("href=\"{scheme}")),
                "{scheme}"
            );
        }
    }

    #[test]
    fn numbers_carry_their_exact_values() {
        let page = render(&report());
        assert!(page.contains("data-value=\"1234\">1,234<"));
        assert!(page.contains("data-value=\"4999\""), "the chart's bars");
        assert!(page.contains("data-filter=\"source=&quot;x&quot;\""));
    }
}
