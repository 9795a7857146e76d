//! The sandbox's metric store: the datapoints metric filters emit (and, with
//! the CloudWatch service, PutMetricData), which CloudWatch alarms read.
//!
//! A datapoint is identified the CloudWatch way: namespace, metric name and
//! the full set of dimensions. Queries match that identity exactly.

use serde::{Deserialize, Serialize};

use crate::store::journal::{Change, Journal};

/// How long datapoints are kept: CloudWatch keeps its finest (one-minute)
/// data for 15 days.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#metrics-retention>
pub const RETENTION_MS: i64 = 15 * crate::clock::DAY_MS;

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

/// All datapoints, in the order they were put. The store keeps them in
/// its database (a `metrics.json` from an earlier release is imported).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricStore {
    #[serde(default, skip_serializing)]
    datapoints: Vec<Datapoint>,
    /// The datapoints put and forgotten since the store last looked.
    #[serde(skip)]
    pub journal: Journal,
    #[serde(skip)]
    sweep: Sweep,
}

/// When expired datapoints were last dropped and the oldest kept, so that a
/// put scans the datapoints only when some have expired, and at most once
/// a minute: a put's cost does not grow with the datapoints stored.
#[derive(Debug, Clone, Default)]
struct Sweep {
    oldest: Option<i64>,
    last_at: Option<i64>,
}

/// How often, in the store's own time, expired datapoints are dropped.
const SWEEP_INTERVAL_MS: i64 = 60_000;

impl PartialEq for Sweep {
    /// Always: bookkeeping, not part of the store's value.
    fn eq(&self, _other: &Sweep) -> bool {
        true
    }
}

impl MetricStore {
    /// Adds a datapoint (its dimensions are sorted here) and forgets those
    /// older than [`RETENTION_MS`] before `now` (checked at most once a
    /// minute of `now`).
    pub fn put(&mut self, mut datapoint: Datapoint, now: i64) {
        datapoint.dimensions.sort();
        let cutoff = now - RETENTION_MS;
        let due = self.sweep.oldest.is_some_and(|oldest| oldest < cutoff)
            && self.sweep.last_at.is_none_or(|at| now - at >= SWEEP_INTERVAL_MS);
        if due {
            self.datapoints.retain(|kept| kept.timestamp >= cutoff);
            self.journal.push(Change::DatapointsExpired { before: cutoff });
            self.sweep =
                Sweep { oldest: self.datapoints.iter().map(|point| point.timestamp).min(), last_at: Some(now) };
        }
        self.sweep.oldest = Some(self.sweep.oldest.map_or(datapoint.timestamp, |o| o.min(datapoint.timestamp)));
        self.journal.push(Change::Datapoint(datapoint.clone()));
        self.datapoints.push(datapoint);
    }

    /// Adds datapoints read back from the store, oldest first.
    pub fn restore(&mut self, datapoints: Vec<Datapoint>) {
        self.datapoints.extend(datapoints);
        self.sweep.oldest = self.datapoints.iter().map(|point| point.timestamp).min();
    }

    /// Takes every datapoint out (to import them into the store).
    pub fn take_all(&mut self) -> Vec<Datapoint> {
        self.sweep = Sweep::default();
        std::mem::take(&mut self.datapoints)
    }

    /// The datapoints of `metric` with `start <= timestamp < end`, oldest first.
    pub fn query(&self, metric: &MetricId, start: i64, end: i64) -> Vec<&Datapoint> {
        let mut dimensions = metric.dimensions.clone();
        dimensions.sort();
        let mut found: Vec<&Datapoint> = self
            .datapoints
            .iter()
            .filter(|point| {
                point.namespace == metric.namespace
                    && point.metric_name == metric.metric_name
                    && point.dimensions == dimensions
                    && (start..end).contains(&point.timestamp)
            })
            .collect();
        found.sort_by_key(|point| point.timestamp);
        found
    }

    /// Every datapoint, in the order they were put.
    pub fn all(&self) -> &[Datapoint] {
        &self.datapoints
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(timestamp: i64, dimensions: Vec<(&str, &str)>) -> Datapoint {
        Datapoint {
            namespace: "Pattern1Application/KMSSecurity".into(),
            metric_name: "KMSSecurityError".into(),
            dimensions: dimensions.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
            timestamp,
            value: 1.0,
            unit: None,
        }
    }

    #[test]
    fn queries_match_the_metric_identity_and_time_range() {
        let mut store = MetricStore::default();
        store.put(point(1_000, vec![]), 1_000);
        store.put(point(2_000, vec![("b", "2"), ("a", "1")]), 2_000);
        store.put(point(3_000, vec![]), 3_000);
        let plain = MetricId {
            namespace: "Pattern1Application/KMSSecurity".into(),
            metric_name: "KMSSecurityError".into(),
            dimensions: vec![],
        };
        assert_eq!(store.query(&plain, 0, 3_000).len(), 1);
        assert_eq!(store.query(&plain, 0, 3_001).len(), 2);
        let dimensioned = MetricId { dimensions: vec![("a".into(), "1".into()), ("b".into(), "2".into())], ..plain };
        assert_eq!(store.query(&dimensioned, 0, 10_000).len(), 1);
    }

    #[test]
    fn old_datapoints_are_forgotten() {
        let mut store = MetricStore::default();
        store.put(point(0, vec![]), 0);
        store.put(point(RETENTION_MS + 1, vec![]), RETENTION_MS + 1);
        assert_eq!(store.all().len(), 1);
    }
}
