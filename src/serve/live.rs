//! `tail --live-http`: `GET /live.json[?site=NAME&top=N]` on loopback, served by the same HTTP
//! stack as the dashboard, on a thread of the `tail` process (the map is in its memory).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::live::socket::{self, Error, Request};
use crate::live::state::LiveState;

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

fn router(live: Arc<Mutex<LiveState>>) -> Router {
    Router::new()
        .route("/live.json", get(live_json))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "application/json")],
                "{\"error\":\"not found; try /live.json\"}",
            )
        })
        .with_state(live)
}

/// Serves `/live.json` on a loopback address from a thread of its own; returns the address
/// bound (the port chosen when `addr` asks for port 0).
pub fn spawn(addr: SocketAddr, live: Arc<Mutex<LiveState>>) -> Result<SocketAddr, Error> {
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
                    let _ = axum::serve(listener, router(live)).await;
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
            spawn("0.0.0.0:0".parse().unwrap(), live.clone()),
            Err(Error::NotLoopback { .. })
        ));
        let addr = spawn("127.0.0.1:0".parse().unwrap(), live).unwrap();
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
        // Ten idle connections keep no one waiting.
        let _idle: Vec<std::net::TcpStream> = (0..10)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        let started = std::time::Instant::now();
        assert!(get("/live.json").starts_with("HTTP/1.1 200"));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
