//! Flags shared by several commands (the log format, what `import` and `tail` read with), and the
//! value parsers that range-check a flag against its setting.

use std::time::Duration;

use clap::ValueEnum;

use crate::config::{Key, Value};
use crate::duration;
use crate::exit::UsageError;
use crate::parse::{Format, FormatChoice, NginxFormat};

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
    /// Site name for every hit (default: the host field of the log, else "default"); `{dir}`:
    /// the name of the folder that holds each file (a collector's `remote/HOST/access.log`).
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
    /// Store the events in ClickHouse (`clickhouse://HOST:8123/DATABASE`, its HTTP port) instead
    /// of the SQLite database, which keeps the files' progress; `sqlite`: the database, whatever
    /// clickhouse.url says [default: clickhouse.url].
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// This collector's name in the ClickHouse store's rows, unique among the servers that write
    /// to it [default: clickhouse.collector, else the host name].
    #[arg(long, value_name = "NAME")]
    pub collector: Option<String>,
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
