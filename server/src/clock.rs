//! The wall clock, as the epoch milliseconds every table and AWS timestamp
//! comparison in the console uses.

/// Now, in milliseconds since the Unix epoch (saturating, never panicking).
pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
