//! The terminal view of a live snapshot: visitors now, top pages and sources now, and requests per
//! minute for the last minutes as a sparkline. Site, page and source names come from logs and are
//! shown through [`sanitize::text`], as in `stats`.

use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Modify, Style};

use super::state::{Count, Snapshot};
use crate::output::{thousands, utc_time};
use crate::report::{sanitize, sparkline};

fn list(title: &str, rows: &[Count]) -> String {
    let mut b = Builder::default();
    b.push_record([title, "visitors"]);
    for r in rows {
        b.push_record([sanitize::text(&r.name).into_owned(), thousands(r.visitors)]);
    }
    if rows.is_empty() {
        b.push_record(["(none)".to_string(), String::new()]);
    }
    b.build()
        .with(Style::psql())
        .with(Modify::new(Columns::new(1..)).with(Alignment::right()))
        .to_string()
}

/// Renders a snapshot as text.
pub fn render(snap: &Snapshot) -> String {
    let mut out = String::new();
    let window_min = snap.window_seconds / 60;
    out.push_str(&format!(
        "{} visitors now (seen in the last {} min), at {}\n",
        thousands(snap.visitors),
        window_min,
        utc_time(snap.now)
    ));
    if snap.sites.is_empty() {
        out.push_str("\nno requests in the window yet\n");
    }
    for site in &snap.sites {
        let requests: Vec<u64> = site.per_minute.iter().map(|m| m.requests).collect();
        let last = site.per_minute.last().map_or(0, |m| m.requests);
        out.push_str(&format!(
            "\n{}: {} visitors now, requests per minute (last {} min) {} {} now\n\n",
            sanitize::text(&site.site),
            thousands(site.visitors),
            site.per_minute.len(),
            sparkline(&requests),
            thousands(last),
        ));
        out.push_str(&list("page now", &site.pages));
        out.push_str("\n\n");
        out.push_str(&list("source", &site.sources));
        out.push('\n');
    }
    if snap.flagged_by_rate > 0 {
        out.push_str(&format!(
            "\n{} visitors flagged as bots by their request rate since tail started\n",
            thousands(snap.flagged_by_rate)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::state::{Minute, SiteNow};

    #[test]
    fn shows_visitors_pages_and_rate() {
        let snap = Snapshot {
            now: 1_800_000_000_000,
            window_seconds: 300,
            visitors: 1234,
            flagged_by_rate: 2,
            sites: vec![SiteNow {
                site: "example.com".into(),
                visitors: 1234,
                pages: vec![Count {
                    name: "/blog/post".into(),
                    visitors: 1000,
                }],
                sources: vec![],
                browsers: vec![],
                per_minute: (0..10)
                    .map(|i| Minute {
                        minute: i,
                        requests: i as u64 * 10,
                        pageviews: 0,
                    })
                    .collect(),
            }],
        };
        let text = render(&snap);
        assert!(
            text.starts_with("1,234 visitors now (seen in the last 5 min)"),
            "{text}"
        );
        assert!(text.contains("/blog/post"), "{text}");
        assert!(text.contains("1,000"), "{text}");
        assert!(text.contains("90 now"), "{text}");
        assert!(text.contains("(none)"), "{text}");
        assert!(text.contains("2 visitors flagged"), "{text}");
    }

    #[test]
    fn names_from_logs_are_shown_escaped() {
        let hostile = "\x1b]0;HACKED\x07\x1b[2J\u{9b}\u{202e}";
        let count = |name: &str| Count {
            name: name.into(),
            visitors: 1,
        };
        let snap = Snapshot {
            now: 1_800_000_000_000,
            window_seconds: 300,
            visitors: 1,
            flagged_by_rate: 0,
            sites: vec![SiteNow {
                site: format!("site{hostile}"),
                visitors: 1,
                pages: vec![count(&format!("/{hostile}"))],
                sources: vec![count(hostile)],
                browsers: vec![count(hostile)],
                per_minute: vec![],
            }],
        };
        let text = render(&snap);
        assert!(
            !text.chars().any(|c| c != '\n' && sanitize::is_hostile(c)),
            "{text:?} holds a raw control"
        );
        let shown = "\\x1b]0;HACKED\\x07\\x1b[2J\\u{9b}\\u{202e}";
        assert!(
            text.contains(&format!("site{shown}: 1 visitors now")),
            "{text}"
        );
        assert!(text.contains(&format!("/{shown}")), "{text}");
        assert_eq!(text.matches(shown).count(), 3, "{text}");
    }
}
