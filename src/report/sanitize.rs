//! Text from logs made safe to show: control characters and bidirectional overrides escaped, so a
//! visitor cannot write to an operator's terminal or spreadsheet (issue #15, case 8).
//!
//! Any visitor chooses the path, query, referrer and user agent of their request, and a Caddy
//! host; a request for `/?utm_source=%1b%5d0;HACKED%07%1b%5b2J` would otherwise set the terminal's
//! title and clear its screen when `stats sources` or `live` shows it. Escape sequences are the
//! attack of CWE-150 ("Improper Neutralization of Escape, Meta, or Control Sequences"); the
//! bidirectional overrides are those of "Trojan Source" (CVE-2021-42574), which reorder what is
//! shown. Every string read from a log passes through [`text`] before a table, the live view or
//! `check` prints it; CSV adds [`spreadsheet`] on top, and JSON writes the same characters as
//! `\u001b` escapes ([`super::json::write_pretty`]), keeping the values for the programs reading it.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` is escaped when shown: C0 controls (tab and newline too, which would break a table
/// row or a CSV record), DEL, C1 controls (U+0080..U+009F, among them the one-byte CSI U+009B),
/// the bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069) and the
/// line and paragraph separators (U+2028, U+2029).
pub fn is_hostile(c: char) -> bool {
    matches!(
        c,
        '\0'..='\x1f'
            | '\x7f'..='\u{9f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// `s` with each [`is_hostile`] character written as an escape: `\x1b` below U+0080, `\u{202e}`
/// above. Everything else, backslashes included, is kept as it is, so ordinary paths read as
/// before; borrowed when there is nothing to escape.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hostile) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_hostile(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// `s` made safe for a spreadsheet cell: [`text`], and a leading `'` when it starts with `=`, `+`,
/// `-`, `@`, tab or carriage return, which spreadsheets would read as a formula (OWASP, "CSV
/// Injection": <https://owasp.org/www-community/attacks/CSV_Injection>). Only for strings from
/// logs: numbers are written as they are, negative ones included.
pub fn spreadsheet(s: &str) -> Cow<'_, str> {
    let shown = text(s);
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{shown}"))
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_overrides_are_escaped() {
        assert!(matches!(text("/blog/post?x=1"), Cow::Borrowed(_)));
        assert_eq!(text("café ☕ 日本"), "café ☕ 日本");
        assert_eq!(
            text("\x1b]0;HACKED\x07\x1b[2J"),
            "\\x1b]0;HACKED\\x07\\x1b[2J"
        );
        assert_eq!(text("a\tb\nc\rd\0\x7f"), "a\\x09b\\x0ac\\x0dd\\x00\\x7f");
        assert_eq!(text("\u{9b}2J\u{85}"), "\\u{9b}2J\\u{85}");
        assert_eq!(
            text("\u{202e}gpj.exe\u{2066}\u{2069}\u{2028}"),
            "\\u{202e}gpj.exe\\u{2066}\\u{2069}\\u{2028}"
        );
        assert_eq!(text("a\\x1b"), "a\\x1b", "backslashes stay as they are");
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let shown = text(c.encode_utf8(&mut [0; 4])).into_owned();
            assert!(!shown.chars().any(is_hostile), "{c:?} -> {shown:?}");
        }
    }

    #[test]
    fn formulas_are_neutralised_for_spreadsheets() {
        assert_eq!(spreadsheet("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        for s in ["+1", "-1", "@SUM(A1)"] {
            assert_eq!(spreadsheet(s), format!("'{s}"));
        }
        assert_eq!(spreadsheet("\t=1"), "'\\x09=1");
        assert_eq!(spreadsheet("\r=1"), "'\\x0d=1");
        assert_eq!(spreadsheet("/a=b"), "/a=b");
        assert_eq!(spreadsheet("news.ycombinator.com"), "news.ycombinator.com");
    }
}
