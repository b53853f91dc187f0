//! `logtally cleanup`: delete raw events past retention, never a day that is not rolled up.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::TimeZone;

use super::args::count_flag;
use crate::cleanup::{self, Options};
use crate::config;
use crate::exit::{ExitCode, TempFailError};
use crate::output::{step_bar, step_callback, thousands, Output};
use crate::settings::Settings;
use crate::store::Store;

/// Arguments of `logtally cleanup`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    logtally cleanup                  # keep 30 days of raw events\n  \
    logtally cleanup --keep-days 7 --vacuum\n\n\
    Rollups are never deleted, nor the record of visits unless --record-days says so. A day that is not fully rolled up\n\
    keeps its raw events, and the run says so on stderr. Otherwise silent unless --verbose/--json.\n\n\
    Exit status: 0 ok, 1 error, 75 the database stayed locked or the ClickHouse store did not answer\n\
    (cron may retry).")]
pub struct Args {
    /// Database file [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else
    /// $XDG_DATA_HOME/logtally/logtally.db].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Keep raw events of this many recent days (1 to 36500) [default: 30, or
    /// retention.keep_days].
    #[arg(long, value_name = "N", value_parser = count_flag(&config::RETENTION_KEEP_DAYS))]
    keep_days: Option<u64>,
    /// Keep the permanent record of visits of this many recent days (0: forever) [default: 0,
    /// or retention.record_days].
    #[arg(long, value_name = "N", value_parser = count_flag(&config::RETENTION_RECORD_DAYS))]
    record_days: Option<u64>,
    /// IANA time zone of day boundaries (use the rollup's; default: TZ, else the system's, else UTC).
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Return the freed space to the file system (incremental vacuum, in small steps).
    #[arg(long)]
    vacuum: bool,
    /// Clean this ClickHouse store (`clickhouse://HOST:8123/DATABASE`) instead of the database:
    /// its raw events, the rollups a later rollup replaced, its record and salts; `sqlite`: the
    /// database [default: clickhouse.url].
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Print a summary line.
    #[arg(long, short)]
    verbose: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `logtally cleanup`.
pub fn run(args: Args, output: Output, settings: &Settings) -> Result<ExitCode> {
    let tz = settings.time_zone(args.tz.as_deref())?;
    let today = tz
        .from_utc_datetime(&chrono::Utc::now().naive_utc())
        .date_naive();
    let opts = Options {
        keep_days: args
            .keep_days
            .map_or(settings.retention.keep_days, |n| n as u32),
        record_days: args
            .record_days
            .map_or(settings.retention.record_days, |n| n as u32),
        tz,
        today,
        vacuum: args.vacuum,
    };
    let bar = step_bar(output, "days");
    let report = match settings.store(args.store.as_deref()).as_deref() {
        Some(url) => {
            let clickhouse = super::clickhouse_of(url)?;
            cleanup::clickhouse::run(&clickhouse, &opts, &mut step_callback(&bar))
                .map_err(|e| TempFailError(format!("cleaning up {url}: {e}")))?
        }
        None => {
            let db = settings.db_path(args.db.as_deref())?;
            let mut store = Store::open(&db)?;
            crate::store::zone::settle(store.conn_mut(), tz)?;
            cleanup::run(store.conn_mut(), &opts, &mut step_callback(&bar))
                .with_context(|| format!("cleaning up {}", db.display()))?
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for kept in &report.days_kept {
        eprintln!(
            "logtally: kept the raw events of {}: {}",
            kept.day, kept.reason
        );
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else if args.verbose {
        writeln!(
            out,
            "deleted {} events of {} days, {} salts, {} dictionary rows; kept {} days; vacuumed {} pages; longest transaction {:.0} ms; {:.2} s",
            thousands(report.events_deleted),
            report.days_cleaned.len(),
            report.salts_deleted,
            thousands(report.dictionary_rows_deleted),
            report.days_kept.len(),
            thousands(report.pages_vacuumed),
            report.longest_transaction_ms,
            report.seconds
        )?;
    }
    Ok(ExitCode::Success)
}
