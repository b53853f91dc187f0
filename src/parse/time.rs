//! Timestamp parsing for access logs, straight from bytes to unix milliseconds (UTC).
//!
//! Every format we read writes its time in one of four fixed shapes, so we decode them by position
//! instead of going through a general `strptime`: that is most of what makes GoAccess slow on big logs.
//!
//! A date that does not exist (`31/Feb/2026`, `29/Feb/2025`) is refused rather than rolled into
//! March, and so is any time outside [`EARLIEST_MS`]..[`LATEST_MS`] (years 1990 to 2099): year 1
//! or 9999 is a broken clock or a forged line, never a visit (issue #15, case 7). The window is
//! fixed, not relative to now, so a line reads the same whenever it is imported.

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The earliest plausible time of a hit: 1990-01-01T00:00:00Z, before the first web servers.
pub const EARLIEST_MS: i64 = 631_152_000_000;

/// Just past the latest plausible time of a hit: 2100-01-01T00:00:00Z.
pub const LATEST_MS: i64 = 4_102_444_800_000;

/// `ms` if it lies in the plausible window `EARLIEST_MS..LATEST_MS`.
pub fn plausible(ms: i64) -> Option<i64> {
    (EARLIEST_MS..LATEST_MS).contains(&ms).then_some(ms)
}

/// Days in `month` of `year` (proleptic Gregorian).
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u32)?;
    }
    Some(v)
}

fn month_from_abbrev(m: &[u8]) -> Option<u32> {
    let m = [m[0] | 0x20, m[1] | 0x20, m[2] | 0x20];
    Some(match &m {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

fn checked_ms(year: u32, month: u32, day: u32, h: u32, mi: u32, s: u32, ms: u32) -> Option<i64> {
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    let days = days_from_civil(year as i64, month, day);
    Some(((days * 86_400 + (h * 3600 + mi * 60 + s) as i64) * 1000) + ms as i64)
}

/// Parses a `±hhmm` or `±hh:mm` offset into seconds east of UTC.
fn parse_offset(z: &[u8]) -> Option<i64> {
    let (sign, rest) = match z.first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    let (hh, mm) = match rest.len() {
        4 => (&rest[..2], &rest[2..]),
        5 if rest[2] == b':' => (&rest[..2], &rest[3..]),
        2 => (rest, &b"00"[..]),
        _ => return None,
    };
    let (hh, mm) = (digits(hh)?, digits(mm)?);
    if hh > 23 || mm > 59 {
        return None;
    }
    Some(sign * (hh as i64 * 3600 + mm as i64 * 60))
}

/// Parses nginx `$time_local` / Apache `%t` without brackets: `10/Oct/2000:13:55:36 -0700`.
///
/// A missing or blank zone (`27/Jun/2013:11:55:44`, seen in fail2ban's test logs) is read as UTC.
pub fn parse_time_local(s: &[u8]) -> Option<i64> {
    if s.len() < 20
        || s[2] != b'/'
        || s[6] != b'/'
        || s[11] != b':'
        || s[14] != b':'
        || s[17] != b':'
    {
        return None;
    }
    let day = digits(&s[0..2])?;
    let month = month_from_abbrev(&s[3..6])?;
    let year = digits(&s[7..11])?;
    let (h, mi, sec) = (
        digits(&s[12..14])?,
        digits(&s[15..17])?,
        digits(&s[18..20])?,
    );
    let mut rest = &s[20..];
    let mut ms = 0;
    // Some servers add milliseconds: `10/Oct/2000:13:55:36.123 -0700`.
    if let Some(b'.') = rest.first() {
        let end = rest[1..]
            .iter()
            .position(|c| !c.is_ascii_digit())
            .map_or(rest.len(), |p| p + 1);
        ms = fraction_ms(&rest[1..end])?;
        rest = &rest[end..];
    }
    let local = checked_ms(year, month, day, h, mi, sec, ms)?;
    let zone = trim_ascii(rest);
    if zone.is_empty() {
        return plausible(local);
    }
    plausible(local - parse_offset(zone)? * 1000)
}

/// Parses `$time_iso8601` and RFC 3339 strings: `2020-02-03T03:59:14+08:00`, `2025-05-19T21:24:02.079Z`.
pub fn parse_iso8601(s: &[u8]) -> Option<i64> {
    if s.len() < 19 || s[4] != b'-' || s[7] != b'-' || !matches!(s[10], b'T' | b't' | b' ') {
        return None;
    }
    if s[13] != b':' || s[16] != b':' {
        return None;
    }
    let year = digits(&s[0..4])?;
    let (month, day) = (digits(&s[5..7])?, digits(&s[8..10])?);
    let (h, mi, sec) = (
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    );
    let mut rest = &s[19..];
    let mut ms = 0;
    if let Some(b'.') = rest.first() {
        let end = rest[1..]
            .iter()
            .position(|c| !c.is_ascii_digit())
            .map_or(rest.len(), |p| p + 1);
        ms = fraction_ms(&rest[1..end])?;
        rest = &rest[end..];
    }
    let local = checked_ms(year, month, day, h, mi, sec, ms)?;
    match rest {
        b"" | b"Z" | b"z" => plausible(local),
        zone => plausible(local - parse_offset(zone)? * 1000),
    }
}

/// Parses Caddy's console-encoder prefix time `2025/10/23 19:21:04.824` (written in UTC by default).
pub fn parse_console_time(s: &[u8]) -> Option<i64> {
    if s.len() < 19 || s[4] != b'/' || s[7] != b'/' || s[10] != b' ' {
        return None;
    }
    let mut iso = [0u8; 32];
    let n = s.len().min(iso.len());
    iso[..n].copy_from_slice(&s[..n]);
    iso[4] = b'-';
    iso[7] = b'-';
    iso[10] = b'T';
    parse_iso8601(&iso[..n])
}

/// Parses `$msec` (`1580673554.123`): seconds since the epoch with an optional fraction.
pub fn parse_epoch_secs(s: &[u8]) -> Option<i64> {
    let (int, frac) = match memchr::memchr(b'.', s) {
        Some(p) => (&s[..p], &s[p + 1..]),
        None => (s, &b""[..]),
    };
    let secs = digits(int)? as i64;
    let ms = if frac.is_empty() {
        0
    } else {
        fraction_ms(frac)?
    };
    plausible(secs * 1000 + ms as i64)
}

/// Converts Caddy's float `ts` (seconds since the epoch) to milliseconds.
pub fn from_epoch_f64(ts: f64) -> Option<i64> {
    if !ts.is_finite() || !(0.0..1.0e11).contains(&ts) {
        return None;
    }
    plausible((ts * 1000.0).floor() as i64)
}

/// First three digits of a decimal fraction as milliseconds (`5` -> 500, `0791234` -> 79).
fn fraction_ms(f: &[u8]) -> Option<u32> {
    if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut ms = 0;
    for i in 0..3 {
        ms = ms * 10 + f.get(i).map_or(0, |c| (c - b'0') as u32);
    }
    Some(ms)
}

fn trim_ascii(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|c| *c != b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|c| *c != b' ').map_or(start, |p| p + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    #[test]
    fn time_local_with_zone() {
        // 2000-10-10T20:55:36Z
        assert_eq!(
            parse_time_local(b"10/Oct/2000:13:55:36 -0700"),
            Some(971_211_336_000)
        );
        assert_eq!(
            parse_time_local(b"01/Sep/2022:22:12:45 +0000"),
            Some(1_662_070_365_000)
        );
        assert_eq!(
            parse_time_local(b"10/Nov/2016:00:01:02 +0800"),
            Some(1_478_707_262_000)
        );
    }

    #[test]
    fn time_local_without_zone_is_utc() {
        let utc = parse_time_local(b"27/Jun/2013:11:55:44 +0000");
        assert_eq!(parse_time_local(b"27/Jun/2013:11:55:44"), utc);
        assert_eq!(parse_time_local(b"27/Jun/2013:11:55:44 "), utc);
    }

    #[test]
    fn time_local_rejects_nonsense() {
        assert_eq!(parse_time_local(b"32/Oct/2000:13:55:36 -0700"), None);
        assert_eq!(parse_time_local(b"10/Foo/2000:13:55:36 -0700"), None);
        assert_eq!(parse_time_local(b"10/Oct/2000:25:55:36 -0700"), None);
        assert_eq!(
            parse_time_local(b"10/Oct/2000:13:55:36 +07"),
            Some(971_160_936_000)
        );
        assert_eq!(parse_time_local(b"10/Oct/2000"), None);
    }

    #[test]
    fn iso8601_forms() {
        assert_eq!(
            parse_iso8601(b"2000-10-10T20:55:36Z"),
            Some(971_211_336_000)
        );
        assert_eq!(
            parse_iso8601(b"2000-10-10T13:55:36-07:00"),
            Some(971_211_336_000)
        );
        assert_eq!(
            parse_iso8601(b"2025-05-19T21:24:02.079Z"),
            Some(1_747_689_842_079)
        );
        assert_eq!(
            parse_iso8601(b"2000-10-10T20:55:36+0000"),
            Some(971_211_336_000)
        );
        assert_eq!(parse_iso8601(b"2000-13-10T20:55:36Z"), None);
    }

    #[test]
    fn epoch_forms() {
        assert_eq!(parse_epoch_secs(b"1580673554.123"), Some(1_580_673_554_123));
        assert_eq!(parse_epoch_secs(b"1580673554"), Some(1_580_673_554_000));
        assert_eq!(parse_epoch_secs(b"15806x"), None);
        assert_eq!(from_epoch_f64(1693840791.7564995), Some(1_693_840_791_756));
        assert_eq!(from_epoch_f64(f64::NAN), None);
    }

    #[test]
    fn impossible_dates_are_refused_not_rolled_over() {
        assert_eq!(parse_time_local(b"31/Feb/2026:10:00:00 +0000"), None);
        assert_eq!(parse_time_local(b"29/Feb/2025:10:00:00 +0000"), None);
        assert_eq!(parse_time_local(b"31/Apr/2025:10:00:00 +0000"), None);
        assert_eq!(parse_time_local(b"00/Jan/2025:10:00:00 +0000"), None);
        assert!(parse_time_local(b"29/Feb/2024:10:00:00 +0000").is_some());
        assert!(parse_time_local(b"29/Feb/2000:10:00:00 +0000").is_some());
        assert!(parse_time_local(b"31/Dec/2025:23:59:60 +0000").is_some());
        assert_eq!(parse_iso8601(b"2026-02-31T10:00:00Z"), None);
        assert_eq!(parse_iso8601(b"2025-02-29T10:00:00+01:00"), None);
        assert_eq!(parse_console_time(b"2025/02/29 10:00:00.000"), None);
    }

    #[test]
    fn times_outside_the_window_are_refused() {
        assert_eq!(parse_time_local(b"01/Jan/0001:00:00:00 +0000"), None);
        assert_eq!(parse_time_local(b"31/Dec/9999:23:59:59 +0000"), None);
        assert_eq!(parse_time_local(b"31/Dec/1989:23:59:59 +0000"), None);
        assert_eq!(
            parse_time_local(b"01/Jan/1990:00:00:00 +0000"),
            Some(EARLIEST_MS)
        );
        assert_eq!(parse_time_local(b"01/Jan/1990:00:30:00 +0100"), None);
        assert_eq!(parse_iso8601(b"2100-01-01T00:00:00Z"), None);
        assert_eq!(
            parse_iso8601(b"2099-12-31T23:59:59.999Z"),
            Some(LATEST_MS - 1)
        );
        assert_eq!(parse_iso8601(b"0001-01-01T00:00:00Z"), None);
        assert_eq!(parse_epoch_secs(b"0"), None);
        assert_eq!(parse_epoch_secs(b"4102444800"), None);
        assert_eq!(from_epoch_f64(1.0), None);
        assert_eq!(from_epoch_f64(9.9e10), None);
    }

    proptest::proptest! {
        #[test]
        fn every_accepted_date_exists_and_is_plausible(
            day in 0u32..40, month in 0usize..12, year in 0u32..10_000,
            h in 0u32..24, zone in -1439i32..1440,
        ) {
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            let sign = if zone < 0 { '-' } else { '+' };
            let text = format!(
                "{day:02}/{}/{year:04}:{h:02}:00:00 {sign}{:02}{:02}",
                MONTHS[month],
                zone.unsigned_abs() / 60,
                zone.unsigned_abs() % 60
            );
            let iso = format!(
                "{year:04}-{:02}-{day:02}T{h:02}:00:00{sign}{:02}:{:02}",
                month + 1,
                zone.unsigned_abs() / 60,
                zone.unsigned_abs() % 60
            );
            let got = parse_time_local(text.as_bytes());
            proptest::prop_assert_eq!(got, parse_iso8601(iso.as_bytes()));
            let exists = chrono::NaiveDate::from_ymd_opt(year as i32, month as u32 + 1, day);
            match (got, exists) {
                (Some(ms), Some(date)) => {
                    proptest::prop_assert!((EARLIEST_MS..LATEST_MS).contains(&ms));
                    let local = date.and_hms_opt(h, 0, 0).unwrap().and_utc().timestamp_millis();
                    proptest::prop_assert_eq!(ms, local - zone as i64 * 60_000);
                }
                (Some(_), None) => proptest::prop_assert!(false, "{} does not exist", text),
                (None, Some(date)) => {
                    let utc = date.and_hms_opt(h, 0, 0).unwrap().and_utc().timestamp_millis()
                        - zone as i64 * 60_000;
                    proptest::prop_assert!(
                        !(EARLIEST_MS..LATEST_MS).contains(&utc),
                        "{} refused", text
                    );
                }
                (None, None) => {}
            }
        }

        #[test]
        fn epochs_outside_the_window_are_refused(secs in 0u64..200_000_000_000) {
            let got = parse_epoch_secs(secs.to_string().as_bytes());
            let ms = secs as i64 * 1000;
            proptest::prop_assert_eq!(got.is_some(), (EARLIEST_MS..LATEST_MS).contains(&ms));
            proptest::prop_assert_eq!(from_epoch_f64(secs as f64), got.filter(|_| secs < 100_000_000_000));
        }
    }

    #[test]
    fn console_time() {
        assert_eq!(
            parse_console_time(b"2025/10/23 19:21:04.824"),
            parse_iso8601(b"2025-10-23T19:21:04.824Z")
        );
    }
}
