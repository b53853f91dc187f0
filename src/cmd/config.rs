//! `logtally config`: check a configuration file and show the settings in effect, or print a
//! commented example.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Subcommand;
use tabled::builder::Builder;
use tabled::settings::Style;

use crate::config;
use crate::exit::{ExitCode, UsageError};
use crate::settings::Settings;

/// Arguments of `logtally config`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    logtally config check                         # /etc/logtally/logtally.toml, or --config FILE\n  \
    logtally config check ./logtally.toml --json\n  \
    logtally config example > /etc/logtally/logtally.toml\n\n\
    Precedence: flags, then LOGTALLY_* environment variables (LOGTALLY_DB,\n\
    LOGTALLY_TAIL__FLUSH_INTERVAL: the key in capitals, sections joined by \"__\"), then the file,\n\
    then the defaults.\n\n\
    Exit status: 0 valid, 2 the file has an error (printed with its line).")]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Validate a configuration file and print the effective settings with where each comes from.
    Check {
        /// The file [default: --config, else /etc/logtally/logtally.toml].
        file: Option<PathBuf>,
        /// Print the settings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a commented example configuration with every setting and its default.
    Example,
}

#[derive(serde::Serialize)]
struct Report<'a> {
    file: Option<String>,
    settings: Vec<crate::settings::Effective>,
    sources: Vec<SourceReport<'a>>,
}

#[derive(serde::Serialize)]
struct SourceReport<'a> {
    path: &'a str,
    format: &'a str,
    site: Option<&'a str>,
    line: usize,
}

/// Runs `logtally config`.
pub fn run(args: Args, config_flag: Option<&Path>) -> Result<ExitCode> {
    let (file, json) = match args.action {
        Action::Example => {
            print!("{}", config::EXAMPLE);
            return Ok(ExitCode::Success);
        }
        Action::Check { file, json } => (file, json),
    };
    let path = file
        .or_else(|| config_flag.map(Path::to_path_buf))
        .or_else(|| {
            let p = PathBuf::from(config::DEFAULT_PATH);
            p.exists().then_some(p)
        });
    let loaded = match &path {
        Some(p) => Some(config::load(p).map_err(|e| UsageError(e.to_string()))?),
        None => None,
    };
    let settings = Settings::from_file(loaded).map_err(|e| UsageError(e.to_string()))?;
    let report = Report {
        file: path.as_ref().map(|p| p.display().to_string()),
        settings: settings.effective()?,
        sources: settings
            .sources()
            .iter()
            .map(|s| SourceReport {
                path: &s.path,
                format: s
                    .log_format
                    .as_deref()
                    .or(s.format.as_deref())
                    .unwrap_or("auto"),
                site: s.site.as_deref(),
                line: s.line,
            })
            .collect(),
    };
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(ExitCode::Success);
    }
    match &report.file {
        Some(f) => writeln!(out, "{f}: valid")?,
        None => writeln!(
            out,
            "no configuration file ({} does not exist); settings from the environment and defaults:",
            config::DEFAULT_PATH
        )?,
    }
    let mut b = Builder::default();
    b.push_record(["setting", "value", "from"]);
    for e in &report.settings {
        b.push_record([
            e.name,
            if e.value.is_empty() { "-" } else { &e.value },
            &e.origin,
        ]);
    }
    writeln!(out, "\n{}", b.build().with(Style::psql()))?;
    if !report.sources.is_empty() {
        let mut b = Builder::default();
        b.push_record(["source", "format", "site", "line"]);
        for s in &report.sources {
            b.push_record([
                s.path,
                s.format,
                s.site.unwrap_or("(host field)"),
                &s.line.to_string(),
            ]);
        }
        writeln!(out, "\n{}", b.build().with(Style::psql()))?;
    }
    Ok(ExitCode::Success)
}
