//! Reading the events ClickHouse holds, for rollup: how many each stretch of time holds, and one
//! local day's events, each line once (`FINAL`).

use super::wire::{Rows, Truncated};
use super::{ClickHouse, Error};

/// Events are counted by quarter hours: every zone's offset is a whole number of them, so each
/// falls within one local day.
pub const QUARTER_MS: i64 = 900_000;

/// One event as stored, strings and all (empty for absent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredEvent {
    /// Unix ms.
    pub ts: i64,
    /// Site.
    pub site: String,
    /// Path.
    pub path: String,
    /// Referrer host.
    pub referrer_host: String,
    /// Referrer source ("" for none).
    pub referrer_source: String,
    /// `utm_medium`, `utm_campaign`, `utm_content`, `utm_term`.
    pub utm: [String; 4],
    /// User agent.
    pub agent: String,
    /// Salted visitor hash.
    pub visitor: i64,
    /// HTTP status.
    pub status: u16,
    /// Response bytes (negative: unknown).
    pub bytes: i64,
    /// `classify::Method` code.
    pub method: u8,
    /// `classify::kind::Kind` code.
    pub kind: u8,
    /// Bot reason, 0 for none.
    pub bot: u8,
    /// Packed country, 0 for none.
    pub country: u16,
    /// Salted hashes of network and address.
    pub origin: i64,
    /// `classify::traits` bits.
    pub traits: u8,
}

/// Events per quarter hour (its number since 1970), each line once.
pub fn per_quarter(ch: &ClickHouse) -> Result<Vec<(i64, u64)>, Error> {
    let data = ch.select_binary(&format!(
        "SELECT intDiv(ts_ms, {QUARTER_MS}) AS q, count() FROM {}.events FINAL GROUP BY q",
        ch.database()
    ))?;
    let mut rows = Rows::new(&data);
    let mut out = Vec::new();
    while rows.more() {
        let mut row = || -> Result<(i64, u64), Truncated> { Ok((rows.i64()?, rows.u64()?)) };
        out.push(row().map_err(|e| ch.failed(e.to_string()))?);
    }
    Ok(out)
}

/// The events of `[start, end)` (Unix ms), each line once, in each file's order.
pub fn load_day(ch: &ClickHouse, start: i64, end: i64) -> Result<Vec<StoredEvent>, Error> {
    let (first, last) = (
        start.div_euclid(86_400_000),
        (end - 1).div_euclid(86_400_000),
    );
    let day = super::date_of;
    let data = ch.select_binary(&format!(
        "SELECT ts_ms, site, path, referrer_host, referrer_source, utm_medium, utm_campaign,
                utm_content, utm_term, agent, visitor, status, bytes, method, kind, bot, country,
                origin, traits
         FROM {}.events FINAL
         WHERE date BETWEEN '{}' AND '{}' AND ts_ms >= {start} AND ts_ms < {end}
         ORDER BY host, file, line",
        ch.database(),
        day(first),
        day(last)
    ))?;
    let mut rows = Rows::new(&data);
    let mut out = Vec::new();
    while rows.more() {
        let mut row = || -> Result<StoredEvent, Truncated> {
            Ok(StoredEvent {
                ts: rows.i64()?,
                site: rows.text()?,
                path: rows.text()?,
                referrer_host: rows.text()?,
                referrer_source: rows.text()?,
                utm: [rows.text()?, rows.text()?, rows.text()?, rows.text()?],
                agent: rows.text()?,
                visitor: rows.i64()?,
                status: rows.u16()?,
                bytes: rows.i64()?,
                method: rows.u8()?,
                kind: rows.u8()?,
                bot: rows.u8()?,
                country: rows.u16()?,
                origin: rows.i64()?,
                traits: rows.u8()?,
            })
        };
        out.push(row().map_err(|e| ch.failed(e.to_string()))?);
    }
    Ok(out)
}
