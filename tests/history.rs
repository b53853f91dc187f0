//! `import-history` end to end: a Plausible export made here (its CSV files, zipped as
//! Plausible ships them) imported beside logs that cover its last days. The days before the logs
//! read exactly as the export's rows, the days the logs cover read as the logs, twice is once,
//! `remove` restores the database's figures, and a bad file is refused with its line.

mod common;

use common::history::{day, history, keyed, stats, write_zip, DAYS, SECTIONS};
use common::Env;
use serde_json::Value;

/// The export's files: (name, CSV text). Figures of day `i` are simple functions of `i`.
fn plausible_export() -> Vec<(String, String)> {
    let range = "20261001_20261103";
    let mut visitors = String::from("date,visitors,pageviews,bounces,visits,visit_duration\n");
    let mut pages =
        String::from("date,hostname,page,visits,visitors,pageviews,exits,time_on_page\n");
    let mut sources = String::from("date,source,referrer,utm_source,utm_medium,utm_campaign,utm_content,utm_term,pageviews,visitors,visits,visit_duration,bounces\n");
    let mut entry =
        String::from("date,entry_page,visitors,entrances,visit_duration,bounces,pageviews\n");
    let mut exit = String::from("date,exit_page,visitors,visit_duration,exits,bounces,pageviews\n");
    let mut browsers = String::from(
        "date,browser,browser_version,visitors,visits,visit_duration,bounces,pageviews\n",
    );
    let mut os = String::from("date,operating_system,operating_system_version,visitors,visits,visit_duration,bounces,pageviews\n");
    let mut devices =
        String::from("date,device,visitors,visits,visit_duration,bounces,pageviews\n");
    let mut locations =
        String::from("date,country,region,city,visitors,visits,visit_duration,bounces,pageviews\n");
    let mut events = String::from("date,name,link_url,path,visitors,events\n");
    for i in 0..DAYS {
        let d = day(i);
        let (v, pv, vis) = (10 + i, 30 + 2 * i, 12 + i);
        visitors.push_str(&format!("{d},{v},{pv},4,{vis},{}\n", 600 + i));
        pages.push_str(&format!(
            "{d},example.com,/,{},{},{},3,100\n",
            8 + i,
            7 + i,
            20 + i
        ));
        pages.push_str(&format!("{d},example.com,/pricing,5,4,{},2,50\n", 10 + i));
        sources.push_str(&format!(
            "{d},Google,google.com,,,,,,{},{},{},100,1\n",
            9 + i,
            5 + i,
            6 + i
        ));
        sources.push_str(&format!("{d},,,,,,,,{},5,6,100,3\n", 21 + i));
        entry.push_str(&format!("{d},/,{},{},500,4,{}\n", 9 + i, 12 + i, pv));
        exit.push_str(&format!("{d},/pricing,{v},500,{vis},4,{pv}\n"));
        browsers.push_str(&format!(
            "{d},Chrome,120,{},{},100,2,{}\n",
            6 + i,
            7 + i,
            20 + i
        ));
        browsers.push_str(&format!("{d},Chrome,121,1,1,100,0,2\n"));
        browsers.push_str(&format!("{d},Firefox,140,3,4,100,2,{}\n", 8 + i));
        os.push_str(&format!(
            "{d},Mac,14,{},{},100,2,{}\n",
            4 + i,
            5 + i,
            12 + i
        ));
        os.push_str(&format!("{d},GNU/Linux,,6,7,100,2,{}\n", 18 + i));
        devices.push_str(&format!("{d},Desktop,{v},{vis},100,4,{pv}\n"));
        locations.push_str(&format!(
            "{d},DE,DE-BE,2950159,{},{},100,2,{}\n",
            3 + i,
            4 + i,
            10 + i
        ));
        locations.push_str(&format!("{d},US,US-CA,0,7,8,100,2,{}\n", 20 + i));
        events.push_str(&format!("{d},Signup,,/signup,2,2\n"));
    }
    [
        ("imported_visitors", visitors),
        ("imported_pages", pages),
        ("imported_sources", sources),
        ("imported_entry_pages", entry),
        ("imported_exit_pages", exit),
        ("imported_browsers", browsers),
        ("imported_operating_systems", os),
        ("imported_devices", devices),
        ("imported_locations", locations),
        ("imported_custom_events", events),
    ]
    .into_iter()
    .map(|(n, t)| (format!("{n}_{range}.csv"), t))
    .collect()
}

#[test]
fn a_plausible_export_fills_the_days_before_the_logs_and_the_logs_win_the_rest() {
    let env = Env::new();
    let people = env.write("people.log", common::three_days_of_people(6, "/blog/h"));
    env.import_and_rollup(&people, &["--site", "example.com"]);
    let before_days = ["--since", "2026-10-01", "--until", "2026-11-01"];
    let log_days = ["--since", "2026-11-02", "--until", "2026-11-04"];
    let all = ["--since", "2026-10-01", "--until", "2026-11-04"];
    let logs_only = stats(&env, &[&log_days[..], &SECTIONS[..]].concat());
    let everything_before = stats(&env, &[&all[..], &SECTIONS[..]].concat());
    assert_eq!(everything_before["imported"], Value::Null);

    let files = plausible_export();
    let zip = write_zip(&env, "plausible.zip", &files);
    history(&env, &[zip.to_str().unwrap()])
        .success()
        .stdout(predicates::str::contains("import #1"));

    // Every day before the logs is the export's rows, exactly.
    let before = stats(&env, &[&before_days[..], &SECTIONS[..]].concat());
    let n = 31; // 2026-10-01 .. 2026-10-31, then 2026-11-01
    let sum = |f: &dyn Fn(i64) -> i64| (0..=n).map(f).sum::<i64>() as u64;
    assert_eq!(before["overview"]["visitors"], sum(&|i| 10 + i), "{before}");
    assert_eq!(before["overview"]["pageviews"], sum(&|i| 30 + 2 * i));
    assert_eq!(before["overview"]["visits"], sum(&|i| 12 + i));
    assert_eq!(before["days_with_data"], 32);
    let daily: Vec<u64> = (0..=n).map(|i| (30 + 2 * i) as u64).collect();
    assert_eq!(
        before["overview"]["daily_pageviews"],
        serde_json::json!(daily)
    );
    let duration = sum(&|i| 600 + i) as f64 / sum(&|i| 12 + i) as f64;
    assert!((before["overview"]["visit_duration_s"].as_f64().unwrap() - duration).abs() < 1e-9);
    assert_eq!(
        keyed(&before, "pages", "page", "pageviews"),
        vec![
            ("/".into(), sum(&|i| 20 + i)),
            ("/pricing".into(), sum(&|i| 10 + i))
        ]
    );
    assert_eq!(
        keyed(&before, "sources", "source", "visits"),
        vec![
            ("Direct".into(), 6 * 32),
            ("Google".into(), sum(&|i| 6 + i))
        ]
    );
    assert_eq!(
        keyed(&before, "entry_pages", "entry_page", "visits"),
        vec![("/".into(), sum(&|i| 12 + i))]
    );
    assert_eq!(
        keyed(&before, "browsers", "browser", "pageviews"),
        vec![
            ("Chrome".into(), sum(&|i| 22 + i)),
            ("Firefox".into(), sum(&|i| 8 + i))
        ]
    );
    assert_eq!(
        keyed(&before, "os", "os", "pageviews"),
        vec![
            ("Linux".into(), sum(&|i| 18 + i)),
            ("macOS".into(), sum(&|i| 12 + i))
        ]
    );
    assert_eq!(
        keyed(&before, "countries", "country", "visitors"),
        vec![("DE".into(), sum(&|i| 3 + i)), ("US".into(), 7 * 32)]
    );
    assert_eq!(before["imported"]["days"], 32, "{before}");
    assert_eq!(before["imported"]["imports"][0]["source"], "Plausible");
    assert_eq!(before["imported"]["imports"][0]["from"], "2026-10-01");
    assert_eq!(before["imported"]["imports"][0]["until"], "2026-11-01");

    // The days the logs cover read as the logs alone (the export's 11-02 and 11-03 unused).
    let logs_now = stats(&env, &[&log_days[..], &SECTIONS[..]].concat());
    assert_eq!(logs_now["overview"], logs_only["overview"]);
    assert_eq!(logs_now["sections"], logs_only["sections"]);
    assert_eq!(logs_now["imported"], Value::Null);

    // A section the export has nothing of says it covers the log days only; so does a filter.
    let status = stats(&env, &[&all[..], &["status"][..]].concat());
    assert!(
        status["section_notes"]["status"]
            .as_str()
            .unwrap()
            .contains("log days only"),
        "{status}"
    );
    let filtered = stats(
        &env,
        &[&all[..], &["--filter", "page=/pricing", "overview"][..]].concat(),
    );
    assert!(filtered["imported"]["note"]
        .as_str()
        .unwrap()
        .contains("log days only"));
    assert_eq!(
        filtered["overview"]["pageviews"],
        stats(
            &env,
            &[
                &log_days[..],
                &["--filter", "page=/pricing", "overview"][..]
            ]
            .concat()
        )["overview"]["pageviews"]
    );
    let table = env
        .cmd()
        .args(["stats", "--tz", "UTC", "--no-refresh", "--db"])
        .arg(env.db())
        .args(all)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&table.get_output().stdout).into_owned();
    assert!(
        text.contains("imported: 1 Oct 2026 - 1 Nov 2026 from a Plausible export (32 days)"),
        "{text}"
    );

    // Twice is once: the same files unzipped, in another order, change nothing.
    let folder = env.path("unzipped");
    std::fs::create_dir(&folder).unwrap();
    for (n, t) in files.iter().rev() {
        std::fs::write(folder.join(n), t).unwrap();
    }
    let whole = stats(&env, &[&all[..], &SECTIONS[..]].concat());
    history(&env, &[folder.to_str().unwrap()])
        .success()
        .stdout(predicates::str::contains(
            "import #1 already; nothing changed",
        ));
    assert_eq!(stats(&env, &[&all[..], &SECTIONS[..]].concat()), whole);

    let mut list = env.cmd();
    list.args(["import-history", "list", "--json", "--db"])
        .arg(env.db());
    let listed = common::json(&mut list, 0);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["source"], "plausible");
    assert_eq!(listed[0]["site"], "example.com");
    assert_eq!(listed[0]["days"], 34);
    assert_eq!(listed[0]["days_used"], 32);
    assert_eq!(listed[0]["zone"], "UTC");
    assert_eq!(listed[0]["digest"].as_str().unwrap().len(), 32);

    // Remove: the database's figures are those before the import.
    history(&env, &["remove", "1"]).success();
    assert_eq!(
        stats(&env, &[&all[..], &SECTIONS[..]].concat()),
        everything_before
    );
    history(&env, &["remove", "1"]).code(2);

    // With --fill-first-day the export's 11-02 replaces the logs' (partial) first day, and
    // 11-03 is still the logs'.
    history(&env, &["--fill-first-day", zip.to_str().unwrap()]).success();
    let first = stats(
        &env,
        &["--since", "2026-11-02", "--until", "2026-11-02", "overview"],
    );
    assert_eq!(first["overview"]["pageviews"], 30 + 2 * 32, "{first}");
    let second = stats(
        &env,
        &["--since", "2026-11-03", "--until", "2026-11-03", "overview"],
    );
    let logs_second = {
        history(&env, &["remove", "2"]).success();
        stats(
            &env,
            &["--since", "2026-11-03", "--until", "2026-11-03", "overview"],
        )
    };
    assert_eq!(second["overview"], logs_second["overview"]);
}

#[test]
fn a_file_it_cannot_read_is_refused_with_its_line_and_column_and_nothing_is_written() {
    let env = Env::new();
    let people = env.write("people.log", common::three_days_of_people(7, "/blog/r"));
    env.import_and_rollup(&people, &["--site", "example.com"]);
    let mut files = plausible_export();
    // Line 12 of the pages file (the header is line 1): a visitors count that is no number.
    let pages = &mut files[1].1;
    let mut lines: Vec<String> = pages.lines().map(str::to_string).collect();
    let mut fields: Vec<&str> = lines[11].split(',').collect();
    fields[4] = "seven";
    lines[11] = fields.join(",");
    *pages = lines.join("\n") + "\n";
    let zip = write_zip(&env, "bad.zip", &files);
    let before = stats(&env, &["--period", "all", "overview", "pages"]);
    history(&env, &[zip.to_str().unwrap()])
        .code(1)
        .stderr(predicates::str::contains(
            "imported_pages_20261001_20261103.csv:12: column visitors: \"seven\" is not a whole number; nothing was written",
        ));
    assert_eq!(
        stats(&env, &["--period", "all", "overview", "pages"]),
        before
    );
    let mut list = env.cmd();
    list.args(["import-history", "list", "--json", "--db"])
        .arg(env.db());
    assert_eq!(common::json(&mut list, 0), serde_json::json!([]));

    // A CSV of no export logtally knows is refused by its header.
    let other = env.write("other.csv", "when,hits\n2026-10-01,3\n");
    history(&env, &[other.to_str().unwrap()])
        .code(1)
        .stderr(predicates::str::contains(
            "other.csv:1: no export logtally knows has this header",
        ));
    // Without --site and without a hostname, a database of two sites is ambiguous.
    let more = env.write("more.log", common::three_days_of_people(8, "/blog/s"));
    env.import_and_rollup(&more, &["--site", "other.org"]);
    let visitors_only = env.write(
        "imported_visitors.csv",
        "date,visitors,pageviews,bounces,visits,visit_duration\n2026-10-01,1,2,0,1,5\n",
    );
    history(&env, &[visitors_only.to_str().unwrap()])
        .code(2)
        .stderr(predicates::str::contains(
            "several (example.com, other.org): give --site NAME",
        ));
}
