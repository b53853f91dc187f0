//! Splits an HTTP request line (`GET /path?q=1 HTTP/1.1`) into method, path, query and protocol.
//!
//! Scanners send anything: a TLS handshake (`\x16\x03\x01...`), `-`, an empty string, a bare `/`.
//! Those are still hits (the server answered them, usually with 400), just without a method or path.

use std::borrow::Cow;

use nom::bytes::complete::{take_while1, take_while_m_n};
use nom::character::complete::char;
use nom::{IResult, Parser};

use super::Text;

/// The parts of a request line; all `None` when the line is not an HTTP request.
#[derive(Debug, Default, PartialEq)]
pub struct RequestLine<'a> {
    /// `GET`, `POST`, ...
    pub method: Option<Text<'a>>,
    /// Path without the query string.
    pub path: Option<Text<'a>>,
    /// Query string without the `?`.
    pub query: Option<Text<'a>>,
    /// `HTTP/1.1` etc.
    pub protocol: Option<Text<'a>>,
}

fn method(i: &[u8]) -> IResult<&[u8], &[u8]> {
    (
        take_while_m_n(1, 16, |c: u8| {
            c.is_ascii_uppercase() || c == b'_' || c == b'-'
        }),
        char(' '),
    )
        .map(|(m, _)| m)
        .parse(i)
}

fn target(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while1(|c: u8| c != b' ').parse(i)
}

/// Splits `target` into path and query at the first `?`.
pub fn split_target(target: &[u8]) -> (&[u8], Option<&[u8]>) {
    match memchr::memchr(b'?', target) {
        Some(q) => (&target[..q], Some(&target[q + 1..])),
        None => (target, None),
    }
}

/// Reads a request line. Targets with raw spaces (`GET /a b HTTP/1.1`) keep the spaces.
pub fn parse_request(line: &[u8]) -> RequestLine<'_> {
    let Ok((rest, m)) = method(line) else {
        return RequestLine::default();
    };
    // Protocol: the last token when it starts with HTTP/; everything between is the target.
    let (target_bytes, protocol) = match memchr::memrchr(b' ', rest) {
        Some(sp) if rest[sp + 1..].starts_with(b"HTTP/") => (&rest[..sp], Some(&rest[sp + 1..])),
        _ => (rest, None),
    };
    // Fast path: a target without spaces; otherwise keep the whole middle.
    let target_bytes = match target(target_bytes) {
        Ok((b"", t)) => t,
        _ => target_bytes,
    };
    if target_bytes.is_empty() {
        return RequestLine {
            method: Some(Cow::Borrowed(m)),
            protocol: protocol.map(Cow::Borrowed),
            ..Default::default()
        };
    }
    let (path, query) = split_target(target_bytes);
    RequestLine {
        method: Some(Cow::Borrowed(m)),
        path: Some(Cow::Borrowed(path)),
        query: query.map(Cow::Borrowed),
        protocol: protocol.map(Cow::Borrowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(
        l: &[u8],
    ) -> (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) {
        let r = parse_request(l);
        let s = |t: Option<Text>| t.map(|t| String::from_utf8_lossy(&t).into_owned());
        (s(r.method), s(r.path), s(r.query), s(r.protocol))
    }

    #[test]
    fn plain_request() {
        let (m, p, q, v) = parts(b"GET /a/b?x=1&y=2 HTTP/1.1");
        assert_eq!(
            (m.as_deref(), p.as_deref(), q.as_deref(), v.as_deref()),
            (Some("GET"), Some("/a/b"), Some("x=1&y=2"), Some("HTTP/1.1"))
        );
    }

    #[test]
    fn http09_has_no_protocol() {
        let (m, p, _, v) = parts(b"GET /");
        assert_eq!(
            (m.as_deref(), p.as_deref(), v),
            (Some("GET"), Some("/"), None)
        );
    }

    #[test]
    fn garbage_is_a_request_without_method() {
        assert_eq!(
            parse_request(br"\x16\x03\x01\x00\xA5\x01"),
            RequestLine::default()
        );
        assert_eq!(parse_request(b"-"), RequestLine::default());
        assert_eq!(parse_request(b""), RequestLine::default());
        assert_eq!(
            parse_request(b"<SCRIPT>NXSSTEST</SCRIPT> / HTTP/1.1"),
            RequestLine::default()
        );
    }

    #[test]
    fn spaces_inside_target_are_kept() {
        let (_, p, _, v) = parts(b"GET /a b HTTP/1.0");
        assert_eq!(
            (p.as_deref(), v.as_deref()),
            (Some("/a b"), Some("HTTP/1.0"))
        );
    }

    #[test]
    fn connect_keeps_authority() {
        let (m, p, _, _) = parts(b"CONNECT www.baidu.com:443 HTTP/1.0");
        assert_eq!(
            (m.as_deref(), p.as_deref()),
            (Some("CONNECT"), Some("www.baidu.com:443"))
        );
    }
}
