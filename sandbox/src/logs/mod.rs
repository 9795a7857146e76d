//! Amazon CloudWatch Logs: log groups with retention, log streams and their
//! events, and metric filters that turn matching events into datapoints.
//!
//! Ingestion ([`LogsState::ingest`]) is shared by PutLogEvents and by
//! CloudTrail's delivery, so both feed the metric filters the same way: each
//! accepted event is matched against the group's filters (with the domain
//! crate's filter-pattern language) and emits datapoints into the
//! [`MetricStore`]. A filter only sees events ingested after it exists,
//! because it is applied at ingestion. [`api`] speaks AWS JSON 1.1.

pub mod api;

use std::collections::BTreeMap;

use keywatch_domain::filter_pattern::{FieldRef, FilterPattern, MetricValue};
use serde::{Deserialize, Serialize};

use crate::clock::DAY_MS;
use crate::error::AwsError;
use crate::metrics::{Datapoint, MetricStore};
use crate::store::journal::{Change, Journal};

/// The retention periods PutRetentionPolicy accepts, in days.
/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html>
pub const RETENTION_DAYS: [i64; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// How many metric filters a log group may have.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html>
pub const MAX_METRIC_FILTERS: usize = 100;

/// PutLogEvents limits. <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html>
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// Largest batch: the sum of messages plus 26 bytes per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Events more than 14 days old are refused.
pub const TOO_OLD_MS: i64 = 14 * DAY_MS;
/// Events more than 2 hours in the future are refused.
pub const TOO_NEW_MS: i64 = 2 * 60 * 60 * 1000;

/// One stored log event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent {
    pub timestamp: i64,
    pub message: String,
    pub ingestion_time: i64,
    pub event_id: String,
}

/// A log stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogStream {
    pub name: String,
    pub creation_time: i64,
    /// In timestamp order. The store keeps events in its database, never
    /// in `logs.json` (a file written by an earlier release may still
    /// hold them: they are imported).
    #[serde(default, skip_serializing)]
    pub events: Vec<LogEvent>,
    /// Read back from the stored events' ingestion times, so that
    /// PutLogEvents leaves `logs.json` as it was.
    #[serde(default, skip_serializing)]
    pub last_ingestion_time: Option<i64>,
    /// What DescribeLogStreams and DescribeLogGroups report, kept as events
    /// arrive so that neither reads the events.
    #[serde(skip)]
    pub summary: StreamSummary,
}

/// A stream's events, counted as they are stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamSummary {
    pub first_timestamp: Option<i64>,
    pub last_timestamp: Option<i64>,
    /// Message bytes, as CloudWatch Logs counts `storedBytes`.
    pub stored_bytes: i64,
}

impl StreamSummary {
    fn note(&mut self, event: &LogEvent) {
        self.first_timestamp = Some(self.first_timestamp.map_or(event.timestamp, |t| t.min(event.timestamp)));
        self.last_timestamp = Some(self.last_timestamp.map_or(event.timestamp, |t| t.max(event.timestamp)));
        self.stored_bytes += event.message.len() as i64;
    }

    fn of(events: &[LogEvent]) -> StreamSummary {
        let mut summary = StreamSummary::default();
        events.iter().for_each(|event| summary.note(event));
        summary
    }
}

/// Which stored events a read wants: one group's (one stream's, if named)
/// with `start <= timestamp < end`, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct EventQuery<'q> {
    pub region: &'q str,
    pub group: &'q str,
    pub stream: Option<&'q str>,
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// Where a state directory keeps log events: read on demand, never held
/// in memory, so memory and start-up do not grow with them.
pub trait EventStore: Send + Sync {
    /// Calls `visit` with each event `query` wants (and its stream), in
    /// timestamp order, until it returns false.
    fn visit(&self, query: &EventQuery<'_>, visit: &mut dyn FnMut(&str, LogEvent) -> bool) -> Result<(), String>;
}

/// A handle on the stored events (none in memory-only sandboxes, whose
/// streams hold their events).
#[derive(Clone, Default)]
pub struct EventArchive(Option<std::sync::Arc<dyn EventStore>>);

impl EventArchive {
    pub fn new(store: std::sync::Arc<dyn EventStore>) -> EventArchive {
        EventArchive(Some(store))
    }
}

impl std::fmt::Debug for EventArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "EventArchive(stored)" } else { "EventArchive(memory)" })
    }
}

impl PartialEq for EventArchive {
    /// Always: where events are read from is not part of the state's value.
    fn eq(&self, _other: &EventArchive) -> bool {
        true
    }
}

/// How often a stored group's expired events are deleted at most: AWS
/// deletes them lazily too ("typically within 72 hours").
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention>
const STORED_EXPIRY_INTERVAL_MS: i64 = 60_000;

/// A metric transformation, in its wire shape.
/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_MetricTransformation.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricTransformation {
    pub metric_name: String,
    pub metric_namespace: String,
    pub metric_value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A metric filter on a log group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricFilter {
    pub name: String,
    pub pattern: String,
    pub transformations: Vec<MetricTransformation>,
    pub creation_time: i64,
}

/// A log group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogGroup {
    pub name: String,
    pub creation_time: i64,
    pub retention_in_days: Option<i64>,
    pub streams: BTreeMap<String, LogStream>,
    pub metric_filters: BTreeMap<String, MetricFilter>,
}

impl LogGroup {
    /// Bytes held, counted as CloudWatch Logs bills them (message bytes).
    pub fn stored_bytes(&self) -> i64 {
        self.streams.values().map(LogStream::stored_bytes).sum()
    }
}

impl LogStream {
    /// Bytes of the stream's messages.
    pub fn stored_bytes(&self) -> i64 {
        self.summary.stored_bytes
    }
}

/// CloudWatch Logs' state, per region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogsState {
    pub regions: BTreeMap<String, BTreeMap<String, LogGroup>>,
    /// Source of event ids, unique across the sandbox; read back from the
    /// highest stored id.
    #[serde(default, skip_serializing)]
    pub next_event_id: u64,
    /// The events stored and dropped since the store last looked.
    #[serde(skip)]
    pub journal: Journal,
    /// The stored events, when a state directory keeps them.
    #[serde(skip)]
    pub archive: EventArchive,
    /// When each stored group's expired events were last deleted.
    #[serde(skip)]
    expired_at: ExpiredAt,
}

/// When each stored (region, group)'s expired events were last deleted.
#[derive(Debug, Clone, Default)]
struct ExpiredAt(BTreeMap<(String, String), i64>);

impl PartialEq for ExpiredAt {
    /// Always: bookkeeping, not part of the state's value.
    fn eq(&self, _other: &ExpiredAt) -> bool {
        true
    }
}

/// An event to ingest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputLogEvent {
    pub timestamp: i64,
    pub message: String,
}

/// Where ingested events go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamTarget<'a> {
    pub region: &'a str,
    pub group: &'a str,
    pub stream: &'a str,
    /// Create the stream if it is missing (CloudTrail delivery does).
    pub create_stream: bool,
}

/// Which events of a PutLogEvents batch were refused, by index in the
/// batch sorted by timestamp.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejected {
    pub too_new_start_index: Option<usize>,
    pub too_old_end_index: Option<usize>,
    pub expired_end_index: Option<usize>,
}

/// "The specified log group does not exist." (ResourceNotFoundException)
pub fn group_not_found() -> AwsError {
    AwsError::sender("ResourceNotFoundException", "The specified log group does not exist.")
}

fn stream_not_found() -> AwsError {
    AwsError::sender("ResourceNotFoundException", "The specified log stream does not exist.")
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::sender("InvalidParameterException", message)
}

/// Log group names: 1 to 512 of `[\.\-_/#A-Za-z0-9]`.
/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html>
pub fn check_group_name(name: &str) -> Result<(), AwsError> {
    if (1..=512).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c)) {
        Ok(())
    } else {
        Err(invalid(format!(
            "1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )))
    }
}

/// Stream and filter names: 1 to 512 characters, no `:` or `*`.
fn check_name(name: &str, field: &str) -> Result<(), AwsError> {
    if (1..=512).contains(&name.len()) && !name.contains([':', '*']) {
        Ok(())
    } else {
        Err(invalid(format!(
            "1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"
        )))
    }
}

impl LogsState {
    /// The groups of `region`.
    pub fn groups(&self, region: &str) -> impl Iterator<Item = &LogGroup> {
        self.regions.get(region).into_iter().flat_map(|groups| groups.values())
    }

    /// The group `name` in `region`.
    pub fn group(&self, region: &str, name: &str) -> Result<&LogGroup, AwsError> {
        self.regions.get(region).and_then(|groups| groups.get(name)).ok_or_else(group_not_found)
    }

    fn group_mut(&mut self, region: &str, name: &str) -> Result<&mut LogGroup, AwsError> {
        self.regions.get_mut(region).and_then(|groups| groups.get_mut(name)).ok_or_else(group_not_found)
    }

    /// Drops events older than their group's retention; true if any went.
    pub fn enforce_retention(&mut self, now: i64) -> bool {
        if self.archive.0.is_some() {
            return self.expire_stored(now);
        }
        let mut changed = false;
        for (region, groups) in &mut self.regions {
            for group in groups.values_mut() {
                let Some(days) = group.retention_in_days else { continue };
                let oldest = now - days * DAY_MS;
                let mut group_changed = false;
                // Events are in timestamp order: a stream whose first is
                // in retention has nothing to drop, so a call does not scan
                // every stored event.
                for stream in
                    group.streams.values_mut().filter(|s| s.events.first().is_some_and(|e| e.timestamp < oldest))
                {
                    let before = stream.events.len();
                    stream.events.retain(|event| event.timestamp >= oldest);
                    stream.summary = StreamSummary::of(&stream.events);
                    group_changed |= stream.events.len() != before;
                }
                if group_changed {
                    self.journal.push(Change::LogEventsExpired {
                        region: region.clone(),
                        group: group.name.clone(),
                        before: oldest,
                    });
                }
                changed |= group_changed;
            }
        }
        changed
    }

    /// [`LogsState::enforce_retention`] for stored events: the store deletes
    /// them (at most once a minute per group); the streams' summaries keep
    /// what is left in their time range (their byte counts are corrected
    /// from the store when it is next opened).
    fn expire_stored(&mut self, now: i64) -> bool {
        let mut changed = false;
        for (region, groups) in &mut self.regions {
            for group in groups.values_mut() {
                let Some(days) = group.retention_in_days else { continue };
                let oldest = now - days * DAY_MS;
                let key = (region.clone(), group.name.clone());
                if self.expired_at.0.get(&key).is_some_and(|at| now - at < STORED_EXPIRY_INTERVAL_MS) {
                    continue;
                }
                let mut expired = false;
                for stream in group.streams.values_mut() {
                    if stream.summary.first_timestamp.is_some_and(|first| first < oldest) {
                        expired = true;
                        let emptied = stream.summary.last_timestamp.is_none_or(|last| last < oldest);
                        stream.summary = if emptied {
                            StreamSummary::default()
                        } else {
                            StreamSummary { first_timestamp: Some(oldest), ..stream.summary }
                        };
                    }
                }
                if expired {
                    self.expired_at.0.insert(key, now);
                    self.journal.push(Change::LogEventsExpired {
                        region: region.clone(),
                        group: group.name.clone(),
                        before: oldest,
                    });
                }
                changed |= expired;
            }
        }
        changed
    }

    /// Visits the events `query` wants, oldest first (by timestamp, then
    /// ingestion order), until `visit` returns false: from the store when
    /// there is one, otherwise from memory.
    pub fn visit_events(
        &self,
        query: &EventQuery<'_>,
        visit: &mut dyn FnMut(&str, LogEvent) -> bool,
    ) -> Result<(), AwsError> {
        if let Some(store) = &self.archive.0 {
            return store.visit(query, visit).map_err(|error| {
                tracing::error!(%error, "stored log events could not be read");
                // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html
                AwsError::internal_as(
                    "ServiceUnavailableException",
                    "The service cannot complete the request.".to_owned(),
                )
            });
        }
        let group = self.group(query.region, query.group)?;
        let mut found: Vec<(&str, &LogEvent)> = group
            .streams
            .values()
            .filter(|stream| query.stream.is_none_or(|name| name == stream.name))
            .flat_map(|stream| stream.events.iter().map(move |event| (stream.name.as_str(), event)))
            .filter(|(_, event)| {
                query.start.is_none_or(|start| event.timestamp >= start)
                    && query.end.is_none_or(|end| event.timestamp < end)
            })
            .collect();
        found.sort_by(|a, b| (a.1.timestamp, &a.1.event_id).cmp(&(b.1.timestamp, &b.1.event_id)));
        for (stream, event) in found {
            if !visit(stream, event.clone()) {
                break;
            }
        }
        Ok(())
    }

    /// CreateLogGroup.
    pub fn create_group(&mut self, region: &str, name: &str, now: i64) -> Result<(), AwsError> {
        check_group_name(name)?;
        let groups = self.regions.entry(region.to_owned()).or_default();
        if groups.contains_key(name) {
            return Err(AwsError::sender("ResourceAlreadyExistsException", "The specified log group already exists"));
        }
        groups.insert(name.to_owned(), LogGroup { name: name.to_owned(), creation_time: now, ..LogGroup::default() });
        Ok(())
    }

    /// DeleteLogGroup, with its streams and metric filters.
    pub fn delete_group(&mut self, region: &str, name: &str) -> Result<(), AwsError> {
        self.regions.get_mut(region).and_then(|groups| groups.remove(name)).ok_or_else(group_not_found)?;
        self.journal.push(Change::LogGroupDeleted { region: region.to_owned(), group: name.to_owned() });
        Ok(())
    }

    /// PutRetentionPolicy.
    pub fn put_retention(&mut self, region: &str, name: &str, days: i64, now: i64) -> Result<(), AwsError> {
        if !RETENTION_DAYS.contains(&days) {
            let allowed: Vec<String> = RETENTION_DAYS.iter().map(ToString::to_string).collect();
            return Err(invalid(format!(
                "1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            )));
        }
        self.group_mut(region, name)?.retention_in_days = Some(days);
        self.enforce_retention(now);
        Ok(())
    }

    /// DeleteRetentionPolicy: keep events forever.
    pub fn delete_retention(&mut self, region: &str, name: &str) -> Result<(), AwsError> {
        self.group_mut(region, name)?.retention_in_days = None;
        Ok(())
    }

    /// CreateLogStream.
    pub fn create_stream(&mut self, region: &str, group: &str, name: &str, now: i64) -> Result<(), AwsError> {
        check_name(name, "logStreamName")?;
        let group = self.group_mut(region, group)?;
        if group.streams.contains_key(name) {
            return Err(AwsError::sender("ResourceAlreadyExistsException", "The specified log stream already exists"));
        }
        group
            .streams
            .insert(name.to_owned(), LogStream { name: name.to_owned(), creation_time: now, ..LogStream::default() });
        Ok(())
    }

    /// Stores `events` in a stream and runs the group's metric filters on
    /// the accepted ones. With `create_stream`, a missing stream is made
    /// (CloudTrail delivery does this); otherwise it is an error.
    pub fn ingest(
        &mut self,
        target: &StreamTarget<'_>,
        mut events: Vec<InputLogEvent>,
        now: i64,
        metrics: &mut MetricStore,
    ) -> Result<Rejected, AwsError> {
        let StreamTarget { region, group: group_name, stream: stream_name, create_stream } = *target;
        if events.is_empty() {
            return Err(invalid(
                "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        if events.len() > MAX_BATCH_EVENTS {
            return Err(invalid(format!(
                "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to {MAX_BATCH_EVENTS}"
            )));
        }
        if events.iter().map(|event| event.message.len() + 26).sum::<usize>() > MAX_BATCH_BYTES {
            return Err(invalid("Upload too large: the batch of log events exceeds 1,048,576 bytes."));
        }
        events.sort_by_key(|event| event.timestamp);
        let (first, last) = (events[0].timestamp, events[events.len() - 1].timestamp);
        if last - first > DAY_MS {
            return Err(invalid(
                "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
            ));
        }
        let group =
            self.regions.get_mut(region).and_then(|groups| groups.get_mut(group_name)).ok_or_else(group_not_found)?;
        if !group.streams.contains_key(stream_name) {
            if !create_stream {
                return Err(stream_not_found());
            }
            group.streams.insert(
                stream_name.to_owned(),
                LogStream { name: stream_name.to_owned(), creation_time: now, ..LogStream::default() },
            );
        }
        let retention_start = group.retention_in_days.map(|days| now - days * DAY_MS);
        let mut rejected = Rejected::default();
        let mut accepted = Vec::new();
        for (index, event) in events.into_iter().enumerate() {
            if event.timestamp > now + TOO_NEW_MS {
                rejected.too_new_start_index.get_or_insert(index);
            } else if retention_start.is_some_and(|start| event.timestamp < start) {
                rejected.expired_end_index = Some(index);
            } else if event.timestamp < now - TOO_OLD_MS {
                rejected.too_old_end_index = Some(index);
            } else {
                accepted.push(event);
            }
        }
        let filters: Vec<(FilterPattern, Vec<MetricTransformation>)> = group
            .metric_filters
            .values()
            .filter_map(|filter| {
                FilterPattern::parse(&filter.pattern).ok().map(|pattern| (pattern, filter.transformations.clone()))
            })
            .collect();
        let Some(stream) = group.streams.get_mut(stream_name) else {
            return Err(stream_not_found());
        };
        for event in accepted {
            for (pattern, transformations) in &filters {
                for transformation in transformations {
                    if let Some(datapoint) = emit(pattern, transformation, &event) {
                        metrics.put(datapoint, now);
                    }
                }
            }
            self.next_event_id += 1;
            let stored = LogEvent {
                timestamp: event.timestamp,
                message: event.message,
                ingestion_time: now,
                event_id: format!("{:020}", self.next_event_id),
            };
            self.journal.push(Change::LogEvent {
                region: region.to_owned(),
                group: group_name.to_owned(),
                stream: stream_name.to_owned(),
                event: stored.clone(),
            });
            stream.summary.note(&stored);
            stream.last_ingestion_time = Some(now);
            if self.archive.0.is_none() {
                // Keep timestamp order; events usually arrive in order, so search from the end.
                let position = stream.events.iter().rposition(|e| e.timestamp <= stored.timestamp).map_or(0, |i| i + 1);
                stream.events.insert(position, stored);
            }
        }
        Ok(rejected)
    }

    /// PutMetricFilter: creates or replaces `name`.
    /// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html>
    pub fn put_metric_filter(&mut self, region: &str, group_name: &str, filter: MetricFilter) -> Result<(), AwsError> {
        check_name(&filter.name, "filterName")?;
        let pattern = FilterPattern::parse(&filter.pattern).map_err(|error| invalid(error.to_string()))?;
        check_transformations(&pattern, &filter.transformations)?;
        let group = self.group_mut(region, group_name)?;
        if !group.metric_filters.contains_key(&filter.name) && group.metric_filters.len() >= MAX_METRIC_FILTERS {
            return Err(AwsError::sender("LimitExceededException", "Resource limit exceeded."));
        }
        group.metric_filters.insert(filter.name.clone(), filter);
        Ok(())
    }

    /// DeleteMetricFilter.
    pub fn delete_metric_filter(&mut self, region: &str, group_name: &str, name: &str) -> Result<(), AwsError> {
        self.group_mut(region, group_name)?
            .metric_filters
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| AwsError::sender("ResourceNotFoundException", "The specified metric filter does not exist."))
    }
}

/// What one matched (or unmatched) event publishes for a transformation.
/// A field that is missing or not numeric publishes nothing; an event the
/// pattern does not match publishes the default value, if there is one.
pub fn emit(
    pattern: &FilterPattern,
    transformation: &MetricTransformation,
    event: &InputLogEvent,
) -> Option<Datapoint> {
    let (value, dimensions) = match pattern.match_event(&event.message) {
        Some(matched) => {
            let value = matched.metric_value(&MetricValue::parse(&transformation.metric_value).ok()?)?;
            let mut dimensions = Vec::new();
            for (name, field) in &transformation.dimensions {
                dimensions.push((name.clone(), matched.field_value(&FieldRef::parse(field).ok()?)?));
            }
            (value, dimensions)
        }
        None => (transformation.default_value?, Vec::new()),
    };
    Some(Datapoint {
        namespace: transformation.metric_namespace.clone(),
        metric_name: transformation.metric_name.clone(),
        dimensions,
        timestamp: event.timestamp,
        value,
        unit: transformation.unit.clone(),
    })
}

/// The CloudWatch units a metric transformation may name.
/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_MetricTransformation.html>
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

fn check_transformations(pattern: &FilterPattern, transformations: &[MetricTransformation]) -> Result<(), AwsError> {
    let [transformation] = transformations else {
        return Err(invalid(format!(
            "1 validation error detected: Value at 'metricTransformations' failed to satisfy constraint: Member must have length 1 (got {})",
            transformations.len()
        )));
    };
    for (field, value) in
        [("metricName", &transformation.metric_name), ("metricNamespace", &transformation.metric_namespace)]
    {
        if value.is_empty() || value.len() > 255 || value.contains([':', '*', '$']) {
            return Err(invalid(format!(
                "1 validation error detected: Value '{value}' at 'metricTransformations.1.member.{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*$]*"
            )));
        }
    }
    let value = MetricValue::parse(&transformation.metric_value).map_err(|error| invalid(error.to_string()))?;
    pattern.check_metric_value(&value).map_err(|error| invalid(error.to_string()))?;
    if transformation.dimensions.len() > 3 {
        return Err(invalid("A metric filter may have at most 3 dimensions."));
    }
    if !transformation.dimensions.is_empty() && transformation.default_value.is_some() {
        // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_MetricTransformation.html
        // ("If you specify dimensions, you cannot also specify a default value").
        return Err(invalid("You cannot specify a default value for a metric filter that has dimensions."));
    }
    for field in transformation.dimensions.values() {
        let field = FieldRef::parse(field).map_err(|error| invalid(error.to_string()))?;
        pattern.check_field(&field).map_err(|error| invalid(error.to_string()))?;
    }
    if let Some(unit) = transformation.unit.as_deref().filter(|unit| !UNITS.contains(unit)) {
        return Err(invalid(format!(
            "1 validation error detected: Value '{unit}' at 'metricTransformations.1.member.unit' failed to satisfy constraint: Member must satisfy enum value set"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
