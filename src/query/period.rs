//! Periods of a report, by the names `stats --period` and the dashboard's `?period=` share.

use chrono::{Datelike, NaiveDate};

/// The period names, in the order pickers show them.
pub const PERIODS: &[&str] = &["today", "yesterday", "7d", "30d", "month", "year", "all"];

/// The first and last day of period `name` on `today` (`all`: the days with data); `None` for a
/// name not in [`PERIODS`].
pub fn bounds(
    name: &str,
    today: NaiveDate,
    data: Option<(NaiveDate, NaiveDate)>,
) -> Option<(NaiveDate, NaiveDate)> {
    let days = |n: i64| today - chrono::Duration::days(n - 1);
    Some(match name {
        "today" => (today, today),
        "yesterday" => {
            let y = today.pred_opt().unwrap_or(today);
            (y, y)
        }
        "7d" => (days(7), today),
        "30d" => (days(30), today),
        "month" => (today.with_day(1).unwrap_or(today), today),
        "year" => (
            NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today),
            today,
        ),
        "all" => data.unwrap_or((today, today)),
        _ => return None,
    })
}
