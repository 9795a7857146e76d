//! The threshold sweep: how many alarms, and how much time in ALARM, each of
//! many candidate thresholds would have produced over the same history, under
//! the alarm's real evaluation rules.
//!
//! Replaying each candidate costs one full pass per threshold (about 6 ms
//! for 15 days of 10-second data, so 100 candidates take over half a
//! second). The sweep makes one pass for all of them: at each evaluation
//! instant the range's datapoints are read once, and because whether a
//! datapoint breaches is monotone in the threshold (for every comparison
//! operator), the sorted candidates split into at most N + 3 runs that see
//! the same breaching pattern. [`decide`] — the live evaluator's rule —
//! runs once per run, and each candidate's state machine then takes the
//! run's outcome. The answer equals [`super::replay_prepared`]'s for every
//! candidate; a test checks it on varied data and settings.

use serde::{Deserialize, Serialize};

use super::config::MetricAlarm;
use super::evaluate::{
    AlarmError, DatapointClass, Outcome, StateValue, decide, evaluation_cadence_seconds, evaluation_range_len,
};
use super::replay::PreparedSeries;
use crate::chart::ticks::nice_step;

/// What one candidate threshold would have done.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    pub threshold: f64,
    /// Transitions into ALARM (each would have notified).
    pub alarm_count: u32,
    pub time_in_alarm_ms: i64,
}

/// The sweep over the candidate thresholds, in ascending threshold order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    pub points: Vec<SweepPoint>,
    /// Evaluation instants walked (the same for every candidate).
    pub evaluations: u64,
}

/// About `count` candidate thresholds spanning the series' values, on a
/// nice step (so a picked value reads "2.5", not "2.4747…"), plus `extra`
/// (the current and proposed thresholds); sorted and without duplicates.
/// A series that holds one value (a single burst of failures is one
/// datapoint) is swept from zero to that value instead.
pub fn candidate_thresholds(series: &PreparedSeries, count: usize, extra: &[f64]) -> Vec<f64> {
    let (lo, hi) =
        series.values().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), value| (lo.min(value), hi.max(value)));
    // One value gives no span to step through: the step would shrink to
    // machine epsilon and leave the value alone (and the rounding below
    // would overflow). Zero is where a count's thresholds start.
    let (lo, hi) = if lo < hi {
        (lo, hi)
    } else if lo.min(0.0) < hi.max(0.0) {
        (lo.min(0.0), hi.max(0.0))
    } else {
        (lo, lo + 1.0)
    };
    let mut candidates: Vec<f64> = extra.iter().copied().filter(|t| t.is_finite()).collect();
    if lo.is_finite() && hi.is_finite() {
        let step = nice_step((hi - lo).max(f64::EPSILON) / count.saturating_sub(1).max(1) as f64);
        let first = (lo / step).floor() as i64;
        let last = (hi / step).ceil() as i64;
        // Rounding keeps "0.30000000000000004" out of the threshold field.
        let places = 10f64.powi((-step.log10().floor()).max(0.0) as i32);
        candidates.extend((first..=last).map(|i| (i as f64 * step * places).round() / places));
    }
    candidates.sort_by(f64::total_cmp);
    candidates.dedup();
    candidates
}

/// Each candidate's state machine while the sweep walks the instants.
#[derive(Debug, Clone, Copy)]
struct Track {
    state: StateValue,
    alarm_since: i64,
    alarm_count: u32,
    time_in_alarm_ms: i64,
}

/// Sweeps `thresholds` (any order; the result is sorted and deduplicated)
/// with `alarm`'s other settings over `series`, every candidate starting in
/// `initial`. Equal, candidate by candidate, to
/// [`super::replay_prepared`] with `MetricAlarm { threshold, ..alarm }`.
pub fn sweep_prepared(
    series: &PreparedSeries,
    alarm: &MetricAlarm,
    thresholds: &[f64],
    initial: StateValue,
) -> Result<Sweep, AlarmError> {
    alarm.check()?;
    if alarm.period != series.period_s() || alarm.statistic_kind()? != series.statistic() {
        return Err(AlarmError::SeriesMismatch);
    }
    let mut candidates: Vec<f64> = thresholds.iter().copied().filter(|t| t.is_finite()).collect();
    candidates.sort_by(f64::total_cmp);
    candidates.dedup();
    let count = candidates.len();
    let n = alarm.evaluation_periods;
    let m = alarm.effective_datapoints_to_alarm();
    let tmd = alarm.effective_treat_missing_data();
    let operator = alarm.comparison_operator;
    let cadence_ms = i64::from(evaluation_cadence_seconds(alarm)) * 1_000;
    let period_ms = i64::from(alarm.period) * 1_000;
    let len = evaluation_range_len(alarm);
    let (origin_ms, end_ms) = (series.origin_ms(), series.end_ms());

    let mut tracks = vec![Track { state: initial, alarm_since: origin_ms, alarm_count: 0, time_in_alarm_ms: 0 }; count];
    let mut window: Vec<Option<f64>> = vec![None; len];
    let mut classes = vec![DatapointClass::Missing; len];
    // Candidate indices where some datapoint's class flips, plus both ends.
    let mut cuts: Vec<usize> = Vec::with_capacity(len + 2);
    let mut evaluations = 0u64;
    let mut instant = (origin_ms.div_euclid(cadence_ms) + 1) * cadence_ms;
    while instant <= end_ms && count > 0 {
        for (age, slot) in window.iter_mut().rev().enumerate() {
            *slot = series.value_ending_at(instant - age as i64 * period_ms);
        }
        cuts.clear();
        cuts.push(0);
        cuts.push(count);
        for value in window.iter().flatten() {
            // Breaching is monotone in the threshold, so the candidates where
            // it differs from the lowest candidate's answer form a suffix.
            let at_lowest = operator.is_breaching(*value, candidates[0]);
            cuts.push(candidates.partition_point(|t| operator.is_breaching(*value, *t) == at_lowest));
        }
        cuts.sort_unstable();
        cuts.dedup();
        for run in cuts.windows(2) {
            let (from, to) = (run[0], run[1]);
            let threshold = candidates[from];
            for (class, value) in classes.iter_mut().zip(&window) {
                *class = match value {
                    None => DatapointClass::Missing,
                    Some(v) if operator.is_breaching(*v, threshold) => DatapointClass::Breaching,
                    Some(_) => DatapointClass::NotBreaching,
                };
            }
            let Outcome::Set(next) = decide(&classes, n, m, tmd).outcome else { continue };
            for track in &mut tracks[from..to] {
                if track.state == next {
                    continue;
                }
                if next == StateValue::Alarm {
                    track.alarm_count += 1;
                    track.alarm_since = instant;
                } else if track.state == StateValue::Alarm {
                    track.time_in_alarm_ms += instant - track.alarm_since;
                }
                track.state = next;
            }
        }
        evaluations += 1;
        instant += cadence_ms;
    }
    let points = candidates
        .iter()
        .zip(&tracks)
        .map(|(threshold, track)| {
            let open =
                if track.state == StateValue::Alarm { end_ms.max(track.alarm_since) - track.alarm_since } else { 0 };
            SweepPoint {
                threshold: *threshold,
                alarm_count: track.alarm_count,
                time_in_alarm_ms: track.time_in_alarm_ms + open,
            }
        })
        .collect();
    Ok(Sweep { points, evaluations })
}

/// Prepares the series for `alarm` over `[from_ms, to_ms)` and sweeps about
/// `count` candidates spanning its values plus `extra` thresholds.
pub fn threshold_sweep(
    alarm: &MetricAlarm,
    samples: &[super::statistics::MetricSample],
    from_ms: i64,
    to_ms: i64,
    initial: StateValue,
    count: usize,
    extra: &[f64],
) -> Result<Sweep, AlarmError> {
    let series = PreparedSeries::prepare(alarm, samples, from_ms, to_ms)?;
    let candidates = candidate_thresholds(&series, count, extra);
    sweep_prepared(&series, alarm, &candidates, initial)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::config::tests::lab_alarm;
    use crate::alarm::config::{ComparisonOperator, Statistic, TreatMissingData};
    use crate::alarm::replay::replay_prepared;
    use crate::alarm::statistics::MetricSample;

    const T0: i64 = 1_795_000_000_000 - 1_795_000_000_000 % 60_000;

    /// A deterministic series with quiet stretches, bursts and gaps, so every
    /// missing-data rule and both directions of every operator are exercised.
    fn varied(periods: i64, seed: u64) -> Vec<MetricSample> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as i64
        };
        let mut samples = Vec::new();
        let mut burst = 0;
        for period in 0..periods {
            let start = T0 + period * 10_000;
            if next() % 100 < 12 {
                continue; // a gap: missing data
            }
            if burst == 0 && next() % 100 < 4 {
                burst = 3 + next() % 12;
            }
            let failures = if burst > 0 {
                burst -= 1;
                2 + next() % 6
            } else {
                next() % 3
            };
            for i in 0..failures.max(1) {
                let value = if failures == 0 { 0.0 } else { 1.0 + (next() % 4) as f64 * 0.25 };
                samples.push(MetricSample::Value { timestamp_ms: start + 300 + i * 900, value });
            }
        }
        samples
    }

    // The sweep must decide exactly as the evaluator does: "Using Amazon
    // CloudWatch alarms" (evaluation range, M out of N, missing data rules),
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    #[test]
    fn the_sweep_equals_one_replay_per_candidate() {
        let operators = ComparisonOperator::ALL;
        let mut checked = 0;
        for (case, seed) in [11_u64, 29, 47].into_iter().enumerate() {
            let samples = varied(1_500, seed);
            let to_ms = T0 + 1_500 * 10_000;
            for (i, operator) in operators.into_iter().enumerate() {
                for tmd in TreatMissingData::ALL {
                    for (period, n, m, statistic) in
                        [(10, 1, 1, Statistic::Sum), (10, 5, 3, Statistic::Average), (60, 3, 2, Statistic::Maximum)]
                    {
                        let alarm = MetricAlarm {
                            comparison_operator: operator,
                            treat_missing_data: tmd,
                            period,
                            evaluation_periods: n,
                            datapoints_to_alarm: Some(m),
                            statistic: Some(statistic),
                            ..lab_alarm()
                        };
                        let initial = [StateValue::InsufficientData, StateValue::Ok, StateValue::Alarm][(case + i) % 3];
                        let series = PreparedSeries::prepare(&alarm, &samples, T0, to_ms).unwrap();
                        let candidates = candidate_thresholds(&series, 100, &[alarm.threshold]);
                        assert!(candidates.len() > 20, "{candidates:?}");
                        let sweep = sweep_prepared(&series, &alarm, &candidates, initial).unwrap();
                        assert_eq!(sweep.points.len(), candidates.len());
                        let mut some_alarm = false;
                        for point in &sweep.points {
                            let single = MetricAlarm { threshold: point.threshold, ..alarm.clone() };
                            let replay = replay_prepared(&series, &single, initial).unwrap();
                            let what = format!("{} from {initial}", single.describe_condition());
                            assert_eq!(point.alarm_count, replay.alarm_count, "{what}");
                            assert_eq!(point.time_in_alarm_ms, replay.time_in_alarm_ms, "{what}");
                            assert_eq!(sweep.evaluations, replay.evaluations, "{what}");
                            some_alarm |= replay.alarm_count > 0;
                            checked += 1;
                        }
                        // Agreeing on "never alarms" would prove little.
                        assert!(some_alarm, "{}", alarm.describe_condition());
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn candidates_span_the_data_on_a_nice_step_with_the_extra_thresholds() {
        let samples: Vec<MetricSample> =
            (0..60).map(|i| MetricSample::Value { timestamp_ms: T0 + i * 10_000, value: (i % 9) as f64 }).collect();
        let series = PreparedSeries::prepare(&lab_alarm(), &samples, T0, T0 + 600_000).unwrap();
        let candidates = candidate_thresholds(&series, 100, &[1.0, 3.33]);
        assert_eq!(candidates.first(), Some(&0.0));
        assert_eq!(candidates.last(), Some(&8.0));
        assert!(candidates.contains(&3.33) && candidates.contains(&2.5));
        assert!(candidates.len() <= 102, "{}", candidates.len());
        assert!(candidates.windows(2).all(|pair| pair[0] < pair[1]));
        // "0.30000000000000004" would land in the threshold field.
        assert!(candidates.contains(&0.3));
    }

    #[test]
    fn a_series_of_one_value_is_swept_from_zero() {
        // (value every datapoint holds, first candidate, last candidate)
        for (value, first, last) in [(4.0_f64, 0.0_f64, 4.0_f64), (0.0, 0.0, 1.0), (-3.0, -3.0, 0.0), (0.25, 0.0, 0.25)]
        {
            let samples: Vec<MetricSample> =
                (0..6).map(|i| MetricSample::Value { timestamp_ms: T0 + i * 10_000, value }).collect();
            let series = PreparedSeries::prepare(&lab_alarm(), &samples, T0, T0 + 60_000).unwrap();
            let candidates = candidate_thresholds(&series, 100, &[1.0]);
            assert_eq!(candidates.first(), Some(&first.min(1.0)), "{value}: {candidates:?}");
            assert_eq!(candidates.last(), Some(&f64::max(last, 1.0)), "{value}: {candidates:?}");
            assert!(candidates.len() > 20 && candidates.len() <= 102, "{value}: {}", candidates.len());
            assert!(candidates.contains(&value), "{value}: {candidates:?}");
        }
    }

    #[test]
    fn a_higher_threshold_never_alarms_longer_for_the_lab_alarm() {
        let samples = varied(3_000, 5);
        let sweep = threshold_sweep(&lab_alarm(), &samples, T0, T0 + 30_000_000, StateValue::Ok, 100, &[1.0]).unwrap();
        assert!(sweep.points.windows(2).all(|pair| pair[0].time_in_alarm_ms >= pair[1].time_in_alarm_ms));
        assert_eq!(sweep.points.last().map(|p| p.alarm_count), Some(0));
    }

    #[test]
    fn no_candidate_no_work_and_a_mismatched_series_is_refused() {
        let samples = varied(100, 3);
        let series = PreparedSeries::prepare(&lab_alarm(), &samples, T0, T0 + 1_000_000).unwrap();
        assert!(sweep_prepared(&series, &lab_alarm(), &[], StateValue::Ok).unwrap().points.is_empty());
        let other = MetricAlarm { period: 60, ..lab_alarm() };
        assert_eq!(sweep_prepared(&series, &other, &[1.0], StateValue::Ok), Err(AlarmError::SeriesMismatch));
    }
}
