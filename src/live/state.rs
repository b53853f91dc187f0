//! Who is on the site now: an in-memory map of the visitors seen in the last few minutes, kept by
//! `tail` and never written to the database. It reads the parsed chunks and changes nothing in
//! them; the live request-rate check (bot layer 3) is `classify::rate`'s, run before.
//!
//! Memory is bounded: visitors past the window are pruned as the map is read and written, and the
//! map never holds more than [`MAX_VISITORS`] (the oldest go first).

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::classify::kind::Kind;
use crate::classify::referrer::DIRECT;
use crate::model::{ParsedChunk, NONE};

/// Most visitors held, whatever the traffic.
pub const MAX_VISITORS: usize = 100_000;
/// Most distinct user agents whose browser is remembered.
const MAX_AGENTS: usize = 10_000;
/// Minutes of request counts kept for the rate chart.
pub const RATE_MINUTES: i64 = 10;
const MINUTE_MS: i64 = 60_000;

/// Settings of the live map.
#[derive(Clone, Copy, Debug)]
pub struct LiveSettings {
    /// Visitors seen within this many milliseconds are "on the site now".
    pub window_ms: i64,
}

impl LiveSettings {
    /// Rows older than this many milliseconds before now are history being caught up, not live:
    /// a minute more than the window or the rate chart, whichever is longer.
    pub fn history_ms(&self) -> i64 {
        self.window_ms.max(RATE_MINUTES * MINUTE_MS) + MINUTE_MS
    }
}

/// The default of `live.window`, for tests.
#[cfg(test)]
impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            window_ms: 5 * MINUTE_MS,
        }
    }
}

#[derive(Debug)]
struct Visitor {
    site: u32,
    page: u32,
    source: u32,
    browser: u32,
    last_ts: i64,
}

/// The live map.
#[derive(Debug)]
pub struct LiveState {
    settings: LiveSettings,
    visitors: HashMap<i64, Visitor>,
    /// (site, minute) -> (requests, human page views).
    minutes: HashMap<(u32, i64), (u64, u64)>,
    /// Interned names (sites, pages, sources, browsers): a visitor holds four ids, not strings.
    names: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u32>,
    browsers: HashMap<String, u32>,
    flagged_total: u64,
    pruned_at: i64,
}

/// One site's live figures.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct SiteNow {
    /// Site name.
    pub site: String,
    /// Human visitors seen within the window.
    pub visitors: u64,
    /// Current page of each visitor, most visitors first.
    pub pages: Vec<Count>,
    /// Where the visitors came from.
    pub sources: Vec<Count>,
    /// Their browsers.
    pub browsers: Vec<Count>,
    /// Requests per minute for the last minutes, oldest first.
    pub per_minute: Vec<Minute>,
}

/// A name and how many visitors.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Count {
    /// Page path, source or browser.
    pub name: String,
    /// Visitors.
    pub visitors: u64,
}

/// Requests in one minute.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Minute {
    /// Start of the minute, unix ms.
    pub minute: i64,
    /// All requests (bots included).
    pub requests: u64,
    /// Human page views.
    pub pageviews: u64,
}

/// A snapshot of the live map.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    /// When it was taken, unix ms.
    pub now: i64,
    /// The window, seconds.
    pub window_seconds: i64,
    /// Human visitors on all sites.
    pub visitors: u64,
    /// Visitors flagged by their request rate since start.
    pub flagged_by_rate: u64,
    /// Per site, most visitors first.
    pub sites: Vec<SiteNow>,
}

fn top(names: &[Arc<str>], counts: HashMap<u32, u64>, n: usize) -> Vec<Count> {
    let mut v: Vec<Count> = counts
        .into_iter()
        .map(|(k, c)| Count {
            name: names[k as usize].to_string(),
            visitors: c,
        })
        .collect();
    v.sort_by(|a, b| b.visitors.cmp(&a.visitors).then(a.name.cmp(&b.name)));
    v.truncate(n);
    v
}

impl LiveState {
    /// An empty map.
    pub fn new(settings: LiveSettings) -> LiveState {
        LiveState {
            settings,
            visitors: HashMap::new(),
            minutes: HashMap::new(),
            names: Vec::new(),
            index: HashMap::new(),
            browsers: HashMap::new(),
            flagged_total: 0,
            pruned_at: 0,
        }
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(id) = self.index.get(s) {
            return *id;
        }
        let id = self.names.len() as u32;
        let a: Arc<str> = Arc::from(s);
        self.names.push(a.clone());
        self.index.insert(a, id);
        id
    }

    fn browser(&mut self, agent: Option<&str>) -> u32 {
        let agent = agent.unwrap_or("");
        if let Some(b) = self.browsers.get(agent) {
            return *b;
        }
        if self.browsers.len() >= MAX_AGENTS {
            self.browsers.clear();
        }
        let b = self.intern(&crate::classify::agent::classify(agent).browser);
        self.browsers.insert(agent.to_string(), b);
        b
    }

    /// Sets the count of visitors flagged by their request rate since `tail` started
    /// (`classify::rate`), shown with each snapshot.
    pub fn set_flagged_by_rate(&mut self, total: u64) {
        self.flagged_total = total;
    }

    /// Takes in a parsed chunk (its rate verdicts already given): updates the map with its recent
    /// human page views and the requests of the last minutes.
    pub fn observe(&mut self, chunk: &ParsedChunk, now_ms: i64) {
        let since = now_ms - self.settings.window_ms;
        let rate_since = now_ms - RATE_MINUTES * MINUTE_MS;
        let live_since = now_ms - self.settings.history_ms();
        for row in &chunk.rows {
            if row.ts < live_since {
                continue; // history being caught up: not live
            }
            let bot = row.bot;
            let site = self.intern(&chunk.sites.items[row.site as usize]);
            if row.ts >= rate_since {
                let m = self
                    .minutes
                    .entry((site, row.ts.div_euclid(MINUTE_MS)))
                    .or_default();
                m.0 += 1;
                m.1 += u64::from(bot == 0 && row.kind == Kind::Page as u8);
            }
            if bot != 0 {
                self.visitors.remove(&row.visitor);
                continue;
            }
            if row.kind != Kind::Page as u8 || row.ts < since {
                continue;
            }
            let page = match row.path {
                NONE => self.intern("/"),
                p => self.intern(&chunk.paths.items[p as usize]),
            };
            let browser = self.browser(match row.agent {
                NONE => None,
                a => Some(chunk.agents.items[a as usize].as_str()),
            });
            match self.visitors.get_mut(&row.visitor) {
                Some(v) => {
                    if row.ts >= v.last_ts {
                        v.page = page;
                        v.last_ts = row.ts;
                    }
                }
                None => {
                    let source = match row.referrer {
                        NONE => DIRECT,
                        r => {
                            let item = &chunk.referrers.items[r as usize];
                            item.split('\0').nth(1).unwrap_or(DIRECT)
                        }
                    };
                    let source = self.intern(source);
                    self.visitors.insert(
                        row.visitor,
                        Visitor {
                            site,
                            page,
                            source,
                            browser,
                            last_ts: row.ts,
                        },
                    );
                }
            }
        }
        if now_ms - self.pruned_at >= 1000 || self.visitors.len() > MAX_VISITORS {
            self.prune(now_ms);
        }
    }

    /// Drops what fell out of the window and keeps the map within its bounds.
    pub fn prune(&mut self, now_ms: i64) {
        self.pruned_at = now_ms;
        let since = now_ms - self.settings.window_ms;
        self.visitors.retain(|_, v| v.last_ts >= since);
        if self.visitors.len() > MAX_VISITORS {
            let mut ts: Vec<i64> = self.visitors.values().map(|v| v.last_ts).collect();
            let cut = ts.len() - MAX_VISITORS;
            let (_, nth, _) = ts.select_nth_unstable(cut);
            let nth = *nth;
            self.visitors.retain(|_, v| v.last_ts > nth);
        }
        let first_minute = (now_ms - RATE_MINUTES * MINUTE_MS).div_euclid(MINUTE_MS);
        self.minutes.retain(|(_, m), _| *m >= first_minute);
        if self.names.len() > 4 * MAX_VISITORS {
            // Endless distinct paths (a scanner that looks human): start the map afresh rather
            // than grow; it refills within one window.
            self.names.clear();
            self.index.clear();
            self.browsers.clear();
            self.visitors.clear();
            self.minutes.clear();
        }
    }

    /// What is going on now, for all sites or one, with `top` rows per list.
    pub fn snapshot(&mut self, now_ms: i64, site: Option<&str>, top_n: usize) -> Snapshot {
        self.prune(now_ms);
        let names = &self.names;
        let wanted = |id: u32| site.is_none_or(|s| *s == *names[id as usize]);
        let mut by_site: HashMap<u32, Vec<&Visitor>> = HashMap::new();
        for v in self.visitors.values() {
            if wanted(v.site) {
                by_site.entry(v.site).or_default().push(v);
            }
        }
        for (s, _) in self.minutes.keys() {
            if wanted(*s) {
                by_site.entry(*s).or_default();
            }
        }
        let first_minute = (now_ms - (RATE_MINUTES - 1) * MINUTE_MS).div_euclid(MINUTE_MS);
        let mut sites: Vec<SiteNow> = by_site
            .into_iter()
            .map(|(name, vs)| {
                let mut pages = HashMap::new();
                let mut sources = HashMap::new();
                let mut browsers = HashMap::new();
                for v in &vs {
                    *pages.entry(v.page).or_default() += 1;
                    *sources.entry(v.source).or_default() += 1;
                    *browsers.entry(v.browser).or_default() += 1;
                }
                let per_minute = (first_minute..=now_ms.div_euclid(MINUTE_MS))
                    .map(|m| {
                        let (requests, pageviews) =
                            self.minutes.get(&(name, m)).copied().unwrap_or_default();
                        Minute {
                            minute: m * MINUTE_MS,
                            requests,
                            pageviews,
                        }
                    })
                    .collect();
                SiteNow {
                    site: names[name as usize].to_string(),
                    visitors: vs.len() as u64,
                    pages: top(names, pages, top_n),
                    sources: top(names, sources, top_n),
                    browsers: top(names, browsers, top_n),
                    per_minute,
                }
            })
            .collect();
        sites.sort_by(|a, b| b.visitors.cmp(&a.visitors).then(a.site.cmp(&b.site)));
        Snapshot {
            now: now_ms,
            window_seconds: self.settings.window_ms / 1000,
            visitors: sites.iter().map(|s| s.visitors).sum(),
            flagged_by_rate: self.flagged_total,
            sites,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Row;

    fn chunk(hits: &[(i64, i64, &str, u8)]) -> ParsedChunk {
        let mut c = ParsedChunk::default();
        let site = c.sites.intern("example.com");
        let agent = c.agents.intern(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        );
        let referrer = c.referrers.intern("news.ycombinator.com\0Hacker News");
        for (ts, visitor, path, bot) in hits {
            let path = c.paths.intern(path);
            c.rows.push(Row {
                ts: *ts,
                line: 0,
                site,
                path,
                referrer,
                agent,
                visitor: *visitor,
                status: 200,
                method: 0,
                kind: Kind::Page as u8,
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

    #[test]
    fn visitors_in_the_window_show_with_their_page_source_and_browser() {
        let mut live = LiveState::new(LiveSettings::default());
        let c = chunk(&[
            (NOW - 10_000, 1, "/a", 0),
            (NOW - 5_000, 1, "/b", 0),
            (NOW - 1_000, 2, "/b", 0),
            (NOW - 2_000, 3, "/c", 7),
            (NOW - 6 * MINUTE_MS, 4, "/old", 0),
        ]);
        live.observe(&c, NOW);
        let s = live.snapshot(NOW, None, 10);
        assert_eq!(
            s.visitors, 2,
            "bots and visitors past the window are left out"
        );
        let site = &s.sites[0];
        assert_eq!(
            site.pages,
            vec![Count {
                name: "/b".into(),
                visitors: 2
            }]
        );
        assert_eq!(site.sources[0].name, "Hacker News");
        assert_eq!(site.browsers[0].name, "Chrome");
        assert_eq!(site.per_minute.len() as i64, RATE_MINUTES);
        assert_eq!(site.per_minute.iter().map(|m| m.requests).sum::<u64>(), 5);
        // Five minutes later the window is empty.
        let later = live.snapshot(NOW + 5 * MINUTE_MS + 1, None, 10);
        assert_eq!(later.visitors, 0);
        assert!(live.snapshot(NOW, Some("other.org"), 10).sites.is_empty());
    }

    #[test]
    fn memory_stays_bounded() {
        let mut live = LiveState::new(LiveSettings::default());
        let hits: Vec<_> = (0..(MAX_VISITORS as i64 + 500))
            .map(|i| (NOW - 100_000 + i / 10, i, "/", 0))
            .collect();
        let c = chunk(&hits);
        live.observe(&c, NOW);
        assert!(live.visitors.len() <= MAX_VISITORS);
    }
}
