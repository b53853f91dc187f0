//! What `cleanup` deletes from a ClickHouse store, and the days it made final: raw events of
//! days rolled up, rollup versions a newer one replaced, the record of visits past its
//! retention, and day salts. Deletes are mutations (`ALTER TABLE ... DELETE`), which the server
//! applies in the background; [`wait_for_mutations`] waits for them.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use foldhash::HashMap;

use super::rollups::TABLES;
use super::wire::Rows;
use super::{date_of, day_number, ClickHouse, Error};

/// How long cleanup waits for the server to apply its deletes.
const MUTATIONS_WAIT: Duration = Duration::from_secs(300);

/// Creates the table of final days where it does not exist.
pub fn ensure_schema(ch: &ClickHouse) -> Result<(), Error> {
    ch.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {}.final_days (day Date) ENGINE = ReplacingMergeTree() ORDER BY day",
        ch.database()
    ))
}

/// Days whose raw events cleanup deleted: their rollups are final, and rollup leaves them be.
pub fn final_days(ch: &ClickHouse) -> Result<BTreeSet<NaiveDate>, Error> {
    let data = ch.select_binary(&format!(
        "SELECT DISTINCT day FROM {}.final_days",
        ch.database()
    ))?;
    let mut rows = Rows::new(&data);
    let mut out = BTreeSet::new();
    while rows.more() {
        let day = rows.u16().map_err(|e| ch.failed(e.to_string()))?;
        out.insert(date_of(i64::from(day)));
    }
    Ok(out)
}

/// Marks `days` final.
pub fn mark_final(ch: &ClickHouse, days: &[NaiveDate]) -> Result<(), Error> {
    if days.is_empty() {
        return Ok(());
    }
    let mut body = Vec::with_capacity(days.len() * 2);
    for d in days {
        body.extend_from_slice(&(day_number(*d) as u16).to_le_bytes());
    }
    ch.insert_binary("final_days", "day", &body)
}

/// `[start, end)` ranges of Unix ms joined where they touch, as a condition on `ts_ms`.
fn ranges_condition(ranges: &[(i64, i64)]) -> String {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let mut joined: Vec<(i64, i64)> = Vec::new();
    for (a, b) in sorted {
        match joined.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => joined.push((a, b)),
        }
    }
    joined
        .iter()
        .map(|(a, b)| format!("(ts_ms >= {a} AND ts_ms < {b})"))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Deletes the raw events of `ranges` (`[start, end)` in Unix ms, each a final day's); returns
/// how many there were (each line once).
pub fn delete_events(ch: &ClickHouse, ranges: &[(i64, i64)]) -> Result<u64, Error> {
    if ranges.is_empty() {
        return Ok(0);
    }
    let db = ch.database();
    let condition = ranges_condition(ranges);
    let n = count(
        ch,
        &format!("SELECT count() FROM {db}.events FINAL WHERE {condition}"),
    )?;
    if n > 0 {
        ch.execute(&format!("ALTER TABLE {db}.events DELETE WHERE {condition}"))?;
    }
    Ok(n)
}

/// The one `UInt64` that `sql` answers.
fn count(ch: &ClickHouse, sql: &str) -> Result<u64, Error> {
    let data = ch.select_binary(sql)?;
    Rows::new(&data).u64().map_err(|e| ch.failed(e.to_string()))
}

/// Deletes the rows of every rollup table and of the record whose version is older than their
/// day's `committed` version (`rollup_days`), as a later rollup of the day replaced them.
/// Versions newer than the committed one are a rollup still writing, and stay. Returns the
/// (table, day, version) sets deleted.
pub fn delete_replaced_versions(
    ch: &ClickHouse,
    committed: &HashMap<NaiveDate, u64>,
) -> Result<u64, Error> {
    let db = ch.database();
    let mut deleted = 0;
    for table in TABLES.iter().map(|t| t.name).chain(["record_days"]) {
        let data = ch.select_binary(&format!("SELECT DISTINCT day, version FROM {db}.{table}"))?;
        let mut rows = Rows::new(&data);
        let mut replaced: Vec<(NaiveDate, u64)> = Vec::new();
        while rows.more() {
            let bad = |e: super::wire::Truncated| ch.failed(e.to_string());
            let day = date_of(i64::from(rows.u16().map_err(bad)?));
            let version = rows.u64().map_err(bad)?;
            if committed.get(&day).is_some_and(|c| version < *c) {
                replaced.push((day, version));
            }
        }
        if replaced.is_empty() {
            continue;
        }
        deleted += replaced.len() as u64;
        let condition = replaced
            .iter()
            .map(|(d, v)| format!("(day = '{d}' AND version = {v})"))
            .collect::<Vec<_>>()
            .join(" OR ");
        ch.execute(&format!(
            "ALTER TABLE {db}.{table} DELETE WHERE {condition}"
        ))?;
    }
    Ok(deleted)
}

/// Deletes the record of visits of days before `keep_from`; returns the days deleted.
pub fn delete_record_before(ch: &ClickHouse, keep_from: NaiveDate) -> Result<u64, Error> {
    let db = ch.database();
    let n = count(
        ch,
        &format!("SELECT uniqExact(day) FROM {db}.record_days WHERE day < '{keep_from}'"),
    )?;
    if n > 0 {
        ch.execute(&format!(
            "ALTER TABLE {db}.record_days DELETE WHERE day < '{keep_from}'"
        ))?;
    }
    Ok(n)
}

/// Day numbers (since 1970) of the salts kept for days before `before`.
pub fn salt_days_before(ch: &ClickHouse, before: i64) -> Result<Vec<i64>, Error> {
    let data = ch.select_binary(&format!(
        "SELECT DISTINCT day FROM {}.salts WHERE day < {before} ORDER BY day",
        ch.database()
    ))?;
    let mut rows = Rows::new(&data);
    let mut out = Vec::new();
    while rows.more() {
        out.push(rows.i64().map_err(|e| ch.failed(e.to_string()))?);
    }
    Ok(out)
}

/// Deletes the salts of `days` (day numbers since 1970).
pub fn delete_salts(ch: &ClickHouse, days: &[i64]) -> Result<(), Error> {
    if days.is_empty() {
        return Ok(());
    }
    let list = days
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    ch.execute(&format!(
        "ALTER TABLE {}.salts DELETE WHERE day IN ({list})",
        ch.database()
    ))
}

/// Waits until the server applied every delete of this database (a mutation that failed is an
/// error naming it).
pub fn wait_for_mutations(ch: &ClickHouse) -> Result<(), Error> {
    let started = Instant::now();
    let db = ch.database();
    // Servers before 19.x keep no reason of a failure: a delete that fails there waits out the
    // time allowed.
    let reason = if ch.version() >= (19, 0) {
        "latest_fail_reason"
    } else {
        "''"
    };
    loop {
        let text = ch.query(&format!(
            "SELECT table, {reason} FROM system.mutations WHERE database = '{db}' AND is_done = 0 FORMAT TSV"
        ))?;
        let pending: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        if pending.is_empty() {
            return Ok(());
        }
        if let Some(failed) = pending
            .iter()
            .find(|l| l.split('\t').nth(1).is_some_and(|r| !r.is_empty()))
        {
            return Err(ch.failed(format!("a delete failed: {failed}")));
        }
        if started.elapsed() > MUTATIONS_WAIT {
            return Err(ch.failed(format!(
                "deletes still running after {} s: {}",
                MUTATIONS_WAIT.as_secs(),
                pending.join("; ")
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_that_touch_become_one_condition() {
        assert_eq!(
            ranges_condition(&[(20, 30), (0, 10), (10, 20), (40, 50)]),
            "(ts_ms >= 0 AND ts_ms < 30) OR (ts_ms >= 40 AND ts_ms < 50)"
        );
    }
}
