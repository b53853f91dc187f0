//! Filters over the permanent record, as `stats --filter KEY=VALUE` (and the dashboard's URL)
//! spell them: `KEY=VALUE` keeps what matches, `KEY!=VALUE` what does not, `*` in a value
//! matches any run of characters, and every filter must hold.

use std::fmt;

/// What a filter looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Key {
    /// A page the visit viewed (the visit is kept whole).
    Page,
    /// The visit's first page.
    EntryPage,
    /// The visit's last page.
    ExitPage,
    /// Where the visit came from (`Direct`, `Google`, a referrer's host, a `utm_source`).
    Source,
    /// `utm_source` of the visit's first page view.
    UtmSource,
    /// `utm_medium`.
    UtmMedium,
    /// `utm_campaign`.
    UtmCampaign,
    /// `utm_content`.
    UtmContent,
    /// `utm_term`.
    UtmTerm,
    /// Browser family.
    Browser,
    /// Operating system family.
    Os,
    /// Device class.
    Device,
    /// Country code.
    Country,
    /// A goal (by name) the visit reached.
    Goal,
}

/// Every key, as spelled on the command line.
pub const KEYS: &[(&str, Key)] = &[
    ("page", Key::Page),
    ("entry-page", Key::EntryPage),
    ("exit-page", Key::ExitPage),
    ("source", Key::Source),
    ("utm-source", Key::UtmSource),
    ("utm-medium", Key::UtmMedium),
    ("utm-campaign", Key::UtmCampaign),
    ("utm-content", Key::UtmContent),
    ("utm-term", Key::UtmTerm),
    ("browser", Key::Browser),
    ("os", Key::Os),
    ("device", Key::Device),
    ("country", Key::Country),
    ("goal", Key::Goal),
];

impl Key {
    /// The key's name on the command line.
    pub fn name(self) -> &'static str {
        KEYS.iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .expect("every key is listed")
    }
}

/// A value pattern: literal text with `*` for any run of characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    parts: Vec<String>,
    text: String,
}

impl Pattern {
    /// Compiles `text`.
    pub fn new(text: &str) -> Pattern {
        Pattern {
            parts: text.split('*').map(str::to_string).collect(),
            text: text.to_string(),
        }
    }

    /// Whether `s` matches the whole pattern.
    pub fn matches(&self, s: &str) -> bool {
        let parts = &self.parts;
        if parts.len() == 1 {
            return s == parts[0];
        }
        let (first, last) = (&parts[0], &parts[parts.len() - 1]);
        if s.len() < first.len() + last.len() || !s.starts_with(first.as_str()) {
            return false;
        }
        let mut rest = &s[first.len()..];
        if !rest.ends_with(last.as_str()) {
            return false;
        }
        rest = &rest[..rest.len() - last.len()];
        for part in &parts[1..parts.len() - 1] {
            match rest.find(part.as_str()) {
                Some(i) => rest = &rest[i + part.len()..],
                None => return false,
            }
        }
        true
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// One filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// What it looks at.
    pub key: Key,
    /// `!=`: keeps what does not match.
    pub negated: bool,
    /// The value.
    pub pattern: Pattern,
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = if self.negated { "!=" } else { "=" };
        write!(f, "{}{op}{}", self.key.name(), self.pattern.as_str())
    }
}

/// A filter that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// No `=` or `!=`.
    #[error("filter {0:?} is not KEY=VALUE or KEY!=VALUE; keys are: {keys}", keys = key_list())]
    Shape(String),
    /// An unknown key.
    #[error("unknown filter key {0:?}; keys are: {keys}", keys = key_list())]
    UnknownKey(String),
    /// An empty value.
    #[error("filter {0:?} has no value; use * to match anything")]
    EmptyValue(String),
}

/// The keys, comma-separated, for messages.
pub fn key_list() -> String {
    KEYS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

impl Filter {
    /// Reads `KEY=VALUE` or `KEY!=VALUE`.
    pub fn parse(text: &str) -> Result<Filter, Error> {
        let (key, negated, value) = match text.find('=') {
            Some(i) if i > 0 && text.as_bytes()[i - 1] == b'!' => {
                (&text[..i - 1], true, &text[i + 1..])
            }
            Some(i) => (&text[..i], false, &text[i + 1..]),
            None => return Err(Error::Shape(text.to_string())),
        };
        let key = key.trim();
        let key = KEYS
            .iter()
            .find(|(n, _)| *n == key)
            .map(|(_, k)| *k)
            .ok_or_else(|| Error::UnknownKey(key.to_string()))?;
        if value.is_empty() {
            return Err(Error::EmptyValue(text.to_string()));
        }
        Ok(Filter {
            key,
            negated,
            pattern: Pattern::new(value),
        })
    }

    /// Whether a single value passes.
    pub fn admits(&self, value: &str) -> bool {
        self.pattern.matches(value) != self.negated
    }

    /// Whether a visit with these values passes (`page`, `goal`: any of them must match for
    /// `=`, none for `!=`).
    pub fn admits_any<'a>(&self, mut values: impl Iterator<Item = &'a str>) -> bool {
        values.any(|v| self.pattern.matches(v)) != self.negated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_operators_and_wildcards() {
        let f = Filter::parse("source=Hacker News").unwrap();
        assert_eq!((f.key, f.negated), (Key::Source, false));
        assert!(f.admits("Hacker News") && !f.admits("Hacker News 2"));
        let f = Filter::parse("page!=/blog/*").unwrap();
        assert_eq!((f.key, f.negated), (Key::Page, true));
        assert!(!f.admits("/blog/x") && f.admits("/about"));
        assert_eq!(f.to_string(), "page!=/blog/*");
        let f = Filter::parse("utm-campaign=*spring*2026").unwrap();
        assert!(f.admits("big-spring-sale-2026") && !f.admits("spring-2025"));
        assert!(Filter::parse("page=*").unwrap().admits(""));
        assert!(Filter::parse("page=a=b").unwrap().admits("a=b"));
    }

    #[test]
    fn bad_filters_name_the_keys() {
        let e = Filter::parse("colour=red").unwrap_err().to_string();
        assert!(e.contains("colour") && e.contains("utm-campaign"), "{e}");
        assert!(matches!(Filter::parse("page"), Err(Error::Shape(_))));
        assert!(matches!(Filter::parse("page="), Err(Error::EmptyValue(_))));
    }

    #[test]
    fn page_filters_look_at_every_page_of_a_visit() {
        let f = Filter::parse("page=/signup").unwrap();
        assert!(f.admits_any(["/", "/signup"].into_iter()));
        let f = Filter::parse("page!=/signup").unwrap();
        assert!(!f.admits_any(["/", "/signup"].into_iter()));
    }

    #[test]
    fn patterns_match_whole_values() {
        for (p, s, yes) in [
            ("a*c", "abc", true),
            ("a*c", "ac", true),
            ("a*c", "abcd", false),
            ("*x*", "x", true),
            ("a*a", "a", false),
            ("**", "", true),
        ] {
            assert_eq!(Pattern::new(p).matches(s), yes, "{p} {s}");
        }
    }
}
