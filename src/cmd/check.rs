//! `logtally check`: parse log files and report what was read, without writing anything.
//!
//! Meant to guard a config change: exit 1 when more than `--max-reject-ratio` of the lines are
//! rejected, so `logtally check /var/log/nginx/access.log && systemctl reload ...` is a safe habit.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use super::args::FormatArgs;
use crate::botcheck::{BotCheck, BotReport};
use crate::classify::bots::Reason;
use crate::exit::{ExitCode, UsageError};
use crate::output::{thousands, utc_time};
use crate::parse::scan::{scan_with, Scan};
use crate::parse::Tally;
use crate::report::{self, sanitize};
use crate::settings::Settings;
use crate::source;

/// The long help of `--bots`: every reason and what it means, from the reasons themselves.
fn bots_help() -> String {
    let mut help = String::from(
        "Also show what bot detection would flag, and why: per reason, its hits, clients, top agents and \
         addresses. The reasons (also in `stats bots`):\n",
    );
    for r in Reason::ALL {
        help.push_str(&format!("\n  {:<17} {}", r.name(), r.describe()));
    }
    help
}

/// Arguments of `logtally check`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    logtally check /var/log/nginx/access.log\n  \
    logtally check --log-format '$remote_addr [$time_local] \"$request\" $status' app.log\n  \
    zcat access.log.*.gz | logtally check -\n\n\
    Exit status: 0 when the reject ratio is within --max-reject-ratio, 1 otherwise or on error.")]
pub struct Args {
    #[command(flatten)]
    format: FormatArgs,
    /// Fail (exit 1) when more than this share of non-blank lines is rejected.
    #[arg(long, value_name = "RATIO", default_value_t = 0.01)]
    max_reject_ratio: f64,
    /// Also show what bot detection would flag, and why (top agents and addresses per reason).
    #[arg(long, long_help = bots_help())]
    bots: bool,
    /// IANA time zone of days, for the per-day bot rules of --bots (default: TZ, else the system's).
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// More user-agent patterns of bots for --bots: lines of `category<TAB>substring`.
    #[arg(long, value_name = "FILE")]
    bot_agents: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Log files to read; `-` reads stdin; gzip is decompressed.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct SampleJson<'a> {
    line: u64,
    text: &'a str,
}

#[derive(Serialize)]
struct ReasonJson<'a> {
    reason: &'static str,
    description: &'static str,
    count: u64,
    samples: Vec<SampleJson<'a>>,
}

#[derive(Serialize)]
struct TallyJson<'a> {
    lines: u64,
    parsed: u64,
    rejected: u64,
    blank: u64,
    reject_ratio: f64,
    first: Option<String>,
    last: Option<String>,
    rejects: Vec<ReasonJson<'a>>,
}

impl<'a> TallyJson<'a> {
    fn from_tally(t: &'a Tally) -> Self {
        let iso = |ms: Option<i64>| {
            ms.and_then(chrono::DateTime::from_timestamp_millis)
                .map(|d| d.to_rfc3339())
        };
        TallyJson {
            lines: t.lines(),
            parsed: t.parsed,
            rejected: t.rejected,
            blank: t.blank,
            reject_ratio: t.reject_ratio(),
            first: iso(t.first_ts),
            last: iso(t.last_ts),
            rejects: t
                .reasons
                .iter()
                .map(|(r, rt)| ReasonJson {
                    reason: r.code(),
                    description: r.describe(),
                    count: rt.count,
                    samples: rt
                        .samples
                        .iter()
                        .map(|s| SampleJson {
                            line: s.line,
                            text: &s.text,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct FileJson<'a> {
    file: &'a str,
    format: Option<&'a str>,
    detected: bool,
    error: Option<String>,
    #[serde(flatten)]
    tally: Option<TallyJson<'a>>,
}

/// The outcome for one file.
struct FileReport {
    display: String,
    result: Result<Scan, String>,
}

fn check_file(
    path: &std::path::Path,
    choice: &crate::parse::FormatChoice,
    bots: &mut Option<BotCheck<'_>>,
) -> FileReport {
    let display = source::input::display_path(path).display().to_string();
    let mut on_hit = |hit: &crate::parse::Hit<'_>, format: &crate::parse::Format| {
        if let Some(b) = bots.as_mut() {
            b.add(hit, format.records_agent());
        }
    };
    let result = source::open(path)
        .map_err(|e| format!("cannot open {display}: {e}"))
        .and_then(|input| {
            scan_with(input.reader, choice, &mut on_hit).map_err(|e| format!("{display}: {e}"))
        });
    FileReport { display, result }
}

fn write_bots(out: &mut impl Write, r: &BotReport) -> io::Result<()> {
    let pct = if r.hits == 0 {
        0.0
    } else {
        r.bot_hits as f64 * 100.0 / r.hits as f64
    };
    writeln!(
        out,
        "bots          {} of {} hits flagged ({pct:.1}%)",
        thousands(r.bot_hits),
        thousands(r.hits)
    )?;
    writeln!(
        out,
        "              page views: {} left to people, {} flagged",
        thousands(r.human_pageviews),
        thousands(r.bot_pageviews)
    )?;
    for row in &r.reasons {
        writeln!(
            out,
            "  {:<18} {:>10} hits {:>8} clients  {}",
            row.reason,
            thousands(row.hits),
            thousands(row.clients),
            row.meaning
        )?;
        for (agent, n) in &row.top_agents {
            let agent: String = if agent.is_empty() {
                "(no user agent)".into()
            } else {
                sanitize::text(&agent.chars().take(100).collect::<String>()).into_owned()
            };
            writeln!(out, "      agent   {:>8}  {agent}", thousands(*n))?;
        }
        for (addr, n) in &row.top_addresses {
            writeln!(
                out,
                "      address {:>8}  {}",
                thousands(*n),
                sanitize::text(addr)
            )?;
        }
    }
    Ok(())
}

fn write_tally(out: &mut impl Write, t: &Tally) -> io::Result<()> {
    let pct = t.reject_ratio() * 100.0;
    writeln!(
        out,
        "  lines       {} ({} parsed, {} rejected = {pct:.2}%, {} blank)",
        thousands(t.lines()),
        thousands(t.parsed),
        thousands(t.rejected),
        thousands(t.blank)
    )?;
    if let (Some(a), Some(b)) = (t.first_ts, t.last_ts) {
        writeln!(out, "  time range  {} .. {}", utc_time(a), utc_time(b))?;
    }
    for (reason, rt) in &t.reasons {
        let lines: Vec<String> = rt.samples.iter().map(|s| s.line.to_string()).collect();
        writeln!(
            out,
            "  reject {:<19} {:>8}  {} (lines {})",
            reason.code(),
            thousands(rt.count),
            reason.describe(),
            lines.join(", ")
        )?;
        for s in &rt.samples {
            // A rejected line is shown as read, controls escaped (issue #15, case 8).
            writeln!(out, "      {:>7}: {}", s.line, sanitize::text(&s.text))?;
        }
    }
    Ok(())
}

/// Runs `logtally check`.
pub fn run(args: Args, settings: &Settings) -> Result<ExitCode> {
    if !(0.0..=1.0).contains(&args.max_reject_ratio) {
        return Err(UsageError(format!(
            "--max-reject-ratio must be between 0 and 1, got {}",
            args.max_reject_ratio
        ))
        .into());
    }
    let choice = args.format.choice()?;
    let started = Instant::now();
    let rules = if args.bots {
        Some(settings.rules(args.bot_agents.as_deref())?)
    } else {
        None
    };
    let mut bots = match &rules {
        Some(p) => Some(BotCheck::new(p, settings.time_zone(args.tz.as_deref())?)),
        None => None,
    };
    let reports: Vec<FileReport> = args
        .files
        .iter()
        .map(|p| check_file(p, &choice, &mut bots))
        .collect();
    let thresholds = settings.bots.thresholds.clone();
    let bot_report = bots.map(|b| b.finish(&thresholds));
    let seconds = started.elapsed().as_secs_f64();

    let mut total = Tally::default();
    let mut failed_files = 0;
    for r in &reports {
        match &r.result {
            Ok(s) => total.merge(&s.tally),
            Err(_) => failed_files += 1,
        }
    }
    let rate = if seconds > 0.0 {
        (total.lines() + total.blank) as f64 / seconds
    } else {
        0.0
    };
    let passed = failed_files == 0 && total.reject_ratio() <= args.max_reject_ratio;

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.json {
        let files: Vec<FileJson> = reports
            .iter()
            .map(|r| match &r.result {
                Ok(s) => FileJson {
                    file: &r.display,
                    format: Some(s.format.name()),
                    detected: s.detected,
                    error: None,
                    tally: Some(TallyJson::from_tally(&s.tally)),
                },
                Err(e) => FileJson {
                    file: &r.display,
                    format: None,
                    detected: false,
                    error: Some(e.clone()),
                    tally: None,
                },
            })
            .collect();
        let doc = serde_json::json!({
            "files": files,
            "total": TallyJson::from_tally(&total),
            "seconds": seconds,
            "lines_per_second": rate.round(),
            "max_reject_ratio": args.max_reject_ratio,
            "passed": passed,
            "bots": bot_report,
        });
        report::json::write_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        for r in &reports {
            match &r.result {
                Ok(s) => {
                    writeln!(out, "{}", r.display)?;
                    let how = if s.detected { "detected" } else { "given" };
                    writeln!(out, "  format      {} ({how})", s.format.name())?;
                    write_tally(&mut out, &s.tally)?;
                }
                Err(e) => eprintln!("logtally: {e}"),
            }
        }
        if reports.len() > 1 {
            writeln!(out, "total ({} files)", reports.len())?;
            write_tally(&mut out, &total)?;
        }
        if let Some(b) = &bot_report {
            write_bots(&mut out, b)?;
        }
        writeln!(
            out,
            "parse rate    {} lines/s ({seconds:.3} s)",
            thousands(rate as u64)
        )?;
        if !passed && failed_files == 0 {
            writeln!(
                out,
                "FAILED: {:.2}% of lines rejected, above --max-reject-ratio {:.2}%; check --format or --log-format",
                total.reject_ratio() * 100.0,
                args.max_reject_ratio * 100.0
            )?;
        }
    }
    out.flush()?;
    Ok(if passed {
        ExitCode::Success
    } else {
        ExitCode::Failure
    })
}
