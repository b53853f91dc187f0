//! Access-log parsing: one line of bytes in, a borrowed [`Hit`] or a [`RejectReason`] out.
//!
//! Parsers never allocate for a well-formed line in the combined family: every text field borrows from
//! the line. Caddy JSON borrows too, and only allocates when a JSON string holds an escape.

pub mod caddy;
pub mod combined;
pub mod detect;
pub mod nginx_format;
#[cfg(test)]
mod proptests;
pub mod request;
pub mod scan;
pub mod tally;
pub mod time;

use std::borrow::Cow;
use std::fmt;

pub use detect::detect;
pub use nginx_format::NginxFormat;
pub use scan::FormatChoice;
pub use tally::Tally;

/// Text taken from a log line: raw bytes as the server wrote them (escapes kept), borrowed when possible.
pub type Text<'a> = Cow<'a, [u8]>;

/// One request read from an access log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hit<'a> {
    /// Client address (IPv4, IPv6 or, for Apache with `HostnameLookups`, a host name); the first
    /// `X-Forwarded-For` hop when the format has one.
    pub addr: Text<'a>,
    /// Time of the request, unix milliseconds in UTC.
    pub ts_ms: i64,
    /// Request method, `None` when the request line was garbage (`"\x16\x03\x01"`) or `"-"`.
    pub method: Option<Text<'a>>,
    /// Path without the query string.
    pub path: Option<Text<'a>>,
    /// Query string without the `?`.
    pub query: Option<Text<'a>>,
    /// `HTTP/1.1`, `HTTP/2.0`, ...
    pub protocol: Option<Text<'a>>,
    /// Response status (0 when the client went away before one was sent, as Caddy logs it).
    pub status: u16,
    /// Response body size; `None` for `-`.
    pub bytes: Option<u64>,
    /// Referer header; `None` for `-` or empty.
    pub referrer: Option<Text<'a>>,
    /// User-Agent header; `None` for `-` or empty.
    pub user_agent: Option<Text<'a>>,
    /// Virtual host (`$host`, `%v`, Caddy's `request.host`), without a port.
    pub host: Option<Text<'a>>,
    /// Time taken to serve the request, in microseconds.
    pub request_time_us: Option<u64>,
}

/// Why a line could not be read as a hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    /// Longer than the line limit.
    TooLong,
    /// No client address where the format puts it.
    BadAddress,
    /// No `[...]` time field, or fields before it do not match the format.
    NoTimestamp,
    /// A time field that is not a valid date and time.
    BadTimestamp,
    /// A quoted field with no closing quote (a truncated line).
    UnterminatedQuote,
    /// No three-digit status after the request.
    BadStatus,
    /// A size that is neither a number nor `-`.
    BadSize,
    /// A line that should be JSON and is not.
    BadJson,
    /// Valid JSON, but not an access-log entry (Caddy's runtime messages).
    NotAccessEntry,
    /// The text between fields does not match the `log_format` string.
    FormatMismatch,
}

impl RejectReason {
    /// All reasons, in report order.
    pub const ALL: [RejectReason; 10] = [
        RejectReason::TooLong,
        RejectReason::BadAddress,
        RejectReason::NoTimestamp,
        RejectReason::BadTimestamp,
        RejectReason::UnterminatedQuote,
        RejectReason::BadStatus,
        RejectReason::BadSize,
        RejectReason::BadJson,
        RejectReason::NotAccessEntry,
        RejectReason::FormatMismatch,
    ];

    /// Stable kebab-case code, used in reports, JSON and the `rejects` table.
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::TooLong => "too-long",
            RejectReason::BadAddress => "bad-address",
            RejectReason::NoTimestamp => "no-timestamp",
            RejectReason::BadTimestamp => "bad-timestamp",
            RejectReason::UnterminatedQuote => "unterminated-quote",
            RejectReason::BadStatus => "bad-status",
            RejectReason::BadSize => "bad-size",
            RejectReason::BadJson => "bad-json",
            RejectReason::NotAccessEntry => "not-access-entry",
            RejectReason::FormatMismatch => "format-mismatch",
        }
    }

    /// One sentence for people reading a report.
    pub fn describe(self) -> &'static str {
        match self {
            RejectReason::TooLong => "line longer than the line limit",
            RejectReason::BadAddress => "no client address at the start of the line",
            RejectReason::NoTimestamp => "fields before the [time] do not match the format",
            RejectReason::BadTimestamp => "time field is not a valid date",
            RejectReason::UnterminatedQuote => "a quoted field is never closed (truncated line?)",
            RejectReason::BadStatus => "no 3-digit status code after the request",
            RejectReason::BadSize => "response size is neither a number nor '-'",
            RejectReason::BadJson => "not valid JSON",
            RejectReason::NotAccessEntry => "JSON log entry that is not an access-log request",
            RejectReason::FormatMismatch => "line does not match the log_format string",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A log format we can read; `Nginx` holds a compiled `log_format` string.
#[derive(Clone, Debug, PartialEq)]
pub enum Format {
    /// nginx/Apache `combined`; also reads `common` lines and tolerates extra trailing fields.
    Combined,
    /// Apache/NCSA common log format (no referrer or user agent).
    Common,
    /// `combined` with the virtual host first (`%v:%p` or `$host`).
    Vcombined,
    /// Caddy v2 JSON access log (also behind a `docker compose` or console-encoder prefix).
    Caddy,
    /// A custom nginx `log_format`.
    Nginx(NginxFormat),
}

impl Format {
    /// Short name as accepted by `--format`.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Combined => "combined",
            Format::Common => "common",
            Format::Vcombined => "vcombined",
            Format::Caddy => "caddy",
            Format::Nginx(_) => "nginx log_format",
        }
    }

    /// Whether lines of this format carry a user-agent field: when they do not, a missing agent
    /// says nothing about the client, and reports of browsers, systems and devices stay empty.
    pub fn records_agent(&self) -> bool {
        match self {
            Format::Combined | Format::Vcombined | Format::Caddy => true,
            Format::Common => false,
            Format::Nginx(f) => f.records_agent(),
        }
    }

    /// Parses one line (without its line ending).
    #[inline]
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<Hit<'a>, RejectReason> {
        match self {
            Format::Combined => combined::parse(line, combined::Layout::COMBINED),
            Format::Common => combined::parse(line, combined::Layout::COMMON),
            Format::Vcombined => combined::parse(line, combined::Layout::VCOMBINED),
            Format::Caddy => caddy::parse(line),
            Format::Nginx(f) => f.parse(line),
        }
    }
}

/// A `-` or empty field means "absent" in every text format.
#[inline]
pub(crate) fn dash_to_none(s: &[u8]) -> Option<Text<'_>> {
    match s {
        b"" | b"-" => None,
        s => Some(Cow::Borrowed(s)),
    }
}

/// Strips a `:port` from a host (`example.com:443`, `[::1]:80`); IPv6 literals keep their brackets off.
pub(crate) fn strip_port(host: &[u8]) -> &[u8] {
    if let Some(rest) = host.strip_prefix(b"[") {
        if let Some(end) = memchr::memchr(b']', rest) {
            return &rest[..end];
        }
        return host;
    }
    match memchr::memrchr(b':', host) {
        // One colon only: host:port. More than one: a bare IPv6 address.
        Some(p) if memchr::memchr(b':', &host[..p]).is_none() => &host[..p],
        _ => host,
    }
}

/// Reads a status code: 1 to 3 digits (Caddy logs 0 for aborted requests).
#[inline]
pub(crate) fn parse_status(s: &[u8]) -> Option<u16> {
    if s.is_empty() || s.len() > 3 {
        return None;
    }
    let mut v: u16 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u16;
    }
    Some(v)
}

/// Reads a byte count; `-` is `Ok(None)`.
#[inline]
pub(crate) fn parse_size(s: &[u8]) -> Result<Option<u64>, RejectReason> {
    if s == b"-" {
        return Ok(None);
    }
    if s.is_empty() || s.len() > 19 {
        return Err(RejectReason::BadSize);
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return Err(RejectReason::BadSize);
        }
        v = v * 10 + (c - b'0') as u64;
    }
    Ok(Some(v))
}

/// Reads a duration in seconds with a fraction (`0.027`, nginx `$request_time`) as microseconds.
pub(crate) fn parse_seconds_us(s: &[u8]) -> Option<u64> {
    let (int, frac) = match memchr::memchr(b'.', s) {
        Some(p) => (&s[..p], &s[p + 1..]),
        None => (s, &b""[..]),
    };
    if int.is_empty() || int.len() > 9 || !int.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut us = 0u64;
    for &c in int {
        us = us * 10 + (c - b'0') as u64;
    }
    for i in 0..6 {
        us = us * 10 + frac.get(i).map_or(0, |c| (c - b'0') as u64);
    }
    Some(us)
}

/// The first address of an `X-Forwarded-For` list (`"10.0.0.2, 10.0.0.1"` -> `10.0.0.2`).
pub(crate) fn first_forwarded_hop(s: &[u8]) -> Option<&[u8]> {
    let first = s.split(|c| *c == b',').next()?;
    let first = trim(first);
    match first {
        b"" | b"-" | b"unknown" => None,
        f => Some(f),
    }
}

pub(crate) fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_stripped_from_hosts() {
        assert_eq!(strip_port(b"example.com:443"), b"example.com");
        assert_eq!(strip_port(b"example.com"), b"example.com");
        assert_eq!(strip_port(b"[::1]:8080"), b"::1");
        assert_eq!(strip_port(b"2001:db8::1"), b"2001:db8::1");
    }

    #[test]
    fn sizes_and_statuses() {
        assert_eq!(parse_size(b"-"), Ok(None));
        assert_eq!(parse_size(b"1234"), Ok(Some(1234)));
        assert_eq!(parse_size(b"12a"), Err(RejectReason::BadSize));
        assert_eq!(parse_status(b"404"), Some(404));
        assert_eq!(parse_status(b"0"), Some(0));
        assert_eq!(parse_status(b"4040"), None);
    }

    #[test]
    fn request_time_to_micros() {
        assert_eq!(parse_seconds_us(b"0.027"), Some(27_000));
        assert_eq!(parse_seconds_us(b"5"), Some(5_000_000));
        assert_eq!(parse_seconds_us(b"0.0000568"), Some(56));
        assert_eq!(parse_seconds_us(b"-"), None);
    }

    #[test]
    fn forwarded_for_takes_first_hop() {
        assert_eq!(
            first_forwarded_hop(b"10.0.0.2, 10.0.0.1"),
            Some(&b"10.0.0.2"[..])
        );
        assert_eq!(first_forwarded_hop(b"-"), None);
    }

    #[test]
    fn reasons_have_unique_codes() {
        let mut codes: Vec<_> = RejectReason::ALL.iter().map(|r| r.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), RejectReason::ALL.len());
    }
}
