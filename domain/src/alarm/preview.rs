//! The threshold page's preview: what the current and a proposed setting
//! would have done over the metric's recorded history, and how to fetch that
//! history from CloudWatch within GetMetricData's limits.
//!
//! [`preview`] prepares the series once per (statistic, period) and replays
//! both settings with [`replay_prepared`] (the evaluator the sandbox runs), then
//! shrinks the result for a chart: at most `max_points` metric buckets over
//! the datapoints' extent (each keeping its minimum and maximum, so a
//! one-period spike stays visible) and
//! ALARM intervals merged when closer than one chart bucket. Counts and times
//! are computed before any shrinking.
//!
//! [`fetch_plan`] splits the history into GetMetricData requests. Sources:
//! GetMetricData API reference ("as many as 100,800 data points" per call;
//! retention: "Data points with a period of less than 60 seconds are available
//! for 3 hours … with a period of 60 seconds (1-minute) are available for 15
//! days"), <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html>.

use serde::{Deserialize, Serialize};

use super::config::MetricAlarm;
use super::evaluate::{AlarmError, StateValue};
use super::replay::{PreparedSeries, Replay, replay_prepared};
use super::statistics::MetricSample;

/// Data points one GetMetricData call returns at most, over all its queries.
pub const MAX_DATAPOINTS_PER_CALL: u64 = 100_800;
/// How far back the preview looks: CloudWatch keeps 1-minute data 15 days.
pub const HISTORY_MS: i64 = 15 * 86_400_000;
/// How long CloudWatch keeps datapoints of periods under 60 seconds.
pub const HIGH_RESOLUTION_RETENTION_MS: i64 = 3 * 3_600_000;
/// The statistics fetched per bucket; together they rebuild every simple
/// statistic of any longer period exactly (as a `StatisticSet`).
pub const FETCHED_STATISTICS: [&str; 4] = ["SampleCount", "Sum", "Minimum", "Maximum"];

/// One GetMetricData request: `[start_ms, end_ms)` at `period_s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchWindow {
    pub start_ms: i64,
    pub end_ms: i64,
    pub period_s: u32,
}

/// The bucket the history is fetched at for `alarm`: 10 s for the
/// high-resolution periods (10, 20, 30 s, all multiples of 10), 60 s otherwise
/// (every other valid period is a multiple of 60).
pub fn fetch_period_seconds(alarm: &MetricAlarm) -> u32 {
    if alarm.period < 60 { 10 } else { 60 }
}

/// The requests that fetch `[now − HISTORY_MS, now)` at `period_s` with
/// [`FETCHED_STATISTICS`], each within [`MAX_DATAPOINTS_PER_CALL`]; windows
/// are aligned to the period and cover the range without gaps or overlaps.
pub fn fetch_plan(period_s: u32, now_ms: i64) -> Vec<FetchWindow> {
    let period_ms = i64::from(period_s.max(1)) * 1_000;
    let end_ms = now_ms.div_euclid(period_ms) * period_ms;
    let start_ms = (end_ms - HISTORY_MS).div_euclid(period_ms) * period_ms;
    let per_call = (MAX_DATAPOINTS_PER_CALL / FETCHED_STATISTICS.len() as u64) as i64;
    let chunk_ms = per_call * period_ms;
    let mut windows = Vec::new();
    let mut at = start_ms;
    while at < end_ms {
        let until = (at + chunk_ms).min(end_ms);
        windows.push(FetchWindow { start_ms: at, end_ms: until, period_s: period_s.max(1) });
        at = until;
    }
    windows
}

/// One chart bucket of the metric: the datapoints in `[start_ms, end_ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChartBucket {
    pub start_ms: i64,
    pub end_ms: i64,
    pub min: f64,
    pub max: f64,
}

/// What one setting would have done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingOutcome {
    /// The setting in words.
    pub condition: String,
    pub threshold: f64,
    /// Transitions into ALARM (each would have notified).
    pub alarm_count: u32,
    pub time_in_alarm_ms: i64,
    /// ALARM intervals `[start, end)`, merged to the chart's resolution.
    pub alarm_intervals: Vec<(i64, i64)>,
    pub evaluations: u64,
}

/// The preview of the current against a proposed setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub from_ms: i64,
    pub to_ms: i64,
    /// What the chart's line is, e.g. "Sum of KMSSecurityError per 10 s".
    pub series_label: String,
    pub buckets: Vec<ChartBucket>,
    /// Datapoints the proposed setting's statistic and period produce.
    pub datapoints: u64,
    pub current: SettingOutcome,
    pub proposed: SettingOutcome,
}

/// Replays `current` and `proposed` over `samples` in `[from_ms, to_ms)`,
/// both starting in `initial`, and shrinks the result to `max_points` chart
/// buckets. The chart shows the proposed setting's datapoints.
pub fn preview(
    current: &MetricAlarm,
    proposed: &MetricAlarm,
    samples: &[MetricSample],
    from_ms: i64,
    to_ms: i64,
    initial: StateValue,
    max_points: usize,
) -> Result<Preview, AlarmError> {
    let current_series = PreparedSeries::prepare(current, samples, from_ms, to_ms)?;
    let same_series = current.period == proposed.period && current.statistic_kind()? == proposed.statistic_kind()?;
    let proposed_series =
        if same_series { None } else { Some(PreparedSeries::prepare(proposed, samples, from_ms, to_ms)?) };
    let proposed_ref = proposed_series.as_ref().unwrap_or(&current_series);
    let current_replay = replay_prepared(&current_series, current, initial)?;
    let proposed_replay = replay_prepared(proposed_ref, proposed, initial)?;

    let max_points = max_points.max(1);
    let period_ms = i64::from(proposed.period) * 1_000;
    // Period ends on the period grid, as the evaluator sees them.
    let first_end = (from_ms.div_euclid(period_ms) + 1) * period_ms;
    // The chart opens where the data is (a lab run is minutes of a 15-day
    // range), so the buckets cover the datapoints' extent, not the range.
    let ends = || (0..).map(move |i| first_end + i * period_ms).take_while(|end| *end <= to_ms);
    let first_data = ends().find(|end| proposed_ref.value_ending_at(*end).is_some());
    let last_data = ends().filter(|end| proposed_ref.value_ending_at(*end).is_some()).last();
    let (chart_from, chart_to) = match (first_data, last_data) {
        (Some(first), Some(last)) => (first - period_ms, last),
        _ => (from_ms, to_ms),
    };
    let span = (chart_to - chart_from).max(1);
    let bucket_ms = ((span + max_points as i64 - 1) / max_points as i64).max(period_ms);
    let mut buckets: Vec<ChartBucket> = Vec::new();
    let mut datapoints = 0u64;
    let mut end = first_end;
    while end <= to_ms {
        if let Some(value) = proposed_ref.value_ending_at(end) {
            datapoints += 1;
            let start = end - period_ms;
            let slot_start = chart_from + (start - chart_from).div_euclid(bucket_ms) * bucket_ms;
            match buckets.last_mut() {
                Some(last) if last.start_ms == slot_start => {
                    last.min = last.min.min(value);
                    last.max = last.max.max(value);
                }
                _ => buckets.push(ChartBucket {
                    start_ms: slot_start,
                    end_ms: (slot_start + bucket_ms).min(chart_to),
                    min: value,
                    max: value,
                }),
            }
        }
        end += period_ms;
    }
    let series_label = format!(
        "{} of {} per {}",
        proposed.statistic_name(),
        proposed.metric_name,
        super::config::describe_duration(u64::from(proposed.period))
    );
    Ok(Preview {
        from_ms,
        to_ms,
        series_label,
        buckets,
        datapoints,
        current: outcome(current, &current_replay, bucket_ms),
        proposed: outcome(proposed, &proposed_replay, bucket_ms),
    })
}

fn outcome(alarm: &MetricAlarm, replay: &Replay, merge_gap_ms: i64) -> SettingOutcome {
    let mut alarm_intervals: Vec<(i64, i64)> = Vec::new();
    for interval in replay.intervals.iter().filter(|i| i.state == StateValue::Alarm) {
        match alarm_intervals.last_mut() {
            Some(last) if interval.start_ms - last.1 < merge_gap_ms => last.1 = interval.end_ms,
            _ => alarm_intervals.push((interval.start_ms, interval.end_ms)),
        }
    }
    SettingOutcome {
        condition: alarm.describe_condition(),
        threshold: alarm.threshold,
        alarm_count: replay.alarm_count,
        time_in_alarm_ms: replay.time_in_alarm_ms,
        alarm_intervals,
        evaluations: replay.evaluations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::config::tests::lab_alarm;

    const T0: i64 = 1_795_000_000_000 - 1_795_000_000_000 % 60_000;

    fn value(at: i64, v: f64) -> MetricSample {
        MetricSample::Value { timestamp_ms: at, value: v }
    }

    // GetMetricData: "a total of as many as 100,800 data points" per call.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
    #[test]
    fn the_fetch_plan_covers_fifteen_days_within_the_datapoint_limit() {
        let now = T0 + 12_345;
        for period_s in [10, 60] {
            let plan = fetch_plan(period_s, now);
            let period_ms = i64::from(period_s) * 1_000;
            assert_eq!(plan.first().unwrap().start_ms, (now / period_ms) * period_ms - HISTORY_MS);
            assert_eq!(plan.last().unwrap().end_ms, (now / period_ms) * period_ms);
            for pair in plan.windows(2) {
                assert_eq!(pair[0].end_ms, pair[1].start_ms);
            }
            for window in &plan {
                let points = (window.end_ms - window.start_ms) / period_ms * FETCHED_STATISTICS.len() as i64;
                assert!(points as u64 <= MAX_DATAPOINTS_PER_CALL, "{window:?}");
                assert_eq!(window.start_ms % period_ms, 0);
            }
        }
        // 129,600 ten-second buckets × 4 statistics need six calls of 25,200 buckets.
        assert_eq!(fetch_plan(10, now).len(), 6);
        assert_eq!(fetch_plan(60, now).len(), 1);
    }

    #[test]
    fn fetch_periods_divide_every_alarm_period() {
        let mut alarm = lab_alarm();
        for (period, fetched) in [(10, 10), (20, 10), (30, 10), (60, 60), (300, 60), (3_600, 60)] {
            alarm.period = period;
            assert_eq!(fetch_period_seconds(&alarm), fetched);
            assert_eq!(period % fetched, 0);
        }
    }

    #[test]
    fn a_higher_threshold_alarms_less() {
        // Two failed calls in one 10 s period, then five in another: the lab's
        // alarm (Sum > 1) fires twice; at a threshold of 3 only the burst fires.
        // A zero in between (an idle period) sends the alarm back to OK.
        let mut samples: Vec<MetricSample> = [100_000, 101_000, 300_000, 301_000, 302_000, 303_000, 304_000]
            .into_iter()
            .map(|offset| value(T0 + offset, 1.0))
            .collect();
        samples.push(value(T0 + 200_000, 0.0));
        let current = lab_alarm();
        let proposed = MetricAlarm { threshold: 3.0, ..lab_alarm() };
        let result = preview(&current, &proposed, &samples, T0, T0 + 600_000, StateValue::Ok, 30).unwrap();
        assert_eq!(result.current.alarm_count, 2);
        assert_eq!(result.proposed.alarm_count, 1);
        assert!(result.proposed.time_in_alarm_ms < result.current.time_in_alarm_ms);
        assert_eq!(result.datapoints, 3);
        assert!(result.buckets.len() <= 30);
        assert_eq!(result.buckets.iter().map(|b| b.max).fold(0.0, f64::max), 5.0);
        assert_eq!(result.series_label, "Sum of KMSSecurityError per 10 s");
        assert_eq!(
            result.proposed.condition,
            "Sum of KMSSecurityError > 3 for 1 of 1 periods of 10 s; missing data: ignore"
        );
    }

    #[test]
    fn settings_with_another_period_are_replayed_on_their_own_series() {
        let samples: Vec<MetricSample> = (0..30).map(|i| value(T0 + i * 2_000, 1.0)).collect();
        let current = lab_alarm();
        let proposed = MetricAlarm { period: 60, threshold: 20.0, ..lab_alarm() };
        let result = preview(&current, &proposed, &samples, T0, T0 + 300_000, StateValue::Ok, 100).unwrap();
        // Five per 10 s breach the lab's threshold; 30 per minute breach 20.
        assert_eq!(result.current.alarm_count, 1);
        assert_eq!(result.proposed.alarm_count, 1);
        assert_eq!(result.series_label, "Sum of KMSSecurityError per 1 min");
        assert_eq!(result.buckets.iter().map(|b| b.max).fold(0.0, f64::max), 30.0);
    }

    #[test]
    fn the_chart_buckets_cover_where_the_data_is() {
        // Seven minutes of a lab run, five days into the 15-day range.
        let start = T0 + 5 * 86_400_000;
        let samples: Vec<MetricSample> = (0..42).map(|i| value(start + i * 10_000, (i % 4) as f64)).collect();
        let result = preview(&lab_alarm(), &lab_alarm(), &samples, T0, T0 + HISTORY_MS, StateValue::Ok, 600).unwrap();
        assert_eq!((result.from_ms, result.to_ms), (T0, T0 + HISTORY_MS));
        let first = result.buckets.first().unwrap().start_ms;
        let last = result.buckets.last().unwrap().end_ms;
        assert!(first >= start - 10_000 && last <= start + 430_000, "{first} {last}");
        // One bucket per period: the chart shows every datapoint.
        assert_eq!(result.buckets.len(), 42);
    }

    #[test]
    fn fifteen_days_shrink_to_the_chart_size() {
        let samples: Vec<MetricSample> = (0..129_600).map(|i| value(T0 + i * 10_000, (i % 7) as f64)).collect();
        let result = preview(
            &lab_alarm(),
            &MetricAlarm { threshold: 6.0, ..lab_alarm() },
            &samples,
            T0,
            T0 + HISTORY_MS,
            StateValue::Ok,
            600,
        )
        .unwrap();
        assert!(result.buckets.len() <= 600, "{}", result.buckets.len());
        assert_eq!(result.datapoints, 129_600);
        assert!(result.current.alarm_intervals.len() <= 600);
        // A breach (2..=6) starts every cycle of seven; the last cycle ends at 1.
        assert_eq!(result.current.alarm_count, 129_600 / 7);
        assert_eq!(result.proposed.alarm_count, 0);
    }
}
