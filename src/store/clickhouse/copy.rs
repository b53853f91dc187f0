//! `migrate --to clickhouse://...`: a SQLite history (its rollups and its record of visits)
//! copied into a ClickHouse store once. A day the store already reads (rolled up there, or
//! copied before) is left as it is, so a second run copies nothing. Copied days are written as
//! made of no events of the store's own: when the store's events later cover such a day,
//! `rollup --store` makes it again from them.

use chrono::NaiveDate;
use rusqlite::Connection;

use super::rollups::{self, RolledDay, Strings};
use super::{day_number, ClickHouse, Error};
use crate::model::RecordDay;
use crate::store::record;

/// What a copy did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Copied {
    /// Days copied, oldest first.
    pub days: Vec<String>,
    /// Days the store had already.
    pub kept: u64,
}

/// Why a copy failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Reading the SQLite database failed.
    #[error("reading the database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// ClickHouse failed.
    #[error(transparent)]
    ClickHouse(#[from] Error),
}

/// Days the database holds rollups of, oldest first.
fn rolled_days(conn: &Connection) -> rusqlite::Result<Vec<NaiveDate>> {
    let mut stmt = conn.prepare("SELECT DISTINCT day FROM daily_totals ORDER BY day")?;
    let days = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(days
        .iter()
        .filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .collect())
}

/// Copies every day of `conn` (in zone `zone`) that `ch` does not read yet; `progress(done,
/// total)` after each.
pub fn copy_history(
    conn: &Connection,
    ch: &ClickHouse,
    zone: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Copied, CopyError> {
    let there = rollups::rolled_days(ch)?;
    let days = rolled_days(conn)?;
    let mut copied = Copied::default();
    let todo: Vec<NaiveDate> = days
        .into_iter()
        .filter(|d| {
            let kept = there.contains_key(d);
            copied.kept += u64::from(kept);
            !kept
        })
        .collect();
    let mut strings = Strings::load(ch)?;
    let texts = record::strings(conn)?;
    for (i, day) in todo.iter().enumerate() {
        let key = day.format("%Y-%m-%d").to_string();
        let sites = crate::store::rollups::read_day(conn, &key)?;
        let n = day_number(*day);
        let visits = record::day_data(conn, n)?
            .map(|data| record::visits_of(&record::unpack_with(n, &data, true), &texts))
            .unwrap_or_default();
        rollups::replace_day(
            ch,
            &mut strings,
            zone,
            0,
            &RolledDay {
                day: *day,
                events: 0,
                sites: &sites,
                record: &RecordDay { day: n, visits },
            },
        )?;
        copied.days.push(key);
        progress(i + 1, todo.len());
    }
    Ok(copied)
}
