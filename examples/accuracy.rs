//! How close logtally's human figures are to the truth: imports a log with the real binary into a
//! fresh database, rolls it up, and compares every stored event with the line's truth.
//!
//! ```sh
//! cargo build --release && cargo run --release --example accuracy -- \
//!     labels ../shared/corpus/nginx-korea-vps-2024.log benches/labels/nginx-korea-vps-2024.tsv
//! cargo run --release --example accuracy -- model --lines 1000000 --days 30 --seed 7
//! ```
//!
//! `labels` reads a hand-labelled log (`benches/labels/`, one row per client-day); `model` writes a
//! log of the labelled traffic model (`logtally::genlog::model`) and scores that. Prints the
//! confusion table: page views and visitors reported against true, bots' page views counted,
//! people's lost, and the share caught per class.

#[path = "../tests/common/score.rs"]
mod score;

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Parser, Subcommand};
#[path = "../tests/genlog/mod.rs"]
mod genlog;
use genlog::model;
use logtally::parse::{detect, Format};

#[derive(Parser)]
struct Args {
    /// The logtally binary to measure.
    #[arg(long, default_value = "target/release/logtally", global = true)]
    bin: PathBuf,
    /// Print one tab-separated line instead of the table: truth page views, reported, bots'
    /// counted, lost, truth visitors, reported visitors.
    #[arg(long, global = true)]
    summary: bool,
    /// Print, per bot reason, a tab-separated line: the reason, bots' page hits it flagged, and
    /// people's page views it cost.
    #[arg(long, global = true)]
    by_reason: bool,
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// A real log and its labels.
    Labels {
        /// The log.
        log: PathBuf,
        /// Its labels (TSV, one row per client-day).
        labels: PathBuf,
        /// Also print the lines counted or lost wrongly.
        #[arg(long)]
        detail: bool,
    },
    /// A log of the traffic model, with its own truth.
    Model {
        /// Lines to write.
        #[arg(long, default_value_t = 1_000_000)]
        lines: u64,
        /// Days the log spans.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Keep the log and its truth here.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
}

/// Imports and rolls up `log` into a fresh database in `dir`.
fn import(bin: &Path, dir: &Path, log: &Path) -> PathBuf {
    let db = dir.join("accuracy.db");
    for args in [
        vec!["import", "--tz", "UTC", "--db"],
        vec!["rollup", "--tz", "UTC", "--db"],
    ] {
        let status = Command::new(bin)
            .args(&args)
            .arg(&db)
            .args(if args[0] == "import" {
                vec![log]
            } else {
                vec![]
            })
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run logtally");
        assert!(status.success(), "logtally {} failed", args[0]);
    }
    db
}

fn main() {
    let args = Args::parse();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let table = match args.what {
        What::Labels {
            log,
            labels,
            detail,
        } => {
            let text = std::fs::read(&log).expect("read the log");
            let format = detect(text.split(|c| *c == b'\n').take(200)).unwrap_or(Format::Combined);
            let truth = score::truth_from_labels(
                &text,
                &format,
                &std::fs::read_to_string(&labels).expect("read the labels"),
            );
            let db = import(&args.bin, dir.path(), &log);
            let table = score::score(&text, &format, &truth, &db);
            if detail {
                let lines: Vec<&[u8]> = text.split(|c| *c == b'\n').collect();
                let show = |n: usize| String::from_utf8_lossy(lines[n - 1]).into_owned();
                for n in &table.bot_pageview_lines {
                    println!("counted {n} [{}] {}", truth[n - 1].class, show(*n));
                }
                for n in &table.non_page_lines {
                    println!("not-a-page {n} {}", show(*n));
                }
                for (n, reason) in &table.lost_lines {
                    let name = logtally::classify::bots::Reason::from_code(*reason)
                        .map_or("?", |r| r.name());
                    println!("lost {n} [{name}] {}", show(*n));
                }
            }
            table
        }
        What::Model {
            lines,
            days,
            seed,
            keep,
        } => {
            let (log, truth) = model::generate_labelled(&model::Config {
                lines,
                days,
                seed,
                ..model::Config::default()
            });
            let at = keep.unwrap_or_else(|| dir.path().to_path_buf());
            std::fs::create_dir_all(&at).expect("create the folder");
            let path = at.join("model.log");
            std::fs::write(&path, &log).expect("write the log");
            std::fs::write(
                at.join("model.truth"),
                truth
                    .iter()
                    .map(|t| {
                        format!(
                            "{} {} {}\n",
                            if t.human { "human" } else { "bot" },
                            t.class,
                            u8::from(t.pageview)
                        )
                    })
                    .collect::<String>(),
            )
            .expect("write the truth");
            let truth: Vec<score::Truth> = truth.into_iter().map(score::Truth::from).collect();
            let db = import(&args.bin, dir.path(), &path);
            score::score(&log, &Format::Combined, &truth, &db)
        }
    };
    if args.by_reason {
        let mut lost: std::collections::BTreeMap<u8, u64> = Default::default();
        for (_, code) in &table.lost_lines {
            *lost.entry(*code).or_default() += 1;
        }
        let codes: std::collections::BTreeSet<u8> = table
            .caught_by_reason
            .keys()
            .chain(lost.keys())
            .copied()
            .collect();
        for code in codes {
            let name = logtally::classify::bots::Reason::from_code(code).map_or("?", |r| r.name());
            println!(
                "{name}\t{}\t{}",
                table.caught_by_reason.get(&code).copied().unwrap_or(0),
                lost.get(&code).copied().unwrap_or(0)
            );
        }
        println!("(not a page view)\t-\t{}", table.lost_as_non_page);
    } else if args.summary {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            table.truth_pageviews,
            table.reported_pageviews,
            table.bot_pageviews_counted,
            table.lost_as_bot + table.lost_as_non_page,
            table.truth_visitors,
            table.reported_visitors
        );
    } else {
        print!("{table}");
    }
}
