//! The `logtally` binary: parse the command line, run one command, exit with its code.

use clap::{CommandFactory, Parser};

use logtally::cli::{Cli, Command};
use logtally::exit::UsageError;
use logtally::output::Output;
use logtally::settings::Settings;
use logtally::{cmd, exit};

fn main() {
    let cli = Cli::parse();
    let output = Output::detect();
    let config = cli.config.as_deref();
    let result = match cli.command {
        Command::Config(args) => cmd::config::run(args, config),
        Command::Generate(args) => cmd::generate::run(args, &Cli::command()),
        command => match Settings::load(config) {
            Err(e) => Err(UsageError(e.to_string()).into()),
            Ok(settings) => match command {
                Command::Check(args) => cmd::check::run(args, &settings),
                Command::Tail(args) => cmd::tail::run(args, &settings, config),
                Command::Import(args) => cmd::import::run(args, output, &settings),
                Command::Rollup(args) => cmd::rollup::run(args, output, &settings),
                Command::Cleanup(args) => cmd::cleanup::run(args, output, &settings),
                Command::Stats(args) => cmd::stats::run(args, output, &settings),
                Command::Live(args) => cmd::live::run(args, &settings),
                Command::Serve(args) => cmd::serve::run(args, &settings),
                Command::Migrate(args) => cmd::migrate::run(args, output, &settings),
                Command::ImportHistory(args) => cmd::import_history::run(args, output, &settings),
                Command::Config(_) | Command::Generate(_) => unreachable!("handled above"),
            },
        },
    };
    exit::finish(result)
}
