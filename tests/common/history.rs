//! Helpers of the `import-history` tests: exports written as a service ships them, and the
//! reports read back.

use std::io::Write;

use chrono::NaiveDate;
use serde_json::Value;

use super::Env;

/// The first day of the tests' exports; their last is 2026-11-03, two days into the logs
/// (2026-11-02..04, `three_days_of_people`).
pub const FIRST: (i32, u32, u32) = (2026, 10, 1);
/// Days of the tests' exports.
pub const DAYS: i64 = 34;

/// Day `i` of the tests' exports.
pub fn day(i: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(FIRST.0, FIRST.1, FIRST.2).unwrap() + chrono::Duration::days(i)
}

/// The sections an export can carry.
pub const SECTIONS: [&str; 8] = [
    "overview",
    "pages",
    "entry-pages",
    "sources",
    "browsers",
    "os",
    "devices",
    "countries",
];

/// `files` zipped into `name` in the test's folder.
pub fn write_zip(env: &Env, name: &str, files: &[(String, String)]) -> std::path::PathBuf {
    let path = env.path(name);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for (n, text) in files {
        zip.start_file(n.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    path
}

/// `stats --format json` of the test's database.
pub fn stats(env: &Env, args: &[&str]) -> Value {
    let mut cmd = env.cmd();
    cmd.args([
        "stats",
        "--tz",
        "UTC",
        "--no-refresh",
        "--format",
        "json",
        "--db",
    ])
    .arg(env.db())
    .args(args);
    super::json(&mut cmd, 0)
}

/// `import-history` on the test's database.
pub fn history(env: &Env, args: &[&str]) -> assert_cmd::assert::Assert {
    env.cmd()
        .args(["import-history", "--db"])
        .arg(env.db())
        .args(args)
        .assert()
}

/// Rows of a section as (key, first column) pairs.
pub fn keyed(report: &Value, section: &str, key: &str, column: &str) -> Vec<(String, u64)> {
    let mut rows: Vec<(String, u64)> = report["sections"][section]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[key].as_str().unwrap().to_string(),
                r[column].as_u64().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}
