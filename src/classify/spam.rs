//! Referrer spam: sites that send fake referrers so their names show up in analytics reports. A
//! hit whose referrer is on the list is a bot's (layer 2), so spam never becomes a source.
//!
//! The list is Matomo's community-maintained `referrer-spam-list` (public domain, CC0); users add
//! their own hosts with `referrer_spam` in the configuration. See `data/README.md` for the version.

use std::collections::HashSet;
use std::sync::OnceLock;

const BUILTIN: &str = include_str!("data/referrer-spam.txt");

/// A set of spam hosts; a host matches when it or one of its parent domains is listed.
#[derive(Clone, Debug, Default)]
pub struct SpamList {
    hosts: HashSet<String>,
}

impl SpamList {
    /// Reads one host per line (`#` comments and blank lines skipped).
    pub fn parse(text: &str) -> SpamList {
        let hosts = text
            .lines()
            .map(|l| {
                l.split('#')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .map(|l| l.strip_prefix("www.").map(str::to_string).unwrap_or(l))
            .filter(|l| !l.is_empty())
            .collect();
        SpamList { hosts }
    }

    /// The shipped list.
    pub fn builtin() -> &'static SpamList {
        static BUILT: OnceLock<SpamList> = OnceLock::new();
        BUILT.get_or_init(|| SpamList::parse(BUILTIN))
    }

    /// The shipped list and a user's own.
    pub fn with_extra(extra: &str) -> SpamList {
        let mut list = SpamList::builtin().clone();
        list.hosts.extend(SpamList::parse(extra).hosts);
        list
    }

    /// Whether a referrer host (lowercase, without `www.`) is spam.
    pub fn is_spam(&self, host: &str) -> bool {
        let mut h = host;
        loop {
            if self.hosts.contains(h) {
                return true;
            }
            match h.split_once('.') {
                Some((_, parent)) if parent.contains('.') => h = parent,
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_hosts_and_their_subdomains_are_spam() {
        let list = SpamList::builtin();
        assert!(list.hosts.len() > 1000);
        assert!(list.is_spam("01casino-x.ru"));
        assert!(list.is_spam("a.b.01casino-x.ru"));
        assert!(!list.is_spam("google.com"));
        assert!(!list.is_spam("ru"));
        let mine = SpamList::with_extra("# mine\nWWW.Spam.Example\n\n");
        assert!(mine.is_spam("spam.example") && mine.is_spam("01casino-x.ru"));
    }
}
