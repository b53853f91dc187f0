//! `rollup --store clickhouse://...`: the same rollup over the events a ClickHouse store holds,
//! written back to it. Days are found by the events they hold (counted by quarter hours, each
//! line once): a day is due when it was never rolled up or its count moved since. Each due day
//! is read whole, decided by the same classifier as SQLite's days (`settle`), and written as a
//! new version of the day (`store::clickhouse::rollups`). A site's facts over the window of days
//! (`store::facts`) are read from the SQLite database of the collector, given one; several
//! collectors each keep their own, so their sites are judged by the facts of the one that runs
//! rollup.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::NaiveDate;
use foldhash::HashMap;
use rusqlite::Connection;

use super::aggregate::Event;
use super::{days, is_campaign, settle, AgentNames, Options, Report};
use crate::classify::{browser_age, geo, referrer, traits};
use crate::store::clickhouse::events::{self, StoredEvent, QUARTER_MS};
use crate::store::clickhouse::retention;
use crate::store::clickhouse::rollups::{self as ch_rollups, Strings};
use crate::store::clickhouse::{ClickHouse, Error};
use crate::store::facts;

/// What the run knows of the strings of events, decided once each.
#[derive(Default)]
struct Known {
    /// Agent -> (its number for per-agent behaviour, its names).
    agents: HashMap<String, (i64, AgentNames)>,
    /// Path -> its page key.
    page_keys: HashMap<String, i64>,
    countries: HashMap<u16, Option<String>>,
    /// Agents classified in this run.
    classified: u64,
}

impl Known {
    fn learn(&mut self, day: &[StoredEvent]) {
        for e in day {
            if !e.agent.is_empty() && !self.agents.contains_key(&e.agent) {
                let n = self.agents.len() as i64 + 1;
                self.agents
                    .insert(e.agent.clone(), (n, AgentNames::classify(&e.agent)));
                self.classified += 1;
            }
            if !e.path.is_empty() && !self.page_keys.contains_key(&e.path) {
                self.page_keys
                    .insert(e.path.clone(), referrer::page_key(&e.path));
            }
            if e.country != 0 {
                self.countries
                    .entry(e.country)
                    .or_insert_with(|| geo::unpack(i64::from(e.country)));
            }
        }
    }

    /// The events of a day as rollup reads them (see `rollup::compute_day` for SQLite's).
    fn events<'n>(&'n self, day: NaiveDate, stored: &'n [StoredEvent]) -> Vec<Event<'n>> {
        let month = browser_age::month_of_day(days::day_number(day));
        stored
            .iter()
            .map(|e| {
                let agent = self.agents.get(&e.agent);
                let (number, browser, os, device, crawler, stale) = match agent {
                    Some((n, a)) => (
                        *n,
                        a.browser.as_str(),
                        a.os.as_str(),
                        a.device.as_str(),
                        a.crawler.as_deref(),
                        a.stale_from.is_some_and(|m| month >= m),
                    ),
                    None => (0, "Other", "Other", "Other", None, false),
                };
                let source = Some(e.referrer_source.as_str()).filter(|s| !s.is_empty());
                let path = Some(e.path.as_str()).filter(|p| !p.is_empty());
                Event {
                    ts: e.ts,
                    site: &e.site,
                    path,
                    page_key: path.map_or(0, |p| self.page_keys[p]),
                    source,
                    referrer_host: source
                        .map(|_| e.referrer_host.as_str())
                        .filter(|h| !h.is_empty()),
                    campaign: source.is_some_and(|s| is_campaign(&e.referrer_host, s)),
                    utm: if source.is_some() {
                        e.utm.each_ref().map(String::as_str)
                    } else {
                        [""; 4]
                    },
                    crawler,
                    stale,
                    browser,
                    os,
                    device,
                    country: (e.country != 0)
                        .then(|| self.countries[&e.country].as_deref())
                        .flatten(),
                    agent: number,
                    visitor: e.visitor,
                    status: e.status,
                    bytes: e.bytes.max(0),
                    kind: e.kind,
                    method: e.method,
                    bot: e.bot,
                    old: e.traits & traits::OBSOLETE != 0,
                    origin: e.origin,
                    traits: e.traits,
                }
            })
            .collect()
    }
}

/// Events held per local day.
pub fn events_per_day(
    ch: &ClickHouse,
    tz: chrono_tz::Tz,
) -> Result<BTreeMap<NaiveDate, u64>, Error> {
    let mut out = BTreeMap::new();
    for (quarter, n) in events::per_quarter(ch)? {
        *out.entry(days::local_date(tz, quarter * QUARTER_MS))
            .or_insert(0) += n;
    }
    Ok(out)
}

/// Why a rollup of a ClickHouse store failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// ClickHouse failed.
    #[error(transparent)]
    ClickHouse(#[from] Error),
    /// The collector's database could not give a site's facts.
    #[error("reading the site facts of {day} from the collector's database: {source}")]
    Facts {
        /// The day being rolled up.
        day: NaiveDate,
        /// Why.
        source: rusqlite::Error,
    },
}

/// Rolls up the days of `ch` that are due, their sites' facts read from `facts_db` (the
/// collector's SQLite database) where there is one. `progress(done, total)` is called after each
/// day is written.
pub fn run(
    ch: &ClickHouse,
    facts_db: Option<&Connection>,
    opts: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, RunError> {
    let started = Instant::now();
    let zone = opts.tz.name();
    let held = events_per_day(ch, opts.tz)?;
    let rolled = ch_rollups::rolled_days(ch)?;
    let finals = retention::final_days(ch)?;
    let mut report = Report::default();
    let due: Vec<(NaiveDate, u64)> = held
        .into_iter()
        .filter(|(day, n)| {
            opts.since.is_none_or(|s| *day >= s)
                && (opts.rebuild || rolled.get(day).is_none_or(|(_, was)| was != n))
        })
        .filter(|(day, _)| {
            // Cleanup deleted this day's raw events: lines that came since are too few to
            // make it again from, and its rollups are final.
            let leave = finals.contains(day);
            report.final_days_skipped += u64::from(leave);
            !leave
        })
        .collect();
    let mut known = Known::default();
    let mut strings = Strings::load(ch)?;
    for (i, (day, _)) in due.iter().enumerate() {
        let (start, end) = days::day_bounds(opts.tz, *day);
        let stored = events::load_day(ch, start, end)?;
        known.learn(&stored);
        let mut events = known.events(*day, &stored);
        let (sites, record) =
            settle(
                &mut events,
                opts.tz,
                *day,
                &opts.thresholds,
                |site| match facts_db {
                    Some(conn) => facts::window(conn, site, days::day_number(*day)),
                    None => Ok(facts::Window::default()),
                },
            )
            .map_err(|source| RunError::Facts { day: *day, source })?;
        let previous = rolled.get(day).map_or(0, |(v, _)| *v);
        ch_rollups::replace_day(
            ch,
            &mut strings,
            zone,
            previous,
            &ch_rollups::RolledDay {
                day: *day,
                events: stored.len() as u64,
                sites: &sites,
                record: &record,
            },
        )?;
        report.events += stored.len() as u64;
        report.days.push(days::day_key(*day));
        progress(i + 1, due.len());
    }
    report.agents_classified = known.classified;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
