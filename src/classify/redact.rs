//! Removes IP addresses from text kept for people to read (reject samples), so the database never
//! holds a client address, even inside a line that failed to parse.

use std::net::IpAddr;

/// Text put in place of an address.
pub const REDACTED: &str = "<ip>";

fn is_addr_char(c: char) -> bool {
    c.is_ascii_hexdigit() || c == '.' || c == ':'
}

fn is_address(token: &str) -> bool {
    if token.len() < 3 {
        return false;
    }
    if token.parse::<IpAddr>().is_ok() {
        return true;
    }
    // `1.2.3.4:80`: an IPv4 address with a port.
    token.rsplit_once(':').is_some_and(|(a, p)| {
        a.parse::<std::net::Ipv4Addr>().is_ok() && p.chars().all(|c| c.is_ascii_digit())
    })
}

/// `text` with every IPv4/IPv6 address (with or without a port) replaced by `<ip>`.
pub fn redact_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut token_start: Option<usize> = None;
    let flush = |out: &mut String, token: &str| {
        if is_address(token) {
            out.push_str(REDACTED);
        } else {
            out.push_str(token);
        }
    };
    for (i, c) in text.char_indices() {
        if is_addr_char(c) {
            token_start.get_or_insert(i);
        } else {
            if let Some(s) = token_start.take() {
                flush(&mut out, &text[s..i]);
            }
            out.push(c);
        }
    }
    if let Some(s) = token_start {
        flush(&mut out, &text[s..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_replaced_and_the_rest_kept() {
        assert_eq!(
            redact_addresses(
                r#"81.2.69.160 - - [01/Sep/2022:22:12:45 +0000] "GET /a HTTP/1.1" 200"#
            ),
            r#"<ip> - - [01/Sep/2022:22:12:45 +0000] "GET /a HTTP/1.1" 200"#
        );
        assert_eq!(
            redact_addresses("from 2001:db8::7 and [::1]:80 and 10.0.0.1:443"),
            "from <ip> and [<ip>]:80 and <ip>"
        );
        assert_eq!(
            redact_addresses("Error line 1 at 12:05:17, cafe"),
            "Error line 1 at 12:05:17, cafe"
        );
    }
}
