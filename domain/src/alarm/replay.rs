//! Replaying an alarm over a stored metric series: when would it have alarmed?
//!
//! The threshold page compares the current and a proposed setting over about
//! 15 days of 10-second data (129,600 periods), for many thresholds. The
//! series is aggregated once per (statistic, period) into a
//! [`PreparedSeries`]; each setting then walks the evaluation instants once,
//! classifying the N + 2 datapoints of each evaluation range and calling the
//! same [`decide`] the live evaluator uses: O(evaluations × (N + 2)).
//!
//! Replay tracks state values only; reasons are text for one moment, and
//! [`super::evaluate`] rebuilds them for any instant the console shows.
//!
//! Aggregates are built per base bucket (10 s for high-resolution periods,
//! 60 s otherwise) and merged per period, so sums of non-integer values may
//! differ from [`super::collect_range`] in the last bits; for counts, like the
//! lab's `KMSSecurityError`, they agree exactly.

use serde::{Deserialize, Serialize};

use super::config::{MetricAlarm, StatisticKind};
use super::evaluate::{
    AlarmError, DatapointClass, Outcome, StateValue, check_time, decide, evaluation_cadence_seconds,
    evaluation_range_len,
};
use super::statistics::{MetricSample, PeriodAggregate, percentile};

/// The most base buckets a replay aggregates: 60 days of 10-second buckets,
/// four times the console's 15 days, so a mistaken range cannot exhaust memory.
pub const MAX_REPLAY_BUCKETS: usize = 518_400;

/// Datapoints of one statistic and period for every window end on the base grid.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedSeries {
    statistic: StatisticKind,
    period_s: u32,
    base_ms: i64,
    origin_ms: i64,
    end_ms: i64,
    /// `values[i]`: the datapoint of the period ending at `origin + i × base`.
    values: Vec<Option<f64>>,
}

impl PreparedSeries {
    /// Aggregates `samples` in `[from_ms, to_ms)` for `alarm`'s statistic and period.
    ///
    /// Percentile alarms keep each bucket's values and sort every window, so
    /// they cost O(samples × log) per window rather than O(1).
    pub fn prepare(
        alarm: &MetricAlarm,
        samples: &[MetricSample],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Self, AlarmError> {
        alarm.check()?;
        let statistic = alarm.statistic_kind()?;
        let base_s: i64 = if alarm.period < 60 { 10 } else { 60 };
        let base_ms = base_s * 1_000;
        let (from_ms, to_ms) = (check_time(from_ms)?, check_time(to_ms)?);
        if to_ms < from_ms {
            return Err(AlarmError::TimeOutOfRange(to_ms));
        }
        let origin_ms = from_ms.div_euclid(base_ms) * base_ms;
        let end_ms = to_ms.div_euclid(base_ms) * base_ms;
        let buckets = end_ms
            .checked_sub(origin_ms)
            .and_then(|span| usize::try_from(span / base_ms).ok())
            .ok_or(AlarmError::TimeOutOfRange(to_ms))?;
        if buckets > MAX_REPLAY_BUCKETS {
            return Err(AlarmError::RangeTooLarge { buckets });
        }
        let mut aggregates: Vec<Option<PeriodAggregate>> = vec![None; buckets];
        let percentile_of = match statistic {
            StatisticKind::Percentile(p) => Some(p),
            StatisticKind::Simple(_) => None,
        };
        let mut values: Vec<Vec<f64>> = if percentile_of.is_some() { vec![Vec::new(); buckets] } else { Vec::new() };
        for (index, sample) in samples.iter().enumerate() {
            if !sample.is_valid() {
                return Err(AlarmError::InvalidSample { index });
            }
            let ts = sample.timestamp_ms();
            if ts < origin_ms || ts >= end_ms {
                continue;
            }
            let Ok(bucket) = usize::try_from((ts - origin_ms) / base_ms) else {
                continue;
            };
            let next = PeriodAggregate::of(sample);
            if let Some(slot) = aggregates.get_mut(bucket) {
                *slot = Some(slot.map_or(next, |agg| agg.merge(next)));
            }
            if let (Some(list), MetricSample::Value { value, .. }) = (values.get_mut(bucket), sample) {
                list.push(*value);
            }
        }
        let width = (i64::from(alarm.period) / base_s) as usize;
        let mut out = vec![None; buckets + 1];
        let mut scratch = Vec::new();
        for (end, slot) in out.iter_mut().enumerate().skip(width) {
            let window = end - width..end;
            let merged = aggregates
                .get(window.clone())
                .unwrap_or_default()
                .iter()
                .flatten()
                .copied()
                .reduce(PeriodAggregate::merge);
            let Some(agg) = merged else { continue };
            *slot = match (statistic, percentile_of) {
                (StatisticKind::Simple(stat), _) => Some(agg.statistic(stat)),
                (_, Some(p)) => {
                    scratch.clear();
                    for list in values.get(window).unwrap_or_default() {
                        scratch.extend_from_slice(list);
                    }
                    percentile(&mut scratch, p)
                }
                _ => None,
            };
        }
        Ok(PreparedSeries { statistic, period_s: alarm.period, base_ms, origin_ms, end_ms, values: out })
    }

    /// The period (seconds) the series was aggregated for.
    pub fn period_s(&self) -> u32 {
        self.period_s
    }

    /// The statistic the series was aggregated for.
    pub fn statistic(&self) -> StatisticKind {
        self.statistic
    }

    /// The first base-grid instant of the series, epoch milliseconds.
    pub fn origin_ms(&self) -> i64 {
        self.origin_ms
    }

    /// The last base-grid instant of the series, epoch milliseconds.
    pub fn end_ms(&self) -> i64 {
        self.end_ms
    }

    /// Every datapoint of the series (overlapping windows included), in time order.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.values.iter().flatten().copied()
    }

    /// The datapoint of the period ending at `end_ms`; `None` if missing or
    /// outside the series.
    pub fn value_ending_at(&self, end_ms: i64) -> Option<f64> {
        let offset = end_ms.checked_sub(self.origin_ms)?;
        if offset < 0 || offset % self.base_ms != 0 {
            return None;
        }
        let index = usize::try_from(offset / self.base_ms).ok()?;
        self.values.get(index).copied().flatten()
    }
}

/// A change of state during a replay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateTransition {
    /// The evaluation instant of the change, epoch milliseconds.
    pub timestamp_ms: i64,
    /// State before.
    pub old_state: StateValue,
    /// State after.
    pub new_state: StateValue,
}

/// A stretch of time in one state, `[start_ms, end_ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateInterval {
    /// The state held throughout.
    pub state: StateValue,
    /// Inclusive start, epoch milliseconds.
    pub start_ms: i64,
    /// Exclusive end, epoch milliseconds.
    pub end_ms: i64,
}

/// What a setting would have done over the series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replay {
    /// Every change of state, in time order.
    pub transitions: Vec<StateTransition>,
    /// Consecutive intervals covering the whole series.
    pub intervals: Vec<StateInterval>,
    /// Transitions into ALARM (each would have run the alarm actions).
    pub alarm_count: u32,
    /// Total time spent in ALARM.
    pub time_in_alarm_ms: i64,
    /// How many evaluations ran.
    pub evaluations: u64,
}

/// Replays `alarm` over a series prepared for its statistic and period,
/// starting in `initial` (a new alarm starts in INSUFFICIENT_DATA).
pub fn replay_prepared(
    series: &PreparedSeries,
    alarm: &MetricAlarm,
    initial: StateValue,
) -> Result<Replay, AlarmError> {
    alarm.check()?;
    if alarm.period != series.period_s || alarm.statistic_kind()? != series.statistic {
        return Err(AlarmError::SeriesMismatch);
    }
    let n = alarm.evaluation_periods;
    let m = alarm.effective_datapoints_to_alarm();
    let tmd = alarm.effective_treat_missing_data();
    let cadence_ms = i64::from(evaluation_cadence_seconds(alarm)) * 1_000;
    let period_ms = i64::from(alarm.period) * 1_000;
    let len = evaluation_range_len(alarm);
    let mut classes = vec![DatapointClass::Missing; len];
    let mut state = initial;
    let mut transitions = Vec::new();
    let mut evaluations = 0u64;
    // The first evaluation instant after the series starts, on the cadence grid.
    let mut instant = (series.origin_ms.div_euclid(cadence_ms) + 1) * cadence_ms;
    while instant <= series.end_ms {
        for (age, class) in classes.iter_mut().rev().enumerate() {
            let end = instant - age as i64 * period_ms;
            *class = match series.value_ending_at(end) {
                None => DatapointClass::Missing,
                Some(v) if alarm.comparison_operator.is_breaching(v, alarm.threshold) => DatapointClass::Breaching,
                Some(_) => DatapointClass::NotBreaching,
            };
        }
        evaluations += 1;
        if let Outcome::Set(next) = decide(&classes, n, m, tmd).outcome
            && next != state
        {
            transitions.push(StateTransition { timestamp_ms: instant, old_state: state, new_state: next });
            state = next;
        }
        instant += cadence_ms;
    }
    let mut intervals = Vec::with_capacity(transitions.len() + 1);
    let mut start = series.origin_ms;
    let mut current = initial;
    for t in &transitions {
        intervals.push(StateInterval { state: current, start_ms: start, end_ms: t.timestamp_ms });
        start = t.timestamp_ms;
        current = t.new_state;
    }
    intervals.push(StateInterval { state: current, start_ms: start, end_ms: series.end_ms.max(start) });
    let time_in_alarm_ms =
        intervals.iter().filter(|i| i.state == StateValue::Alarm).map(|i| i.end_ms - i.start_ms).sum();
    let alarm_count = transitions.iter().filter(|t| t.new_state == StateValue::Alarm).count() as u32;
    Ok(Replay { transitions, intervals, alarm_count, time_in_alarm_ms, evaluations })
}

/// Prepares the series and replays one setting: [`PreparedSeries::prepare`]
/// then [`replay_prepared`]. Prepare once yourself to try many thresholds.
pub fn replay(
    alarm: &MetricAlarm,
    samples: &[MetricSample],
    from_ms: i64,
    to_ms: i64,
    initial: StateValue,
) -> Result<Replay, AlarmError> {
    let series = PreparedSeries::prepare(alarm, samples, from_ms, to_ms)?;
    replay_prepared(&series, alarm, initial)
}
