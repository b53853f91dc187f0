//! Parses and classifies one chunk of lines into a [`ParsedChunk`]; runs on any rayon thread.

use std::borrow::Cow;
use std::sync::Arc;

use chrono_tz::Tz;

use super::rows::{ParsedChunk, Row, NONE};
use crate::classify::{self, kind, path, redact, referrer, DayClock, Method, Salts};
use crate::parse::{Format, Hit, Tally};
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
}

/// Per-chunk state: the day clock and the last salt, so most rows skip the shared lock.
struct Cursor {
    clock: DayClock,
    day: i64,
    salt: classify::visitor::Salt,
}

impl ChunkParser {
    fn site_name<'h>(&'h self, hit: &'h Hit<'_>) -> Cow<'h, str> {
        if let Some(s) = &self.site {
            return Cow::Borrowed(s);
        }
        match &hit.host {
            Some(h) if !h.is_empty() => Cow::Owned(String::from_utf8_lossy(h).to_ascii_lowercase()),
            _ => Cow::Borrowed(DEFAULT_SITE),
        }
    }

    fn row(&self, hit: &Hit<'_>, out: &mut ParsedChunk, cur: &mut Cursor) -> Row {
        let site_name = self.site_name(hit);
        let site = out.sites.intern(&site_name);
        let method = Method::from_bytes(hit.method.as_deref());
        let kind = kind::kind(method, hit.status, hit.path.as_deref());
        let path = hit
            .path
            .as_deref()
            .map_or(NONE, |p| out.paths.intern(&path::normalise(p)));

        let campaign = hit.query.as_deref().and_then(path::campaign_source);
        let ref_host = hit.referrer.as_deref().and_then(referrer::host);
        let referrer = match (campaign, ref_host) {
            (Some(src), host) => out
                .referrers
                .intern(&format!("{}\0{src}", host.unwrap_or_default())),
            (None, Some(host)) => {
                let own = if site_name == DEFAULT_SITE {
                    None
                } else {
                    Some(site_name.as_ref())
                };
                let src = referrer::source_of_host(&host, own);
                out.referrers.intern(&format!("{host}\0{src}"))
            }
            (None, None) => NONE,
        };
        let agent_bytes: &[u8] = hit.user_agent.as_deref().unwrap_or(b"");
        let agent = if agent_bytes.is_empty() {
            NONE
        } else {
            out.agents.intern(&String::from_utf8_lossy(agent_bytes))
        };

        let day = cur.clock.day(hit.ts_ms);
        if day != cur.day {
            cur.day = day;
            cur.salt = self.salts.get(day);
        }
        Row {
            ts: hit.ts_ms,
            site,
            path,
            referrer,
            agent,
            visitor: classify::visitor::visitor_hash(&cur.salt, &hit.addr, agent_bytes),
            status: hit.status,
            method: method as u8,
            kind: kind as u8,
            bot: 0,
            bytes: hit.bytes.map_or(-1, |b| b.min(i64::MAX as u64) as i64),
            duration_us: hit
                .request_time_us
                .map_or(-1, |d| d.min(i64::MAX as u64) as i64),
        }
    }

    /// Parses every line of `chunk`.
    pub fn parse(&self, chunk: &Chunk) -> ParsedChunk {
        let mut out = ParsedChunk {
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
            salt: [0; 16],
        };
        let mut line_no = chunk.first_line;
        let mut rest: &[u8] = &chunk.data;
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
                        out.tally.hit(&hit);
                        let row = self.row(&hit, &mut out, &mut cur);
                        out.rows.push(row);
                    }
                    Err(reason) => out.tally.reject(reason, line_no, line),
                }
            }
            line_no += 1;
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
    use crate::ingest::rows::split_referrer;

    fn parser(site: Option<&str>) -> ChunkParser {
        ChunkParser {
            format: Format::Combined,
            site: site.map(String::from),
            tz: chrono_tz::UTC,
            salts: Arc::new(Salts::default()),
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
    fn reject_samples_hold_no_address() {
        let p = parser(None).parse(&chunk(
            "203.0.113.9 - - [bad time] \"GET / HTTP/1.1\" 200 5\n",
        ));
        let sample = &p.tally.reasons.values().next().unwrap().samples[0].text;
        assert!(!sample.contains("203.0.113.9"), "{sample}");
        assert!(sample.starts_with("<ip> - -"), "{sample}");
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
