//! Settings resolved once, in one place: a flag, else its `LOGTALLY_*` environment variable, else
//! the configuration file, else the default (see `config::KEYS`). The file and the environment are
//! checked and turned into typed values ([`TailSettings`], [`BotSettings`], ...) when loaded; each
//! command then takes its flags over them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chrono_tz::Tz;

use crate::classify::bots::AgentPatterns;
use crate::classify::spam::SpamList;
use crate::classify::{PageRules, Rules};
use crate::config::{self, ConfigFile, Key, Kind, Source, Value};
use crate::exit::UsageError;
use crate::rollup::behaviour::Thresholds;

/// Default database path for root (a system service).
pub const SYSTEM_DB: &str = "/var/lib/logtally/logtally.db";

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag.
    Flag,
    /// An environment variable.
    Env(&'static str),
    /// The configuration file, at a line.
    File(PathBuf, usize),
    /// The built-in default.
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag => write!(f, "flag"),
            Origin::Env(name) => write!(f, "${name}"),
            Origin::File(path, line) => write!(f, "{}:{line}", path.display()),
            Origin::Default => write!(f, "default"),
        }
    }
}

/// `[tail]`: how `logtally tail` commits and watches, as set (flags are applied by the command).
#[derive(Clone, Debug, PartialEq)]
pub struct TailSettings {
    /// `tail.flush_interval`.
    pub flush_interval: Duration,
    /// `tail.batch_size`.
    pub batch_size: u64,
    /// `tail.from`: whether a file never seen starts at its end.
    pub from_end: bool,
    /// `tail.poll`.
    pub poll: bool,
    /// `tail.poll_interval`.
    pub poll_interval: Duration,
    /// `tail.drain_idle`.
    pub drain_idle: Duration,
}

/// `[bots]`: the live view's rate limit (layer 3) and the rollup's thresholds (layer 4).
#[derive(Clone, Debug, PartialEq)]
pub struct BotSettings {
    /// `bots.max_per_minute`.
    pub max_per_minute: u32,
    /// The other `bots.*` settings.
    pub thresholds: Thresholds,
}

/// `[retention]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RetentionSettings {
    /// `retention.keep_days`.
    pub keep_days: u32,
    /// `retention.record_days` (0: forever).
    pub record_days: u32,
}

/// `[live]`.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveSettings {
    /// `live.window`.
    pub window: Duration,
    /// `live.socket`.
    pub socket: Option<PathBuf>,
    /// `live.http`.
    pub http: Option<SocketAddr>,
}

/// The configuration file (if any) and the environment, layered and resolved once into typed
/// `[clickhouse]`: the store used instead of the database's own tables.
#[derive(Clone, Debug, Default)]
pub struct ClickHouseSettings {
    /// `clickhouse.url`.
    pub url: Option<String>,
    /// `clickhouse.collector`.
    pub collector: Option<String>,
}

/// `--store sqlite`: the database's own tables, whatever `clickhouse.url` says.
pub const SQLITE_STORE: &str = "sqlite";

/// values; a command takes its flags over these.
#[derive(Clone, Debug)]
pub struct Settings {
    file: Option<ConfigFile>,
    /// Every key set in the environment or the file (the environment wins): text, value, origin.
    set: HashMap<&'static str, (String, Value, Origin)>,
    /// `geoip`.
    pub geoip: Option<PathBuf>,
    /// `[tail]`.
    pub tail: TailSettings,
    /// `[bots]`.
    pub bots: BotSettings,
    /// `[retention]`.
    pub retention: RetentionSettings,
    /// `[live]`.
    pub live: LiveSettings,
    /// `[clickhouse]`.
    pub clickhouse: ClickHouseSettings,
}

impl Default for Settings {
    /// The built-in defaults: no file, no environment.
    fn default() -> Settings {
        Settings::resolve(None, |_| None).expect("defaults are checked by config's tests")
    }
}

/// One setting as it is in effect.
#[derive(Debug, serde::Serialize)]
pub struct Effective {
    /// Setting name.
    pub name: &'static str,
    /// Value (empty: none).
    pub value: String,
    /// Where it came from.
    pub origin: String,
}

impl Settings {
    /// Reads `--config FILE`, else [`config::DEFAULT_PATH`] when it exists, else nothing.
    pub fn load(flag: Option<&Path>) -> Result<Settings, config::Error> {
        let path = match flag {
            Some(p) => Some(p.to_path_buf()),
            None => {
                let p = PathBuf::from(config::DEFAULT_PATH);
                p.exists().then_some(p)
            }
        };
        Settings::from_file(path.map(|p| config::load(&p)).transpose()?)
    }

    /// Settings from an already loaded file and the environment, whose `LOGTALLY_*` values are
    /// checked here, once.
    pub fn from_file(file: Option<ConfigFile>) -> Result<Settings, config::Error> {
        Settings::resolve(file, |var| {
            std::env::var(var).ok().filter(|v| !v.is_empty())
        })
    }

    /// Layers `env` (a `LOGTALLY_*` variable's value, if set) over `file` over the defaults and
    /// resolves every setting into its typed place.
    pub fn resolve(
        file: Option<ConfigFile>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, config::Error> {
        let mut set = HashMap::new();
        if let Some(f) = &file {
            for (name, v) in &f.values {
                let origin = Origin::File(f.path.clone(), v.line);
                set.insert(*name, (v.text.clone(), v.value.clone(), origin));
            }
        }
        for key in config::KEYS {
            if let Some(text) = env(key.env) {
                let value = key.check(&text).map_err(|message| config::Error::Env {
                    var: key.env,
                    message,
                })?;
                set.insert(key.name, (text, value, Origin::Env(key.env)));
            }
        }
        let layers = Layers(&set);
        let thresholds = Thresholds {
            repeated_path: layers.count32(&config::BOTS_REPEATED_PATH),
            many_pageviews: layers.count32(&config::BOTS_MANY_PAGEVIEWS),
            errors_min_requests: layers.count32(&config::BOTS_ERRORS_MIN_REQUESTS),
            errors_share: layers.share(&config::BOTS_ERRORS_SHARE),
            monitor_min_visitors: layers.count32(&config::BOTS_MONITOR_MIN_VISITORS),
            monitor_root_share: layers.share(&config::BOTS_MONITOR_ROOT_SHARE),
            monitor_no_referrer_share: layers.share(&config::BOTS_MONITOR_NO_REFERRER_SHARE),
            rotation_agents: layers.count32(&config::BOTS_ROTATION_AGENTS),
            spread_addresses: layers.count32(&config::BOTS_SPREAD_ADDRESSES),
            spread_share: layers.share(&config::BOTS_SPREAD_SHARE),
        };
        Ok(Settings {
            geoip: layers.path(&config::GEOIP),
            tail: TailSettings {
                flush_interval: layers.duration(&config::TAIL_FLUSH_INTERVAL),
                batch_size: layers.count(&config::TAIL_BATCH_SIZE),
                from_end: matches!(layers.get(&config::TAIL_FROM), Some(Value::FromEnd(true))),
                poll: matches!(layers.get(&config::TAIL_POLL), Some(Value::Bool(true))),
                poll_interval: layers.duration(&config::TAIL_POLL_INTERVAL),
                drain_idle: layers.duration(&config::TAIL_DRAIN_IDLE),
            },
            bots: BotSettings {
                max_per_minute: layers.count32(&config::BOTS_MAX_PER_MINUTE),
                thresholds,
            },
            retention: RetentionSettings {
                keep_days: layers.count32(&config::RETENTION_KEEP_DAYS),
                record_days: layers.count32(&config::RETENTION_RECORD_DAYS),
            },
            live: LiveSettings {
                window: layers.duration(&config::LIVE_WINDOW),
                socket: layers.path(&config::LIVE_SOCKET),
                http: match layers.get(&config::LIVE_HTTP) {
                    Some(Value::Addr(a)) => Some(a),
                    _ => None,
                },
            },
            clickhouse: ClickHouseSettings {
                url: layers.text(&config::CLICKHOUSE_URL),
                collector: layers.text(&config::CLICKHOUSE_COLLECTOR),
            },
            file,
            set,
        })
    }

    /// `[[source]]` tables of the file.
    pub fn sources(&self) -> &[Source] {
        self.file.as_ref().map_or(&[], |f| &f.sources)
    }

    /// The text of `key` from the environment or the file, with its origin.
    fn lookup(&self, key: &Key) -> Option<(String, Origin)> {
        self.set
            .get(key.name)
            .map(|(text, _, origin)| (text.clone(), origin.clone()))
    }

    /// A path setting: the flag if given, else as set.
    fn path(&self, key: &Key, flag: Option<&Path>) -> Option<PathBuf> {
        flag.map(Path::to_path_buf)
            .or_else(|| Layers(&self.set).path(key))
    }

    /// The database path: `--db`, else `LOGTALLY_DB`, else the file's `db`, else the system path
    /// for root, else `$XDG_DATA_HOME/logtally/logtally.db` (`~/.local/share/...` when unset).
    pub fn db_path(&self, flag: Option<&Path>) -> Result<PathBuf, UsageError> {
        if let Some(p) = self.path(&config::DB, flag) {
            return Ok(p);
        }
        if is_root() {
            return Ok(PathBuf::from(SYSTEM_DB));
        }
        let data = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(data.join("logtally").join("logtally.db"))
    }

    /// The ClickHouse store to use: `--store` (`sqlite` for none), else `clickhouse.url`; `None`
    /// for the database's own tables.
    pub fn store(&self, flag: Option<&str>) -> Option<String> {
        match flag {
            Some(SQLITE_STORE) => None,
            Some(url) => Some(url.to_string()),
            None => self.clickhouse.url.clone(),
        }
    }

    /// The configuration's `[[goal]]` tables.
    pub fn goals(&self) -> &[crate::query::goal::Goal] {
        self.file.as_ref().map_or(&[], |f| &f.goals[..])
    }

    /// The time zone: `--tz`, else `LOGTALLY_TZ`, else the file's `tz`, else `TZ`, else the
    /// system's (`/etc/timezone` or the `/etc/localtime` link), else UTC.
    pub fn time_zone(&self, flag: Option<&str>) -> Result<Tz, UsageError> {
        if let Some(name) = flag {
            return name.parse::<Tz>().map_err(|_| {
                UsageError(format!(
                    "unknown time zone {name:?} in --tz; use an IANA name such as Europe/Berlin or UTC"
                ))
            });
        }
        if let Some((_, Value::Zone(tz), _)) = self.set.get(config::TZ.name) {
            return Ok(*tz);
        }
        Ok(system_time_zone().unwrap_or(Tz::UTC))
    }

    /// The ingest rules: bot patterns (`--bot-agents` or `bot_agents`), referrer spam
    /// (`referrer_spam`) and page patterns (`page_include`, `page_exclude`), each over the built-in.
    pub fn rules(&self, bot_agents: Option<&Path>) -> anyhow::Result<Rules> {
        let spam = match self.path(&config::REFERRER_SPAM, None) {
            None => SpamList::builtin().clone(),
            Some(path) => SpamList::with_extra(
                &std::fs::read_to_string(&path)
                    .with_context(|| format!("reading referrer spam {}", path.display()))?,
            ),
        };
        let (include, exclude) = self.file.as_ref().map_or((&[][..], &[][..]), |f| {
            (&f.page_include[..], &f.page_exclude[..])
        });
        Ok(Rules {
            agents: self.bot_patterns(bot_agents)?,
            spam,
            pages: PageRules::new(include, exclude)
                .map_err(|e| UsageError(format!("page_include/page_exclude: {e}")))?,
        })
    }

    /// Bot patterns: the built-in list, plus `--bot-agents` or `bot_agents`.
    pub fn bot_patterns(&self, flag: Option<&Path>) -> anyhow::Result<AgentPatterns> {
        match self.path(&config::BOT_AGENTS, flag) {
            None => Ok(AgentPatterns::builtin().clone()),
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading bot agents {}", path.display()))?;
                AgentPatterns::with_extra(&text)
                    .map_err(|e| UsageError(format!("bot agents {}: {e}", path.display())).into())
            }
        }
    }

    /// Every setting as in effect without flags, with where it came from.
    pub fn effective(&self) -> Result<Vec<Effective>, UsageError> {
        config::KEYS
            .iter()
            .map(|k| {
                let (value, origin) = match self.lookup(k) {
                    Some((v, o)) => (v, o.to_string()),
                    None => {
                        let value = match k.name {
                            "db" => self.db_path(None)?.display().to_string(),
                            "tz" => self.time_zone(None)?.name().to_string(),
                            _ => k.default.to_string(),
                        };
                        (value, Origin::Default.to_string())
                    }
                };
                Ok(Effective {
                    name: k.name,
                    value,
                    origin,
                })
            })
            .collect()
    }
}

/// The values set in the environment or the file, read through with the defaults beneath.
struct Layers<'a>(&'a HashMap<&'static str, (String, Value, Origin)>);

impl Layers<'_> {
    /// The value in effect: as set, else the default (`None` when it has none).
    fn get(&self, key: &Key) -> Option<Value> {
        match self.0.get(key.name) {
            Some((_, value, _)) => Some(value.clone()),
            None => key.default_value(),
        }
    }

    fn duration(&self, key: &Key) -> Duration {
        match (self.get(key), key.kind) {
            (Some(Value::Duration(d)), _) => d,
            (_, Kind::Duration { min, .. }) => min,
            _ => Duration::ZERO,
        }
    }

    fn count(&self, key: &Key) -> u64 {
        match (self.get(key), key.kind) {
            (Some(Value::Count(n)), _) => n,
            (_, Kind::Count { min, .. }) => min,
            _ => 1,
        }
    }

    /// A count whose range fits in `u32` (every one of the `bots.*` and `retention.*`).
    fn count32(&self, key: &Key) -> u32 {
        u32::try_from(self.count(key)).unwrap_or(u32::MAX)
    }

    fn share(&self, key: &Key) -> f64 {
        match self.get(key) {
            Some(Value::Share(x)) => x,
            _ => 0.0,
        }
    }

    fn path(&self, key: &Key) -> Option<PathBuf> {
        match self.get(key) {
            Some(Value::Path(p)) => Some(p),
            _ => None,
        }
    }

    fn text(&self, key: &Key) -> Option<String> {
        match self.get(key) {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn system_time_zone() -> Option<Tz> {
    if let Some(tz) = std::env::var("TZ")
        .ok()
        .and_then(|v| v.trim_start_matches(':').parse().ok())
    {
        return Some(tz);
    }
    if let Some(tz) = std::fs::read_to_string("/etc/timezone")
        .ok()
        .and_then(|s| s.trim().parse().ok())
    {
        return Some(tz);
    }
    let link = std::fs::read_link("/etc/localtime").ok()?;
    let s = link.to_str()?;
    let name = s.split("zoneinfo/").nth(1)?;
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with_file(text: &str) -> Settings {
        Settings::from_file(Some(
            config::parse(Path::new("/etc/logtally/logtally.toml"), text).unwrap(),
        ))
        .unwrap()
    }

    #[test]
    fn flag_then_file_then_default() {
        let s = with_file("db = \"/file.db\"\n[tail]\nbatch_size = 500\n");
        assert_eq!(
            s.db_path(Some(Path::new("/x/y.db"))).unwrap(),
            PathBuf::from("/x/y.db")
        );
        assert_eq!(s.db_path(None).unwrap(), PathBuf::from("/file.db"));
        assert_eq!(s.tail.batch_size, 500);
        assert_eq!(s.tail.flush_interval, Duration::from_secs(5));
        assert_eq!(s.retention.keep_days, 30);
        let t = &s.bots.thresholds;
        assert_eq!((t.many_pageviews, t.errors_share), (100, 0.5));
        let eff = s.effective().unwrap();
        let batch = eff.iter().find(|e| e.name == "tail.batch_size").unwrap();
        assert_eq!(
            (batch.value.as_str(), batch.origin.as_str()),
            ("500", "/etc/logtally/logtally.toml:3")
        );
    }

    #[test]
    fn the_environment_wins_over_the_file_and_is_checked() {
        let file = config::parse(
            Path::new("/etc/logtally/logtally.toml"),
            "[tail]\nflush_interval = \"2s\"\nfrom = \"end\"\n",
        )
        .unwrap();
        let env = |var: &str| (var == "LOGTALLY_TAIL__FLUSH_INTERVAL").then(|| "1s".to_string());
        let s = Settings::resolve(Some(file.clone()), env).unwrap();
        assert_eq!(s.tail.flush_interval, Duration::from_secs(1));
        assert!(s.tail.from_end);
        let eff = s.effective().unwrap();
        let flush = eff
            .iter()
            .find(|e| e.name == "tail.flush_interval")
            .unwrap();
        assert_eq!(flush.origin, "$LOGTALLY_TAIL__FLUSH_INTERVAL");
        let bad =
            |var: &str| (var == "LOGTALLY_RETENTION__KEEP_DAYS").then(|| "4294967295".to_string());
        let e = Settings::resolve(Some(file), bad).unwrap_err().to_string();
        assert!(
            e.starts_with("LOGTALLY_RETENTION__KEEP_DAYS: ") && e.contains("1 to 36500"),
            "{e}"
        );
    }

    #[test]
    fn defaults_resolve() {
        let s = Settings::default();
        assert_eq!(s.tail.poll_interval, Duration::from_millis(250));
        assert_eq!(s.live.window, Duration::from_secs(300));
        assert_eq!((s.live.socket.as_ref(), s.live.http), (None, None));
        assert_eq!(s.bots.max_per_minute, 60);
        assert!(!s.tail.from_end && !s.tail.poll);
    }

    /// A TOML value of any type, most of them near the edges of the ranges.
    fn toml_value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|x| format!("{x:?}")),
            Just("nan".to_string()),
            Just("-inf".to_string()),
            any::<bool>().prop_map(|b| b.to_string()),
            "[0-9]{0,25}(\\.[0-9]{0,6})?(ms|s|m|min|h|d|)".prop_map(|s| format!("{s:?}")),
            any::<String>().prop_map(|s| format!("{s:?}")),
            Just("[1, 2]".to_string()),
            Just("{ a = 1 }".to_string()),
        ]
    }

    proptest! {
        #[test]
        fn any_value_of_any_key_loads_or_fails_without_panicking(
            index in 0..config::KEYS.len(),
            value in toml_value(),
            text in any::<String>(),
        ) {
            let key = config::KEYS[index];
            let toml = match key.split() {
                ("", name) => format!("{name} = {value}\n"),
                (section, name) => format!("[{section}]\n{name} = {value}\n"),
            };
            if let Ok(file) = config::parse(Path::new("t.toml"), &toml) {
                let s = Settings::resolve(Some(file), |_| None).unwrap();
                let _ = s.effective();
            }
            let env = |var: &str| (var == key.env).then(|| text.clone());
            if let Ok(s) = Settings::resolve(None, env) {
                let _ = s.effective();
            }
        }
    }

    #[test]
    fn time_zone_names() {
        let s = Settings::default();
        assert_eq!(
            s.time_zone(Some("Europe/Berlin")).unwrap(),
            chrono_tz::Europe::Berlin
        );
        assert!(s
            .time_zone(Some("Mars/Olympus"))
            .unwrap_err()
            .0
            .contains("--tz"));
        let s = with_file("tz = \"Asia/Tokyo\"\n");
        assert_eq!(s.time_zone(None).unwrap(), chrono_tz::Asia::Tokyo);
    }
}
