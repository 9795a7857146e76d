//! The store's SQLite database (`sandbox.db` in the state directory): the
//! data that grows as the sandbox runs, one row per CloudTrail record, log
//! event, datapoint and S3 object.
//!
//! Rows are inserted and deleted one change at a time (see
//! [`super::journal`]), so saving a call costs what it changed, whatever
//! the amount of history. The database runs in WAL mode with
//! `synchronous=FULL`: a committed transaction has reached the disk, and a
//! crash at any instant leaves the last committed state, which SQLite
//! recovers when it next opens the file.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::{Connection, ErrorCode, OptionalExtension as _, params};
use serde::{Deserialize, Serialize};

use super::journal::Change;
use crate::cloudtrail::{ArchiveQuery, ArchiveReader, EVENT_HISTORY_LIMIT, PendingDelivery, PendingRecord, RecordJson};
use crate::logs::{LogEvent, LogStream, StreamSummary};
use crate::metrics::Datapoint;
use crate::s3::Object;
use crate::state::SandboxState;

/// The database's file name in the state directory.
pub const FILE_NAME: &str = "sandbox.db";

/// The layout this release writes, kept in `meta`.
/// Version 2 added `log_stream_summary` (events are no longer read back
/// at start) and `metric_rollup` (CloudWatch's 1-minute, 5-minute and
/// 1-hour statistic sets): a version 1 database gets both computed once
/// when opened.
const SCHEMA_VERSION: &str = "2";

// Indexes serve the deletions retention makes (by time) and the order the
// state is read back in; every insert is a B-tree insert, logarithmic in
// the rows stored.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cloudtrail_event (
    seq INTEGER PRIMARY KEY,
    event_time INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cloudtrail_event_by_time ON cloudtrail_event (event_time);
CREATE TABLE IF NOT EXISTS cloudtrail_queue (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    due INTEGER NOT NULL,
    body TEXT NOT NULL,
    event_seq INTEGER
);
CREATE INDEX IF NOT EXISTS cloudtrail_queue_by_due ON cloudtrail_queue (kind, due);
CREATE TABLE IF NOT EXISTS log_event (
    id INTEGER PRIMARY KEY,
    region TEXT NOT NULL,
    log_group TEXT NOT NULL,
    stream TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    ingestion_time INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_event_by_stream ON log_event (region, log_group, stream, timestamp);
CREATE INDEX IF NOT EXISTS log_event_by_group ON log_event (region, log_group, timestamp);
CREATE TABLE IF NOT EXISTS log_stream_summary (
    region TEXT NOT NULL,
    log_group TEXT NOT NULL,
    stream TEXT NOT NULL,
    first_timestamp INTEGER,
    last_timestamp INTEGER,
    stored_bytes INTEGER NOT NULL,
    last_ingestion_time INTEGER,
    PRIMARY KEY (region, log_group, stream)
);
CREATE TABLE IF NOT EXISTS metric_datapoint (
    seq INTEGER PRIMARY KEY,
    timestamp INTEGER NOT NULL,
    datapoint TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_datapoint_by_time ON metric_datapoint (timestamp);
CREATE TABLE IF NOT EXISTS metric_rollup (
    namespace TEXT NOT NULL,
    metric_name TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    resolution INTEGER NOT NULL,
    start INTEGER NOT NULL,
    sample_count REAL NOT NULL,
    sum REAL NOT NULL,
    minimum REAL NOT NULL,
    maximum REAL NOT NULL,
    unit TEXT,
    PRIMARY KEY (namespace, metric_name, dimensions, resolution, start)
);
CREATE INDEX IF NOT EXISTS metric_rollup_by_start ON metric_rollup (resolution, start);
CREATE TABLE IF NOT EXISTS sns_email (seq INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sqs_message (
    seq INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sent_ms INTEGER NOT NULL,
    message TEXT NOT NULL,
    UNIQUE (queue, message_id)
);
CREATE INDEX IF NOT EXISTS sqs_message_by_sent ON sqs_message (queue, sent_ms);
CREATE TABLE IF NOT EXISTS s3_object (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    body BLOB NOT NULL,
    attributes TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
);
";

/// Adds `datapoint` to its series' roll-up of each tier.
fn roll_up(connection: &Connection, datapoint: &Datapoint) -> Result<(), DbError> {
    let dimensions = serde_json::to_string(&datapoint.dimensions)?;
    for tier in crate::metrics::TIERS {
        let start = datapoint.timestamp - datapoint.timestamp.rem_euclid(tier.resolution_ms);
        connection
            .prepare_cached(
                "INSERT INTO metric_rollup
                     (namespace, metric_name, dimensions, resolution, start, sample_count, sum, minimum, maximum, unit)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6, ?6, ?7)
                 ON CONFLICT (namespace, metric_name, dimensions, resolution, start) DO UPDATE SET
                     sample_count = sample_count + 1,
                     sum = sum + excluded.sum,
                     minimum = min(minimum, excluded.minimum),
                     maximum = max(maximum, excluded.maximum),
                     unit = excluded.unit",
            )?
            .execute(params![
                datapoint.namespace,
                datapoint.metric_name,
                dimensions,
                tier.resolution_ms,
                start,
                datapoint.value,
                datapoint.unit
            ])?;
    }
    Ok(())
}

/// Summarizes every stream's stored events (`?1`/`?2` unused): run when a
/// version 1 database is upgraded.
const SUMMARIZE: &str = "INSERT INTO log_stream_summary
    SELECT region, log_group, stream, MIN(timestamp), MAX(timestamp), SUM(length(CAST(message AS BLOB))), MAX(ingestion_time)
    FROM log_event GROUP BY region, log_group, stream";

/// Queue kinds in `cloudtrail_queue`.
const DELIVERY: &str = "delivery";
const LOG_FILE_RECORD: &str = "log-file-record";

/// Why the database could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a stored row is not valid: {0}")]
    Row(#[from] serde_json::Error),
    #[error("cannot restrict the database's permissions: {0}")]
    Permissions(std::io::Error),
}

impl DbError {
    /// Whether the disk (or the file system's quota) is full.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, DbError::Sqlite(rusqlite::Error::SqliteFailure(error, _)) if error.code == ErrorCode::DiskFull)
    }
}

/// An S3 object's attributes: everything but its body, which is a BLOB.
#[derive(Serialize, Deserialize)]
struct ObjectAttributes {
    etag: String,
    last_modified_ms: i64,
    content_type: String,
    content_encoding: Option<String>,
    metadata: std::collections::BTreeMap<String, String>,
    checksums: std::collections::BTreeMap<String, String>,
}

/// An open database.
pub struct Database {
    connection: Connection,
}

impl Database {
    /// Opens (creating if needed) the database at `path`, owner-only.
    pub fn open(path: &Path) -> Result<Database, DbError> {
        let connection = Connection::open(path)?;
        // It holds log events and S3 objects: owner only, like the state files.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(DbError::Permissions)?;
        }
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL: a commit appends to the log and syncs it once; FULL makes
        // that sync part of every commit, so an answered call survives a
        // power cut, not only a killed process.
        let _mode: String = connection.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        // Truncate the write-ahead log back to 16 MiB after a checkpoint, so
        // a burst of writes does not leave a log file of its own size.
        connection.pragma_update(None, "journal_size_limit", 16 * 1024 * 1024)?;
        connection.execute_batch(SCHEMA)?;
        let database = Database { connection };
        database.upgrade()?;
        Ok(database)
    }

    /// Brings a database an earlier release wrote to this release's layout.
    fn upgrade(&self) -> Result<(), DbError> {
        // A queue row may name the record it carries (`event_seq`) instead
        // of holding its text again; earlier layouts lack the column.
        let has_event_seq: bool = self.connection.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('cloudtrail_queue') WHERE name = 'event_seq'",
            [],
            |row| row.get(0),
        )?;
        if !has_event_seq {
            self.connection.execute_batch("ALTER TABLE cloudtrail_queue ADD COLUMN event_seq INTEGER")?;
        }
        let version: Option<String> = self
            .connection
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |row| row.get(0))
            .optional()?;
        if version.as_deref() == Some("1") {
            let transaction = self.connection.unchecked_transaction()?;
            transaction
                .execute_batch(&format!("DELETE FROM log_stream_summary; {SUMMARIZE}; DELETE FROM metric_rollup;"))?;
            let datapoints: Vec<Datapoint> = {
                let mut statement = transaction.prepare("SELECT datapoint FROM metric_datapoint ORDER BY seq")?;
                let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
                rows.map(|text| Ok(serde_json::from_str::<Datapoint>(&text?)?)).collect::<Result<_, DbError>>()?
            };
            for datapoint in &datapoints {
                roll_up(&transaction, datapoint)?;
            }
            transaction.execute("UPDATE meta SET value = ?1 WHERE key = 'schema'", params![SCHEMA_VERSION])?;
            transaction.commit()?;
        }
        Ok(())
    }

    /// Caps the database at about `bytes` (whole pages): past it, a commit
    /// fails as on a full disk (SQLITE_FULL), which is how a small disk or
    /// quota behaves and how the tests reach that case.
    pub fn limit_size(&self, bytes: u64) -> Result<(), DbError> {
        let page_size: i64 = self.connection.query_row("PRAGMA page_size", [], |row| row.get(0))?;
        let pages = i64::try_from(bytes).unwrap_or(i64::MAX) / page_size.max(1);
        self.connection.pragma_update(None, "max_page_count", pages.max(1))?;
        Ok(())
    }

    /// Whether this database already holds the sandbox's data (false for a
    /// new one, which may then import an earlier release's files).
    pub fn is_initialized(&self) -> Result<bool, DbError> {
        let version: Option<String> = self
            .connection
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |row| row.get(0))
            .optional()?;
        Ok(version.is_some())
    }

    /// Applies `changes` in one transaction; with `initialize`, also marks
    /// the database as holding the sandbox's data (the import's commit).
    pub fn apply(&mut self, changes: &[Change], initialize: bool) -> Result<(), DbError> {
        let transaction = self.connection.transaction()?;
        let mut last_event = None;
        for change in changes {
            apply_one(&transaction, change, &mut last_event)?;
        }
        if initialize {
            transaction
                .execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?1)", params![SCHEMA_VERSION])?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// Deletes CloudTrail records older than `before` (the event history's
    /// retention).
    pub fn expire_trail_events(&mut self, before: i64) -> Result<usize, DbError> {
        Ok(self.connection.execute("DELETE FROM cloudtrail_event WHERE event_time < ?1", params![before])?)
    }

    /// Reads the stored rows into `state`, whose catalog (trails, log
    /// groups, buckets) came from the state files. Rows whose log group or
    /// bucket no longer exists are deleted; events of a stream the catalog
    /// lacks make the stream again (a crash can land between the two).
    pub fn load_into(&mut self, state: &mut SandboxState) -> Result<(), DbError> {
        self.load_cloudtrail(state)?;
        self.load_logs(state)?;
        self.load_metrics(state)?;
        self.load_sqs(state)?;
        let mut statement = self.connection.prepare("SELECT email FROM sns_email ORDER BY seq")?;
        for text in statement.query_map([], |row| row.get::<_, String>(0))? {
            state.sns.outbox.push(serde_json::from_str(&text?)?);
        }
        drop(statement);
        self.load_s3(state)
    }

    /// Reads the last 3 hours' raw datapoints and the roll-ups within their
    /// retention: bounded by CloudWatch's retention, not by how many
    /// datapoints were ever put.
    fn load_metrics(&mut self, state: &mut SandboxState) -> Result<(), DbError> {
        let now = crate::clock::now_ms();
        let mut statement = self
            .connection
            .prepare("SELECT datapoint FROM metric_datapoint WHERE timestamp >= ?1 ORDER BY timestamp, seq")?;
        let datapoints = statement
            .query_map(params![now - crate::metrics::RAW_RETENTION_MS], |row| row.get::<_, String>(0))?
            .map(|text| Ok(serde_json::from_str::<Datapoint>(&text?)?))
            .collect::<Result<Vec<_>, DbError>>()?;
        drop(statement);
        let mut rollups = Vec::new();
        for tier in crate::metrics::TIERS {
            let mut statement = self.connection.prepare_cached(
                "SELECT namespace, metric_name, dimensions, start, sample_count, sum, minimum, maximum, unit
                 FROM metric_rollup WHERE resolution = ?1 AND start >= ?2",
            )?;
            let mut rows = statement.query(params![tier.resolution_ms, now - tier.retention_ms])?;
            while let Some(row) = rows.next()? {
                rollups.push(crate::metrics::StoredRollup {
                    namespace: row.get(0)?,
                    metric_name: row.get(1)?,
                    dimensions: serde_json::from_str(&row.get::<_, String>(2)?)?,
                    resolution_ms: tier.resolution_ms,
                    start: row.get(3)?,
                    rollup: crate::metrics::Rollup {
                        sample_count: row.get(4)?,
                        sum: row.get(5)?,
                        minimum: row.get(6)?,
                        maximum: row.get(7)?,
                        unit: row.get(8)?,
                    },
                });
            }
        }
        state.metrics.restore(datapoints, rollups);
        Ok(())
    }

    fn load_sqs(&mut self, state: &mut SandboxState) -> Result<(), DbError> {
        let mut orphans: BTreeSet<String> = BTreeSet::new();
        {
            let mut statement = self.connection.prepare("SELECT queue, message FROM sqs_message ORDER BY seq")?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let queue: String = row.get(0)?;
                let Some(found) = state.sqs.queues.get_mut(&queue) else {
                    orphans.insert(queue);
                    continue;
                };
                found.messages.push(serde_json::from_str(&row.get::<_, String>(1)?)?);
            }
        }
        for queue in orphans {
            self.connection.execute("DELETE FROM sqs_message WHERE queue = ?1", params![queue])?;
        }
        Ok(())
    }

    fn load_cloudtrail(&mut self, state: &mut SandboxState) -> Result<(), DbError> {
        // Memory keeps the most recent records; the table keeps 90 days.
        let mut statement = self.connection.prepare(
            "SELECT record FROM (SELECT seq, record FROM cloudtrail_event ORDER BY seq DESC LIMIT ?1) ORDER BY seq",
        )?;
        let limit = i64::try_from(EVENT_HISTORY_LIMIT).unwrap_or(i64::MAX);
        for text in statement.query_map([limit], |row| row.get::<_, String>(0))? {
            state.cloudtrail.history.push_back(crate::cloudtrail::record::Record::parse(text?)?);
        }
        let trails: BTreeSet<String> =
            state.cloudtrail.trails.values().flat_map(|trails| trails.values()).map(|t| t.arn.clone()).collect();
        // A row naming its record's event row takes the text from there.
        let mut statement = self.connection.prepare(
            "SELECT q.kind, q.body, q.event_seq, e.record FROM cloudtrail_queue q
             LEFT JOIN cloudtrail_event e ON e.seq = q.event_seq ORDER BY q.seq",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<i64>>(2)?,
                row.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (kind, body, event_seq, record) = row?;
            let record = match (event_seq, record) {
                (None, _) => None,
                (Some(_), Some(record)) => Some(record),
                // The event expired before its delivery: nothing to deliver.
                (Some(_), None) => continue,
            };
            if kind == DELIVERY {
                let mut pending: PendingDelivery = serde_json::from_str(&body)?;
                if let Some(record) = record {
                    pending.message = record;
                }
                if trails.contains(&pending.trail_arn) {
                    state.cloudtrail.pending.push_back(pending);
                }
            } else {
                let mut pending: PendingRecord = serde_json::from_str(&body)?;
                if let Some(record) = record {
                    pending.record = RecordJson::new(record)?;
                }
                if trails.contains(&pending.trail_arn) {
                    state.cloudtrail.pending_files.push_back(pending);
                }
            }
        }
        // Records are filed a little out of order (calls send them from
        // many threads); the queues are kept by when they fall due.
        state.cloudtrail.pending.make_contiguous().sort_by_key(|pending| pending.due);
        state.cloudtrail.pending_files.make_contiguous().sort_by_key(|pending| pending.due);
        Ok(())
    }

    /// Reads the streams' summaries (not their events, which stay in the
    /// database and are read on demand): start-up does not grow with them.
    fn load_logs(&mut self, state: &mut SandboxState) -> Result<(), DbError> {
        let mut orphans: BTreeSet<(String, String)> = BTreeSet::new();
        {
            let mut statement = self.connection.prepare(
                "SELECT region, log_group, stream, first_timestamp, last_timestamp, stored_bytes, last_ingestion_time
                 FROM log_stream_summary",
            )?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let (region, group, stream): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
                let summary = StreamSummary {
                    first_timestamp: row.get(3)?,
                    last_timestamp: row.get(4)?,
                    stored_bytes: row.get(5)?,
                };
                let last_ingestion_time: Option<i64> = row.get(6)?;
                let Some(found) = state.logs.regions.get_mut(&region).and_then(|groups| groups.get_mut(&group)) else {
                    orphans.insert((region, group));
                    continue;
                };
                let stream = found.streams.entry(stream.clone()).or_insert_with(|| LogStream {
                    name: stream,
                    creation_time: last_ingestion_time.unwrap_or_default(),
                    ..LogStream::default()
                });
                stream.summary = summary;
                stream.last_ingestion_time = stream.last_ingestion_time.max(last_ingestion_time);
            }
        }
        let highest_id: Option<i64> =
            self.connection.query_row("SELECT MAX(id) FROM log_event", [], |row| row.get(0))?;
        let highest_id = highest_id.and_then(|id| u64::try_from(id).ok()).unwrap_or(0);
        state.logs.next_event_id = state.logs.next_event_id.max(highest_id);
        for (region, group) in orphans {
            self.connection
                .execute("DELETE FROM log_event WHERE region = ?1 AND log_group = ?2", params![region, group])?;
            self.connection.execute(
                "DELETE FROM log_stream_summary WHERE region = ?1 AND log_group = ?2",
                params![region, group],
            )?;
        }
        Ok(())
    }

    fn load_s3(&mut self, state: &mut SandboxState) -> Result<(), DbError> {
        let mut orphans: BTreeSet<String> = BTreeSet::new();
        {
            // Bodies stay in the database, read on GET.
            let mut statement =
                self.connection.prepare("SELECT bucket, key, length(body), attributes FROM s3_object")?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let (bucket, key): (String, String) = (row.get(0)?, row.get(1)?);
                let length: i64 = row.get(2)?;
                let attributes: ObjectAttributes = serde_json::from_str(&row.get::<_, String>(3)?)?;
                let Some(found) = state.s3.buckets.get_mut(&bucket) else {
                    orphans.insert(bucket);
                    continue;
                };
                let object = Object {
                    key: key.clone(),
                    body: Vec::new(),
                    stored_len: Some(usize::try_from(length).unwrap_or(0)),
                    etag: attributes.etag,
                    last_modified_ms: attributes.last_modified_ms,
                    content_type: attributes.content_type,
                    content_encoding: attributes.content_encoding,
                    metadata: attributes.metadata,
                    checksums: attributes.checksums,
                };
                found.objects.insert(key, object);
            }
        }
        for bucket in orphans {
            self.connection.execute("DELETE FROM s3_object WHERE bucket = ?1", params![bucket])?;
        }
        Ok(())
    }
}

/// The stored S3 object bodies, read on their own read-only connection.
struct StoredBodies(std::sync::Mutex<Connection>);

impl crate::s3::BodyStore for StoredBodies {
    fn body(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, String> {
        let connection = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let read = || -> Result<Option<Vec<u8>>, rusqlite::Error> {
            connection
                .prepare_cached("SELECT body FROM s3_object WHERE bucket = ?1 AND key = ?2")?
                .query_row(params![bucket, key], |row| row.get(0))
                .optional()
        };
        read().map_err(|error| error.to_string())
    }
}

/// A reader of the stored object bodies, for GetObject.
pub fn body_store(path: &Path) -> Result<std::sync::Arc<dyn crate::s3::BodyStore>, DbError> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    connection.pragma_update(None, "query_only", true)?;
    Ok(std::sync::Arc::new(StoredBodies(std::sync::Mutex::new(connection))))
}

/// The stored log events, read on their own read-only connection.
struct StoredEvents(std::sync::Mutex<Connection>);

impl crate::logs::EventStore for StoredEvents {
    fn visit(
        &self,
        query: &crate::logs::EventQuery<'_>,
        visit: &mut dyn FnMut(&str, LogEvent) -> bool,
    ) -> Result<(), String> {
        let connection = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        read_events(&connection, query, visit).map_err(|error| error.to_string())
    }
}

fn read_events(
    connection: &Connection,
    query: &crate::logs::EventQuery<'_>,
    visit: &mut dyn FnMut(&str, LogEvent) -> bool,
) -> Result<(), DbError> {
    let mut statement = connection.prepare_cached(
        "SELECT stream, id, timestamp, ingestion_time, message FROM log_event
         WHERE region = ?1 AND log_group = ?2 AND (?3 IS NULL OR stream = ?3)
           AND timestamp >= ?4 AND timestamp < ?5
         ORDER BY timestamp, id",
    )?;
    let start = query.start.unwrap_or(i64::MIN);
    let end = query.end.unwrap_or(i64::MAX);
    let mut rows = statement.query(params![query.region, query.group, query.stream, start, end])?;
    while let Some(row) = rows.next()? {
        let stream: String = row.get(0)?;
        let id: i64 = row.get(1)?;
        let event = LogEvent {
            timestamp: row.get(2)?,
            ingestion_time: row.get(3)?,
            message: row.get(4)?,
            event_id: format!("{id:020}"),
        };
        if !visit(&stream, event) {
            break;
        }
    }
    Ok(())
}

/// A reader of the stored log events, for the Logs service's reads.
pub fn event_store(path: &Path) -> Result<std::sync::Arc<dyn crate::logs::EventStore>, DbError> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    connection.pragma_update(None, "query_only", true)?;
    Ok(std::sync::Arc::new(StoredEvents(std::sync::Mutex::new(connection))))
}

/// A reader of the stored CloudTrail history for LookupEvents, on its own
/// read-only connection (WAL lets it read while the writer commits).
pub fn history_reader(path: &Path) -> Result<std::sync::Arc<ArchiveReader>, DbError> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    connection.pragma_update(None, "query_only", true)?;
    let connection = std::sync::Mutex::new(connection);
    Ok(std::sync::Arc::new(move |query: &ArchiveQuery<'_>| {
        let connection = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        read_history(&connection, query).map_err(|error| error.to_string())
    }))
}

fn read_history(connection: &Connection, query: &ArchiveQuery<'_>) -> Result<Vec<serde_json::Value>, DbError> {
    // The column holds the call's instant in milliseconds and a record's
    // eventTime has whole seconds: widen the range by a second, then
    // compare each record's own eventTime as the in-memory lookup does.
    let mut statement = connection.prepare_cached(
        "SELECT record FROM cloudtrail_event WHERE event_time >= ?1 AND event_time <= ?2 ORDER BY seq DESC",
    )?;
    let mut rows = statement.query(params![query.from_ms.saturating_sub(1000), query.to_ms.saturating_add(1000)])?;
    let (mut skipped, mut found) = (0, Vec::new());
    while let Some(row) = rows.next()? {
        let record: serde_json::Value = serde_json::from_str(&row.get::<_, String>(0)?)?;
        let time = crate::cloudtrail::api::event_time(&record);
        if !(query.from_ms..=query.to_ms).contains(&time) || !(query.matches)(&record) {
            continue;
        }
        if skipped < query.skip {
            skipped += 1;
            continue;
        }
        found.push(record);
        if found.len() >= query.take {
            break;
        }
    }
    Ok(found)
}

/// The CloudTrail record last inserted in a transaction (its row and
/// text): the queue rows that follow it name it instead of copying it.
type LastEvent<'c> = Option<(i64, &'c str)>;

fn apply_one<'c>(
    transaction: &rusqlite::Transaction<'_>,
    change: &'c Change,
    last_event: &mut LastEvent<'c>,
) -> Result<(), DbError> {
    match change {
        Change::TrailEvent { event_time, record } => {
            transaction
                .prepare_cached("INSERT INTO cloudtrail_event (event_time, record) VALUES (?1, ?2)")?
                .execute(params![event_time, record])?;
            *last_event = Some((transaction.last_insert_rowid(), record.as_str()));
        }
        Change::TrailDelivery(pending) => {
            // The record's text is stored once, in its event row.
            let event_seq = last_event.filter(|(_, text)| *text == pending.message).map(|(seq, _)| seq);
            let body = match event_seq {
                Some(_) => serde_json::to_string(&PendingDelivery { message: String::new(), ..pending.clone() })?,
                None => serde_json::to_string(pending)?,
            };
            transaction
                .prepare_cached("INSERT INTO cloudtrail_queue (kind, due, body, event_seq) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![DELIVERY, pending.due, body, event_seq])?;
        }
        Change::TrailLogFileRecord(pending) => {
            let event_seq = last_event.filter(|(_, text)| *text == pending.record.get()).map(|(seq, _)| seq);
            let body = match event_seq {
                Some(_) => {
                    serde_json::to_string(&PendingRecord { record: RecordJson::placeholder(), ..pending.clone() })?
                }
                None => serde_json::to_string(pending)?,
            };
            transaction
                .prepare_cached("INSERT INTO cloudtrail_queue (kind, due, body, event_seq) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![LOG_FILE_RECORD, pending.due, body, event_seq])?;
        }
        Change::TrailDeliveriesTaken { through } => {
            transaction
                .prepare_cached("DELETE FROM cloudtrail_queue WHERE kind = ?1 AND due <= ?2")?
                .execute(params![DELIVERY, through])?;
        }
        Change::TrailLogFileRecordsTaken { through } => {
            transaction
                .prepare_cached("DELETE FROM cloudtrail_queue WHERE kind = ?1 AND due <= ?2")?
                .execute(params![LOG_FILE_RECORD, through])?;
        }
        Change::LogEvent { region, group, stream, event } => {
            // Event ids are the sandbox's counter, zero-padded: the row id.
            let id = event.event_id.parse::<i64>().ok();
            transaction
                .prepare_cached(
                    "INSERT INTO log_event (id, region, log_group, stream, timestamp, ingestion_time, message)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![id, region, group, stream, event.timestamp, event.ingestion_time, event.message])?;
            transaction
                .prepare_cached(
                    "INSERT INTO log_stream_summary
                         (region, log_group, stream, first_timestamp, last_timestamp, stored_bytes, last_ingestion_time)
                     VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)
                     ON CONFLICT (region, log_group, stream) DO UPDATE SET
                         first_timestamp = min(coalesce(first_timestamp, excluded.first_timestamp), excluded.first_timestamp),
                         last_timestamp = max(coalesce(last_timestamp, excluded.last_timestamp), excluded.last_timestamp),
                         stored_bytes = stored_bytes + excluded.stored_bytes,
                         last_ingestion_time = max(coalesce(last_ingestion_time, 0), excluded.last_ingestion_time)",
                )?
                .execute(params![region, group, stream, event.timestamp, event.message.len() as i64, event.ingestion_time])?;
        }
        Change::LogEventsExpired { region, group, before } => {
            transaction
                .prepare_cached("DELETE FROM log_event WHERE region = ?1 AND log_group = ?2 AND timestamp < ?3")?
                .execute(params![region, group, before])?;
            // What is left, summarized again (at most once a minute per group).
            transaction
                .prepare_cached(
                    "UPDATE log_stream_summary SET
                         first_timestamp = (SELECT MIN(timestamp) FROM log_event e WHERE e.region = ?1 AND e.log_group = ?2 AND e.stream = log_stream_summary.stream),
                         stored_bytes = coalesce((SELECT SUM(length(CAST(message AS BLOB))) FROM log_event e WHERE e.region = ?1 AND e.log_group = ?2 AND e.stream = log_stream_summary.stream), 0),
                         last_timestamp = (SELECT MAX(timestamp) FROM log_event e WHERE e.region = ?1 AND e.log_group = ?2 AND e.stream = log_stream_summary.stream)
                     WHERE region = ?1 AND log_group = ?2 AND first_timestamp < ?3",
                )?
                .execute(params![region, group, before])?;
        }
        Change::LogGroupDeleted { region, group } => {
            transaction
                .prepare_cached("DELETE FROM log_event WHERE region = ?1 AND log_group = ?2")?
                .execute(params![region, group])?;
            transaction
                .prepare_cached("DELETE FROM log_stream_summary WHERE region = ?1 AND log_group = ?2")?
                .execute(params![region, group])?;
        }
        Change::LogStreamDeleted { region, group, stream } => {
            transaction
                .prepare_cached("DELETE FROM log_event WHERE region = ?1 AND log_group = ?2 AND stream = ?3")?
                .execute(params![region, group, stream])?;
            transaction
                .prepare_cached("DELETE FROM log_stream_summary WHERE region = ?1 AND log_group = ?2 AND stream = ?3")?
                .execute(params![region, group, stream])?;
        }
        Change::Datapoint(datapoint) => {
            let text = serde_json::to_string(datapoint)?;
            transaction
                .prepare_cached("INSERT INTO metric_datapoint (timestamp, datapoint) VALUES (?1, ?2)")?
                .execute(params![datapoint.timestamp, text])?;
            roll_up(transaction, datapoint)?;
        }
        Change::MetricDataExpired { now } => {
            transaction
                .prepare_cached("DELETE FROM metric_datapoint WHERE timestamp < ?1")?
                .execute(params![now - crate::metrics::RAW_RETENTION_MS])?;
            for tier in crate::metrics::TIERS {
                transaction
                    .prepare_cached("DELETE FROM metric_rollup WHERE resolution = ?1 AND start < ?2")?
                    .execute(params![tier.resolution_ms, now - tier.retention_ms])?;
            }
        }
        Change::ObjectPut { bucket, object } => {
            let attributes = serde_json::to_string(&ObjectAttributes {
                etag: object.etag.clone(),
                last_modified_ms: object.last_modified_ms,
                content_type: object.content_type.clone(),
                content_encoding: object.content_encoding.clone(),
                metadata: object.metadata.clone(),
                checksums: object.checksums.clone(),
            })?;
            transaction
                .prepare_cached(
                    "INSERT OR REPLACE INTO s3_object (bucket, key, body, attributes) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![bucket, object.key, object.body, attributes])?;
        }
        Change::SnsEmail(email) => {
            let text = serde_json::to_string(email)?;
            transaction.prepare_cached("INSERT INTO sns_email (email) VALUES (?1)")?.execute(params![text])?;
        }
        Change::SqsMessage { queue, message } => {
            // An update keeps the row (and so the queue's order).
            let text = serde_json::to_string(message)?;
            transaction
                .prepare_cached(
                    "INSERT INTO sqs_message (queue, message_id, sent_ms, message) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (queue, message_id) DO UPDATE SET message = excluded.message",
                )?
                .execute(params![queue, message.message_id, message.sent_ms, text])?;
        }
        Change::SqsMessageDeleted { queue, message_id } => {
            transaction
                .prepare_cached("DELETE FROM sqs_message WHERE queue = ?1 AND message_id = ?2")?
                .execute(params![queue, message_id])?;
        }
        Change::SqsMessagesExpired { queue, sent_through } => {
            transaction
                .prepare_cached("DELETE FROM sqs_message WHERE queue = ?1 AND sent_ms <= ?2")?
                .execute(params![queue, sent_through])?;
        }
        Change::ObjectDeleted { bucket, key } => {
            transaction
                .prepare_cached("DELETE FROM s3_object WHERE bucket = ?1 AND key = ?2")?
                .execute(params![bucket, key])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str, size: usize) -> Change {
        Change::ObjectPut {
            bucket: "b".into(),
            object: Object {
                key: key.into(),
                body: vec![7; size],
                etag: "\"e\"".into(),
                last_modified_ms: 1,
                content_type: "binary/octet-stream".into(),
                content_encoding: None,
                metadata: Default::default(),
                checksums: Default::default(),
                stored_len: None,
            },
        }
    }

    // A full disk (here: the database's page limit) fails the whole
    // transaction, reports DiskFull, and leaves the earlier commits whole.
    #[test]
    fn a_full_disk_fails_whole_transactions_and_keeps_earlier_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE_NAME);
        let mut database = Database::open(&path).expect("open");
        database.apply(&[object("kept", 1000)], true).expect("first commit");
        let pages: i64 = database.connection.query_row("PRAGMA page_count", [], |row| row.get(0)).expect("pages");
        database.connection.pragma_update(None, "max_page_count", pages + 2).expect("limit");
        let error =
            database.apply(&[object("small", 10), object("large", 1_000_000)], false).expect_err("beyond the limit");
        assert!(error.is_disk_full(), "{error}");
        drop(database);

        let mut reopened = Database::open(&path).expect("reopen");
        let mut state = SandboxState::default();
        state.s3.buckets.insert(
            "b".into(),
            crate::s3::Bucket {
                name: "b".into(),
                region: "ap-southeast-2".into(),
                owner_account: "111122223333".into(),
                created_ms: 1,
                policy: None,
                objects: Default::default(),
            },
        );
        reopened.load_into(&mut state).expect("load");
        let keys: Vec<&String> = state.s3.buckets["b"].objects.keys().collect();
        assert_eq!(keys, ["kept"]);
    }

    // Rows of a deleted log group are dropped when read back; events of a
    // stream the catalog lacks make the stream again.
    #[test]
    fn orphaned_events_are_dropped_and_missing_streams_made_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut database = Database::open(&dir.path().join(FILE_NAME)).expect("open");
        let event = |group: &str, id: u64| Change::LogEvent {
            region: "r".into(),
            group: group.into(),
            stream: "s".into(),
            event: LogEvent { timestamp: 5, message: "m".into(), ingestion_time: 6, event_id: format!("{id:020}") },
        };
        database.apply(&[event("kept", 1), event("gone", 2)], true).expect("commit");
        let mut state = SandboxState::default();
        state.logs.create_group("r", "kept", 1).expect("group");
        database.load_into(&mut state).expect("load");
        let stream = &state.logs.group("r", "kept").expect("group").streams["s"];
        // Events stay in the database; the stream knows their summary.
        assert!(stream.events.is_empty());
        assert_eq!(
            stream.summary,
            StreamSummary { first_timestamp: Some(5), last_timestamp: Some(5), stored_bytes: 1 }
        );
        assert_eq!(stream.last_ingestion_time, Some(6));
        assert_eq!(state.logs.next_event_id, 2);
        let left: i64 =
            database.connection.query_row("SELECT COUNT(*) FROM log_event", [], |row| row.get(0)).expect("count");
        assert_eq!(left, 1);
    }

    // A database the previous release wrote (schema 1, no stream
    // summaries) gets its summaries computed once when opened.
    #[test]
    fn a_version_1_database_gets_its_stream_summaries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE_NAME);
        let mut database = Database::open(&path).expect("open");
        let event = |timestamp: i64, id: u64, message: &str| Change::LogEvent {
            region: "r".into(),
            group: "g".into(),
            stream: "s".into(),
            event: LogEvent { timestamp, message: message.into(), ingestion_time: 9, event_id: format!("{id:020}") },
        };
        database.apply(&[event(5, 1, "abc"), event(3, 2, "de")], true).expect("commit");
        database
            .connection
            .execute_batch("DELETE FROM log_stream_summary; UPDATE meta SET value = '1' WHERE key = 'schema';")
            .expect("as version 1 left it");
        drop(database);
        let mut reopened = Database::open(&path).expect("upgraded");
        let mut state = SandboxState::default();
        state.logs.create_group("r", "g", 1).expect("group");
        reopened.load_into(&mut state).expect("load");
        let stream = &state.logs.group("r", "g").expect("group").streams["s"];
        assert_eq!(
            stream.summary,
            StreamSummary { first_timestamp: Some(3), last_timestamp: Some(5), stored_bytes: 5 }
        );
        let version: String = reopened
            .connection
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |row| row.get(0))
            .expect("v");
        assert_eq!(version, SCHEMA_VERSION);
    }
}
