//! The `logtally` binary: parse the command line, run one command, exit with its code.

use clap::Parser;

use logtally::cli::{Cli, Command};
use logtally::{cmd, exit};

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => cmd::check::run(args),
    };
    exit::finish(result)
}
