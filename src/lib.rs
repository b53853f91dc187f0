//! logtally: private, self-hosted web analytics from nginx, Apache and Caddy access logs.
//!
//! The library holds everything; the binary (`main.rs`) only parses the command line and dispatches.
//! Tests, benches and fuzz targets reach the parsers through here.

// `logtally::` paths resolve inside the crate too, for the log generator its unit tests share with
// the integration tests, benches and examples.
extern crate self as logtally;

pub mod botcheck;
pub mod classify;
pub mod cleanup;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod duration;
pub mod exit;
pub mod history;
pub mod ingest;
pub mod live;
pub mod metrics;
pub mod model;
pub mod output;
pub mod parse;
pub mod query;
pub mod report;
pub mod rollup;
pub mod serve;
pub mod settings;
pub mod source;
pub mod store;

/// Generated logs with known truth, for tests only (not part of the shipped library).
#[cfg(test)]
#[path = "../tests/genlog/mod.rs"]
pub(crate) mod genlog;
