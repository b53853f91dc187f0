//! The figures operators scrape at `/metrics`, in OpenMetrics text (prometheus-client: a
//! maintained encoder of the format, so names, types, `_total` suffixes and `# EOF` are right):
//! what `tail` read, rejected and committed, and what `serve` answered.
//!
//! Labels are bounded whatever the logs hold: reject reasons and bot reasons are fixed lists,
//! sites are the first [`MAX_SITE_LABELS`] seen (the rest count as `other`), and a path is never a
//! label.

use std::collections::HashSet;
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::classify::bots::Reason;
use crate::classify::kind::Kind;
use crate::model::ParsedChunk;

/// Distinct sites named in labels; later ones are counted under `other`.
pub const MAX_SITE_LABELS: usize = 64;

/// A site.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SiteLabel {
    /// The site's name, or `other`.
    pub site: String,
}

/// A site and the reason its bot hits were flagged for.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BotLabel {
    /// The site's name, or `other`.
    pub site: String,
    /// The bot reason, as `stats bots` names it (`ua-search`...).
    pub reason: String,
}

/// A reject reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectLabel {
    /// The reason's code (`bad-timestamp`...).
    pub reason: String,
}

/// An HTTP status class.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    /// `2xx`, `3xx`, `4xx` or `5xx`.
    pub class: String,
}

/// Site names as labels, bounded.
#[derive(Debug, Default)]
struct Sites(Mutex<HashSet<String>>);

impl Sites {
    fn label(&self, site: &str) -> String {
        let mut known = self.0.lock().expect("site labels lock");
        if known.contains(site) {
            return site.to_string();
        }
        if known.len() < MAX_SITE_LABELS {
            known.insert(site.to_string());
            return site.to_string();
        }
        "other".to_string()
    }
}

/// What `tail` read and committed.
#[derive(Debug)]
pub struct Ingest {
    lines_read: Counter,
    rejected: Family<RejectLabel, Counter>,
    lines_committed: Counter,
    hits_committed: Counter,
    commits: Counter,
    commits_failed: Counter,
    commit_seconds: Histogram,
    lag_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    waiting_rows: Gauge,
    human_pageviews: Family<SiteLabel, Counter>,
    bot_hits: Family<BotLabel, Counter>,
    sites: Sites,
}

impl Default for Ingest {
    fn default() -> Self {
        Ingest {
            lines_read: Counter::default(),
            rejected: Family::default(),
            lines_committed: Counter::default(),
            hits_committed: Counter::default(),
            commits: Counter::default(),
            commits_failed: Counter::default(),
            // 1 ms .. about 16 s.
            commit_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            lag_seconds: Gauge::default(),
            waiting_rows: Gauge::default(),
            human_pageviews: Family::default(),
            bot_hits: Family::default(),
            sites: Sites::default(),
        }
    }
}

impl Ingest {
    /// Adds every figure to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("logtally_tail");
        r.register(
            "lines_read",
            "Log lines read (blank lines included)",
            self.lines_read.clone(),
        );
        r.register(
            "lines_rejected",
            "Log lines that are no access entry, by reason",
            self.rejected.clone(),
        );
        r.register(
            "lines_committed",
            "Log lines whose hits are committed to the database",
            self.lines_committed.clone(),
        );
        r.register(
            "hits_committed",
            "Hits committed to the database",
            self.hits_committed.clone(),
        );
        r.register(
            "commits",
            "Batched transactions committed",
            self.commits.clone(),
        );
        r.register(
            "commits_failed",
            "Commits the database refused (busy, locked, full); their rows are kept and retried",
            self.commits_failed.clone(),
        );
        r.register(
            "commit_seconds",
            "Time one batched commit took",
            self.commit_seconds.clone(),
        );
        r.register(
            "lag_seconds",
            "Time from reading the oldest line of the last commit to that commit",
            self.lag_seconds.clone(),
        );
        r.register(
            "waiting_rows",
            "Hits read and waiting for their commit",
            self.waiting_rows.clone(),
        );
        r.register(
            "human_pageviews",
            "Page views committed that no rule of tail flagged as a bot's, by site (rollup may flag more)",
            self.human_pageviews.clone(),
        );
        r.register(
            "bot_hits",
            "Hits committed that tail flagged as a bot's, by site and reason",
            self.bot_hits.clone(),
        );
    }

    /// A chunk was read.
    pub fn read(&self, chunk: &ParsedChunk) {
        self.lines_read.inc_by(chunk.lines);
        for (reason, t) in &chunk.tally.reasons {
            self.rejected
                .get_or_create(&RejectLabel {
                    reason: reason.code().to_string(),
                })
                .inc_by(t.count);
        }
    }

    /// `chunks` were committed in one transaction that took `took` seconds, `lag_s` after their
    /// oldest line was read.
    pub fn committed<'a>(
        &self,
        chunks: impl IntoIterator<Item = &'a ParsedChunk>,
        took_s: f64,
        lag_s: f64,
    ) {
        self.commits.inc();
        self.commit_seconds.observe(took_s);
        self.lag_seconds.set(lag_s);
        self.waiting_rows.set(0);
        for chunk in chunks {
            self.lines_committed.inc_by(chunk.lines);
            self.hits_committed.inc_by(chunk.rows.len() as u64);
            // Per chunk first: a few label look-ups per chunk, not one per row.
            let mut pages: foldhash::HashMap<u32, u64> = Default::default();
            let mut bots: foldhash::HashMap<(u32, u8), u64> = Default::default();
            for row in &chunk.rows {
                if row.bot != 0 {
                    *bots.entry((row.site, row.bot)).or_default() += 1;
                } else if row.kind == Kind::Page as u8 {
                    *pages.entry(row.site).or_default() += 1;
                }
            }
            let site = |id: u32| {
                self.sites.label(
                    chunk
                        .sites
                        .items
                        .get(id as usize)
                        .map_or("", String::as_str),
                )
            };
            for (id, n) in pages {
                self.human_pageviews
                    .get_or_create(&SiteLabel { site: site(id) })
                    .inc_by(n);
            }
            for ((id, bot), n) in bots {
                let reason = Reason::from_code(bot).map_or("other", Reason::name);
                self.bot_hits
                    .get_or_create(&BotLabel {
                        site: site(id),
                        reason: reason.to_string(),
                    })
                    .inc_by(n);
            }
        }
    }

    /// A commit was refused; `waiting` rows are kept.
    pub fn commit_failed(&self, waiting: usize) {
        self.commits_failed.inc();
        self.waiting_rows.set(waiting as i64);
    }

    /// Rows read and not yet committed.
    pub fn waiting(&self, rows: usize) {
        self.waiting_rows.set(rows as i64);
    }
}

/// What `serve` answered.
#[derive(Debug, Default)]
pub struct Serve {
    /// Answers by status class.
    pub answers: Family<StatusLabel, Counter>,
    /// Answers taken from memory.
    pub cache_hits: Counter,
    /// Answers computed.
    pub computed: Counter,
    /// Requests answered 503 because the workers and their queue were full or took too long.
    pub shed: Counter,
    /// Connections open now.
    pub connections: Gauge,
    /// Connections refused at once because too many were open.
    pub connections_refused: Counter,
    /// Report computations running now.
    pub workers_busy: Gauge,
    /// Report computations waiting for a worker.
    pub workers_waiting: Gauge,
    /// Bytes of answers held in memory.
    pub cache_bytes: Gauge,
}

impl Serve {
    /// Adds every figure to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("logtally_serve");
        r.register(
            "answers",
            "HTTP answers by status class",
            self.answers.clone(),
        );
        r.register(
            "cache_hits",
            "Answers taken from memory",
            self.cache_hits.clone(),
        );
        r.register(
            "computed",
            "Answers computed (each distinct view once per change of its data)",
            self.computed.clone(),
        );
        r.register(
            "shed",
            "Requests answered 503 because every worker was busy and the queue full",
            self.shed.clone(),
        );
        r.register("connections", "Connections open", self.connections.clone());
        r.register(
            "connections_refused",
            "Connections refused at once because too many were open",
            self.connections_refused.clone(),
        );
        r.register(
            "workers_busy",
            "Report computations running",
            self.workers_busy.clone(),
        );
        r.register(
            "workers_waiting",
            "Report computations waiting for a worker",
            self.workers_waiting.clone(),
        );
        r.register(
            "cache_bytes",
            "Bytes of answers held in memory",
            self.cache_bytes.clone(),
        );
    }

    /// Counts an answer of status `code`.
    pub fn answered(&self, code: u16) {
        let class = format!("{}xx", (code / 100).clamp(1, 5));
        self.answers.get_or_create(&StatusLabel { class }).inc();
    }
}

/// `registry` as OpenMetrics text.
pub fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, registry).expect("writing to a String");
    out
}

/// The content type of [`encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LocalDict, Row};

    fn row(site: u32, kind: Kind, bot: u8) -> Row {
        Row {
            ts: 0,
            line: 0,
            site,
            path: 0,
            referrer: 0,
            agent: 0,
            visitor: 0,
            status: 200,
            method: 1,
            kind: kind as u8,
            bot,
            bytes: 0,
            duration_us: 0,
            country: 0,
            origin: 0,
            traits: 0,
        }
    }

    #[test]
    fn committed_chunks_count_people_and_bots_by_site_under_bounded_labels() {
        let m = Ingest::default();
        let mut reg = Registry::default();
        m.register(&mut reg);
        let mut sites = LocalDict::default();
        let a = sites.intern("a.example");
        let mut chunk = ParsedChunk {
            sites,
            lines: 5,
            ..Default::default()
        };
        chunk.rows = vec![
            row(a, Kind::Page, 0),
            row(a, Kind::Page, 0),
            row(a, Kind::Asset, 0),
            row(a, Kind::Page, Reason::SearchCrawler as u8),
        ];
        m.read(&chunk);
        m.committed([&chunk], 0.004, 1.5);
        let text = encode(&reg);
        for line in [
            "logtally_tail_lines_read_total 5",
            "logtally_tail_lines_committed_total 5",
            "logtally_tail_hits_committed_total 4",
            "logtally_tail_human_pageviews_total{site=\"a.example\"} 2",
            "logtally_tail_bot_hits_total{site=\"a.example\",reason=\"ua-search\"} 1",
            "logtally_tail_lag_seconds 1.5",
            "logtally_tail_commit_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
        // A log naming ever more sites cannot grow the labels without bound.
        for i in 0..(MAX_SITE_LABELS + 10) {
            m.sites.label(&format!("s{i}.example"));
        }
        assert_eq!(m.sites.label("new.example"), "other");
        assert_eq!(m.sites.label("a.example"), "a.example");
    }

    #[test]
    fn answers_are_counted_by_status_class() {
        let m = Serve::default();
        let mut reg = Registry::default();
        m.register(&mut reg);
        for code in [200, 200, 304, 404, 503] {
            m.answered(code);
        }
        let text = encode(&reg);
        assert!(
            text.contains("logtally_serve_answers_total{class=\"2xx\"} 2"),
            "{text}"
        );
        assert!(text.contains("logtally_serve_answers_total{class=\"5xx\"} 1"));
    }
}
