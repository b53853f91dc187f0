//! The files under contrib/ call logtally with flags that exist: a renamed flag would otherwise
//! only show when a server's unit or cron job fails.

use clap::Parser;
use logtally::cli::Cli;

fn contrib(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .expect("contrib file")
}

fn assert_parses(command: &str) {
    let words: Vec<&str> = command.split_whitespace().collect();
    assert!(words[0].ends_with("logtally"), "{command}");
    let mut argv = vec!["logtally"];
    argv.extend_from_slice(&words[1..]);
    if let Err(e) = Cli::try_parse_from(&argv) {
        panic!("{command}: {e}");
    }
}

#[test]
fn systemd_unit_runs_tail_as_notify_service() {
    let unit = contrib("contrib/systemd/logtally.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    assert!(exec.contains(" tail "), "{exec}");
    assert_parses(exec);
    for needed in [
        "Type=notify",
        "WatchdogSec=",
        "StateDirectory=logtally",
        "SupplementaryGroups=adm",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(unit.contains(needed), "unit lacks {needed}");
    }
}

#[test]
fn cron_lines_run_rollup_and_cleanup() {
    let cron = contrib("contrib/cron/logtally");
    let mut commands = 0;
    for line in cron
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit() || c == '*'))
    {
        // minute hour day month weekday user command...
        let command: String = line
            .split_whitespace()
            .skip(6)
            .collect::<Vec<_>>()
            .join(" ");
        for part in command.split("&&") {
            assert_parses(part.trim());
            commands += 1;
        }
    }
    assert_eq!(commands, 3);
    assert!(cron.contains("LOGTALLY_DB=/var/lib/logtally/logtally.db"));
}

#[test]
fn readme_lists_every_setting_with_its_variable_and_default() {
    let readme = contrib("README.md");
    for k in logtally::config::KEYS {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", k.name)))
            .unwrap_or_else(|| panic!("README's configuration table lacks {}", k.name));
        assert!(row.contains(k.env), "{row}");
        if !k.default.is_empty() {
            assert!(row.contains(&format!("`{}`", k.default)), "{row}");
        }
    }
}
