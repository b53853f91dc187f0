//! One module per subcommand, each with its clap `Args` and its `run`.

pub mod args;
pub mod check;
pub mod cleanup;
pub mod config;
pub mod generate;
pub mod import;
pub mod live;
pub mod rollup;
pub mod serve;
pub mod stats;
pub mod tail;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::classify::geo::GeoIp;
use crate::ingest::pipeline::ParseSettings;
use crate::settings::Settings;
use crate::store::Store;
use args::IngestArgs;

/// Where the events go: the SQLite database, or the ClickHouse store `--store` names (its
/// tables created where missing).
fn sink_of(store: Option<&str>) -> anyhow::Result<Box<dyn crate::store::sink::Sink + Send>> {
    use crate::store::clickhouse::{this_host, ClickHouseSink};
    match store {
        None => Ok(Box::new(crate::store::batch::Writer::new())),
        Some(url) => Ok(Box::new(ClickHouseSink::new(
            clickhouse_of(url)?,
            this_host(),
        ))),
    }
}

/// The ClickHouse store at `url` (`--store`), its tables created where missing: a bad address
/// is a usage error, a server that does not answer a temporary failure (exit 75).
fn clickhouse_of(url: &str) -> anyhow::Result<crate::store::clickhouse::ClickHouse> {
    use crate::exit::{TempFailError, UsageError};
    let clickhouse = crate::store::clickhouse::ClickHouse::from_url(url)
        .map_err(|e| UsageError(format!("--store: {e}")))?;
    clickhouse.ensure_schema().map_err(|e| {
        TempFailError(format!(
            "cannot prepare the ClickHouse store: {e}; is clickhouse-server running there?"
        ))
    })?;
    Ok(clickhouse)
}

/// Opens the database and resolves what every input is parsed with (`import`, `tail`).
fn open_for_ingest(
    args: &IngestArgs,
    settings: &Settings,
) -> anyhow::Result<(PathBuf, Store, ParseSettings)> {
    let choice = args.format.choice()?;
    let tz = settings.time_zone(args.tz.as_deref())?;
    let db = settings.db_path(args.db.as_deref())?;
    let mut store = Store::open(&db)?;
    crate::store::zone::settle(store.conn_mut(), tz)?;
    let geoip = match args.geoip.as_ref().or(settings.geoip.as_ref()) {
        Some(path) => Some(Arc::new(GeoIp::open(path)?)),
        None => None,
    };
    let parse = ParseSettings {
        choice,
        site: args.site.clone(),
        tz,
        salts: Arc::new(store.salts().context("reading day salts")?),
        geoip,
        rules: Arc::new(settings.rules(args.bot_agents.as_deref())?),
    };
    Ok((db, store, parse))
}
