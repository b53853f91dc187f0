//! Picks the log format from the first non-empty lines of a file (`--format auto`).
//!
//! Each candidate parser reads the sample; the one that accepts most lines wins. Ties go to the
//! richer layout (`vcombined` needs an address after the host, `combined` needs a user agent on at
//! least one line, else the file is `common`).

use super::combined::{self, Layout};
use super::{caddy, Format};

/// Lines looked at by [`detect`].
pub const SAMPLE_LINES: usize = 50;

/// The format that reads most of `sample` (non-empty lines), or `None` when none reads any line.
pub fn detect<'a, I>(sample: I) -> Option<Format>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let (mut caddy_ok, mut vcomb_ok, mut comb_ok, mut with_agent) =
        (0usize, 0usize, 0usize, 0usize);
    for line in sample
        .into_iter()
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(SAMPLE_LINES)
    {
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
        None
    } else if caddy_ok == best {
        Some(Format::Caddy)
    } else if comb_ok == best {
        Some(if with_agent > 0 {
            Format::Combined
        } else {
            Format::Common
        })
    } else {
        Some(Format::Vcombined)
    }
}

/// An IPv4 or IPv6 literal (what follows the host in `vcombined`).
fn looks_like_address(a: &[u8]) -> bool {
    std::str::from_utf8(a).is_ok_and(|s| s.parse::<std::net::IpAddr>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(lines: &[&str]) -> Option<Format> {
        detect(lines.iter().map(|l| l.as_bytes()))
    }

    const COMBINED: &str =
        r#"1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#;
    const COMMON: &str = r#"1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] "GET / HTTP/1.1" 200 5"#;
    const VHOST: &str = r#"example.com:443 1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#;
    const CADDY: &str = r#"{"ts":1.0,"request":{"remote_ip":"1.2.3.4","uri":"/"},"status":200}"#;

    #[test]
    fn picks_each_format() {
        assert_eq!(d(&[COMBINED, COMMON]), Some(Format::Combined));
        assert_eq!(d(&[COMMON, COMMON]), Some(Format::Common));
        assert_eq!(d(&[VHOST, VHOST]), Some(Format::Vcombined));
        assert_eq!(d(&["", CADDY]), Some(Format::Caddy));
    }

    #[test]
    fn majority_wins_over_a_stray_line() {
        assert_eq!(
            d(&["garbage", VHOST, VHOST, COMBINED]),
            Some(Format::Vcombined)
        );
        assert_eq!(d(&["garbage", "more garbage"]), None);
    }
}
