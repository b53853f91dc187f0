//! Timestamp parsing for access logs, straight from bytes to unix milliseconds (UTC).
//!
//! Every format we read writes its time in one of four fixed shapes, so we decode them by position
//! instead of going through a general `strptime`: that is most of what makes GoAccess slow on big logs.

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
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || mi > 59 || s > 60 {
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
        return Some(local);
    }
    Some(local - parse_offset(zone)? * 1000)
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
        b"" | b"Z" | b"z" => Some(local),
        zone => Some(local - parse_offset(zone)? * 1000),
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
    Some(secs * 1000 + ms as i64)
}

/// Converts Caddy's float `ts` (seconds since the epoch) to milliseconds.
pub fn from_epoch_f64(ts: f64) -> Option<i64> {
    if !ts.is_finite() || !(0.0..1.0e11).contains(&ts) {
        return None;
    }
    Some((ts * 1000.0).floor() as i64)
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
    fn console_time() {
        assert_eq!(
            parse_console_time(b"2025/10/23 19:21:04.824"),
            parse_iso8601(b"2025-10-23T19:21:04.824Z")
        );
    }
}
