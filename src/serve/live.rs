//! `tail --live-http`: `GET /live.json[?site=NAME&top=N]` on loopback, and `GET /metrics` (what
//! `tail` read, rejected and committed, in OpenMetrics text), served by the same HTTP stack as the
//! dashboard, on a thread of the `tail` process (the map and the counters are in its memory).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::live::socket::{self, Error, Request};
use crate::live::state::LiveState;
use crate::metrics;
use prometheus_client::registry::Registry;

async fn live_json(
    State(live): State<Arc<Mutex<LiveState>>>,
    Query(req): Query<Request>,
) -> Response {
    let body = tokio::task::spawn_blocking(move || socket::snapshot_json(&live, &req))
        .await
        .unwrap_or_default();
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
            // One answer per connection, as simple pollers (and the old endpoint) expect.
            (header::CONNECTION, HeaderValue::from_static("close")),
        ],
        body,
    )
        .into_response()
}

/// What the routes read.
#[derive(Clone)]
struct Tail {
    live: Arc<Mutex<LiveState>>,
    registry: Arc<Registry>,
}

impl axum::extract::FromRef<Tail> for Arc<Mutex<LiveState>> {
    fn from_ref(t: &Tail) -> Self {
        t.live.clone()
    }
}

async fn metrics_text(State(tail): State<Tail>) -> Response {
    (
        [
            (header::CONTENT_TYPE, metrics::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        metrics::encode(&tail.registry),
    )
        .into_response()
}

fn router(live: Arc<Mutex<LiveState>>, counts: Arc<metrics::Ingest>) -> Router {
    let mut registry = Registry::default();
    counts.register(&mut registry);
    let tail = Tail {
        live,
        registry: Arc::new(registry),
    };
    Router::new()
        .route("/live.json", get(live_json))
        .route("/metrics", get(metrics_text))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "application/json")],
                "{\"error\":\"not found; try /live.json or /metrics\"}",
            )
        })
        .with_state(tail)
}

/// Serves `/live.json` on a loopback address from a thread of its own; returns the address
/// bound (the port chosen when `addr` asks for port 0).
pub fn spawn(
    addr: SocketAddr,
    live: Arc<Mutex<LiveState>>,
    counts: Arc<metrics::Ingest>,
) -> Result<SocketAddr, Error> {
    if !addr.ip().is_loopback() {
        return Err(Error::NotLoopback { addr });
    }
    let bind_err = |source| Error::Bind {
        addr: addr.to_string(),
        source,
    };
    let listener = std::net::TcpListener::bind(addr).map_err(bind_err)?;
    listener.set_nonblocking(true).map_err(bind_err)?;
    let bound = listener.local_addr().map_err(bind_err)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(bind_err)?;
    std::thread::Builder::new()
        .name("logtally-http".into())
        .spawn(move || {
            runtime.block_on(async move {
                if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                    let _ = axum::serve(listener, router(live, counts)).await;
                }
            })
        })
        .map_err(bind_err)?;
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::state::LiveSettings;
    use std::io::{Read, Write};

    #[test]
    fn live_json_is_served_on_loopback_only() {
        let live = Arc::new(Mutex::new(LiveState::new(LiveSettings::default())));
        assert!(matches!(
            spawn(
                "0.0.0.0:0".parse().unwrap(),
                live.clone(),
                Default::default()
            ),
            Err(Error::NotLoopback { .. })
        ));
        let addr = spawn("127.0.0.1:0".parse().unwrap(), live, Default::default()).unwrap();
        assert_ne!(addr.port(), 0, "the port the system chose");
        let get = |path: &str| {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        };
        let reply = get("/live.json?site=a&top=3");
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.contains("\"window_seconds\":300"), "{reply}");
        assert!(get("/other").starts_with("HTTP/1.1 404"));
        let metrics = get("/metrics");
        assert!(
            metrics.contains("logtally_tail_lines_read_total 0"),
            "{metrics}"
        );
        assert!(metrics.trim_end().ends_with("# EOF"));
        // Ten idle connections keep no one waiting.
        let _idle: Vec<std::net::TcpStream> = (0..10)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        let started = std::time::Instant::now();
        assert!(get("/live.json").starts_with("HTTP/1.1 200"));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
