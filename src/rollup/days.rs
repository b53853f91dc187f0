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
