//! `logtally rollup`: compute the daily rollup tables from raw events (run from cron).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::exit::{ExitCode, TempFailError, UsageError};
use crate::output::{days_span, step_bar, step_callback, thousands, Output};
use crate::rollup::{self, Options};
use crate::settings::Settings;
use crate::store::Store;

/// Arguments of `logtally rollup`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    logtally rollup                      # days with new events since the last run\n  \
    logtally rollup --since 2026-11-01   # only days from that date on\n  \
    logtally rollup --rebuild            # recompute every day whose raw events are all still held\n\n\
    Cron-friendly: prints nothing on success unless --verbose or --json. Use the same --tz as\n\
    import and tail, so that a day's visitors and its salt agree.\n\n\
    Exit status: 0 ok, 1 error, 75 the database stayed locked or the ClickHouse store did not\n\
    answer (cron may retry).")]
pub struct Args {
    /// Database file [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else
    /// $XDG_DATA_HOME/logtally/logtally.db].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// IANA time zone of day boundaries (default: TZ, else the system's, else UTC).
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Only roll up days on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Recompute every day whose raw events are all still in the database.
    #[arg(long)]
    rebuild: bool,
    /// Print a summary line.
    #[arg(long, short)]
    verbose: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Roll up the events of this ClickHouse store (`clickhouse://HOST:8123/DATABASE`) into its
    /// own rollup tables; --db then only gives the collector's site facts, where it exists;
    /// `sqlite`: the database [default: clickhouse.url].
    #[arg(long, value_name = "URL")]
    store: Option<String>,
}

/// Parses a `YYYY-MM-DD` flag value.
pub fn parse_date(flag: &str, value: &str) -> Result<NaiveDate, UsageError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| UsageError(format!("{flag} {value:?} is not a date; use YYYY-MM-DD")))
}

/// Runs `logtally rollup`.
pub fn run(args: Args, output: Output, settings: &Settings) -> Result<ExitCode> {
    let tz = settings.time_zone(args.tz.as_deref())?;
    let since = args
        .since
        .as_deref()
        .map(|s| parse_date("--since", s))
        .transpose()?;
    let db = settings.db_path(args.db.as_deref())?;
    let opts = Options {
        tz,
        since,
        rebuild: args.rebuild,
        thresholds: settings.bots.thresholds.clone(),
    };
    let bar = step_bar(output, "days");
    let report = match settings.store(args.store.as_deref()).as_deref() {
        Some(url) => {
            let clickhouse = super::clickhouse_of(url)?;
            let facts = Store::open_read_only(&db).ok();
            rollup::clickhouse::run(
                &clickhouse,
                facts.as_ref().map(Store::conn),
                &opts,
                &mut step_callback(&bar),
            )
            .map_err(|e| TempFailError(format!("rolling up {url}: {e}")))?
        }
        None => {
            let mut store = Store::open(&db)?;
            crate::store::zone::settle(store.conn_mut(), tz)?;
            rollup::run(store.conn_mut(), Some(&db), &opts, &mut step_callback(&bar))
                .with_context(|| format!("rolling up {}", db.display()))?
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else if args.verbose {
        let range = days_span(&report.days);
        writeln!(
            out,
            "rolled up {} days{range} from {} events in {:.2} s; {} new user agents classified{}",
            report.days.len(),
            thousands(report.events),
            report.seconds,
            thousands(report.agents_classified),
            if report.final_days_skipped > 0 {
                format!(
                    "; {} days kept as they are (their raw events were cleaned up)",
                    report.final_days_skipped
                )
            } else {
                String::new()
            }
        )?;
    }
    Ok(ExitCode::Success)
}
