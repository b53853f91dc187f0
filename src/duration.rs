//! Durations as users write them (`500ms`, `5s`, `2m`, `1h`, or a bare number of seconds), read
//! without overflow and checked against a range, for flags, `LOGTALLY_*` variables and the
//! configuration file alike.
//!
//! Kept here, below `cli`, `config` and `settings`, so that all three use one reading without
//! importing each other. `99999999999999999999s` once overflowed `Duration` and panicked (issue
//! #15, case 9); every value now comes back as a value in range or as an error that says the range.

use std::time::Duration;

/// Why a duration cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not a number followed by a known unit.
    #[error("{0:?} is not a duration; write it like 500ms, 5s, 2m or 1h")]
    Syntax(String),
    /// A number followed by a unit we do not know.
    #[error("unknown unit {unit:?} in {text:?}; use ms, s, m or h")]
    Unit {
        /// The unit as written.
        unit: String,
        /// The whole value.
        text: String,
    },
    /// A duration outside the allowed range.
    #[error("{text:?} is out of range; give a duration from {} to {}", format(*.min), format(*.max))]
    Range {
        /// The value as written.
        text: String,
        /// The shortest allowed.
        min: Duration,
        /// The longest allowed.
        max: Duration,
    },
}

/// Reads a duration: a decimal number, then `ms`, `s` (or nothing), `m`/`min` or `h`.
pub fn parse(s: &str) -> Result<Duration, Error> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| Error::Syntax(s.to_string()))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        u => {
            return Err(Error::Unit {
                unit: u.to_string(),
                text: s.to_string(),
            })
        }
    };
    // Too large for a `Duration` (or not finite): certainly out of any range we allow.
    Duration::try_from_secs_f64(secs).map_err(|_| Error::Range {
        text: s.to_string(),
        min: Duration::ZERO,
        max: Duration::MAX,
    })
}

/// Reads a duration and checks that it lies in `min..=max`.
pub fn parse_in(s: &str, min: Duration, max: Duration) -> Result<Duration, Error> {
    let out_of_range = || Error::Range {
        text: s.trim().to_string(),
        min,
        max,
    };
    match parse(s) {
        Ok(d) if (min..=max).contains(&d) => Ok(d),
        Ok(_) | Err(Error::Range { .. }) => Err(out_of_range()),
        Err(e) => Err(e),
    }
}

/// Writes a duration in the largest unit that shows it whole: `1h`, `5m`, `30s`, `250ms`.
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if d == Duration::MAX {
        "any length".into()
    } else if ms == 0 {
        "0s".into()
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_read_with_units() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse(" 1h "), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse("5 parsecs")
            .unwrap_err()
            .to_string()
            .contains("unknown unit"));
        assert!(parse("soon").is_err());
        assert!(parse("").is_err());
        assert!(parse("-5s").is_err());
    }

    #[test]
    fn huge_values_are_range_errors_not_panics() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(3600));
        let e = parse_in("99999999999999999999s", min, max).unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"99999999999999999999s\" is out of range; give a duration from 100ms to 1h"
        );
        assert!(matches!(
            parse_in("50ms", min, max),
            Err(Error::Range { .. })
        ));
        assert!(matches!(parse_in("2h", min, max), Err(Error::Range { .. })));
        assert_eq!(parse_in("1h", min, max), Ok(max));
        assert_eq!(parse_in("100ms", min, max), Ok(min));
        assert!(matches!(
            parse_in("1e400", min, max),
            Err(Error::Unit { .. })
        ));
        let long = format!("{}h", "9".repeat(400));
        assert!(matches!(
            parse_in(&long, min, max),
            Err(Error::Range { .. })
        ));
    }

    #[test]
    fn formats_in_the_largest_whole_unit() {
        assert_eq!(format(Duration::from_secs(7200)), "2h");
        assert_eq!(format(Duration::from_secs(300)), "5m");
        assert_eq!(format(Duration::from_secs(5)), "5s");
        assert_eq!(format(Duration::from_millis(250)), "250ms");
        assert_eq!(format(Duration::ZERO), "0s");
    }

    proptest! {
        #[test]
        fn any_text_reads_without_panicking(s in any::<String>()) {
            let _ = parse(&s);
        }

        #[test]
        fn numbers_with_units_stay_in_range(
            s in "[0-9]{0,30}(\\.[0-9]{0,10})?(ms|s|m|min|h|)",
        ) {
            let (min, max) = (Duration::from_millis(100), Duration::from_secs(3600));
            if let Ok(d) = parse_in(&s, min, max) {
                prop_assert!((min..=max).contains(&d));
            }
        }
    }
}
