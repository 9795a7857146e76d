//! The sandbox's metric store: the datapoints metric filters emit (and, with
//! the CloudWatch service, PutMetricData), which CloudWatch alarms and
//! metric queries read.
//!
//! A datapoint is identified the CloudWatch way: namespace, metric name and
//! the full set of dimensions; each identity is a series. As CloudWatch
//! does, a series keeps its raw datapoints for 3 hours (what periods under
//! a minute and percentiles need) and rolls every datapoint up as it
//! arrives into statistic sets (count, sum, minimum, maximum) per minute
//! for 15 days, per 5 minutes for 63 days and per hour for 455 days, so
//! what is kept is bounded by those retentions, not by how many datapoints
//! were put.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#metrics-retention>

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::DAY_MS;
use crate::store::journal::{Change, Journal};

/// How long raw datapoints are kept ("data points with a period of less
/// than 60 seconds are available for 3 hours").
pub const RAW_RETENTION_MS: i64 = 3 * 60 * 60 * 1000;

/// How long anything of a metric is kept: its hourly roll-ups' 455 days.
pub const RETENTION_MS: i64 = 455 * DAY_MS;

/// One roll-up resolution and how long CloudWatch keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub resolution_ms: i64,
    pub retention_ms: i64,
}

/// 1-minute data for 15 days, 5-minute for 63 days, 1-hour for 455 days.
pub const TIERS: [Tier; 3] = [
    Tier { resolution_ms: 60_000, retention_ms: 15 * DAY_MS },
    Tier { resolution_ms: 300_000, retention_ms: 63 * DAY_MS },
    Tier { resolution_ms: 3_600_000, retention_ms: 455 * DAY_MS },
];

/// One published value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Datapoint {
    pub namespace: String,
    pub metric_name: String,
    /// Dimension name and value pairs, sorted by name.
    pub dimensions: Vec<(String, String)>,
    /// Epoch milliseconds.
    pub timestamp: i64,
    pub value: f64,
    /// A CloudWatch unit (`Count`, `Seconds`, ...), if one was given.
    pub unit: Option<String>,
}

/// Which metric a query is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricId {
    pub namespace: String,
    pub metric_name: String,
    /// Dimension pairs; order does not matter.
    pub dimensions: Vec<(String, String)>,
}

/// A statistic set: what a roll-up keeps of the datapoints in its interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollup {
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
    /// The unit of the datapoints rolled up (the last one's).
    pub unit: Option<String>,
}

impl Rollup {
    fn of(point: &Datapoint) -> Rollup {
        Rollup {
            sample_count: 1.0,
            sum: point.value,
            minimum: point.value,
            maximum: point.value,
            unit: point.unit.clone(),
        }
    }

    fn add(&mut self, point: &Datapoint) {
        self.sample_count += 1.0;
        self.sum += point.value;
        self.minimum = self.minimum.min(point.value);
        self.maximum = self.maximum.max(point.value);
        self.unit.clone_from(&point.unit);
    }
}

/// A series' roll-up of one tier, as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRollup {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<(String, String)>,
    pub resolution_ms: i64,
    /// The interval's start (epoch ms, a multiple of the resolution).
    pub start: i64,
    pub rollup: Rollup,
}

/// What a series holds for one instant of a query: a raw datapoint, or a
/// roll-up of the interval starting then.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample<'a> {
    Raw(&'a Datapoint),
    Rollup { start: i64, resolution_ms: i64, rollup: &'a Rollup },
}

type SeriesKey = (String, String, Vec<(String, String)>);

/// One metric's data.
#[derive(Debug, Clone, Default, PartialEq)]
struct Series {
    /// The last 3 hours' datapoints, by timestamp.
    raw: Vec<Datapoint>,
    /// Per tier of [`TIERS`], roll-ups by interval start.
    tiers: [BTreeMap<i64, Rollup>; 3],
}

/// Every series. The store keeps the raw datapoints and the roll-ups in its
/// database (a `metrics.json` from an earlier release is imported).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricStore {
    /// Datapoints an earlier release's `metrics.json` held, until imported.
    #[serde(default, skip_serializing)]
    datapoints: Vec<Datapoint>,
    #[serde(skip)]
    series: BTreeMap<SeriesKey, Series>,
    /// The datapoints put and forgotten since the store last looked.
    #[serde(skip)]
    pub journal: Journal,
    #[serde(skip)]
    sweep: Sweep,
}

/// When expired data was last dropped, so that a put scans the series at
/// most once a minute: a put's cost does not grow with what is stored.
#[derive(Debug, Clone, Default)]
struct Sweep {
    last_at: Option<i64>,
}

/// How often, in the store's own time, expired data is dropped.
const SWEEP_INTERVAL_MS: i64 = 60_000;

impl PartialEq for Sweep {
    /// Always: bookkeeping, not part of the store's value.
    fn eq(&self, _other: &Sweep) -> bool {
        true
    }
}

/// The start of the interval of `resolution_ms` holding `timestamp`.
fn interval_start(timestamp: i64, resolution_ms: i64) -> i64 {
    timestamp - timestamp.rem_euclid(resolution_ms)
}

impl MetricStore {
    /// Adds a datapoint (its dimensions are sorted here) to its series and
    /// its roll-ups, and forgets what has expired before `now` (checked at
    /// most once a minute of `now`).
    pub fn put(&mut self, mut datapoint: Datapoint, now: i64) {
        datapoint.dimensions.sort();
        if self.sweep.last_at.is_none_or(|at| now - at >= SWEEP_INTERVAL_MS) {
            self.expire(now);
        }
        self.journal.push(Change::Datapoint(datapoint.clone()));
        self.add(datapoint, now);
    }

    fn add(&mut self, datapoint: Datapoint, now: i64) {
        let key = (datapoint.namespace.clone(), datapoint.metric_name.clone(), datapoint.dimensions.clone());
        let series = self.series.entry(key).or_default();
        for (tier, rollups) in TIERS.iter().zip(series.tiers.iter_mut()) {
            if datapoint.timestamp >= now - tier.retention_ms {
                rollups
                    .entry(interval_start(datapoint.timestamp, tier.resolution_ms))
                    .and_modify(|rollup| rollup.add(&datapoint))
                    .or_insert_with(|| Rollup::of(&datapoint));
            }
        }
        if datapoint.timestamp >= now - RAW_RETENTION_MS {
            // Datapoints usually arrive in order: search from the end.
            let at = series.raw.iter().rposition(|p| p.timestamp <= datapoint.timestamp).map_or(0, |i| i + 1);
            series.raw.insert(at, datapoint);
        }
    }

    /// Drops raw datapoints older than 3 hours and roll-ups past their
    /// tier's retention.
    fn expire(&mut self, now: i64) {
        self.sweep.last_at = Some(now);
        let mut dropped = false;
        for series in self.series.values_mut() {
            let before = series.raw.len();
            series.raw.retain(|point| point.timestamp >= now - RAW_RETENTION_MS);
            dropped |= series.raw.len() != before;
            for (tier, rollups) in TIERS.iter().zip(series.tiers.iter_mut()) {
                let kept = rollups.split_off(&(now - tier.retention_ms));
                dropped |= !rollups.is_empty();
                *rollups = kept;
            }
        }
        self.series.retain(|_, series| !series.raw.is_empty() || series.tiers.iter().any(|t| !t.is_empty()));
        if dropped {
            self.journal.push(Change::MetricDataExpired { now });
        }
    }

    /// Adds raw datapoints and roll-ups read back from the store.
    pub fn restore(&mut self, datapoints: Vec<Datapoint>, rollups: Vec<StoredRollup>) {
        for rollup in rollups {
            let Some(tier) = TIERS.iter().position(|tier| tier.resolution_ms == rollup.resolution_ms) else { continue };
            let key = (rollup.namespace, rollup.metric_name, rollup.dimensions);
            self.series.entry(key).or_default().tiers[tier].insert(rollup.start, rollup.rollup);
        }
        for datapoint in datapoints {
            let key = (datapoint.namespace.clone(), datapoint.metric_name.clone(), datapoint.dimensions.clone());
            let raw = &mut self.series.entry(key).or_default().raw;
            let at = raw.iter().rposition(|p| p.timestamp <= datapoint.timestamp).map_or(0, |i| i + 1);
            raw.insert(at, datapoint);
        }
    }

    /// Takes the datapoints an earlier release's file held (to import
    /// them into the store, which rolls them up).
    pub fn take_all(&mut self) -> Vec<Datapoint> {
        std::mem::take(&mut self.datapoints)
    }

    /// The raw datapoints of `metric` with `start <= timestamp < end`, oldest first.
    pub fn query(&self, metric: &MetricId, start: i64, end: i64) -> Vec<&Datapoint> {
        let Some(series) = self.series_of(metric) else { return Vec::new() };
        series.raw.iter().filter(|point| (start..end).contains(&point.timestamp)).collect()
    }

    /// What `metric` holds for `[start, end)` at the finest resolution kept
    /// for each instant: raw datapoints for the last 3 hours, then 1-minute
    /// roll-ups (15 days), 5-minute (63 days) and 1-hour (455 days), oldest
    /// first. A period then uses the samples whose resolution it is a
    /// multiple of, which gives CloudWatch's rule that older data needs
    /// longer periods.
    /// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html>
    pub fn samples(&self, metric: &MetricId, start: i64, end: i64, now: i64) -> Vec<Sample<'_>> {
        let Some(series) = self.series_of(metric) else { return Vec::new() };
        // Where each source takes over from the coarser one, on hour
        // boundaries (a multiple of every resolution, so no interval is
        // split): raw from within the last 3 hours, then each tier.
        let hour = TIERS[2].resolution_ms;
        let align_up = |at: i64| interval_start(at + hour - 1, hour);
        let raw_from = align_up(now - RAW_RETENTION_MS);
        let mut samples: Vec<Sample<'_>> = series
            .raw
            .iter()
            .filter(|point| point.timestamp >= raw_from.max(start) && point.timestamp < end)
            .map(Sample::Raw)
            .collect();
        let mut until = raw_from;
        for (tier, rollups) in TIERS.iter().zip(series.tiers.iter()) {
            let from = align_up(now - tier.retention_ms);
            let (low, high) = (from.max(interval_start(start, tier.resolution_ms)), until.min(end));
            if low < high {
                samples.extend(rollups.range(low..high).map(|(interval, rollup)| Sample::Rollup {
                    start: *interval,
                    resolution_ms: tier.resolution_ms,
                    rollup,
                }));
            }
            until = until.min(from);
        }
        samples.sort_by_key(|sample| match sample {
            Sample::Raw(point) => point.timestamp,
            Sample::Rollup { start, .. } => *start,
        });
        samples
    }

    fn series_of(&self, metric: &MetricId) -> Option<&Series> {
        let mut dimensions = metric.dimensions.clone();
        dimensions.sort();
        self.series.get(&(metric.namespace.clone(), metric.metric_name.clone(), dimensions))
    }

    /// Every metric holding data.
    pub fn metrics(&self) -> impl Iterator<Item = MetricId> + '_ {
        self.series.keys().map(|(namespace, metric_name, dimensions)| MetricId {
            namespace: namespace.clone(),
            metric_name: metric_name.clone(),
            dimensions: dimensions.clone(),
        })
    }

    /// Every raw datapoint kept (the last 3 hours), by metric then time.
    pub fn all(&self) -> Vec<&Datapoint> {
        self.series.values().flat_map(|series| series.raw.iter()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(timestamp: i64, dimensions: Vec<(&str, &str)>) -> Datapoint {
        valued(timestamp, 1.0, dimensions)
    }

    fn valued(timestamp: i64, value: f64, dimensions: Vec<(&str, &str)>) -> Datapoint {
        Datapoint {
            namespace: "Pattern1Application/KMSSecurity".into(),
            metric_name: "KMSSecurityError".into(),
            dimensions: dimensions.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
            timestamp,
            value,
            unit: None,
        }
    }

    fn plain() -> MetricId {
        MetricId {
            namespace: "Pattern1Application/KMSSecurity".into(),
            metric_name: "KMSSecurityError".into(),
            dimensions: vec![],
        }
    }

    #[test]
    fn queries_match_the_metric_identity_and_time_range() {
        let mut store = MetricStore::default();
        store.put(point(1_000, vec![]), 1_000);
        store.put(point(2_000, vec![("b", "2"), ("a", "1")]), 2_000);
        store.put(point(3_000, vec![]), 3_000);
        assert_eq!(store.query(&plain(), 0, 3_000).len(), 1);
        assert_eq!(store.query(&plain(), 0, 3_001).len(), 2);
        let dimensioned = MetricId { dimensions: vec![("a".into(), "1".into()), ("b".into(), "2".into())], ..plain() };
        assert_eq!(store.query(&dimensioned, 0, 10_000).len(), 1);
    }

    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#metrics-retention
    // Raw data for 3 hours, 1-minute data for 15 days, 5-minute for 63
    // days, 1-hour for 455 days.
    #[test]
    fn data_is_rolled_up_and_kept_as_cloudwatch_keeps_it() {
        let start = 1_000 * DAY_MS;
        let mut store = MetricStore::default();
        // Two datapoints in one minute (values 2 and 4), one a minute later.
        for (offset, value) in [(10_000, 2.0), (20_000, 4.0), (70_000, 8.0)] {
            store.put(valued(start + offset, value, vec![]), start + offset);
        }
        let at = |now: i64| store.clone_after(now);
        let now = start + 80_000;
        let samples = store.samples(&plain(), start, now, now);
        assert_eq!(samples.len(), 3, "raw datapoints within 3 hours: {samples:?}");

        // Four hours on: the raw points are gone, the minutes remain.
        let later = at(start + 4 * 60 * 60 * 1000);
        let samples = later.samples(&plain(), start, start + 5 * 60 * 60 * 1000, start + 4 * 60 * 60 * 1000);
        let minutes: Vec<(i64, f64, f64)> = samples
            .iter()
            .filter_map(|s| match s {
                Sample::Rollup { start: at, resolution_ms: 60_000, rollup } => {
                    Some((*at, rollup.sample_count, rollup.sum))
                }
                _ => None,
            })
            .collect();
        assert_eq!(minutes, vec![(start, 2.0, 6.0), (start + 60_000, 1.0, 8.0)]);
        assert!(later.query(&plain(), 0, i64::MAX).is_empty());

        // 20 days on: 5-minute roll-ups only (one interval holds all three).
        let later = at(start + 20 * DAY_MS);
        let samples = later.samples(&plain(), start, start + DAY_MS, start + 20 * DAY_MS);
        assert_eq!(samples.len(), 1, "{samples:?}");
        assert!(matches!(samples[0], Sample::Rollup { resolution_ms: 300_000, rollup, .. } if rollup.sum == 14.0));

        // 100 days on: hourly; 500 days on: nothing.
        let later = at(start + 100 * DAY_MS);
        let samples = later.samples(&plain(), start, start + DAY_MS, start + 100 * DAY_MS);
        assert!(matches!(samples[..], [Sample::Rollup { resolution_ms: 3_600_000, .. }]), "{samples:?}");
        let later = at(start + 500 * DAY_MS);
        assert!(later.samples(&plain(), 0, i64::MAX, start + 500 * DAY_MS).is_empty());
        assert!(later.metrics().all(|metric| metric.metric_name != "KMSSecurityError"));
    }

    impl MetricStore {
        /// The store as a put at `now` (of another metric) leaves it.
        fn clone_after(&self, now: i64) -> MetricStore {
            let mut store = self.clone();
            store.put(
                Datapoint {
                    namespace: "Other".into(),
                    metric_name: "Tick".into(),
                    dimensions: vec![],
                    timestamp: now,
                    value: 0.0,
                    unit: None,
                },
                now,
            );
            store
        }
    }
}
