//! Reports from the permanent record: the same [`Report`] as the rollups give, for any filters,
//! and the sections only the record can answer (campaigns, `utm_*` breakdowns, exit pages, the
//! weekday-by-hour grid, goals). A page or goal filter keeps whole visits (those that viewed the
//! page or reached the goal); every figure is then of those visits.

use std::hash::Hash;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use foldhash::HashMap;

use super::cache::Cache;
use super::filter::{Filter, Key};
use super::goal::Goal;
use crate::report::{catalogue, Overview, Report, Row, Section};
use crate::rollup::days::day_number;
use crate::store::reader::{ReadError, Reader};
use crate::store::record::{self, Day, StoredHit, StoredVisit};

use rayon::iter::Either;
use rayon::prelude::*;

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
type VisitorKey = (i64, u32, u32);

/// Figures under one key of a section. Visitors are counted by the last visitor seen: a
/// visitor's visits come one after another in a day's record, and a day is read by one thread,
/// so a new key means a new visitor.
#[derive(Clone, Copy, Default)]
struct Tally {
    last: Option<VisitorKey>,
    visitors: u64,
    visits: u64,
    pageviews: u64,
    bounces: u64,
    duration_s: u64,
}

impl Tally {
    /// The figure a section's column of that name shows.
    fn column(&self, name: &str) -> u64 {
        match name {
            "visitors" => self.visitors,
            "visits" => self.visits,
            "pageviews" => self.pageviews,
            "bounces" => self.bounces,
            _ => unreachable!("no figure {name:?} in a tally"),
        }
    }

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
        self.duration_s += u64::from(v.duration_s);
    }

    fn merge(&mut self, o: &Tally) {
        self.visitors += o.visitors;
        self.visits += o.visits;
        self.pageviews += o.pageviews;
        self.bounces += o.bounces;
        self.duration_s += o.duration_s;
    }
}

/// Tallies by string id, in a vector (ids are dense), grown as ids come.
#[derive(Clone, Default)]
struct ById(Vec<Tally>);

impl ById {
    #[inline]
    fn at(&mut self, id: u32) -> &mut Tally {
        let i = id as usize;
        if i >= self.0.len() {
            self.0.resize(i + 1, Tally::default());
        }
        &mut self.0[i]
    }

    fn merge(&mut self, o: &ById) {
        if o.0.len() > self.0.len() {
            self.0.resize(o.0.len(), Tally::default());
        }
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            a.merge(b);
        }
    }

    /// Keys with figures (absent values, id 0, are no row).
    fn into_map(self) -> HashMap<u32, Tally> {
        self.0
            .into_iter()
            .enumerate()
            .skip(1)
            .filter(|(_, t)| t.visits > 0 || t.pageviews > 0)
            .map(|(i, t)| (i as u32, t))
            .collect()
    }
}

/// Answers about strings, decided once per string id (2: not yet).
#[derive(Clone, Default)]
struct Memo(Vec<u8>);

impl Memo {
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

/// Which sections to compute.
#[derive(Clone, Copy, Default)]
struct Want {
    pages: bool,
    entry: bool,
    exit: bool,
    sources: bool,
    browsers: bool,
    os: bool,
    devices: bool,
    countries: bool,
    utm: [bool; 5],
    campaigns: bool,
    hours: bool,
    goals: bool,
}

/// What every thread reads.
struct Shared<'a> {
    strings: &'a [String],
    filters: &'a [Filter],
    goals: &'a [Goal],
    site: Option<u32>,
    want: Want,
    /// Days (since 1970-01-01): the first of the period, and the first of the period before.
    from: i64,
    prev_from: i64,
}

impl Shared<'_> {
    fn text(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", String::as_str)
    }
}

/// Per thread: answers decided so far.
#[derive(Clone, Default)]
struct Memos {
    filters: Vec<Memo>,
    goal_paths: Vec<Memo>,
}

/// Figures accumulated over days (per thread, then merged).
#[derive(Clone, Default)]
struct Acc {
    now: Tally,
    before: Tally,
    /// Page views per day of the period.
    daily: Vec<u64>,
    days_with_data: u64,
    pages: ById,
    entry: ById,
    exit: ById,
    sources: ById,
    browsers: ById,
    os: ById,
    devices: ById,
    countries: ById,
    utm: [ById; 5],
    campaigns: HashMap<(u32, u32, u32), Tally>,
    hours: [[u64; 24]; 7],
    /// Per goal: its visitors and completions.
    goals: Vec<(Tally, u64)>,
}

impl Acc {
    /// Boxed: rayon's join frames carry accumulators, and nested steals stack those frames.
    fn merge(mut self: Box<Acc>, o: Box<Acc>) -> Box<Acc> {
        self.now.merge(&o.now);
        self.before.merge(&o.before);
        if o.daily.len() > self.daily.len() {
            self.daily.resize(o.daily.len(), 0);
        }
        for (a, b) in self.daily.iter_mut().zip(&o.daily) {
            *a += b;
        }
        self.days_with_data += o.days_with_data;
        for (a, b) in [
            (&mut self.pages, &o.pages),
            (&mut self.entry, &o.entry),
            (&mut self.exit, &o.exit),
            (&mut self.sources, &o.sources),
            (&mut self.browsers, &o.browsers),
            (&mut self.os, &o.os),
            (&mut self.devices, &o.devices),
            (&mut self.countries, &o.countries),
        ] {
            a.merge(b);
        }
        for (a, b) in self.utm.iter_mut().zip(&o.utm) {
            a.merge(b);
        }
        for (k, t) in &o.campaigns {
            self.campaigns.entry(*k).or_default().merge(t);
        }
        for (a, b) in self.hours.iter_mut().zip(&o.hours) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        if o.goals.len() > self.goals.len() {
            self.goals.resize(o.goals.len(), Default::default());
        }
        for (a, b) in self.goals.iter_mut().zip(&o.goals) {
            a.0.merge(&b.0);
            a.1 += b.1;
        }
        self
    }
}

/// How many of `hits` reach goal `g`.
fn completions(sh: &Shared<'_>, memos: &mut Memos, g: usize, hits: &[StoredHit]) -> u64 {
    let goal = &sh.goals[g];
    let memo = &mut memos.goal_paths[g];
    hits.iter()
        .filter(|h| {
            goal.reached_by_request(h.method, h.status)
                && memo.get(h.path, || goal.path.matches(sh.text(h.path)))
        })
        .count() as u64
}

/// Which profiles of a day pass the filters that look at profiles (and the site).
fn profiles_pass(sh: &Shared<'_>, memos: &mut Memos, day: &Day) -> Vec<bool> {
    day.profiles
        .iter()
        .map(|prof| {
            if sh.site.is_some_and(|s| s != prof.site) {
                return false;
            }
            sh.filters.iter().enumerate().all(|(i, f)| {
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
                // An absent value (no campaign, no country) matches no pattern: `utm-medium=*`
                // keeps the visits that have one, `utm-campaign!=x` those without any too.
                if id == 0 {
                    return f.negated;
                }
                memos.filters[i].get(id, || f.pattern.matches(sh.text(id))) != f.negated
            })
        })
        .collect()
}

/// Whether a visit passes the filters that look at its pages and goals.
fn visit_passes(sh: &Shared<'_>, memos: &mut Memos, v: &StoredVisit, hits: &[StoredHit]) -> bool {
    sh.filters.iter().enumerate().all(|(i, f)| {
        let ok = match f.key {
            Key::EntryPage => memos.filters[i].get(v.entry, || f.pattern.matches(sh.text(v.entry))),
            Key::ExitPage => memos.filters[i].get(v.exit, || f.pattern.matches(sh.text(v.exit))),
            Key::Page => hits.iter().any(|h| {
                h.page() && memos.filters[i].get(h.path, || f.pattern.matches(sh.text(h.path)))
            }),
            Key::Goal => (0..sh.goals.len()).any(|g| {
                f.pattern.matches(&sh.goals[g].name) && completions(sh, memos, g, hits) > 0
            }),
            _ => return true,
        };
        ok != f.negated
    })
}

/// Adds one day to `acc`.
fn add_day(sh: &Shared<'_>, memos: &mut Memos, acc: &mut Acc, day: &Day) {
    let current = day.day >= sh.from;
    if !current && day.day < sh.prev_from {
        return;
    }
    let pass = profiles_pass(sh, memos, day);
    let visit_filters = sh.filters.iter().any(|f| {
        matches!(
            f.key,
            Key::Page | Key::Goal | Key::EntryPage | Key::ExitPage
        )
    });
    let w = sh.want;
    let weekday = chrono::NaiveDate::from_num_days_from_ce_opt(day.day as i32 + 719_163)
        .map_or(0, |d| d.weekday().num_days_from_monday() as usize);
    if current && !day.visits.is_empty() {
        acc.days_with_data += 1;
    }
    for v in &day.visits {
        if !pass[v.profile as usize] {
            continue;
        }
        let hits = &day.hits[v.hits.0 as usize..v.hits.1 as usize];
        if visit_filters && !visit_passes(sh, memos, v, hits) {
            continue;
        }
        let p = day.profiles[v.profile as usize];
        let who: VisitorKey = (day.day, p.site, v.visitor);
        if !current {
            acc.before.add_visit(who, v);
            continue;
        }
        acc.now.add_visit(who, v);
        if let Some(slot) = acc.daily.get_mut((day.day - sh.from) as usize) {
            *slot += u64::from(v.pageviews);
        }
        for (on, by, id) in [
            (w.entry, &mut acc.entry, v.entry),
            (w.exit, &mut acc.exit, v.exit),
            (w.sources, &mut acc.sources, p.source),
            (w.browsers, &mut acc.browsers, p.browser),
            (w.os, &mut acc.os, p.os),
            (w.devices, &mut acc.devices, p.device),
            (w.countries, &mut acc.countries, p.country),
        ] {
            if on {
                by.at(id).add_visit(who, v);
            }
        }
        for i in 0..5 {
            if w.utm[i] && p.utm[i] != 0 {
                acc.utm[i].at(p.utm[i]).add_visit(who, v);
            }
        }
        if w.campaigns && p.utm[2] != 0 {
            acc.campaigns
                .entry((p.utm[2], p.utm[0], p.utm[1]))
                .or_default()
                .add_visit(who, v);
        }
        if w.pages || w.hours {
            for h in hits.iter().filter(|h| h.page()) {
                if w.pages {
                    let t = acc.pages.at(h.path);
                    t.see(who);
                    t.pageviews += 1;
                }
                if w.hours {
                    acc.hours[weekday][usize::from(h.hour()).min(23)] += 1;
                }
            }
        }
        if w.goals {
            for g in 0..sh.goals.len() {
                let n = completions(sh, memos, g, hits);
                if n > 0 {
                    let slot = &mut acc.goals[g];
                    slot.0.see(who);
                    slot.1 += n;
                }
            }
        }
    }
}

fn overview(t: &Tally, daily: Vec<u64>) -> Overview {
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Overview {
        visitors: t.visitors,
        pageviews: t.pageviews,
        visits: t.visits,
        views_per_visit: ratio(t.pageviews, t.visits),
        bounce_rate: ratio(t.bounces, t.visits),
        visit_duration_s: ratio(t.duration_s, t.visits),
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
    ranked_with(tallies, key, |_| Vec::new(), values, top)
}

/// [`ranked`], with the values each key joins ([`Row::parts`]).
fn ranked_with<K: Eq + Hash>(
    tallies: HashMap<K, Tally>,
    key: impl Fn(&K) -> String,
    parts: impl Fn(&K) -> Vec<String>,
    values: impl Fn(&Tally) -> Vec<u64>,
    top: usize,
) -> Vec<Row> {
    let mut rows: Vec<Row> = tallies
        .iter()
        .map(|(k, t)| Row {
            key: key(k),
            values: values(t),
            rate: None,
            parts: parts(k),
        })
        .collect();
    rows.sort_by(|a, b| b.values.cmp(&a.values).then_with(|| a.key.cmp(&b.key)));
    rows.truncate(top);
    rows
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// One section from the accumulated figures.
fn one_section(sh: &Shared<'_>, acc: &Acc, name: &str, top: usize) -> Option<Section> {
    let described = catalogue::described(name)?;
    let name = described.name;
    let text = |k: &u32| sh.text(*k).to_string();
    // The columns the catalogue names, from each key's tally.
    let values = |t: &Tally| described.columns.iter().map(|c| t.column(c)).collect();
    let rows = |by: &ById| ranked(by.clone().into_map(), text, values, top);
    let by = match name {
        "pages" => Some(&acc.pages),
        "entry-pages" => Some(&acc.entry),
        "exit-pages" => Some(&acc.exit),
        "sources" => Some(&acc.sources),
        "browsers" => Some(&acc.browsers),
        "os" => Some(&acc.os),
        "devices" => Some(&acc.devices),
        "countries" => Some(&acc.countries),
        "utm-sources" => Some(&acc.utm[0]),
        "utm-mediums" => Some(&acc.utm[1]),
        "utm-contents" => Some(&acc.utm[3]),
        "utm-terms" => Some(&acc.utm[4]),
        _ => None,
    };
    if let Some(by) = by {
        return Some(described.section(rows(by), None));
    }
    Some(match name {
        "campaigns" => {
            let key = |k: &(u32, u32, u32)| {
                let (c, s, md) = (sh.text(k.0), sh.text(k.1), sh.text(k.2));
                match (s.is_empty(), md.is_empty()) {
                    (true, true) => c.to_string(),
                    (false, true) => format!("{c} ({s})"),
                    (true, false) => format!("{c} ({md})"),
                    (false, false) => format!("{c} ({s} / {md})"),
                }
            };
            let parts =
                |k: &(u32, u32, u32)| [k.0, k.1, k.2].map(|id| sh.text(id).to_string()).to_vec();
            Section {
                parts: &["campaign", "source", "medium"],
                ..described.section(
                    ranked_with(acc.campaigns.clone(), key, parts, values, top),
                    Some("visits whose first page carried utm_campaign"),
                )
            }
        }
        "hours" => {
            let rows = WEEKDAYS
                .iter()
                .zip(acc.hours)
                .map(|(d, hours)| Row {
                    key: d.to_string(),
                    values: hours.to_vec(),
                    rate: None,
                    parts: Vec::new(),
                })
                .collect();
            described.section(
                rows,
                Some("page views by weekday and clock hour of the database's time zone"),
            )
        }
        "goals" => {
            let all = acc.now.visitors;
            let rows = sh
                .goals
                .iter()
                .zip(&acc.goals)
                .map(|(g, (t, completions))| Row {
                    key: g.name.clone(),
                    values: vec![t.visitors, *completions],
                    rate: Some(if all == 0 {
                        0.0
                    } else {
                        t.visitors as f64 / all as f64
                    }),
                    parts: Vec::new(),
                })
                .collect();
            Section {
                rate: Some("conversion"),
                ..described.section(
                    rows,
                    sh.goals.is_empty().then_some(
                        "no goals: add [[goal]] tables to the configuration, or --goal NAME=PATH",
                    ),
                )
            }
        }
        _ => return None,
    })
}

/// The days a report adds up: packed, decoded one at a time as they are added (memory holds a
/// few days at most), or decoded already.
enum Days {
    Packed(Vec<(i64, Vec<u8>)>),
    Decoded(Vec<Arc<Day>>),
}

/// Whether a report needs the record (filters, or a section only it answers).
pub fn needs_record(sections: &[String], filters: &[Filter]) -> bool {
    !filters.is_empty() || sections.iter().any(|s| catalogue::record_only(s))
}

/// Reads a report from the record. `sections` other than the record's and the ranked ones
/// (`status`, `not-found`, `bots`, `crawlers`: hits, not visits) are left out. Days are decoded
/// and added up in parallel, one day at a time, so memory holds a few days at most.
/// With a `cache`, days come decoded from it (see [`super::cache`]) instead.
pub fn read(store: Reader<'_>, ask: &Ask<'_>, cache: Option<&Cache>) -> Result<Report, ReadError> {
    let _pass = super::gate::fanout().enter();
    let len = (ask.until - ask.from).num_days() + 1;
    let prev_from = ask.from - chrono::Duration::days(len);
    let span = (day_number(prev_from), day_number(ask.until));
    let (days, strings) = match cache {
        Some(cache) => {
            let held = cache.days(store, span.0, span.1)?;
            (Days::Decoded(held.days), held.strings)
        }
        None => {
            let (blobs, strings) = store.record(span.0, span.1)?;
            (Days::Packed(blobs), Arc::new(strings))
        }
    };
    let site = ask.site.map(|s| {
        strings
            .iter()
            .position(|t| t == s)
            .map_or(u32::MAX, |i| i as u32)
    });
    let has = |s: &str| ask.sections.iter().any(|x| x == s);
    let want = Want {
        pages: has("pages"),
        entry: has("entry-pages"),
        exit: has("exit-pages"),
        sources: has("sources"),
        browsers: has("browsers"),
        os: has("os"),
        devices: has("devices"),
        countries: has("countries"),
        utm: [
            has("utm-sources"),
            has("utm-mediums"),
            false,
            has("utm-contents"),
            has("utm-terms"),
        ],
        campaigns: has("campaigns"),
        hours: has("hours"),
        goals: has("goals") && !ask.goals.is_empty(),
    };
    let sh = Shared {
        strings: &strings,
        filters: ask.filters,
        goals: ask.goals,
        site,
        want,
        from: day_number(ask.from),
        prev_from: day_number(prev_from),
    };
    // Requests are most of the record: decoded only when a section or filter looks at them.
    let with_hits = want.pages
        || want.hours
        || want.goals
        || ask
            .filters
            .iter()
            .any(|f| matches!(f.key, Key::Page | Key::Goal));
    let fresh = || {
        let acc = Acc {
            daily: vec![0; len.max(0) as usize],
            goals: vec![Default::default(); ask.goals.len()],
            ..Default::default()
        };
        let memos = Memos {
            filters: vec![Memo::default(); ask.filters.len()],
            goal_paths: vec![Memo::default(); ask.goals.len()],
        };
        (Box::new(acc), memos)
    };
    let days = match &days {
        Days::Packed(blobs) => Either::Left(
            blobs
                .par_iter()
                .map(|(d, blob)| Arc::new(record::unpack_with(*d, blob, with_hits))),
        ),
        Days::Decoded(days) => Either::Right(days.par_iter().cloned()),
    };
    let acc = days
        .fold(fresh, |(mut acc, mut memos), day| {
            add_day(&sh, &mut memos, &mut acc, &day);
            (acc, memos)
        })
        .map(|(acc, _)| acc)
        .reduce(|| fresh().0, Acc::merge);
    let mut report = Report {
        site: ask.site.map(str::to_string),
        from: ask.from,
        until: ask.until,
        days_with_data: acc.days_with_data,
        overview: None,
        previous: None,
        sections: Vec::new(),
        filters: Vec::new(),
        imported: Vec::new(),
    };
    for name in ask.sections {
        if name == "overview" {
            report.overview = Some(overview(&acc.now, acc.daily.clone()));
            report.previous = Some(overview(&acc.before, vec![0; len.max(0) as usize]));
        } else if let Some(s) = one_section(&sh, &acc, name, ask.top) {
            report.sections.push(s);
        }
    }
    Ok(report)
}
