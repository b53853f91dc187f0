//! The combined family: nginx/Apache `combined`, NCSA `common`, and `vcombined` (virtual host first).
//!
//! ```text
//! [vhost[:port] ]addr ident user [time] "request" status size[ "referrer" "user agent"][ extra...]
//! ```
//! Tolerances, each seen in real logs (see `fixtures/README.md`): Apache's `\"` inside quoted fields,
//! unescaped quotes inside the request (Apache 1.3), a comma-separated `X-Forwarded-For` list in the
//! address position, extra fields before the referrer or after the user agent, a time without zone,
//! and trailing spaces or `\r`.

use std::borrow::Cow;

use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::char;
use nom::{IResult, Parser};

use super::request::parse_request;
use super::time::parse_time_local;
use super::{dash_to_none, parse_size, parse_status, strip_port, Hit, RejectReason};

/// Which optional parts a combined-family line has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// A virtual host (`%v`, `%v:%p`, `$host`) precedes the client address.
    pub vhost: bool,
    /// Referrer and user agent follow the size.
    pub agent: bool,
}

impl Layout {
    /// `combined`.
    pub const COMBINED: Layout = Layout {
        vhost: false,
        agent: true,
    };
    /// `common` (CLF).
    pub const COMMON: Layout = Layout {
        vhost: false,
        agent: false,
    };
    /// `vcombined`.
    pub const VCOMBINED: Layout = Layout {
        vhost: true,
        agent: true,
    };
}

fn token(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while1(|c: u8| c != b' ').parse(i)
}

fn space(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while1(|c: u8| c == b' ').parse(i)
}

/// The client address; a list `a, b, c` (X-Forwarded-For written into `$remote_addr`) yields `a`.
fn address(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (mut rest, first) = token(i)?;
    let addr = first.strip_suffix(b",").unwrap_or(first);
    let mut last = first;
    while last.ends_with(b",") {
        let (r, (_, next)) = (space, token).parse(rest)?;
        rest = r;
        last = next;
    }
    Ok((rest, addr))
}

/// `ident user [` : the two identity fields before the time.
fn identity(i: &[u8]) -> IResult<&[u8], ()> {
    (space, token, space, token, space, char('['))
        .map(|_| ())
        .parse(i)
}

/// Finds the quote that closes the request: the first `"` followed by ` <1-3 digits>` and a space or
/// the end of the line. Quotes inside the request (unescaped or `\"`) are skipped that way.
fn request_end(s: &[u8]) -> Result<usize, RejectReason> {
    let mut from = 0;
    let mut saw_quote = false;
    while let Some(p) = memchr::memchr(b'"', &s[from..]) {
        let q = from + p;
        saw_quote = true;
        let after = &s[q + 1..];
        if after.first() == Some(&b' ') {
            let digits = after[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if (1..=3).contains(&digits) && matches!(after.get(1 + digits), None | Some(b' ')) {
                return Ok(q);
            }
        }
        from = q + 1;
    }
    Err(if saw_quote {
        RejectReason::BadStatus
    } else {
        RejectReason::UnterminatedQuote
    })
}

/// Finds the closing quote of a quoted field: a `"` not escaped by an odd number of backslashes and
/// followed by a space or the end of the line.
pub(crate) fn quoted_end(s: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = memchr::memchr(b'"', &s[from..]) {
        let q = from + p;
        let backslashes = s[..q].iter().rev().take_while(|c| **c == b'\\').count();
        if backslashes % 2 == 0 && matches!(s.get(q + 1), None | Some(b' ') | Some(b'\t')) {
            return Some(q);
        }
        from = q + 1;
    }
    None
}

fn nom_reject(_: nom::Err<nom::error::Error<&[u8]>>) -> RejectReason {
    RejectReason::NoTimestamp
}

/// Parses one combined-family line.
pub fn parse(line: &[u8], layout: Layout) -> Result<Hit<'_>, RejectReason> {
    let line = trim_end(line);
    let mut i = line;
    let mut host = None;
    if layout.vhost {
        let (rest, (h, _)) = (token, space)
            .parse(i)
            .map_err(|_| RejectReason::BadAddress)?;
        host = Some(Cow::Borrowed(strip_port(h)));
        i = rest;
    }
    let (rest, addr) = address(i).map_err(|_| RejectReason::BadAddress)?;
    let (rest, ()) = identity(rest).map_err(nom_reject)?;

    let close = memchr::memchr(b']', rest).ok_or(RejectReason::NoTimestamp)?;
    let ts_ms = parse_time_local(&rest[..close]).ok_or(RejectReason::BadTimestamp)?;
    let rest = &rest[close + 1..];

    let (rest, _) = (space, tag(&b"\""[..]))
        .parse(rest)
        .map_err(|_: nom::Err<nom::error::Error<&[u8]>>| RejectReason::UnterminatedQuote)?;
    let end = request_end(rest)?;
    let request = parse_request(&rest[..end]);
    let rest = &rest[end + 2..];

    let sp = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let status = parse_status(&rest[..sp]).ok_or(RejectReason::BadStatus)?;
    let rest = skip_spaces(&rest[sp..]);
    let sz = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let bytes = parse_size(&rest[..sz])?;
    let mut rest = skip_spaces(&rest[sz..]);

    let (mut referrer, mut user_agent) = (None, None);
    if layout.agent {
        // Extra unquoted fields (e.g. Apache's `%I`) may stand before the referrer.
        while !rest.is_empty() && rest[0] != b'"' {
            let t = memchr::memchr(b' ', rest).unwrap_or(rest.len());
            rest = skip_spaces(&rest[t..]);
        }
        if let Some(body) = rest.strip_prefix(b"\"") {
            let end = quoted_end(body).ok_or(RejectReason::UnterminatedQuote)?;
            referrer = dash_to_none(&body[..end]);
            rest = skip_spaces(&body[end + 1..]);
            if let Some(body) = rest.strip_prefix(b"\"") {
                let end = quoted_end(body).ok_or(RejectReason::UnterminatedQuote)?;
                user_agent = dash_to_none(&body[..end]);
            }
        }
    }

    Ok(Hit {
        addr: Cow::Borrowed(addr),
        ts_ms,
        method: request.method,
        path: request.path,
        query: request.query,
        protocol: request.protocol,
        status,
        bytes,
        referrer,
        user_agent,
        host,
        request_time_us: None,
    })
}

/// A field after the status and size of a combined-family line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    /// Written between double quotes.
    pub quoted: bool,
    /// Its text (without the quotes).
    pub text: &'a [u8],
}

/// The fields after the status and size of a line that parses as `combined` (for format
/// detection to judge whether they really are a referrer and a user agent).
pub fn tail_fields(line: &[u8]) -> Option<Vec<Field<'_>>> {
    let line = trim_end(line);
    let open = memchr::memchr(b'"', line)?;
    let rest = &line[open + 1..];
    let end = request_end(rest).ok()?;
    let rest = skip_spaces(&rest[end + 2..]);
    let sp = memchr::memchr(b' ', rest)?;
    let rest = skip_spaces(&rest[sp..]);
    let sz = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let mut rest = skip_spaces(&rest[sz..]);
    let mut fields = Vec::new();
    while !rest.is_empty() {
        if let Some(body) = rest.strip_prefix(b"\"") {
            let end = quoted_end(body)?;
            fields.push(Field {
                quoted: true,
                text: &body[..end],
            });
            rest = skip_spaces(&body[end + 1..]);
        } else {
            let t = memchr::memchr(b' ', rest).unwrap_or(rest.len());
            fields.push(Field {
                quoted: false,
                text: &rest[..t],
            });
            rest = skip_spaces(&rest[t..]);
        }
    }
    Some(fields)
}

#[inline]
fn skip_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|c| **c == b' ').count();
    &s[n..]
}

#[inline]
fn trim_end(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .rev()
        .take_while(|c| matches!(c, b' ' | b'\r' | b'\n' | b'\t'))
        .count();
    &s[..s.len() - n]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s<'a>(t: &'a Option<Cow<'a, [u8]>>) -> Option<&'a str> {
        t.as_deref().map(|b| std::str::from_utf8(b).unwrap())
    }

    fn ok(line: &str) -> Hit<'_> {
        parse(line.as_bytes(), Layout::COMBINED).unwrap_or_else(|r| panic!("{r}: {line}"))
    }

    #[test]
    fn nginx_default_line() {
        let h = ok(
            r#"81.2.69.160 - - [01/Sep/2022:22:12:45 +0000] "GET /index.html?utm_source=x HTTP/1.1" 200 612 "https://www.google.com/" "Mozilla/5.0 (X11; Linux x86_64)""#,
        );
        assert_eq!(&*h.addr, b"81.2.69.160");
        assert_eq!(h.ts_ms, 1_662_070_365_000);
        assert_eq!(
            (s(&h.method), s(&h.path), s(&h.query)),
            (Some("GET"), Some("/index.html"), Some("utm_source=x"))
        );
        assert_eq!((h.status, h.bytes), (200, Some(612)));
        assert_eq!(s(&h.referrer), Some("https://www.google.com/"));
        assert_eq!(s(&h.user_agent), Some("Mozilla/5.0 (X11; Linux x86_64)"));
    }

    #[test]
    fn apache_escaped_quotes_in_user_agent() {
        let h = ok(
            r#"5.188.210.227 - - [13/Nov/2020:06:37:22 +0000] "GET / HTTP/1.0" 200 10 "-" "Mozilla/5.0 \"Gecko\" Firefox""#,
        );
        assert_eq!(s(&h.user_agent), Some(r#"Mozilla/5.0 \"Gecko\" Firefox"#));
        assert_eq!(h.referrer, None);
    }

    #[test]
    fn tls_handshake_request_is_a_hit_without_method() {
        let h = ok(
            r#"192.241.215.0 - - [02/Sep/2022:01:10:11 +0000] "\x16\x03\x01\x00{\x01\x00\x00w\x03\x03" 400 157 "-" "-""#,
        );
        assert_eq!(
            (
                h.method.is_none(),
                h.path.is_none(),
                h.status,
                h.user_agent.is_none()
            ),
            (true, true, 400, true)
        );
    }

    #[test]
    fn dash_request_and_dash_size() {
        let h = ok(r#"::1 - - [26/Dec/2016:16:16:48 +0200] "-" 408 -"#);
        assert_eq!(
            (&*h.addr, h.status, h.bytes, h.method.is_none()),
            (&b"::1"[..], 408, None, true)
        );
    }

    #[test]
    fn unescaped_quote_inside_request() {
        let h =
            ok(r#"1.2.3.4 - - [21/Apr/2004:10:56:07 -0400] "GET /a"b HTTP/1.1" 404 2890 "-" "UA""#);
        assert_eq!((s(&h.path), h.status), (Some("/a\"b"), 404));
    }

    #[test]
    fn forwarded_list_in_address_position() {
        let h = ok(
            r#"10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "curl""#,
        );
        assert_eq!(&*h.addr, b"10.0.0.2");
    }

    #[test]
    fn extra_fields_before_and_after() {
        let h = ok(
            r#"2a02:cf40::6fc6 - - [29/May/2017:19:02:48 +0000] "GET /x HTTP/1.1" 200 612 3413 "-" "Mozilla/5.0" X-Forwarded-For="10.2.2.121""#,
        );
        assert_eq!(
            (s(&h.user_agent), h.bytes),
            (Some("Mozilla/5.0"), Some(612))
        );
        let h = ok(
            r#"1.1.1.1 - - [25/Apr/2023:01:45:43 -0700] "HEAD / HTTP/1.1" 200 5640 "http://x" "DreamHost SiteMonitor 1.0" "#,
        );
        assert_eq!(s(&h.user_agent), Some("DreamHost SiteMonitor 1.0"));
    }

    #[test]
    fn common_line_under_combined_has_no_agent() {
        let h = ok("64.242.88.10 - - [07/Mar/2004:16:05:49 -0800] \"GET /twiki/bin/edit/Main HTTP/1.1\" 401 12846\r");
        assert_eq!((h.status, h.bytes, h.user_agent), (401, Some(12846), None));
    }

    #[test]
    fn vcombined_reads_host_and_strips_port() {
        let line = br#"fenix.geolynx.com.ar:443 181.10.31.82 - - [02/Nov/2020:09:55:25 +0000] "GET / HTTP/1.1" 503 2595 "-" "Mozilla/5.0""#;
        let h = parse(line, Layout::VCOMBINED).unwrap();
        assert_eq!(
            (s(&h.host), &*h.addr),
            (Some("fenix.geolynx.com.ar"), &b"181.10.31.82"[..])
        );
        assert_eq!(
            parse(line, Layout::COMBINED),
            Err(RejectReason::NoTimestamp)
        );
    }

    #[test]
    fn rejects_carry_reasons() {
        let r = |l: &str| parse(l.as_bytes(), Layout::COMBINED).unwrap_err();
        assert_eq!(r("Error line 1"), RejectReason::NoTimestamp);
        assert_eq!(
            r(r#"1.1.1.1 - - [99/Xyz/2015:12:05:17 +0000] "GET / HTTP/1.1" 200 1"#),
            RejectReason::BadTimestamp
        );
        assert_eq!(
            r(r#"1.1.1.1 - - [20/May/2015:12:05:17 +0000] "GET / HTTP/1.1" 200 1 "-" "Googlebot"#),
            RejectReason::UnterminatedQuote
        );
        assert_eq!(
            r(r#"1.1.1.1 - - [20/May/2015:12:05:17 +0000] "GET / HTTP/1.1"#),
            RejectReason::UnterminatedQuote
        );
        assert_eq!(
            r(r#"1.1.1.1 - - [20/May/2015:12:05:17 +0000] "GET / HTTP/1.1" abc 1"#),
            RejectReason::BadStatus
        );
        assert_eq!(
            r(r#"1.1.1.1 - - [20/May/2015:12:05:17 +0000] "GET / HTTP/1.1" 200 x1"#),
            RejectReason::BadSize
        );
        assert_eq!(r(""), RejectReason::BadAddress);
    }

    #[test]
    fn invalid_utf8_is_kept_as_bytes() {
        let mut line = br#"1.1.1.1 - - [20/May/2015:12:05:17 +0000] "GET /"#.to_vec();
        line.extend_from_slice(&[0xA4, 0xA4, 0xE5]);
        line.extend_from_slice(br#" HTTP/1.1" 200 1 "-" "-""#);
        let h = parse(&line, Layout::COMBINED).unwrap();
        assert_eq!(h.path.as_deref(), Some(&[b'/', 0xA4, 0xA4, 0xE5][..]));
    }
}
