//! Decoded days of the record, kept between reports by a long-running reader (the dashboard).
//!
//! A report over a year reads and decodes a year of packed days (tens of milliseconds for a busy
//! site) before adding anything up. The cache keeps days decoded, and asks the database only for
//! each day's stamp (new each time rollup rewrites the day): a day whose stamp is unchanged is
//! served from memory, any other is read and decoded again. The record's strings only grow (ids
//! are never reused), so the newest strings a report meets name every id of every current day.
//!
//! Memory is bounded by a budget in bytes; past it, the oldest days go first (views are of recent
//! days; a view of all history decodes its oldest days each time, as without a cache).

use std::collections::BTreeMap;
use std::mem::size_of;
use std::sync::{Arc, Mutex, PoisonError};

use rayon::prelude::*;

use crate::store::reader::{ReadError, Reader};
use crate::store::record::{self, Day, Profile, StoredHit, StoredVisit};

/// Record strings by id, shared by the days decoded with them.
pub type Strings = Arc<Vec<String>>;

/// Days kept decoded, within a budget of bytes.
#[derive(Debug)]
pub struct Cache {
    budget: usize,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    days: BTreeMap<i64, Entry>,
    bytes: usize,
}

#[derive(Clone, Debug)]
struct Entry {
    stamp: i64,
    day: Arc<Day>,
    strings: Strings,
}

/// The days of a period, current, with strings naming all their ids.
#[derive(Debug)]
pub struct PeriodDays {
    /// Oldest first.
    pub days: Vec<Arc<Day>>,
    /// Strings by id.
    pub strings: Strings,
}

/// Bytes a decoded day holds.
fn bytes_of(day: &Day) -> usize {
    size_of::<Day>()
        + day.profiles.capacity() * size_of::<Profile>()
        + day.visits.capacity() * size_of::<StoredVisit>()
        + day.hits.capacity() * size_of::<StoredHit>()
}

impl Cache {
    /// A cache holding at most `budget` bytes of decoded days (0: none kept).
    pub fn new(budget: usize) -> Cache {
        Cache {
            budget,
            held: Mutex::new(Held::default()),
        }
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Days held now.
    pub fn len(&self) -> usize {
        self.lock().days.len()
    }

    /// Whether no day is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        // A panic elsewhere leaves whole entries behind: the map is still sound.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The days `from..=until` of the record (days since 1970-01-01), each as the database holds
    /// it now: from memory where the stamp matches, else read and decoded (in parallel), and then
    /// kept. Days are decoded with their requests.
    pub fn days(&self, store: Reader<'_>, from: i64, until: i64) -> Result<PeriodDays, ReadError> {
        // A copy of what is held in the range, so the lock is not held across the database.
        let held: BTreeMap<i64, Entry> = self
            .lock()
            .days
            .range(from..=until)
            .map(|(d, e)| (*d, e.clone()))
            .collect();
        let stamped = store.record_unless_known(from, until, |day, stamp| {
            held.get(&day).is_some_and(|e| e.stamp == stamp)
        })?;
        let decoded: Vec<(i64, i64, Option<Arc<Day>>)> = stamped
            .days
            .into_par_iter()
            .map(|(day, stamp, blob)| {
                let decoded = blob.map(|b| Arc::new(record::unpack_with(day, &b, true)));
                (day, stamp, decoded)
            })
            .collect();
        // Strings are read whenever a day is, and then are the database's own; else every day
        // is held, and the longest strings held (each a prefix of the database's) name their ids.
        let strings: Strings = match stamped.strings {
            Some(fresh) => Arc::new(fresh),
            None => held
                .values()
                .map(|e| &e.strings)
                .max_by_key(|s| s.len())
                .cloned()
                .unwrap_or_default(),
        };
        let mut days = Vec::with_capacity(decoded.len());
        let mut new = Vec::new();
        for (day, stamp, fresh) in decoded {
            match fresh {
                Some(d) => {
                    days.push(d.clone());
                    let strings = strings.clone();
                    new.push((
                        day,
                        Entry {
                            stamp,
                            day: d,
                            strings,
                        },
                    ));
                }
                None => days.push(held[&day].day.clone()),
            }
        }
        self.keep(new);
        Ok(PeriodDays { days, strings })
    }

    /// Keeps newly decoded days, then drops the oldest while over budget.
    fn keep(&self, new: Vec<(i64, Entry)>) {
        if self.budget == 0 {
            return;
        }
        let mut held = self.lock();
        for (day, entry) in new {
            held.bytes += bytes_of(&entry.day);
            if let Some(old) = held.days.insert(day, entry) {
                held.bytes -= bytes_of(&old.day);
            }
        }
        while held.bytes > self.budget {
            let Some((_, old)) = held.days.pop_first() else {
                break;
            };
            held.bytes -= bytes_of(&old.day);
        }
    }

    /// Decodes the newest days of the record, a month at a time, until the budget is reached or
    /// the record read: the first views are then as quick as the rest. Returns the days held.
    pub fn warm(&self, store: Reader<'_>) -> Result<usize, ReadError> {
        let all = store.record_days()?;
        let (Some(&first), Some(&last)) = (all.first(), all.last()) else {
            return Ok(0);
        };
        let mut until = last;
        while until >= first && self.bytes() < self.budget {
            let from = until - 30;
            // A month at a time, each through the gate, so views wait for one month at most.
            let _pass = super::gate::fanout().enter();
            self.days(store, from, until)?;
            until = from - 1;
        }
        Ok(self.len())
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::model::{RecordHit, RecordVisit};
    use crate::query::filter::Filter;
    use crate::query::goal::Goal;
    use crate::query::report::{self, Ask};
    use crate::rollup::days::day_number;
    use crate::store::Store;

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn visit(visitor: u32, source: &str, browser: &str, pages: &[&str]) -> RecordVisit {
        RecordVisit {
            site: "example.com".into(),
            visitor,
            entry: pages[0].into(),
            exit: pages[pages.len() - 1].into(),
            source: source.into(),
            utm: ["news", "email", "spring", "", ""].map(String::from),
            browser: browser.into(),
            os: "Linux".into(),
            device: "Desktop".into(),
            country: Some("NL".into()),
            pageviews: pages.len() as u32,
            duration_s: 30 * (pages.len() as u32 - 1),
            hits: pages
                .iter()
                .map(|p| RecordHit {
                    path: p.to_string(),
                    method: 1,
                    status: 200,
                    page: true,
                    hour: 9,
                })
                .collect(),
        }
    }

    /// Day `d` of March: a few visits whose mix changes with the day.
    fn visits_of(d: u32) -> Vec<RecordVisit> {
        (0..d % 4 + 2)
            .map(|i| {
                let source = ["Google", "Direct", "news.ycombinator.com"][(i + d) as usize % 3];
                let browser = ["Firefox", "Chrome"][(i * d) as usize % 2];
                let pages: &[&str] = match (i + d) % 3 {
                    0 => &["/", "/pricing", "/signup/thanks"],
                    1 => &["/blog/one"],
                    _ => &["/pricing", "/docs"],
                };
                visit(i / 2, source, browser, pages)
            })
            .collect()
    }

    fn write(store: &mut Store, d: u32, visits: &[RecordVisit]) {
        let tx = store.conn_mut().transaction().unwrap();
        record::replace_day(&tx, day_number(date(d)), visits).unwrap();
        tx.commit().unwrap();
    }

    fn month() -> Store {
        let mut store = Store::open_in_memory().unwrap();
        for d in 1..=20 {
            write(&mut store, d, &visits_of(d));
        }
        store
    }

    fn report(store: &Store, filters: &[&str], cache: Option<&Cache>) -> crate::report::Report {
        let sections: Vec<String> = [
            "overview",
            "pages",
            "entry-pages",
            "exit-pages",
            "sources",
            "campaigns",
            "browsers",
            "hours",
            "goals",
        ]
        .map(String::from)
        .to_vec();
        let filters: Vec<Filter> = filters.iter().map(|f| Filter::parse(f).unwrap()).collect();
        let goals = [Goal::parse_flag("Signup=/signup/thanks").unwrap()];
        let ask = Ask {
            site: Some("example.com"),
            from: date(11),
            until: date(20),
            top: 10,
            sections: &sections,
            filters: &filters,
            goals: &goals,
        };
        report::read(Reader::Sqlite(store.conn()), &ask, cache).unwrap()
    }

    const VIEWS: &[&[&str]] = &[
        &[],
        &["source=Google"],
        &["source=Google", "browser=Firefox"],
        &["page=/pricing"],
        &["goal=Signup"],
        &["entry-page=/blog/*"],
    ];

    #[test]
    fn reports_from_the_cache_equal_reports_read_each_time() {
        let store = month();
        let cache = Cache::new(64 << 20);
        for filters in VIEWS {
            let read = report(&store, filters, None);
            assert!(read.overview.as_ref().unwrap().visits > 0, "{filters:?}");
            assert_eq!(
                report(&store, filters, Some(&cache)),
                read,
                "{filters:?}, cold"
            );
            assert_eq!(
                report(&store, filters, Some(&cache)),
                read,
                "{filters:?}, warm"
            );
        }
        assert_eq!(cache.len(), 20, "the period and the one before it");
    }

    #[test]
    fn a_day_rewritten_by_rollup_is_read_again() {
        let mut store = month();
        let cache = Cache::new(64 << 20);
        let before = report(&store, &["source=Google"], Some(&cache));
        // More of the day's lines arrive and rollup writes the day again, with a new page.
        let mut more = visits_of(15);
        more.push(visit(9, "Google", "Firefox", &["/new-page"]));
        write(&mut store, 15, &more);
        let after = report(&store, &["source=Google"], Some(&cache));
        assert_eq!(after, report(&store, &["source=Google"], None));
        assert_eq!(
            after.overview.as_ref().unwrap().visits,
            before.overview.as_ref().unwrap().visits + 1
        );
        let pages = after.sections.iter().find(|s| s.name == "pages").unwrap();
        assert!(
            pages.rows.iter().any(|r| r.key == "/new-page"),
            "its new string named"
        );
    }

    #[test]
    fn over_budget_the_oldest_days_go_first() {
        let store = month();
        let one_day = {
            let all = Cache::new(64 << 20);
            all.days(
                Reader::Sqlite(store.conn()),
                day_number(date(1)),
                day_number(date(20)),
            )
            .unwrap();
            all.bytes() / all.len()
        };
        let cache = Cache::new(one_day * 5);
        let got = cache
            .days(
                Reader::Sqlite(store.conn()),
                day_number(date(1)),
                day_number(date(20)),
            )
            .unwrap();
        assert_eq!(got.days.len(), 20, "a view gets every day, held or not");
        assert!(cache.bytes() <= one_day * 5);
        let held: Vec<i64> = cache.lock().days.keys().copied().collect();
        assert!(!held.is_empty());
        assert_eq!(
            *held.last().unwrap(),
            day_number(date(20)),
            "the newest stay"
        );
        assert!(held[0] > day_number(date(10)), "the oldest went");
        let none = Cache::new(0);
        none.days(
            Reader::Sqlite(store.conn()),
            day_number(date(1)),
            day_number(date(20)),
        )
        .unwrap();
        assert!(none.is_empty(), "a budget of 0 keeps nothing");
    }

    /// 100 reports at once over a year, as 100 dashboard clients ask for them: a rayon worker
    /// that waits for its part of one report steals parts of the others onto its own stack, and
    /// each level of that nesting used to hold whole accumulators by value (issue #23: `serve`
    /// aborted with "thread has overflowed its stack" at 100 connections).
    #[test]
    fn a_hundred_reports_at_once_keep_within_the_stack() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("year.db");
        let mut store = Store::open(&path).unwrap();
        let first = date(1);
        for n in 0..365 {
            let d = first + chrono::Duration::days(n);
            let tx = store.conn_mut().transaction().unwrap();
            record::replace_day(&tx, day_number(d), &visits_of(n as u32 % 28 + 1)).unwrap();
            tx.commit().unwrap();
        }
        drop(store);
        let cache = Cache::new(64 << 20);
        let sections: Vec<String> = ["overview", "pages", "sources", "hours", "campaigns"]
            .map(String::from)
            .to_vec();
        let filters = [Filter::parse("page=/pricing").unwrap()];
        std::thread::scope(|scope| {
            for i in 0..100 {
                let (path, cache, sections, filters) = (&path, &cache, &sections, &filters);
                scope.spawn(move || {
                    let store = Store::open_read_only(path).unwrap();
                    let ask = Ask {
                        site: None,
                        from: first,
                        until: first + chrono::Duration::days(364),
                        top: 10,
                        sections,
                        filters: if i % 2 == 0 { &filters[..] } else { &[] },
                        goals: &[],
                    };
                    let cached = (i % 3 != 0).then_some(cache);
                    let r = report::read(Reader::Sqlite(store.conn()), &ask, cached).unwrap();
                    assert!(r.overview.unwrap().visits > 0);
                });
            }
        });
    }

    #[test]
    fn warming_reads_the_newest_days_within_the_budget() {
        let store = month();
        let cache = Cache::new(64 << 20);
        assert_eq!(cache.warm(Reader::Sqlite(store.conn())).unwrap(), 20);
        let empty = Store::open_in_memory().unwrap();
        assert_eq!(
            Cache::new(64 << 20)
                .warm(Reader::Sqlite(empty.conn()))
                .unwrap(),
            0
        );
    }
}
