//! Metric samples and the statistics an alarm computes over one period.
//!
//! A period's datapoint is the statistic over every sample whose timestamp
//! falls in `[start, start + Period)`. Samples are either single values or the
//! pre-aggregated `StatisticSet`s that `PutMetricData` accepts; both feed
//! Sum, Average, Minimum, Maximum and SampleCount. See "CloudWatch statistics
//! definitions": <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html>
//!
//! Percentiles need the individual values, which a statistic set does not
//! carry, so they are computed from single values only; a period holding only
//! statistic sets has no percentile datapoint (it counts as missing). AWS does
//! not document its percentile interpolation; the nearest-rank definition is
//! used here, so p0 is the minimum, p100 the maximum, p50 of [1, 2] is 1.

use serde::{Deserialize, Serialize};

use super::config::{Statistic, StatisticKind};

/// One value published to a metric, or a pre-aggregated set of them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum MetricSample {
    /// A single value (`Value` in `PutMetricData`).
    Value { timestamp_ms: i64, value: f64 },
    /// A `StatisticSet`: `SampleCount`, `Sum`, `Minimum`, `Maximum`.
    StatisticSet { timestamp_ms: i64, sample_count: f64, sum: f64, minimum: f64, maximum: f64 },
}

impl MetricSample {
    /// When the sample was taken, in epoch milliseconds.
    pub fn timestamp_ms(&self) -> i64 {
        match *self {
            MetricSample::Value { timestamp_ms, .. } | MetricSample::StatisticSet { timestamp_ms, .. } => timestamp_ms,
        }
    }

    /// Whether `PutMetricData` would have accepted it: finite numbers, a
    /// positive sample count and `Minimum <= Maximum`. Invalid samples never
    /// reach an alarm in AWS, so the evaluator refuses them.
    pub fn is_valid(&self) -> bool {
        match *self {
            MetricSample::Value { value, .. } => value.is_finite(),
            MetricSample::StatisticSet { sample_count, sum, minimum, maximum, .. } => {
                [sample_count, sum, minimum, maximum].iter().all(|v| v.is_finite())
                    && sample_count > 0.0
                    && minimum <= maximum
            }
        }
    }
}

/// The running aggregate of one period's samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodAggregate {
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
}

impl PeriodAggregate {
    /// The aggregate of a single sample.
    pub fn of(sample: &MetricSample) -> Self {
        match *sample {
            MetricSample::Value { value, .. } => {
                PeriodAggregate { sample_count: 1.0, sum: value, minimum: value, maximum: value }
            }
            MetricSample::StatisticSet { sample_count, sum, minimum, maximum, .. } => {
                PeriodAggregate { sample_count, sum, minimum, maximum }
            }
        }
    }

    /// Both aggregates together.
    pub fn merge(self, other: PeriodAggregate) -> Self {
        PeriodAggregate {
            sample_count: self.sample_count + other.sample_count,
            sum: self.sum + other.sum,
            minimum: self.minimum.min(other.minimum),
            maximum: self.maximum.max(other.maximum),
        }
    }

    /// The simple statistic of this aggregate.
    pub fn statistic(&self, statistic: Statistic) -> f64 {
        match statistic {
            Statistic::SampleCount => self.sample_count,
            Statistic::Average => self.sum / self.sample_count,
            Statistic::Sum => self.sum,
            Statistic::Minimum => self.minimum,
            Statistic::Maximum => self.maximum,
        }
    }
}

/// Nearest-rank percentile (0 to 100) of `values`, which it sorts; `None` when empty.
pub fn percentile(values: &mut [f64], percentile: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    // Rank is 1-based; clamping makes p0 the minimum rather than out of range.
    let rank = ((percentile / 100.0) * n as f64).ceil() as usize;
    values.get(rank.clamp(1, n) - 1).copied()
}

/// Accumulates one period's samples and yields its datapoint value.
#[derive(Debug, Clone, Default)]
pub struct PeriodAccumulator {
    aggregate: Option<PeriodAggregate>,
    values: Vec<f64>,
}

impl PeriodAccumulator {
    /// Adds one sample; `keep_values` retains single values for percentiles.
    pub fn add(&mut self, sample: &MetricSample, keep_values: bool) {
        let next = PeriodAggregate::of(sample);
        self.aggregate = Some(match self.aggregate {
            Some(agg) => agg.merge(next),
            None => next,
        });
        if let (true, MetricSample::Value { value, .. }) = (keep_values, sample) {
            self.values.push(*value);
        }
    }

    /// The aggregate so far, `None` when no sample arrived.
    pub fn aggregate(&self) -> Option<PeriodAggregate> {
        self.aggregate
    }

    /// The statistic's value and the sample count, `None` for a missing datapoint.
    pub fn finish(&mut self, kind: StatisticKind) -> Option<(f64, f64)> {
        let agg = self.aggregate?;
        let value = match kind {
            StatisticKind::Simple(stat) => agg.statistic(stat),
            StatisticKind::Percentile(p) => percentile(&mut self.values, p)?,
        };
        Some((value, agg.sample_count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(v: f64) -> MetricSample {
        MetricSample::Value { timestamp_ms: 0, value: v }
    }

    // Statistic definitions: Sum, Average (Sum/SampleCount), Minimum, Maximum, SampleCount.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
    #[test]
    fn simple_statistics_over_values_and_sets() {
        let mut acc = PeriodAccumulator::default();
        acc.add(&value(1.0), false);
        acc.add(&value(5.0), false);
        acc.add(
            &MetricSample::StatisticSet { timestamp_ms: 0, sample_count: 2.0, sum: 6.0, minimum: 0.5, maximum: 5.5 },
            false,
        );
        let agg = acc.aggregate().unwrap();
        assert_eq!(agg.statistic(Statistic::Sum), 12.0);
        assert_eq!(agg.statistic(Statistic::SampleCount), 4.0);
        assert_eq!(agg.statistic(Statistic::Average), 3.0);
        assert_eq!(agg.statistic(Statistic::Minimum), 0.5);
        assert_eq!(agg.statistic(Statistic::Maximum), 5.5);
        assert_eq!(acc.finish(StatisticKind::Simple(Statistic::Sum)), Some((12.0, 4.0)));
    }

    #[test]
    fn percentiles_use_nearest_rank_over_single_values() {
        let mut values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&mut values, 99.0), Some(99.0));
        assert_eq!(percentile(&mut values, 0.0), Some(1.0));
        assert_eq!(percentile(&mut values, 100.0), Some(100.0));
        assert_eq!(percentile(&mut values, 50.0), Some(50.0));
        assert_eq!(percentile(&mut [], 50.0), None);

        let mut acc = PeriodAccumulator::default();
        acc.add(
            &MetricSample::StatisticSet { timestamp_ms: 0, sample_count: 3.0, sum: 3.0, minimum: 1.0, maximum: 1.0 },
            true,
        );
        // Only a statistic set: no distribution to take a percentile of.
        assert_eq!(acc.finish(StatisticKind::Percentile(50.0)), None);
        acc.add(&value(7.0), true);
        assert_eq!(acc.finish(StatisticKind::Percentile(50.0)), Some((7.0, 4.0)));
    }

    #[test]
    fn invalid_samples_are_recognised() {
        assert!(!value(f64::NAN).is_valid());
        assert!(!value(f64::INFINITY).is_valid());
        let bad_set =
            MetricSample::StatisticSet { timestamp_ms: 0, sample_count: 0.0, sum: 0.0, minimum: 0.0, maximum: 0.0 };
        assert!(!bad_set.is_valid());
        let inverted =
            MetricSample::StatisticSet { timestamp_ms: 0, sample_count: 1.0, sum: 0.0, minimum: 2.0, maximum: 1.0 };
        assert!(!inverted.is_valid());
        assert!(value(-3.5).is_valid());
    }

    #[test]
    fn samples_serialise_with_a_kind_tag() {
        let json = serde_json::to_string(&value(2.0)).unwrap();
        assert_eq!(json, r#"{"kind":"value","timestampMs":0,"value":2.0}"#);
    }
}
