//! Reports from the permanent record: the same [`Report`] as the rollups give, for any filters,
//! and the sections only the record can answer (campaigns, `utm_*` breakdowns, exit pages, the
//! weekday-by-hour grid, goals). A page or goal filter keeps whole visits (those that viewed the
//! page or reached the goal); every figure is then of those visits.

use std::hash::Hash;

use chrono::{Datelike, NaiveDate};
use foldhash::{HashMap, HashMapExt};
use rusqlite::Connection;

use super::filter::{Filter, Key};
use super::goal::Goal;
use crate::report::{Overview, Report, Row, Section};
use crate::rollup::days::day_number;
use crate::store::record::{self, Day, StoredHit, StoredVisit};

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

/// Which string of a visit a section ranks.
type Pick<'f> = &'f dyn Fn(&Day, &StoredVisit) -> u32;

/// A visitor of one site on one day (visitors over several days are sums of daily visitors).
type VisitorKey = (i64, u32, u32);

/// Figures under one key of a section. Visitors are counted by the last visitor seen: a
/// visitor's visits come one after another in a day's record, so a new key means a new visitor.
#[derive(Clone, Copy, Default)]
struct Tally {
    last: Option<VisitorKey>,
    visitors: u64,
    visits: u64,
    pageviews: u64,
    bounces: u64,
}

impl Tally {
    #[inline]
    fn see(&mut self, who: VisitorKey) {
        if self.last != Some(who) {
            self.last = Some(who);
            self.visitors += 1;
        }
    }

    #[inline]
    fn add_visit(&mut self, who: VisitorKey, v: &StoredVisit) {
        self.see(who);
        self.visits += 1;
        self.pageviews += u64::from(v.pageviews);
        self.bounces += u64::from(v.pageviews == 1);
    }
}

/// Tallies by string id, in a vector (ids are dense).
struct ById(Vec<Tally>);

impl ById {
    fn new(strings: usize) -> ById {
        ById(vec![Tally::default(); strings])
    }

    #[inline]
    fn at(&mut self, id: u32) -> &mut Tally {
        let i = id as usize;
        if i >= self.0.len() {
            self.0.resize(i + 1, Tally::default());
        }
        &mut self.0[i]
    }

    fn into_map(self) -> HashMap<u32, Tally> {
        self.0
            .into_iter()
            .enumerate()
            .filter(|(_, t)| t.visits > 0 || t.pageviews > 0)
            .map(|(i, t)| (i as u32, t))
            .collect()
    }
}

/// Answers about strings, decided once per string id.
struct Memo(Vec<u8>);

impl Memo {
    fn new(strings: usize) -> Memo {
        Memo(vec![2; strings])
    }

    #[inline]
    fn get(&mut self, id: u32, decide: impl FnOnce() -> bool) -> bool {
        let i = id as usize;
        if i >= self.0.len() {
            self.0.resize(i + 1, 2);
        }
        if self.0[i] == 2 {
            self.0[i] = u8::from(decide());
        }
        self.0[i] == 1
    }
}

/// The loaded record and what is decided once per string.
struct Record<'a> {
    days: Vec<Day>,
    strings: Vec<String>,
    filters: &'a [Filter],
    goals: &'a [Goal],
    /// Per filter: which string ids its pattern matches.
    matches: Vec<Memo>,
    /// Per goal: which paths its pattern matches.
    goal_paths: Vec<Memo>,
    site: Option<u32>,
}

impl Record<'_> {
    fn text(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", String::as_str)
    }

    fn matches(&mut self, i: usize, id: u32) -> bool {
        let (strings, filters) = (&self.strings, self.filters);
        self.matches[i].get(id, || {
            filters[i]
                .pattern
                .matches(strings.get(id as usize).map_or("", String::as_str))
        })
    }

    /// Whether one of `hits` reaches goal `g`.
    fn reached(&mut self, g: usize, hits: &[StoredHit]) -> bool {
        self.completions(g, hits) > 0
    }

    /// How many of `hits` reach goal `g`.
    fn completions(&mut self, g: usize, hits: &[StoredHit]) -> u64 {
        let goal = &self.goals[g];
        let strings = &self.strings;
        let memo = &mut self.goal_paths[g];
        hits.iter()
            .filter(|h| {
                goal.reached_by_request(h.method, h.status)
                    && memo.get(h.path, || {
                        goal.path
                            .matches(strings.get(h.path as usize).map_or("", String::as_str))
                    })
            })
            .count() as u64
    }

    /// Which profiles of a day pass the filters that look at profiles.
    fn profiles_pass(&mut self, day: usize) -> Vec<bool> {
        let n = self.days[day].profiles.len();
        (0..n)
            .map(|p| {
                let prof = self.days[day].profiles[p];
                if self.site.is_some_and(|s| s != prof.site) {
                    return false;
                }
                (0..self.filters.len()).all(|i| {
                    let f = &self.filters[i];
                    let id = match f.key {
                        Key::Source => prof.source,
                        Key::UtmSource => prof.utm[0],
                        Key::UtmMedium => prof.utm[1],
                        Key::UtmCampaign => prof.utm[2],
                        Key::UtmContent => prof.utm[3],
                        Key::UtmTerm => prof.utm[4],
                        Key::Browser => prof.browser,
                        Key::Os => prof.os,
                        Key::Device => prof.device,
                        Key::Country => prof.country,
                        Key::Page | Key::Goal | Key::EntryPage | Key::ExitPage => return true,
                    };
                    // An absent value (no campaign, no country) matches no pattern:
                    // `utm-medium=*` keeps the visits that have one, `utm-campaign!=x` those
                    // without any too.
                    if id == 0 {
                        return f.negated;
                    }
                    let f_negated = f.negated;
                    self.matches(i, id) != f_negated
                })
            })
            .collect()
    }

    /// Whether a visit (of a profile that passed) passes the filters that look at its pages
    /// and goals.
    fn visit_passes(&mut self, day: usize, v: &StoredVisit) -> bool {
        for i in 0..self.filters.len() {
            let (key, negated) = (self.filters[i].key, self.filters[i].negated);
            let ok = match key {
                Key::EntryPage => self.matches(i, v.entry) != negated,
                Key::ExitPage => self.matches(i, v.exit) != negated,
                Key::Page => {
                    let (a, b) = (v.hits.0 as usize, v.hits.1 as usize);
                    let any = (a..b).any(|h| {
                        let hit = self.days[day].hits[h];
                        hit.page && self.matches(i, hit.path)
                    });
                    any != negated
                }
                Key::Goal => {
                    let hits: Vec<StoredHit> =
                        self.days[day].hits[v.hits.0 as usize..v.hits.1 as usize].to_vec();
                    let any = (0..self.goals.len()).any(|g| {
                        self.filters[i].pattern.matches(&self.goals[g].name)
                            && self.reached(g, &hits)
                    });
                    any != negated
                }
                _ => true,
            };
            if !ok {
                return false;
            }
        }
        true
    }

    /// The visits of `[from, until]` that pass: (day index, visit index).
    fn kept(&mut self, from: NaiveDate, until: NaiveDate) -> Vec<(u32, u32)> {
        let (a, b) = (day_number(from), day_number(until));
        let visit_filters = self.filters.iter().any(|f| {
            matches!(
                f.key,
                Key::Page | Key::Goal | Key::EntryPage | Key::ExitPage
            )
        });
        let mut out = Vec::new();
        for d in 0..self.days.len() {
            if self.days[d].day < a || self.days[d].day > b {
                continue;
            }
            let pass = self.profiles_pass(d);
            for i in 0..self.days[d].visits.len() {
                let v = self.days[d].visits[i];
                if pass[v.profile as usize] && (!visit_filters || self.visit_passes(d, &v)) {
                    out.push((d as u32, i as u32));
                }
            }
        }
        out
    }

    fn visit(&self, at: (u32, u32)) -> (&Day, &StoredVisit) {
        let day = &self.days[at.0 as usize];
        (day, &day.visits[at.1 as usize])
    }
}

fn who(day: &Day, v: &StoredVisit) -> VisitorKey {
    (day.day, day.profiles[v.profile as usize].site, v.visitor)
}

fn overview(rec: &Record<'_>, kept: &[(u32, u32)], from: NaiveDate, until: NaiveDate) -> Overview {
    let mut t = Tally::default();
    let mut duration = 0u64;
    let days = (until - from).num_days() + 1;
    let mut daily = vec![0u64; days.max(0) as usize];
    let first = day_number(from);
    for &at in kept {
        let (day, v) = rec.visit(at);
        t.add_visit(who(day, v), v);
        duration += u64::from(v.duration_s);
        if let Some(slot) = daily.get_mut((day.day - first) as usize) {
            *slot += u64::from(v.pageviews);
        }
    }
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Overview {
        visitors: t.visitors,
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
    rec: &mut Record<'_>,
    kept: &[(u32, u32)],
    name: &str,
    ask: &Ask<'_>,
) -> Option<Section> {
    let n = rec.strings.len();
    let by = |rec: &Record<'_>, f: Pick<'_>| {
        let mut m = ById::new(n);
        for &at in kept {
            let (day, v) = rec.visit(at);
            m.at(f(day, v)).add_visit(who(day, v), v);
        }
        let mut map = m.into_map();
        map.remove(&0); // absent values (no campaign, no country) are no row
        map
    };
    let reach = |t: &Tally| vec![t.visitors, t.pageviews];
    let visits_cols = |t: &Tally| vec![t.visitors, t.visits, t.pageviews];
    let name = static_name(name);
    let top = ask.top;
    let prof = |d: &Day, v: &StoredVisit| d.profiles[v.profile as usize];
    let rows = |rec: &Record<'_>, m: HashMap<u32, Tally>, values: &dyn Fn(&Tally) -> Vec<u64>| {
        ranked(m, |k| rec.text(*k).to_string(), values, top)
    };
    Some(match name {
        "pages" => {
            let mut m = ById::new(n);
            for &at in kept {
                let (day, v) = rec.visit(at);
                let w = who(day, v);
                for h in &day.hits[v.hits.0 as usize..v.hits.1 as usize] {
                    if h.page {
                        let t = m.at(h.path);
                        t.see(w);
                        t.pageviews += 1;
                    }
                }
            }
            let m = m.into_map();
            section(
                name,
                "page",
                &["visitors", "pageviews"],
                rows(rec, m, &reach),
                None,
            )
        }
        "entry-pages" => {
            let m = by(rec, &|_, v| v.entry);
            section(
                name,
                "entry page",
                &["visits", "bounces"],
                rows(rec, m, &|t| vec![t.visits, t.bounces]),
                None,
            )
        }
        "exit-pages" => {
            let m = by(rec, &|_, v| v.exit);
            section(
                name,
                "exit page",
                &["visits", "pageviews"],
                rows(rec, m, &|t| vec![t.visits, t.pageviews]),
                None,
            )
        }
        "sources" => {
            let m = by(rec, &|d, v| prof(d, v).source);
            section(
                name,
                "source",
                &["visitors", "visits", "pageviews"],
                rows(rec, m, &visits_cols),
                None,
            )
        }
        "browsers" | "os" | "devices" | "countries" => {
            let (label, f): (&'static str, Pick<'_>) = match name {
                "browsers" => ("browser", &|d, v| prof(d, v).browser),
                "os" => ("os", &|d, v| prof(d, v).os),
                "devices" => ("device", &|d, v| prof(d, v).device),
                _ => ("country", &|d, v| prof(d, v).country),
            };
            let m = by(rec, f);
            section(
                name,
                label,
                &["visitors", "pageviews"],
                rows(rec, m, &reach),
                None,
            )
        }
        "campaigns" => {
            let mut m: HashMap<(u32, u32, u32), Tally> = HashMap::new();
            for &at in kept {
                let (day, v) = rec.visit(at);
                let p = prof(day, v);
                if p.utm[2] != 0 {
                    m.entry((p.utm[2], p.utm[0], p.utm[1]))
                        .or_default()
                        .add_visit(who(day, v), v);
                }
            }
            let key = |k: &(u32, u32, u32)| {
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
            let m = by(rec, &|d, v| prof(d, v).utm[i]);
            section(
                name,
                label,
                &["visitors", "visits", "pageviews"],
                rows(rec, m, &visits_cols),
                None,
            )
        }
        "hours" => {
            let mut grid = [[0u64; 24]; 7];
            for &at in kept {
                let (day, v) = rec.visit(at);
                let date = NaiveDate::from_num_days_from_ce_opt(day.day as i32 + 719_163);
                let Some(wd) = date.map(|d| d.weekday().num_days_from_monday() as usize) else {
                    continue;
                };
                for h in &day.hits[v.hits.0 as usize..v.hits.1 as usize] {
                    if h.page {
                        grid[wd][usize::from(h.hour).min(23)] += 1;
                    }
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
            let mut all = Tally::default();
            let mut per_goal = vec![(Tally::default(), 0u64); rec.goals.len()];
            for &at in kept {
                let (day, v) = rec.visit(at);
                let w = who(day, v);
                all.see(w);
                let hits: Vec<StoredHit> = day.hits[v.hits.0 as usize..v.hits.1 as usize].to_vec();
                for (g, slot) in per_goal.iter_mut().enumerate() {
                    let n = rec.completions(g, &hits);
                    if n > 0 {
                        slot.0.see(w);
                        slot.1 += n;
                    }
                }
            }
            let rows = rec
                .goals
                .iter()
                .zip(&per_goal)
                .map(|(g, (t, completions))| Row {
                    key: g.name.clone(),
                    values: vec![t.visitors, *completions],
                    rate: Some(if all.visitors == 0 {
                        0.0
                    } else {
                        t.visitors as f64 / all.visitors as f64
                    }),
                })
                .collect();
            Section {
                name,
                key: "goal",
                columns: vec!["visitors", "completions"],
                rate: Some("conversion"),
                rows,
                note: if rec.goals.is_empty() {
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
    let (days, strings) = record::load(conn, day_number(prev_from), day_number(ask.until))?;
    let site = ask.site.map(|s| {
        strings
            .iter()
            .position(|t| t == s)
            .map_or(u32::MAX, |i| i as u32)
    });
    let n = strings.len();
    let mut rec = Record {
        days,
        strings,
        filters: ask.filters,
        goals: ask.goals,
        matches: ask.filters.iter().map(|_| Memo::new(n)).collect(),
        goal_paths: ask.goals.iter().map(|_| Memo::new(n)).collect(),
        site,
    };
    let kept = rec.kept(ask.from, ask.until);
    let first = day_number(ask.from);
    let days_with_data = rec
        .days
        .iter()
        .filter(|d| d.day >= first && !d.visits.is_empty())
        .count() as u64;
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
            report.overview = Some(overview(&rec, &kept, ask.from, ask.until));
            let before = rec.kept(prev_from, prev_until);
            report.previous = Some(overview(&rec, &before, prev_from, prev_until));
        } else if let Some(s) = one_section(&mut rec, &kept, name, ask) {
            report.sections.push(s);
        }
    }
    Ok(report)
}
