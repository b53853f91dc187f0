//! Path normalisation and the campaign source carried in the query string.
//!
//! The query string is dropped from stored paths (it holds session ids, search terms, tokens), except
//! `utm_source` and `ref`, which name where a visitor came from and become the hit's source.

use std::borrow::Cow;

/// Longest path kept, in bytes; longer ones are cut (scanners send kilobytes of payload).
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest campaign source kept.
pub const MAX_SOURCE_BYTES: usize = 100;

/// The path to store and to judge: fragment removed, runs of `/` collapsed to one (`//xmlrpc.php`
/// is `/xmlrpc.php` to every rule), cut to [`MAX_PATH_BYTES`], valid UTF-8 (lossy).
pub fn normalise(path: &[u8]) -> Cow<'_, str> {
    let path = match memchr::memchr(b'#', path) {
        Some(p) => &path[..p],
        None => path,
    };
    let path = if path.is_empty() { b"/" } else { path };
    let cut = if path.len() > MAX_PATH_BYTES {
        &path[..MAX_PATH_BYTES]
    } else {
        path
    };
    if memchr::memmem::find(cut, b"//").is_none() {
        return String::from_utf8_lossy(cut);
    }
    let mut collapsed = Vec::with_capacity(cut.len());
    for &c in cut {
        if !(c == b'/' && collapsed.last() == Some(&b'/')) {
            collapsed.push(c);
        }
    }
    Cow::Owned(String::from_utf8_lossy(&collapsed).into_owned())
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Query parameters platforms add to the links they send people through: a click id.
const CLICK_IDS: &[&[u8]] = &[
    b"fbclid",
    b"gclid",
    b"gbraid",
    b"wbraid",
    b"msclkid",
    b"ttclid",
    b"twclid",
    b"li_fat_id",
    b"yclid",
    b"igshid",
    b"dclid",
];

/// Whether a query string carries a platform's click id (`fbclid=`, `gclid=`...).
pub fn has_click_id(query: &[u8]) -> bool {
    query.split(|c| *c == b'&').any(|pair| {
        let name = pair.split(|c| *c == b'=').next().unwrap_or(b"");
        CLICK_IDS.iter().any(|id| name.eq_ignore_ascii_case(id))
    })
}

/// Decodes `%HH` and `+` in a query value.
fn decode(v: &[u8]) -> String {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < v.len() => match (hex(v[i + 1]), hex(v[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The campaign details of a query string beyond its source: `utm_medium`, `utm_campaign`,
/// `utm_content` and `utm_term`, decoded, bounded, without control characters (empty when
/// absent).
pub fn campaign_details(query: &[u8]) -> [String; 4] {
    const KEYS: [&[u8]; 4] = [b"utm_medium", b"utm_campaign", b"utm_content", b"utm_term"];
    let mut out: [String; 4] = Default::default();
    for pair in query.split(|c| *c == b'&') {
        let Some(p) = memchr::memchr(b'=', pair) else {
            continue;
        };
        if let Some(slot) = KEYS.iter().position(|k| *k == &pair[..p]) {
            if out[slot].is_empty() {
                let value: String = decode(&pair[p + 1..])
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect();
                out[slot] = limit(value);
            }
        }
    }
    out
}

/// The campaign source named by `utm_source` (preferred) or `ref` in a query string.
pub fn campaign_source(query: &[u8]) -> Option<String> {
    let mut by_ref = None;
    for pair in query.split(|c| *c == b'&') {
        let (key, value) = match memchr::memchr(b'=', pair) {
            Some(p) => (&pair[..p], &pair[p + 1..]),
            None => continue,
        };
        if value.is_empty() {
            continue;
        }
        if key == b"utm_source" {
            return Some(limit(decode(value)));
        }
        if key == b"ref" && by_ref.is_none() {
            by_ref = Some(limit(decode(value)));
        }
    }
    by_ref.filter(|s| !s.trim().is_empty())
}

fn limit(mut s: String) -> String {
    let s_trim = s.trim();
    if s_trim.len() != s.len() {
        s = s_trim.to_string();
    }
    if s.len() > MAX_SOURCE_BYTES {
        let mut end = MAX_SOURCE_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_fragments_and_stay_bounded() {
        assert_eq!(normalise(b"/a/b#top"), "/a/b");
        assert_eq!(normalise(b""), "/");
        assert_eq!(normalise(&[b'a'; 5000]).len(), MAX_PATH_BYTES);
        assert_eq!(normalise(&[b'/'; 5000]), "/");
        assert_eq!(normalise(b"//xmlrpc.php"), "/xmlrpc.php");
        assert_eq!(normalise(b"/a///b//"), "/a/b/");
        assert_eq!(normalise(b"/caf\xe9"), "/caf\u{fffd}");
    }

    #[test]
    fn campaign_details_are_decoded_bounded_and_clean() {
        assert_eq!(
            campaign_details(b"utm_source=nl&utm_medium=email&utm_campaign=Spring+Sale%0a&utm_term=x&utm_content=a%00b"),
            ["email", "Spring Sale", "a b", "x"].map(String::from)
        );
        assert_eq!(campaign_details(b"q=1"), <[String; 4]>::default());
        assert_eq!(
            campaign_details(&[b"utm_campaign=".as_slice(), &[b'x'; 500]].concat())[1].len(),
            MAX_SOURCE_BYTES
        );
    }

    #[test]
    fn click_ids_are_found_by_name() {
        assert!(has_click_id(b"fbclid=IwAR0ATv"));
        assert!(has_click_id(b"a=1&GCLID=x"));
        assert!(!has_click_id(b"fbclidx=1&q=gclid"));
        assert!(!has_click_id(b""));
    }

    #[test]
    fn campaign_sources() {
        assert_eq!(
            campaign_source(b"utm_source=newsletter&utm_medium=email").as_deref(),
            Some("newsletter")
        );
        assert_eq!(
            campaign_source(b"ref=producthunt").as_deref(),
            Some("producthunt")
        );
        assert_eq!(
            campaign_source(b"ref=a&utm_source=b").as_deref(),
            Some("b"),
            "utm_source wins"
        );
        assert_eq!(
            campaign_source(b"utm_source=Hacker+News%21").as_deref(),
            Some("Hacker News!")
        );
        assert_eq!(campaign_source(b"q=1&page=2"), None);
        assert_eq!(campaign_source(b"utm_source=&x=%"), None);
        assert_eq!(campaign_source(b"ref=%zz%4"), Some("%zz%4".into()));
    }
}
