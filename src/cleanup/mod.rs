//! `cleanup`: retention that never loses a day. Raw events older than the retention are deleted
//! in short transactions, but only for days fully rolled up; then salts of rolled-up days (after a
//! grace period for late lines), and dictionary rows no event references any more.

pub mod clickhouse;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use chrono_tz::Tz;
use rusqlite::{Connection, TransactionBehavior};

use crate::rollup::{self, days};
use crate::store::retention::{self, Dictionary};
use crate::store::{events, facts, state};

/// Ids deleted per transaction (about as many rows), so a running `tail` is never blocked long.
pub const DELETE_IDS_PER_TX: i64 = 10_000;
/// Days a salt outlives its day, for lines that arrive late.
pub const SALT_GRACE_DAYS: i64 = 2;
/// Pages returned to the file system per incremental-vacuum step.
const VACUUM_PAGES_PER_STEP: i64 = 2_000;

/// What to clean.
#[derive(Clone, Debug)]
pub struct Options {
    /// Raw events of the last `keep_days` days are kept.
    pub keep_days: u32,
    /// The permanent record of visits of the last `record_days` days is kept (0: all of it).
    pub record_days: u32,
    /// Day boundaries (use the rollup's).
    pub tz: Tz,
    /// Today's date in `tz` (a parameter so tests can move it).
    pub today: NaiveDate,
    /// Return freed pages to the file system.
    pub vacuum: bool,
}

/// A day whose raw events were kept although old enough to go.
#[derive(Clone, Debug, serde::Serialize)]
pub struct KeptDay {
    /// The day.
    pub day: String,
    /// Why.
    pub reason: String,
}

/// What a run did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Report {
    /// Raw events deleted.
    pub events_deleted: u64,
    /// Days whose raw events were deleted.
    pub days_cleaned: Vec<String>,
    /// Days kept, with the reason.
    pub days_kept: Vec<KeptDay>,
    /// Days of the permanent record of visits deleted (`record_days`).
    pub record_days_deleted: u64,
    /// Salts deleted.
    pub salts_deleted: u64,
    /// A ClickHouse store's rollups of a day that a later rollup of it replaced: the (table,
    /// day, version) sets deleted.
    pub replaced_versions_deleted: u64,
    /// Dictionary rows deleted (paths, referrers, agents).
    pub dictionary_rows_deleted: u64,
    /// Rows of per-site facts (`store::facts`) deleted: days no rollup can read any more.
    pub facts_deleted: u64,
    /// Pages returned to the file system by `--vacuum`.
    pub pages_vacuumed: u64,
    /// The longest write transaction, in milliseconds.
    pub longest_transaction_ms: f64,
    /// Seconds taken.
    pub seconds: f64,
}

/// Runs write transactions and keeps the longest duration.
struct Timed<'c> {
    conn: &'c mut Connection,
    longest: Duration,
}

impl Timed<'_> {
    fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let start = Instant::now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        self.longest = self.longest.max(start.elapsed());
        Ok(out)
    }
}

/// Deletes one day's raw events and spans; returns the events deleted.
fn clean_day(
    t: &mut Timed<'_>,
    tz: Tz,
    day: NaiveDate,
    span_max: i64,
) -> rusqlite::Result<Option<u64>> {
    let (start, end) = days::day_bounds(tz, day);
    let key = days::day_key(day);
    // Mark the day final first: a rollup running meanwhile (`--rebuild` included) then leaves it
    // alone instead of recomputing it from half-deleted events. Only if it is still rolled up.
    let marked = t.write(|tx| state::mark_thinned(tx, &key, span_max))?;
    if marked == 0 {
        return Ok(None);
    }
    let ranges = events::id_ranges(t.conn, start, end)?;
    let mut deleted = 0;
    for (lo, hi) in ranges {
        let mut a = lo;
        while a <= hi {
            let b = (a + DELETE_IDS_PER_TX - 1).min(hi);
            deleted += t.write(|tx| retention::delete_events(tx, a, b, start, end))? as u64;
            a = b + 1;
        }
    }
    // Spans written after we looked (max_id > span_max) stay, with their events; the next
    // cleanup removes them (the day is final).
    t.write(|tx| retention::delete_spans(tx, start, end, span_max))?;
    Ok(Some(deleted))
}

/// Deletes salts whose day is rolled up (or has no events) and past the grace period.
fn clean_salts(
    t: &mut Timed<'_>,
    opts: &Options,
    spans: &std::collections::BTreeMap<NaiveDate, i64>,
) -> rusqlite::Result<u64> {
    let state = state::all(t.conn)?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let today = (opts.today - epoch).num_days();
    let salt_days = retention::salt_days_before(t.conn, today - SALT_GRACE_DAYS)?;
    let mut gone = Vec::new();
    for d in salt_days {
        let date = epoch + chrono::Duration::days(d);
        let rolled = match (spans.get(&date), state.get(&days::day_key(date))) {
            (None, _) => true, // no events left for that day
            (Some(_), Some((_, true))) => true,
            (Some(max), Some((rolled, false))) => rolled >= max,
            (Some(_), None) => false,
        };
        if rolled {
            gone.push(d);
        }
    }
    t.write(|tx| retention::delete_salts(tx, &gone))?;
    Ok(gone.len() as u64)
}

/// Deletes dictionary rows no event references. The scan is a read; the deletes re-check the
/// events written since, under the write lock, and bump `dict_generation` so writers that cached
/// a deleted id look it up again.
fn clean_dictionaries(t: &mut Timed<'_>) -> rusqlite::Result<u64> {
    let used = retention::scan_referenced(t.conn)?;
    let mut deleted = 0;
    for dictionary in Dictionary::ALL {
        let unused = retention::unused_ids(t.conn, dictionary, used.of(dictionary))?;
        for batch in unused.chunks(5_000) {
            deleted +=
                t.write(|tx| retention::delete_unused(tx, dictionary, used.scanned_to, batch))?;
        }
    }
    Ok(deleted)
}

/// Runs a cleanup; `progress(done, total)` is called after each old day is handled.
pub fn run(
    conn: &mut Connection,
    opts: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> rusqlite::Result<Report> {
    let started = Instant::now();
    let mut report = Report::default();
    let cutoff = opts.today - chrono::Duration::days(opts.keep_days as i64);
    let spans = rollup::span_days(conn, opts.tz)?;
    let state = state::all(conn)?;
    // While an import runs, any old day may still get lines from it: none becomes final.
    let importing = crate::store::imports::running(conn)?;
    let importing_reason = format!(
        "an import is running (pid {}): its lines may belong to this day; run cleanup again when it is done",
        importing.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
    );
    let mut t = Timed {
        conn,
        longest: Duration::ZERO,
    };
    let old_days = spans.range(..cutoff).count();
    for (n, (&day, &span_max)) in spans.range(..cutoff).enumerate() {
        progress(n, old_days);
        let key = days::day_key(day);
        let reason = match state.get(&key) {
            _ if !importing.is_empty() => Some(importing_reason.as_str()),
            Some((_, true)) => None,
            Some((rolled, false)) if *rolled >= span_max => None,
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
        match clean_day(&mut t, opts.tz, day, span_max)? {
            Some(deleted) => {
                report.events_deleted += deleted;
                report.days_cleaned.push(key);
            }
            None => report.days_kept.push(KeptDay {
                day: key,
                reason:
                    "changed meanwhile (new lines, or an import started): run cleanup again later"
                        .into(),
            }),
        }
    }
    let spans = rollup::span_days(t.conn, opts.tz)?;
    if opts.record_days > 0 {
        let keep_from = days::day_number(opts.today) - i64::from(opts.record_days) + 1;
        report.record_days_deleted =
            t.write(|tx| crate::store::record::forget_before(tx, keep_from))?;
    }
    report.salts_deleted = clean_salts(&mut t, opts, &spans)?;
    // Site facts are read by the rollup of days up to a window away: keep those of every day
    // whose raw events are left, and of the window before the first of them.
    let first = spans.keys().next().copied().unwrap_or(cutoff).min(cutoff);
    let keep_from = days::day_number(first) - facts::WINDOW_DAYS;
    report.facts_deleted = t.write(|tx| facts::forget_before(tx, keep_from))?;
    if report.events_deleted > 0 {
        report.dictionary_rows_deleted = clean_dictionaries(&mut t)?;
    }
    if opts.vacuum {
        loop {
            let free = retention::freelist_count(t.conn)?;
            if free == 0 {
                break;
            }
            let step = Instant::now();
            retention::incremental_vacuum(t.conn, VACUUM_PAGES_PER_STEP)?;
            t.longest = t.longest.max(step.elapsed());
            let after = retention::freelist_count(t.conn)?;
            if after >= free {
                break; // nothing more can be returned
            }
            report.pages_vacuumed += (free - after) as u64;
        }
    }
    report.longest_transaction_ms = t.longest.as_secs_f64() * 1000.0;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::ChunkParser;
    use crate::source::chunks::Chunk;
    use crate::store::batch::{Progress, Writer};
    use crate::store::{files, Store};
    use std::sync::Arc;

    #[test]
    fn a_writer_with_cached_ids_looks_them_up_again_after_dictionary_cleanup() {
        let mut store = Store::open_in_memory().unwrap();
        let parser = ChunkParser::for_tests(Arc::new(Default::default()));
        let chunk = |text: &str, start: u64| {
            parser.parse(&Chunk {
                data: text.as_bytes().to_vec(),
                first_line: 1 + start / text.len() as u64,
                lines: 1,
                start_offset: start,
                end_offset: start + text.len() as u64,
                ..Default::default()
            })
        };
        let line =
            "1.2.3.4 - - [01/Jun/2020:10:00:00 +0000] \"GET /kept HTTP/1.1\" 200 5 \"-\" \"UA\"\n";
        let file = files::create(store.conn(), "a.log", 1, None, false).unwrap();
        let mut writer = Writer::new();
        let progress = Progress {
            file_id: file.id,
            path: "a.log",
        };
        writer
            .commit(store.conn_mut(), &chunk(line, 0), &progress)
            .unwrap();

        // Retention removes the only event using /kept, and then the path itself.
        let mut t = Timed {
            conn: store.conn_mut(),
            longest: Duration::ZERO,
        };
        t.write(|tx| tx.execute("DELETE FROM events", [])).unwrap();
        assert_eq!(
            clean_dictionaries(&mut t).unwrap(),
            2,
            "the path and the agent (the line has no referrer)"
        );

        // The writer still has /kept cached; its next commit must not use the deleted id.
        writer
            .commit(store.conn_mut(), &chunk(line, line.len() as u64), &progress)
            .unwrap();
        let joined: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM events e JOIN paths p ON p.id = e.path AND p.path = '/kept'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(joined, 1);
    }
}
