//! Visitors without stored addresses: a keyed 64-bit hash of (salt of the hit's day, address, user
//! agent), the privacy model of Plausible and Fathom. Each day in the configured time zone gets its
//! own random salt; once the salt is deleted (after rollup), a day's hashes cannot be linked to an
//! address, nor across days.

use std::collections::HashMap;
use std::hash::Hasher;
use std::sync::Mutex;

use chrono::{Offset, TimeZone};
use chrono_tz::Tz;
use siphasher::sip::SipHasher24;

/// A day's salt: a SipHash-2-4 key.
pub type Salt = [u8; 16];

/// Maps a timestamp to its day number in a time zone, caching the zone offset per hour.
#[derive(Clone, Debug)]
pub struct DayClock {
    tz: Tz,
    hour: i64,
    offset_ms: i64,
}

impl DayClock {
    /// A clock for `tz`.
    pub fn new(tz: Tz) -> DayClock {
        DayClock {
            tz,
            hour: i64::MIN,
            offset_ms: 0,
        }
    }

    /// Days since 1970-01-01 of the local date of `ts_ms`.
    pub fn day(&mut self, ts_ms: i64) -> i64 {
        let hour = ts_ms.div_euclid(3_600_000);
        if hour != self.hour {
            self.hour = hour;
            self.offset_ms = chrono::DateTime::from_timestamp_millis(ts_ms).map_or(0, |t| {
                self.tz
                    .offset_from_utc_datetime(&t.naive_utc())
                    .fix()
                    .local_minus_utc() as i64
                    * 1000
            });
        }
        (ts_ms + self.offset_ms).div_euclid(86_400_000)
    }
}

/// Where day salts are recorded for every process: the database. Every writer of a day must hash
/// with one salt, or the day's visitors are counted once per process (two `import`s side by side,
/// or `tail` beside `import`). A row keeps only the hash, never the address, so a hash made with
/// the wrong salt can never be mended: the salt is settled before the first row is hashed.
pub trait SaltBook: Send + Sync {
    /// The salts recorded for the days of `fresh`, recording each fresh one first where a day
    /// has none, in one transaction.
    fn settle(&self, fresh: &[(i64, Salt)]) -> Result<Vec<(i64, Salt)>, SaltError>;
}

pub use crate::model::SaltError;

/// Days after a missing one whose salts are settled with it.
pub const SETTLED_AHEAD: i64 = 6;

/// The salts of all days seen, shared by parsing threads. A day missing here is settled with the
/// [`SaltBook`] (one short transaction per process and day), so it is committed before any row
/// hashed with it.
#[derive(Default)]
pub struct Salts {
    by_day: Mutex<HashMap<i64, Salt>>,
    book: Option<Box<dyn SaltBook>>,
}

impl std::fmt::Debug for Salts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Salts")
            .field("days", &self.by_day.lock().map(|m| m.len()).unwrap_or(0))
            .field("book", &self.book.is_some())
            .finish()
    }
}

impl Salts {
    /// Salts already recorded, and the book that records new ones (`None`: kept in memory only,
    /// for tests and in-memory databases).
    pub fn from_saved(
        saved: impl IntoIterator<Item = (i64, Salt)>,
        book: Option<Box<dyn SaltBook>>,
    ) -> Salts {
        Salts {
            by_day: Mutex::new(saved.into_iter().collect()),
            book,
        }
    }

    /// The salt of `day`: the recorded one, or a new one from the OS random source, recorded
    /// before it is returned.
    pub fn get(&self, day: i64) -> Result<Salt, SaltError> {
        let mut by_day = self.by_day.lock().expect("salt lock");
        if let Some(s) = by_day.get(&day) {
            return Ok(*s);
        }
        // The days after it too: a log goes on to the next days, and each settling waits for
        // the write lock, while every parsing thread waits for it.
        let mut fresh = Vec::with_capacity(SETTLED_AHEAD as usize + 1);
        for d in day..=day + SETTLED_AHEAD {
            if by_day.contains_key(&d) && d != day {
                continue;
            }
            let mut salt = [0u8; 16];
            getrandom::fill(&mut salt).map_err(|e| SaltError {
                day,
                reason: format!("the OS random source failed: {e}"),
                busy: false,
            })?;
            fresh.push((d, salt));
        }
        let settled = match &self.book {
            Some(book) => book.settle(&fresh)?,
            None => fresh,
        };
        by_day.extend(settled);
        Ok(by_day[&day])
    }

    /// Forgets the salts of days before `day` (a long-running `tail` keeps no more of them in
    /// memory than it needs; a late line for such a day reads its salt from the book again).
    pub fn forget_before(&self, day: i64) {
        self.by_day
            .lock()
            .expect("salt lock")
            .retain(|d, _| *d >= day);
    }
}

/// The visitor id for an address and user agent under a salt.
pub fn visitor_hash(salt: &Salt, addr: &[u8], agent: &[u8]) -> i64 {
    let mut h = SipHasher24::new_with_key(salt);
    h.write(addr);
    h.write_u8(0xff);
    h.write(agent);
    h.finish() as i64
}

/// 32 bits of a keyed hash of `bytes` under a salt, in a domain of its own (`tag`).
fn hash32(salt: &Salt, tag: u8, bytes: &[u8]) -> i64 {
    let mut h = SipHasher24::new_with_key(salt);
    h.write_u8(tag);
    h.write(bytes);
    (h.finish() & 0xffff_ffff) as i64
}

/// The client's origin under a salt: a hash of its network (`network_key`, its /24 or /48) in the
/// high 32 bits and of its address in the low 32, so rollup can count agents per address or
/// network, and addresses per agent, without any address. 32 bits each keep the column small; a
/// day's few thousand addresses rarely collide, and a collision only merges two clients' counts.
pub fn origin_hash(salt: &Salt, addr: &[u8], network_key: &[u8]) -> i64 {
    (hash32(salt, b'n', network_key) << 32) | hash32(salt, b'a', addr)
}

/// The address part of an origin.
pub fn origin_address(origin: i64) -> u32 {
    (origin & 0xffff_ffff) as u32
}

/// The network part of an origin.
pub fn origin_network(origin: i64) -> u32 {
    ((origin >> 32) & 0xffff_ffff) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_the_time_zone() {
        // 2026-03-29T23:30:00Z is already Monday 30th in Berlin (CEST, +2).
        let ts = 1_774_827_000_000;
        assert_eq!(DayClock::new(chrono_tz::UTC).day(ts), 20_541);
        assert_eq!(DayClock::new(chrono_tz::Europe::Berlin).day(ts), 20_542);
        assert_eq!(DayClock::new(chrono_tz::America::New_York).day(ts), 20_541);
    }

    #[test]
    fn hash_depends_on_salt_address_and_agent() {
        let (a, b) = ([1u8; 16], [2u8; 16]);
        let h = visitor_hash(&a, b"1.2.3.4", b"UA");
        assert_eq!(h, visitor_hash(&a, b"1.2.3.4", b"UA"));
        assert_ne!(h, visitor_hash(&b, b"1.2.3.4", b"UA"));
        assert_ne!(h, visitor_hash(&a, b"1.2.3.5", b"UA"));
        assert_ne!(h, visitor_hash(&a, b"1.2.3.4", b"UA2"));
        assert_ne!(
            visitor_hash(&a, b"ab", b"c"),
            visitor_hash(&a, b"a", b"bc"),
            "fields are separated"
        );
    }

    #[test]
    fn origins_share_the_network_part_within_a_network_only() {
        let salt = [3u8; 16];
        let a = origin_hash(&salt, b"203.0.113.9", &[203, 0, 113]);
        let b = origin_hash(&salt, b"203.0.113.10", &[203, 0, 113]);
        let c = origin_hash(&salt, b"198.51.100.9", &[198, 51, 100]);
        assert_eq!(origin_network(a), origin_network(b));
        assert_ne!(origin_address(a), origin_address(b));
        assert_ne!(origin_network(a), origin_network(c));
        assert_ne!(
            a,
            origin_hash(&[4u8; 16], b"203.0.113.9", &[203, 0, 113]),
            "salted"
        );
    }

    #[test]
    fn salts_are_made_once() {
        let salts = Salts::from_saved([(10, [7u8; 16])], None);
        assert_eq!(salts.get(10).unwrap(), [7u8; 16]);
        let s11 = salts.get(11).unwrap();
        assert_eq!(salts.get(11).unwrap(), s11);
        assert_ne!(s11, [7u8; 16]);
    }

    /// A book that already holds a salt made by another process.
    struct Settled(Salt);

    impl SaltBook for Settled {
        fn settle(&self, fresh: &[(i64, Salt)]) -> Result<Vec<(i64, Salt)>, SaltError> {
            Ok(fresh.iter().map(|(d, _)| (*d, self.0)).collect())
        }
    }

    #[test]
    fn a_salt_recorded_elsewhere_wins_over_a_fresh_one() {
        let salts = Salts::from_saved([], Some(Box::new(Settled([9u8; 16]))));
        assert_eq!(salts.get(5).unwrap(), [9u8; 16], "the recorded salt");
        salts.forget_before(6);
        assert_eq!(
            salts.get(5).unwrap(),
            [9u8; 16],
            "read again after forgetting"
        );
    }
}
