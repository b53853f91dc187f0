//! Questions over the permanent record of human visits: filters, and the reports they give.
//! Shared by `stats` and the dashboard.

pub mod cache;
pub mod filter;
pub mod gate;
pub mod goal;
pub mod period;
pub mod report;
pub mod rollups;

use anyhow::Context;

use crate::report::catalogue::{self, counts_hits, record_only};
use crate::report::{self as rendered, Report};
use crate::store::reader::Reader;
use filter::Filter;
use goal::Goal;

/// Every section a report can hold.
pub fn sections() -> impl Iterator<Item = &'static str> {
    catalogue::names()
}

/// Checks the sections asked for: known, and none that filters cannot apply to.
pub fn check_sections(asked: &[String], filters: &[Filter]) -> Result<(), String> {
    for s in asked {
        if !sections().any(|k| k == s) {
            return Err(format!(
                "unknown section {s:?}; sections are: {}",
                sections().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if !filters.is_empty() {
        if let Some(s) = asked.iter().find(|s| counts_hits(s)) {
            return Err(format!(
                "the {s} section counts requests, bots included, not visits: no filter applies to it; ask for it without filters"
            ));
        }
    }
    Ok(())
}

/// Filters and goals as given (`KEY=VALUE` texts, the configuration's goals, `NAME=PATTERN`
/// texts), checked: an unknown key or a goal filter naming no goal is an error that lists them.
pub fn filters_and_goals(
    filters: &[String],
    configured: &[Goal],
    goal_flags: &[String],
) -> Result<(Vec<Filter>, Vec<Goal>), String> {
    let filters = filters
        .iter()
        .map(|f| Filter::parse(f).map_err(|e| format!("filter: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut goals = configured.to_vec();
    for g in goal_flags {
        goals.push(Goal::parse_flag(g).map_err(|e| format!("goal: {e}"))?);
    }
    for f in filters.iter().filter(|f| f.key == filter::Key::Goal) {
        if !goals.iter().any(|g| f.pattern.matches(&g.name)) {
            let names: Vec<&str> = goals.iter().map(|g| g.name.as_str()).collect();
            return Err(format!(
                "filter {f}: no goal of that name; goals are: {} (define them with [[goal]] in the configuration or --goal NAME=PATH)",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            ));
        }
    }
    Ok((filters, goals))
}

/// A second reader of the same store, for another thread.
enum Second<'a> {
    Sqlite(crate::store::Store),
    ClickHouse(&'a crate::store::clickhouse::ClickHouse),
}

impl Second<'_> {
    fn reader(&self) -> Reader<'_> {
        match self {
            Second::Sqlite(s) => Reader::Sqlite(s.conn()),
            Second::ClickHouse(ch) => Reader::ClickHouse(ch),
        }
    }
}

/// The report asked for: unfiltered sections from the rollups, filtered ones and those only the
/// permanent record answers from the record, in the order asked. Shared by `stats` and `serve`
/// (which keeps decoded days in a `cache` between views).
pub fn read(
    store: Reader<'_>,
    q: &rollups::Query,
    filters: &[Filter],
    goals: &[Goal],
    cache: Option<&cache::Cache>,
) -> anyhow::Result<Report> {
    let from_record = |s: &String| !filters.is_empty() || record_only(s);
    let (recorded, rolled): (Vec<String>, Vec<String>) =
        q.sections.iter().cloned().partition(from_record);
    let read_rollups = |store: Reader<'_>| {
        rollups::read(
            store,
            &rollups::Query {
                sections: rolled.clone(),
                ..q.clone()
            },
        )
        .context("reading rollups")
    };
    let read_record = |store: Reader<'_>| {
        self::report::read(
            store,
            &self::report::Ask {
                site: q.site.as_deref(),
                from: q.from,
                until: q.until,
                top: q.top,
                sections: &recorded,
                filters,
                goals,
            },
            cache,
        )
        .context("reading the record of visits")
    };
    if recorded.is_empty() {
        let mut out = read_rollups(store)?;
        mark_imported(store, q, &mut out, filters)?;
        return Ok(out);
    }
    // Both at once when there is a second reader to be had (the record is read by threads of
    // its own; the rollups meanwhile here): a second connection to a SQLite file, or the same
    // ClickHouse client.
    let second = match store {
        Reader::Sqlite(conn) => conn
            .path()
            .filter(|p| !p.is_empty())
            .and_then(|p| crate::store::Store::open_read_only(std::path::Path::new(p)).ok())
            .map(Second::Sqlite),
        Reader::ClickHouse(ch) => Some(Second::ClickHouse(ch)),
    };
    let (rolled_report, from_rec) = match second {
        Some(reader) => std::thread::scope(|scope| {
            let read_record = &read_record;
            let record = scope.spawn(move || read_record(reader.reader()));
            let rolled_report = read_rollups(store);
            (rolled_report, record.join().expect("record reader"))
        }),
        None => (read_rollups(store), read_record(store)),
    };
    let mut out = rolled_report?;
    let from_rec = from_rec?;
    if recorded.iter().any(|s| s == "overview") {
        out.overview = from_rec.overview;
        out.previous = from_rec.previous;
    }
    let mut all: Vec<rendered::Section> = out.sections.drain(..).chain(from_rec.sections).collect();
    for name in &q.sections {
        if let Some(i) = all.iter().position(|s| s.name == name) {
            out.sections.push(all.remove(i));
        }
        // `bots` brings `crawlers` with it.
        for extra in catalogue::CATALOGUE
            .iter()
            .filter(|d| d.with == Some(name.as_str()))
        {
            if let Some(i) = all.iter().position(|s| s.name == extra.name) {
                out.sections.push(all.remove(i));
            }
        }
    }
    out.filters = filters.iter().map(ToString::to_string).collect();
    mark_imported(store, q, &mut out, filters)?;
    Ok(out)
}

/// Says which days of `out` come from imported exports, and marks the sections those days have
/// nothing of (read from the log days only, never as if the imported days had none).
fn mark_imported(
    store: Reader<'_>,
    q: &rollups::Query,
    out: &mut Report,
    filters: &[Filter],
) -> anyhow::Result<()> {
    let spans = store
        .imported(crate::store::reads::Span {
            site: q.site.as_deref(),
            from: q.from,
            until: q.until,
        })
        .context("reading imported history")?;
    let parse = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    // A section is carried where every import read has figures of its table.
    let all_carry = |table: &str| spans.iter().all(|s| s.tables.iter().any(|t| t == table));
    let carried: Vec<&str> = crate::store::history::TABLES
        .iter()
        .copied()
        .filter(|t| all_carry(t))
        .collect();
    out.imported = spans
        .iter()
        .filter_map(|s| {
            Some(rendered::Imported {
                id: s.id,
                source: crate::history::title_of(&s.source),
                from: parse(&s.from)?,
                until: parse(&s.until)?,
                days: s.days,
            })
        })
        .collect();
    if out.imported.is_empty() {
        return Ok(());
    }
    for s in &mut out.sections {
        let carried = filters.is_empty()
            && catalogue::described(s.name).is_some_and(|d| match d.origin {
                catalogue::Origin::Rollup { table, .. } => carried.contains(&table),
                _ => false,
            });
        if !carried && s.note.is_none() {
            s.note = Some(rendered::LOG_DAYS_ONLY_NOTE);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_key_the_catalogue_names_is_one_filters_take() {
        for d in catalogue::CATALOGUE {
            if let Some(key) = d.filter {
                assert!(
                    Filter::parse(&format!("{key}=x")).is_ok(),
                    "{}: {key}",
                    d.name
                );
            }
        }
    }
}
