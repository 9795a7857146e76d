//! The wall clock, as the epoch milliseconds every table and AWS timestamp
//! comparison in the console uses, and the one text form times are shown in.

/// Now, in milliseconds since the Unix epoch (saturating, never panicking).
pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Epoch milliseconds as RFC 3339 UTC with milliseconds.
pub fn rfc3339(millis: i64) -> String {
    let nanos = i128::from(millis) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}
