//! `serve`: the dashboard, and the site's own endpoints, over HTTP, read-only, under the load of
//! the site's visitors. The URL holds the whole view in the words of the command line
//! (`?period=7d&filter=source%3DGoogle`), so a view can be bookmarked or fetched by a script.
//!
//! How it holds its load (issue #23):
//! - [`answers`]: each distinct view is computed once per change of its data (the database's
//!   generation and the day), then answered from memory, compressed, with its `ETag`; a hundred
//!   clients asking for one new view start one computation.
//! - [`workers`]: computations run on a fixed number of workers (the cores) behind a short queue;
//!   beyond it, and past the request time-out, the answer is `503` with `Retry-After`.
//! - [`listen`]: connections are bounded in number, time and memory.
//! - [`now`]: who is on the site now is asked of `tail` at most once a second.
//!
//! axum routes the requests on a multi-thread tokio runtime (one thread per core); pages are
//! built by maud, which escapes what it is given.

pub mod answers;
pub mod api;
pub mod listen;
pub mod live;
pub mod now;
pub mod params;
pub mod views;
pub mod workers;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use prometheus_client::registry::Registry;

use crate::metrics;
use crate::query::cache::Cache;
use crate::query::goal::Goal;
use crate::report::Report;
use crate::store::Store;
use answers::{Answer, Failure, Flights, Weigh};
use workers::Workers;

/// The policy of every page: inline styles, nothing fetched, forms only to this server.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// How often the connection that reads the generation is opened again (so a database file
/// replaced on disk is read, not the one held open).
const GENERATION_REOPEN: Duration = Duration::from_secs(60);

/// What the server answers from, and its bounds.
#[derive(Clone, Debug)]
pub struct Config {
    /// The database.
    pub db: PathBuf,
    /// Its time zone.
    pub tz: Tz,
    /// The site shown when the URL names none (`None`: all sites).
    pub site: Option<String>,
    /// Goals of the configuration.
    pub goals: Vec<Goal>,
    /// The running tail's live socket.
    pub live_socket: PathBuf,
    /// The password every request must give (HTTP Basic, any user name), when listening beyond
    /// loopback.
    pub password: Option<String>,
    /// Rows per panel.
    pub top: usize,
    /// Days of the record kept decoded between views (`None`: read each time).
    pub cache: Option<Arc<Cache>>,
    /// Origins sent `Access-Control-Allow-Origin` for `/api/*` (`*` for any).
    pub allow_origins: Vec<String>,
    /// Whether `/api/*` answers without the password.
    pub public_api: bool,
    /// Report computations at once.
    pub workers: usize,
    /// Computations waiting for a worker, beyond which requests are answered 503.
    pub queue: usize,
    /// Longest a request waits for its answer before it is answered 503.
    pub request_timeout: Duration,
    /// Memory for answers and reports kept between requests, in bytes.
    pub answer_bytes: usize,
    /// The bounds of every connection.
    pub limits: listen::Limits,
    /// A ClickHouse store to read instead of the database (`--store`).
    pub clickhouse: Option<crate::store::clickhouse::ClickHouse>,
}

impl Config {
    /// A configuration with the default bounds, for `db` in zone `tz`.
    pub fn new(db: PathBuf, tz: Tz, live_socket: PathBuf) -> Config {
        Config {
            db,
            tz,
            site: None,
            goals: Vec::new(),
            live_socket,
            password: None,
            top: 10,
            cache: None,
            allow_origins: Vec::new(),
            public_api: false,
            workers: Workers::cores(),
            queue: 4 * Workers::cores(),
            request_timeout: Duration::from_secs(10),
            answer_bytes: 64 << 20,
            limits: listen::Limits {
                max_connections: 4096,
                header_timeout: Duration::from_secs(10),
                write_timeout: Duration::from_secs(10),
            },
            clickhouse: None,
        }
    }
}

impl Weigh for Report {
    fn weight(&self) -> usize {
        let rows: usize = self
            .sections
            .iter()
            .flat_map(|s| &s.rows)
            .map(|r| {
                64 + r.key.len()
                    + 8 * r.values.len()
                    + r.parts.iter().map(String::len).sum::<usize>()
            })
            .sum();
        let days = self
            .overview
            .as_ref()
            .map_or(0, |o| o.daily_pageviews.len() * 8);
        512 + rows + 2 * days
    }
}

/// The generation of the data read, and the connection it is read on.
struct Generation {
    reader: Option<(Store, Instant)>,
    last: i64,
    /// When a ClickHouse store's generation was last asked.
    asked: Option<Instant>,
}

/// How long a ClickHouse store's generation is taken as it was (a request to it, not a read of
/// one row of a file, so not one per view).
const REMOTE_GENERATION_TTL: Duration = Duration::from_secs(1);

/// Everything a request handler shares.
pub struct App {
    cfg: Config,
    workers: Workers,
    reports: Arc<Flights<Report>>,
    answers: Arc<Flights<Answer>>,
    counts: Arc<Flights<api::PageCounts>>,
    now: Arc<Flights<now::Now>>,
    generation: Mutex<Generation>,
    metrics: Arc<metrics::Serve>,
    registry: Registry,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The state of a server with `cfg`.
    pub fn new(cfg: Config) -> Arc<App> {
        let metrics = Arc::new(metrics::Serve::default());
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let budget = cfg.answer_bytes;
        Arc::new(App {
            workers: Workers::new(cfg.workers, cfg.queue, cfg.request_timeout),
            reports: Flights::new(budget / 2),
            answers: Flights::new(budget / 2),
            counts: Flights::new(budget / 8),
            now: Flights::new(1 << 20),
            generation: Mutex::new(Generation {
                reader: None,
                last: i64::MIN,
                asked: None,
            }),
            metrics,
            registry,
            cfg,
        })
    }

    /// Today in the database's zone.
    fn today(&self) -> NaiveDate {
        self.cfg
            .tz
            .from_utc_datetime(&chrono::Utc::now().naive_utc())
            .date_naive()
    }

    /// The generation of the data now (one read of one row on a connection kept open); when it
    /// moved, every answer kept from before is dropped.
    fn generation(&self) -> Result<i64, Failure> {
        let mut g = self.generation.lock().expect("generation lock");
        if let Some(ch) = &self.cfg.clickhouse {
            if g.asked.is_some_and(|t| t.elapsed() < REMOTE_GENERATION_TTL) {
                return Ok(g.last);
            }
            let value = crate::store::clickhouse::rollups::generation(ch)
                .map_err(|e| Failure::busy(format!("cannot read the store: {e}")))?;
            g.asked = Some(Instant::now());
            return Ok(self.moved_to(g, value));
        }
        if g.reader
            .as_ref()
            .is_some_and(|(_, opened)| opened.elapsed() > GENERATION_REOPEN)
        {
            g.reader = None;
        }
        if g.reader.is_none() {
            let store = Store::open_read_only(&self.cfg.db)
                .map_err(|e| Failure::busy(format!("cannot read the database: {e}")))?;
            let _ = store.conn().busy_timeout(Duration::from_millis(200));
            g.reader = Some((store, Instant::now()));
        }
        let read = crate::store::generation::read(g.reader.as_ref().expect("opened").0.conn());
        let value = match read {
            Ok(v) => v,
            Err(e) => {
                g.reader = None;
                return Err(Failure::busy(format!("cannot read the database: {e}")));
            }
        };
        Ok(self.moved_to(g, value))
    }

    /// Takes `value` as the generation now, dropping every answer kept when it moved.
    fn moved_to(&self, mut g: std::sync::MutexGuard<'_, Generation>, value: i64) -> i64 {
        if value != g.last {
            g.last = value;
            drop(g);
            self.reports.clear();
            self.answers.clear();
            self.counts.clear();
        }
        value
    }

    /// Who is on the site now, from a snapshot at most a second old.
    async fn now(self: &Arc<Self>) -> Arc<now::Now> {
        let socket = self.cfg.live_socket.clone();
        let (got, _) = self
            .now
            .get("now".into(), move || async move {
                let snap = tokio::task::spawn_blocking(move || now::fetch(&socket))
                    .await
                    .unwrap_or_else(|e| now::Now(Err(e.to_string())));
                Ok((snap, Some(now::SNAPSHOT_TTL)))
            })
            .await;
        got.unwrap_or_else(|e| Arc::new(now::Now(Err(e.message))))
    }

    /// Runs `job` on a report worker; busy workers and a full queue are a 503.
    async fn compute<T, F>(&self, job: F) -> Result<T, Failure>
    where
        F: FnOnce() -> Result<T, Failure> + Send + 'static,
        T: Send + 'static,
    {
        match self.workers.run(job).await {
            Ok(r) => {
                self.metrics.computed.inc();
                r
            }
            Err(workers::Refused::Failed) => Err(Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the report failed (a bug: please report it)",
            )),
            Err(_) => {
                self.metrics.shed.inc();
                Err(Failure::busy(
                    "every report worker is busy; try again in a second",
                ))
            }
        }
    }

    /// Waits for `answer` within the request time-out; past it, a 503.
    async fn within<T>(
        &self,
        answer: impl std::future::Future<Output = (Result<T, Failure>, answers::Source)>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.cfg.request_timeout, answer).await {
            Ok((got, source)) => {
                if source == answers::Source::Kept {
                    self.metrics.cache_hits.inc();
                }
                got
            }
            Err(_) => {
                self.metrics.shed.inc();
                Err(Failure::busy(
                    "the answer took too long; try again in a second",
                ))
            }
        }
    }
}

/// Whether the request carries the password (HTTP Basic: `user:password`, any user).
fn authorised(cfg: &Config, headers: &HeaderMap) -> bool {
    let Some(password) = &cfg.password else {
        return true;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| params::base64_decode(b.trim()))
        .and_then(|b| String::from_utf8(b).ok());
    match given.as_deref().and_then(|g| g.split_once(':')) {
        // Compared in time independent of where they differ.
        Some((_, p)) => {
            p.len() == password.len()
                && p.bytes()
                    .zip(password.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        }
        None => false,
    }
}

async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// Counts every answer by its status class, for `/metrics`.
async fn count_answers(
    State(app): State<Arc<App>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let res = next.run(req).await;
    app.metrics.answered(res.status().as_u16());
    res
}

/// `GET /metrics`: OpenMetrics text.
async fn metrics_text(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if !authorised(&app.cfg, &headers) {
        return Failure::unauthorised().respond();
    }
    let load = app.workers.load();
    app.metrics.workers_busy.set(load.running as i64);
    app.metrics.workers_waiting.set(load.waiting as i64);
    app.metrics
        .cache_bytes
        .set((app.answers.bytes() + app.reports.bytes() + app.counts.bytes()) as i64);
    (
        [
            (header::CONTENT_TYPE, metrics::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        metrics::encode(&app.registry),
    )
        .into_response()
}

/// The routes: `/` (the dashboard), `/report.json` (the same view as `stats --format json`),
/// `/api/*` (the site's own endpoints) and `/metrics`.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(views::page))
        .route("/report.json", get(views::report_json))
        .route("/metrics", get(metrics_text))
        .nest("/api", api::router(app.clone()))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "no such page: try /, /report.json, /api/pages.json, /api/counter.json, /api/counter.svg, /api/live.json or /metrics\n",
            )
        })
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::from_fn_with_state(app.clone(), count_answers))
        .with_state(app)
}

/// Serves on `listen` until the process ends; `ready` gets the address bound (port 0 asks the
/// system for one).
pub fn run(listen: SocketAddr, cfg: Config, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.workers.max(1))
        .thread_name("logtally-serve")
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        ready(listener.local_addr()?);
        let limits = cfg.limits;
        let app = App::new(cfg);
        let counts = app.metrics.clone();
        listen::serve(listener, router(app), limits, counts).await;
        Ok(())
    })
}
