//! AWS CloudTrail: trails, their event selectors and status, the event
//! history LookupEvents reads, and delivery of records to CloudWatch Logs.
//!
//! The dispatcher hands every management call's record to
//! [`CloudTrailState::record`]; this module keeps it in the event history and
//! queues it for each logging trail whose selectors take it and that names a
//! log group. Queued records fall due after the configured delay and are
//! then written to the log group by the dispatcher (see
//! [`CloudTrailState::take_due`]). Every logging trail also gets its records
//! as gzip JSON log files in its S3 bucket: the records due at one delivery
//! tick make one file per trail and region (see
//! [`CloudTrailState::take_due_log_files`], [`log_file_key`] and
//! [`log_file_body`]). [`api`] speaks AWS JSON 1.1.

pub mod api;
pub mod bucket_policy;
pub mod record;

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::service::CallContext;
use crate::store::journal::{Change, Journal};
use record::Record;

/// How many records the event history keeps in memory: the most recent
/// ones. With a state directory the store keeps every record for
/// [`EVENT_HISTORY_RETENTION_MS`], as AWS does.
pub const EVENT_HISTORY_LIMIT: usize = 1000;

/// How long the event history keeps a record: 90 days.
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events.html>
pub const EVENT_HISTORY_RETENTION_MS: i64 = 90 * crate::clock::DAY_MS;

/// A basic event selector.
/// <https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html>
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSelector {
    #[serde(default = "all")]
    pub read_write_type: String,
    #[serde(default = "yes")]
    pub include_management_events: bool,
    #[serde(default)]
    pub data_resources: Vec<serde_json::Value>,
    #[serde(default)]
    pub exclude_management_event_sources: Vec<String>,
}

fn all() -> String {
    "All".to_owned()
}

fn yes() -> bool {
    true
}

impl Default for EventSelector {
    /// What a new trail logs: all management events, read and write.
    fn default() -> Self {
        EventSelector {
            read_write_type: all(),
            include_management_events: true,
            data_resources: Vec::new(),
            exclude_management_event_sources: Vec::new(),
        }
    }
}

/// An advanced event selector.
/// <https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedEventSelector.html>
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedEventSelector {
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

/// One condition of an advanced event selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FieldSelector {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_starts_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_ends_with: Option<Vec<String>>,
}

impl FieldSelector {
    fn matches(&self, record: &Record) -> bool {
        let value = match self.field.as_str() {
            "eventCategory" => Some(record.event_category.as_str()),
            "eventSource" => Some(record.event_source.as_str()),
            "eventName" => Some(record.event_name.as_str()),
            "eventType" => Some(record.event_type.as_str()),
            "errorCode" => record.error_code.as_deref(),
            "readOnly" => Some(if record.read_only { "true" } else { "false" }),
            "userIdentity.arn" => Some(record.user_arn.as_str()),
            // Data-event fields (resources.type, resources.ARN) never match a management event.
            _ => None,
        };
        let Some(value) = value else {
            return false;
        };
        let any = |list: &Option<Vec<String>>, test: &dyn Fn(&str) -> bool| {
            list.as_ref().is_none_or(|l| l.iter().any(|x| test(x)))
        };
        let none = |list: &Option<Vec<String>>, test: &dyn Fn(&str) -> bool| {
            list.as_ref().is_none_or(|l| !l.iter().any(|x| test(x)))
        };
        any(&self.equals, &|x| value == x)
            && any(&self.starts_with, &|x| value.starts_with(x))
            && any(&self.ends_with, &|x| value.ends_with(x))
            && none(&self.not_equals, &|x| value == x)
            && none(&self.not_starts_with, &|x| value.starts_with(x))
            && none(&self.not_ends_with, &|x| value.ends_with(x))
    }
}

/// A trail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    pub s3_bucket_name: String,
    pub s3_key_prefix: Option<String>,
    pub sns_topic_name: Option<String>,
    pub include_global_service_events: bool,
    pub is_multi_region_trail: bool,
    pub log_file_validation_enabled: bool,
    pub cloud_watch_logs_log_group_arn: Option<String>,
    pub cloud_watch_logs_role_arn: Option<String>,
    pub kms_key_id: Option<String>,
    pub is_logging: bool,
    pub start_logging_time: Option<i64>,
    pub stop_logging_time: Option<i64>,
    pub latest_cloud_watch_logs_delivery_time: Option<i64>,
    pub latest_cloud_watch_logs_delivery_error: Option<String>,
    /// When a log file last reached the S3 bucket.
    pub latest_delivery_time: Option<i64>,
    /// Why the latest log file could not be written (`NoSuchBucket`).
    pub latest_delivery_error: Option<String>,
    /// `None`: the default selector.
    pub event_selectors: Option<Vec<EventSelector>>,
    pub advanced_event_selectors: Option<Vec<AdvancedEventSelector>>,
}

impl Trail {
    /// Whether the trail's selectors take `record` (a management event).
    pub fn selects(&self, record: &Record) -> bool {
        if let Some(advanced) = &self.advanced_event_selectors {
            return advanced.iter().any(|selector| selector.field_selectors.iter().all(|field| field.matches(record)));
        }
        let (read_only, source) = (record.read_only, record.event_source.as_str());
        let default = [EventSelector::default()];
        let selectors = self.event_selectors.as_deref().unwrap_or(&default);
        selectors.iter().any(|selector| {
            let kind_ok = match selector.read_write_type.as_str() {
                "ReadOnly" => read_only,
                "WriteOnly" => !read_only,
                _ => true,
            };
            selector.include_management_events
                && kind_ok
                && !selector.exclude_management_event_sources.iter().any(|s| s == source)
        })
    }

    /// Whether a call in `region` is this trail's to record.
    fn covers(&self, region: &str) -> bool {
        self.is_multi_region_trail || self.home_region == region
    }
}

/// A record waiting to be delivered to a log group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDelivery {
    /// When it falls due (epoch ms).
    pub due: i64,
    pub trail_arn: String,
    pub log_group_arn: String,
    /// The record's `eventTime` (epoch ms): the log event's timestamp.
    pub event_time: i64,
    /// The record, serialized: the log event's message.
    pub message: String,
}

/// A record waiting to be written to a trail's S3 bucket in a log file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRecord {
    /// When it falls due (epoch ms).
    pub due: i64,
    pub trail_arn: String,
    pub bucket: String,
    pub key_prefix: Option<String>,
    /// The region the call was made in: the log file's region.
    pub region: String,
    pub record: RecordJson,
}

/// A record as JSON text: stored and written to log files as it is,
/// serialized as the JSON object it holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordJson(Box<serde_json::value::RawValue>);

impl RecordJson {
    /// `text` must be a JSON document (a record's `to_string()`).
    pub fn new(text: String) -> Result<RecordJson, serde_json::Error> {
        serde_json::value::RawValue::from_string(text).map(RecordJson)
    }

    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// `null`: what a stored queue row holds when its record's text is in
    /// the record's event row.
    pub fn placeholder() -> RecordJson {
        RecordJson(serde_json::value::RawValue::NULL.to_owned())
    }
}

impl PartialEq for RecordJson {
    fn eq(&self, other: &RecordJson) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RecordJson {}

/// One log file to write: a trail's records for one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub trail_arn: String,
    pub bucket: String,
    pub key_prefix: Option<String>,
    pub region: String,
    /// The trail's account, from its ARN.
    pub account: String,
    pub records: Vec<RecordJson>,
}

/// CloudTrail's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CloudTrailState {
    /// Trails by home region, then name.
    pub trails: BTreeMap<String, BTreeMap<String, Trail>>,
    /// The most recent records, oldest first. Like the queues below, it is
    /// kept by the store's database, never in `cloudtrail.json` (a file
    /// written by an earlier release may still hold it: it is imported).
    #[serde(default, skip_serializing)]
    pub history: VecDeque<Record>,
    /// Records waiting for delivery to log groups, by when they fall due.
    #[serde(default, skip_serializing)]
    pub pending: VecDeque<PendingDelivery>,
    /// Records waiting for their log file, by when the file falls due.
    #[serde(default, skip_serializing)]
    pub pending_files: VecDeque<PendingRecord>,
    /// When each trail's log file waiting for a region falls due, so that
    /// filing a record does not search every record waiting.
    #[serde(skip)]
    open_files: OpenFiles,
    /// What changed in the history and queues since the store last looked.
    #[serde(skip)]
    pub journal: Journal,
    /// The full event history in the store, when there is one: LookupEvents
    /// reads it instead of the most recent records kept in memory.
    #[serde(skip)]
    pub archive: Archive,
}

/// When the log file each (trail ARN, region) has waiting falls due.
#[derive(Debug, Clone, Default)]
struct OpenFiles(BTreeMap<(String, String), i64>);

impl PartialEq for OpenFiles {
    /// Always: an index of `pending_files`, not part of the state's value.
    fn eq(&self, _other: &OpenFiles) -> bool {
        true
    }
}

/// Inserts `item` after every item due no later than it: records arrive
/// nearly in order, so this is almost always a push at the back.
fn insert_by_due<T>(queue: &mut VecDeque<T>, item: T, due: impl Fn(&T) -> i64) {
    let at = queue.partition_point(|queued| due(queued) <= due(&item));
    queue.insert(at, item);
}

/// Takes the items of `queue` due at `now`, oldest first.
fn take_due_from<T>(queue: &mut VecDeque<T>, now: i64, due: impl Fn(&T) -> i64) -> Vec<T> {
    let count = queue.partition_point(|queued| due(queued) <= now);
    queue.drain(..count).collect()
}

/// Which stored records LookupEvents wants: those with
/// `from_ms <= event time <= to_ms` that `matches` takes, newest first,
/// skipping `skip` and returning at most `take`.
pub struct ArchiveQuery<'q> {
    pub from_ms: i64,
    pub to_ms: i64,
    pub matches: &'q dyn Fn(&serde_json::Value) -> bool,
    pub skip: usize,
    pub take: usize,
}

/// Reads the stored event history; an error says why it could not.
pub type ArchiveReader = dyn Fn(&ArchiveQuery<'_>) -> Result<Vec<serde_json::Value>, String> + Send + Sync;

/// A handle on the stored event history (none in memory-only sandboxes).
#[derive(Clone, Default)]
pub struct Archive(Option<std::sync::Arc<ArchiveReader>>);

impl Archive {
    /// An archive read by `reader`.
    pub fn new(reader: std::sync::Arc<ArchiveReader>) -> Archive {
        Archive(Some(reader))
    }

    /// The reader, if the history is stored.
    pub fn reader(&self) -> Option<&ArchiveReader> {
        self.0.as_deref()
    }
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Archive(stored)" } else { "Archive(none)" })
    }
}

impl PartialEq for Archive {
    /// Always: where history is read from is not part of the state's value.
    fn eq(&self, _other: &Archive) -> bool {
        true
    }
}

/// The object key of a log file written at `now`:
/// `[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`.
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html>
pub fn log_file_key(file: &LogFile, now: i64, unique: &str) -> String {
    let at =
        time::OffsetDateTime::from_unix_timestamp(now.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (year, month, day) = (at.year(), u8::from(at.month()), at.day());
    let prefix = file.key_prefix.as_deref().filter(|p| !p.is_empty()).map(|p| format!("{p}/")).unwrap_or_default();
    format!(
        "{prefix}AWSLogs/{account}/CloudTrail/{region}/{year:04}/{month:02}/{day:02}/{account}_CloudTrail_{region}_{year:04}{month:02}{day:02}T{:02}{:02}Z_{unique}.json.gz",
        at.hour(),
        at.minute(),
        account = file.account,
        region = file.region,
    )
}

/// A log file's content: `{"Records":[...]}`, gzip-compressed.
pub fn log_file_body(file: &LogFile) -> Result<Vec<u8>, AwsError> {
    use std::io::Write as _;
    // {"Records":[...]}, the records as they were written.
    let mut json = String::with_capacity(file.records.iter().map(|r| r.get().len() + 1).sum::<usize>() + 16);
    json.push_str("{\"Records\":[");
    for (index, record) in file.records.iter().enumerate() {
        if index > 0 {
            json.push(',');
        }
        json.push_str(record.get());
    }
    json.push_str("]}");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(json.as_bytes())
        .and_then(|()| encoder.finish())
        .map_err(|error| AwsError::internal(format!("the log file could not be compressed: {error}")))
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>[:*]` -> (region, name).
pub fn parse_log_group_arn(arn: &str) -> Option<(String, String)> {
    let mut parts = arn.strip_prefix("arn:")?.splitn(6, ':');
    let (_partition, service, region, _account, kind, rest) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if service != "logs" || kind != "log-group" || region.is_empty() {
        return None;
    }
    let name = rest.strip_suffix(":*").unwrap_or(rest);
    (!name.is_empty()).then(|| (region.to_owned(), name.to_owned()))
}

fn trail_not_found(ctx: &CallContext, name: &str) -> AwsError {
    // https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html (TrailNotFoundException)
    let arn = if name.starts_with("arn:") { name.to_owned() } else { trail_arn(ctx, &ctx.region, name) };
    AwsError::sender("TrailNotFoundException", format!("Unknown trail: {arn} for the user: {}", ctx.account()))
}

fn trail_arn(ctx: &CallContext, region: &str, name: &str) -> String {
    format!("arn:{}:cloudtrail:{region}:{}:trail/{name}", ctx.partition, ctx.account())
}

/// Trail names: 3 to 128 letters, digits, `.`, `_`, `-`, starting and
/// ending with a letter or digit.
/// <https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html> (Name)
pub fn check_trail_name(name: &str) -> Result<(), AwsError> {
    let edges_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    let chars_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if (3..=128).contains(&name.len()) && edges_ok && chars_ok && !name.contains("..") {
        Ok(())
    } else {
        Err(AwsError::sender(
            "InvalidTrailNameException",
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).",
        ))
    }
}

impl CloudTrailState {
    /// The trail `name_or_arn` names, seen from the caller's region (a
    /// multi-region trail is visible from every region).
    pub fn find(&self, ctx: &CallContext, name_or_arn: &str) -> Result<&Trail, AwsError> {
        self.trails
            .values()
            .flat_map(|trails| trails.values())
            .find(|trail| {
                (trail.arn == name_or_arn
                    || (trail.name == name_or_arn && (trail.home_region == ctx.region || trail.is_multi_region_trail)))
                    && trail.covers(&ctx.region)
            })
            .ok_or_else(|| trail_not_found(ctx, name_or_arn))
    }

    /// The trail to change: only in its home region, as in CloudTrail.
    pub fn find_mut(&mut self, ctx: &CallContext, name_or_arn: &str) -> Result<&mut Trail, AwsError> {
        let arn = self.find(ctx, name_or_arn)?.arn.clone();
        let home =
            self.trails.get_mut(&ctx.region).and_then(|trails| trails.values_mut().find(|trail| trail.arn == arn));
        match home {
            Some(trail) => Ok(trail),
            None => Err(AwsError::sender(
                "InvalidHomeRegionException",
                "This operation must be called from the trail's home region.",
            )),
        }
    }

    /// Adds a trail (not logging yet, as CreateTrail leaves it).
    pub fn create(&mut self, ctx: &CallContext, mut trail: Trail) -> Result<&Trail, AwsError> {
        check_trail_name(&trail.name)?;
        let exists =
            self.trails.values().flat_map(|t| t.values()).any(|t| t.name == trail.name && t.covers(&ctx.region));
        if exists {
            return Err(AwsError::sender(
                "TrailAlreadyExistsException",
                format!("Trail {} already exists for customer: {}", trail.name, ctx.account()),
            ));
        }
        trail.arn = trail_arn(ctx, &ctx.region, &trail.name);
        trail.home_region = ctx.region.clone();
        let trails = self.trails.entry(ctx.region.clone()).or_default();
        Ok(trails.entry(trail.name.clone()).or_insert(trail))
    }

    /// DeleteTrail.
    pub fn delete(&mut self, ctx: &CallContext, name_or_arn: &str) -> Result<String, AwsError> {
        let arn = self.find_mut(ctx, name_or_arn)?.arn.clone();
        if let Some(trails) = self.trails.get_mut(&ctx.region) {
            trails.retain(|_, trail| trail.arn != arn);
        }
        self.pending.retain(|pending| pending.trail_arn != arn);
        self.pending_files.retain(|pending| pending.trail_arn != arn);
        self.open_files.0.retain(|(trail_arn, _), _| *trail_arn != arn);
        Ok(arn)
    }

    /// Every trail visible from the caller's region.
    pub fn visible(&self, ctx: &CallContext, include_shadow_trails: bool) -> Vec<&Trail> {
        self.trails
            .values()
            .flat_map(|trails| trails.values())
            .filter(|trail| trail.home_region == ctx.region || (include_shadow_trails && trail.is_multi_region_trail))
            .collect()
    }

    /// Keeps `record` in the event history and queues it for every logging
    /// trail that takes it: for its S3 bucket and, when it names one, its
    /// CloudWatch Logs log group.
    ///
    /// Records for S3 are batched: a record joins the log file its trail
    /// already has waiting for its region, which falls due
    /// `max(delay_ms, log_file_interval_ms)` after its first record, so a
    /// trail writes at most one file per region per interval (AWS delivers
    /// about every five minutes).
    pub fn record(
        &mut self,
        record: Record,
        region: &str,
        event_time: i64,
        now: i64,
        delay_ms: i64,
        log_file_interval_ms: i64,
    ) {
        let message = record.text.clone();
        // The event first: the store then keeps the text once and has the
        // queue rows that follow name it.
        self.journal.push(Change::TrailEvent { event_time, record: message.clone() });
        for trail in self.trails.values().flat_map(|trails| trails.values()) {
            if !(trail.is_logging && trail.covers(region) && trail.selects(&record)) {
                continue;
            }
            let open = (trail.arn.clone(), region.to_owned());
            let file_due = match self.open_files.0.get(&open) {
                Some(due) => *due,
                // Not indexed yet (after a restart): search once.
                None => self
                    .pending_files
                    .iter()
                    .rev()
                    .find(|p| p.trail_arn == trail.arn && p.region == region)
                    .map_or(now + delay_ms.max(log_file_interval_ms), |p| p.due),
            };
            self.open_files.0.insert(open, file_due);
            // `message` is a serialized Value: always a JSON document.
            let Ok(record_json) = RecordJson::new(message.clone()) else { continue };
            let pending = PendingRecord {
                due: file_due,
                trail_arn: trail.arn.clone(),
                bucket: trail.s3_bucket_name.clone(),
                key_prefix: trail.s3_key_prefix.clone(),
                region: region.to_owned(),
                record: record_json,
            };
            self.journal.push(Change::TrailLogFileRecord(pending.clone()));
            insert_by_due(&mut self.pending_files, pending, |p| p.due);
            if let Some(log_group_arn) = &trail.cloud_watch_logs_log_group_arn {
                let delivery = PendingDelivery {
                    due: now + delay_ms,
                    trail_arn: trail.arn.clone(),
                    log_group_arn: log_group_arn.clone(),
                    event_time,
                    message: message.clone(),
                };
                self.journal.push(Change::TrailDelivery(delivery.clone()));
                insert_by_due(&mut self.pending, delivery, |p| p.due);
            }
        }
        self.history.push_back(record);
        while self.history.len() > EVENT_HISTORY_LIMIT {
            self.history.pop_front();
        }
    }

    /// Removes and returns the deliveries due at `now`, oldest first.
    pub fn take_due(&mut self, now: i64) -> Vec<PendingDelivery> {
        let due = take_due_from(&mut self.pending, now, |p| p.due);
        if !due.is_empty() {
            self.journal.push(Change::TrailDeliveriesTaken { through: now });
        }
        due
    }

    /// When the next delivery falls due, if any is queued.
    pub fn next_due(&self) -> Option<i64> {
        // Both queues are kept in order of when they fall due.
        self.pending.front().map(|p| p.due).into_iter().chain(self.pending_files.front().map(|p| p.due)).min()
    }

    /// Removes the records due at `now` for S3 and batches them into one
    /// log file per trail and region, records oldest first.
    pub fn take_due_log_files(&mut self, now: i64) -> Vec<LogFile> {
        let due = take_due_from(&mut self.pending_files, now, |p| p.due);
        self.open_files.0.retain(|_, file_due| *file_due > now);
        if !due.is_empty() {
            self.journal.push(Change::TrailLogFileRecordsTaken { through: now });
        }
        let mut files: Vec<LogFile> = Vec::new();
        for pending in due {
            match files.iter_mut().find(|f| f.trail_arn == pending.trail_arn && f.region == pending.region) {
                Some(file) => file.records.push(pending.record),
                None => files.push(LogFile {
                    account: pending.trail_arn.split(':').nth(4).unwrap_or_default().to_owned(),
                    trail_arn: pending.trail_arn,
                    bucket: pending.bucket,
                    key_prefix: pending.key_prefix,
                    region: pending.region,
                    records: vec![pending.record],
                }),
            }
        }
        files
    }

    /// Notes the outcome of writing a log file in the trail's status.
    pub fn note_log_file(&mut self, trail_arn: &str, now: i64, error: Option<String>) {
        if let Some(trail) = self.trails.values_mut().flat_map(|t| t.values_mut()).find(|t| t.arn == trail_arn) {
            match error {
                None => trail.latest_delivery_time = Some(now),
                Some(error) => trail.latest_delivery_error = Some(error),
            }
        }
    }

    /// Notes the outcome of a delivery in the trail's status.
    pub fn note_delivery(&mut self, trail_arn: &str, now: i64, error: Option<String>) {
        if let Some(trail) = self.trails.values_mut().flat_map(|t| t.values_mut()).find(|t| t.arn == trail_arn) {
            match error {
                None => trail.latest_cloud_watch_logs_delivery_time = Some(now),
                Some(error) => trail.latest_cloud_watch_logs_delivery_error = Some(error),
            }
        }
    }
}

#[cfg(test)]
mod tests;
