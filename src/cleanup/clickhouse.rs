//! `cleanup --store clickhouse://...`: the same retention for a ClickHouse store. A day's raw
//! events go once the day is past `keep_days` and rolled up from every event it holds; the day
//! is marked final first, so that rollup never makes it again from what is left. Rollup
//! versions that a later rollup of their day replaced go too (a day rolled up again leaves its
//! old rows behind), then the record of visits past `record_days`, and the salts of days
//! rolled up, after the grace period for late lines.

use std::time::Instant;

use chrono::NaiveDate;
use foldhash::HashMap;

use super::{KeptDay, Options, Report, SALT_GRACE_DAYS};
use crate::rollup::clickhouse::events_per_day;
use crate::rollup::days;
use crate::store::clickhouse::{retention, rollups, ClickHouse, Error};

/// Runs a cleanup of `ch`; `progress(done, total)` is called as the steps are done.
pub fn run(
    ch: &ClickHouse,
    opts: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, Error> {
    const STEPS: usize = 4;
    let started = Instant::now();
    let mut report = Report::default();
    let cutoff = opts.today - chrono::Duration::days(i64::from(opts.keep_days));
    let held = events_per_day(ch, opts.tz)?;
    let rolled = rollups::rolled_days(ch)?;
    let finals = retention::final_days(ch)?;

    // Which old days go: those final already (lines that came late), and those rolled up from
    // every event they hold now.
    let mut newly_final = Vec::new();
    let mut ranges = Vec::new();
    for (&day, &n) in held.range(..cutoff) {
        let key = days::day_key(day);
        let reason = match rolled.get(&day) {
            _ if finals.contains(&day) => None,
            Some((_, events)) if *events == n => None,
            Some(_) => Some("has events newer than its rollup: run `logtally rollup` first"),
            None => Some("not rolled up yet: run `logtally rollup` first"),
        };
        if let Some(reason) = reason {
            report.days_kept.push(KeptDay {
                day: key,
                reason: reason.into(),
            });
            continue;
        }
        if !finals.contains(&day) {
            newly_final.push(day);
        }
        ranges.push(days::day_bounds(opts.tz, day));
        report.days_cleaned.push(key);
    }
    retention::mark_final(ch, &newly_final)?;
    report.events_deleted = retention::delete_events(ch, &ranges)?;
    progress(1, STEPS);

    let committed: HashMap<NaiveDate, u64> = rolled.iter().map(|(d, (v, _))| (*d, *v)).collect();
    report.replaced_versions_deleted = retention::delete_replaced_versions(ch, &committed)?;
    progress(2, STEPS);

    if opts.record_days > 0 {
        let keep_from = opts.today - chrono::Duration::days(i64::from(opts.record_days) - 1);
        report.record_days_deleted = retention::delete_record_before(ch, keep_from)?;
    }
    progress(3, STEPS);

    // A salt goes once its day is rolled up from all it holds (or holds nothing any more).
    let today = days::day_number(opts.today);
    let gone: Vec<i64> = retention::salt_days_before(ch, today - SALT_GRACE_DAYS)?
        .into_iter()
        .filter(|d| {
            let day = crate::store::clickhouse::date_of(*d);
            match held.get(&day) {
                None => true,
                Some(_) if day < cutoff && report.days_cleaned.contains(&days::day_key(day)) => {
                    true
                }
                Some(n) => rolled.get(&day).is_some_and(|(_, events)| events == n),
            }
        })
        .collect();
    retention::delete_salts(ch, &gone)?;
    report.salts_deleted = gone.len() as u64;
    retention::wait_for_mutations(ch)?;
    progress(4, STEPS);
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
