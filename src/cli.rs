//! The command line: top-level `Cli` and the `Command` enum (flags shared by several commands
//! are in `cmd::args`). Also the source of the man pages and shell completions.

use clap::{Parser, Subcommand};

use crate::cmd;

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
    /// Serve the dashboard over HTTP, read-only (put it behind nginx).
    Serve(cmd::serve::Args),
    /// Import the history of Plausible (an export) beside the logs; list and remove imports.
    ImportHistory(cmd::import_history::Args),
    /// Copy the database's history (rollups and record) into a ClickHouse store, once.
    Migrate(cmd::migrate::Args),
    /// Check the configuration file and show the settings in effect, or print an example.
    Config(cmd::config::Args),
    /// Write man pages and shell completions from this command line's definition.
    #[command(hide = true)]
    Generate(cmd::generate::Args),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::args::*;
    use std::time::Duration;

    /// Fails when `man/` or `completions/` differ from what the code generates: run
    /// `cargo run -- generate` and commit the result.
    #[test]
    fn committed_man_pages_and_completions_are_current() {
        use clap::CommandFactory;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (rel, content) in crate::cmd::generate::files(&Cli::command()).unwrap() {
            let committed = std::fs::read(root.join(&rel)).unwrap_or_default();
            assert!(
                committed == content,
                "{} is out of date: run `cargo run -- generate` and commit it",
                rel.display()
            );
        }
    }
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
