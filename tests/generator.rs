//! The log generator the speed benches and accuracy tests use: the same seed gives the same
//! bytes, lines parse and come in time order, and every class of client shows up.

mod common;

use common::genlog::{generate, generate_to_vec, Config, GenFormat};
use logtally::parse::{Format, FormatChoice};

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let cfg = Config {
        lines: 2_000,
        ..Default::default()
    };
    assert_eq!(generate_to_vec(&cfg), generate_to_vec(&cfg));
    assert_ne!(
        generate_to_vec(&cfg),
        generate_to_vec(&Config { seed: 2, ..cfg })
    );
}

#[test]
fn lines_parse_are_ordered_and_about_a_third_are_bots() {
    for format in [GenFormat::Combined, GenFormat::Caddy] {
        let cfg = Config {
            lines: 20_000,
            format,
            ..Default::default()
        };
        let mut out = Vec::new();
        let mut truth = Vec::new();
        generate(&cfg, &mut out, Some(&mut truth)).unwrap();
        let labels: Vec<&str> = std::str::from_utf8(&truth).unwrap().lines().collect();
        assert_eq!(labels.len(), 20_000);
        let bots = labels.iter().filter(|l| l.starts_with("bot")).count() as f64 / 20_000.0;
        assert!((0.25..0.42).contains(&bots), "bot share {bots}");
        let fixed = if format == GenFormat::Caddy {
            Format::Caddy
        } else {
            Format::Combined
        };
        let scan = logtally::parse::scan::scan(&out[..], &FormatChoice::Auto).unwrap();
        assert_eq!(scan.format, fixed);
        let garbage = labels.iter().filter(|l| **l == "garbage").count() as u64;
        assert_eq!(
            (scan.tally.rejected, scan.tally.parsed),
            (garbage, 20_000 - garbage)
        );
        let mut last = i64::MIN;
        for line in out.split(|c| *c == b'\n').filter(|l| !l.is_empty()) {
            if let Ok(h) = fixed.parse(line) {
                assert!(h.ts_ms >= last, "time order");
                last = h.ts_ms;
            }
        }
        let days =
            (scan.tally.last_ts.unwrap() - scan.tally.first_ts.unwrap()) as f64 / 86_400_000.0;
        assert!((20.0..40.0).contains(&days), "spans about 30 days: {days}");
    }
}

mod model {
    use super::common::genlog::model::{generate_labelled, Config};

    #[test]
    fn the_same_seed_writes_the_same_log_with_one_truth_per_line() {
        let cfg = Config {
            lines: 20_000,
            days: 3,
            ..Config::default()
        };
        let (a, ta) = generate_labelled(&cfg);
        let (b, _) = generate_labelled(&cfg);
        assert_eq!(a, b);
        assert_eq!(ta.len(), 20_000);
        assert_eq!(a.iter().filter(|c| **c == b'\n').count(), 20_000);
    }

    #[test]
    fn lines_are_in_time_order_and_every_class_shows_up() {
        let cfg = Config {
            lines: 60_000,
            days: 2,
            ..Config::default()
        };
        let (log, truth) = generate_labelled(&cfg);
        let mut last = 0i64;
        for line in log.split(|c| *c == b'\n').filter(|l| !l.is_empty()) {
            let hit = logtally::parse::Format::Combined
                .parse(line)
                .expect("every line parses");
            assert!(hit.ts_ms >= last, "time order");
            last = hit.ts_ms;
        }
        let classes: std::collections::BTreeSet<&str> = truth.iter().map(|t| t.class).collect();
        for c in [
            "person",
            "owner",
            "search-crawler",
            "ai-crawler",
            "seo-crawler",
            "feed-reader",
            "social-preview",
            "scraper",
            "scraper-spread",
            "scraper-rotating",
            "referrer-spam",
            "monitor",
            "headless",
            "scanner",
            "http-client",
        ] {
            assert!(classes.contains(c), "{c} missing");
        }
        let people = truth.iter().filter(|t| t.human).count() as f64 / truth.len() as f64;
        assert!(
            (0.25..0.75).contains(&people),
            "share of human lines {people}"
        );
        assert!(truth.iter().all(|t| t.human || !t.pageview));
    }
}
