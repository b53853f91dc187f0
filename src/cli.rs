//! The command line: top-level `Cli`, the `Command` enum, and flags shared by several commands.
//! Also the source of the man pages and shell completions.

use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::cmd;
use crate::config::{Key, Value};
use crate::duration;
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

/// The parser of a flag setting the duration `key`: the same reading and range as its
/// `LOGTALLY_*` variable and file value, so `--flush-interval 99999999999999999999s` is a usage
/// error naming the flag and the range rather than a panic (issue #15).
pub fn duration_flag(
    key: &'static Key,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |s| match key.check(s)? {
        Value::Duration(d) => Ok(d),
        _ => Err(format!("{} is not a duration setting", key.name)),
    }
}

/// The parser of a flag setting the count `key`, with its range.
pub fn count_flag(
    key: &'static Key,
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |s| match key.check(s)? {
        Value::Count(n) => Ok(n),
        _ => Err(format!("{} is not a count setting", key.name)),
    }
}

/// The parser of a duration flag that is no setting, from `min` to `max`.
pub fn duration_in(
    min: Duration,
    max: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |s| duration::parse_in(s, min, max).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use proptest::prelude::*;

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
    fn flags_take_the_range_of_their_setting() {
        let flush = duration_flag(&crate::config::TAIL_FLUSH_INTERVAL);
        assert_eq!(flush("2s"), Ok(Duration::from_secs(2)));
        assert!(flush("99999999999999999999s")
            .unwrap_err()
            .contains("from 100ms to 1h"));
        let keep = count_flag(&crate::config::RETENTION_KEEP_DAYS);
        assert_eq!(keep("7"), Ok(7));
        assert!(keep("4294967295").unwrap_err().contains("1 to 36500"));
        assert!(keep("0").is_err());
    }

    /// The value-taking flags of every subcommand, with its path (`["config", "check"]`), and the
    /// positional arguments it needs.
    fn value_flags() -> Vec<(Vec<String>, String, Vec<String>)> {
        fn walk(
            cmd: &clap::Command,
            path: Vec<String>,
            out: &mut Vec<(Vec<String>, String, Vec<String>)>,
        ) {
            let positional: Vec<String> = cmd
                .get_positionals()
                .filter(|a| a.is_required_set())
                .map(|_| "x".to_string())
                .collect();
            for arg in cmd.get_arguments() {
                let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
                if let (Some(long), true) = (arg.get_long(), takes_value) {
                    out.push((path.clone(), format!("--{long}"), positional.clone()));
                }
            }
            for sub in cmd.get_subcommands() {
                let mut p = path.clone();
                p.push(sub.get_name().to_string());
                walk(sub, p, out);
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut out = Vec::new();
        walk(&cmd, Vec::new(), &mut out);
        out
    }

    #[test]
    fn the_flags_are_found() {
        let flags = value_flags();
        let has = |sub: &str, flag: &str| {
            flags
                .iter()
                .any(|(p, f, _)| p.first().map(String::as_str) == Some(sub) && f == flag)
        };
        assert!(has("tail", "--flush-interval"));
        assert!(has("cleanup", "--keep-days"));
        assert!(has("live", "--interval"));
        assert!(flags.len() > 30, "{}", flags.len());
    }

    /// Text that value parsers find hard: numbers too large for any type, units, signs.
    fn flag_value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "-?[0-9]{1,30}(\\.[0-9]{0,8})?(ms|s|m|min|h|d|)",
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|x| x.to_string()),
            "[0-9:.\\[\\]a-f]{1,45}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_text_for_any_flag_parses_or_fails_without_panicking(value in flag_value()) {
            for (path, flag, positional) in value_flags() {
                let argv = std::iter::once("logtally".to_string())
                    .chain(path)
                    .chain([flag, value.clone()])
                    .chain(positional);
                let _ = Cli::try_parse_from(argv);
            }
        }
    }
}
