//! Connections: accepted, each served by hyper's HTTP/1.1 on a task of its own, within bounds
//! that no client can push: at most `max_connections` open (one more is answered `503` and
//! closed at once), a client that does not finish its request's head within `header_timeout`
//! is dropped (hyper's own timer, which also ends idle keep-alive connections), and one that
//! stops reading its answer for `write_timeout` is dropped too. Read buffers are capped, so
//! memory per connection is bounded; bodies of answers kept in memory are shared, not copied.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};

use crate::metrics;

/// The bounds of every connection.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Time to send a request's head, and most time a kept-alive connection may idle.
    pub header_timeout: Duration,
    /// Most time a client may leave its answer unread.
    pub write_timeout: Duration,
}

/// The answer to a connection over [`Limits::max_connections`].
const TOO_MANY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\nContent-Length: 37\r\nConnection: close\r\n\r\ntoo many connections; try again soon\n";
/// Largest read buffer of a connection (hyper's minimum is 8 KiB).
const MAX_BUF_BYTES: usize = 64 << 10;
/// Pause after a failed `accept` (out of file descriptors), so the loop does not spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// A stream whose writes fail once they have waited `limit` for the peer to read.
struct WriteDeadline {
    inner: TcpStream,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl AsyncRead for WriteDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl WriteDeadline {
    /// Turns a pending write into a time-out once it has been pending for the limit.
    fn check<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Pending => {
                let limit = self.limit;
                let sleep = self.stalled.get_or_insert_with(|| {
                    Box::pin(tokio::time::sleep_until(Instant::now() + limit))
                });
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading its answer",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
            done => {
                self.stalled = None;
                done
            }
        }
    }
}

impl AsyncWrite for WriteDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.check(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.check(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.check(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves `app` on `listener` until the process ends.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    counts: Arc<metrics::Serve>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true)
        .max_buf_size(MAX_BUF_BYTES);
    let http = Arc::new(http);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::time::sleep(ACCEPT_RETRY).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(place) = open.clone().try_acquire_owned() else {
            counts.connections_refused.inc();
            tokio::spawn(async move {
                let mut stream = stream;
                let _ =
                    tokio::time::timeout(Duration::from_secs(1), stream.write_all(TOO_MANY)).await;
                let _ = stream.shutdown().await;
            });
            continue;
        };
        counts.connections.inc();
        let (http, app, counts) = (http.clone(), app.clone(), counts.clone());
        tokio::spawn(async move {
            let io = TokioIo::new(WriteDeadline {
                inner: stream,
                limit: limits.write_timeout,
                stalled: None,
            });
            let _ = http
                .serve_connection(io, TowerToHyperService::new(app))
                .await;
            counts.connections.dec();
            drop(place);
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_announces_its_own_length() {
        let text = std::str::from_utf8(super::TOO_MANY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
    }
}
