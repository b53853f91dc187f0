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

/// The salts of all days seen, shared by parsing threads; new ones wait in `unsaved` until the
/// writer has committed them together with the events hashed with them.
#[derive(Debug, Default)]
pub struct Salts {
    inner: Mutex<SaltsInner>,
}

#[derive(Debug, Default)]
struct SaltsInner {
    by_day: HashMap<i64, Salt>,
    unsaved: Vec<i64>,
}

impl Salts {
    /// Salts already in the database.
    pub fn from_saved(saved: impl IntoIterator<Item = (i64, Salt)>) -> Salts {
        Salts {
            inner: Mutex::new(SaltsInner {
                by_day: saved.into_iter().collect(),
                unsaved: Vec::new(),
            }),
        }
    }

    /// The salt of `day`, made from the OS random source on first use.
    pub fn get(&self, day: i64) -> Salt {
        let mut inner = self.inner.lock().expect("salt lock");
        if let Some(s) = inner.by_day.get(&day) {
            return *s;
        }
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).expect("the OS random source is available");
        inner.by_day.insert(day, salt);
        inner.unsaved.push(day);
        salt
    }

    /// Salts made since the last [`Salts::saved`] call, to write with the next commit.
    pub fn unsaved(&self) -> Vec<(i64, Salt)> {
        let inner = self.inner.lock().expect("salt lock");
        inner
            .unsaved
            .iter()
            .map(|d| (*d, inner.by_day[d]))
            .collect()
    }

    /// Forgets the salts of days before `day` that are saved (a long-running `tail` keeps no
    /// more of them in memory than cleanup keeps on disk).
    pub fn forget_before(&self, day: i64) {
        let mut inner = self.inner.lock().expect("salt lock");
        let SaltsInner { by_day, unsaved } = &mut *inner;
        by_day.retain(|d, _| *d >= day || unsaved.contains(d));
    }

    /// Marks these days as committed.
    pub fn saved(&self, days: &[i64]) {
        self.inner
            .lock()
            .expect("salt lock")
            .unsaved
            .retain(|d| !days.contains(d));
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
    fn salts_are_made_once_and_tracked_until_saved() {
        let salts = Salts::from_saved([(10, [7u8; 16])]);
        assert_eq!(salts.get(10), [7u8; 16]);
        let s11 = salts.get(11);
        assert_eq!(salts.get(11), s11);
        assert_eq!(salts.unsaved(), vec![(11, s11)]);
        salts.saved(&[11]);
        assert!(salts.unsaved().is_empty());
    }
}
