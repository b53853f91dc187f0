//! `logtally import`: load historical and rotated logs into the database, exactly once.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::args::IngestArgs;
use crate::exit::{ExitCode, TempFailError};
use crate::ingest::pipeline::{self, Counters, Summary};
use crate::output::{thousands, Output};
use crate::settings::Settings;
use crate::store::checkpoint;

/// Arguments of `logtally import`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    logtally import /var/log/nginx/access.log /var/log/nginx/access.log.*.gz\n  \
    logtally import --site example.com --tz Europe/Berlin access.log\n  \
    zcat old-logs/*.gz | logtally import -\n\n\
    Running it again on the same files adds nothing; a file that grew adds only its new lines;\n\
    rotated copies (access.log.1, access.log.2.gz) of an imported file are recognised by content.\n\n\
    Exit status: 0 ok, 1 a file could not be read or written (the others are still imported),\n\
    75 the database stayed locked (retry later).")]
pub struct Args {
    #[command(flatten)]
    ingest: IngestArgs,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Log files (plain or gzip); `-` reads stdin.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Report<'a> {
    database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    store: Option<String>,
    files: usize,
    failed_files: usize,
    lines: u64,
    imported: u64,
    rejected: u64,
    blank: u64,
    already_imported: u64,
    seconds: f64,
    lines_per_second: f64,
    per_file: &'a [Summary],
    errors: &'a [String],
}

fn progress_bar(output: Output, total: u64) -> Option<ProgressBar> {
    if !output.progress {
        return None;
    }
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {prefix} ETA {eta} {msg}")
            .expect("valid template"),
    );
    Some(pb)
}

/// Runs `logtally import`.
pub fn run(args: Args, output: Output, settings: &Settings) -> Result<ExitCode> {
    let (db, mut store, parse, mut sink) = super::open_for_ingest(&args.ingest, settings)?;
    // Held while the import runs: cleanup makes no day final meanwhile (`store::imports`).
    let _lease = crate::store::imports::Lease::begin(&db)
        .with_context(|| format!("recording the import in {}", db.display()))?;
    let sources = settings.sources().to_vec();
    let store_url = settings.store(args.ingest.store.as_deref());
    let settings = parse;

    let total: u64 = args
        .files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let pb = progress_bar(output, total);
    let counter = Arc::new(Counters::default());
    let done = Arc::new(AtomicBool::new(false));
    let ticker = pb.clone().map(|pb| {
        let (counter, done) = (counter.clone(), done.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            while !done.load(Ordering::Relaxed) {
                pb.set_position(counter.bytes.load(Ordering::Relaxed));
                let rate = counter.lines.load(Ordering::Relaxed) as f64
                    / started.elapsed().as_secs_f64().max(0.001);
                pb.set_prefix(format!("{} lines/s", thousands(rate as u64)));
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    });

    let started = Instant::now();
    // Without it the writer checkpoints by itself, only slower.
    let checkpointer = checkpoint::Background::start(store.conn(), &db).ok();
    let mut summaries = Vec::new();
    let mut errors = Vec::new();
    let mut busy = None;
    for path in &args.files {
        if let Some(pb) = &pb {
            pb.set_message(path.display().to_string());
        }
        // A file named by a configured source takes its format and site unless flags say.
        let source = sources.iter().find(|s| {
            crate::source::paths::Pattern::new(&s.path).is_ok_and(|p| p.matches_path(path))
        });
        let mut for_file = settings.clone();
        if let Some(source) = source {
            (for_file.choice, for_file.site) = args.ingest.read_as(source)?;
        }
        for_file.site = crate::source::paths::site_of(for_file.site.as_deref(), path);
        let (summary, result) =
            pipeline::import(&mut store, sink.as_mut(), &for_file, path, &counter);
        summaries.push(summary);
        match result {
            Ok(()) => {}
            Err(e) => {
                // A locked database or a store not taking rows holds for every file: stop.
                let temporary = match &e {
                    pipeline::Error::Write { source, .. } => source.is_temporary(),
                    pipeline::Error::Lookup { source, .. } => matches!(
                        source.sqlite_error_code(),
                        Some(
                            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                        )
                    ),
                    _ => false,
                };
                let msg = e.to_string();
                if let Some(pb) = &pb {
                    pb.suspend(|| eprintln!("logtally: {msg}"));
                } else {
                    eprintln!("logtally: {msg}");
                }
                errors.push(msg);
                if temporary {
                    busy = Some(errors.last().cloned().unwrap_or_default());
                    break;
                }
            }
        }
    }
    if let Some(c) = checkpointer {
        let _ = c.stop(store.conn());
    }
    let seconds = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    if let Some(t) = ticker {
        let _ = t.join();
    }
    if let Some(pb) = &pb {
        pb.finish_and_clear();
    }

    let sum = |f: fn(&Summary) -> u64| summaries.iter().map(f).sum::<u64>();
    let lines = sum(|s| s.lines);
    let report = Report {
        database: db.display().to_string(),
        store: store_url,
        files: args.files.len(),
        failed_files: errors.len(),
        lines,
        imported: sum(|s| s.imported),
        rejected: sum(|s| s.rejected),
        blank: sum(|s| s.blank),
        already_imported: sum(|s| s.already_imported),
        seconds,
        lines_per_second: if seconds > 0.0 {
            (lines as f64 / seconds).round()
        } else {
            0.0
        },
        per_file: &summaries,
        errors: &errors,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        for s in &summaries {
            let mut line = format!(
                "{}: {} lines ({}), {} imported, {} rejected, {} already imported",
                s.file,
                thousands(s.lines),
                if s.format.is_empty() { "-" } else { &s.format },
                thousands(s.imported),
                thousands(s.rejected),
                thousands(s.already_imported)
            );
            if s.format == "common" {
                line.push_str(
                    ", in the common format: it records no user agent, so browsers, systems and devices stay empty and bots are told by behaviour alone",
                );
            }
            if s.held_back_bytes > 0 {
                line.push_str(&format!(
                    ", {} bytes of an unfinished last line left for the next run",
                    s.held_back_bytes
                ));
            }
            writeln!(out, "{line}")?;
        }
        writeln!(
            out,
            "{} files, {} lines, {} imported, {} rejected, {} already imported in {seconds:.2} s ({} lines/s) into {}",
            report.files,
            thousands(report.lines),
            thousands(report.imported),
            thousands(report.rejected),
            thousands(report.already_imported),
            thousands(report.lines_per_second as u64),
            match report.store {
                Some(store) => format!("{store} (files' progress in {})", report.database),
                None => report.database.clone(),
            }
        )?;
    }
    out.flush()?;
    if let Some(msg) = busy {
        return Err(TempFailError(format!(
            "the database stayed locked or the store did not take the rows; run the import again later ({msg})"
        ))
        .into());
    }
    Ok(if errors.is_empty() {
        ExitCode::Success
    } else {
        ExitCode::Failure
    })
}
