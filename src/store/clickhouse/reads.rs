//! What reports read of the rollups and the record in ClickHouse: the same answers as
//! `store::reads` gives from SQLite, summed by ClickHouse.

use chrono::NaiveDate;

use super::rollups::{committed, table, KeyType};
use super::wire::{quoted, Rows, Truncated};
use super::{ClickHouse, Error};
use crate::store::reads::{Key, Span, Sums};
use crate::store::record::{place_string, Loaded, Stamped, StampedDay};

fn date_of(days: u16) -> NaiveDate {
    super::date_of(i64::from(days))
}

use super::day_number;

/// `WHERE` of a span's rows in a rollup table.
fn span_clause(ch: &ClickHouse, span: Span<'_>) -> String {
    let site = span
        .site
        .map(|s| format!(" AND site = {}", quoted(s)))
        .unwrap_or_default();
    format!(
        "day BETWEEN '{}' AND '{}'{site} AND {}",
        span.from,
        span.until,
        committed(ch, span.from, span.until)
    )
}

/// Reads rows of `data` with `row`, turning a short answer into the store's error.
fn each(
    ch: &ClickHouse,
    data: &[u8],
    mut row: impl FnMut(&mut Rows<'_>) -> Result<(), Truncated>,
) -> Result<(), Error> {
    let mut rows = Rows::new(data);
    while rows.more() {
        row(&mut rows).map_err(|e| ch.failed(e.to_string()))?;
    }
    Ok(())
}

/// The totals of `span`.
pub fn sums(ch: &ClickHouse, span: Span<'_>) -> Result<Sums, Error> {
    let db = ch.database();
    let data = ch.select_binary(&format!(
        "SELECT toUInt64(sum(visitors)), toUInt64(sum(pageviews)), toUInt64(sum(visits)), toUInt64(sum(bounces)),
                toUInt64(sum(duration_s)), toUInt64(sum(bot_hits))
         FROM {db}.daily_totals WHERE {}",
        span_clause(ch, span)
    ))?;
    let mut sums = Sums::default();
    each(ch, &data, |r| {
        sums.visitors = r.u64()?;
        sums.pageviews = r.u64()?;
        sums.visits = r.u64()?;
        sums.bounces = r.u64()?;
        sums.duration_s = r.u64()?;
        sums.bot_hits = r.u64()?;
        Ok(())
    })?;
    let data = ch.select_binary(&format!(
        "SELECT day, toUInt64(sum(pageviews)) FROM {db}.daily_totals WHERE {} GROUP BY day",
        span_clause(ch, span)
    ))?;
    let mut per_day = std::collections::HashMap::new();
    each(ch, &data, |r| {
        let day = r.u16()?;
        per_day.insert(i64::from(day), r.u64()?);
        Ok(())
    })?;
    sums.daily_pageviews = span
        .from
        .iter_days()
        .take_while(|d| *d <= span.until)
        .map(|d| per_day.get(&day_number(d)).copied().unwrap_or(0))
        .collect();
    Ok(sums)
}

/// As `store::reads::ranked`: the `top` keys of `key` in `table` by the first of `numbers`,
/// then by key.
pub fn ranked(
    ch: &ClickHouse,
    span: Span<'_>,
    table_name: &str,
    key: &str,
    numbers: &[&str],
    top: usize,
) -> Result<Vec<(Key, Vec<u64>)>, Error> {
    let t = table(table_name).unwrap_or_else(|| panic!("{table_name} is no rollup table"));
    let ty = t
        .key
        .filter(|(k, _)| *k == key)
        .map(|(_, ty)| ty)
        .unwrap_or_else(|| panic!("{table_name} has no key {key}"));
    let sums: Vec<String> = numbers
        .iter()
        .enumerate()
        .map(|(i, n)| format!("toUInt64(sum({n})) AS n{i}"))
        .collect();
    let data = ch.select_binary(&format!(
        "SELECT {key}, {} FROM {}.{table_name} WHERE {} GROUP BY {key} ORDER BY n0 DESC, {key} LIMIT {top}",
        sums.join(", "),
        ch.database(),
        span_clause(ch, span)
    ))?;
    let mut out = Vec::new();
    each(ch, &data, |r| {
        let k: Key = match ty {
            KeyType::Text => Err(r.bytes()?.to_vec()),
            KeyType::U8 => Ok(i64::from(r.u8()?)),
            KeyType::U16 => Ok(i64::from(r.u16()?)),
            KeyType::U32 => Ok(i64::from(r.u32()?)),
        };
        let values = (0..numbers.len())
            .map(|_| r.u64())
            .collect::<Result<Vec<_>, _>>()?;
        out.push((k, values));
        Ok(())
    })?;
    Ok(out)
}

/// Days of `span` with rolled-up data.
pub fn days_with_data(ch: &ClickHouse, span: Span<'_>) -> Result<u64, Error> {
    let data = ch.select_binary(&format!(
        "SELECT toUInt64(uniqExact(day)) FROM {}.daily_totals WHERE {}",
        ch.database(),
        span_clause(ch, span)
    ))?;
    let mut n = 0;
    each(ch, &data, |r| {
        n = r.u64()?;
        Ok(())
    })?;
    Ok(n)
}

/// The first and last days with rolled-up data.
pub fn data_range(ch: &ClickHouse) -> Result<Option<(NaiveDate, NaiveDate)>, Error> {
    let db = ch.database();
    let data = ch.select_binary(&format!(
        "SELECT min(day), max(day), count() FROM {db}.daily_totals
         WHERE (day, version) IN (SELECT day, version FROM {db}.rollup_days FINAL)"
    ))?;
    let mut range = None;
    each(ch, &data, |r| {
        let (a, b, n) = (r.u16()?, r.u16()?, r.u64()?);
        range = (n > 0).then(|| (date_of(a), date_of(b)));
        Ok(())
    })?;
    Ok(range)
}

/// Every record string by id.
fn strings(ch: &ClickHouse) -> Result<Vec<String>, Error> {
    let data = ch.select_binary(&format!(
        "SELECT id, text FROM {}.record_strings FINAL",
        ch.database()
    ))?;
    let mut out = vec![String::new()];
    each(ch, &data, |r| {
        let id = r.u32()?;
        place_string(&mut out, id, r.text()?);
        Ok(())
    })?;
    Ok(out)
}

/// The record's days `from..=until` (days since 1970) that readers read: (day, version, data
/// unless `known(day, version)`).
fn record_days(
    ch: &ClickHouse,
    from: i64,
    until: i64,
    known: impl Fn(i64, i64) -> bool,
) -> Result<Vec<StampedDay>, Error> {
    let db = ch.database();
    let on = |d: i64| date_of(d.clamp(0, i64::from(u16::MAX)) as u16);
    let window = format!("day BETWEEN '{}' AND '{}'", on(from), on(until));
    let data = ch.select_binary(&format!(
        "SELECT day, version FROM {db}.rollup_days FINAL WHERE {window} ORDER BY day"
    ))?;
    let mut days = Vec::new();
    each(ch, &data, |r| {
        let day = i64::from(r.u16()?);
        let version = r.u64()? as i64;
        days.push((day, version));
        Ok(())
    })?;
    let wanted: Vec<String> = days
        .iter()
        .filter(|(d, v)| !known(*d, *v))
        .map(|(d, v)| format!("('{}', {})", on(*d), *v as u64))
        .collect();
    let mut blobs = std::collections::HashMap::new();
    if !wanted.is_empty() {
        let data = ch.select_binary(&format!(
            "SELECT day, data FROM {db}.record_days WHERE {window} AND (day, version) IN ({})",
            wanted.join(", ")
        ))?;
        each(ch, &data, |r| {
            let day = i64::from(r.u16()?);
            blobs.insert(day, r.bytes()?.to_vec());
            Ok(())
        })?;
    }
    Ok(days
        .into_iter()
        .filter_map(|(d, v)| {
            if known(d, v) {
                Some((d, v, None))
            } else {
                // A day rolled up without a record (none of its visits were people's) has none.
                blobs.remove(&d).map(|b| (d, v, Some(b)))
            }
        })
        .collect())
}

/// As `store::record::load`.
pub fn load(ch: &ClickHouse, from: i64, until: i64) -> Result<Loaded, Error> {
    let days = record_days(ch, from, until, |_, _| false)?;
    let blobs = days
        .into_iter()
        .filter_map(|(d, _, b)| b.map(|b| (d, b)))
        .collect();
    Ok((blobs, strings(ch)?))
}

/// As `store::record::load_unless_known`, a day's version as its stamp.
pub fn load_unless_known(
    ch: &ClickHouse,
    from: i64,
    until: i64,
    known: impl Fn(i64, i64) -> bool,
) -> Result<Stamped, Error> {
    let days = record_days(ch, from, until, known)?;
    let strings = if days.iter().any(|d| d.2.is_some()) {
        Some(strings(ch)?)
    } else {
        None
    };
    Ok(Stamped { days, strings })
}

/// Days whose record readers read, oldest first.
pub fn days(ch: &ClickHouse) -> Result<Vec<i64>, Error> {
    let data = ch.select_binary(&format!(
        "SELECT day FROM {}.rollup_days FINAL ORDER BY day",
        ch.database()
    ))?;
    let mut out = Vec::new();
    each(ch, &data, |r| {
        out.push(i64::from(r.u16()?));
        Ok(())
    })?;
    Ok(out)
}
