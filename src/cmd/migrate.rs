//! `logtally migrate --to clickhouse://...`: copy a SQLite history into a ClickHouse store once.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;

use crate::exit::{ExitCode, TempFailError, UsageError};
use crate::output::{days_span, step_bar, step_callback, Output};
use crate::settings::Settings;
use crate::store::clickhouse::copy::{self, CopyError};
use crate::store::Store;

/// Arguments of `logtally migrate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    logtally migrate --to clickhouse://127.0.0.1:8123/logtally\n  \
    logtally migrate --db /srv/old.db --to clickhouse://db.example:8123/logtally --json\n\n\
    Copies the rollups and the record of visits of every day the database holds into the store,\n\
    each day once: a day the store already reads (rolled up there, or copied before) is kept,\n\
    so running it again copies nothing. Raw events are not copied; a copied day that the\n\
    store's own events later cover is made again from them by `rollup --store`. Then point\n\
    `stats` and `serve` at the store with --store.\n\n\
    Exit status: 0 ok, 1 error, 2 usage, 75 the store did not answer (run it again: days\n\
    copied are kept, the rest follow).")]
pub struct Args {
    /// Database file to copy [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as
    /// root, else $XDG_DATA_HOME/logtally/logtally.db].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// The ClickHouse store to copy into (`clickhouse://HOST:8123/DATABASE`) [default:
    /// clickhouse.url].
    #[arg(long, value_name = "URL")]
    to: Option<String>,
    /// Print what was copied as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `logtally migrate`.
pub fn run(args: Args, output: Output, settings: &Settings) -> Result<ExitCode> {
    let to = args
        .to
        .clone()
        .or_else(|| settings.clickhouse.url.clone())
        .ok_or_else(|| {
            UsageError("name the ClickHouse store: --to clickhouse://HOST:8123/DATABASE".into())
        })?;
    let db = settings.db_path(args.db.as_deref())?;
    let store = Store::open_read_only(&db)?;
    let zone = crate::store::zone::recorded(store.conn())?.unwrap_or_else(|| "UTC".into());
    let clickhouse = super::clickhouse_of(&to)?;
    let bar = step_bar(output, "days");
    let copied = copy::copy_history(store.conn(), &clickhouse, &zone, &mut step_callback(&bar))
        .map_err(|e| -> anyhow::Error {
            match e {
                CopyError::ClickHouse(e) => TempFailError(format!("copying into {to}: {e}")).into(),
                e => anyhow::Error::from(e).context(format!("copying {}", db.display())),
            }
        })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &copied)?;
        writeln!(out)?;
    } else {
        let range = days_span(&copied.days);
        writeln!(
            out,
            "copied {} days{range} of rollups and record from {} to {}; {} days were there already",
            copied.days.len(),
            db.display(),
            to,
            copied.kept
        )?;
    }
    Ok(ExitCode::Success)
}
