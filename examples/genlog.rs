//! Generates a realistic access log for tests and benchmarks.
//!
//! ```sh
//! cargo run --release --example genlog -- --lines 1000000 --seed 1 --days 30 --format combined > big.log
//! cargo run --release --example genlog -- --lines 10000 --format caddy --truth labels.txt > caddy.log
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
#[path = "../tests/genlog/mod.rs"]
mod genlog;
use genlog::{generate, Config, GenFormat};

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Combined,
    Caddy,
}

/// Writes a deterministic, realistic access log to stdout.
#[derive(Parser)]
struct Args {
    /// Number of lines.
    #[arg(long, default_value_t = 100_000)]
    lines: u64,
    /// Seed; the same seed writes the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Days the log spans.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Combined)]
    format: FormatArg,
    /// Also write one label per line (`human`, `bot <kind>`, `garbage`) to this file.
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Write the log to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    let cfg = Config {
        lines: args.lines,
        seed: args.seed,
        days: args.days,
        format: match args.format {
            FormatArg::Combined => GenFormat::Combined,
            FormatArg::Caddy => GenFormat::Caddy,
        },
        ..Config::default()
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::with_capacity(1 << 20, File::create(p)?)),
        None => Box::new(BufWriter::with_capacity(1 << 20, io::stdout().lock())),
    };
    let mut truth = match &args.truth {
        Some(p) => Some(BufWriter::new(File::create(p)?)),
        None => None,
    };
    generate(&cfg, &mut out, truth.as_mut().map(|t| t as &mut dyn Write))?;
    out.flush()?;
    if let Some(t) = truth.as_mut() {
        t.flush()?;
    }
    Ok(())
}
