//! `serve`: the dashboard over HTTP, read-only. Each request opens the database read-only (WAL:
//! it never waits for `tail` or `rollup`, nor makes them wait) and answers with the report's page
//! or JSON, from the same query layer as `stats`. The URL holds the whole view in the words of the
//! command line (`?period=7d&filter=source%3DGoogle`), so a view can be bookmarked or fetched by a
//! script. axum (on a one-thread tokio runtime) serves it: a maintained server that validates
//! HTTP for us; the page is built by maud, which escapes what it is given.

pub mod live;
pub mod params;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::TimeZone;
use chrono_tz::Tz;

use crate::live::socket;
use crate::query::cache::Cache;
use crate::query::goal::Goal;
use crate::report::{html, query as rollups};
use crate::store::Store;

/// The policy of every page: inline styles, nothing fetched, forms only to this server.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What the server answers from.
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
}

/// The sections of the dashboard, in order.
pub const PANELS: &[&str] = &[
    "overview",
    "pages",
    "sources",
    "entry-pages",
    "exit-pages",
    "campaigns",
    "goals",
    "browsers",
    "os",
    "devices",
    "countries",
    "status",
    "bots",
];

fn bad_request(msg: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{msg}\n"),
    )
        .into_response()
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

fn unauthorised() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, "Basic realm=\"logtally\""),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        ],
        "this dashboard asks for its password\n",
    )
        .into_response()
}

/// Builds the report of a view (blocking: runs on the blocking pool).
fn report_of(
    cfg: &Config,
    view: &params::View,
) -> Result<crate::report::Report, (StatusCode, String)> {
    let store = Store::open_read_only(&cfg.db).map_err(|e| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot read the database: {e}"),
        )
    })?;
    crate::store::zone::check(store.conn(), cfg.tz)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let today = cfg
        .tz
        .from_utc_datetime(&chrono::Utc::now().naive_utc())
        .date_naive();
    let range = rollups::data_range(store.conn())
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let (from, until) = view.bounds(today, range);
    let (filters, goals) = crate::query::filters_and_goals(&view.filters, &cfg.goals, &[])
        .map_err(|e| (StatusCode::BAD_REQUEST, e))?;
    let sections: Vec<String> = PANELS
        .iter()
        .filter(|p| filters.is_empty() || !crate::query::HIT_SECTIONS.contains(p))
        .map(|s| s.to_string())
        .collect();
    let q = rollups::Query {
        site: view.site.clone().or_else(|| cfg.site.clone()),
        from,
        until,
        top: cfg.top,
        sections,
    };
    crate::query::read(store.conn(), &q, &filters, &goals, cfg.cache.as_deref())
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")))
}

/// Who is on the site now, from the running tail.
fn now(cfg: &Config, site: Option<&str>) -> Result<(u64, Vec<(String, u64)>), String> {
    let req = socket::Request {
        site: site.map(str::to_string),
        top: Some(5),
    };
    match socket::fetch(&cfg.live_socket, &req) {
        Ok(snap) => {
            let pages = snap
                .sites
                .iter()
                .flat_map(|s| s.pages.iter().map(|c| (c.name.clone(), c.visitors)))
                .take(5)
                .collect();
            Ok((snap.visitors, pages))
        }
        Err(_) => Err(format!(
            "no `logtally tail` is running for this database (no answer on {}): the live view needs one",
            cfg.live_socket.display()
        )),
    }
}

async fn page(
    State(cfg): State<Arc<Config>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if !authorised(&cfg, &headers) {
        return unauthorised();
    }
    let view = match params::View::parse(query.as_deref().unwrap_or("")) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    let result = tokio::task::spawn_blocking(move || {
        let report = report_of(&cfg, &view)?;
        let nav = html::Nav {
            view: view.words(),
            filters: view.filters.clone(),
            period: view.period_name(),
            now: Some(now(&cfg, view.site.as_deref().or(cfg.site.as_deref()))),
        };
        Ok::<_, (StatusCode, String)>(html::render_page(&report, Some(&nav)))
    })
    .await;
    match result {
        Ok(Ok(page)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            page,
        )
            .into_response(),
        Ok(Err((StatusCode::BAD_REQUEST, msg))) => bad_request(msg),
        Ok(Err((code, msg))) => (code, format!("{msg}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

async fn report_json(
    State(cfg): State<Arc<Config>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if !authorised(&cfg, &headers) {
        return unauthorised();
    }
    let view = match params::View::parse(query.as_deref().unwrap_or("")) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    let result = tokio::task::spawn_blocking(move || report_of(&cfg, &view)).await;
    match result {
        Ok(Ok(report)) => {
            let mut body = Vec::new();
            if crate::report::json::write_pretty(&mut body, &crate::report::json::render(&report))
                .is_err()
            {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Ok(Err((StatusCode::BAD_REQUEST, msg))) => bad_request(msg),
        Ok(Err((code, msg))) => (code, format!("{msg}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
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

/// The routes: `/` (the dashboard) and `/report.json` (the same view as `stats --format json`).
pub fn router(cfg: Config) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/report.json", get(report_json))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page: try /\n") })
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(Arc::new(cfg))
}

/// Serves on `listen` until the process ends; `ready` gets the address bound (port 0 asks the
/// system for one).
pub fn run(listen: SocketAddr, cfg: Config, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        ready(listener.local_addr()?);
        axum::serve(listener, router(cfg)).await
    })
}
