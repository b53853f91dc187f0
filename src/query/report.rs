//! Reports from the permanent record: the same [`Report`] as the rollups give, for any filters,
//! and the sections only the record can answer (campaigns, `utm_*` breakdowns, exit pages, the
//! weekday-by-hour grid, goals). A page or goal filter keeps whole visits (those that viewed the
//! page or reached the goal); every figure is then of those visits.

use std::collections::HashSet;
use std::hash::Hash;

use chrono::{Datelike, NaiveDate};
use foldhash::{HashMap, HashMapExt};
use rusqlite::Connection;

use super::filter::{Filter, Key};
use super::goal::Goal;
use crate::report::{Overview, Report, Row, Section};
use crate::rollup::days::day_number;
use crate::store::record::{self, Loaded, StoredVisit};

/// Sections only the record answers (they need no filter).
pub const RECORD_SECTIONS: &[&str] = &[
    "exit-pages",
    "campaigns",
    "utm-sources",
    "utm-mediums",
    "utm-contents",
    "utm-terms",
    "hours",
    "goals",
];

/// What to report.
#[derive(Clone, Debug)]
pub struct Ask<'a> {
    /// One site, or all.
    pub site: Option<&'a str>,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub until: NaiveDate,
    /// Rows per ranked section.
    pub top: usize,
    /// Sections, in order.
    pub sections: &'a [String],
    /// Filters, all of which must hold.
    pub filters: &'a [Filter],
    /// Goals known (from the configuration and the command line).
    pub goals: &'a [Goal],
}

/// A visitor of one site on one day (visitors over several days are sums of daily visitors).
type VisitorKey = (i64, i64, u32);

fn visitor_key(v: &StoredVisit) -> VisitorKey {
    (v.day, v.site, v.visitor)
}

/// Figures under one key of a section.
#[derive(Default)]
struct Tally {
    visitors: HashSet<VisitorKey>,
    visits: u64,
    pageviews: u64,
    bounces: u64,
}

impl Tally {
    fn add_visit(&mut self, v: &StoredVisit) {
        self.visitors.insert(visitor_key(v));
        self.visits += 1;
        self.pageviews += u64::from(v.pageviews);
        self.bounces += u64::from(v.pageviews == 1);
    }
}

/// The record loaded for a report, with what is decided once per string.
struct Record<'l> {
    loaded: &'l Loaded,
    /// Per filter: the string ids it was asked about, and the answer.
    matches: Vec<HashMap<i64, bool>>,
}

impl Record<'_> {
    fn text(&self, id: i64) -> &str {
        self.loaded.strings.get(&id).map_or("", String::as_str)
    }

    fn hits(&self, v: &StoredVisit) -> &[record::StoredHit] {
        &self.loaded.hits[v.hits.0..v.hits.0 + v.hits.1]
    }

    /// Whether `f` (number `i`) admits the string `id`.
    fn admits(&mut self, i: usize, f: &Filter, id: i64) -> bool {
        if let Some(m) = self.matches[i].get(&id) {
            return *m;
        }
        let m = f.pattern.matches(self.text(id));
        self.matches[i].insert(id, m);
        m
    }

    /// Whether the visit reached `goal`.
    fn reached(&self, v: &StoredVisit, goal: &Goal) -> bool {
        self.hits(v)
            .iter()
            .any(|&(path, method, status, _, _)| goal.reached_by(self.text(path), method, status))
    }

    /// Whether a visit passes every filter.
    fn passes(&mut self, v: &StoredVisit, filters: &[Filter], goals: &[Goal]) -> bool {
        for (i, f) in filters.iter().enumerate() {
            let one = |id: i64| Some(id);
            let value = match f.key {
                Key::EntryPage => one(v.entry),
                Key::ExitPage => one(v.exit),
                Key::Source => one(v.source),
                Key::UtmSource => one(v.utm[0]),
                Key::UtmMedium => one(v.utm[1]),
                Key::UtmCampaign => one(v.utm[2]),
                Key::UtmContent => one(v.utm[3]),
                Key::UtmTerm => one(v.utm[4]),
                Key::Browser => one(v.browser),
                Key::Os => one(v.os),
                Key::Device => one(v.device),
                Key::Country => one(v.country),
                Key::Page | Key::Goal => None,
            };
            let ok = match (f.key, value) {
                (Key::Page, _) => {
                    let pages: Vec<i64> =
                        self.hits(v).iter().filter(|h| h.3).map(|h| h.0).collect();
                    let any = pages.into_iter().any(|p| self.admits(i, f, p));
                    any != f.negated
                }
                (Key::Goal, _) => {
                    let any = goals
                        .iter()
                        .filter(|g| f.pattern.matches(&g.name))
                        .any(|g| self.reached(v, g));
                    any != f.negated
                }
                // An absent value (no campaign, no country) matches no pattern: `utm-medium=*`
                // keeps the visits that have one, `utm-campaign!=x` those without any too.
                (_, Some(0)) => f.negated,
                (_, Some(id)) => self.admits(i, f, id) != f.negated,
                (_, None) => unreachable!("every other key has a value"),
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

/// The visits of `[from, until]` that pass, for the site asked.
fn kept<'v>(
    rec: &mut Record<'v>,
    ask: &Ask<'_>,
    from: NaiveDate,
    until: NaiveDate,
) -> Vec<&'v StoredVisit> {
    let (a, b) = (day_number(from), day_number(until));
    let site = ask.site.and_then(|s| {
        rec.loaded
            .strings
            .iter()
            .find(|(_, t)| t.as_str() == s)
            .map(|(id, _)| *id)
    });
    let loaded = rec.loaded;
    let mut out = Vec::new();
    for v in &loaded.visits {
        if v.day < a || v.day > b {
            continue;
        }
        if ask.site.is_some() && Some(v.site) != site {
            continue;
        }
        if rec.passes(v, ask.filters, ask.goals) {
            out.push(v);
        }
    }
    out
}

fn overview(visits: &[&StoredVisit], from: NaiveDate, until: NaiveDate) -> Overview {
    let mut t = Tally::default();
    let mut duration = 0u64;
    let days = (until - from).num_days() + 1;
    let mut daily = vec![0u64; days.max(0) as usize];
    let first = day_number(from);
    for v in visits {
        t.add_visit(v);
        duration += u64::from(v.duration_s);
        if let Some(slot) = daily.get_mut((v.day - first) as usize) {
            *slot += u64::from(v.pageviews);
        }
    }
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Overview {
        visitors: t.visitors.len() as u64,
        pageviews: t.pageviews,
        visits: t.visits,
        views_per_visit: ratio(t.pageviews, t.visits),
        bounce_rate: ratio(t.bounces, t.visits),
        visit_duration_s: ratio(duration, t.visits),
        bot_hits: 0,
        daily_pageviews: daily,
    }
}

/// The `top` rows of `tallies`, largest first (ties by key).
fn ranked<K: Eq + Hash>(
    tallies: HashMap<K, Tally>,
    key: impl Fn(&K) -> String,
    values: impl Fn(&Tally) -> Vec<u64>,
    top: usize,
) -> Vec<Row> {
    let mut rows: Vec<Row> = tallies
        .iter()
        .map(|(k, t)| Row {
            key: key(k),
            values: values(t),
            rate: None,
        })
        .collect();
    rows.sort_by(|a, b| b.values.cmp(&a.values).then_with(|| a.key.cmp(&b.key)));
    rows.truncate(top);
    rows
}

fn section(
    name: &'static str,
    key: &'static str,
    columns: &[&'static str],
    rows: Vec<Row>,
    note: Option<&'static str>,
) -> Section {
    Section {
        name,
        key,
        columns: columns.to_vec(),
        rate: None,
        rows,
        note,
    }
}

/// The name a section is known by (a `'static` str from the lists of sections).
fn static_name(name: &str) -> &'static str {
    crate::report::SECTIONS
        .iter()
        .chain(RECORD_SECTIONS)
        .find(|s| **s == name)
        .copied()
        .unwrap_or("unknown")
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const HOURS: [&str; 24] = [
    "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15",
    "16", "17", "18", "19", "20", "21", "22", "23",
];

fn one_section(
    rec: &Record<'_>,
    visits: &[&StoredVisit],
    name: &str,
    ask: &Ask<'_>,
) -> Option<Section> {
    let text = |id: i64| rec.text(id).to_string();
    let by = |f: &dyn Fn(&StoredVisit) -> i64| {
        let mut m: HashMap<i64, Tally> = HashMap::new();
        for v in visits {
            m.entry(f(v)).or_default().add_visit(v);
        }
        m
    };
    let reach = |t: &Tally| vec![t.visitors.len() as u64, t.pageviews];
    let visits_cols = |t: &Tally| vec![t.visitors.len() as u64, t.visits, t.pageviews];
    let name = static_name(name);
    let top = ask.top;
    Some(match name {
        "pages" => {
            let mut m: HashMap<i64, Tally> = HashMap::new();
            for v in visits {
                for h in rec.hits(v).iter().filter(|h| h.3) {
                    let t = m.entry(h.0).or_default();
                    t.visitors.insert(visitor_key(v));
                    t.pageviews += 1;
                }
            }
            section(
                name,
                "page",
                &["visitors", "pageviews"],
                ranked(m, |k| text(*k), reach, top),
                None,
            )
        }
        "entry-pages" => section(
            name,
            "entry page",
            &["visits", "bounces"],
            ranked(
                by(&|v| v.entry),
                |k| text(*k),
                |t| vec![t.visits, t.bounces],
                top,
            ),
            None,
        ),
        "exit-pages" => section(
            name,
            "exit page",
            &["visits", "pageviews"],
            ranked(
                by(&|v| v.exit),
                |k| text(*k),
                |t| vec![t.visits, t.pageviews],
                top,
            ),
            None,
        ),
        "sources" => section(
            name,
            "source",
            &["visitors", "visits", "pageviews"],
            ranked(by(&|v| v.source), |k| text(*k), visits_cols, top),
            None,
        ),
        "browsers" | "os" | "devices" | "countries" => {
            let (label, f): (&'static str, &dyn Fn(&StoredVisit) -> i64) = match name {
                "browsers" => ("browser", &|v| v.browser),
                "os" => ("os", &|v| v.os),
                "devices" => ("device", &|v| v.device),
                _ => ("country", &|v| v.country),
            };
            let mut m = by(f);
            m.remove(&0); // unknown countries are no row, as in the rollups
            section(
                name,
                label,
                &["visitors", "pageviews"],
                ranked(m, |k| text(*k), reach, top),
                None,
            )
        }
        "campaigns" => {
            let mut m: HashMap<(i64, i64, i64), Tally> = HashMap::new();
            for v in visits.iter().filter(|v| v.utm[2] != 0) {
                m.entry((v.utm[2], v.utm[0], v.utm[1]))
                    .or_default()
                    .add_visit(v);
            }
            let key = |k: &(i64, i64, i64)| {
                let (c, s, md) = (rec.text(k.0), rec.text(k.1), rec.text(k.2));
                match (s.is_empty(), md.is_empty()) {
                    (true, true) => c.to_string(),
                    (false, true) => format!("{c} ({s})"),
                    (true, false) => format!("{c} ({md})"),
                    (false, false) => format!("{c} ({s} / {md})"),
                }
            };
            section(
                name,
                "campaign (source / medium)",
                &["visitors", "visits", "pageviews"],
                ranked(m, key, visits_cols, top),
                Some("visits whose first page carried utm_campaign"),
            )
        }
        "utm-sources" | "utm-mediums" | "utm-contents" | "utm-terms" => {
            let (i, label) = match name {
                "utm-sources" => (0, "utm_source"),
                "utm-mediums" => (1, "utm_medium"),
                "utm-contents" => (3, "utm_content"),
                _ => (4, "utm_term"),
            };
            let mut m = by(&|v| v.utm[i]);
            m.remove(&0);
            section(
                name,
                label,
                &["visitors", "visits", "pageviews"],
                ranked(m, |k| text(*k), visits_cols, top),
                None,
            )
        }
        "hours" => {
            let mut grid = [[0u64; 24]; 7];
            for v in visits {
                let date = NaiveDate::from_num_days_from_ce_opt(v.day as i32 + 719_163);
                let Some(wd) = date.map(|d| d.weekday().num_days_from_monday() as usize) else {
                    continue;
                };
                for h in rec.hits(v).iter().filter(|h| h.3) {
                    grid[wd][usize::from(h.4).min(23)] += 1;
                }
            }
            let rows = WEEKDAYS
                .iter()
                .zip(grid)
                .map(|(d, hours)| Row {
                    key: d.to_string(),
                    values: hours.to_vec(),
                    rate: None,
                })
                .collect();
            section(
                name,
                "weekday",
                &HOURS,
                rows,
                Some("page views by weekday and clock hour of the database's time zone"),
            )
        }
        "goals" => {
            let all: HashSet<VisitorKey> = visits.iter().map(|v| visitor_key(v)).collect();
            let rows = ask
                .goals
                .iter()
                .map(|g| {
                    let mut who = HashSet::new();
                    let mut completions = 0u64;
                    for v in visits {
                        let n = rec
                            .hits(v)
                            .iter()
                            .filter(|&&(p, m, s, _, _)| g.reached_by(rec.text(p), m, s))
                            .count() as u64;
                        if n > 0 {
                            who.insert(visitor_key(v));
                            completions += n;
                        }
                    }
                    Row {
                        key: g.name.clone(),
                        values: vec![who.len() as u64, completions],
                        rate: Some(if all.is_empty() {
                            0.0
                        } else {
                            who.len() as f64 / all.len() as f64
                        }),
                    }
                })
                .collect();
            Section {
                name,
                key: "goal",
                columns: vec!["visitors", "completions"],
                rate: Some("conversion"),
                rows,
                note: if ask.goals.is_empty() {
                    Some("no goals: add [[goal]] tables to the configuration, or --goal NAME=PATH")
                } else {
                    None
                },
            }
        }
        _ => return None,
    })
}

/// Whether a report needs the record (filters, or a section only it answers).
pub fn needs_record(sections: &[String], filters: &[Filter]) -> bool {
    !filters.is_empty()
        || sections
            .iter()
            .any(|s| RECORD_SECTIONS.contains(&s.as_str()))
}

/// Reads a report from the record. `sections` other than the record's and the ranked ones
/// (`status`, `not-found`, `bots`, `crawlers`: hits, not visits) are left out.
pub fn read(conn: &Connection, ask: &Ask<'_>) -> rusqlite::Result<Report> {
    let len = (ask.until - ask.from).num_days() + 1;
    let prev_from = ask.from - chrono::Duration::days(len);
    let prev_until = ask.from - chrono::Duration::days(1);
    let loaded = record::load(conn, day_number(prev_from), day_number(ask.until))?;
    let mut rec = Record {
        loaded: &loaded,
        matches: vec![HashMap::new(); ask.filters.len()],
    };
    let visits = kept(&mut rec, ask, ask.from, ask.until);
    let days_with_data = loaded
        .visits
        .iter()
        .filter(|v| v.day >= day_number(ask.from))
        .map(|v| v.day)
        .collect::<HashSet<_>>()
        .len() as u64;
    let mut report = Report {
        site: ask.site.map(str::to_string),
        from: ask.from,
        until: ask.until,
        days_with_data,
        overview: None,
        previous: None,
        sections: Vec::new(),
        filters: Vec::new(),
    };
    for name in ask.sections {
        if name == "overview" {
            report.overview = Some(overview(&visits, ask.from, ask.until));
            let before = kept(&mut rec, ask, prev_from, prev_until);
            report.previous = Some(overview(&before, prev_from, prev_until));
        } else if let Some(s) = one_section(&rec, &visits, name, ask) {
            report.sections.push(s);
        }
    }
    Ok(report)
}
