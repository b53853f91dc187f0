//! The wall clock as unix milliseconds, the unit of every timestamp logtally stores.

/// Now, in milliseconds since 1970-01-01 UTC (0 if the clock is before it).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
