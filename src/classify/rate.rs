//! Bot layer 3: the live request-rate check of `tail`. A visitor making more requests in a minute
//! than the limit is flagged as a bot at once, in the parsed chunk before it is committed, and
//! stays flagged for an hour.
//!
//! Memory is bounded: idle counters are pruned as chunks come in, and no more than
//! [`MAX_VISITORS`] are held.

use std::collections::HashMap;

use crate::classify::bots::Reason;
use crate::model::ParsedChunk;

/// Most visitors whose rate is counted, whatever the traffic.
pub const MAX_VISITORS: usize = 100_000;
const MINUTE_MS: i64 = 60_000;
/// How long a visitor flagged by its rate stays flagged.
const FLAG_MS: i64 = 3_600_000;

/// Settings of the rate check.
#[derive(Clone, Copy, Debug)]
pub struct RateSettings {
    /// Requests per minute above which a visitor is flagged as a bot at once.
    pub max_per_minute: u32,
    /// Rows older than this many milliseconds before now are history being caught up, not live
    /// traffic: they are neither counted nor flagged.
    pub history_ms: i64,
}

/// Requests of one visitor per second over the last minute: exact at the one-second resolution of
/// access-log timestamps, in 76 bytes whatever the rate.
#[derive(Debug)]
struct Rate {
    counts: [u8; 60],
    last_sec: i64,
    flagged_at: Option<i64>,
}

impl Rate {
    fn new(sec: i64) -> Rate {
        Rate {
            counts: [0; 60],
            last_sec: sec,
            flagged_at: None,
        }
    }

    /// Counts a request at second `sec`; returns the requests of the minute ending at the
    /// latest second seen.
    fn add(&mut self, sec: i64) -> u32 {
        if sec > self.last_sec {
            let gap = (sec - self.last_sec).min(60);
            for s in (sec - gap + 1)..=sec {
                self.counts[s.rem_euclid(60) as usize] = 0;
            }
            self.last_sec = sec;
        }
        if sec > self.last_sec - 60 {
            let slot = &mut self.counts[sec.rem_euclid(60) as usize];
            *slot = slot.saturating_add(1);
        }
        self.counts.iter().map(|c| u32::from(*c)).sum()
    }
}

/// Request counters per visitor, flagging those over the rate.
#[derive(Debug)]
pub struct RateLimiter {
    settings: RateSettings,
    rates: HashMap<i64, Rate>,
    flagged_total: u64,
    pruned_at: i64,
}

impl RateLimiter {
    /// A limiter with no counts yet.
    pub fn new(settings: RateSettings) -> RateLimiter {
        RateLimiter {
            settings,
            rates: HashMap::new(),
            flagged_total: 0,
            pruned_at: 0,
        }
    }

    /// Visitors flagged by their request rate since the limiter started.
    pub fn flagged_total(&self) -> u64 {
        self.flagged_total
    }

    /// Counts the live rows of a parsed chunk before it is committed, and flags (in the chunk,
    /// with [`Reason::LiveRate`]) those of visitors over the rate. Rows already flagged keep
    /// their reason and are not counted.
    pub fn mark(&mut self, chunk: &mut ParsedChunk, now_ms: i64) {
        let live_since = now_ms - self.settings.history_ms;
        for row in &mut chunk.rows {
            if row.ts < live_since {
                continue; // history being caught up: not live
            }
            if row.bot == 0 && self.over_rate(row.visitor, row.ts) {
                row.bot = Reason::LiveRate as u8;
            }
        }
        if now_ms - self.pruned_at >= 1000 || self.rates.len() > MAX_VISITORS {
            self.prune(now_ms);
        }
    }

    /// Counts a request of `visitor` at `ts`; true when it is (or was already) over the rate.
    fn over_rate(&mut self, visitor: i64, ts: i64) -> bool {
        let sec = ts.div_euclid(1000);
        let rate = self.rates.entry(visitor).or_insert_with(|| Rate::new(sec));
        if let Some(at) = rate.flagged_at {
            if ts - at < FLAG_MS {
                return true;
            }
            rate.flagged_at = None;
        }
        if rate.add(sec) > self.settings.max_per_minute {
            rate.flagged_at = Some(ts);
            self.flagged_total += 1;
            return true;
        }
        false
    }

    /// Drops the counters of visitors neither flagged nor seen within the last minute, and keeps
    /// the map within its bound.
    fn prune(&mut self, now_ms: i64) {
        self.pruned_at = now_ms;
        self.rates.retain(|_, r| {
            r.flagged_at.is_some_and(|at| at > now_ms - FLAG_MS)
                || r.last_sec * 1000 > now_ms - MINUTE_MS
        });
        if self.rates.len() > MAX_VISITORS {
            self.rates.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Row;

    fn chunk(hits: &[(i64, i64, u8)]) -> ParsedChunk {
        let mut c = ParsedChunk::default();
        let site = c.sites.intern("example.com");
        let path = c.paths.intern("/p");
        for (ts, visitor, bot) in hits {
            c.rows.push(Row {
                ts: *ts,
                line: 0,
                site,
                path,
                referrer: crate::model::NONE,
                agent: crate::model::NONE,
                visitor: *visitor,
                status: 200,
                method: 0,
                kind: crate::classify::Kind::Page as u8,
                bot: *bot,
                bytes: 1,
                duration_us: -1,
                country: 0,
                origin: *visitor,
                traits: 0,
            });
        }
        c
    }

    const NOW: i64 = 1_800_000_000_000;

    fn limiter() -> RateLimiter {
        RateLimiter::new(RateSettings {
            max_per_minute: 60,
            history_ms: 11 * MINUTE_MS,
        })
    }

    #[test]
    fn a_visitor_over_the_rate_is_flagged_at_once() {
        let mut limiter = limiter();
        // 60 requests in a minute: at the limit, still human.
        let at_limit: Vec<_> = (0..60).map(|i| (NOW - 59_000 + i * 900, 9, 0)).collect();
        let mut c = chunk(&at_limit);
        limiter.mark(&mut c, NOW);
        assert!(c.rows.iter().all(|r| r.bot == 0));
        // The 61st within the minute: over, flagged with every later request.
        let mut c = chunk(&[(NOW, 9, 0), (NOW + 1_000, 9, 0)]);
        limiter.mark(&mut c, NOW + 1_000);
        assert!(c.rows.iter().all(|r| r.bot == Reason::LiveRate as u8));
        assert_eq!(limiter.flagged_total(), 1);
        // Another visitor at 61 spread over more than a minute stays human.
        let slow: Vec<_> = (0..61).map(|i| (NOW + i * 1_000, 10, 0)).collect();
        let mut c = chunk(&slow);
        limiter.mark(&mut c, NOW + 61_000);
        assert!(c.rows.iter().all(|r| r.bot == 0));
        assert_eq!(limiter.flagged_total(), 1);
    }

    #[test]
    fn flagged_rows_keep_their_reason_and_history_is_not_counted() {
        let mut limiter = limiter();
        // Already flagged at ingest: left as is, and not counted toward the rate.
        let bots: Vec<_> = (0..100).map(|i| (NOW - 50_000 + i * 100, 1, 7)).collect();
        let mut c = chunk(&bots);
        limiter.mark(&mut c, NOW);
        assert!(c.rows.iter().all(|r| r.bot == 7));
        // Old lines read on start: not live, never flagged by rate.
        let old: Vec<_> = (0..100)
            .map(|i| (NOW - 3_600_000 + i * 100, 2, 0))
            .collect();
        let mut c = chunk(&old);
        limiter.mark(&mut c, NOW);
        assert!(c.rows.iter().all(|r| r.bot == 0));
        assert_eq!(limiter.flagged_total(), 0);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut limiter = limiter();
        let hits: Vec<_> = (0..(MAX_VISITORS as i64 + 500))
            .map(|i| (NOW - 100_000 + i / 10, i, 0))
            .collect();
        let mut c = chunk(&hits);
        limiter.mark(&mut c, NOW);
        assert!(limiter.rates.len() <= MAX_VISITORS);
    }
}
