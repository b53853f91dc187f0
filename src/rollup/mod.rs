//! `rollup`: turns raw events into the daily rollup tables that reports read.
//!
//! Incremental and idempotent: `rollup_state` holds, per local day, the highest event id rolled
//! up; a run recomputes only days whose spans (see `event_spans`) reach past it, late lines
//! included, and replaces each such day's rows wholesale in one short transaction. Running it twice
//! changes nothing. `--rebuild` recomputes every day whose raw events are all still there.

pub mod aggregate;
pub mod behaviour;
pub mod bound;
pub mod clickhouse;
pub mod days;
pub mod echoes;
pub mod internal;
pub mod record;
pub mod verdicts;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;
use chrono_tz::Tz;
use rusqlite::Connection;

use crate::classify::{agent, bots, browser_age, geo, referrer, traits};
use crate::store::agents::{self as agent_store, AgentClass};
use crate::store::events::{self, RawEvent};
use crate::store::{dict, facts, rollups, state};
use aggregate::Event;

/// What to roll up.
#[derive(Clone, Debug)]
pub struct Options {
    /// Day boundaries.
    pub tz: Tz,
    /// Only days on or after this date.
    pub since: Option<NaiveDate>,
    /// Recompute every day whose raw events are all still there.
    pub rebuild: bool,
    /// Bot behaviour thresholds (layer 4).
    pub thresholds: behaviour::Thresholds,
}

/// What a run did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Report {
    /// Days recomputed.
    pub days: Vec<String>,
    /// Events read.
    pub events: u64,
    /// User agents classified for the first time.
    pub agents_classified: u64,
    /// Days left alone because cleanup already removed their raw events (their rollups are final,
    /// and lines arriving for them later are not counted).
    pub final_days_skipped: u64,
    /// Seconds taken.
    pub seconds: f64,
}

/// Rollup failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed (a busy database included: the caller maps it to exit 75).
    #[error("rollup of {day} failed: {source}")]
    Day {
        /// The day being rolled up.
        day: String,
        /// Why.
        source: rusqlite::Error,
    },
    /// SQLite failed outside a day.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Browser, OS, device and the named crawler of an agent.
fn agent_class(ua: &str) -> AgentClass {
    let info = agent::classify(ua);
    AgentClass {
        browser: info.browser,
        os: info.os,
        device: info.device,
        crawler: bots::AgentPatterns::builtin().crawler_name(ua),
    }
}

/// Decides browser, OS, device and the named crawler of agents seen for the first time (once per
/// distinct agent).
fn classify_new_agents(conn: &mut Connection) -> rusqlite::Result<u64> {
    let pending = agent_store::unclassified(conn)?;
    for batch in pending.chunks(2_000) {
        agent_store::record_classes(conn, batch, agent_class)?;
    }
    Ok(pending.len() as u64)
}

/// Per local day: the highest event id in its spans.
pub fn span_days(conn: &Connection, tz: Tz) -> rusqlite::Result<BTreeMap<NaiveDate, i64>> {
    let mut out = BTreeMap::new();
    for (bucket, max_id) in events::bucket_maxima(conn)? {
        let day = days::bucket_date(tz, bucket);
        let e = out.entry(day).or_insert(max_id);
        *e = (*e).max(max_id);
    }
    Ok(out)
}

/// What rollup needs of an agent.
struct AgentNames {
    browser: String,
    os: String,
    device: String,
    crawler: Option<String>,
    /// Month (`browser_age::Month`) from which its browser is stale.
    stale_from: Option<i64>,
}

/// What rollup needs of a referrer row.
struct Source {
    host: String,
    source: String,
    /// Whether the query named the source (`utm_source`, `ref`).
    campaign: bool,
    /// `utm_medium`, `utm_campaign`, `utm_content`, `utm_term`.
    details: [String; 4],
}

/// Whether a referrer's source was named by its query (`utm_source`, `ref`) rather than by its
/// host.
fn is_campaign(host: &str, source: &str) -> bool {
    source != referrer::INTERNAL
        && source != referrer::DIRECT
        && (host.is_empty() || source != referrer::source_of_host(host, None))
}

impl AgentNames {
    /// The names of an agent classified here and now, as `classify_new_agents` stores them.
    fn classify(ua: &str) -> AgentNames {
        let class = agent_class(ua);
        AgentNames {
            browser: class.browser,
            os: class.os,
            device: class.device,
            crawler: class.crawler,
            stale_from: browser_age::stale_from(&ua.to_ascii_lowercase()),
        }
    }

    /// An agent not known.
    fn other() -> AgentNames {
        AgentNames {
            browser: "Other".into(),
            os: "Other".into(),
            device: "Other".into(),
            crawler: None,
            stale_from: None,
        }
    }
}

/// Names for dictionary ids, loaded as needed and kept for the run.
#[derive(Default)]
struct Names {
    sites: foldhash::HashMap<i64, String>,
    /// Path id -> (path, its page key).
    paths: foldhash::HashMap<i64, (String, i64)>,
    /// Referrer id -> (host, source, whether the source is a campaign's).
    sources: foldhash::HashMap<i64, Source>,
    agents: foldhash::HashMap<i64, AgentNames>,
    countries: foldhash::HashMap<i64, Option<String>>,
}

impl Names {
    fn load(&mut self, conn: &Connection, events: &[RawEvent]) -> rusqlite::Result<()> {
        for e in events {
            if let Some(c) = e.country {
                self.countries.entry(c).or_insert_with(|| geo::unpack(c));
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = self.sites.entry(e.site) {
                let name = dict::site_name(conn, e.site)?;
                slot.insert(name.unwrap_or_else(|| "unknown".into()));
            }
            if let Some(p) = e.path.filter(|p| !self.paths.contains_key(p)) {
                let path = dict::path(conn, p)?.unwrap_or_else(|| "/".into());
                let key = referrer::page_key(&path);
                self.paths.insert(p, (path, key));
            }
            if let Some(rf) = e.referrer.filter(|r| !self.sources.contains_key(r)) {
                let (host, src, details) = dict::referrer(conn, rf)?
                    .unwrap_or_else(|| (String::new(), "unknown".into(), Default::default()));
                let campaign = is_campaign(&host, &src);
                self.sources.insert(
                    rf,
                    Source {
                        host,
                        source: src,
                        campaign,
                        details,
                    },
                );
            }
            if let Some(a) = e.agent.filter(|a| !self.agents.contains_key(a)) {
                let info = agent_store::get(conn, a)?.map(|row| AgentNames {
                    stale_from: browser_age::stale_from(&row.agent.to_ascii_lowercase()),
                    browser: row.browser,
                    os: row.os,
                    device: row.device,
                    crawler: row.crawler,
                });
                self.agents
                    .insert(a, info.unwrap_or_else(AgentNames::other));
            }
        }
        Ok(())
    }
}

/// One day, computed and ready to write.
struct RolledDay {
    day: NaiveDate,
    max_id: i64,
    events: u64,
    /// Events whose verdict or kind the day's behaviour changed: (id, reason, kind), written back
    /// to `events`.
    flagged: Vec<(i64, u8, u8)>,
    /// The day's human visits, for the permanent record.
    record: crate::model::RecordDay,
    sites: foldhash::HashMap<String, rollups::SiteDay>,
}

/// Reads and aggregates one day (reads only: runs on any thread with its own connection).
fn compute_day(
    conn: &Connection,
    tz: Tz,
    day: NaiveDate,
    span_max: i64,
    names: &mut Names,
    thresholds: &behaviour::Thresholds,
) -> rusqlite::Result<RolledDay> {
    let (start, end) = days::day_bounds(tz, day);
    // One read snapshot for the spans and events of the day.
    let raw = crate::store::read_snapshot(conn, |conn| {
        events::load_day(conn, start, end).and_then(|raw| names.load(conn, &raw).map(|()| raw))
    })?;
    let max_id = raw.iter().map(|e| e.id).max().unwrap_or(0).max(span_max);
    // The day's month, by which ingest judged its browsers too.
    let month = browser_age::month_of_day(days::day_number(day));
    let mut events: Vec<Event> = raw
        .iter()
        .map(|e| {
            let (browser, os, device, crawler, stale) = match e.agent {
                Some(a) => {
                    let n = &names.agents[&a];
                    (
                        n.browser.as_str(),
                        n.os.as_str(),
                        n.device.as_str(),
                        n.crawler.as_deref(),
                        n.stale_from.is_some_and(|m| month >= m),
                    )
                }
                None => ("Other", "Other", "Other", None, false),
            };
            let referrer = e.referrer.map(|r| &names.sources[&r]);
            Event {
                ts: e.ts,
                site: &names.sites[&e.site],
                path: e.path.map(|p| names.paths[&p].0.as_str()),
                page_key: e.path.map_or(0, |p| names.paths[&p].1),
                source: referrer.map(|r| r.source.as_str()),
                referrer_host: referrer.map(|r| r.host.as_str()).filter(|h| !h.is_empty()),
                campaign: referrer.is_some_and(|r| r.campaign),
                utm: referrer.map_or([""; 4], |r| r.details.each_ref().map(String::as_str)),
                crawler,
                stale,
                browser,
                os,
                device,
                country: e.country.and_then(|c| names.countries[&c].as_deref()),
                agent: e.agent.unwrap_or(0),
                visitor: e.visitor,
                status: e.status,
                bytes: e.bytes.unwrap_or(0),
                kind: e.kind,
                method: e.method,
                // Cleared and decided again by `verdicts::decide` where a day tells more.
                bot: e.bot,
                old: e.traits & traits::OBSOLETE != 0,
                // Rows written before origins were recorded: each visitor its own address.
                origin: e.origin.unwrap_or(e.visitor),
                traits: e.traits,
            }
        })
        .collect();
    let (sites, record) = settle(&mut events, tz, day, thresholds, |site| {
        facts::window(conn, site, days::day_number(day))
    })?;
    let flagged: Vec<(i64, u8, u8)> = raw
        .iter()
        .zip(&events)
        .filter(|(r, e)| r.bot != e.bot || r.kind != e.kind)
        .map(|(r, e)| (r.id, e.bot, e.kind))
        .collect();
    Ok(RolledDay {
        day,
        max_id,
        events: raw.len() as u64,
        flagged,
        record,
        sites,
    })
}

/// Decides the verdicts of a day's `events` that only a whole day tells (`verdicts::decide`,
/// each site judged against its facts over a window of days, as `window` reads them), then adds
/// the day up: the rollup rows of each site and the day's record of human visits. Both stores'
/// rollups end here.
pub fn settle<E>(
    events: &mut [Event<'_>],
    tz: Tz,
    day: NaiveDate,
    thresholds: &behaviour::Thresholds,
    mut window: impl FnMut(&str) -> Result<facts::Window, E>,
) -> Result<
    (
        foldhash::HashMap<String, rollups::SiteDay>,
        crate::model::RecordDay,
    ),
    E,
> {
    let mut profiles: foldhash::HashMap<&str, behaviour::SiteProfile> = Default::default();
    for e in events.iter() {
        if !profiles.contains_key(e.site) {
            profiles.insert(
                e.site,
                behaviour::SiteProfile::from_window(&window(e.site)?),
            );
        }
    }
    verdicts::decide(events, thresholds, &profiles);
    let sites = aggregate::aggregate(events, tz);
    let record = crate::model::RecordDay {
        day: days::day_number(day),
        visits: record::visits(events, tz),
    };
    Ok((sites, record))
}

/// Writes one computed day.
fn write_day(
    conn: &mut Connection,
    tz: Tz,
    rolled: RolledDay,
    report: &mut Report,
) -> Result<(), Error> {
    let key = days::day_key(rolled.day);
    let written = rollups::replace_day(
        conn,
        &key,
        tz,
        rolled.max_id,
        &rolled.sites,
        &rolled.flagged,
        &rolled.record,
    )
    .map_err(|source| Error::Day {
        day: key.clone(),
        source,
    })?;
    if written {
        report.events += rolled.events;
        report.days.push(key);
    } else {
        report.final_days_skipped += 1;
    }
    Ok(())
}

/// Days computed at once: as many as threads, so memory holds a few days of events at most.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs a rollup. Days are read and aggregated in parallel, each thread with its own read-only
/// connection to `db` (in-memory databases run on one thread); this connection writes them.
/// `progress(done, total)` is called after each day is written.
pub fn run(
    conn: &mut Connection,
    db: Option<&Path>,
    opts: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, Error> {
    let started = Instant::now();
    let mut report = Report {
        agents_classified: classify_new_agents(conn)?,
        ..Default::default()
    };
    let spans = span_days(conn, opts.tz)?;
    let state = state::all(conn)?;
    // Days whose raw events are held but whose permanent record is not written yet (a database
    // from before the record): back-filled.
    let recorded: std::collections::HashSet<i64> =
        crate::store::record::days(conn)?.into_iter().collect();
    let mut due_days = Vec::new();
    for (day, span_max) in spans {
        if opts.since.is_some_and(|s| day < s) {
            continue;
        }
        let key = days::day_key(day);
        let due = match state.get(&key) {
            None => true,
            // Cleanup removed this day's raw events: its rollups are final.
            Some((rolled, true)) => {
                if opts.rebuild || span_max > *rolled {
                    report.final_days_skipped += 1;
                }
                false
            }
            Some((rolled, false)) => {
                opts.rebuild || span_max > *rolled || !recorded.contains(&days::day_number(day))
            }
        };
        if due {
            due_days.push((day, span_max));
        }
    }

    let workers = if db.is_some() { threads() } else { 1 };
    let mut done = 0;
    let mut names: Vec<Names> = (0..workers).map(|_| Names::default()).collect();
    let mut readers: Vec<Connection> = match db {
        Some(path) => crate::store::open_readers(path, workers)?,
        None => Vec::new(),
    };
    let day_err = |day: NaiveDate| {
        move |source| Error::Day {
            day: days::day_key(day),
            source,
        }
    };
    if readers.is_empty() {
        for &(day, max) in &due_days {
            let rolled = compute_day(conn, opts.tz, day, max, &mut names[0], &opts.thresholds)
                .map_err(day_err(day))?;
            write_day(conn, opts.tz, rolled, &mut report)?;
            done += 1;
            progress(done, due_days.len());
        }
    } else {
        // Workers take days from a shared counter and send them computed; this thread writes
        // each as it arrives, so reading, aggregating and writing overlap.
        let next = std::sync::atomic::AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<RolledDay, Error>>(workers);
        std::thread::scope(|scope| -> Result<(), Error> {
            for (reader, names) in readers.iter_mut().zip(names.iter_mut()) {
                let (tx, next, due_days) = (tx.clone(), &next, &due_days);
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&(day, max)) = due_days.get(i) else {
                        break;
                    };
                    let result = compute_day(&*reader, opts.tz, day, max, names, &opts.thresholds)
                        .map_err(day_err(day));
                    if tx.send(result).is_err() {
                        break; // the writer stopped on an error
                    }
                });
            }
            drop(tx);
            for rolled in rx {
                write_day(conn, opts.tz, rolled?, &mut report)?;
                done += 1;
                progress(done, due_days.len());
            }
            Ok(())
        })?;
        report.days.sort();
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
