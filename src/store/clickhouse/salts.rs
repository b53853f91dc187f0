//! Day salts settled in the ClickHouse store, so that every collector writing to it hashes a
//! day's visitors alike: a person whose requests reach two web servers is one visitor.
//!
//! ClickHouse has no transactions to settle a salt in, so the store settles it by a rule every
//! collector applies alike: a collector that finds no salt for a day adds a fresh one of its own;
//! the day's salt is then the smallest of those added within [`WINDOW_S`] seconds of the first
//! (by the server's clock), and it is taken only once that window has passed. A collector that
//! found none added its own before the window closed, so all of them see the same rows; one
//! that adds later is outside the window, and takes the settled salt like the rest.
//!
//! Salts are settled [`AHEAD`] days at a time, so a collector waits out the window about once a
//! month of log. The store keeps the salts as SQLite does: whoever can read them and guess an
//! address can test the guess against that day's hashes, so give the store's users no more
//! than the database's.

use std::time::Duration;

use super::wire::{Binary, Rows, Truncated};
use super::{ClickHouse, Error};
use crate::classify::visitor::{Salt, SaltBook, SaltError};

/// Seconds after a day's first salt within which others count.
pub const WINDOW_S: u32 = 2;

/// Days settled together: the day asked for and those after it.
pub const AHEAD: i64 = 31;

/// Creates the salts table where it does not exist.
pub fn ensure_schema(ch: &ClickHouse) -> Result<(), Error> {
    ch.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {}.salts (day Int64, salt String, collector String, at DateTime DEFAULT now())
         ENGINE = MergeTree() ORDER BY day",
        ch.database()
    ))
}

/// A salt row as read: (day, salt, added at, the server's now), times in Unix seconds.
type Row = (i64, Vec<u8>, u32, u32);

fn read(ch: &ClickHouse, from: i64, until: i64) -> Result<Vec<Row>, Error> {
    let data = ch.select_binary(&format!(
        "SELECT day, salt, toUInt32(at), toUInt32(now()) FROM {}.salts WHERE day BETWEEN {from} AND {until}",
        ch.database()
    ))?;
    let mut rows = Rows::new(&data);
    let mut out = Vec::new();
    while rows.more() {
        let mut row = || -> Result<Row, Truncated> {
            Ok((
                rows.i64()?,
                rows.bytes()?.to_vec(),
                rows.u32()?,
                rows.u32()?,
            ))
        };
        out.push(row().map_err(|e| ch.failed(e.to_string()))?);
    }
    Ok(out)
}

/// The settled salt of `day` among `rows`: `Ok(None)` while its window is open (or it has no
/// row).
fn settled(day: i64, rows: &[Row]) -> Result<Option<Salt>, usize> {
    let of_day = || rows.iter().filter(|r| r.0 == day);
    let Some(first) = of_day().map(|r| r.2).min() else {
        return Ok(None);
    };
    let now = of_day().map(|r| r.3).max().unwrap_or(0);
    if now < first + WINDOW_S {
        return Ok(None);
    }
    let smallest = of_day()
        .filter(|r| r.2 <= first + WINDOW_S)
        .map(|r| &r.1)
        .min()
        .expect("the first row is in its window");
    Salt::try_from(smallest.as_slice())
        .map(Some)
        .map_err(|_| smallest.len())
}

/// Settles day salts in the store, as collector `collector`.
pub struct Book {
    store: ClickHouse,
    collector: String,
}

impl Book {
    /// A book on `store`.
    pub fn new(store: ClickHouse, collector: String) -> Book {
        Book { store, collector }
    }

    fn settle_in_store(&self, fresh: &[(i64, Salt)]) -> Result<Vec<(i64, Salt)>, String> {
        let ch = &self.store;
        let Some(&(first_day, _)) = fresh.first() else {
            return Ok(Vec::new());
        };
        let last_day = first_day + AHEAD;
        let mut rows = read(ch, first_day, last_day).map_err(|e| e.to_string())?;
        // The days asked for, and the month after the first.
        let mut days: Vec<(i64, Salt)> = fresh.to_vec();
        for d in first_day..=last_day {
            if !days.iter().any(|(x, _)| *x == d) {
                let mut salt = [0u8; 16];
                getrandom::fill(&mut salt)
                    .map_err(|e| format!("the OS random source failed: {e}"))?;
                days.push((d, salt));
            }
        }
        let missing: Vec<&(i64, Salt)> = days
            .iter()
            .filter(|(d, _)| !rows.iter().any(|r| r.0 == *d))
            .collect();
        if !missing.is_empty() {
            let mut body = Vec::new();
            for (d, salt) in missing {
                let mut w = Binary(&mut body);
                w.i64(*d);
                w.bytes(salt);
                w.text(&self.collector);
            }
            ch.insert_binary("salts", "day, salt, collector", &body)
                .map_err(|e| e.to_string())?;
        }
        loop {
            let mut out = Vec::with_capacity(days.len());
            let mut open = false;
            for (d, _) in &days {
                match settled(*d, &rows) {
                    Ok(Some(s)) => out.push((*d, s)),
                    Ok(None) => open = true,
                    Err(len) => {
                        return Err(format!(
                            "the visitor salt of day {d} in the store is {len} bytes long, not 16"
                        ))
                    }
                }
            }
            if !open {
                return Ok(out);
            }
            std::thread::sleep(Duration::from_millis(100));
            rows = read(ch, first_day, last_day).map_err(|e| e.to_string())?;
        }
    }
}

impl SaltBook for Book {
    fn settle(&self, fresh: &[(i64, Salt)]) -> Result<Vec<(i64, Salt)>, SaltError> {
        self.settle_in_store(fresh).map_err(|reason| SaltError {
            day: fresh.first().map_or(0, |(d, _)| *d),
            busy: true,
            reason: format!(
                "settling the day's visitor salt in {}: {reason}",
                self.store.url()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_salt_within_the_window_wins_once_it_closed() {
        let row = |salt: u8, at: u32, now: u32| (7, vec![salt; 16], at, now);
        assert_eq!(settled(7, &[]), Ok(None));
        // Still open: nobody takes a salt yet.
        assert_eq!(settled(7, &[row(9, 100, 101)]), Ok(None));
        let rows = [row(9, 100, 103), row(3, 102, 103), row(1, 103, 103)];
        // 1 came after the window: it is left out by everyone.
        assert_eq!(settled(7, &rows), Ok(Some([3; 16])));
        assert_eq!(settled(8, &rows), Ok(None));
        assert_eq!(settled(7, &[(7, vec![1; 4], 0, 10)]), Err(4));
    }
}
