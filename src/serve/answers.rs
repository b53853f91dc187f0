//! Answers kept in memory: each distinct view is computed once per change of the data it read,
//! and repeated views are answered from memory, with their `ETag`, already compressed.
//!
//! [`Flights`] holds values by key. The first request for a key starts its computation on a
//! task of its own (so it finishes, and is kept, even if that client goes away); every request
//! for the same key meanwhile waits for that one computation: a hundred clients asking for the
//! same new view start one. Keys carry the data's generation (`store::generation`) and the day,
//! so an answer read before a rollup is never served after it; a value may also carry an expiry,
//! for what changes on its own (who is on the site now). Memory is bounded by a budget in bytes:
//! over it, the least recently used values go first.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::watch;

/// Bodies smaller than this are sent as they are: compressing them saves nothing.
const COMPRESS_ABOVE: usize = 256;
/// Brotli quality: 5 compresses a dashboard page about as well as gzip -9 in a fraction of the
/// time of quality 11, and each answer is compressed once, not per request.
const BROTLI_QUALITY: u32 = 5;

/// A failure to compute, answered with its status and message (never kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The status (400 for a bad view, 503 when busy or the database cannot be read...).
    pub status: StatusCode,
    /// What to tell the client.
    pub message: String,
}

impl Failure {
    /// A failure of `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// A 401 asking for the dashboard's password (HTTP Basic).
    pub fn unauthorised() -> Failure {
        Failure::new(
            StatusCode::UNAUTHORIZED,
            "this dashboard asks for its password",
        )
    }

    /// A 503 asking to come back in a second.
    pub fn busy(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// The plain-text answer, with `Retry-After` on a 503.
    pub fn respond(&self) -> Response {
        let mut res = (
            self.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{}\n", self.message),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"logtally\""),
            );
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        res
    }
}

/// How much memory a kept value takes.
pub trait Weigh {
    /// Bytes, roughly.
    fn weight(&self) -> usize;
}

/// A body ready to send: as it is, gzipped and brotli-compressed, with its `ETag`.
#[derive(Clone, Debug)]
pub struct Answer {
    content_type: &'static str,
    cache_control: &'static str,
    plain: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
    etag: String,
}

/// Content encodings, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Plain,
}

/// The encoding to send for an `Accept-Encoding` header: brotli, then gzip, when accepted with
/// a non-zero quality.
fn encoding_for(accept: Option<&str>) -> Encoding {
    let Some(accept) = accept else {
        return Encoding::Plain;
    };
    let accepts = |name: &str| {
        accept.split(',').any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (coding.eq_ignore_ascii_case(name) || coding == "*") && q > 0.0
        })
    };
    if accepts("br") {
        Encoding::Brotli
    } else if accepts("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Plain
    }
}

impl Answer {
    /// `body` of `content_type`, sent with `cache_control`; compressed now, once.
    pub fn new(content_type: &'static str, cache_control: &'static str, body: Vec<u8>) -> Answer {
        let etag = format!("\"{:016x}\"", {
            use std::hash::{BuildHasher, Hasher};
            let mut h =
                foldhash::quality::FixedState::with_seed(0x6c6f_6774_616c_6c79).build_hasher();
            h.write(&body);
            h.finish()
        });
        let (gzip, brotli) = if body.len() > COMPRESS_ABOVE {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            let gzip = gz.write_all(&body).and_then(|_| gz.finish()).ok();
            let mut br = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: BROTLI_QUALITY as i32,
                ..Default::default()
            };
            let brotli = brotli::BrotliCompress(&mut &body[..], &mut br, &params)
                .ok()
                .map(|_| br);
            (
                gzip.filter(|g| g.len() < body.len()).map(Bytes::from),
                brotli.filter(|b| b.len() < body.len()).map(Bytes::from),
            )
        } else {
            (None, None)
        };
        Answer {
            content_type,
            cache_control,
            plain: Bytes::from(body),
            gzip,
            brotli,
            etag,
        }
    }

    /// The body as it is.
    pub fn body(&self) -> &[u8] {
        &self.plain
    }

    /// The answer to a request with `headers`: `304` when its `If-None-Match` names this body,
    /// else the body in the best encoding the client accepts.
    pub fn respond(&self, headers: &HeaderMap) -> Response {
        let mut res = if self.matches(headers.get(header::IF_NONE_MATCH)) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let accept = headers
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok());
            let (body, coding) = match encoding_for(accept) {
                Encoding::Brotli if self.brotli.is_some() => (self.brotli.clone(), Some("br")),
                Encoding::Brotli | Encoding::Gzip if self.gzip.is_some() => {
                    (self.gzip.clone(), Some("gzip"))
                }
                _ => (None, None),
            };
            let mut res = body.unwrap_or_else(|| self.plain.clone()).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            );
            if let Some(c) = coding {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(c));
            }
            res
        };
        let h = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&self.etag) {
            h.insert(header::ETAG, v);
        }
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(self.cache_control),
        );
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        res
    }

    /// Whether an `If-None-Match` value names this answer (`*`, or its tag among others, weak or
    /// strong: a GET compares weakly).
    fn matches(&self, if_none_match: Option<&HeaderValue>) -> bool {
        let Some(v) = if_none_match.and_then(|v| v.to_str().ok()) else {
            return false;
        };
        v.split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == self.etag)
    }
}

impl Weigh for Answer {
    fn weight(&self) -> usize {
        self.plain.len()
            + self.gzip.as_ref().map_or(0, Bytes::len)
            + self.brotli.as_ref().map_or(0, Bytes::len)
            + 256
    }
}

type Outcome<T> = Option<Result<Arc<T>, Failure>>;

/// One key: its computation's outcome once there is one.
struct Slot<T> {
    outcome: watch::Sender<Outcome<T>>,
    expires: Mutex<Option<Instant>>,
    used: AtomicU64,
    weight: AtomicU64,
}

struct Inner<T> {
    slots: HashMap<String, Arc<Slot<T>>>,
    bytes: usize,
    clock: u64,
}

/// Values by key, computed once each (see the module's comment).
pub struct Flights<T> {
    inner: Mutex<Inner<T>>,
    budget: usize,
}

impl<T> std::fmt::Debug for Flights<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flights")
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

/// Where a value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Memory.
    Kept,
    /// A computation (this request's or one already running).
    Computed,
}

impl<T: Weigh + Send + Sync + 'static> Flights<T> {
    /// Holds at most `budget` bytes of values (0: none is kept, but concurrent requests for one
    /// key still share one computation).
    pub fn new(budget: usize) -> Arc<Flights<T>> {
        Arc::new(Flights {
            inner: Mutex::new(Inner {
                slots: HashMap::new(),
                bytes: 0,
                clock: 0,
            }),
            budget,
        })
    }

    /// The value of `key`: kept, or being computed, or computed now by `compute` (which says how
    /// long its value stays good; `None`: until its key is no longer asked for).
    pub async fn get<F, Fut>(
        self: &Arc<Self>,
        key: String,
        compute: F,
    ) -> (Result<Arc<T>, Failure>, Source)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(T, Option<Duration>), Failure>> + Send + 'static,
    {
        let mut rx = {
            let mut inner = self.inner.lock().expect("answers lock");
            inner.clock += 1;
            let clock = inner.clock;
            let current = inner.slots.get(&key).cloned().filter(|slot| {
                let fresh = slot
                    .expires
                    .lock()
                    .expect("slot lock")
                    .is_none_or(|t| t > Instant::now());
                fresh
            });
            match current {
                Some(slot) => {
                    slot.used.store(clock, Ordering::Relaxed);
                    if let Some(Ok(v)) = &*slot.outcome.borrow() {
                        return (Ok(v.clone()), Source::Kept);
                    }
                    slot.outcome.subscribe()
                }
                None => {
                    let (tx, rx) = watch::channel(None);
                    let slot = Arc::new(Slot {
                        outcome: tx,
                        expires: Mutex::new(None),
                        used: AtomicU64::new(clock),
                        weight: AtomicU64::new(0),
                    });
                    if let Some(old) = inner.slots.insert(key.clone(), slot.clone()) {
                        inner.bytes -= old.weight.load(Ordering::Relaxed) as usize;
                    }
                    let fut = compute();
                    let this = self.clone();
                    tokio::spawn(async move {
                        let outcome = fut.await;
                        this.finish(&key, &slot, outcome);
                    });
                    rx
                }
            }
        };
        let outcome = match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone().expect("waited for an outcome"),
            // The computing task ended without an outcome (it panicked).
            Err(_) => Err(Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the answer could not be computed",
            )),
        };
        (outcome, Source::Computed)
    }

    /// Records a computation's outcome: kept when it is a value and within the budget,
    /// forgotten when it is a failure (the next request tries again).
    fn finish(
        &self,
        key: &str,
        slot: &Arc<Slot<T>>,
        outcome: Result<(T, Option<Duration>), Failure>,
    ) {
        let outcome = outcome.map(|(v, ttl)| {
            *slot.expires.lock().expect("slot lock") = ttl.map(|d| Instant::now() + d);
            (Arc::new(v), ttl)
        });
        let mut inner = self.inner.lock().expect("answers lock");
        let ours = inner.slots.get(key).is_some_and(|s| Arc::ptr_eq(s, slot));
        match &outcome {
            Ok((v, _)) if ours => {
                let w = v.weight();
                slot.weight.store(w as u64, Ordering::Relaxed);
                inner.bytes += w;
                if inner.bytes > self.budget {
                    Self::evict(&mut inner, self.budget);
                }
            }
            Err(_) if ours => {
                inner.slots.remove(key);
            }
            _ => {}
        }
        drop(inner);
        slot.outcome.send_replace(Some(outcome.map(|(v, _)| v)));
    }

    /// Drops the least recently used values until a quarter of the budget is free (so that
    /// eviction is rare, not one per new key).
    fn evict(inner: &mut Inner<T>, budget: usize) {
        let target = budget - budget / 4;
        let mut done: Vec<(u64, String, usize)> = inner
            .slots
            .iter()
            .filter_map(|(k, s)| {
                let w = s.weight.load(Ordering::Relaxed) as usize;
                (w > 0).then(|| (s.used.load(Ordering::Relaxed), k.clone(), w))
            })
            .collect();
        done.sort_unstable_by_key(|(used, _, _)| *used);
        for (_, key, w) in done {
            if inner.bytes <= target {
                break;
            }
            inner.slots.remove(&key);
            inner.bytes -= w;
        }
    }

    /// Forgets everything (the data changed: no key of before is asked for again).
    pub fn clear(&self) {
        let mut inner = self.inner.lock().expect("answers lock");
        inner.slots.clear();
        inner.bytes = 0;
    }

    /// Bytes of values kept.
    pub fn bytes(&self) -> usize {
        self.inner.lock().expect("answers lock").bytes
    }

    /// Keys held (kept or being computed).
    pub fn len(&self) -> usize {
        self.inner.lock().expect("answers lock").slots.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[derive(Debug)]
    struct Blob(usize);

    impl Weigh for Blob {
        fn weight(&self) -> usize {
            self.0
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hundred_requests_for_one_new_key_start_one_computation() {
        let flights = Flights::<Blob>::new(1 << 20);
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let (f, runs) = (flights.clone(), runs.clone());
            tasks.push(tokio::spawn(async move {
                f.get("view".into(), move || async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok((Blob(10), None))
                })
                .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().0.unwrap().0, 10);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let (_, source) = flights
            .get("view".into(), || async { Ok((Blob(1), None)) })
            .await;
        assert_eq!(source, Source::Kept, "then answered from memory");
    }

    #[tokio::test]
    async fn failures_are_not_kept_and_expired_values_are_computed_again() {
        let flights = Flights::<Blob>::new(1 << 20);
        let (got, _) = flights
            .get("k".into(), || async {
                Err(Failure::busy("every worker is busy"))
            })
            .await;
        assert_eq!(got.unwrap_err().status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(flights.is_empty(), "a failure leaves nothing behind");
        let (got, _) = flights
            .get("k".into(), || async {
                Ok((Blob(5), Some(Duration::from_millis(30))))
            })
            .await;
        assert_eq!(got.unwrap().0, 5);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (got, source) = flights
            .get("k".into(), || async { Ok((Blob(6), None)) })
            .await;
        assert_eq!((got.unwrap().0, source), (6, Source::Computed));
        assert_eq!(flights.bytes(), 6);
    }

    #[tokio::test]
    async fn over_budget_the_least_recently_used_go() {
        let flights = Flights::<Blob>::new(100);
        for k in ["a", "b", "c"] {
            flights
                .get(k.into(), || async { Ok((Blob(30), None)) })
                .await
                .0
                .unwrap();
        }
        // "a" is used again, so "b" is the oldest.
        let _ = flights
            .get("a".into(), || async { Ok((Blob(0), None)) })
            .await;
        flights
            .get("d".into(), || async { Ok((Blob(30), None)) })
            .await
            .0
            .unwrap();
        assert!(flights.bytes() <= 75, "{}", flights.bytes());
        let (_, a) = flights
            .get("a".into(), || async { Ok((Blob(30), None)) })
            .await;
        let (_, b) = flights
            .get("b".into(), || async { Ok((Blob(30), None)) })
            .await;
        assert_eq!((a, b), (Source::Kept, Source::Computed));
    }

    #[test]
    fn answers_pick_the_encoding_and_revalidate_by_etag() {
        let body = "<p>figures</p>".repeat(100).into_bytes();
        let a = Answer::new("text/html; charset=utf-8", "no-cache", body.clone());
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        let res = a.respond(&h);
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "br");
        let etag = res.headers()[header::ETAG].clone();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=1, br;q=0"),
        );
        assert_eq!(a.respond(&h).headers()[header::CONTENT_ENCODING], "gzip");
        h.remove(header::ACCEPT_ENCODING);
        let plain = a.respond(&h);
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        h.insert(header::IF_NONE_MATCH, etag.clone());
        assert_eq!(a.respond(&h).status(), StatusCode::NOT_MODIFIED);
        let other = Answer::new("text/html; charset=utf-8", "no-cache", b"other".to_vec());
        assert_eq!(
            other.respond(&h).status(),
            StatusCode::OK,
            "another body, another tag"
        );
        // What the client gets back decompresses to the body.
        let mut gz = flate2::read::GzDecoder::new(&a.gzip.as_ref().unwrap()[..]);
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut gz, &mut out).unwrap();
        assert_eq!(out, body);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &a.brotli.as_ref().unwrap()[..], &mut out).unwrap();
        assert_eq!(out, body);
    }
}
