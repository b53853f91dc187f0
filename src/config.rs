//! The TOML configuration file: read with `deny_unknown_fields` and every value kept with its line,
//! so an unknown key, a wrong type or a bad glob is reported as `FILE:LINE`. Also the table of
//! settings ([`KEYS`]) with their environment variables and defaults, shared by the layering in
//! `settings` and by `logtally config check`.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use crate::duration;
use crate::parse::NginxFormat;
use crate::source::paths::Pattern;

/// Read when `--config` is not given and the file exists.
pub const DEFAULT_PATH: &str = "/etc/logtally/logtally.toml";

/// A commented example configuration (`logtally config example`).
pub const EXAMPLE: &str = include_str!("../contrib/logtally.toml");

/// What a setting's value must look like, with the range it must lie in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A file path.
    Path,
    /// An IANA time zone name.
    Zone,
    /// A duration such as `500ms`, `5s`, `2m`, `1h`, from `min` to `max`.
    Duration {
        /// The shortest allowed.
        min: Duration,
        /// The longest allowed.
        max: Duration,
    },
    /// A whole number from `min` to `max`.
    Count {
        /// The smallest allowed.
        min: u64,
        /// The largest allowed.
        max: u64,
    },
    /// A number from 0 to 1.
    Share,
    /// `true` or `false`.
    Bool,
    /// `start` or `end`.
    From,
    /// A loopback `address:port`.
    Addr,
    /// A ClickHouse store's address, `clickhouse://HOST[:PORT]/DATABASE`.
    Store,
    /// A name of letters, digits, `.`, `-` and `_`.
    Name,
}

/// A checked setting value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A path.
    Path(PathBuf),
    /// A time zone.
    Zone(chrono_tz::Tz),
    /// A duration in range.
    Duration(Duration),
    /// A count in range.
    Count(u64),
    /// A share from 0 to 1.
    Share(f64),
    /// A switch.
    Bool(bool),
    /// `tail.from`: whether a file never seen starts at its end.
    FromEnd(bool),
    /// A loopback address.
    Addr(SocketAddr),
    /// A store address or a name, checked.
    Text(String),
}

/// One setting: the one place that names it, its variable, what it takes and its default.
#[derive(Debug)]
pub struct Key {
    /// `section.key` as in the file (`db` for top-level keys).
    pub name: &'static str,
    /// Its environment variable.
    pub env: &'static str,
    /// What it takes.
    pub kind: Kind,
    /// The default, as text (empty: none, or computed).
    pub default: &'static str,
    /// One line of help.
    pub help: &'static str,
}

impl Key {
    /// The section of the file it is in (`""` for top-level keys) and its name there.
    pub fn split(&self) -> (&'static str, &'static str) {
        self.name.split_once('.').unwrap_or(("", self.name))
    }

    /// Checks a value given as text (a flag, an environment variable, or a file value turned to
    /// text); the message names the allowed values and range.
    pub fn check(&self, s: &str) -> Result<Value, String> {
        match self.kind {
            Kind::Path if s.is_empty() => Err("an empty path".into()),
            Kind::Path => Ok(Value::Path(PathBuf::from(s))),
            Kind::Zone => s.parse::<chrono_tz::Tz>().map(Value::Zone).map_err(|_| {
                format!("unknown time zone {s:?}; use an IANA name such as Europe/Berlin or UTC")
            }),
            Kind::Duration { min, max } => duration::parse_in(s, min, max)
                .map(Value::Duration)
                .map_err(|e| e.to_string()),
            Kind::Count { min, max } => match s.trim().parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Value::Count(n)),
                _ => Err(format!(
                    "{s:?} is out of range; give a whole number from {min} to {max}"
                )),
            },
            Kind::Share => match s.parse::<f64>() {
                Ok(x) if (0.0..=1.0).contains(&x) => Ok(Value::Share(x)),
                _ => Err(format!("{s:?} is not a share from 0 to 1 (such as 0.75)")),
            },
            Kind::Bool => match s {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(format!("{s:?} is not true or false")),
            },
            Kind::From => match s {
                "start" => Ok(Value::FromEnd(false)),
                "end" => Ok(Value::FromEnd(true)),
                _ => Err(format!("{s:?} is not start or end")),
            },
            Kind::Addr => match s.parse::<SocketAddr>() {
                Ok(a) if a.ip().is_loopback() => Ok(Value::Addr(a)),
                Ok(_) => Err(format!("{s} is not a loopback address; use 127.0.0.1:PORT")),
                Err(_) => Err(format!(
                    "{s:?} is not an address:port such as 127.0.0.1:8123"
                )),
            },
            Kind::Store => crate::store::clickhouse::Address::parse(s)
                .map(|_| Value::Text(s.to_string()))
                .map_err(|e| e.to_string()),
            Kind::Name => {
                if !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                {
                    Ok(Value::Text(s.to_string()))
                } else {
                    Err(format!(
                        "{s:?} is not a name of letters, digits, '.', '-' and '_'"
                    ))
                }
            }
        }
    }

    /// Its default as a checked value, `None` when it has none (or it is computed).
    pub fn default_value(&self) -> Option<Value> {
        // The defaults are checked by a unit test, so this never turns one into `None`.
        self.check(self.default).ok()
    }
}

/// Writes the table of settings: a constant per setting, and [`KEYS`] listing them all.
macro_rules! keys {
    ($($id:ident = $name:literal, $env:literal, $kind:expr, $default:literal, $help:literal;)*) => {
        $(
            #[doc = concat!("`", $name, "`: ", $help, ".")]
            pub const $id: Key = Key {
                name: $name,
                env: $env,
                kind: $kind,
                default: $default,
                help: $help,
            };
        )*
        /// Every setting of the file and of `LOGTALLY_*` variables, in the order `config check`
        /// shows them. Flags of the same name win over both.
        pub const KEYS: &[&Key] = &[$(&$id),*];
    };
}

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

const fn count(min: u64, max: u64) -> Kind {
    Kind::Count { min, max }
}

const fn duration(min: Duration, max: Duration) -> Kind {
    Kind::Duration { min, max }
}

/// The largest of the `bots.*` thresholds counting requests, visitors or agents.
const BOT_COUNT_MAX: u64 = 1_000_000;

keys! {
    DB = "db", "LOGTALLY_DB", Kind::Path, "", "database file (default /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db)";
    TZ = "tz", "LOGTALLY_TZ", Kind::Zone, "", "IANA time zone of day boundaries (default TZ, else the system's, else UTC)";
    GEOIP = "geoip", "LOGTALLY_GEOIP", Kind::Path, "", "country database (.mmdb) used by import and tail";
    BOT_AGENTS = "bot_agents", "LOGTALLY_BOT_AGENTS", Kind::Path, "", "more bot user-agent patterns, lines of category<TAB>substring";
    REFERRER_SPAM = "referrer_spam", "LOGTALLY_REFERRER_SPAM", Kind::Path, "", "more referrer-spam hosts, one per line";
    TAIL_FLUSH_INTERVAL = "tail.flush_interval", "LOGTALLY_TAIL__FLUSH_INTERVAL", duration(ms(100), secs(3600)), "5s", "commit at least this often (100ms to 1h)";
    TAIL_BATCH_SIZE = "tail.batch_size", "LOGTALLY_TAIL__BATCH_SIZE", count(1, 1_000_000), "10000", "commit as soon as this many hits wait (1 to 1000000)";
    TAIL_FROM = "tail.from", "LOGTALLY_TAIL__FROM", Kind::From, "start", "where a file never seen starts: start or end";
    TAIL_POLL = "tail.poll", "LOGTALLY_TAIL__POLL", Kind::Bool, "false", "poll instead of inotify";
    TAIL_POLL_INTERVAL = "tail.poll_interval", "LOGTALLY_TAIL__POLL_INTERVAL", duration(ms(10), secs(3600)), "250ms", "how often to poll (10ms to 1h)";
    TAIL_DRAIN_IDLE = "tail.drain_idle", "LOGTALLY_TAIL__DRAIN_IDLE", duration(ms(100), secs(86_400)), "5s", "idle time before a rotated-away file is closed (100ms to 24h)";
    BOTS_MAX_PER_MINUTE = "bots.max_per_minute", "LOGTALLY_BOTS__MAX_PER_MINUTE", count(1, 100_000), "60", "layer 3: more requests a minute flags a visitor at once (tail; 1 to 100000)";
    BOTS_REPEATED_PATH = "bots.repeated_path", "LOGTALLY_BOTS__REPEATED_PATH", count(1, BOT_COUNT_MAX), "20", "layer 4: more hits on one path in a day";
    BOTS_MANY_PAGEVIEWS = "bots.many_pageviews", "LOGTALLY_BOTS__MANY_PAGEVIEWS", count(1, BOT_COUNT_MAX), "100", "layer 4: more page views in a day";
    BOTS_ERRORS_MIN_REQUESTS = "bots.errors_min_requests", "LOGTALLY_BOTS__ERRORS_MIN_REQUESTS", count(1, BOT_COUNT_MAX), "10", "layer 4: at least this many requests...";
    BOTS_ERRORS_SHARE = "bots.errors_share", "LOGTALLY_BOTS__ERRORS_SHARE", Kind::Share, "0.5", "...of which more than this share are 4xx";
    BOTS_MONITOR_MIN_VISITORS = "bots.monitor_min_visitors", "LOGTALLY_BOTS__MONITOR_MIN_VISITORS", count(1, BOT_COUNT_MAX), "20", "layer 4: an agent with more visitors in a day...";
    BOTS_MONITOR_ROOT_SHARE = "bots.monitor_root_share", "LOGTALLY_BOTS__MONITOR_ROOT_SHARE", Kind::Share, "0.75", "...more than this share of hits on /...";
    BOTS_MONITOR_NO_REFERRER_SHARE = "bots.monitor_no_referrer_share", "LOGTALLY_BOTS__MONITOR_NO_REFERRER_SHARE", Kind::Share, "0.75", "...and more than this share without referrer";
    BOTS_ROTATION_AGENTS = "bots.rotation_agents", "LOGTALLY_BOTS__ROTATION_AGENTS", count(1, BOT_COUNT_MAX), "3", "layer 4: an address sending this many agents without subresources (a /24: twice as many)";
    BOTS_SPREAD_ADDRESSES = "bots.spread_addresses", "LOGTALLY_BOTS__SPREAD_ADDRESSES", count(1, BOT_COUNT_MAX), "5", "layer 4: an agent from this many addresses in a day...";
    BOTS_SPREAD_SHARE = "bots.spread_share", "LOGTALLY_BOTS__SPREAD_SHARE", Kind::Share, "0.8", "...this share of them one or two hits without subresources";
    RETENTION_KEEP_DAYS = "retention.keep_days", "LOGTALLY_RETENTION__KEEP_DAYS", count(1, 36_500), "30", "days of raw events cleanup keeps (1 to 36500)";
    RETENTION_RECORD_DAYS = "retention.record_days", "LOGTALLY_RETENTION__RECORD_DAYS", count(0, 365_000), "0", "days of the permanent record of visits cleanup keeps (0: forever)";
    LIVE_WINDOW = "live.window", "LOGTALLY_LIVE__WINDOW", duration(secs(1), secs(86_400)), "5m", "visitors seen within this time are on the site now (1s to 24h)";
    LIVE_SOCKET = "live.socket", "LOGTALLY_LIVE__SOCKET", Kind::Path, "", "tail's live socket (default <db>.live.sock)";
    LIVE_HTTP = "live.http", "LOGTALLY_LIVE__HTTP", Kind::Addr, "", "also serve GET /live.json on this loopback address:port";
    CLICKHOUSE_URL = "clickhouse.url", "LOGTALLY_CLICKHOUSE__URL", Kind::Store, "", "store events and rollups in this ClickHouse store (clickhouse://HOST:8123/DATABASE) instead of the database, for import, tail, rollup, cleanup, stats and serve";
    CLICKHOUSE_COLLECTOR = "clickhouse.collector", "LOGTALLY_CLICKHOUSE__COLLECTOR", Kind::Name, "", "this server's name in the ClickHouse store's rows, unique among those writing to it (default the host name)";
}

/// The setting named `name`.
pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().copied().find(|k| k.name == name)
}

/// A file value as text, if it has the right TOML type for `kind`.
fn value_text(kind: Kind, v: &toml::Value) -> Result<String, String> {
    use toml::Value as V;
    Ok(match (kind, v) {
        (Kind::Count { .. }, V::Integer(n)) => n.to_string(),
        (Kind::Share, V::Float(x)) => x.to_string(),
        (Kind::Share, V::Integer(n)) => n.to_string(),
        (Kind::Bool, V::Boolean(b)) => b.to_string(),
        (Kind::Count { .. } | Kind::Share | Kind::Bool, other) => {
            return Err(format!(
                "expected {}, found {}",
                match kind {
                    Kind::Count { .. } => "a whole number",
                    Kind::Share => "a number from 0 to 1",
                    _ => "true or false",
                },
                other.type_str()
            ))
        }
        (_, V::String(s)) => s.clone(),
        (_, other) => return Err(format!("expected a string, found {}", other.type_str())),
    })
}

/// Sections of the file holding settings (`[tail]`, ...), from the table of keys.
fn sections() -> impl Iterator<Item = &'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    KEYS.iter().filter_map(move |k| {
        let (section, _) = k.split();
        (!section.is_empty() && !seen.contains(&section)).then(|| {
            seen.push(section);
            section
        })
    })
}

/// Top-level entries that are not settings.
const SOURCE: &str = "source";
const GOAL: &str = "goal";
const PAGE_INCLUDE: &str = "page_include";
const PAGE_EXCLUDE: &str = "page_exclude";

/// The names allowed in a section (`""`: at the top), for "unknown field" messages.
fn expected(section: &str) -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<(&'static str, Vec<&'static str>)>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut top: Vec<&'static str> = KEYS
            .iter()
            .filter(|k| k.split().0.is_empty())
            .map(|k| k.name)
            .collect();
        top.extend([PAGE_INCLUDE, PAGE_EXCLUDE, SOURCE, GOAL]);
        top.extend(sections());
        let mut all = vec![("", top)];
        for s in sections() {
            let keys = KEYS
                .iter()
                .map(|k| k.split())
                .filter(|(section, _)| *section == s)
                .map(|(_, name)| name)
                .collect();
            all.push((s, keys));
        }
        all
    });
    names
        .iter()
        .find(|(s, _)| *s == section)
        .map_or(&[], |(_, n)| n.as_slice())
}

/// The file as read: each setting with its value and place, sources and page patterns.
#[derive(Debug, Default)]
struct FileModel {
    values: Vec<(&'static Key, Spanned<toml::Value>)>,
    source: Vec<SourceModel>,
    goal: Vec<GoalModel>,
    page_include: Option<Spanned<Vec<String>>>,
    page_exclude: Option<Spanned<Vec<String>>>,
}

/// A name met in the file: a setting, a section of settings, or one of the other entries.
enum Field {
    Key(&'static Key),
    Section(&'static str),
    Other(&'static str),
}

/// Reads a name of `section` (`""`: the top level) against the table of keys, refusing unknown
/// names as `deny_unknown_fields` does (the TOML reader adds the line).
struct FieldSeed(&'static str);

impl<'de> DeserializeSeed<'de> for FieldSeed {
    type Value = Field;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Field, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for FieldSeed {
    type Value = Field;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a setting name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
        let found = KEYS.iter().find(|k| k.split() == (self.0, v));
        if let Some(key) = found {
            return Ok(Field::Key(key));
        }
        if self.0.is_empty() {
            if let Some(s) = sections().find(|s| *s == v) {
                return Ok(Field::Section(s));
            }
            if let Some(o) = [SOURCE, GOAL, PAGE_INCLUDE, PAGE_EXCLUDE]
                .into_iter()
                .find(|o| *o == v)
            {
                return Ok(Field::Other(o));
            }
        }
        Err(E::unknown_field(v, expected(self.0)))
    }
}

/// The settings of one section (`[tail]`, ...).
struct SectionSeed(&'static str);

impl<'de> DeserializeSeed<'de> for SectionSeed {
    type Value = Vec<(&'static Key, Spanned<toml::Value>)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SectionSeed {
    type Value = Vec<(&'static Key, Spanned<toml::Value>)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a table of {} settings", self.0)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values = Vec::new();
        while let Some(field) = map.next_key_seed(FieldSeed(self.0))? {
            if let Field::Key(key) = field {
                values.push((key, map.next_value()?));
            }
        }
        Ok(values)
    }
}

impl<'de> Deserialize<'de> for FileModel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FileModel, D::Error> {
        d.deserialize_map(RootVisitor)
    }
}

struct RootVisitor;

impl<'de> Visitor<'de> for RootVisitor {
    type Value = FileModel;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a logtally configuration")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FileModel, A::Error> {
        let mut model = FileModel::default();
        while let Some(field) = map.next_key_seed(FieldSeed(""))? {
            match field {
                Field::Key(key) => model.values.push((key, map.next_value()?)),
                Field::Section(s) => model.values.extend(map.next_value_seed(SectionSeed(s))?),
                Field::Other(SOURCE) => model.source = map.next_value()?,
                Field::Other(GOAL) => model.goal = map.next_value()?,
                Field::Other(PAGE_INCLUDE) => model.page_include = Some(map.next_value()?),
                Field::Other(_) => model.page_exclude = Some(map.next_value()?),
            }
        }
        Ok(model)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceModel {
    path: Spanned<String>,
    format: Option<Spanned<String>>,
    log_format: Option<Spanned<String>>,
    site: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GoalModel {
    name: Spanned<String>,
    path: String,
    method: Option<String>,
    status: Option<toml::Value>,
}

/// A log source of the file: which files, in which format, for which site.
#[derive(Clone, Debug)]
pub struct Source {
    /// Path or glob.
    pub path: String,
    /// `auto`, `combined`, `common`, `vcombined` or `caddy`.
    pub format: Option<String>,
    /// An nginx `log_format` string.
    pub log_format: Option<String>,
    /// Site name for its hits.
    pub site: Option<String>,
    /// Line of its `path` in the file.
    pub line: usize,
}

/// A checked value of the file.
#[derive(Clone, Debug, PartialEq)]
pub struct FileValue {
    /// As written (a number or switch turned to text).
    pub text: String,
    /// As checked.
    pub value: Value,
    /// Its line.
    pub line: usize,
}

/// A loaded and checked configuration file.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Values by setting name.
    pub values: HashMap<&'static str, FileValue>,
    /// `[[source]]` tables, in order.
    pub sources: Vec<Source>,
    /// `[[goal]]` tables, in order.
    pub goals: Vec<crate::query::goal::Goal>,
    /// `page_include`: paths that are pages whatever the built-in rules say (glob patterns).
    pub page_include: Vec<String>,
    /// `page_exclude`: paths that are never pages (glob patterns).
    pub page_exclude: Vec<String>,
}

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read.
    #[error("cannot read the config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not TOML, an unknown key, or a value of the wrong type.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message, with the line and a snippet.
        message: String,
    },
    /// An environment variable with a value that does not make sense.
    #[error("{var}: {message}")]
    Env {
        /// The variable.
        var: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A value that does not make sense.
    #[error("{path}:{line}: {key}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// Its line.
        line: usize,
        /// The setting.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Format names accepted by `format`.
pub const FORMATS: &[&str] = &["auto", "combined", "common", "vcombined", "caddy"];

/// Reads and checks a configuration file.
pub fn load(path: &Path) -> Result<ConfigFile, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(path, &text)
}

/// Parses and checks configuration text read from `path`.
pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, Error> {
    let shown = path.display().to_string();
    let model: FileModel = toml::from_str(text).map_err(|e| Error::Syntax {
        path: shown.clone(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let invalid = |span: std::ops::Range<usize>, key: &str, message: String| Error::Invalid {
        path: shown.clone(),
        line: line_of(text, span.start),
        key: key.to_string(),
        message,
    };
    let mut values = HashMap::new();
    for (key, v) in &model.values {
        let checked = value_text(key.kind, v.get_ref())
            .and_then(|t| Ok((key.check(&t)?, t)))
            .map_err(|m| invalid(v.span(), key.name, m))?;
        let (value, text_value) = checked;
        values.insert(
            key.name,
            FileValue {
                text: text_value,
                value,
                line: line_of(text, v.span().start),
            },
        );
    }
    let patterns = |list: &Option<Spanned<Vec<String>>>, key: &str| -> Result<Vec<String>, Error> {
        let Some(list) = list else {
            return Ok(Vec::new());
        };
        for p in list.get_ref() {
            glob::Pattern::new(p).map_err(|e| {
                invalid(
                    list.span(),
                    key,
                    format!("{p:?} is not a glob pattern: {e}"),
                )
            })?;
        }
        Ok(list.get_ref().clone())
    };
    let page_include = patterns(&model.page_include, "page_include")?;
    let page_exclude = patterns(&model.page_exclude, "page_exclude")?;
    let mut sources = Vec::new();
    for s in model.source {
        Pattern::new(s.path.get_ref())
            .map_err(|e| invalid(s.path.span(), "source.path", e.to_string()))?;
        if let (Some(_), Some(lf)) = (&s.format, &s.log_format) {
            return Err(invalid(
                lf.span(),
                "source.log_format",
                "give either format or log_format, not both".into(),
            ));
        }
        if let Some(f) = &s.format {
            if !FORMATS.contains(&f.get_ref().as_str()) {
                return Err(invalid(
                    f.span(),
                    "source.format",
                    format!("unknown format {:?}; use one of {}, or log_format for an nginx log_format string", f.get_ref(), FORMATS.join(", ")),
                ));
            }
        }
        if let Some(lf) = &s.log_format {
            NginxFormat::compile(lf.get_ref())
                .map_err(|e| invalid(lf.span(), "source.log_format", e.to_string()))?;
        }
        sources.push(Source {
            line: line_of(text, s.path.span().start),
            path: s.path.into_inner(),
            format: s.format.map(Spanned::into_inner),
            log_format: s.log_format.map(Spanned::into_inner),
            site: s.site,
        });
    }
    let mut goals = Vec::new();
    for g in model.goal {
        let status = g.status.as_ref().map(|v| match v {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let goal = crate::query::goal::Goal::new(
            g.name.get_ref(),
            &g.path,
            g.method.as_deref(),
            status.as_deref(),
        )
        .map_err(|e| invalid(g.name.span(), "goal", e))?;
        if goals
            .iter()
            .any(|x: &crate::query::goal::Goal| x.name == goal.name)
        {
            return Err(invalid(
                g.name.span(),
                "goal.name",
                format!("a second goal named {:?}: names must differ", goal.name),
            ));
        }
        goals.push(goal);
    }
    Ok(ConfigFile {
        path: path.to_path_buf(),
        values,
        sources,
        goals,
        page_include,
        page_exclude,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<ConfigFile, Error> {
        parse(Path::new("logtally.toml"), text)
    }

    #[test]
    fn the_example_is_valid_and_sets_what_it_says() {
        let c = parse_str(EXAMPLE).unwrap();
        assert!(!c.sources.is_empty());
        assert_eq!(c.values["tail.flush_interval"].text, "5s");
    }

    #[test]
    fn values_keep_their_lines() {
        let c = parse_str("db = \"/x.db\"\n\n[bots]\nerrors_share = 0.6\nmany_pageviews = 150\n\n[[source]]\npath = \"/var/log/nginx/*.log\"\nsite = \"example.com\"\n").unwrap();
        assert_eq!(
            (c.values["db"].text.as_str(), c.values["db"].line),
            ("/x.db", 1)
        );
        assert_eq!(
            (
                &c.values["bots.errors_share"].value,
                c.values["bots.errors_share"].line
            ),
            (&Value::Share(0.6), 4)
        );
        assert_eq!(c.values["bots.many_pageviews"].value, Value::Count(150));
        assert_eq!(
            (c.sources[0].line, c.sources[0].site.as_deref()),
            (8, Some("example.com"))
        );
    }

    #[test]
    fn unknown_keys_wrong_types_and_bad_values_name_their_line() {
        let e = parse_str("db = \"x\"\n[tail]\nflush_intervall = \"5s\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("unknown field `flush_intervall`"),
            "{e}"
        );
        let e = parse_str("[tail]\n\nbatch_size = \"many\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "logtally.toml:3: tail.batch_size: expected a whole number, found string"
        );
        let e = parse_str("[bots]\nerrors_share = 1.5\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("logtally.toml:2: bots.errors_share:"), "{e}");
        let e = parse_str("tz = \"Mars/Olympus\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":1: tz: unknown time zone"), "{e}");
        let e = parse_str("[[source]]\npath = \"/var/log/[.log\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("logtally.toml:2: source.path: invalid glob"),
            "{e}"
        );
        let e = parse_str("[[source]]\npath = \"a.log\"\nformat = \"json\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("logtally.toml:3: source.format: unknown format"),
            "{e}"
        );
        let e = parse_str("[[source]]\npath = \"a.log\"\nlog_format = \"$remote_addr\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("logtally.toml:3: source.log_format:"), "{e}");
        let e = parse_str("[live]\nhttp = \"0.0.0.0:80\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a loopback address"), "{e}");
        let e = parse_str("[clickhouse]\nurl = \"http://127.0.0.1:8123/x\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("toml:2") && e.contains("no ClickHouse address"),
            "{e}"
        );
        let e = parse_str("[clickhouse]\ncollector = \"web 1\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a name"), "{e}");
        let c = parse_str("[clickhouse]\nurl = \"clickhouse://db:8123/lt\"\n").unwrap();
        assert_eq!(c.values["clickhouse.url"].text, "clickhouse://db:8123/lt");
        let e = parse_str("db = \n").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn page_patterns_are_lists_of_globs() {
        let c = parse_str(
            "page_include = [\"/app/api/*\"]\npage_exclude = [\"/preview/*\", \"/draft-*\"]\n",
        )
        .unwrap();
        assert_eq!(c.page_include, vec!["/app/api/*".to_string()]);
        assert_eq!(c.page_exclude.len(), 2);
        let e = parse_str("\npage_exclude = [\"/[\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("logtally.toml:2: page_exclude:"), "{e}");
    }

    #[test]
    fn every_key_has_an_env_name_from_its_name_and_a_valid_default() {
        for k in KEYS {
            let expected = format!("LOGTALLY_{}", k.name.replace('.', "__").to_uppercase());
            assert_eq!(k.env, expected);
            if !k.default.is_empty() {
                k.check(k.default).unwrap();
                assert!(k.default_value().is_some());
            }
            assert_eq!(find(k.name).map(|f| f.env), Some(k.env));
        }
    }

    #[test]
    fn out_of_range_values_name_the_key_and_the_range() {
        let e = parse_str("[tail]\nflush_interval = \"99999999999999999999s\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "logtally.toml:2: tail.flush_interval: \"99999999999999999999s\" is out of range; give a duration from 100ms to 1h"
        );
        let e = parse_str("[retention]\nkeep_days = 4294967295\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("logtally.toml:2: retention.keep_days:") && e.contains("1 to 36500"),
            "{e}"
        );
        let e = parse_str("[tail]\nbatch_size = -1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("tail.batch_size"), "{e}");
        let e = parse_str("[live]\nwindow = \"0s\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("from 1s to 24h"), "{e}");
    }

    #[test]
    fn unknown_sections_and_top_level_keys_name_their_line() {
        let e = parse_str("db = \"x\"\n\n[tale]\nbatch_size = 5\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("unknown field `tale`"),
            "{e}"
        );
        let e = parse_str("[tail]\nbatch_size = 5\n[bots]\nflush_interval = \"5s\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 4") && e.contains("unknown field `flush_interval`"),
            "{e}"
        );
        let e = parse_str("tail = 5\n").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
    }
}
