//! `logtally stats`: the reports people open a terminal for, read from rollups, and from the
//! permanent record of visits for filters, campaigns and goals.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use chrono::{NaiveDate, TimeZone};
use clap::ValueEnum;

use crate::cmd::rollup::parse_date;
use crate::exit::{ExitCode, UsageError};
use crate::output::Output;
use crate::query::filter::Filter;
use crate::query::goal::Goal;
use crate::query::rollups;
use crate::report;
use crate::rollup;
use crate::settings::Settings;
use crate::store::reader::{ReadError, Reader};
use crate::store::Store;

/// Periods for `--period`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Period {
    /// Today so far.
    Today,
    /// Yesterday.
    Yesterday,
    /// The last 7 days, today included.
    #[value(name = "7d")]
    Days7,
    /// The last 30 days, today included.
    #[value(name = "30d")]
    Days30,
    /// This month so far.
    Month,
    /// This year so far.
    Year,
    /// Every day with data.
    All,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables for a terminal.
    Table,
    /// JSON (stable shape, see the README).
    Json,
    /// CSV in long form: section,key,metric,value.
    Csv,
    /// One self-contained HTML page (styles and chart inline, nothing fetched).
    Html,
}

/// Arguments of `logtally stats`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Sections: overview, pages, entry-pages, exit-pages, sources, campaigns, utm-sources,\n\
    utm-mediums, utm-contents, utm-terms, browsers, os, devices, countries, hours, goals, status,\n\
    not-found, bots (default: overview pages sources browsers).\n\n\
    Examples:\n  \
    logtally stats\n  \
    logtally stats --period 7d --site example.com pages sources\n  \
    logtally stats --since 2026-10-01 --until 2026-10-31 --format csv > october.csv\n  \
    logtally stats --filter source=Hacker\\ News pages\n  \
    logtally stats --filter utm-campaign=spring-sale --goal 'Signup=POST /signup 2xx' overview goals\n\n\
    Unfiltered reports read rollup tables only; filters, and the sections only it can answer, read\n\
    the permanent record of human visits. Today's figures are refreshed first (an incremental rollup\n\
    of today) unless --no-refresh. Visitors over several days are sums of daily visitors."
)]
pub struct Args {
    /// Database file [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else
    /// $XDG_DATA_HOME/logtally/logtally.db].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Only this site (default: all sites together).
    #[arg(long, value_name = "NAME")]
    site: Option<String>,
    /// The period to report.
    #[arg(long, value_enum, default_value_t = Period::Days30, conflicts_with_all = ["since", "until"])]
    period: Period,
    /// First day (YYYY-MM-DD) instead of --period.
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Last day (YYYY-MM-DD, default today) with --since.
    #[arg(long, value_name = "DATE", requires = "since")]
    until: Option<String>,
    /// Rows per section.
    #[arg(long, value_name = "N", default_value_t = 10)]
    top: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// IANA time zone of days (use the rollup's; default: TZ, else the system's, else UTC).
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Do not roll up today's new events first.
    #[arg(long)]
    no_refresh: bool,
    /// Read the rollups of this ClickHouse store (`clickhouse://HOST:8123/DATABASE`), as
    /// `rollup --store` wrote them, instead of the SQLite database (nothing is rolled up first);
    /// `sqlite`: the database [default: clickhouse.url].
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Keep only the visits that match: KEY=VALUE, or KEY!=VALUE for those that do not; `*` in
    /// VALUE matches any text. Repeat it: every filter must hold. Keys: page, entry-page,
    /// exit-page, source, utm-source, utm-medium, utm-campaign, utm-content, utm-term, browser,
    /// os, device, country, goal.
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    filters: Vec<String>,
    /// A goal, besides the configuration's [[goal]] tables: NAME=PATH, NAME=METHOD PATH or
    /// NAME=METHOD PATH STATUS (`Signup=POST /signup 2xx`; `*` in PATH matches any text).
    #[arg(long = "goal", value_name = "NAME=PATTERN")]
    goals: Vec<String>,
    /// Sections to show.
    #[arg(value_name = "SECTION")]
    sections: Vec<String>,
}

/// The first and last day of `period` on `today` (`all`: the days with data).
fn period_bounds(
    period: Period,
    today: NaiveDate,
    data: Option<(NaiveDate, NaiveDate)>,
) -> (NaiveDate, NaiveDate) {
    let name = period.to_possible_value().expect("every period has a name");
    crate::query::period::bounds(name.get_name(), today, data).expect("a known period")
}

/// How long the refresh waits for another writer before the report goes on without it.
const REFRESH_PATIENCE: std::time::Duration = std::time::Duration::from_millis(500);

/// Whether this user may write `path` and its folder (the refresh writes both).
fn writable(path: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let may_write = |p: &std::path::Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .is_ok_and(|c| unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0)
    };
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    may_write(path) && may_write(folder)
}

/// Rolls up today's newest events before the report, when this user may write and no other
/// writer holds the database for long; otherwise the report shows the rollups as they are.
fn refresh_today(db: &std::path::Path, opts: &rollup::Options) {
    if !writable(db) {
        return;
    }
    let result = Store::open(db)
        .map_err(anyhow::Error::from)
        .and_then(|mut writer| {
            writer.conn().busy_timeout(REFRESH_PATIENCE)?;
            rollup::run(writer.conn_mut(), Some(db), opts, &mut |_, _| {})?;
            Ok(())
        });
    if let Err(e) = result {
        eprintln!("logtally: showing rollups without today's newest events: {e:#}");
    }
}

/// The filters and goals of the command line (and the configuration's goals), checked.
fn filters_and_goals(args: &Args, settings: &Settings) -> Result<(Vec<Filter>, Vec<Goal>)> {
    crate::query::filters_and_goals(&args.filters, settings.goals(), &args.goals)
        .map_err(|e| UsageError(e).into())
}

/// A read that failed: a ClickHouse store that did not answer is a temporary failure (exit 75).
fn read_failed(e: impl Into<anyhow::Error>) -> anyhow::Error {
    let e: anyhow::Error = e.into();
    let remote = e.chain().any(|c| {
        c.downcast_ref::<crate::store::clickhouse::Error>()
            .is_some()
            || matches!(
                c.downcast_ref::<ReadError>(),
                Some(ReadError::ClickHouse(_))
            )
    });
    if remote {
        crate::exit::TempFailError(format!("{e:#}")).into()
    } else {
        e
    }
}

/// Runs `logtally stats`.
pub fn run(args: Args, output: Output, settings: &Settings) -> Result<ExitCode> {
    let (filters, goals) = filters_and_goals(&args, settings)?;
    crate::query::check_sections(&args.sections, &filters).map_err(UsageError)?;
    let tz = settings.time_zone(args.tz.as_deref())?;
    let today = tz
        .from_utc_datetime(&chrono::Utc::now().naive_utc())
        .date_naive();
    // Reports read through a read-only connection: they never wait for a writer, and they work
    // for a user who may only read the database, or on a read-only mount.
    let (sqlite, clickhouse) = match settings.store(args.store.as_deref()).as_deref() {
        Some(url) => (None, Some(super::clickhouse_of(url)?)),
        None => {
            let db = settings.db_path(args.db.as_deref())?;
            let store = Store::open_read_only(&db)?;
            crate::store::zone::check(store.conn(), tz)?;
            if !args.no_refresh {
                refresh_today(
                    &db,
                    &rollup::Options {
                        tz,
                        since: Some(today),
                        rebuild: false,
                        thresholds: settings.bots.thresholds.clone(),
                    },
                );
            }
            (Some(store), None)
        }
    };
    let reader = match (&sqlite, &clickhouse) {
        (Some(store), _) => Reader::Sqlite(store.conn()),
        (None, Some(ch)) => Reader::ClickHouse(ch),
        (None, None) => unreachable!("one store or the other"),
    };
    let range = rollups::data_range(reader).map_err(read_failed)?;
    let (from, until) = match &args.since {
        Some(s) => {
            let from = parse_date("--since", s)?;
            let until = args
                .until
                .as_deref()
                .map(|u| parse_date("--until", u))
                .transpose()?
                .unwrap_or(today);
            if until < from {
                return Err(UsageError(format!("--until {until} is before --since {from}")).into());
            }
            (from, until)
        }
        None => period_bounds(args.period, today, range),
    };
    let sections: Vec<String> = if args.sections.is_empty() {
        report::catalogue::CATALOGUE
            .iter()
            .filter(|d| d.default)
            .map(|d| d.name.to_string())
            .collect()
    } else {
        args.sections.clone()
    };
    let q = rollups::Query {
        site: args.site.clone(),
        from,
        until,
        top: args.top.max(1),
        sections,
    };
    let report = crate::query::read(reader, &q, &filters, &goals, None).map_err(read_failed)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            let width = terminal_size::terminal_size().map_or(120, |(w, _)| w.0 as usize);
            write!(
                out,
                "{}",
                report::table::render(&report, width, output.color)
            )?;
        }
        Format::Json => {
            report::json::write_pretty(&mut out, &report::json::render(&report))?;
            writeln!(out)?;
        }
        Format::Csv => write!(out, "{}", report::csv::render(&report))?,
        Format::Html => write!(out, "{}", report::html::render(&report))?,
    }
    Ok(ExitCode::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_names_every_section_of_the_catalogue_and_the_defaults() {
        let cmd = <Args as clap::Args>::augment_args(clap::Command::new("stats"));
        let help = cmd.get_after_help().expect("after_help").to_string();
        let (names, defaults) = help.split_once("(default: ").expect("defaults named");
        let words: Vec<&str> = names.split([' ', ',', '\n', '.']).collect();
        for d in report::catalogue::CATALOGUE
            .iter()
            .filter(|d| d.with.is_none())
        {
            assert!(words.contains(&d.name), "{} missing from the help", d.name);
        }
        let shown: Vec<&str> = report::catalogue::CATALOGUE
            .iter()
            .filter(|d| d.default)
            .map(|d| d.name)
            .collect();
        assert!(
            defaults.starts_with(&format!("{})", shown.join(" "))),
            "{defaults}"
        );
    }

    #[test]
    fn periods() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let today = d(3, 15);
        assert_eq!(period_bounds(Period::Today, today, None), (today, today));
        assert_eq!(
            period_bounds(Period::Yesterday, today, None),
            (d(3, 14), d(3, 14))
        );
        assert_eq!(period_bounds(Period::Days7, today, None), (d(3, 9), today));
        assert_eq!(period_bounds(Period::Month, today, None), (d(3, 1), today));
        assert_eq!(period_bounds(Period::Year, today, None), (d(1, 1), today));
        assert_eq!(
            period_bounds(Period::All, today, Some((d(1, 2), d(2, 3)))),
            (d(1, 2), d(2, 3))
        );
    }
}
