//! Caddy v2 JSON access logs.
//!
//! Strings borrow from the line unless they hold a JSON escape. `ts` is a float epoch in the default
//! encoder and an ISO-8601 string with `time_format iso8601`; both occur in one real file when the
//! config changed. Lines may carry a prefix before the JSON object: `docker compose` writes
//! `caddy  | {...}` and Caddy's console encoder writes `2025/10/23 19:21:04.824<TAB>INFO<TAB>...<TAB>{...}`
//! (with the time only in the prefix).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;

use super::request::split_target;
use super::time::{from_epoch_f64, parse_console_time, parse_iso8601};
use super::{strip_port, Hit, RejectReason, Text};

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(default, deserialize_with = "timestamp")]
    ts: Option<i64>,
    #[serde(borrow, default)]
    request: Option<Request<'a>>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    duration: Option<f64>,
}

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow, default)]
    remote_ip: Option<Borrowed<'a>>,
    #[serde(borrow, default)]
    client_ip: Option<Borrowed<'a>>,
    #[serde(borrow, default)]
    proto: Option<Borrowed<'a>>,
    #[serde(borrow, default)]
    method: Option<Borrowed<'a>>,
    #[serde(borrow, default)]
    host: Option<Borrowed<'a>>,
    #[serde(borrow, default)]
    uri: Option<Borrowed<'a>>,
    #[serde(borrow, default)]
    headers: Option<Headers<'a>>,
}

#[derive(Deserialize)]
struct Headers<'a> {
    #[serde(
        rename = "User-Agent",
        borrow,
        default,
        deserialize_with = "first_value"
    )]
    user_agent: Option<Cow<'a, str>>,
    #[serde(rename = "Referer", borrow, default, deserialize_with = "first_value")]
    referer: Option<Cow<'a, str>>,
}

/// A string that borrows from the input when it can (serde borrows a `Cow` only as a direct field,
/// not inside an `Option`, hence this newtype).
#[derive(Deserialize)]
struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);

/// Takes the first string of a header's value list and skips the rest without allocating a `Vec`.
fn first_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct First;
    impl<'de> Visitor<'de> for First {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of header values")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let first = seq.next_element::<Borrowed<'de>>()?.map(|b| b.0);
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(first)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(First)
}

/// `ts` as a float/integer epoch or an ISO-8601 string, to unix milliseconds.
fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct Ts;
    impl Visitor<'_> for Ts {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an epoch number or an ISO-8601 time")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(from_epoch_f64(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(from_epoch_f64(v as f64))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(from_epoch_f64(v as f64))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(parse_iso8601(v.as_bytes()))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Ts)
}

fn bytes(c: Cow<'_, str>) -> Text<'_> {
    match c {
        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
    }
}

fn non_empty(c: Option<Cow<'_, str>>) -> Option<Text<'_>> {
    c.filter(|s| !s.is_empty() && s != "-").map(bytes)
}

/// Parses one Caddy access-log line.
pub fn parse(line: &[u8]) -> Result<Hit<'_>, RejectReason> {
    let start = memchr::memchr(b'{', line).ok_or(RejectReason::BadJson)?;
    let (prefix, json) = line.split_at(start);
    let entry: Entry = serde_json::from_slice(json).map_err(|_| RejectReason::BadJson)?;
    let request = entry.request.ok_or(RejectReason::NotAccessEntry)?;
    let status = entry.status.ok_or(RejectReason::NotAccessEntry)?;
    let ts_ms = match entry.ts {
        Some(ts) => ts,
        None if !prefix.is_empty() => {
            let end = prefix
                .iter()
                .position(|c| *c == b'\t')
                .unwrap_or(prefix.len());
            parse_console_time(&prefix[..end]).ok_or(RejectReason::BadTimestamp)?
        }
        None => return Err(RejectReason::BadTimestamp),
    };
    let addr = request
        .client_ip
        .filter(|s| !s.0.is_empty())
        .or(request.remote_ip)
        .map(|b| bytes(b.0))
        .ok_or(RejectReason::BadAddress)?;

    let (path, query) = match request.uri.map(|b| bytes(b.0)) {
        Some(Cow::Borrowed(uri)) => {
            let (p, q) = split_target(uri);
            (Some(Cow::Borrowed(p)), q.map(Cow::Borrowed))
        }
        Some(Cow::Owned(uri)) => {
            let (p, q) = split_target(&uri);
            (
                Some(Cow::Owned(p.to_vec())),
                q.map(|q| Cow::Owned(q.to_vec())),
            )
        }
        None => (None, None),
    };
    let host = request.host.map(|h| match bytes(h.0) {
        Cow::Borrowed(h) => Cow::Borrowed(strip_port(h)),
        Cow::Owned(h) => Cow::Owned(strip_port(&h).to_vec()),
    });
    let (user_agent, referrer) = match request.headers {
        Some(h) => (non_empty(h.user_agent), non_empty(h.referer)),
        None => (None, None),
    };
    Ok(Hit {
        addr,
        ts_ms,
        method: non_empty(request.method.map(|b| b.0)),
        path,
        query,
        protocol: non_empty(request.proto.map(|b| b.0)),
        status,
        bytes: entry.size,
        referrer,
        user_agent,
        host,
        request_time_us: entry
            .duration
            .filter(|d| d.is_finite() && *d >= 0.0)
            .map(|d| (d * 1e6) as u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s<'a>(t: &'a Option<Text<'a>>) -> Option<&'a str> {
        t.as_deref().map(|b| std::str::from_utf8(b).unwrap())
    }

    const LINE: &str = r#"{"level":"info","ts":1716723752.123456,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"10.0.0.5","remote_port":"5555","client_ip":"2001:db8::7","proto":"HTTP/2.0","method":"GET","host":"mirror.example.org:443","uri":"/gentoo/distfiles?x=1","headers":{"User-Agent":["Wget/1.21"],"Referer":["https://example.net/"],"Accept":["*/*"]}},"bytes_read":0,"user_id":"","duration":0.0123,"size":5120,"status":200,"resp_headers":{}}"#;

    #[test]
    fn reads_every_field() {
        let h = parse(LINE.as_bytes()).unwrap();
        assert_eq!(&*h.addr, b"2001:db8::7", "client_ip wins over remote_ip");
        assert_eq!(h.ts_ms, 1_716_723_752_123);
        assert_eq!(
            (s(&h.method), s(&h.path), s(&h.query)),
            (Some("GET"), Some("/gentoo/distfiles"), Some("x=1"))
        );
        assert_eq!(
            (s(&h.protocol), s(&h.host)),
            (Some("HTTP/2.0"), Some("mirror.example.org"))
        );
        assert_eq!(
            (s(&h.user_agent), s(&h.referrer)),
            (Some("Wget/1.21"), Some("https://example.net/"))
        );
        assert_eq!(
            (h.status, h.bytes, h.request_time_us),
            (200, Some(5120), Some(12_300))
        );
        assert!(
            matches!(h.path, Some(Cow::Borrowed(_))),
            "plain strings borrow from the line"
        );
    }

    #[test]
    fn iso_ts_and_escaped_strings() {
        let line = r#"{"level":"INFO","ts":"2025-05-19T21:24:02.079Z","request":{"remote_ip":"1.2.3.4","method":"GET","uri":"/a\u0026b","headers":{"User-Agent":["say \"hi\""]}},"status":404,"size":0}"#;
        let h = parse(line.as_bytes()).unwrap();
        assert_eq!(h.ts_ms, 1_747_689_842_079);
        assert_eq!(
            (s(&h.path), s(&h.user_agent)),
            (Some("/a&b"), Some("say \"hi\""))
        );
    }

    #[test]
    fn prefixed_lines() {
        let docker = format!("caddy  | {LINE}");
        assert_eq!(parse(docker.as_bytes()).unwrap().status, 200);
        let console = "2025/10/23 19:21:04.824\t\x1b[34mINFO\x1b[0m\thttp.log.access.log0\thandled request\t{\"request\": {\"remote_ip\": \"172.21.0.1\", \"method\": \"GET\", \"uri\": \"/\"}, \"status\": 200, \"size\": 3}";
        let h = parse(console.as_bytes()).unwrap();
        assert_eq!(h.ts_ms, parse_iso8601(b"2025-10-23T19:21:04.824Z").unwrap());
    }

    #[test]
    fn runtime_messages_and_garbage_are_rejected() {
        assert_eq!(
            parse(br#"{"level":"info","ts":1761019822.3,"msg":"using config from file"}"#)
                .unwrap_err(),
            RejectReason::NotAccessEntry
        );
        assert_eq!(parse(b"{not json").unwrap_err(), RejectReason::BadJson);
        assert_eq!(parse(b"plain text").unwrap_err(), RejectReason::BadJson);
    }
}
