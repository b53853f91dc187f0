//! The command line: top-level `Cli`, the `Command` enum, and flags shared by several commands.
//! Also the source of the man pages and shell completions.

use clap::{Parser, Subcommand, ValueEnum};

use crate::cmd;
use crate::exit::UsageError;
use crate::parse::{Format, FormatChoice, NginxFormat};

/// Private web analytics from the access logs your web server already writes.
#[derive(Debug, Parser)]
#[command(name = "logtally", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Configuration file [default: /etc/logtally/logtally.toml when it exists].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse log files and report formats, rejects and time range, writing nothing.
    Check(cmd::check::Args),
    /// Follow access logs as they are written (run it under systemd), exactly once across
    /// rotation, crashes and restarts.
    Tail(cmd::tail::Args),
    /// Load historical or rotated logs (plain, .gz or stdin) into the database, exactly once.
    Import(cmd::import::Args),
    /// Compute daily rollups (visitors, page views, sources...) from raw events; run from cron.
    Rollup(cmd::rollup::Args),
    /// Delete raw events past retention, never a day that is not rolled up; run from cron.
    Cleanup(cmd::cleanup::Args),
    /// Show visitors, page views, sources, pages, browsers... from the rollups.
    Stats(cmd::stats::Args),
    /// Show who is on the site now, from the running tail's memory.
    Live(cmd::live::Args),
    /// Check the configuration file and show the settings in effect, or print an example.
    Config(cmd::config::Args),
    /// Write man pages and shell completions from this command line's definition.
    #[command(hide = true)]
    Generate(cmd::generate::Args),
}

/// Log formats selectable with `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatName {
    /// Detect from the first lines.
    Auto,
    /// nginx/Apache combined (also reads common lines).
    Combined,
    /// NCSA/Apache common log format.
    Common,
    /// combined with the virtual host first (%v:%p / $host).
    Vcombined,
    /// Caddy v2 JSON access log.
    Caddy,
}

/// `--format` and `--log-format`.
#[derive(Clone, Debug, clap::Args)]
pub struct FormatArgs {
    /// Log format of the input.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatName::Auto)]
    pub format: FormatName,
    /// An nginx log_format string (as in nginx.conf); overrides --format.
    #[arg(long, value_name = "STRING")]
    pub log_format: Option<String>,
}

impl FormatArgs {
    /// Whether neither flag was given.
    pub fn is_default(&self) -> bool {
        self.format == FormatName::Auto && self.log_format.is_none()
    }

    /// Resolves the flags into a format choice; a bad `--log-format` is a usage error.
    pub fn choice(&self) -> Result<FormatChoice, UsageError> {
        if let Some(s) = &self.log_format {
            let f = NginxFormat::compile(s)
                .map_err(|e| UsageError(format!("invalid --log-format: {e}")))?;
            return Ok(FormatChoice::Fixed(Format::Nginx(f)));
        }
        Ok(match self.format {
            FormatName::Auto => FormatChoice::Auto,
            FormatName::Combined => FormatChoice::Fixed(Format::Combined),
            FormatName::Common => FormatChoice::Fixed(Format::Common),
            FormatName::Vcombined => FormatChoice::Fixed(Format::Vcombined),
            FormatName::Caddy => FormatChoice::Fixed(Format::Caddy),
        })
    }
}

/// Flags of the commands that read logs into the database (`import`, `tail`).
#[derive(Clone, Debug, clap::Args)]
pub struct IngestArgs {
    /// Database file [default: $LOGTALLY_DB, else the config's db, else
    /// /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db].
    #[arg(long, value_name = "PATH")]
    pub db: Option<std::path::PathBuf>,
    /// `--format` and `--log-format`.
    #[command(flatten)]
    pub format: FormatArgs,
    /// Site name for every hit (default: the host field of the log, else "default").
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// IANA time zone of day boundaries (default: TZ, else the system's, else UTC).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// A GeoLite2/GeoIP2 Country or DB-IP country database (.mmdb) to record each hit's country;
    /// it must be given when the lines are read, since addresses are never stored.
    #[arg(long, value_name = "FILE.mmdb")]
    pub geoip: Option<std::path::PathBuf>,
    /// More user-agent patterns of bots, checked before the built-in ones: lines of
    /// `category<TAB>substring` (see `logtally check --bots`).
    #[arg(long, value_name = "FILE")]
    pub bot_agents: Option<std::path::PathBuf>,
}

impl IngestArgs {
    /// How to read the files of a configured source: the flags' format and site where given,
    /// else the source's.
    pub fn read_as(
        &self,
        source: &crate::config::Source,
    ) -> Result<(FormatChoice, Option<String>), UsageError> {
        let choice = if self.format.is_default() {
            source_choice(source)?
        } else {
            self.format.choice()?
        };
        Ok((choice, self.site.clone().or_else(|| source.site.clone())))
    }
}

/// The format of a configured source (its `format` name or `log_format` string).
fn source_choice(source: &crate::config::Source) -> Result<FormatChoice, UsageError> {
    let format = match source.format.as_deref() {
        None | Some("auto") => FormatName::Auto,
        Some(name) => FormatName::from_str(name, false).map_err(|e| {
            UsageError(format!(
                "source {} (line {}): {e}",
                source.path, source.line
            ))
        })?,
    };
    FormatArgs {
        format,
        log_format: source.log_format.clone(),
    }
    .choice()
}

/// Parses a duration flag: `500ms`, `5s`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration; write it like 500ms, 5s, 2m or 1h"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        u => return Err(format!("unknown unit {u:?} in {s:?}; use ms, s, m or h")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("{s:?} is not a duration"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::time::Duration;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_examples_in_its_help() {
        for sub in Cli::command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
        {
            let after = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(
                after.contains("Examples:\n  logtally"),
                "{} --help has no examples",
                sub.get_name()
            );
        }
    }

    #[test]
    fn durations_read_with_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("5 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_duration("soon").is_err());
    }
}
