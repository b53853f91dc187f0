//! Parses and classifies one chunk of lines into a [`ParsedChunk`]; runs on any rayon thread.
//!
//! A hit whose time is far out of place among its neighbours is rejected as `bad-timestamp`
//! (see [`out_of_place`]).

use std::borrow::Cow;
use std::sync::Arc;

use chrono_tz::Tz;

use crate::classify::bots;
use crate::classify::geo::GeoIp;
use crate::classify::network;
use crate::classify::{
    self, kind, path, redact, referrer, traits, DayClock, Method, PathClass, Rules, Salts,
};
use crate::model::{ParsedChunk, Row, NONE};
use crate::parse::{Format, Hit, RejectReason, Tally};
use crate::source::chunks::Chunk;
use crate::source::identity;
use crate::source::MAX_LINE_BYTES;

/// Site name used when a log has no host field and no `--site` was given.
pub const DEFAULT_SITE: &str = "default";

/// Everything needed to turn lines into rows.
pub struct ChunkParser {
    /// The log format.
    pub format: Format,
    /// `--site`: overrides the host field.
    pub site: Option<String>,
    /// Time zone of day boundaries (salts).
    pub tz: Tz,
    /// Day salts shared with the writer.
    pub salts: Arc<Salts>,
    /// Country lookups, when a GeoIP database was given.
    pub geoip: Option<Arc<GeoIp>>,
    /// Bot patterns, referrer spam, page rules.
    pub rules: Arc<Rules>,
}

/// A raw (query, referrer) pair as it appears in the log.
type RawReferrer<'c> = (&'c [u8], &'c [u8]);

impl ChunkParser {
    /// A combined-format parser in UTC with no site, for tests.
    #[cfg(test)]
    pub(crate) fn for_tests(salts: Arc<Salts>) -> ChunkParser {
        ChunkParser {
            format: Format::Combined,
            site: None,
            tz: chrono_tz::UTC,
            salts,
            geoip: None,
            rules: Arc::new(Rules::builtin()),
        }
    }
}

/// How far a hit's time may lie from both of its neighbours, while they lie within it of each
/// other, before it is taken for a broken or forged time: a week.
pub const OUT_OF_PLACE_MS: i64 = 7 * 86_400_000;

/// Whether a hit at `ts` is out of place between the hit kept before it and the hit parsed after
/// it (in the same chunk): those two are within [`OUT_OF_PLACE_MS`] of each other, and `ts` is
/// further than that from both (issue #15, case 7).
///
/// Logs are in time order give or take a little: nginx writes a line when the request ends and
/// Apache stamps it with the time it began, so lines of long requests come minutes (a download,
/// rarely hours) out of order. A log may also jump, forward over a quiet month or backward where
/// rotated files were concatenated out of order (`zcat access.log.*.gz | logtally import -`).
/// Around a jump the neighbours of a line disagree with each other, so nothing there is refused;
/// what is refused is a lone line far from neighbours that agree, such as a line stamped 2031 in a
/// log of 2026 or one from a clock reset to 1999. The time of day or year is never compared with
/// now: an import of history is as good as a live log.
///
/// Only the one nearest line on each side is weighed, which keeps the rule cheap and sure not to
/// reject a jump; two bad lines in a row vouch for each other and are kept. A hit with no
/// neighbour on one side (the first or last of a chunk, and so most lines `tail` reads one at a
/// time) is always kept: the date rules of `parse::time` still apply to it.
pub fn out_of_place(ts: i64, before: Option<i64>, after: Option<i64>) -> bool {
    let limit = OUT_OF_PLACE_MS.unsigned_abs();
    match (before, after) {
        (Some(a), Some(b)) => {
            a.abs_diff(b) <= limit && ts.abs_diff(a) > limit && ts.abs_diff(b) > limit
        }
        _ => false,
    }
}

/// A parsed hit waiting for the next one.
struct Waiting<'c> {
    line_no: u64,
    line: &'c [u8],
    hit: Hit<'c>,
}

/// What is known of a client address for the current day: its origin hash and whether it is in a
/// datacenter network.
#[derive(Clone, Copy)]
struct Origin {
    hash: i64,
    datacenter: bool,
}

/// Per-chunk state: the day clock, the last salt (so most rows skip the shared lock), and memos
/// from raw field bytes to local ids, so each distinct path, agent, referrer and host is decoded,
/// normalised and classified once per chunk rather than once per row.
struct Cursor<'c> {
    clock: DayClock,
    day: i64,
    /// The month of `day`, by which browsers are judged.
    month: classify::browser_age::Month,
    salt: classify::visitor::Salt,
    sites: foldhash::HashMap<&'c [u8], u32>,
    paths: foldhash::HashMap<&'c [u8], u32>,
    /// By the agent's bytes: its local id, and the number of the distinct byte string (two byte
    /// strings may share a local id once invalid UTF-8 is replaced; the visitor hash must not).
    agents: foldhash::HashMap<&'c [u8], (u32, u32)>,
    /// By (query, referrer): the site it was resolved for, and what it is.
    referrers: foldhash::HashMap<RawReferrer<'c>, (u32, Referrer)>,
    countries: foldhash::HashMap<&'c [u8], u16>,
    /// Visitor hashes and origins of the current day by (address, number of the agent's byte
    /// string): a visitor's hits cluster, and the keyed hash costs several times a map lookup.
    /// Cleared when the day (salt) changes.
    visitors: foldhash::HashMap<(&'c [u8], u32), (i64, Origin)>,
    /// Origins of the current day by address. Cleared with `visitors`.
    origins: foldhash::HashMap<&'c [u8], Origin>,
    /// Bot verdicts by (local agent id, month of the hit's day) (layer 1 judges browsers by it)
    /// and by (local path id, answered 4xx) (layer 2); page class by local path id.
    agent_bots: foldhash::HashMap<(u32, i64), u8>,
    path_bots: foldhash::HashMap<(u32, bool), u8>,
    path_classes: foldhash::HashMap<u32, PathClass>,
    /// Whether a local agent id names a browser older than HTTP/2.
    before_http2: foldhash::HashMap<u32, bool>,
}

/// What a hit's referrer is: its local id (NONE for direct), whether it is spam, and the key of
/// the page it names (`classify::referrer::referrer_page_key`, for the site's facts).
#[derive(Clone, Copy)]
struct Referrer {
    id: u32,
    spam: bool,
    page: Option<i64>,
}

/// No referrer.
const DIRECT: Referrer = Referrer {
    id: NONE,
    spam: false,
    page: None,
};

/// The origin of an address under a salt.
fn origin_of(salt: &classify::visitor::Salt, addr: &[u8]) -> Origin {
    let ip = network::parse_addr(addr);
    let key = network::network_key(addr, ip);
    Origin {
        hash: classify::visitor::origin_hash(salt, addr, &key),
        datacenter: ip.is_some_and(network::is_datacenter),
    }
}

impl ChunkParser {
    fn site_id<'c>(&self, hit: &Hit<'c>, out: &mut ParsedChunk, cur: &mut Cursor<'c>) -> u32 {
        if let Some(s) = &self.site {
            return out.sites.intern(s);
        }
        let raw: &'c [u8] = match &hit.host {
            Some(Cow::Borrowed(h)) if !h.is_empty() => h,
            Some(Cow::Owned(h)) if !h.is_empty() => {
                return out
                    .sites
                    .intern(&String::from_utf8_lossy(h).to_ascii_lowercase());
            }
            _ => b"",
        };
        *cur.sites.entry(raw).or_insert_with(|| {
            let name = if raw.is_empty() {
                DEFAULT_SITE.to_string()
            } else {
                String::from_utf8_lossy(raw).to_ascii_lowercase()
            };
            out.sites.intern(&name)
        })
    }

    /// What a (query, referrer) pair is: its local referrer id or NONE for direct, whether the
    /// referrer is on the spam list, and the page it names.
    fn referrer_id(
        &self,
        query: &[u8],
        referrer: &[u8],
        site: u32,
        out: &mut ParsedChunk,
    ) -> Referrer {
        let campaign = if query.is_empty() {
            None
        } else {
            path::campaign_source(query)
        };
        let host = if referrer.is_empty() {
            None
        } else {
            referrer::host(referrer)
        };
        let spam = host.as_deref().is_some_and(|h| self.rules.spam.is_spam(h));
        let details = if query.is_empty() {
            Default::default()
        } else {
            path::campaign_details(query)
        };
        let id = match (campaign, host) {
            (Some(src), host) => out.referrers.intern(&crate::model::referrer_key(
                host.as_deref().unwrap_or_default(),
                &src,
                &details,
            )),
            (None, Some(host)) => {
                let site_name = &out.sites.items[site as usize];
                let own = if site_name == DEFAULT_SITE {
                    None
                } else {
                    Some(site_name.as_str())
                };
                let src = referrer::source_of_host(&host, own);
                out.referrers
                    .intern(&crate::model::referrer_key(&host, &src, &details))
            }
            // Campaign details without a source or a referrer: a direct visit of a campaign.
            (None, None) if details.iter().any(|d| !d.is_empty()) => out
                .referrers
                .intern(&crate::model::referrer_key("", referrer::DIRECT, &details)),
            (None, None) => NONE,
        };
        Referrer {
            id,
            spam,
            page: referrer::referrer_page_key(referrer),
        }
    }

    fn row<'c>(&self, hit: &Hit<'c>, out: &mut ParsedChunk, cur: &mut Cursor<'c>) -> Row {
        let site = self.site_id(hit, out, cur);
        let method = Method::from_bytes(hit.method.as_deref());
        let path = match &hit.path {
            Some(Cow::Borrowed(p)) => *cur
                .paths
                .entry(p)
                .or_insert_with(|| out.paths.intern(&path::normalise(p))),
            Some(Cow::Owned(p)) => out.paths.intern(&path::normalise(p)),
            None => NONE,
        };
        let class = (path != NONE).then(|| {
            *cur.path_classes
                .entry(path)
                .or_insert_with(|| self.rules.pages.class(&out.paths.items[path as usize]))
        });
        let kind = kind::kind(method, hit.status, class);

        // Only utm_* and ref in the query matter; most queries have none.
        let query: &'c [u8] = match &hit.query {
            Some(Cow::Borrowed(q))
                if memchr::memmem::find(q, b"utm_").is_some()
                    || memchr::memmem::find(q, b"ref=").is_some() =>
            {
                q
            }
            Some(Cow::Owned(q)) => {
                let id = self.referrer_id(q, hit.referrer.as_deref().unwrap_or(b""), site, out);
                return self.finish(hit, out, cur, site, path, id, method, kind);
            }
            _ => b"",
        };
        let referrer = match &hit.referrer {
            Some(Cow::Borrowed(r)) => {
                let key = (query, *r);
                match cur.referrers.get(&key) {
                    Some((for_site, known)) if *for_site == site => *known,
                    _ => {
                        let known = self.referrer_id(query, r, site, out);
                        cur.referrers.insert(key, (site, known));
                        known
                    }
                }
            }
            Some(Cow::Owned(r)) => self.referrer_id(query, r, site, out),
            None if !query.is_empty() => self.referrer_id(query, b"", site, out),
            None => DIRECT,
        };
        self.finish(hit, out, cur, site, path, referrer, method, kind)
    }

    /// Layers 1 and 2 (`bots::combine`), memoised per distinct agent and month and per path; and
    /// whether the agent is an obsolete browser's (which rollup decides again).
    #[allow(clippy::too_many_arguments)]
    fn bot_verdict(
        &self,
        out: &ParsedChunk,
        cur: &mut Cursor<'_>,
        agent: u32,
        path: u32,
        method: Method,
        spam: bool,
        status: u16,
    ) -> (u8, bool) {
        let logged = self.format.records_agent();
        let month = cur.month;
        let by_agent = if agent == NONE {
            bots::agent_verdict(&self.rules.agents, None, month, logged)
        } else {
            *cur.agent_bots.entry((agent, month)).or_insert_with(|| {
                bots::agent_verdict(
                    &self.rules.agents,
                    Some(&out.agents.items[agent as usize]),
                    month,
                    logged,
                )
            })
        };
        let by_path = || {
            if path == NONE {
                return 0;
            }
            let failed = (400..500).contains(&status);
            *cur.path_bots.entry((path, failed)).or_insert_with(|| {
                bots::path_verdict(Some(&out.paths.items[path as usize]), failed)
            })
        };
        let obsolete = by_agent == bots::Reason::ObsoleteBrowser as u8;
        (
            bots::combine(by_agent, method != Method::None, by_path, spam),
            obsolete,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn finish<'c>(
        &self,
        hit: &Hit<'c>,
        out: &mut ParsedChunk,
        cur: &mut Cursor<'c>,
        site: u32,
        path: u32,
        referrer: Referrer,
        method: Method,
        kind: classify::Kind,
    ) -> Row {
        let agent_bytes: &[u8] = hit.user_agent.as_deref().unwrap_or(b"");
        // The local id, and the agent's part of the visitor memo key: the number of its byte
        // string, NONE for no agent, and no key for an owned (unescaped) agent.
        let (agent, agent_key) = match &hit.user_agent {
            Some(Cow::Borrowed(a)) if !a.is_empty() => {
                let distinct = cur.agents.len() as u32;
                let (id, number) = *cur
                    .agents
                    .entry(a)
                    .or_insert_with(|| (out.agents.intern(&String::from_utf8_lossy(a)), distinct));
                (id, Some(number))
            }
            Some(a) if !a.is_empty() => (out.agents.intern(&String::from_utf8_lossy(a)), None),
            _ => (NONE, Some(NONE)),
        };
        let day = cur.clock.day(hit.ts_ms);
        if day != cur.day {
            cur.day = day;
            cur.month = classify::browser_age::month_of_day(day);
            cur.salt = match self.salts.get(day) {
                Ok(salt) => salt,
                Err(e) => {
                    // The writer refuses the chunk: no row hashed without the day's salt lands.
                    out.salt_error.get_or_insert(e);
                    [0; 16]
                }
            };
            cur.visitors.clear();
            cur.origins.clear();
        }
        let country = match (&self.geoip, &hit.addr) {
            (None, _) => 0,
            (Some(geo), Cow::Borrowed(a)) => *cur
                .countries
                .entry(a)
                .or_insert_with(|| geo.country(a).unwrap_or(0)),
            (Some(geo), Cow::Owned(a)) => geo.country(a).unwrap_or(0),
        };
        let (bot, obsolete) =
            self.bot_verdict(out, cur, agent, path, method, referrer.spam, hit.status);
        let before_http2 = agent != NONE
            && *cur.before_http2.entry(agent).or_insert_with(|| {
                classify::browser_age::predates_http2(
                    &out.agents.items[agent as usize].to_ascii_lowercase(),
                )
            });
        let (visitor, origin) = match (&hit.addr, agent_key) {
            (Cow::Borrowed(addr), Some(key)) => match cur.visitors.get(&(*addr, key)) {
                Some(v) => *v,
                None => {
                    let origin = *cur
                        .origins
                        .entry(addr)
                        .or_insert_with(|| origin_of(&cur.salt, addr));
                    let v = classify::visitor::visitor_hash(&cur.salt, addr, agent_bytes);
                    cur.visitors.insert((addr, key), (v, origin));
                    (v, origin)
                }
            },
            _ => (
                classify::visitor::visitor_hash(&cur.salt, &hit.addr, agent_bytes),
                origin_of(&cur.salt, &hit.addr),
            ),
        };
        let traits = traits::of(origin.datacenter, hit.protocol.as_deref(), obsolete);
        let bot = bots::request_verdict(
            bot,
            &bots::Request {
                protocol: hit.protocol.as_deref(),
                agent_predates_http2: before_http2,
                page_with_click_id: kind == classify::Kind::Page
                    && hit.query.as_deref().is_some_and(path::has_click_id),
                datacenter: origin.datacenter,
            },
        );
        if kind::is_referred_subresource(bot, kind, referrer.id != NONE, hit.path.as_deref()) {
            let facts = out.site_facts.entry((site, cur.day)).or_default();
            facts.referred_assets += 1;
            facts.referred_assets_http1 += u64::from(traits & traits::HTTP1 != 0);
            *facts.hosts.entry(referrer.id).or_default() += 1;
            if let Some(page) = referrer.page {
                *facts.pages.entry((referrer.id, page)).or_default() += 1;
            }
        }
        Row {
            ts: hit.ts_ms,
            line: 0, // the line's number, which `settle` knows
            site,
            path,
            referrer: referrer.id,
            agent,
            visitor,
            status: hit.status,
            method: method as u8,
            kind: kind as u8,
            bot,
            bytes: hit.bytes.map_or(-1, |b| b.min(i64::MAX as u64) as i64),
            duration_us: hit
                .request_time_us
                .map_or(-1, |d| d.min(i64::MAX as u64) as i64),
            country,
            origin: origin.hash,
            traits,
        }
    }

    /// Keeps a parsed hit as a row, or rejects it as `bad-timestamp` when its time is out of
    /// place between the last kept hit and the next parsed one.
    fn settle<'c>(
        &self,
        w: Waiting<'c>,
        last_kept: &mut Option<i64>,
        next: Option<i64>,
        out: &mut ParsedChunk,
        cur: &mut Cursor<'c>,
    ) {
        if out_of_place(w.hit.ts_ms, *last_kept, next) {
            out.tally
                .reject(RejectReason::BadTimestamp, w.line_no, w.line);
            return;
        }
        *last_kept = Some(w.hit.ts_ms);
        out.tally.hit(&w.hit);
        let row = Row {
            line: w.line_no,
            ..self.row(&w.hit, out, cur)
        };
        out.rows.push(row);
    }

    /// Parses every line of `chunk`.
    pub fn parse(&self, chunk: &Chunk) -> ParsedChunk {
        let mut out = ParsedChunk {
            start_offset: chunk.start_offset,
            end_offset: chunk.end_offset,
            last_line: chunk.first_line + chunk.lines.saturating_sub(1),
            lines: chunk.lines,
            marker: identity::marker(&chunk.data),
            ..Default::default()
        };
        if let Some(len) = chunk.too_long {
            out.tally.too_long(chunk.first_line, len);
            return out;
        }
        out.rows.reserve(chunk.data.len() / 180);
        let mut cur = Cursor {
            clock: DayClock::new(self.tz),
            day: i64::MIN,
            month: 0,
            salt: [0; 16],
            sites: Default::default(),
            paths: Default::default(),
            agents: Default::default(),
            referrers: Default::default(),
            countries: Default::default(),
            visitors: Default::default(),
            origins: Default::default(),
            agent_bots: Default::default(),
            before_http2: Default::default(),
            path_bots: Default::default(),
            path_classes: Default::default(),
        };
        let mut line_no = chunk.first_line;
        let mut rest: &[u8] = &chunk.data;
        // A hit waits for the next one before it is kept, so that its time can be weighed
        // against both neighbours (see `out_of_place`).
        let mut waiting: Option<Waiting<'_>> = None;
        let mut last_kept: Option<i64> = None;
        while !rest.is_empty() {
            let (line, next) = match memchr::memchr(b'\n', rest) {
                Some(p) => (&rest[..p], &rest[p + 1..]),
                None => (rest, &b""[..]),
            };
            rest = next;
            if line.len() > MAX_LINE_BYTES {
                out.tally.too_long(line_no, line.len() as u64);
            } else if Tally::is_blank(line) {
                out.tally.blank += 1;
            } else {
                match self.format.parse(line) {
                    Ok(hit) => {
                        let next_ts = hit.ts_ms;
                        let held = waiting.replace(Waiting { line_no, line, hit });
                        if let Some(w) = held {
                            self.settle(w, &mut last_kept, Some(next_ts), &mut out, &mut cur);
                        }
                    }
                    Err(reason) => out.tally.reject(reason, line_no, line),
                }
            }
            line_no += 1;
        }
        if let Some(w) = waiting {
            self.settle(w, &mut last_kept, None, &mut out, &mut cur);
        }
        for reason in out.tally.reasons.values_mut() {
            for s in &mut reason.samples {
                s.text = redact::redact_addresses(&s.text);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::split_referrer;

    fn parser(site: Option<&str>) -> ChunkParser {
        ChunkParser {
            format: Format::Combined,
            site: site.map(String::from),
            tz: chrono_tz::UTC,
            salts: Arc::new(Salts::default()),
            geoip: None,
            rules: Arc::new(Rules::builtin()),
        }
    }

    fn chunk(text: &str) -> Chunk {
        Chunk {
            data: text.as_bytes().to_vec(),
            first_line: 1,
            lines: text.lines().count() as u64,
            end_offset: text.len() as u64,
            ..Default::default()
        }
    }

    #[test]
    fn classifies_rows_and_interns_strings() {
        let log = concat!(
            "1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] \"GET /post?utm_source=newsletter&id=9 HTTP/1.1\" 200 5 \"https://www.google.com/\" \"Firefox\"\n",
            "1.2.3.4 - - [01/Sep/2022:22:12:46 +0000] \"GET /style.css HTTP/1.1\" 200 5 \"https://example.com/post\" \"Firefox\"\n",
            "5.6.7.8 - - [01/Sep/2022:22:12:47 +0000] \"GET /post HTTP/1.1\" 200 5 \"https://news.ycombinator.com/item?id=1\" \"Chrome\"\n",
            "garbage\n",
            "\n",
        );
        let p = parser(Some("example.com")).parse(&chunk(log));
        assert_eq!(p.rows.len(), 3);
        assert_eq!((p.tally.rejected, p.tally.blank), (1, 1));
        assert_eq!(
            p.paths.items,
            vec!["/post".to_string(), "/style.css".into()]
        );
        let refs: Vec<_> = p
            .referrers
            .items
            .iter()
            .map(|r| split_referrer(r))
            .collect();
        assert_eq!(
            refs,
            vec![
                ("google.com", "newsletter"),
                ("example.com", "Internal"),
                ("news.ycombinator.com", "Hacker News")
            ]
        );
        assert_eq!(p.rows[0].kind, classify::Kind::Page as u8);
        assert_eq!(p.rows[1].kind, classify::Kind::Asset as u8);
        assert_eq!(
            p.rows[0].visitor, p.rows[1].visitor,
            "same address and agent on one day"
        );
        assert_ne!(p.rows[0].visitor, p.rows[2].visitor);
        assert_eq!(p.sites.items, vec!["example.com".to_string()]);
    }

    #[test]
    fn remembered_visitors_hash_as_computed_and_change_with_the_day() {
        let salts = Arc::new(Salts::default());
        let p = ChunkParser::for_tests(salts.clone()).parse(&chunk(concat!(
            "1.2.3.4 - - [01/Sep/2022:23:59:58 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"UA\"\n",
            "1.2.3.4 - - [01/Sep/2022:23:59:59 +0000] \"GET /a HTTP/1.1\" 200 5 \"-\" \"UA\"\n",
            "1.2.3.4 - - [02/Sep/2022:00:00:01 +0000] \"GET /b HTTP/1.1\" 200 5 \"-\" \"UA\"\n",
            "1.2.3.4 - - [01/Sep/2022:23:59:59 +0000] \"GET /c HTTP/1.1\" 200 5 \"-\" \"UA\"\n",
            "1.2.3.4 - - [02/Sep/2022:00:00:02 +0000] \"GET /d HTTP/1.1\" 200 5 \"-\" \"-\"\n",
        )));
        let mut clock = DayClock::new(chrono_tz::UTC);
        for r in &p.rows {
            let agent: &[u8] = if r.agent == NONE { b"" } else { b"UA" };
            let salt = salts.get(clock.day(r.ts)).unwrap();
            assert_eq!(
                r.visitor,
                classify::visitor::visitor_hash(&salt, b"1.2.3.4", agent),
                "row at {}",
                r.ts
            );
        }
        let v: Vec<i64> = p.rows.iter().map(|r| r.visitor).collect();
        assert_eq!((v[0], v[3]), (v[1], v[1]), "one visitor on the 1st");
        assert_ne!(v[1], v[2], "a new day, a new salt");
        assert_ne!(v[2], v[4], "another agent");
    }

    #[test]
    fn each_row_carries_the_number_of_its_line_past_blank_and_rejected_ones() {
        let text = format!(
            "{}garbage\n\n{}",
            line("01/Sep/2022:10:00:00", "/a"),
            line("01/Sep/2022:10:00:01", "/b")
        );
        let p = parser(None).parse(&Chunk {
            first_line: 41,
            ..chunk(&text)
        });
        let lines: Vec<u64> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [41, 44]);
    }

    #[test]
    fn reject_samples_hold_no_address() {
        let p = parser(None).parse(&chunk(
            "203.0.113.9 - - [bad time] \"GET / HTTP/1.1\" 200 5\n",
        ));
        let sample = &p.tally.reasons.values().next().unwrap().samples[0].text;
        assert!(!sample.contains("203.0.113.9"), "{sample}");
        assert!(sample.starts_with("<ip> - -"), "{sample}");
    }

    fn line(time: &str, path: &str) -> String {
        format!("1.2.3.4 - - [{time} +0000] \"GET {path} HTTP/1.1\" 200 5 \"-\" \"UA\"\n")
    }

    #[test]
    fn a_lone_time_far_from_both_neighbours_is_a_bad_timestamp() {
        let log = [
            line("01/Mar/2026:10:00:00", "/a"),
            line("01/Mar/2026:10:00:05", "/b"),
            line("01/Mar/2031:10:00:06", "/future"),
            line("01/Mar/2026:10:00:07", "/c"),
            line("01/Mar/1999:10:00:08", "/past"),
            line("01/Mar/2026:10:00:09", "/d"),
        ]
        .concat();
        let p = parser(None).parse(&chunk(&log));
        assert_eq!(p.rows.len(), 4);
        assert_eq!(p.tally.rejected, 2);
        let bad = &p.tally.reasons[&RejectReason::BadTimestamp];
        let lines: Vec<u64> = bad.samples.iter().map(|s| s.line).collect();
        assert_eq!((bad.count, lines), (2, vec![3, 5]));
    }

    #[test]
    fn jumps_gaps_and_small_disorder_are_kept() {
        let log = [
            // Out of order by minutes, as nginx writes lines when requests end.
            line("01/Jun/2026:10:05:00", "/a"),
            line("01/Jun/2026:10:00:00", "/b"),
            line("01/Jun/2026:10:06:00", "/c"),
            // A quiet month, then a lone hit, then another month.
            line("02/Jul/2026:10:00:00", "/d"),
            line("03/Aug/2026:10:00:00", "/e"),
            // Rotated files concatenated out of order: back to January.
            line("01/Jan/2026:00:00:00", "/f"),
            line("01/Jan/2026:00:00:01", "/g"),
            // A lone line a week out of place is still kept (the limit is more than a week).
            line("07/Jan/2026:23:00:00", "/h"),
            line("01/Jan/2026:00:00:02", "/i"),
        ]
        .concat();
        let p = parser(None).parse(&chunk(&log));
        assert_eq!((p.rows.len(), p.tally.rejected), (9, 0));
    }

    #[test]
    fn out_of_place_needs_both_neighbours() {
        let day = 86_400_000;
        assert!(!out_of_place(100 * day, None, Some(0)));
        assert!(!out_of_place(100 * day, Some(0), None));
        assert!(out_of_place(100 * day, Some(0), Some(day)));
        assert!(!out_of_place(50 * day, Some(0), Some(100 * day)));
        assert!(!out_of_place(-50 * day, Some(0), Some(100 * day)));
        assert!(out_of_place(-50 * day, Some(0), Some(day)));
        assert!(!out_of_place(8 * day, Some(0), Some(day)));
        assert!(!out_of_place(i64::MAX, Some(i64::MAX), Some(i64::MIN)));
    }

    proptest::proptest! {
        /// Times that only ever move forward, by any amount, never count as out of place.
        #[test]
        fn ordered_times_are_never_out_of_place(
            start in 631_152_000_000i64..4_000_000_000_000,
            steps in proptest::collection::vec(0i64..400 * 86_400_000, 3..20),
        ) {
            let mut times = vec![start];
            for s in steps {
                times.push(times.last().unwrap() + s);
            }
            for w in times.windows(3) {
                proptest::prop_assert!(!out_of_place(w[1], Some(w[0]), Some(w[2])));
            }
        }
    }

    #[test]
    fn site_falls_back_to_host_then_default() {
        let vhost = ChunkParser {
            format: Format::Vcombined,
            ..parser(None)
        };
        let p = vhost.parse(&chunk("Blog.Example.org:443 1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"\n"));
        assert_eq!(p.sites.items, vec!["blog.example.org".to_string()]);
        let p = parser(None).parse(&chunk(
            "1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"\n",
        ));
        assert_eq!(p.sites.items, vec![DEFAULT_SITE.to_string()]);
        assert_eq!((p.rows[0].agent, p.rows[0].referrer), (NONE, NONE));
    }
}
