//! The TOML configuration file: read with `deny_unknown_fields` and every value kept with its line,
//! so an unknown key, a wrong type or a bad glob is reported as `FILE:LINE`. Also the table of
//! settings ([`KEYS`]) with their environment variables and defaults, shared by the layering in
//! `settings` and by `logtally config check`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::{Spanned, Value};

use crate::parse::NginxFormat;
use crate::source::paths::Pattern;

/// Read when `--config` is not given and the file exists.
pub const DEFAULT_PATH: &str = "/etc/logtally/logtally.toml";

/// A commented example configuration (`logtally config example`).
pub const EXAMPLE: &str = include_str!("../contrib/logtally.toml");

/// What a setting's value must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A file path.
    Path,
    /// An IANA time zone name.
    Zone,
    /// A duration: `500ms`, `5s`, `2m`, `1h`.
    Duration,
    /// A whole number of at least 1.
    Count,
    /// A number from 0 to 1.
    Share,
    /// `true` or `false`.
    Bool,
    /// `start` or `end`.
    From,
    /// A loopback `address:port`.
    Addr,
}

/// One setting.
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

const fn key(
    name: &'static str,
    env: &'static str,
    kind: Kind,
    default: &'static str,
    help: &'static str,
) -> Key {
    Key {
        name,
        env,
        kind,
        default,
        help,
    }
}

/// Every setting of the file and of `LOGTALLY_*` variables. Flags of the same name win over both.
pub const KEYS: &[Key] = &[
    key("db", "LOGTALLY_DB", Kind::Path, "", "database file (default /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db)"),
    key("tz", "LOGTALLY_TZ", Kind::Zone, "", "IANA time zone of day boundaries (default TZ, else the system's, else UTC)"),
    key("geoip", "LOGTALLY_GEOIP", Kind::Path, "", "country database (.mmdb) used by import and tail"),
    key("bot_agents", "LOGTALLY_BOT_AGENTS", Kind::Path, "", "more bot user-agent patterns, lines of category<TAB>substring"),
    key("referrer_spam", "LOGTALLY_REFERRER_SPAM", Kind::Path, "", "more referrer-spam hosts, one per line"),
    key("tail.flush_interval", "LOGTALLY_TAIL__FLUSH_INTERVAL", Kind::Duration, "5s", "commit at least this often"),
    key("tail.batch_size", "LOGTALLY_TAIL__BATCH_SIZE", Kind::Count, "10000", "commit as soon as this many hits wait"),
    key("tail.from", "LOGTALLY_TAIL__FROM", Kind::From, "start", "where a file never seen starts: start or end"),
    key("tail.poll", "LOGTALLY_TAIL__POLL", Kind::Bool, "false", "poll instead of inotify"),
    key("tail.poll_interval", "LOGTALLY_TAIL__POLL_INTERVAL", Kind::Duration, "250ms", "how often to poll"),
    key("tail.drain_idle", "LOGTALLY_TAIL__DRAIN_IDLE", Kind::Duration, "5s", "idle time before a rotated-away file is closed"),
    key("bots.max_per_minute", "LOGTALLY_BOTS__MAX_PER_MINUTE", Kind::Count, "60", "layer 3: more requests a minute flags a visitor at once (tail)"),
    key("bots.repeated_path", "LOGTALLY_BOTS__REPEATED_PATH", Kind::Count, "20", "layer 4: more hits on one path in a day"),
    key("bots.many_pageviews", "LOGTALLY_BOTS__MANY_PAGEVIEWS", Kind::Count, "100", "layer 4: more page views in a day"),
    key("bots.errors_min_requests", "LOGTALLY_BOTS__ERRORS_MIN_REQUESTS", Kind::Count, "10", "layer 4: at least this many requests..."),
    key("bots.errors_share", "LOGTALLY_BOTS__ERRORS_SHARE", Kind::Share, "0.5", "...of which more than this share are 4xx"),
    key("bots.monitor_min_visitors", "LOGTALLY_BOTS__MONITOR_MIN_VISITORS", Kind::Count, "20", "layer 4: an agent with more visitors in a day..."),
    key("bots.monitor_root_share", "LOGTALLY_BOTS__MONITOR_ROOT_SHARE", Kind::Share, "0.75", "...more than this share of hits on /..."),
    key("bots.monitor_no_referrer_share", "LOGTALLY_BOTS__MONITOR_NO_REFERRER_SHARE", Kind::Share, "0.75", "...and more than this share without referrer"),
    key("bots.rotation_agents", "LOGTALLY_BOTS__ROTATION_AGENTS", Kind::Count, "3", "layer 4: an address sending this many agents without subresources (a /24: twice as many)"),
    key("bots.spread_addresses", "LOGTALLY_BOTS__SPREAD_ADDRESSES", Kind::Count, "5", "layer 4: an agent from this many addresses in a day..."),
    key("bots.spread_share", "LOGTALLY_BOTS__SPREAD_SHARE", Kind::Share, "0.8", "...this share of them one or two hits without subresources"),
    key("retention.keep_days", "LOGTALLY_RETENTION__KEEP_DAYS", Kind::Count, "30", "days of raw events cleanup keeps"),
    key("live.window", "LOGTALLY_LIVE__WINDOW", Kind::Duration, "5m", "visitors seen within this time are on the site now"),
    key("live.socket", "LOGTALLY_LIVE__SOCKET", Kind::Path, "", "tail's live socket (default <db>.live.sock)"),
    key("live.http", "LOGTALLY_LIVE__HTTP", Kind::Addr, "", "also serve GET /live.json on this loopback address:port"),
];

/// The setting named `name`.
pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// Checks a value given as text (an environment variable, or a file value turned to text).
pub fn check_text(kind: Kind, s: &str) -> Result<(), String> {
    match kind {
        Kind::Path if s.is_empty() => Err("an empty path".into()),
        Kind::Path => Ok(()),
        Kind::Zone => s.parse::<chrono_tz::Tz>().map(|_| ()).map_err(|_| {
            format!("unknown time zone {s:?}; use an IANA name such as Europe/Berlin or UTC")
        }),
        Kind::Duration => crate::cli::parse_duration(s).map(|_| ()),
        Kind::Count => match s.parse::<u64>() {
            Ok(n) if n >= 1 && n <= u32::MAX as u64 => Ok(()),
            _ => Err(format!("{s:?} is not a whole number of at least 1")),
        },
        Kind::Share => match s.parse::<f64>() {
            Ok(x) if (0.0..=1.0).contains(&x) => Ok(()),
            _ => Err(format!("{s:?} is not a share from 0 to 1 (such as 0.75)")),
        },
        Kind::Bool => match s {
            "true" | "false" => Ok(()),
            _ => Err(format!("{s:?} is not true or false")),
        },
        Kind::From => match s {
            "start" | "end" => Ok(()),
            _ => Err(format!("{s:?} is not start or end")),
        },
        Kind::Addr => match s.parse::<std::net::SocketAddr>() {
            Ok(a) if a.ip().is_loopback() => Ok(()),
            Ok(_) => Err(format!("{s} is not a loopback address; use 127.0.0.1:PORT")),
            Err(_) => Err(format!(
                "{s:?} is not an address:port such as 127.0.0.1:8123"
            )),
        },
    }
}

/// A file value as text, if it has the right TOML type for `kind`.
fn value_text(kind: Kind, v: &Value) -> Result<String, String> {
    let text = match (kind, v) {
        (Kind::Count, Value::Integer(n)) => n.to_string(),
        (Kind::Share, Value::Float(x)) => x.to_string(),
        (Kind::Share, Value::Integer(n)) => n.to_string(),
        (Kind::Bool, Value::Boolean(b)) => b.to_string(),
        (Kind::Count | Kind::Share | Kind::Bool, other) => {
            return Err(format!(
                "expected {}, found {}",
                match kind {
                    Kind::Count => "a whole number",
                    Kind::Share => "a number from 0 to 1",
                    _ => "true or false",
                },
                other.type_str()
            ))
        }
        (_, Value::String(s)) => s.clone(),
        (_, other) => return Err(format!("expected a string, found {}", other.type_str())),
    };
    check_text(kind, &text)?;
    Ok(text)
}

type Leaf = Option<Spanned<Value>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModel {
    db: Leaf,
    tz: Leaf,
    geoip: Leaf,
    bot_agents: Leaf,
    referrer_spam: Leaf,
    page_include: Option<Spanned<Vec<String>>>,
    page_exclude: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    source: Vec<SourceModel>,
    #[serde(default)]
    tail: TailModel,
    #[serde(default)]
    bots: BotsModel,
    #[serde(default)]
    retention: RetentionModel,
    #[serde(default)]
    live: LiveModel,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceModel {
    path: Spanned<String>,
    format: Option<Spanned<String>>,
    log_format: Option<Spanned<String>>,
    site: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TailModel {
    flush_interval: Leaf,
    batch_size: Leaf,
    from: Leaf,
    poll: Leaf,
    poll_interval: Leaf,
    drain_idle: Leaf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BotsModel {
    max_per_minute: Leaf,
    repeated_path: Leaf,
    many_pageviews: Leaf,
    errors_min_requests: Leaf,
    errors_share: Leaf,
    monitor_min_visitors: Leaf,
    monitor_root_share: Leaf,
    monitor_no_referrer_share: Leaf,
    rotation_agents: Leaf,
    spread_addresses: Leaf,
    spread_share: Leaf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionModel {
    keep_days: Leaf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LiveModel {
    window: Leaf,
    socket: Leaf,
    http: Leaf,
}

impl FileModel {
    fn leaves(&self) -> [(&'static str, &Leaf); 26] {
        [
            ("db", &self.db),
            ("tz", &self.tz),
            ("geoip", &self.geoip),
            ("bot_agents", &self.bot_agents),
            ("referrer_spam", &self.referrer_spam),
            ("tail.flush_interval", &self.tail.flush_interval),
            ("tail.batch_size", &self.tail.batch_size),
            ("tail.from", &self.tail.from),
            ("tail.poll", &self.tail.poll),
            ("tail.poll_interval", &self.tail.poll_interval),
            ("tail.drain_idle", &self.tail.drain_idle),
            ("bots.max_per_minute", &self.bots.max_per_minute),
            ("bots.repeated_path", &self.bots.repeated_path),
            ("bots.many_pageviews", &self.bots.many_pageviews),
            ("bots.errors_min_requests", &self.bots.errors_min_requests),
            ("bots.errors_share", &self.bots.errors_share),
            ("bots.monitor_min_visitors", &self.bots.monitor_min_visitors),
            ("bots.monitor_root_share", &self.bots.monitor_root_share),
            (
                "bots.monitor_no_referrer_share",
                &self.bots.monitor_no_referrer_share,
            ),
            ("bots.rotation_agents", &self.bots.rotation_agents),
            ("bots.spread_addresses", &self.bots.spread_addresses),
            ("bots.spread_share", &self.bots.spread_share),
            ("retention.keep_days", &self.retention.keep_days),
            ("live.window", &self.live.window),
            ("live.socket", &self.live.socket),
            ("live.http", &self.live.http),
        ]
    }
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

/// A loaded and checked configuration file.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Values by setting name, as text, with their line.
    pub values: HashMap<&'static str, (String, usize)>,
    /// `[[source]]` tables, in order.
    pub sources: Vec<Source>,
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
    for (name, leaf) in model.leaves() {
        let Some(v) = leaf else { continue };
        let kind = find(name).expect("every leaf is a key").kind;
        let text_value = value_text(kind, v.get_ref()).map_err(|m| invalid(v.span(), name, m))?;
        values.insert(name, (text_value, line_of(text, v.span().start)));
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
    Ok(ConfigFile {
        path: path.to_path_buf(),
        values,
        sources,
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
        assert_eq!(c.values["tail.flush_interval"].0, "5s");
    }

    #[test]
    fn values_keep_their_lines() {
        let c = parse_str("db = \"/x.db\"\n\n[bots]\nerrors_share = 0.6\nmany_pageviews = 150\n\n[[source]]\npath = \"/var/log/nginx/*.log\"\nsite = \"example.com\"\n").unwrap();
        assert_eq!(c.values["db"], ("/x.db".to_string(), 1));
        assert_eq!(c.values["bots.errors_share"], ("0.6".to_string(), 4));
        assert_eq!(c.values["bots.many_pageviews"].0, "150");
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
    fn every_key_has_an_env_name_from_its_name() {
        for k in KEYS {
            let expected = format!("LOGTALLY_{}", k.name.replace('.', "__").to_uppercase());
            assert_eq!(k.env, expected);
            if !k.default.is_empty() {
                check_text(k.kind, k.default).unwrap();
            }
        }
    }
}
