//! `stats --format html`: one self-contained page, opened in a real headless browser (Debian's
//! chromium, which CI installs): its figures are those of `--format json`, it fetches nothing,
//! and a screenshot is kept under `target/screenshots/` (a CI artifact, not compared).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Env;

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(name).output() {
            if out.status.success() {
                return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            }
        }
    }
    panic!("these tests need a headless browser: apt-get install chromium (CI installs it)");
}

/// Runs headless chromium on `page` with `args`; returns stdout.
fn browse(page: &Path, args: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The `data-value` of the element with `id`'s first `.num` or value span.
fn card_value(dom: &str, id: &str) -> String {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} in page"));
    let rest = &dom[at..];
    let v = rest.find("data-value=\"").unwrap() + "data-value=\"".len();
    rest[v..v + rest[v..].find('"').unwrap()].to_string()
}

#[test]
fn the_html_report_in_a_browser_shows_the_json_figures_and_fetches_nothing() {
    let env = Env::new();
    let log = env.write(
        "access.log",
        common::three_days_of_people(5, "/blog/<b>x</b>"),
    );
    env.import_and_rollup(&log, &[]);
    let args = [
        "stats",
        "--tz",
        "UTC",
        "--since",
        "2026-11-02",
        "--until",
        "2026-11-04",
        "--goal",
        "Pricing=/pricing",
        "overview",
        "pages",
        "sources",
        "goals",
        "hours",
    ];
    let json = common::json(
        env.cmd()
            .args(args)
            .args(["--format", "json", "--db"])
            .arg(env.db()),
        0,
    );
    let out = env
        .cmd()
        .args(args)
        .args(["--format", "html", "--db"])
        .arg(env.db())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = env.write("report.html", &out.stdout);

    let dom = browse(&page, &["--dump-dom"]);
    assert!(
        dom.contains("Content-Security-Policy"),
        "the policy is in force"
    );
    for key in ["visitors", "pageviews", "visits"] {
        assert_eq!(
            card_value(&dom, &format!("overview-{key}")),
            json["overview"][key].to_string(),
            "{key}"
        );
    }
    for row in json["sections"]["pages"].as_array().unwrap() {
        let key = row["page"].as_str().unwrap();
        let escaped = key
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let at = dom
            .find(&format!("data-key=\"{escaped}\""))
            .unwrap_or_else(|| panic!("{key}"));
        let cells = &dom[at..at + dom[at..].find("</tr>").unwrap()];
        for col in ["visitors", "pageviews"] {
            assert!(
                cells.contains(&format!("data-value=\"{}\"", row[col])),
                "{key} {col}: {cells}"
            );
        }
    }
    assert!(!dom.contains("<b>x</b>"), "a path is text, never markup");
    let goal = &json["sections"]["goals"][0];
    assert!(dom.contains(&format!("data-value=\"{}\"", goal["conversion"])));
    // Nothing in the page names anything outside it.
    for attr in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "url(http",
        "@import",
    ] {
        assert!(!dom.contains(attr), "{attr}");
    }

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("report.png");
    browse(
        &page,
        &[
            "--window-size=1200,1600",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a screenshot of the page"
    );
}
