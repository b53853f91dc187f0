//! The `logtally` binary: parse the command line, run one command, exit with its code.

use clap::Parser;

use logtally::cli::{Cli, Command};
use logtally::output::Output;
use logtally::{cmd, exit};

fn main() {
    let cli = Cli::parse();
    let output = Output::detect();
    let result = match cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Tail(args) => cmd::tail::run(args),
        Command::Import(args) => cmd::import::run(args, output),
        Command::Rollup(args) => cmd::rollup::run(args, output),
        Command::Cleanup(args) => cmd::cleanup::run(args, output),
        Command::Stats(args) => cmd::stats::run(args, output),
        Command::Live(args) => cmd::live::run(args),
        Command::Generate(args) => cmd::generate::run(args),
    };
    exit::finish(result)
}
