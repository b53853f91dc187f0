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
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse log files and report formats, rejects and time range, writing nothing.
    Check(cmd::check::Args),
    /// Load historical or rotated logs (plain, .gz or stdin) into the database, exactly once.
    Import(cmd::import::Args),
    /// Compute daily rollups (visitors, page views, sources...) from raw events; run from cron.
    Rollup(cmd::rollup::Args),
    /// Delete raw events past retention, never a day that is not rolled up; run from cron.
    Cleanup(cmd::cleanup::Args),
    /// Show visitors, page views, sources, pages, browsers... from the rollups.
    Stats(cmd::stats::Args),
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
