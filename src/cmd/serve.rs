//! `logtally serve`: the dashboard, read-only, over HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::exit::{ExitCode, UsageError};
use crate::live::socket;
use crate::query::cache::Cache;
use crate::serve::{self, Config};
use crate::settings::Settings;
use crate::store::clickhouse::ClickHouse;
use crate::store::reader::Reader;
use crate::store::Store;

/// Arguments of `logtally serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    logtally serve                                   # http://127.0.0.1:8080/\n  \
    logtally serve --listen 127.0.0.1:8080 --site example.com\n  \
    logtally serve --listen 0.0.0.0:8080 --auth /etc/logtally/dashboard.password\n\n\
    The URL holds the view in the words of `stats`: /?period=7d&site=example.com&filter=source%3DGoogle\n\
    (and /report.json for the same view as `stats --format json`). Every key in a panel links to\n\
    itself as a filter. The dashboard reads the database read-only and never blocks tail or rollup.\n\
    Listening on anything but loopback needs --auth: put it behind nginx with TLS (see contrib/).\n\n\
    The site's own endpoints, for its pages (with --public-api they need no password):\n  \
    /api/pages.json?period=7d&limit=10      popular pages\n  \
    /api/counter.json?page=/posts/x         one page's visitors and page views (/api/counter.svg: a badge)\n  \
    /api/live.json?page=/posts/x            who is on the site now, from the running tail\n\
    /metrics is OpenMetrics text for Prometheus. Each view is computed once per rollup and kept;\n\
    beyond --workers computations and --queue waiting, requests are answered 503 with Retry-After.")]
pub struct Args {
    /// Address to listen on (port 0: any free port, printed on stderr).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Database file [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else
    /// $XDG_DATA_HOME/logtally/logtally.db].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// IANA time zone of days (the database's; default: TZ, else the system's, else UTC).
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// The site shown when the URL names none (default: all sites together).
    #[arg(long, value_name = "NAME")]
    site: Option<String>,
    /// A file holding the password every request must give (HTTP Basic, any user name);
    /// required to listen on anything but loopback.
    #[arg(long, value_name = "FILE")]
    auth: Option<PathBuf>,
    /// The running tail's live socket [default: live.socket, or <db>.live.sock].
    #[arg(long, value_name = "PATH")]
    live_socket: Option<PathBuf>,
    /// Rows per panel.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    top: u16,
    /// Memory for days of the record kept decoded between views, in MiB (0: none). A year of a
    /// site with 20,000 page views a day takes about 160 MiB; views of days not kept read them
    /// from the database each time.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    cache_mib: usize,
    /// Send `Access-Control-Allow-Origin` for /api/* to this origin (repeat for more; `*` for
    /// any), so pages of the site can read them from the browser.
    #[arg(long, value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// Answer /api/* without --auth's password, on any address; the dashboard still asks for it.
    #[arg(long)]
    public_api: bool,
    /// Report computations at once [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: Option<u16>,
    /// Computations that may wait for a worker; beyond them a request is answered 503 with
    /// Retry-After [default: 4 per worker].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=10_000))]
    queue: Option<u16>,
    /// Longest a request waits for its answer before it is answered 503.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = wait_flag)]
    timeout: Duration,
    /// Memory for answers kept between requests (each view once per change of the data), in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    answer_cache_mib: usize,
    /// Time a client has to send its request's head, to take its answer, and to idle between
    /// requests on a kept-alive connection, before its connection is closed.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = wait_flag)]
    client_timeout: Duration,
    /// Connections open at once; one more is answered 503 and closed.
    #[arg(long, value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,
    /// Read the rollups of this ClickHouse store (`clickhouse://HOST:8123/DATABASE`), as
    /// `rollup --store` wrote them, instead of the database; `sqlite`: the database [default:
    /// clickhouse.url].
    #[arg(long, value_name = "URL")]
    store: Option<String>,
}

/// A wait of 100 ms to 10 minutes.
fn wait_flag(s: &str) -> Result<Duration, String> {
    crate::duration::parse_in(s, Duration::from_millis(100), Duration::from_secs(600))
        .map_err(|e| e.to_string())
}

/// Fills the cache with the newest days in the background, so the first views are as quick as
/// the rest; a failure only costs speed (views read what is not held).
fn warm(cache: Arc<Cache>, db: PathBuf, clickhouse: Option<ClickHouse>) {
    std::thread::spawn(move || {
        let warmed = match &clickhouse {
            Some(ch) => cache
                .warm(Reader::ClickHouse(ch))
                .map_err(anyhow::Error::from),
            None => Store::open_read_only(&db)
                .map_err(anyhow::Error::from)
                .and_then(|store| Ok(cache.warm(Reader::Sqlite(store.conn()))?)),
        };
        if let Err(e) = warmed {
            eprintln!("logtally: warning: could not read days ahead of the first view: {e:#}");
        }
    });
}

/// Runs `logtally serve`.
pub fn run(args: Args, settings: &Settings) -> Result<ExitCode> {
    let password = match &args.auth {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the password in {}", path.display()))?;
            let p = text.trim().to_string();
            if p.len() < 12 {
                return Err(UsageError(format!(
                    "--auth {}: the password must be at least 12 characters",
                    path.display()
                ))
                .into());
            }
            Some(p)
        }
        None if !args.listen.ip().is_loopback() => {
            return Err(UsageError(format!(
                "--listen {} is reachable from other machines: give --auth FILE with a password (and put it behind TLS), or listen on 127.0.0.1",
                args.listen
            ))
            .into())
        }
        None => None,
    };
    let tz = settings.time_zone(args.tz.as_deref())?;
    let db = settings.db_path(args.db.as_deref())?;
    let clickhouse = settings
        .store(args.store.as_deref())
        .as_deref()
        .map(super::clickhouse_of)
        .transpose()?;
    if clickhouse.is_none() {
        // Refuse now what every page would: no database, another zone.
        let store = Store::open_read_only(&db)?;
        crate::store::zone::check(store.conn(), tz)?;
    }
    let live_socket = args
        .live_socket
        .clone()
        .or(settings.live.socket.clone())
        .unwrap_or_else(|| socket::default_path(&db));
    let mut cfg = Config::new(db, tz, live_socket);
    cfg.site = args.site.clone();
    cfg.goals = settings.goals().to_vec();
    cfg.password = password;
    cfg.top = usize::from(args.top);
    cfg.cache = (args.cache_mib > 0).then(|| Arc::new(Cache::new(args.cache_mib << 20)));
    cfg.allow_origins = args.allow_origin.clone();
    cfg.public_api = args.public_api;
    if let Some(w) = args.workers {
        cfg.workers = usize::from(w);
        cfg.queue = 4 * cfg.workers;
    }
    if let Some(q) = args.queue {
        cfg.queue = usize::from(q);
    }
    cfg.request_timeout = args.timeout;
    cfg.answer_bytes = args.answer_cache_mib << 20;
    cfg.limits.max_connections = args.max_connections as usize;
    cfg.limits.header_timeout = args.client_timeout;
    cfg.limits.write_timeout = args.client_timeout;
    cfg.clickhouse = clickhouse;
    if let Some(cache) = cfg.cache.clone() {
        warm(cache, cfg.db.clone(), cfg.clickhouse.clone());
    }
    serve::run(args.listen, cfg, |addr| {
        eprintln!("logtally: dashboard on http://{addr}/");
    })
    .with_context(|| format!("serving on {}", args.listen))?;
    Ok(ExitCode::Success)
}
