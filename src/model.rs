//! The rows that flow from ingest to store: integers only, with strings interned per chunk, so the
//! single writer thread resolves each distinct path or agent once per chunk instead of once per
//! row. One place, imported by both `ingest` (which builds them) and `store` (which writes them).

use crate::parse::Tally;

/// "No value" for an interned id.
pub const NONE: u32 = u32::MAX;

/// Strings of one chunk, each stored once; rows refer to them by index.
#[derive(Debug, Default)]
pub struct LocalDict {
    /// The strings, by local id.
    pub items: Vec<String>,
    index: foldhash::HashMap<String, u32>,
}

impl LocalDict {
    /// The local id of `s`, adding it on first sight.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(id) = self.index.get(s) {
            return *id;
        }
        let id = self.items.len() as u32;
        self.items.push(s.to_owned());
        self.index.insert(s.to_owned(), id);
        id
    }
}

/// One hit ready to insert, with ids local to its chunk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// Unix ms, UTC.
    pub ts: i64,
    /// The line's number in its file (1-based): with the file, the row's identity, so a store
    /// that may get a batch twice keeps it once.
    pub line: u64,
    /// Local site id.
    pub site: u32,
    /// Local path id or [`NONE`].
    pub path: u32,
    /// Local referrer id (into `referrers`, keyed `host \0 source`) or [`NONE`] for direct.
    pub referrer: u32,
    /// Local agent id or [`NONE`].
    pub agent: u32,
    /// Visitor hash.
    pub visitor: i64,
    /// HTTP status.
    pub status: u16,
    /// Method code (`classify::Method`).
    pub method: u8,
    /// Kind code (`classify::Kind`).
    pub kind: u8,
    /// Bot reason code, 0 for human.
    pub bot: u8,
    /// Response bytes, -1 for none.
    pub bytes: i64,
    /// Duration in microseconds, -1 for none.
    pub duration_us: i64,
    /// Country code (`classify::geo::pack`), 0 for unknown.
    pub country: u16,
    /// Salted day hashes of the address's network and of the address (`classify::origin`).
    pub origin: i64,
    /// `classify::traits` bits.
    pub traits: u8,
}

/// What a site's browsers fetched on a day, counted at ingest (`store::facts`).
#[derive(Clone, Debug, Default)]
pub struct SiteFacts {
    /// Subresource requests with a referrer, from clients no layer-1/2 rule flagged.
    pub referred_assets: u64,
    /// Of which over HTTP/1.x.
    pub referred_assets_http1: u64,
    /// Their referrers (local referrer id) and how often each was named.
    pub hosts: foldhash::HashMap<u32, u64>,
    /// The pages they name as referrer: (local referrer id, `classify::referrer::page_key`) and
    /// how often.
    pub pages: foldhash::HashMap<(u32, i64), u64>,
}

/// A parsed chunk: rows, their strings, the parse tally, and where the chunk ends.
#[derive(Debug, Default)]
pub struct ParsedChunk {
    /// Hits, in line order.
    pub rows: Vec<Row>,
    /// Site names.
    pub sites: LocalDict,
    /// Normalised paths.
    pub paths: LocalDict,
    /// `host \0 source` pairs.
    pub referrers: LocalDict,
    /// User agents.
    pub agents: LocalDict,
    /// Counts and reject samples (addresses redacted).
    pub tally: Tally,
    /// Stream offset of the chunk's first byte.
    pub start_offset: u64,
    /// Stream offset just past the chunk.
    pub end_offset: u64,
    /// Number of the chunk's last line.
    pub last_line: u64,
    /// Lines in the chunk.
    pub lines: u64,
    /// Marker of the bytes just before `end_offset` (see `source::identity`).
    pub marker: (u32, i64),
    /// Per (local site id, local day number): what its browsers fetched.
    pub site_facts: foldhash::HashMap<(u32, i64), SiteFacts>,
    /// A day salt that could not be settled: the chunk's visitor hashes are not to be written.
    pub salt_error: Option<SaltError>,
}

/// Splits an interned referrer key back into (host, source).
pub fn split_referrer(key: &str) -> (&str, &str) {
    let (host, rest) = key.split_once('\0').unwrap_or((key, ""));
    (
        host,
        rest.split_once('\0').map_or(rest, |(source, _)| source),
    )
}

/// Splits an interned referrer key into host, source and the campaign details (`utm_medium`,
/// `utm_campaign`, `utm_content`, `utm_term`; empty when absent).
pub fn split_campaign(key: &str) -> (&str, &str, [&str; 4]) {
    let mut parts = key.split('\0');
    let host = parts.next().unwrap_or("");
    let source = parts.next().unwrap_or("");
    let details = [(); 4].map(|()| parts.next().unwrap_or(""));
    (host, source, details)
}

/// The key under which a referrer is interned: `host \0 source`, then `\0` and the four campaign
/// details when any is given.
pub fn referrer_key(host: &str, source: &str, details: &[String; 4]) -> String {
    if details.iter().all(String::is_empty) {
        format!("{host}\0{source}")
    } else {
        format!("{host}\0{source}\0{}", details.join("\0"))
    }
}

/// The campaign fields of a visit's first page view: `utm_source`, `utm_medium`,
/// `utm_campaign`, `utm_content`, `utm_term` (empty when absent).
pub type Utm = [String; 5];

/// A request a visit made (the permanent record, `rollup::record`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordHit {
    /// Path.
    pub path: String,
    /// `classify::Method` code.
    pub method: u8,
    /// HTTP status.
    pub status: u16,
    /// Whether it was a page view.
    pub page: bool,
    /// Local clock hour (0-23).
    pub hour: u8,
}

/// One human visit of the permanent record (`rollup::record`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordVisit {
    /// Site name.
    pub site: String,
    /// The visitor's number within the site and day (0, 1, ...).
    pub visitor: u32,
    /// First and last page viewed.
    pub entry: String,
    /// Last page viewed.
    pub exit: String,
    /// Source of the first page view (`Direct` when none).
    pub source: String,
    /// Campaign fields of the first page view.
    pub utm: Utm,
    /// Browser family.
    pub browser: String,
    /// OS family.
    pub os: String,
    /// Device class.
    pub device: String,
    /// Country code, if known.
    pub country: Option<String>,
    /// Page views.
    pub pageviews: u32,
    /// Seconds from the first to the last page view.
    pub duration_s: u32,
    /// Requests, in time order.
    pub hits: Vec<RecordHit>,
}

/// A day of the permanent record: its number (days since 1970-01-01) and its visits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordDay {
    /// Days since 1970-01-01 in the database's zone.
    pub day: i64,
    /// Its human visits.
    pub visits: Vec<RecordVisit>,
}

/// A day's salt could not be read or recorded.
#[derive(Clone, Debug, thiserror::Error)]
#[error("cannot record the visitor salt of day {day} in the database: {reason}")]
pub struct SaltError {
    /// Days since 1970-01-01.
    pub day: i64,
    /// Why, with what to do.
    pub reason: String,
    /// Whether another process held the database (a retry later may succeed).
    pub busy: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable() {
        let mut d = LocalDict::default();
        assert_eq!((d.intern("/a"), d.intern("/b"), d.intern("/a")), (0, 1, 0));
        assert_eq!(d.items, vec!["/a".to_string(), "/b".into()]);
    }
}
