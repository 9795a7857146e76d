//! The lab's section 4 as rules: how a simulated attack (wrong-key decrypts
//! sent to the application) is sized from the alarm's own settings, which
//! attack parameters are acceptable, and how time-to-detect is measured.
//!
//! Sources:
//! - "Using Amazon CloudWatch alarms", *Evaluating an alarm*: an alarm goes to
//!   ALARM when `DatapointsToAlarm` (M) of the last `EvaluationPeriods` (N)
//!   datapoints breach; each datapoint is the statistic over one `Period`.
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>
//! - PutMetricAlarm (`ComparisonOperator`, `Threshold`, `Statistic`):
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>
//! - "Monitoring CloudTrail log files with CloudWatch Logs": CloudTrail
//!   typically delivers events within about 5 minutes of the API call (and
//!   the lab warns of up to 15):
//!   <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/monitor-cloudtrail-log-files-with-cloudwatch-logs.html>

use serde::{Deserialize, Serialize};

use crate::alarm::MetricAlarm;

/// The lab's own pace: its script sends one wrong-key decrypt a second.
pub const LAB_RATE_PER_SECOND: u32 = 1;
/// The wrong key the lab's commands use.
pub const LAB_WRONG_KEY: &str = "some-random-false-key";
/// Most decrypts one run may send: enough for any alarm the lab's form
/// allows at a useful rate, few enough not to flood KMS or the trail.
pub const MAX_COUNT: u32 = 1_000;
/// Fastest pace accepted: KMS's shared request quota for cryptographic
/// operations is far above this, and the lab's alarm needs only one a second.
pub const MAX_RATE_PER_SECOND: u32 = 20;

/// How long a run keeps watching for the alarm after its last call when the
/// console talks to live AWS: CloudTrail's delivery (typically 5, up to 15
/// minutes) plus the alarm's own evaluation.
pub const LIVE_DELIVERY_ALLOWANCE_MS: i64 = 15 * 60 * 1000;
/// The same allowance on the sandbox, whose CloudTrail delivers in about a second.
pub const SANDBOX_DELIVERY_ALLOWANCE_MS: i64 = 30 * 1000;

/// The alarm settings an attack is sized from, as DescribeAlarms returns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmSettings {
    pub threshold: f64,
    /// `ComparisonOperator`, e.g. `GreaterThanThreshold`.
    pub comparison_operator: String,
    /// `Statistic`, e.g. `Sum`; `None` for percentile alarms.
    pub statistic: Option<String>,
    /// `Period` in seconds.
    pub period_seconds: u32,
    pub evaluation_periods: u32,
    /// `DatapointsToAlarm`; AWS uses `EvaluationPeriods` when it is not set.
    pub datapoints_to_alarm: Option<u32>,
}

impl AlarmSettings {
    /// The lab's alarm: Sum over 10 s, GreaterThanThreshold 1, 1 of 1.
    pub fn lab() -> AlarmSettings {
        AlarmSettings {
            threshold: 1.0,
            comparison_operator: "GreaterThanThreshold".to_owned(),
            statistic: Some("Sum".to_owned()),
            period_seconds: 10,
            evaluation_periods: 1,
            datapoints_to_alarm: None,
        }
    }

    /// What sizing needs of an alarm's full settings. A percentile alarm
    /// keeps no `Statistic`, which sizing then refuses.
    pub fn of(alarm: &MetricAlarm) -> AlarmSettings {
        AlarmSettings {
            threshold: alarm.threshold,
            comparison_operator: alarm.comparison_operator.as_str().to_owned(),
            statistic: alarm.statistic.map(|statistic| statistic.as_str().to_owned()),
            period_seconds: alarm.period,
            evaluation_periods: alarm.evaluation_periods,
            datapoints_to_alarm: alarm.datapoints_to_alarm,
        }
    }

    /// M of "M out of N".
    pub fn datapoints_needed(&self) -> u32 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods).max(1)
    }

    /// Failures one period must hold for its datapoint to breach. The
    /// metric filter emits 1 per failed call, so both Sum and SampleCount of
    /// a period are its number of failures.
    pub fn failures_per_breaching_period(&self) -> Result<u32, SizingError> {
        match self.statistic.as_deref() {
            Some("Sum" | "SampleCount") => {}
            other => return Err(SizingError::Statistic(other.unwrap_or("a percentile").to_owned())),
        }
        let threshold = self.threshold.max(0.0);
        let needed = match self.comparison_operator.as_str() {
            // "greater than": one more than the threshold's whole part.
            "GreaterThanThreshold" => threshold.floor() + 1.0,
            "GreaterThanOrEqualToThreshold" => threshold.ceil().max(1.0),
            other => return Err(SizingError::Comparison(other.to_owned())),
        };
        if needed > f64::from(MAX_COUNT) {
            return Err(SizingError::TooMany { threshold: self.threshold });
        }
        // Bounded just above, so the cast keeps the value.
        Ok(needed as u32)
    }
}

/// Why no attack size can be derived from an alarm.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SizingError {
    #[error("the alarm uses {0}; only Sum and SampleCount count failed calls")]
    Statistic(String),
    #[error("the alarm fires on {0}, which more failed calls cannot cause")]
    Comparison(String),
    #[error("a threshold of {threshold} needs more than {MAX_COUNT} calls in one period")]
    TooMany { threshold: f64 },
    #[error(
        "at {rate} a second one {period} s period holds at most {per_period} calls; the alarm needs {needed}: send faster"
    )]
    TooSlow { rate: u32, period: u32, per_period: u32, needed: u32 },
}

/// The fewest wrong-key decrypts at `rate` per second that make the alarm's
/// M-of-N rule breach wherever the calls fall against the period boundaries.
///
/// A period fully inside the attack holds `rate × Period` calls. In the
/// worst alignment the first, partial period holds one call too few to
/// breach, then M − 1 full periods breach with `rate × Period` calls each
/// and the M-th needs its `needed` calls: `(needed − 1) + (M − 1) × rate ×
/// Period + needed`. For the lab's alarm (more than 1 in 10 s, 1 of 1) that
/// is 3, the three wrong keys the lab's own test sends.
///
/// A call's datapoint only counts if it reaches the metric before its
/// period is evaluated: with `delivery_lag_ms` between a call and its
/// datapoint (the sandbox's CloudTrail delivery delay), the calls made in
/// the last `delivery_lag_ms` of the breaching period arrive too late, so
/// that many more are sent.
pub fn default_count(settings: &AlarmSettings, rate: u32, delivery_lag_ms: u32) -> Result<u32, SizingError> {
    let needed = settings.failures_per_breaching_period()?;
    let rate = rate.max(1);
    let per_period = rate.saturating_mul(settings.period_seconds);
    if per_period < needed {
        return Err(SizingError::TooSlow { rate, period: settings.period_seconds, per_period, needed });
    }
    let late = (u64::from(delivery_lag_ms) * u64::from(rate)).div_ceil(1_000);
    let count = (needed - 1)
        .saturating_add(u32::try_from(late).unwrap_or(u32::MAX))
        .saturating_add((settings.datapoints_needed() - 1).saturating_mul(per_period))
        .saturating_add(needed);
    Ok(count.min(MAX_COUNT))
}

/// Why an attack parameter was refused; each message fits beside its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParameterError {
    #[error("enter a whole number from {min} to {max}")]
    NotAnInteger { min: u32, max: u32 },
    #[error("use a number from {min} to {max}")]
    OutOfRange { min: u32, max: u32 },
}

fn parse_bounded(input: &str, max: u32) -> Result<u32, ParameterError> {
    let text = input.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        // "-1" is out of range as much as "ten" is not a number: say the range either way.
        return Err(ParameterError::NotAnInteger { min: 1, max });
    }
    // All digits: only a value too large for u32 fails to parse.
    let value = text.parse::<u32>().unwrap_or(u32::MAX);
    if value == 0 || value > max {
        return Err(ParameterError::OutOfRange { min: 1, max });
    }
    Ok(value)
}

/// The number of wrong-key decrypts (N), 1 to [`MAX_COUNT`].
pub fn parse_count(input: &str) -> Result<u32, ParameterError> {
    parse_bounded(input, MAX_COUNT)
}

/// Decrypts per second (R), 1 to [`MAX_RATE_PER_SECOND`].
pub fn parse_rate(input: &str) -> Result<u32, ParameterError> {
    parse_bounded(input, MAX_RATE_PER_SECOND)
}

/// When the `index`-th call (0-based) of a run started at `started_ms` at
/// `rate` per second is due: evenly spaced from the start, so a slow answer
/// does not push every later call back.
pub fn call_due_ms(started_ms: i64, index: u32, rate: u32) -> i64 {
    started_ms + i64::from(index) * 1000 / i64::from(rate.max(1))
}

/// Milliseconds from the first failing call to an event (the alarm's
/// transition to ALARM, or the notification). An event before the first
/// failure was not caused by it and measures nothing.
pub fn time_to(first_failure_ms: Option<i64>, event_ms: Option<i64>) -> Option<i64> {
    let (first, event) = (first_failure_ms?, event_ms?);
    (event >= first).then_some(event - first)
}

/// How long after its last call a run keeps watching for the alarm.
pub fn watch_window_ms(live: bool, settings: &AlarmSettings) -> i64 {
    let allowance = if live { LIVE_DELIVERY_ALLOWANCE_MS } else { SANDBOX_DELIVERY_ALLOWANCE_MS };
    // The alarm needs its evaluation periods' worth of data after delivery.
    allowance + i64::from(settings.period_seconds) * i64::from(settings.evaluation_periods.max(1)) * 1000
}

/// `1234` ms as "1.2 s"; minutes once they matter.
pub fn format_duration_ms(ms: i64) -> String {
    if ms < 60_000 {
        format!("{}.{} s", ms / 1000, ms % 1000 / 100)
    } else {
        format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // AlarmThatSendsEmail.html, "Evaluating an alarm": the lab's alarm fires
    // on one datapoint (1 of 1) whose Sum is greater than 1, i.e. 2 failures.
    #[test]
    fn the_labs_alarm_needs_two_failures_in_a_period_and_three_calls_at_one_a_second() {
        let lab = AlarmSettings::lab();
        assert_eq!(lab.failures_per_breaching_period(), Ok(2));
        assert_eq!(default_count(&lab, LAB_RATE_PER_SECOND, 0), Ok(3));
        // With the sandbox's 1 s delivery, a call in the last second of the
        // breaching period arrives after that period's evaluation: one more.
        assert_eq!(default_count(&lab, LAB_RATE_PER_SECOND, 1_000), Ok(4));
        assert_eq!(default_count(&lab, LAB_RATE_PER_SECOND, 1_250), Ok(5));
    }

    // PutMetricAlarm: GreaterThanOrEqualToThreshold breaches at the threshold itself.
    #[test]
    fn comparison_operators_set_the_failures_per_period() {
        let mut settings = AlarmSettings { threshold: 5.0, ..AlarmSettings::lab() };
        assert_eq!(settings.failures_per_breaching_period(), Ok(6));
        settings.comparison_operator = "GreaterThanOrEqualToThreshold".into();
        assert_eq!(settings.failures_per_breaching_period(), Ok(5));
        settings.threshold = 2.5;
        assert_eq!(settings.failures_per_breaching_period(), Ok(3));
        settings.threshold = 0.0;
        assert_eq!(settings.failures_per_breaching_period(), Ok(1), "a datapoint exists only with a failure");
        settings.comparison_operator = "LessThanThreshold".into();
        assert!(matches!(settings.failures_per_breaching_period(), Err(SizingError::Comparison(_))));
        settings.comparison_operator = "GreaterThanThreshold".into();
        settings.statistic = Some("Average".into());
        assert!(matches!(settings.failures_per_breaching_period(), Err(SizingError::Statistic(_))));
    }

    // AlarmThatSendsEmail.html: "M out of N" needs M breaching datapoints;
    // DatapointsToAlarm defaults to EvaluationPeriods (PutMetricAlarm).
    #[test]
    fn m_of_n_alarms_need_m_breaching_periods() {
        let three_of_five = AlarmSettings {
            threshold: 4.0,
            evaluation_periods: 5,
            datapoints_to_alarm: Some(3),
            period_seconds: 10,
            ..AlarmSettings::lab()
        };
        // 4 (one short) + 2 full periods of 20 + 5.
        assert_eq!(default_count(&three_of_five, 2, 0), Ok(4 + 2 * 20 + 5));
        let two_of_two = AlarmSettings { evaluation_periods: 2, datapoints_to_alarm: None, ..AlarmSettings::lab() };
        assert_eq!(two_of_two.datapoints_needed(), 2);
        assert_eq!(default_count(&two_of_two, 1, 0), Ok(1 + 10 + 2));
    }

    #[test]
    fn a_pace_too_slow_to_breach_a_period_is_refused() {
        let settings = AlarmSettings { threshold: 30.0, ..AlarmSettings::lab() };
        assert_eq!(
            default_count(&settings, 1, 0),
            Err(SizingError::TooSlow { rate: 1, period: 10, per_period: 10, needed: 31 })
        );
        assert_eq!(default_count(&settings, 4, 0), Ok(30 + 31));
    }

    #[test]
    fn counts_and_rates_are_whole_numbers_within_bounds() {
        assert_eq!(parse_count("20"), Ok(20));
        assert_eq!(parse_count(" 3 "), Ok(3));
        assert_eq!(parse_count("2.5"), Err(ParameterError::NotAnInteger { min: 1, max: MAX_COUNT }));
        assert_eq!(parse_count("-1"), Err(ParameterError::NotAnInteger { min: 1, max: MAX_COUNT }));
        assert_eq!(parse_count("abc"), Err(ParameterError::NotAnInteger { min: 1, max: MAX_COUNT }));
        assert_eq!(parse_count(""), Err(ParameterError::NotAnInteger { min: 1, max: MAX_COUNT }));
        assert_eq!(parse_count("0"), Err(ParameterError::OutOfRange { min: 1, max: MAX_COUNT }));
        assert_eq!(parse_count("1001"), Err(ParameterError::OutOfRange { min: 1, max: MAX_COUNT }));
        assert_eq!(parse_count("99999999999999"), Err(ParameterError::OutOfRange { min: 1, max: MAX_COUNT }));
        assert_eq!(parse_rate("20"), Ok(20));
        assert_eq!(parse_rate("21"), Err(ParameterError::OutOfRange { min: 1, max: MAX_RATE_PER_SECOND }));
    }

    #[test]
    fn calls_are_spaced_from_the_start() {
        assert_eq!(call_due_ms(1_000, 0, 1), 1_000);
        assert_eq!(call_due_ms(1_000, 3, 1), 4_000);
        assert_eq!(call_due_ms(1_000, 3, 4), 1_750);
    }

    #[test]
    fn time_to_detect_counts_from_the_first_failure_and_ignores_earlier_events() {
        assert_eq!(time_to(Some(10_000), Some(12_500)), Some(2_500));
        assert_eq!(time_to(Some(10_000), Some(9_000)), None, "an earlier ALARM was not this run's");
        assert_eq!(time_to(None, Some(12_500)), None);
        assert_eq!(time_to(Some(10_000), None), None);
    }

    // CloudTrail user guide: delivery typically within 5 minutes; the lab says up to 15.
    #[test]
    fn live_runs_watch_through_cloudtrails_delivery_time() {
        let lab = AlarmSettings::lab();
        assert_eq!(watch_window_ms(true, &lab), 15 * 60 * 1000 + 10_000);
        assert_eq!(watch_window_ms(false, &lab), 30_000 + 10_000);
        assert_eq!(format_duration_ms(2_345), "2.3 s");
        assert_eq!(format_duration_ms(372_000), "6 min 12 s");
    }
}
