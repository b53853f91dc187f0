//! `logtally import-history`: bring the history of a hosted service (its export) beside the logs.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::exit::{ExitCode, UsageError};
use crate::history::{self, files, Format};
use crate::output::{days_span, step_bar, step_callback, thousands, Output};
use crate::settings::Settings;
use crate::store::history::{self as stored, NewImport};
use crate::store::Store;

/// Arguments of `logtally import-history`.
#[derive(Debug, clap::Args)]
#[command(
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  \
    logtally import-history plausible-export.zip\n  \
    logtally import-history --site example.com imported_*.csv\n  \
    logtally import-history --tz Europe/Berlin fathom-export.zip\n  \
    logtally import-history list\n  \
    logtally import-history remove 2\n\n\
    The export's format is told from its CSV headers (or named with --from). Its days are read\n\
    beside the logs: for each site and day the logs cover, the logs' figures count and the\n\
    export's do not; the logs' first day of a site is taken as partial and filled from the\n\
    export only with --fill-first-day. Importing the same export again changes nothing. A file\n\
    it cannot read is refused with its line and column, and nothing is written.\n\n\
    Exit status: 0 ok, 1 error (a file refused), 2 usage."
)]
pub struct Args {
    /// `list` or `remove`; without, import FILE...
    #[command(subcommand)]
    action: Option<Action>,
    /// The export: a .zip, a folder holding its CSV files, or the CSV files.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// The service the export is of [default: told from the headers].
    #[arg(long, value_enum, value_name = "SERVICE")]
    from: Option<Format>,
    /// The site the export is of [default: the export's hostname where it carries one, else the
    /// database's only site].
    #[arg(long, value_name = "NAME")]
    site: Option<String>,
    /// Fill the logs' first day of the site (taken as partial) from the export instead.
    #[arg(long)]
    fill_first_day: bool,
    /// The zone the export's times are written in, where it does not say (Fathom: the zone of
    /// its dashboard); an IANA name such as Europe/Berlin.
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Database file [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else
    /// $XDG_DATA_HOME/logtally/logtally.db].
    #[arg(long, value_name = "PATH", global = true)]
    db: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long, global = true)]
    json: bool,
}

/// What else `import-history` does.
#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Show each import: source, file digest, days, zone.
    List,
    /// Take one import out again (its id, as `list` shows it).
    Remove {
        /// The import's id.
        id: i64,
    },
}

/// Runs `logtally import-history`.
pub fn run(args: Args, output: Output, settings: &Settings) -> Result<ExitCode> {
    let db = settings.db_path(args.db.as_deref())?;
    let mut store = Store::open(&db)?;
    let mut out = std::io::stdout().lock();
    match args.action {
        Some(Action::List) => {
            let all = stored::list(store.conn())?;
            if args.json {
                serde_json::to_writer_pretty(&mut out, &all)?;
                writeln!(out)?;
            } else if all.is_empty() {
                writeln!(out, "no history imported into {}", db.display())?;
            }
            for i in all.iter().filter(|_| !args.json) {
                writeln!(
                    out,
                    "#{} {} export of {}: {} days{} ({} read, the logs cover the rest), zone {}, digest {}{}",
                    i.id,
                    i.source,
                    i.site,
                    i.days,
                    match (&i.first_day, &i.last_day) {
                        (Some(a), Some(b)) => format!(" {a} .. {b}"),
                        _ => String::new(),
                    },
                    i.days_used,
                    i.zone,
                    &i.digest[..16],
                    if i.fill_first_day {
                        ", fills the logs' first day"
                    } else {
                        ""
                    }
                )?;
            }
            return Ok(ExitCode::Success);
        }
        Some(Action::Remove { id }) => {
            let removed = stored::remove(store.conn_mut(), id)?.ok_or_else(|| {
                UsageError(format!(
                    "no import #{id} in {}: `logtally import-history list` shows them",
                    db.display()
                ))
            })?;
            if args.json {
                serde_json::to_writer_pretty(&mut out, &removed)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "removed import #{id} ({} export of {}, {} days)",
                    removed.source, removed.site, removed.days
                )?;
            }
            return Ok(ExitCode::Success);
        }
        None => {}
    }
    let started = std::time::Instant::now();
    let refused = |e: history::Refused| anyhow::anyhow!("cannot import {e}; nothing was written");
    let csvs = files::gather(&args.files).map_err(refused)?;
    let format = history::format_of(&csvs, args.from).map_err(refused)?;
    let zone = match crate::store::zone::recorded(store.conn())? {
        Some(name) => name,
        None => settings.time_zone(None)?.name().to_string(),
    };
    let db_zone: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    let export_zone = match &args.tz {
        Some(name) => Some(settings.time_zone(Some(name))?),
        None => None,
    };
    let bar = step_bar(output, "files");
    let export = history::read(
        format,
        &csvs,
        &history::Read {
            site: args.site.as_deref(),
            zone: db_zone,
            export_zone,
        },
        &mut step_callback(&bar),
    )
    .map_err(refused)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let site = match args.site.clone().or(export.hostname.clone()) {
        Some(s) => s,
        None => {
            let sites = stored::sites(store.conn())?;
            match sites.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(UsageError(
                        "the export names no site and the database has none: give --site NAME"
                            .into(),
                    )
                    .into())
                }
                many => {
                    return Err(UsageError(format!(
                    "the export names no site and the database has several ({}): give --site NAME",
                    many.join(", ")
                ))
                    .into())
                }
            }
        }
    };
    let digest = files::digest(&csvs);
    if let Some(id) = stored::find(store.conn(), &site, &digest)? {
        if args.json {
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({"id": id, "site": site, "already_imported": true}),
            )?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "this {} export of {site} is import #{id} already; nothing changed",
                format.title()
            )?;
        }
        return Ok(ExitCode::Success);
    }
    let names: Vec<String> = csvs.iter().map(|f| f.name.clone()).collect();
    let written = stored::write(
        store.conn_mut(),
        &NewImport {
            source: format.name(),
            digest: &digest,
            site: &site,
            zone: &zone,
            fill_first_day: args.fill_first_day,
            files: &names,
            tables: &export.tables,
            days: &export.days,
        },
    )
    .with_context(|| format!("writing the import into {}", db.display()))?;
    let info = stored::list(store.conn())?
        .into_iter()
        .find(|i| i.id == written.id)
        .context("the import just written")?;
    if args.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({"import": info, "written": written, "seconds": started.elapsed().as_secs_f64()}),
        )?;
        writeln!(out)?;
    } else {
        let days: Vec<String> = info
            .first_day
            .iter()
            .chain(&info.last_day)
            .cloned()
            .collect();
        writeln!(
            out,
            "imported {} days{} of a {} export of {site} as import #{}: {} read beside the logs, {} the logs cover; {} days held by an earlier import left out; {:.2} s",
            thousands(written.days),
            days_span(&days),
            format.title(),
            written.id,
            info.days_used,
            info.days - info.days_used,
            written.days_held_by_other_imports,
            started.elapsed().as_secs_f64()
        )?;
    }
    Ok(ExitCode::Success)
}
