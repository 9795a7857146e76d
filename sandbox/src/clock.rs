//! The sandbox's clock: wall time in epoch milliseconds, and the timestamp
//! formats AWS uses in records.
//!
//! Service logic takes `now` as a parameter instead of reading the clock, so
//! that its unit tests pick the time.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}

/// ISO 8601 in UTC to the second (`2020-07-27T22:58:24Z`), the form of
/// CloudTrail's `eventTime`.
pub fn iso8601_seconds(millis: i64) -> String {
    crate::protocol::iso8601_utc(millis.div_euclid(1000) * 1000, false)
}

/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_time_has_whole_seconds() {
        assert_eq!(iso8601_seconds(1_764_194_400_123), "2025-11-26T22:00:00Z");
        assert_eq!(iso8601_seconds(-1), "1969-12-31T23:59:59Z");
        assert_eq!(iso8601_seconds(253_402_300_799_000), "9999-12-31T23:59:59Z");
    }
}
