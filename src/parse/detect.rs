//! Picks the log format from the first non-empty lines of a file (`--format auto`).
//!
//! Each candidate parser reads the sample; the one that accepts most lines wins. Ties go to the
//! richer layout (`vcombined` needs an address after the host, `combined` needs a user agent on at
//! least one line, else the file is `common`). A custom nginx `log_format` that starts like
//! `combined` also "parses" as combined, with other fields in the referrer and agent places: its
//! referrer field holding bare hosts, its agent field URLs, unquoted fields after them. Such a
//! sample is refused with the `log_format` its fields suggest, instead of being read wrongly.

use std::fmt;

use super::combined::{self, Field, Layout};
use super::{caddy, Format};

/// Lines looked at by [`detect`].
pub const SAMPLE_LINES: usize = 50;

/// Why no format was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Undetected {
    /// No known format reads the lines.
    Unknown,
    /// The lines read as `combined`, but their fields are not combined's.
    Custom {
        /// What gives it away.
        why: String,
        /// A `log_format` the fields suggest.
        suggestion: String,
    },
}

impl fmt::Display for Undetected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Undetected::Unknown => write!(f, "no known format reads its first lines; pass --format or --log-format"),
            Undetected::Custom { why, suggestion } => write!(
                f,
                "its lines start like `combined` but are not: {why}. This looks like a custom nginx log_format; pass it with --log-format (or log_format in a [[source]]), copied from nginx.conf. Its fields suggest: --log-format '{suggestion}'"
            ),
        }
    }
}

/// The format that reads most of `sample` (non-empty lines).
pub fn detect<'a, I>(sample: I) -> Result<Format, Undetected>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let lines: Vec<&[u8]> = sample
        .into_iter()
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(SAMPLE_LINES)
        .collect();
    let (mut caddy_ok, mut vcomb_ok, mut comb_ok, mut with_agent) =
        (0usize, 0usize, 0usize, 0usize);
    for line in &lines {
        if memchr::memchr(b'{', line).is_some() && caddy::parse(line).is_ok() {
            caddy_ok += 1;
            continue;
        }
        if let Ok(hit) = combined::parse(line, Layout::VCOMBINED) {
            if looks_like_address(&hit.addr) {
                vcomb_ok += 1;
            }
        }
        if let Ok(hit) = combined::parse(line, Layout::COMBINED) {
            comb_ok += 1;
            with_agent += (hit.user_agent.is_some() || hit.referrer.is_some()) as usize;
        }
    }
    let best = caddy_ok.max(vcomb_ok).max(comb_ok);
    if best == 0 {
        Err(Undetected::Unknown)
    } else if caddy_ok == best {
        Ok(Format::Caddy)
    } else if comb_ok == best {
        if with_agent == 0 {
            return Ok(Format::Common);
        }
        custom_shape(&lines).map_or(Ok(Format::Combined), Err)
    } else {
        Ok(Format::Vcombined)
    }
}

/// An IPv4 or IPv6 literal (what follows the host in `vcombined`).
fn looks_like_address(a: &[u8]) -> bool {
    std::str::from_utf8(a).is_ok_and(|s| s.parse::<std::net::IpAddr>().is_ok())
}

/// `http://...` or `https://...`.
fn is_url(t: &[u8]) -> bool {
    t.starts_with(b"http://") || t.starts_with(b"https://")
}

/// A host name or address with no scheme and nothing after it (`www.example.com`, `10.0.0.1:80`).
fn is_bare_host(t: &[u8]) -> bool {
    !t.is_empty()
        && t != b"-"
        && t.contains(&b'.')
        && t.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':' | b'_'))
}

/// What a field holds, as the `log_format` variable that would write it.
fn variable(position: usize, f: &[Field<'_>], count: usize) -> &'static str {
    let texts: Vec<&[u8]> = f.iter().map(|x| x.text).filter(|t| *t != b"-").collect();
    let all = |p: fn(&[u8]) -> bool| !texts.is_empty() && texts.iter().all(|t| p(t));
    let any = |p: fn(&[u8]) -> bool| texts.iter().any(|t| p(t));
    let agentish = |t: &[u8]| {
        let s = String::from_utf8_lossy(t);
        s.contains('/') && (s.contains('(') || s.contains("Mozilla")) && !is_url(t)
    };
    let quoted = f.iter().all(|x| x.quoted);
    match () {
        _ if any(is_url) => "$http_referer",
        _ if any(agentish) => "$http_user_agent",
        _ if quoted && all(is_bare_host) && position == 0 => "$host",
        _ if all(|t| {
            t.split(|c| *c == b',')
                .all(|p| looks_like_address(p.trim_ascii()))
        }) =>
        {
            "$http_x_forwarded_for"
        }
        _ if all(is_bare_host) && any(|t| t.contains(&b':')) => "$upstream_addr",
        _ if all(|t| t.len() == 3 && t.iter().all(u8::is_ascii_digit)) => "$upstream_status",
        _ if all(|t| t.iter().all(|c| c.is_ascii_digit() || *c == b'.')) => {
            if position + 1 == count {
                "$request_time"
            } else {
                "$upstream_response_time"
            }
        }
        _ if any(|t| t.contains(&b'=')) => "$request_body",
        // Always "-" in the sample: most often an unused forwarding header.
        _ if texts.is_empty() && quoted => "$http_x_forwarded_for",
        _ => "$unknown",
    }
}

/// Whether lines that parse as `combined` carry other fields where combined has its referrer and
/// user agent; `None` when they look right.
fn custom_shape(lines: &[&[u8]]) -> Option<Undetected> {
    let tails: Vec<Vec<Field>> = lines
        .iter()
        .filter_map(|l| combined::tail_fields(l))
        .collect();
    if tails.is_empty() {
        return None;
    }
    let n = tails.len();
    let share =
        |pred: &dyn Fn(&[Field]) -> bool| tails.iter().filter(|t| pred(t)).count() * 100 / n;
    let bare_referrer = share(&|t| t.first().is_some_and(|f| f.quoted && is_bare_host(f.text)));
    let url_agent = share(&|t| t.get(1).is_some_and(|f| f.quoted && is_url(f.text)));
    let unquoted_after = share(&|t| t.iter().skip(2).any(|f| !f.quoted && f.text != b"-"));
    let mut signs = Vec::new();
    if bare_referrer >= 30 {
        let example = tails
            .iter()
            .find_map(|t| t.first().filter(|f| is_bare_host(f.text)))
            .map(|f| String::from_utf8_lossy(f.text).into_owned())
            .unwrap_or_default();
        signs.push(format!(
            "the referrer field holds a bare host such as \"{example}\" on {bare_referrer}% of the first lines"
        ));
    }
    if url_agent >= 20 {
        signs.push(format!(
            "the user-agent field holds URLs on {url_agent}% of them"
        ));
    }
    if signs.is_empty() || (signs.len() == 1 && unquoted_after < 30) {
        return None;
    }
    if unquoted_after >= 30 {
        signs.push(format!("{unquoted_after}% have unquoted fields after them"));
    }
    // Suggest the variables, position by position, from the line with most fields.
    let width = tails.iter().map(Vec::len).max().unwrap_or(0);
    let mut parts = Vec::new();
    for pos in 0..width {
        let column: Vec<Field> = tails.iter().filter_map(|t| t.get(pos).copied()).collect();
        let var = variable(pos, &column, width);
        if column.iter().filter(|f| f.quoted).count() * 2 > column.len() {
            parts.push(format!("\"{var}\""));
        } else {
            parts.push(var.to_string());
        }
    }
    Some(Undetected::Custom {
        why: signs.join(", "),
        suggestion: format!(
            "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent {}",
            parts.join(" ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(lines: &[&str]) -> Result<Format, Undetected> {
        detect(lines.iter().map(|l| l.as_bytes()))
    }

    const COMBINED: &str =
        r#"1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#;
    const COMMON: &str = r#"1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] "GET / HTTP/1.1" 200 5"#;
    const VHOST: &str = r#"example.com:443 1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#;
    const CADDY: &str =
        r#"{"ts":1700000000.0,"request":{"remote_ip":"1.2.3.4","uri":"/"},"status":200}"#;

    #[test]
    fn picks_each_format() {
        assert_eq!(d(&[COMBINED, COMMON]), Ok(Format::Combined));
        assert_eq!(d(&[COMMON, COMMON]), Ok(Format::Common));
        assert_eq!(d(&[VHOST, VHOST]), Ok(Format::Vcombined));
        assert_eq!(d(&["", CADDY]), Ok(Format::Caddy));
    }

    #[test]
    fn majority_wins_over_a_stray_line() {
        assert_eq!(
            d(&["garbage", VHOST, VHOST, COMBINED]),
            Ok(Format::Vcombined)
        );
        assert_eq!(d(&["garbage", "more garbage"]), Err(Undetected::Unknown));
    }

    #[test]
    fn a_custom_format_that_starts_like_combined_is_refused_with_a_suggestion() {
        // The imooc layout: "$host" "$http_referer" $request_body "$http_user_agent" ...
        let lines = [
            r#"183.162.52.7 - - [10/Nov/2016:00:01:02 +0800] "POST /api3/getadv HTTP/1.1" 200 813 "www.imooc.com" "-" cid=0&timestamp=1478707261865 "mukewang/5.0.0 (Android 5.1.1; Xiaomi Redmi 3 Build/LMY47V),Network 2G/3G" "-" 10.100.134.244:80 200 0.027 0.027"#,
            r#"10.100.0.1 - - [10/Nov/2016:00:01:02 +0800] "HEAD / HTTP/1.1" 301 0 "117.121.101.40" "-" - "curl/7.19.7 (x86_64-redhat-linux-gnu) libcurl/7.19.7" "-" - - - 0.000"#,
            r#"117.35.88.11 - - [10/Nov/2016:00:01:02 +0800] "GET /article/ajaxcourserecommends?id=124 HTTP/1.1" 200 2345 "www.imooc.com" "http://www.imooc.com/code/1852" - "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36" "-" 10.100.136.65:80 200 0.616 0.616"#,
        ];
        let Err(Undetected::Custom { why, suggestion }) = d(&lines) else {
            panic!("accepted as combined");
        };
        assert!(why.contains("\"www.imooc.com\""), "{why}");
        assert!(suggestion.starts_with(r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$host" "$http_referer" $request_body "$http_user_agent""#), "{suggestion}");
        assert!(
            suggestion.contains("$upstream_addr") && suggestion.ends_with("$request_time"),
            "{suggestion}"
        );
    }

    #[test]
    fn real_combined_with_extra_fields_is_still_combined() {
        let main = r#"1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] "GET / HTTP/1.1" 200 5 "https://www.google.com/" "Mozilla/5.0 (X11)" "-""#;
        let timed = r#"1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0 (X11)" 0.003"#;
        assert_eq!(d(&[main, main, timed]), Ok(Format::Combined));
    }
}
