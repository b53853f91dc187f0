//! One module per subcommand, each with its clap `Args` and its `run`.

pub mod args;
pub mod check;
pub mod cleanup;
pub mod config;
pub mod generate;
pub mod import;
pub mod import_history;
pub mod live;
pub mod migrate;
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

/// Where ingest commits.
type BoxedSink = Box<dyn crate::store::sink::Sink + Send>;

/// Where the events go, and the day salts they are hashed with: the SQLite database's, or those
/// of the ClickHouse store `--store` names (its tables created where missing), shared by every
/// collector that writes to it.
fn sink_of(
    args: &IngestArgs,
    settings: &Settings,
    store: &Store,
) -> anyhow::Result<(BoxedSink, crate::classify::Salts)> {
    use crate::store::clickhouse::{salts, this_host, ClickHouseSink};
    match settings.store(args.store.as_deref()).as_deref() {
        None => Ok((
            Box::new(crate::store::batch::Writer::new()),
            store.salts().context("reading day salts")?,
        )),
        Some(url) => {
            let clickhouse = clickhouse_of(url)?;
            let collector = args
                .collector
                .clone()
                .or_else(|| settings.clickhouse.collector.clone())
                .unwrap_or_else(this_host);
            let book = salts::Book::new(clickhouse.clone(), collector.clone());
            Ok((
                Box::new(ClickHouseSink::new(clickhouse, collector)),
                crate::classify::Salts::from_saved([], Some(Box::new(book))),
            ))
        }
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
) -> anyhow::Result<(PathBuf, Store, ParseSettings, BoxedSink)> {
    let choice = args.format.choice()?;
    let tz = settings.time_zone(args.tz.as_deref())?;
    let db = settings.db_path(args.db.as_deref())?;
    let mut store = Store::open(&db)?;
    crate::store::zone::settle(store.conn_mut(), tz)?;
    let geoip = match args.geoip.as_ref().or(settings.geoip.as_ref()) {
        Some(path) => Some(Arc::new(GeoIp::open(path)?)),
        None => None,
    };
    if args.collector.is_some() && settings.store(args.store.as_deref()).is_none() {
        return Err(crate::exit::UsageError(
            "--collector names this server in a ClickHouse store: give --store or clickhouse.url"
                .into(),
        )
        .into());
    }
    let (sink, salts) = sink_of(args, settings, &store)?;
    let parse = ParseSettings {
        choice,
        site: args.site.clone(),
        tz,
        salts: Arc::new(salts),
        geoip,
        rules: Arc::new(settings.rules(args.bot_agents.as_deref())?),
    };
    Ok((db, store, parse, sink))
}
