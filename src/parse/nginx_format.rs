//! Compiles an nginx `log_format` string into a line parser, once, at start-up.
//!
//! The format is a list of literals and `$variables`. At run time each variable's value runs up to the
//! next literal (found with `memchr::memmem`), so any layout of the known variables works, and unknown
//! variables are read and skipped as opaque fields. The string may be pasted straight from
//! `nginx.conf`: `log_format main '$remote_addr - ...' '"$http_user_agent"';` is accepted too.

use std::borrow::Cow;

use nom::bytes::complete::{tag, take_while1};
use nom::sequence::delimited;
use nom::{IResult, Parser};

use super::request::{parse_request, split_target};
use super::time::{parse_epoch_secs, parse_iso8601, parse_time_local};
use super::{
    dash_to_none, first_forwarded_hop, parse_seconds_us, parse_size, parse_status, strip_port, Hit,
    RejectReason,
};

/// Why a `log_format` string cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    /// No time variable, so hits could not be placed in time.
    #[error("log_format has no time variable: add $time_local, $time_iso8601 or $msec")]
    NoTime,
    /// No status variable.
    #[error("log_format has no $status variable, which logtally needs to count page views")]
    NoStatus,
    /// No variables at all.
    #[error(
        "log_format has no $variables; pass the format string itself, e.g. '$remote_addr - ...'"
    )]
    Empty,
}

/// The variables logtally understands; everything else is `Other` and skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    RemoteAddr,
    TimeLocal,
    TimeIso8601,
    Msec,
    Request,
    RequestMethod,
    RequestUri,
    Uri,
    Args,
    ServerProtocol,
    Status,
    BodyBytesSent,
    BytesSent,
    HttpReferer,
    HttpUserAgent,
    HttpXForwardedFor,
    Host,
    ServerName,
    RequestTime,
    /// `$remote_user`, `$upstream_response_time` and any other variable: read, not kept.
    Other,
}

impl Var {
    fn from_name(name: &[u8]) -> Var {
        match name {
            b"remote_addr" => Var::RemoteAddr,
            b"time_local" => Var::TimeLocal,
            b"time_iso8601" => Var::TimeIso8601,
            b"msec" => Var::Msec,
            b"request" => Var::Request,
            b"request_method" => Var::RequestMethod,
            b"request_uri" => Var::RequestUri,
            b"uri" | b"document_uri" => Var::Uri,
            b"args" | b"query_string" => Var::Args,
            b"server_protocol" => Var::ServerProtocol,
            b"status" => Var::Status,
            b"body_bytes_sent" => Var::BodyBytesSent,
            b"bytes_sent" => Var::BytesSent,
            b"http_referer" => Var::HttpReferer,
            b"http_user_agent" => Var::HttpUserAgent,
            b"http_x_forwarded_for" => Var::HttpXForwardedFor,
            b"host" | b"http_host" => Var::Host,
            b"server_name" => Var::ServerName,
            b"request_time" => Var::RequestTime,
            _ => Var::Other,
        }
    }
}

/// One variable and the literal text that follows it.
#[derive(Clone, Debug)]
struct Step {
    var: Var,
    /// Literal up to the next variable (may be empty).
    after: Vec<u8>,
    /// Searcher for `after`, built once at compile time.
    finder: memchr::memmem::Finder<'static>,
}

/// A compiled nginx `log_format`.
#[derive(Clone, Debug)]
pub struct NginxFormat {
    source: String,
    lead: Vec<u8>,
    steps: Vec<Step>,
}

impl PartialEq for NginxFormat {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

fn var_name(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let name = || take_while1(|c: u8| c.is_ascii_alphanumeric() || c == b'_');
    let braced = delimited(tag(&b"${"[..]), name(), tag(&b"}"[..]));
    let plain = (tag(&b"$"[..]), name()).map(|(_, n)| n);
    nom::branch::alt((braced, plain)).parse(i)
}

/// Turns `log_format main '...' '...';` (or just `'...' '...'`) into the bare format string.
fn unwrap_config_snippet(s: &str) -> Cow<'_, str> {
    let t = s.trim();
    if !t.contains('\'') {
        return Cow::Borrowed(t);
    }
    let mut out = String::new();
    let mut parts = t.split('\'');
    parts.next(); // text before the first quote: `log_format main` or nothing
    while let Some(inside) = parts.next() {
        out.push_str(inside);
        parts.next(); // whitespace between quoted parts
    }
    Cow::Owned(out)
}

impl NginxFormat {
    /// Compiles a `log_format` string.
    pub fn compile(format: &str) -> Result<NginxFormat, Error> {
        let text = unwrap_config_snippet(format);
        let mut i = text.as_bytes();
        let mut lead = Vec::new();
        let mut steps: Vec<Step> = Vec::new();
        while !i.is_empty() {
            if let Ok((rest, name)) = var_name(i) {
                steps.push(Step {
                    var: Var::from_name(name),
                    after: Vec::new(),
                    finder: memchr::memmem::Finder::new(b"").into_owned(),
                });
                i = rest;
            } else {
                let lit = steps.last_mut().map_or(&mut lead, |s| &mut s.after);
                lit.push(i[0]);
                i = &i[1..];
            }
        }
        if steps.is_empty() {
            return Err(Error::Empty);
        }
        for step in &mut steps {
            step.finder = memchr::memmem::Finder::new(&step.after).into_owned();
        }
        if !steps
            .iter()
            .any(|s| matches!(s.var, Var::TimeLocal | Var::TimeIso8601 | Var::Msec))
        {
            return Err(Error::NoTime);
        }
        if !steps.iter().any(|s| s.var == Var::Status) {
            return Err(Error::NoStatus);
        }
        Ok(NginxFormat {
            source: text.into_owned(),
            lead,
            steps,
        })
    }

    /// Whether the format records the user agent (`$http_user_agent`).
    pub fn records_agent(&self) -> bool {
        self.steps.iter().any(|s| s.var == Var::HttpUserAgent)
    }

    /// The format string as compiled.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Parses one line.
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<Hit<'a>, RejectReason> {
        let line = trim_line_end(line);
        let mut i = line
            .strip_prefix(self.lead.as_slice())
            .ok_or(RejectReason::FormatMismatch)?;
        let mut hit = Hit::default();
        let (mut ts, mut status) = (None, None);
        let (mut xff, mut body_bytes, mut all_bytes, mut server_name) = (None, None, None, None);
        let (mut uri, mut args) = (None, None);
        for (n, step) in self.steps.iter().enumerate() {
            let last = n + 1 == self.steps.len();
            let (value, rest) = split_value(i, step, last)?;
            i = rest;
            match step.var {
                Var::RemoteAddr => {
                    hit.addr = Cow::Borrowed(first_forwarded_hop(value).unwrap_or(value))
                }
                Var::TimeLocal => {
                    ts = Some(parse_time_local(value).ok_or(RejectReason::BadTimestamp)?)
                }
                Var::TimeIso8601 => {
                    ts = Some(parse_iso8601(value).ok_or(RejectReason::BadTimestamp)?)
                }
                Var::Msec => ts = Some(parse_epoch_secs(value).ok_or(RejectReason::BadTimestamp)?),
                Var::Request => {
                    let r = parse_request(value);
                    hit.method = r.method;
                    hit.path = r.path;
                    hit.query = r.query;
                    hit.protocol = r.protocol;
                }
                Var::RequestMethod => hit.method = dash_to_none(value),
                Var::RequestUri => {
                    let (p, q) = split_target(value);
                    hit.path = dash_to_none(p);
                    hit.query = q.map(Cow::Borrowed);
                }
                Var::Uri => uri = dash_to_none(value),
                Var::Args => args = dash_to_none(value),
                Var::ServerProtocol => hit.protocol = dash_to_none(value),
                Var::Status => status = Some(parse_status(value).ok_or(RejectReason::BadStatus)?),
                Var::BodyBytesSent => body_bytes = parse_size(value)?,
                Var::BytesSent => all_bytes = parse_size(value)?,
                Var::HttpReferer => hit.referrer = dash_to_none(value),
                Var::HttpUserAgent => hit.user_agent = dash_to_none(value),
                Var::HttpXForwardedFor => xff = first_forwarded_hop(value),
                Var::Host => hit.host = dash_to_none(strip_port(value)),
                Var::ServerName => server_name = dash_to_none(value),
                Var::RequestTime => hit.request_time_us = parse_seconds_us(value),
                Var::Other => {}
            }
        }
        hit.ts_ms = ts.ok_or(RejectReason::BadTimestamp)?;
        hit.status = status.ok_or(RejectReason::BadStatus)?;
        hit.bytes = body_bytes.or(all_bytes);
        if hit.host.is_none() {
            hit.host = server_name;
        }
        if hit.path.is_none() {
            hit.path = uri;
            hit.query = hit.query.take().or(args);
        }
        if let Some(first) = xff {
            hit.addr = Cow::Borrowed(first);
        }
        Ok(hit)
    }
}

/// Splits the value of `step` off the front of `i`; returns (value, rest after the literal).
fn split_value<'a>(
    i: &'a [u8],
    step: &Step,
    last: bool,
) -> Result<(&'a [u8], &'a [u8]), RejectReason> {
    let after = step.after.as_slice();
    if after.is_empty() {
        if last {
            return Ok((i, b""));
        }
        // Two variables with nothing between them: the first ends at a space.
        let end = memchr::memchr(b' ', i).unwrap_or(i.len());
        return Ok((&i[..end], &i[end..]));
    }
    // `$time_local` holds a space: never end it before its 20th byte.
    let skip = if step.var == Var::TimeLocal {
        20.min(i.len())
    } else {
        0
    };
    let quoted_context = after[0] == b'"';
    let mut from = skip;
    loop {
        let Some(p) = step.finder.find(&i[from..]) else {
            // The final literal may be cut by trailing-space trimming (`"$http_user_agent" `).
            if last && i.ends_with(trim_end_spaces(after)) && !trim_end_spaces(after).is_empty() {
                let v = &i[..i.len() - trim_end_spaces(after).len()];
                return Ok((v, b""));
            }
            return Err(if quoted_context {
                RejectReason::UnterminatedQuote
            } else {
                RejectReason::FormatMismatch
            });
        };
        let at = from + p;
        let escaped =
            quoted_context && i[..at].iter().rev().take_while(|c| **c == b'\\').count() % 2 == 1;
        if !escaped {
            return Ok((&i[..at], &i[at + after.len()..]));
        }
        from = at + 1;
    }
}

fn trim_end_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().rev().take_while(|c| **c == b' ').count();
    &s[..s.len() - n]
}

fn trim_line_end(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .rev()
        .take_while(|c| matches!(c, b'\r' | b'\n'))
        .count();
    &s[..s.len() - n]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s<'a>(t: &'a Option<Cow<'a, [u8]>>) -> Option<&'a str> {
        t.as_deref().map(|b| std::str::from_utf8(b).unwrap())
    }

    const COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

    #[test]
    fn combined_as_log_format_matches_dedicated_parser() {
        let f = NginxFormat::compile(COMBINED).unwrap();
        let line = br#"81.2.69.160 - bob [01/Sep/2022:22:12:45 +0000] "GET /a?b=1 HTTP/1.1" 200 612 "https://x/" "Mozilla/5.0 (X11)""#;
        assert_eq!(
            f.parse(line).unwrap(),
            super::super::combined::parse(line, super::super::combined::Layout::COMBINED).unwrap()
        );
    }

    #[test]
    fn pipe_separated_with_request_time_and_forwarded_for() {
        let f = NginxFormat::compile(r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"|$request_time|$upstream_response_time"#).unwrap();
        let h = f.parse(br#"89.248.174.146 - admin [03/Feb/2020:03:59:14 +0800] "POST /edit HTTP/1.1" 404 3650 "-" "ApiTool" "203.0.113.9, 10.0.0.1"|0.174|-"#).unwrap();
        assert_eq!(&*h.addr, b"203.0.113.9", "first X-Forwarded-For hop wins");
        assert_eq!(
            (h.status, h.bytes, h.request_time_us),
            (404, Some(3650), Some(174_000))
        );
        assert_eq!(s(&h.user_agent), Some("ApiTool"));
    }

    #[test]
    fn iso_time_host_and_split_uri() {
        let f = NginxFormat::compile("$host $remote_addr [$time_iso8601] $request_method $uri?$args $status $bytes_sent $request_time").unwrap();
        let h = f
            .parse(
                b"example.com:8443 2001:db8::1 [2020-02-03T03:59:14+08:00] GET /p?q=1 200 99 0.005",
            )
            .unwrap();
        assert_eq!(
            (s(&h.host), s(&h.method), s(&h.path), s(&h.query)),
            (Some("example.com"), Some("GET"), Some("/p"), Some("q=1"))
        );
        assert_eq!(
            (h.ts_ms, h.bytes, h.request_time_us),
            (1_580_673_554_000, Some(99), Some(5_000))
        );
    }

    #[test]
    fn msec_and_braced_variables() {
        let f = NginxFormat::compile("${msec} ${remote_addr} \"${request}\" ${status}").unwrap();
        let h = f
            .parse(br#"1580673554.123 1.2.3.4 "GET / HTTP/1.1" 301"#)
            .unwrap();
        assert_eq!((h.ts_ms, h.status), (1_580_673_554_123, 301));
    }

    #[test]
    fn pasted_config_snippet() {
        let f = NginxFormat::compile("log_format main '$remote_addr - $remote_user [$time_local] \"$request\" '\n    '$status $body_bytes_sent';").unwrap();
        assert_eq!(
            f.source(),
            "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent"
        );
        assert_eq!(
            f.parse(br#"1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] "GET / HTTP/1.1" 200 5"#)
                .unwrap()
                .bytes,
            Some(5)
        );
    }

    #[test]
    fn compile_errors_name_the_fix() {
        assert_eq!(
            NginxFormat::compile("$remote_addr $status"),
            Err(Error::NoTime)
        );
        assert_eq!(
            NginxFormat::compile("$remote_addr $msec"),
            Err(Error::NoStatus)
        );
        assert_eq!(NginxFormat::compile("combined"), Err(Error::Empty));
    }

    #[test]
    fn mismatched_lines_are_rejected() {
        let f = NginxFormat::compile(COMBINED).unwrap();
        assert_eq!(f.parse(b"Error line 1"), Err(RejectReason::FormatMismatch));
        assert_eq!(
            f.parse(br#"1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] "GET / HTTP/1.1" xx 5 "-" "-""#),
            Err(RejectReason::BadStatus)
        );
    }
}
