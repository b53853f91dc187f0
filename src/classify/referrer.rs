//! Referrer host and source: `https://www.google.de/search?q=x` -> host `google.de`, source `Google`.
//!
//! Only the host is kept, never the referring URL's path or query (which can hold personal data).
//! A referrer whose host is an IP address is kept as `(ip address)`, so no address is ever stored.

/// Source of hits without referrer or campaign.
pub const DIRECT: &str = "Direct";
/// Source of hits referred by the site itself.
pub const INTERNAL: &str = "Internal";
/// Host stored for referrers whose host is an IP literal.
pub const IP_HOST: &str = "(ip address)";

/// Well-known hosts and the names they count under. A host matches an entry when it equals it or
/// ends with `.entry`; `google.` entries match any Google country domain.
const KNOWN: &[(&str, &str)] = &[
    ("bing.com", "Bing"),
    ("duckduckgo.com", "DuckDuckGo"),
    ("search.yahoo.com", "Yahoo"),
    ("yahoo.com", "Yahoo"),
    ("baidu.com", "Baidu"),
    ("ecosia.org", "Ecosia"),
    ("search.brave.com", "Brave Search"),
    ("qwant.com", "Qwant"),
    ("startpage.com", "Startpage"),
    ("kagi.com", "Kagi"),
    ("perplexity.ai", "Perplexity"),
    ("chatgpt.com", "ChatGPT"),
    ("chat.openai.com", "ChatGPT"),
    ("t.co", "Twitter"),
    ("twitter.com", "Twitter"),
    ("x.com", "Twitter"),
    ("facebook.com", "Facebook"),
    ("fb.me", "Facebook"),
    ("instagram.com", "Instagram"),
    ("linkedin.com", "LinkedIn"),
    ("lnkd.in", "LinkedIn"),
    ("reddit.com", "Reddit"),
    ("news.ycombinator.com", "Hacker News"),
    ("lobste.rs", "Lobsters"),
    ("youtube.com", "YouTube"),
    ("github.com", "GitHub"),
    ("bsky.app", "Bluesky"),
    ("mastodon.social", "Mastodon"),
];

/// The lowercase host of a referrer URL without `www.` and port; `None` for `-` or no host.
pub fn host(referrer: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(referrer);
    let s = s.trim();
    let after_scheme = match s.find("://") {
        Some(p) => &s[p + 3..],
        None => s.strip_prefix("//").unwrap_or(s),
    };
    let end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let mut authority = &after_scheme[..end];
    if let Some(at) = authority.rfind('@') {
        authority = &authority[at + 1..];
    }
    let bare = crate::parse::strip_port(authority.as_bytes());
    let host = String::from_utf8_lossy(bare).to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    if host.is_empty() || host == "-" {
        return None;
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Some(IP_HOST.to_string());
    }
    Some(host.strip_prefix("www.").unwrap_or(host).to_string())
}

/// A stable 64-bit key of a page path (normalised as stored paths are), so that "pages whose views
/// are followed by subresources" can be kept and compared without keeping any referrer's path.
pub fn page_key(path: &str) -> i64 {
    use std::hash::Hasher;
    let mut h =
        siphasher::sip::SipHasher13::new_with_keys(0x6c6f_6774_616c_6c79, 0x7061_6765_735f_6b65);
    h.write(path.as_bytes());
    h.finish() as i64
}

/// The key of the page a referrer URL names (its path without query or fragment, normalised).
pub fn referrer_page_key(referrer: &[u8]) -> Option<i64> {
    let after_scheme = match memchr::memmem::find(referrer, b"://") {
        Some(p) => &referrer[p + 3..],
        None => return None,
    };
    let path = match memchr::memchr(b'/', after_scheme) {
        Some(p) => &after_scheme[p..],
        None => b"/",
    };
    let end = memchr::memchr2(b'?', b'#', path).unwrap_or(path.len());
    Some(page_key(&super::path::normalise(&path[..end])))
}

/// The source a referrer host counts for; `site` is the site's own host (for `Internal`).
pub fn source_of_host(host: &str, site: Option<&str>) -> String {
    if let Some(site) = site {
        let site = site.strip_prefix("www.").unwrap_or(site);
        if host.eq_ignore_ascii_case(site) {
            return INTERNAL.to_string();
        }
    }
    if is_google(host) {
        return "Google".to_string();
    }
    for (known, name) in KNOWN {
        if host == *known || host.strip_suffix(known).is_some_and(|p| p.ends_with('.')) {
            return (*name).to_string();
        }
    }
    host.to_string()
}

/// `google.com`, `google.co.uk`, `news.google.de`...
fn is_google(host: &str) -> bool {
    host.split('.').any(|label| label == "google")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            host(b"https://www.google.de/search?q=x").as_deref(),
            Some("google.de")
        );
        assert_eq!(
            host(b"http://Example.COM:8080/a").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            host(b"https://user:pw@news.ycombinator.com/item?id=1").as_deref(),
            Some("news.ycombinator.com")
        );
        assert_eq!(host(b"http://52.5.163.54/").as_deref(), Some(IP_HOST));
        assert_eq!(host(b"http://[2001:db8::1]:80/").as_deref(), Some(IP_HOST));
        assert_eq!(host(b"www.imooc.com").as_deref(), Some("imooc.com"));
        assert_eq!(host(b"-"), None);
        assert_eq!(host(b""), None);
    }

    #[test]
    fn a_referrer_names_its_page_by_the_pages_stored_path() {
        assert_eq!(
            referrer_page_key(b"https://example.com/blog//post?x=1#top"),
            Some(page_key("/blog/post"))
        );
        assert_eq!(
            referrer_page_key(b"https://example.com"),
            Some(page_key("/"))
        );
        assert_ne!(page_key("/a"), page_key("/b"));
        assert_eq!(referrer_page_key(b"-"), None);
    }

    #[test]
    fn sources() {
        assert_eq!(source_of_host("google.co.uk", None), "Google");
        assert_eq!(source_of_host("m.facebook.com", None), "Facebook");
        assert_eq!(
            source_of_host("old.reddit.com", Some("example.com")),
            "Reddit"
        );
        assert_eq!(
            source_of_host("example.com", Some("www.example.com")),
            INTERNAL
        );
        assert_eq!(
            source_of_host("blog.example.net", Some("example.com")),
            "blog.example.net"
        );
        assert_eq!(
            source_of_host("notx.com", None),
            "notx.com",
            "suffix match needs a dot"
        );
    }
}
