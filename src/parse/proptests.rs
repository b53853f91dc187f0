//! Property tests: random hits written as combined and as Caddy JSON parse back to the same fields,
//! and no input bytes make any parser panic.

use std::borrow::Cow;

use chrono::{FixedOffset, TimeZone};
use proptest::prelude::*;

use super::{Format, NginxFormat};

#[derive(Debug, Clone)]
struct Spec {
    addr: String,
    ts_secs: i64,
    offset_min: i32,
    method: String,
    path: String,
    query: Option<String>,
    protocol: &'static str,
    status: u16,
    bytes: Option<u64>,
    referrer: Option<String>,
    agent: Option<String>,
}

fn addr() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| std::net::Ipv4Addr::from(b).to_string()),
        any::<[u16; 8]>().prop_map(|b| std::net::Ipv6Addr::from(b).to_string()),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        addr(),
        631_152_000i64..4_102_444_800, // 1990 .. 2100, the plausible window
        (-12i32 * 60..=14 * 60).prop_map(|m| m - m % 15),
        "[A-Z]{1,10}",
        "/[A-Za-z0-9/._~%!$&'()*+,;=:@-]{0,60}",
        proptest::option::of("[A-Za-z0-9/._~%!$&'()*+,;=:@?-]{0,40}"),
        prop_oneof![Just("HTTP/1.0"), Just("HTTP/1.1"), Just("HTTP/2.0")],
        100u16..=599,
        proptest::option::of(0u64..10_000_000_000),
        proptest::option::of("[ -~]{1,80}".prop_filter("dash means none", |s| s != "-")),
        proptest::option::of("[ -~]{1,120}".prop_filter("dash means none", |s| s != "-")),
    )
        .prop_map(
            |(
                addr,
                ts_secs,
                offset_min,
                method,
                path,
                query,
                protocol,
                status,
                bytes,
                referrer,
                agent,
            )| Spec {
                addr,
                ts_secs,
                offset_min,
                method,
                path,
                query,
                protocol,
                status,
                bytes,
                referrer,
                agent,
            },
        )
}

/// Apache's escaping of quoted fields: `\` -> `\\`, `"` -> `\"`.
fn apache_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn combined_line(s: &Spec) -> String {
    let tz = FixedOffset::east_opt(s.offset_min * 60).unwrap();
    let t = tz.timestamp_opt(s.ts_secs, 0).unwrap();
    let target = match &s.query {
        Some(q) => format!("{}?{q}", s.path),
        None => s.path.clone(),
    };
    format!(
        "{} - - [{}] \"{} {target} {}\" {} {} \"{}\" \"{}\"",
        s.addr,
        t.format("%d/%b/%Y:%H:%M:%S %z"),
        s.method,
        s.protocol,
        s.status,
        s.bytes.map_or("-".to_string(), |b| b.to_string()),
        s.referrer.as_deref().map_or("-".to_string(), apache_escape),
        s.agent.as_deref().map_or("-".to_string(), apache_escape),
    )
}

fn caddy_line(s: &Spec) -> String {
    let mut headers = serde_json::Map::new();
    if let Some(a) = &s.agent {
        headers.insert("User-Agent".into(), serde_json::json!([a]));
    }
    if let Some(r) = &s.referrer {
        headers.insert(
            "Referer".into(),
            serde_json::json!([r, "ignored second value"]),
        );
    }
    let uri = match &s.query {
        Some(q) => format!("{}?{q}", s.path),
        None => s.path.clone(),
    };
    serde_json::json!({
        "level": "info",
        "ts": s.ts_secs as f64 + 0.25,
        "logger": "http.log.access",
        "msg": "handled request",
        "request": {"remote_ip": s.addr, "client_ip": s.addr, "proto": s.protocol, "method": s.method,
                    "host": "example.org:443", "uri": uri, "headers": headers},
        "duration": 0.5,
        "size": s.bytes.unwrap_or(0),
        "status": s.status,
    })
    .to_string()
}

fn text(t: &Option<Cow<'_, [u8]>>) -> Option<String> {
    t.as_deref().map(|b| String::from_utf8(b.to_vec()).unwrap())
}

fn split_query(s: &Spec) -> (String, Option<String>) {
    // A `?` inside the generated query belongs to the query; the path has none.
    (s.path.clone(), s.query.clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn combined_round_trip(s in spec()) {
        let line = combined_line(&s);
        let h = Format::Combined.parse(line.as_bytes()).map_err(|r| TestCaseError::fail(format!("{r}: {line}")))?;
        let (path, query) = split_query(&s);
        prop_assert_eq!(String::from_utf8(h.addr.to_vec()).unwrap(), s.addr.clone());
        prop_assert_eq!(h.ts_ms, s.ts_secs * 1000);
        prop_assert_eq!(text(&h.method), Some(s.method.clone()));
        prop_assert_eq!(text(&h.path), Some(path));
        prop_assert_eq!(text(&h.query), query);
        prop_assert_eq!(text(&h.protocol), Some(s.protocol.to_string()));
        prop_assert_eq!((h.status, h.bytes), (s.status, s.bytes));
        prop_assert_eq!(text(&h.referrer), s.referrer.as_deref().map(apache_escape));
        prop_assert_eq!(text(&h.user_agent), s.agent.as_deref().map(apache_escape));
    }

    #[test]
    fn nginx_log_format_agrees_with_combined(s in spec()) {
        let f = NginxFormat::compile(r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#).unwrap();
        let line = combined_line(&s);
        prop_assert_eq!(Format::Nginx(f).parse(line.as_bytes()), Format::Combined.parse(line.as_bytes()));
    }

    #[test]
    fn caddy_round_trip(s in spec()) {
        let line = caddy_line(&s);
        let h = Format::Caddy.parse(line.as_bytes()).map_err(|r| TestCaseError::fail(format!("{r}: {line}")))?;
        let (path, query) = split_query(&s);
        prop_assert_eq!(String::from_utf8(h.addr.to_vec()).unwrap(), s.addr.clone());
        prop_assert_eq!(h.ts_ms, s.ts_secs * 1000 + 250);
        prop_assert_eq!(text(&h.method), Some(s.method.clone()));
        prop_assert_eq!(text(&h.path), Some(path));
        prop_assert_eq!(text(&h.query), query);
        prop_assert_eq!(h.status, s.status);
        prop_assert_eq!(h.bytes, Some(s.bytes.unwrap_or(0)));
        prop_assert_eq!(text(&h.referrer), s.referrer.clone().filter(|r| !r.is_empty()));
        prop_assert_eq!(text(&h.user_agent), s.agent.clone().filter(|a| !a.is_empty()));
        prop_assert_eq!(text(&h.host), Some("example.org".to_string()));
        prop_assert_eq!(h.request_time_us, Some(500_000));
    }

    #[test]
    fn no_parser_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let nginx = NginxFormat::compile("$host $remote_addr [$time_iso8601] \"$request\" $status $bytes_sent $request_time").unwrap();
        for f in [Format::Combined, Format::Common, Format::Vcombined, Format::Caddy, Format::Nginx(nginx)] {
            let _ = f.parse(&bytes);
        }
    }

    #[test]
    fn mutated_real_lines_never_panic(cut in 0usize..200, byte in any::<u8>(), at in 0usize..200) {
        let base = br#"1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] "GET /a?b=1 HTTP/1.1" 200 612 "https://x/" "Mozilla/5.0 (X11)""#;
        let mut line = base[..cut.min(base.len())].to_vec();
        if !line.is_empty() {
            let i = at % line.len();
            line[i] = byte;
        }
        let _ = Format::Combined.parse(&line);
        let _ = Format::Vcombined.parse(&line);
    }
}
