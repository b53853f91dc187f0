//! Resolved settings shared by commands: where the database lives, which time zone days follow.

use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use anyhow::Context;

use crate::classify::bots::AgentPatterns;
use crate::exit::UsageError;

/// Default database path for root (a system service).
pub const SYSTEM_DB: &str = "/var/lib/logtally/logtally.db";

/// The database path: `--db`, else `LOGTALLY_DB`, else the system path for root, else
/// `$XDG_DATA_HOME/logtally/logtally.db` (`~/.local/share/...` when unset).
pub fn db_path(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("LOGTALLY_DB").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    if is_root() {
        return PathBuf::from(SYSTEM_DB);
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("logtally").join("logtally.db")
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The time zone: `--tz`, else `TZ`, else the system's (`/etc/timezone` or the `/etc/localtime`
/// link), else UTC.
pub fn time_zone(flag: Option<&str>) -> Result<Tz, UsageError> {
    if let Some(name) = flag {
        return name.parse::<Tz>().map_err(|_| {
            UsageError(format!(
                "unknown time zone {name:?} in --tz; use an IANA name such as Europe/Berlin or UTC"
            ))
        });
    }
    Ok(system_time_zone().unwrap_or(Tz::UTC))
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

/// The built-in bot patterns, extended with a `--bot-agents` file.
pub fn bot_patterns(file: Option<&Path>) -> anyhow::Result<AgentPatterns> {
    match file {
        None => Ok(AgentPatterns::builtin().clone()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --bot-agents {}", path.display()))?;
            AgentPatterns::with_extra(&text)
                .map_err(|e| UsageError(format!("--bot-agents {}: {e}", path.display())).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins() {
        assert_eq!(
            db_path(Some(Path::new("/x/y.db"))),
            PathBuf::from("/x/y.db")
        );
    }

    #[test]
    fn time_zone_names() {
        assert_eq!(
            time_zone(Some("Europe/Berlin")).unwrap(),
            chrono_tz::Europe::Berlin
        );
        assert!(time_zone(Some("Mars/Olympus"))
            .unwrap_err()
            .0
            .contains("--tz"));
    }
}
