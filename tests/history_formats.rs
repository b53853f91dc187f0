//! `import-history` of Fathom, GoatCounter and Umami exports made here, each beside logs that
//! cover its last days. Every export holds the same people: on day `i`, `n = 2 + i % 3` readers
//! who view `/` then `/pricing` five minutes later (direct, Firefox on Linux, a desktop, from
//! DE), and one person from Google who views `/` alone (Chrome on Windows, a phone, from the
//! US). GoatCounter and Umami give those page views one by one (with a bot and an event that must
//! not count), replayed through logtally's sessions; Fathom gives them as hourly figures. The
//! days before the logs must read as those people, the days the logs cover as the logs; twice is
//! once; `remove` restores the database; a bad row is refused with its line and column.

mod common;

use common::history::{day, history, keyed, stats, write_zip, DAYS, SECTIONS};
use common::Env;
use serde_json::Value;

fn readers(i: i64) -> i64 {
    2 + i % 3
}

/// One page view: (visitor, path, hour, minute, from Google).
fn views_of(i: i64) -> Vec<(String, &'static str, u32, i64, bool)> {
    let mut out = Vec::new();
    for k in 0..readers(i) {
        out.push((format!("r{i}-{k}"), "/", 10, k, false));
        out.push((format!("r{i}-{k}"), "/pricing", 10, k + 5, false));
    }
    out.push((format!("b{i}"), "/", 12, 0, true));
    out
}

fn goatcounter_export() -> Vec<(String, String)> {
    let mut csv = String::from("\"2,Path\",Title,Event,UserAgent,Browser,System,Session,Bot,Referrer,Referrer scheme,Screen size,Location,FirstVisit,Date\n");
    for i in 0..DAYS {
        let d = day(i);
        for (visitor, path, h, m, google) in views_of(i) {
            let (browser, system, location, referrer, scheme) = if google {
                ("Chrome 131", "Windows 11", "US-CA", "www.google.com/", "h")
            } else {
                ("Firefox 133", "Linux", "DE", "", "")
            };
            csv.push_str(&format!(
                "{path},Page,false,,{browser},{system},{visitor},0,{referrer},{scheme},\"1920,1080,1\",{location},true,{d}T{h:02}:{m:02}:00Z\n"
            ));
        }
        // A bot GoatCounter flagged, and an event: neither is a page view.
        csv.push_str(&format!(
            "/,Page,false,,Chrome 131,Linux,bot{i},3,,,,US,true,{d}T03:00:00Z\n"
        ));
        csv.push_str(&format!(
            "signup,,true,,Firefox 133,Linux,r{i}-0,0,,,,DE,false,{d}T10:07:00Z\n"
        ));
    }
    vec![("goatcounter-export.csv".into(), csv)]
}

fn umami_export() -> Vec<(String, String)> {
    let mut csv = String::from("website_id,session_id,visit_id,event_id,hostname,browser,os,device,screen,language,country,subdivision1,subdivision2,city,url_path,url_query,utm_source,utm_medium,utm_campaign,utm_content,utm_term,referrer_path,referrer_query,referrer_domain,page_title,event_type,event_name,tag,created_at\n");
    for i in 0..DAYS {
        let d = day(i);
        for (n, (visitor, path, h, m, google)) in views_of(i).into_iter().enumerate() {
            let (browser, os, device, country, referrer) = if google {
                ("chrome", "Windows 10", "mobile", "US", "google.com")
            } else {
                ("firefox", "Linux", "desktop", "DE", "")
            };
            csv.push_str(&format!(
                "w1,{visitor},v-{visitor},e{i}-{n},example.com,{browser},{os},{device},1920x1080,en-US,{country},,,,{path},,,,,,,,,{referrer},Page,1,,,{d} {h:02}:{m:02}:00.000\n"
            ));
        }
        csv.push_str(&format!(
            "w1,r{i}-0,v-r{i}-0,x{i},example.com,firefox,Linux,desktop,1920x1080,en-US,DE,,,,/pricing,,,,,,,,,,Page,2,signup,,{d} 10:07:00.000\n"
        ));
    }
    vec![("website_event.csv".into(), csv)]
}

fn fathom_export() -> Vec<(String, String)> {
    let figures = "visits,uniques,pageviews,avg_duration,bounce_rate";
    let mut site = format!("datetime,{figures}\n");
    let mut pages = format!("datetime,hostname,pathname,{figures},entries\n");
    let mut referrers = format!("datetime,referrer_hostname,referrer_pathname,{figures}\n");
    let mut browsers = format!("datetime,browser,{figures}\n");
    let mut systems = format!("datetime,operating_system,{figures}\n");
    let mut devices = format!("datetime,device_type,{figures}\n");
    let mut countries = format!("datetime,country_code,{figures}\n");
    for i in 0..DAYS {
        let (d, n) = (day(i), readers(i));
        let (ten, noon) = (format!("{d} 10:00:00"), format!("{d} 12:00:00"));
        site.push_str(&format!(
            "{ten},{n},{n},{},300,0\n{noon},1,1,1,0,1\n",
            2 * n
        ));
        pages.push_str(&format!(
            "{ten},example.com,/,{n},{n},{n},300,0,{n}\n{ten},example.com,/pricing,0,{n},{n},0,0,0\n{noon},example.com,/,1,1,1,0,1,1\n"
        ));
        referrers.push_str(&format!(
            "{ten},,,{n},{n},{},300,0\n{noon},www.google.com,/,1,1,1,0,1\n",
            2 * n
        ));
        for (file, mine, theirs) in [
            (&mut browsers, "Firefox", "Chrome"),
            (&mut systems, "Linux", "Windows"),
            (&mut devices, "Desktop", "Phone"),
            (&mut countries, "DE", "US"),
        ] {
            file.push_str(&format!(
                "{ten},{mine},{n},{n},{},300,0\n{noon},{theirs},1,1,1,0,1\n",
                2 * n
            ));
        }
    }
    [
        ("Site", site),
        ("Pages", pages),
        ("Referrers", referrers),
        ("Browsers", browsers),
        ("Operating Systems", systems),
        ("Devices", devices),
        ("Countries", countries),
    ]
    .into_iter()
    .map(|(n, t)| (format!("{n}.csv"), t))
    .collect()
}

/// Imports `files` (zipped when `zipped`) beside logs and checks everything the module says.
/// `args`: what the import needs besides (`--tz` for Fathom); `devices`: whether the export
/// has device classes.
fn check(files: Vec<(String, String)>, zipped: bool, args: &[&str], title: &str, devices: bool) {
    let env = Env::new();
    let people = env.write("people.log", common::three_days_of_people(6, "/blog/h"));
    env.import_and_rollup(&people, &["--site", "example.com"]);
    let before_days = ["--since", "2026-10-01", "--until", "2026-11-01"];
    let log_days = ["--since", "2026-11-02", "--until", "2026-11-04"];
    let all = ["--since", "2026-10-01", "--until", "2026-11-04"];
    let logs_only = stats(&env, &[&log_days[..], &SECTIONS[..]].concat());
    let everything_before = stats(&env, &[&all[..], &SECTIONS[..]].concat());

    let export = if zipped {
        write_zip(&env, "export.zip", &files)
    } else {
        env.write(&files[0].0, files[0].1.clone())
    };
    let path = export.to_str().unwrap();
    history(&env, &[args, &[path]].concat())
        .success()
        .stdout(predicates::str::contains(format!(
            "of a {title} export of example.com as import #1"
        )));

    // Every day before the logs is the export's people, exactly.
    let before = stats(&env, &[&before_days[..], &SECTIONS[..]].concat());
    let days = 0..=31;
    let sum = |f: &dyn Fn(i64) -> i64| days.clone().map(f).sum::<i64>() as u64;
    let o = &before["overview"];
    assert_eq!(o["pageviews"], sum(&|i| 2 * readers(i) + 1), "{before}");
    assert_eq!(o["visitors"], sum(&|i| readers(i) + 1));
    assert_eq!(o["visits"], sum(&|i| readers(i) + 1));
    let daily: Vec<i64> = days.clone().map(|i| 2 * readers(i) + 1).collect();
    assert_eq!(o["daily_pageviews"], serde_json::json!(daily));
    let bounce = 32.0 / sum(&|i| readers(i) + 1) as f64;
    assert!(
        (o["bounce_rate"].as_f64().unwrap() - bounce).abs() < 1e-3,
        "{o}"
    );
    let duration = sum(&|i| 300 * readers(i)) as f64 / sum(&|i| readers(i) + 1) as f64;
    assert!((o["visit_duration_s"].as_f64().unwrap() - duration).abs() < 1e-6);
    let n = sum(&readers);
    assert_eq!(
        keyed(&before, "pages", "page", "pageviews"),
        vec![("/".into(), n + 32), ("/pricing".into(), n)]
    );
    assert_eq!(
        keyed(&before, "entry_pages", "entry_page", "visits"),
        vec![("/".into(), n + 32)]
    );
    assert_eq!(
        keyed(&before, "sources", "source", "visits"),
        vec![("Direct".into(), n), ("Google".into(), 32)]
    );
    assert_eq!(
        keyed(&before, "browsers", "browser", "pageviews"),
        vec![("Chrome".into(), 32), ("Firefox".into(), 2 * n)]
    );
    assert_eq!(
        keyed(&before, "os", "os", "pageviews"),
        vec![("Linux".into(), 2 * n), ("Windows".into(), 32)]
    );
    assert_eq!(
        keyed(&before, "countries", "country", "visitors"),
        vec![("DE".into(), n), ("US".into(), 32)]
    );
    if devices {
        assert_eq!(
            keyed(&before, "devices", "device", "pageviews"),
            vec![("Desktop".into(), 2 * n), ("Mobile".into(), 32)]
        );
    } else {
        // What the export cannot give reads from the log days only, and says so.
        assert_eq!(before["sections"]["devices"], serde_json::json!([]));
        assert!(
            before["section_notes"]["devices"]
                .as_str()
                .unwrap()
                .contains("log days only"),
            "{before}"
        );
    }
    assert_eq!(before["imported"]["days"], 32);
    assert_eq!(before["imported"]["imports"][0]["source"], title);

    // The days the logs cover read as the logs alone.
    let logs_now = stats(&env, &[&log_days[..], &SECTIONS[..]].concat());
    assert_eq!(logs_now["sections"], logs_only["sections"]);
    assert_eq!(logs_now["overview"], logs_only["overview"]);

    // Twice is once.
    let whole = stats(&env, &[&all[..], &SECTIONS[..]].concat());
    history(&env, &[args, &[path]].concat())
        .success()
        .stdout(predicates::str::contains("nothing changed"));
    assert_eq!(stats(&env, &[&all[..], &SECTIONS[..]].concat()), whole);

    // Remove restores the database's figures.
    history(&env, &["remove", "1"]).success();
    assert_eq!(
        stats(&env, &[&all[..], &SECTIONS[..]].concat()),
        everything_before
    );
}

/// A copy of `files` whose first file's line `line` (1: the header) has field `field` (the
/// last where `None`) replaced.
fn spoiled(
    mut files: Vec<(String, String)>,
    line: usize,
    field: Option<usize>,
    with: &str,
) -> Vec<(String, String)> {
    let text = &mut files[0].1;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[line - 1].split(',').map(str::to_string).collect();
    let at = field.unwrap_or(fields.len() - 1);
    fields[at] = with.to_string();
    lines[line - 1] = fields.join(",");
    *text = lines.join("\n") + "\n";
    files
}

fn refused(files: Vec<(String, String)>, args: &[&str], message: &str) {
    let env = Env::new();
    let people = env.write("people.log", common::three_days_of_people(7, "/blog/r"));
    env.import_and_rollup(&people, &["--site", "example.com"]);
    let before = stats(&env, &["--period", "all", "overview", "pages"]);
    let zip = write_zip(&env, "bad.zip", &files);
    history(&env, &[args, &[zip.to_str().unwrap()]].concat())
        .code(1)
        .stderr(predicates::str::contains(message));
    assert_eq!(
        stats(&env, &["--period", "all", "overview", "pages"]),
        before
    );
    let mut list = env.cmd();
    list.args(["import-history", "list", "--json", "--db"])
        .arg(env.db());
    assert_eq!(common::json(&mut list, 0), Value::Array(vec![]));
}

#[test]
fn a_goatcounter_export_is_replayed_through_logtallys_sessions_beside_the_logs() {
    check(goatcounter_export(), false, &[], "GoatCounter", false);
}

#[test]
fn an_umami_export_is_replayed_through_logtallys_sessions_beside_the_logs() {
    check(umami_export(), true, &[], "Umami", true);
}

#[test]
fn a_fathom_exports_hours_fold_into_days_beside_the_logs() {
    check(fathom_export(), true, &["--tz", "UTC"], "Fathom", true);
}

#[test]
fn bad_rows_of_each_format_are_refused_with_their_line_and_column() {
    // The time of line 9 of each (the header is line 1).
    refused(
        spoiled(goatcounter_export(), 9, None, "yesterday"),
        &[],
        "goatcounter-export.csv:9: column date: \"yesterday\" is not a time",
    );
    refused(
        spoiled(umami_export(), 9, None, "soon"),
        &[],
        "website_event.csv:9: column created_at: \"soon\" is not a time",
    );
    refused(
        spoiled(fathom_export(), 9, Some(2), "many"),
        &["--tz", "UTC"],
        "Site.csv:9: column uniques: \"many\" is not a whole number",
    );
    // A Fathom export says nothing of its zone: it must be given.
    refused(fathom_export(), &[], "give it with --tz");
}
