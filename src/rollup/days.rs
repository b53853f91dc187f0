//! Local days in a time zone: their UTC bounds (23 or 25 hours on DST days), and which days have
//! events newer than their last rollup.

use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;

use crate::store::batch::BUCKET_MS;

/// UTC milliseconds at which local `day` starts in `tz`. A midnight that does not exist (a DST jump
/// at 00:00) starts the day at the first instant that does.
pub fn day_start_ms(tz: Tz, day: NaiveDate) -> i64 {
    let mut t = day.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(dt) = tz.from_local_datetime(&t).earliest() {
            return dt.timestamp_millis();
        }
        t += chrono::Duration::minutes(30);
    }
    tz.from_utc_datetime(&day.and_time(NaiveTime::MIN))
        .timestamp_millis()
}

/// `[start, end)` of a local day in UTC milliseconds.
pub fn day_bounds(tz: Tz, day: NaiveDate) -> (i64, i64) {
    (
        day_start_ms(tz, day),
        day_start_ms(tz, day.succ_opt().expect("date in range")),
    )
}

/// The local date of a UTC instant.
pub fn local_date(tz: Tz, ts_ms: i64) -> NaiveDate {
    let utc = chrono::DateTime::from_timestamp_millis(ts_ms).unwrap_or_default();
    tz.from_utc_datetime(&utc.naive_utc()).date_naive()
}

/// The local date a span bucket belongs to (buckets never straddle a local midnight).
pub fn bucket_date(tz: Tz, bucket: i64) -> NaiveDate {
    local_date(tz, bucket * BUCKET_MS)
}

/// Days since 1970-01-01, as `classify::DayClock` numbers local days (and salts and facts).
pub fn day_number(day: NaiveDate) -> i64 {
    (day - NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch")).num_days()
}

/// `YYYY-MM-DD`, the key of a day in rollup tables.
pub fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The local clock hour (0..=23) of UTC instants in a zone, with the zone's offset cached per
/// quarter hour. On the day clocks go back, two UTC hours share a clock hour; on the day they go
/// forward, one clock hour has nothing: the hours a person on the site's clock would name.
#[derive(Clone, Debug)]
pub struct ClockHours {
    tz: Tz,
    quarter: i64,
    offset_ms: i64,
}

impl ClockHours {
    /// Clock hours in `tz`.
    pub fn new(tz: Tz) -> ClockHours {
        ClockHours {
            tz,
            quarter: i64::MIN,
            offset_ms: 0,
        }
    }

    /// The local hour of `ts_ms`.
    pub fn of(&mut self, ts_ms: i64) -> u32 {
        use chrono::Offset;
        let quarter = ts_ms.div_euclid(BUCKET_MS);
        if quarter != self.quarter {
            self.quarter = quarter;
            let utc = chrono::DateTime::from_timestamp_millis(ts_ms).unwrap_or_default();
            self.offset_ms = self
                .tz
                .offset_from_utc_datetime(&utc.naive_utc())
                .fix()
                .local_minus_utc() as i64
                * 1000;
        }
        ((ts_ms + self.offset_ms).div_euclid(3_600_000)).rem_euclid(24) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dst_days_have_23_and_25_hours() {
        let berlin = chrono_tz::Europe::Berlin;
        let hours = |d: NaiveDate| {
            let (a, b) = day_bounds(berlin, d);
            (b - a) / 3_600_000
        };
        assert_eq!(hours(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()), 23);
        assert_eq!(hours(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap()), 25);
        assert_eq!(hours(NaiveDate::from_ymd_opt(2026, 10, 26).unwrap()), 24);
    }

    #[test]
    fn hours_of_dst_days_are_clock_hours() {
        let mut hours = ClockHours::new(chrono_tz::Europe::Berlin);
        let at = |h: u32, m: u32, d: u32, mo: u32| {
            chrono::Utc
                .with_ymd_and_hms(2026, mo, d, h, m, 0)
                .unwrap()
                .timestamp_millis()
        };
        // 25 October 2026: 02:00-03:00 happens twice (00:30 UTC is 02:30 CEST, 01:30 UTC is
        // 02:30 CET), and the day's last hour is 23, not 24.
        assert_eq!(hours.of(at(0, 30, 25, 10)), 2);
        assert_eq!(hours.of(at(1, 30, 25, 10)), 2);
        assert_eq!(hours.of(at(22, 30, 25, 10)), 23);
        // 29 March 2026: 02:00 becomes 03:00; 01:30 UTC is 03:30 CEST.
        assert_eq!(hours.of(at(0, 30, 29, 3)), 1);
        assert_eq!(hours.of(at(1, 30, 29, 3)), 3);
        assert_eq!(hours.of(at(21, 30, 29, 3)), 23);
    }

    #[test]
    fn local_dates() {
        let ny = chrono_tz::America::New_York;
        // 2026-10-01T03:00Z is still Sep 30 in New York.
        assert_eq!(
            local_date(ny, 1_790_823_600_000),
            NaiveDate::from_ymd_opt(2026, 9, 30).unwrap()
        );
        let kolkata = chrono_tz::Asia::Kolkata; // +05:30: buckets still align with midnight
        let (start, _) = day_bounds(kolkata, NaiveDate::from_ymd_opt(2026, 10, 1).unwrap());
        assert_eq!(start % BUCKET_MS, 0);
    }
}
