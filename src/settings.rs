//! Settings resolved once, in one place: a flag, else its `LOGTALLY_*` environment variable, else
//! the configuration file, else the default (see `config::KEYS`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chrono_tz::Tz;

use crate::classify::bots::AgentPatterns;
use crate::classify::spam::SpamList;
use crate::classify::{PageRules, Rules};
use crate::config::{self, ConfigFile, Source};
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

/// The configuration file (if any) and the environment, layered.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    file: Option<ConfigFile>,
    /// `LOGTALLY_*` variables that are set, read and checked once.
    env: HashMap<&'static str, String>,
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
        let mut env = HashMap::new();
        for key in config::KEYS {
            if let Some(v) = std::env::var(key.env).ok().filter(|v| !v.is_empty()) {
                config::check_text(key.kind, &v).map_err(|message| config::Error::Env {
                    var: key.env,
                    message,
                })?;
                env.insert(key.name, v);
            }
        }
        Ok(Settings { file, env })
    }

    /// `[[source]]` tables of the file.
    pub fn sources(&self) -> &[Source] {
        self.file.as_ref().map_or(&[], |f| &f.sources)
    }

    /// The value of `name` from the environment or the file, with its origin.
    pub fn lookup(&self, name: &str) -> Option<(String, Origin)> {
        let key = config::find(name).expect("a known setting");
        if let Some(v) = self.env.get(name) {
            return Some((v.clone(), Origin::Env(key.env)));
        }
        self.file.as_ref().and_then(|f| {
            f.values
                .get(name)
                .map(|(v, line)| (v.clone(), Origin::File(f.path.clone(), *line)))
        })
    }

    /// The text of `name`: environment, file, else its default.
    fn text(&self, name: &str) -> String {
        match self.lookup(name) {
            Some((v, _)) => v,
            None => config::find(name)
                .expect("a known setting")
                .default
                .to_string(),
        }
    }

    /// A duration setting, unless its flag was given.
    pub fn duration(&self, name: &str, flag: Option<Duration>) -> Result<Duration, UsageError> {
        match flag {
            Some(d) => Ok(d),
            None => crate::cli::parse_duration(&self.text(name)).map_err(UsageError),
        }
    }

    /// A count setting, unless its flag was given.
    pub fn count(&self, name: &str, flag: Option<u64>) -> Result<u64, UsageError> {
        match flag {
            Some(n) => Ok(n),
            None => self
                .text(name)
                .parse()
                .map_err(|e| UsageError(format!("{name}: {e}"))),
        }
    }

    /// A share setting (0 to 1).
    pub fn share(&self, name: &str) -> Result<f64, UsageError> {
        self.text(name)
            .parse()
            .map_err(|e| UsageError(format!("{name}: {e}")))
    }

    /// A switch: on when its flag is given, else as set.
    pub fn switch(&self, name: &str, flag: bool) -> Result<bool, UsageError> {
        Ok(flag || self.text(name) == "true")
    }

    /// A text setting (paths, `from`, addresses), unless its flag was given; `None` when unset.
    pub fn string(&self, name: &str, flag: Option<String>) -> Result<Option<String>, UsageError> {
        if flag.is_some() {
            return Ok(flag);
        }
        let v = self.text(name);
        Ok((!v.is_empty()).then_some(v))
    }

    /// A path setting, unless its flag was given.
    pub fn path(&self, name: &str, flag: Option<&Path>) -> Result<Option<PathBuf>, UsageError> {
        Ok(self
            .string(name, flag.map(|p| p.display().to_string()))?
            .map(PathBuf::from))
    }

    /// The database path: `--db`, else `LOGTALLY_DB`, else the file's `db`, else the system path
    /// for root, else `$XDG_DATA_HOME/logtally/logtally.db` (`~/.local/share/...` when unset).
    pub fn db_path(&self, flag: Option<&Path>) -> Result<PathBuf, UsageError> {
        if let Some(p) = self.path("db", flag)? {
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
        if let Some((name, origin)) = self.lookup("tz") {
            return name
                .parse::<Tz>()
                .map_err(|_| UsageError(format!("unknown time zone {name:?} ({origin})")));
        }
        Ok(system_time_zone().unwrap_or(Tz::UTC))
    }

    /// The ingest rules: bot patterns (`--bot-agents` or `bot_agents`), referrer spam
    /// (`referrer_spam`) and page patterns (`page_include`, `page_exclude`), each over the built-in.
    pub fn rules(&self, bot_agents: Option<&Path>) -> anyhow::Result<Rules> {
        let spam = match self.path("referrer_spam", None)? {
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
        match self.path("bot_agents", flag)? {
            None => Ok(AgentPatterns::builtin().clone()),
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading bot agents {}", path.display()))?;
                AgentPatterns::with_extra(&text)
                    .map_err(|e| UsageError(format!("bot agents {}: {e}", path.display())).into())
            }
        }
    }

    /// Bot behaviour thresholds (layer 4) from the `bots.*` settings.
    pub fn thresholds(&self) -> Result<Thresholds, UsageError> {
        let n = |name| self.count(name, None).map(|v| v as u32);
        Ok(Thresholds {
            repeated_path: n("bots.repeated_path")?,
            many_pageviews: n("bots.many_pageviews")?,
            errors_min_requests: n("bots.errors_min_requests")?,
            errors_share: self.share("bots.errors_share")?,
            monitor_min_visitors: n("bots.monitor_min_visitors")?,
            monitor_root_share: self.share("bots.monitor_root_share")?,
            monitor_no_referrer_share: self.share("bots.monitor_no_referrer_share")?,
            rotation_agents: n("bots.rotation_agents")?,
            spread_addresses: n("bots.spread_addresses")?,
            spread_share: self.share("bots.spread_share")?,
        })
    }

    /// Every setting as in effect without flags, with where it came from.
    pub fn effective(&self) -> Result<Vec<Effective>, UsageError> {
        config::KEYS
            .iter()
            .map(|k| {
                let (value, origin) = match self.lookup(k.name) {
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
        assert_eq!(s.count("tail.batch_size", Some(7)).unwrap(), 7);
        assert_eq!(s.count("tail.batch_size", None).unwrap(), 500);
        assert_eq!(
            s.duration("tail.flush_interval", None).unwrap(),
            Duration::from_secs(5)
        );
        let t = s.thresholds().unwrap();
        assert_eq!((t.many_pageviews, t.errors_share), (100, 0.5));
        let eff = s.effective().unwrap();
        let batch = eff.iter().find(|e| e.name == "tail.batch_size").unwrap();
        assert_eq!(
            (batch.value.as_str(), batch.origin.as_str()),
            ("500", "/etc/logtally/logtally.toml:3")
        );
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
