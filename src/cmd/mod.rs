//! One module per subcommand, each with its clap `Args` and its `run`.

pub mod check;
pub mod cleanup;
pub mod config;
pub mod generate;
pub mod import;
pub mod live;
pub mod rollup;
pub mod stats;
pub mod tail;
