//! Scores what logtally stored against the truth of every line of a log (a labelled real log, or
//! the traffic model's own labels): human page views and visitors reported against true ones,
//! bot page views counted as human, human page views lost, and the share caught per class.
//!
//! Events are matched to lines by order: one file imported into a fresh database stores one event
//! per parsed line, in line order (ids ascend).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::Path;

use logtally::classify::Kind;
use logtally::parse::Format;
use rusqlite::Connection;

/// The truth about one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truth {
    /// Sent by a person's browser.
    pub human: bool,
    /// A person's page view.
    pub pageview: bool,
    /// `person`, `owner`, or the bot's class.
    pub class: String,
}

impl From<super::genlog::model::LineTruth> for Truth {
    fn from(t: super::genlog::model::LineTruth) -> Truth {
        Truth {
            human: t.human,
            pageview: t.pageview,
            class: t.class.to_string(),
        }
    }
}

/// Counts per class: page-like requests logtally saw (kind page) and those it counted as human.
#[derive(Clone, Debug, Default)]
pub struct ClassRow {
    /// Events of the class that logtally classed as page loads.
    pub pages: u64,
    /// Of those, left human.
    pub counted: u64,
}

/// The whole comparison.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Lines read and lines logtally parsed.
    pub lines: u64,
    pub parsed: u64,
    /// True human page views, reported human page views, and both.
    pub truth_pageviews: u64,
    pub reported_pageviews: u64,
    pub both: u64,
    /// Reported page views of bots.
    pub bot_pageviews_counted: u64,
    /// Reported page views of people on lines that are not page views (an API call counted).
    pub non_pages_counted: u64,
    /// True page views not reported: flagged as a bot's, or not taken for a page.
    pub lost_as_bot: u64,
    pub lost_as_non_page: u64,
    /// Client-days (address, agent, day) with a page view: true, reported, both, reported of bots.
    pub truth_visitors: u64,
    pub reported_visitors: u64,
    pub visitors_both: u64,
    pub bot_visitors_counted: u64,
    /// Per class.
    pub classes: BTreeMap<String, ClassRow>,
    /// Line numbers (1-based) of the bots' page views counted as human.
    pub bot_pageview_lines: Vec<usize>,
    /// Line numbers of the people's page views lost, with the reason code logtally gave.
    pub lost_lines: Vec<(usize, u8)>,
    /// Line numbers of people's requests counted as page views that are none.
    pub non_page_lines: Vec<usize>,
    /// Bots' page hits flagged, by the reason code logtally gave.
    pub caught_by_reason: BTreeMap<u8, u64>,
}

impl Table {
    fn ratio(a: u64, b: u64) -> f64 {
        if b == 0 {
            if a == 0 {
                1.0
            } else {
                f64::INFINITY
            }
        } else {
            a as f64 / b as f64
        }
    }

    /// Reported human page views over true ones.
    pub fn pageview_ratio(&self) -> f64 {
        Self::ratio(self.reported_pageviews, self.truth_pageviews)
    }

    /// Reported visitors over true ones.
    pub fn visitor_ratio(&self) -> f64 {
        Self::ratio(self.reported_visitors, self.truth_visitors)
    }

    /// Share of reported page views that are bots'.
    pub fn bot_share(&self) -> f64 {
        if self.reported_pageviews == 0 {
            0.0
        } else {
            self.bot_pageviews_counted as f64 / self.reported_pageviews as f64
        }
    }

    /// Share of true page views lost.
    pub fn lost_share(&self) -> f64 {
        if self.truth_pageviews == 0 {
            0.0
        } else {
            (self.lost_as_bot + self.lost_as_non_page) as f64 / self.truth_pageviews as f64
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |x: f64| (x - 1.0) * 100.0;
        writeln!(f, "lines {} (parsed {})", self.lines, self.parsed)?;
        writeln!(
            f,
            "human page views: truth {}  reported {}  ({:+.1}%)",
            self.truth_pageviews,
            self.reported_pageviews,
            pct(self.pageview_ratio())
        )?;
        writeln!(
            f,
            "  counted and true {}; bots' counted {} ({:.1}% of reported); not-a-page counted {}",
            self.both,
            self.bot_pageviews_counted,
            self.bot_share() * 100.0,
            self.non_pages_counted
        )?;
        writeln!(
            f,
            "  lost {} ({:.1}% of truth): flagged as bot {}, not taken for a page {}",
            self.lost_as_bot + self.lost_as_non_page,
            self.lost_share() * 100.0,
            self.lost_as_bot,
            self.lost_as_non_page
        )?;
        writeln!(
            f,
            "visitors: truth {}  reported {}  ({:+.1}%); both {}, bots' counted {}",
            self.truth_visitors,
            self.reported_visitors,
            pct(self.visitor_ratio()),
            self.visitors_both,
            self.bot_visitors_counted
        )?;
        let mut lost: BTreeMap<&str, u64> = BTreeMap::new();
        for (_, code) in &self.lost_lines {
            let name = logtally::classify::bots::Reason::from_code(*code).map_or("?", |r| r.name());
            *lost.entry(name).or_default() += 1;
        }
        if !lost.is_empty() {
            let list: Vec<String> = lost.iter().map(|(r, n)| format!("{r} {n}")).collect();
            writeln!(f, "  lost by reason: {}", list.join(", "))?;
        }
        writeln!(
            f,
            "{:<22} {:>10} {:>10} {:>8}",
            "class", "page hits", "as human", "caught"
        )?;
        for (class, row) in &self.classes {
            let caught = if row.pages == 0 {
                String::from("-")
            } else {
                format!(
                    "{:.1}%",
                    100.0 * (row.pages - row.counted) as f64 / row.pages as f64
                )
            };
            writeln!(
                f,
                "{class:<22} {:>10} {:>10} {caught:>8}",
                row.pages, row.counted
            )?;
        }
        Ok(())
    }
}

/// A client-day: (address, agent, UTC day number).
type ClientDay = (Vec<u8>, Vec<u8>, i64);

/// The client-day of a raw line, or `None` when `format` cannot read it.
fn client_day(format: &Format, raw: &[u8]) -> Option<ClientDay> {
    let hit = format.parse(raw).ok()?;
    Some((
        hit.addr.to_vec(),
        hit.user_agent.as_deref().unwrap_or(b"-").to_vec(),
        hit.ts_ms.div_euclid(86_400_000),
    ))
}

/// One parsed line: its number, client-day and truth.
struct Line<'t> {
    number: usize,
    client_day: ClientDay,
    truth: &'t Truth,
}

/// Compares the events of `db` (one import of `log` read as `format`) with `truth` (one entry per
/// line of `log`, blank lines included).
pub fn score(log: &[u8], format: &Format, truth: &[Truth], db: &Path) -> Table {
    let mut table = Table::default();
    let mut lines: Vec<Line> = Vec::new();
    for (i, raw) in log.split(|c| *c == b'\n').enumerate() {
        if i == truth.len() {
            break;
        }
        table.lines += 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some(client_day) = client_day(format, raw) {
            lines.push(Line {
                number: i + 1,
                client_day,
                truth: &truth[i],
            });
        }
    }
    table.parsed = lines.len() as u64;
    let conn = Connection::open(db).expect("open the database");
    let events: Vec<(i64, u8, u8)> = conn
        .prepare("SELECT visitor, kind, bot FROM events ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events.len(),
        lines.len(),
        "one event per parsed line (a fresh database and one import)"
    );
    let mut truth_days: HashSet<&ClientDay> = HashSet::new();
    let mut reported_days: HashMap<&ClientDay, bool> = HashMap::new();
    for (line, (_, kind, bot)) in lines.iter().zip(&events) {
        let t = line.truth;
        let counted = *bot == 0 && *kind == Kind::Page as u8;
        let row = table.classes.entry(t.class.clone()).or_default();
        if *kind == Kind::Page as u8 {
            row.pages += 1;
            row.counted += u64::from(*bot == 0);
            if !t.human && *bot != 0 {
                *table.caught_by_reason.entry(*bot).or_default() += 1;
            }
        }
        table.truth_pageviews += u64::from(t.pageview);
        table.reported_pageviews += u64::from(counted);
        match (t.pageview, counted) {
            (true, true) => table.both += 1,
            (false, true) if !t.human => {
                table.bot_pageviews_counted += 1;
                table.bot_pageview_lines.push(line.number);
            }
            (false, true) => {
                table.non_pages_counted += 1;
                table.non_page_lines.push(line.number);
            }
            (true, false) if *bot != 0 => {
                table.lost_as_bot += 1;
                table.lost_lines.push((line.number, *bot));
            }
            (true, false) => table.lost_as_non_page += 1,
            (false, false) => {}
        }
        if t.pageview {
            truth_days.insert(&line.client_day);
        }
        if counted {
            reported_days.insert(&line.client_day, t.human);
        }
    }
    table.truth_visitors = truth_days.len() as u64;
    table.reported_visitors = reported_days.len() as u64;
    table.visitors_both = reported_days
        .keys()
        .filter(|k| truth_days.contains(*k))
        .count() as u64;
    table.bot_visitors_counted = reported_days.values().filter(|human| !**human).count() as u64;
    table
}

/// Truth per line from a labels file (`benches/labels/*.tsv`: one row per client-day, keyed by
/// its first line) and the log it labels.
pub fn truth_from_labels(log: &[u8], format: &Format, labels: &str) -> Vec<Truth> {
    struct Label {
        human: bool,
        class: String,
        pageviews: HashSet<usize>,
    }
    let mut by_first: HashMap<usize, Label> = HashMap::new();
    for row in labels.lines().skip(1) {
        let f: Vec<&str> = row.split('\t').collect();
        if f.len() < 7 {
            continue;
        }
        by_first.insert(
            f[0].parse().expect("first_line"),
            Label {
                human: f[3] == "human",
                class: f[4].to_string(),
                pageviews: f[6]
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| s.trim().parse().expect("a line number"))
                    .collect(),
            },
        );
    }
    let raw_lines: Vec<&[u8]> = log.split(|c| *c == b'\n').collect();
    let mut first_of: HashMap<ClientDay, usize> = HashMap::new();
    let mut keys: Vec<Option<ClientDay>> = Vec::with_capacity(raw_lines.len());
    for (i, raw) in raw_lines.iter().enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let key = client_day(format, raw);
        if let Some(k) = &key {
            first_of.entry(k.clone()).or_insert(i + 1);
        }
        keys.push(key);
    }
    let unknown = Label {
        human: false,
        class: "unlabelled".into(),
        pageviews: HashSet::new(),
    };
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let label = key
                .as_ref()
                .and_then(|k| by_first.get(&first_of[k]))
                .unwrap_or(&unknown);
            Truth {
                human: label.human,
                pageview: label.pageviews.contains(&(i + 1)),
                class: label.class.clone(),
            }
        })
        .collect()
}
