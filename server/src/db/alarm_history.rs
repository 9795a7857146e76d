//! The `alarm_history` table: every `AlarmHistoryItem` of the managed alarms
//! Keywatch fetched, stored once, and the History page's queries over it.

use keywatch_app::api::history::{HistoryCursor, HistoryEntry, TimelineSeries};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::DbError;
use crate::aws::cloudwatch::AlarmHistoryItem;
use crate::clock::rfc3339;

/// Queries on `alarm_history`.
pub struct AlarmHistory<'a> {
    pool: &'a SqlitePool,
}

/// The History page's filter with its time range resolved to milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    pub alarm_name: Option<String>,
    pub new_state: Option<String>,
    pub item_type: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub text: Option<String>,
}

/// How many time buckets the timeline chart has (about its width in pixels).
pub const TIMELINE_BUCKETS: i64 = 800;

/// A stored item with its HistoryData, for the detail view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    pub entry: HistoryEntry,
    pub history_data: String,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    alarm_name: String,
    item_type: String,
    timestamp_ms: i64,
    summary: String,
    old_state: Option<String>,
    new_state: Option<String>,
    notification_count: i64,
}

/// The columns of a [`HistoryEntry`], as a macro so literal queries can `concat!` it.
macro_rules! entry_columns {
    () => {
        "h.id, h.alarm_name, h.item_type, h.timestamp_ms, h.summary, h.old_state, h.new_state,
         (SELECT COUNT(*) FROM notifications n WHERE n.state_update_id = h.id) AS notification_count"
    };
}

impl<'a> AlarmHistory<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        AlarmHistory { pool }
    }

    /// Stores `items` of one alarm in one transaction, skipping any already
    /// stored (same alarm, timestamp, type and summary), then links waiting
    /// notifications to new state changes. Returns how many were new.
    pub async fn insert_items(
        &self,
        alarm_arn: Option<&str>,
        items: &[AlarmHistoryItem],
        stored_at_ms: i64,
    ) -> Result<u64, DbError> {
        let mut transaction = self.pool.begin().await?;
        let mut inserted = 0;
        for item in items {
            let (old_state, new_state) = states_of(item);
            let result = sqlx::query(
                "INSERT INTO alarm_history
                     (alarm_name, alarm_arn, alarm_type, item_type, timestamp_ms, summary, history_data,
                      old_state, new_state, stored_at_ms)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (alarm_name, timestamp_ms, item_type, summary) DO NOTHING",
            )
            .bind(&item.alarm_name)
            .bind(alarm_arn)
            .bind(&item.alarm_type)
            .bind(&item.history_item_type)
            .bind(item.timestamp_ms)
            .bind(&item.history_summary)
            .bind(&item.history_data)
            .bind(old_state)
            .bind(new_state)
            .bind(stored_at_ms)
            .execute(&mut *transaction)
            .await?;
            inserted += result.rows_affected();
        }
        let mut names: Vec<&str> = items.iter().map(|item| item.alarm_name.as_str()).collect();
        names.dedup();
        for name in names {
            super::notifications::link_waiting(&mut transaction, name).await?;
        }
        transaction.commit().await?;
        Ok(inserted)
    }

    /// The newest stored item's timestamp for `alarm_name`.
    pub async fn newest_timestamp(&self, alarm_name: &str) -> Result<Option<i64>, DbError> {
        Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(timestamp_ms) FROM alarm_history WHERE alarm_name = ?")
            .bind(alarm_name)
            .fetch_one(self.pool)
            .await?)
    }

    /// How many items are stored.
    pub async fn count(&self) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM alarm_history").fetch_one(self.pool).await?)
    }

    /// Items matching `query`, newest first, strictly after `after` in that order.
    pub async fn page(
        &self,
        query: &HistoryQuery,
        after: Option<HistoryCursor>,
        limit: u32,
    ) -> Result<Vec<HistoryEntry>, DbError> {
        let mut builder =
            QueryBuilder::<Sqlite>::new(concat!("SELECT ", entry_columns!(), " FROM alarm_history h WHERE 1 = 1"));
        push_filter(&mut builder, query);
        if let Some(after) = after {
            // Spelled out rather than as a row value so SQLite uses the
            // (…, timestamp_ms DESC, id DESC) indexes for the range.
            builder
                .push(" AND (h.timestamp_ms < ")
                .push_bind(after.timestamp_ms)
                .push(" OR (h.timestamp_ms = ")
                .push_bind(after.timestamp_ms)
                .push(" AND h.id < ")
                .push_bind(after.id)
                .push("))");
        }
        builder.push(" ORDER BY h.timestamp_ms DESC, h.id DESC LIMIT ").push_bind(i64::from(limit));
        let rows = builder.build_query_as::<EntryRow>().fetch_all(self.pool).await?;
        Ok(rows.into_iter().map(into_entry).collect())
    }

    /// One item by id.
    pub async fn get(&self, id: i64) -> Result<Option<StoredItem>, DbError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            entry: EntryRow,
            history_data: String,
        }
        let row = sqlx::query_as::<_, Row>(concat!(
            "SELECT ",
            entry_columns!(),
            ", h.history_data FROM alarm_history h WHERE h.id = ?"
        ))
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        Ok(row.map(|row| StoredItem { entry: into_entry(row.entry), history_data: row.history_data }))
    }

    /// Each matching alarm's state changes in `[from_ms, to_ms]`, with the
    /// state it was in when the range starts.
    pub async fn timeline(
        &self,
        query: &HistoryQuery,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<TimelineSeries>, DbError> {
        #[derive(sqlx::FromRow)]
        struct Change {
            alarm_name: String,
            timestamp_ms: i64,
            new_state: String,
        }
        // One change per alarm and bucket (the last in it): the chart is
        // TIMELINE_BUCKETS wide, so more would not be seen, and a flapping
        // alarm must not make the page heavy. SQLite's bare-column rule makes
        // new_state come from the row holding MAX(timestamp_ms).
        let bucket_ms = ((to_ms - from_ms) / TIMELINE_BUCKETS).max(1);
        let mut builder = QueryBuilder::<Sqlite>::new(
            "SELECT h.alarm_name, MAX(h.timestamp_ms) AS timestamp_ms, h.new_state FROM alarm_history h
             WHERE h.item_type = 'StateUpdate' AND h.new_state IS NOT NULL",
        );
        let range = HistoryQuery {
            from_ms: Some(from_ms),
            to_ms: Some(to_ms),
            new_state: None,
            item_type: None,
            ..query.clone()
        };
        push_filter(&mut builder, &range);
        builder
            .push(" GROUP BY h.alarm_name, (h.timestamp_ms - ")
            .push_bind(from_ms)
            .push(") / ")
            .push_bind(bucket_ms)
            .push(" ORDER BY h.alarm_name, timestamp_ms");
        let changes = builder.build_query_as::<Change>().fetch_all(self.pool).await?;

        // The state each alarm was in when the range starts: one index seek
        // per alarm (a skip-scan over the distinct names, then the newest
        // StateUpdate before the range), never a scan of the table.
        let initial = match &query.alarm_name {
            Some(alarm_name) => {
                sqlx::query_as::<_, Change>(
                    "SELECT alarm_name, timestamp_ms, new_state FROM alarm_history
                 WHERE alarm_name = ? AND timestamp_ms < ? AND item_type = 'StateUpdate' AND new_state IS NOT NULL
                 ORDER BY timestamp_ms DESC LIMIT 1",
                )
                .bind(alarm_name)
                .bind(from_ms)
                .fetch_all(self.pool)
                .await?
            }
            None => {
                sqlx::query_as::<_, Change>(
                    "WITH RECURSIVE alarms(name) AS (
                     SELECT MIN(alarm_name) FROM alarm_history
                     UNION ALL
                     SELECT (SELECT MIN(alarm_name) FROM alarm_history WHERE alarm_name > alarms.name)
                     FROM alarms WHERE alarms.name IS NOT NULL
                 )
                 SELECT alarm_name, timestamp_ms, new_state FROM (
                     SELECT (SELECT h.id FROM alarm_history h
                             WHERE h.alarm_name = alarms.name AND h.timestamp_ms < ?
                               AND h.item_type = 'StateUpdate' AND h.new_state IS NOT NULL
                             ORDER BY h.timestamp_ms DESC LIMIT 1) AS last_id
                     FROM alarms WHERE alarms.name IS NOT NULL
                 ) JOIN alarm_history ON alarm_history.id = last_id",
                )
                .bind(from_ms)
                .fetch_all(self.pool)
                .await?
            }
        };

        let mut series: Vec<TimelineSeries> = initial
            .into_iter()
            .map(|c| TimelineSeries { alarm_name: c.alarm_name, initial_state: Some(c.new_state), changes: Vec::new() })
            .collect();
        for change in changes {
            let index = match series.iter().position(|s| s.alarm_name == change.alarm_name) {
                Some(index) => index,
                None => {
                    series.push(TimelineSeries {
                        alarm_name: change.alarm_name.clone(),
                        initial_state: None,
                        changes: Vec::new(),
                    });
                    series.len() - 1
                }
            };
            series[index].changes.push((change.timestamp_ms, change.new_state));
        }
        series.sort_by(|a, b| a.alarm_name.cmp(&b.alarm_name));
        Ok(series)
    }

    /// Deletes items older than `cutoff_ms`; returns how many.
    pub async fn delete_older_than(&self, cutoff_ms: i64) -> Result<u64, DbError> {
        Ok(sqlx::query("DELETE FROM alarm_history WHERE timestamp_ms < ?")
            .bind(cutoff_ms)
            .execute(self.pool)
            .await?
            .rows_affected())
    }
}

fn push_filter(builder: &mut QueryBuilder<Sqlite>, query: &HistoryQuery) {
    if let Some(alarm) = &query.alarm_name {
        builder.push(" AND h.alarm_name = ").push_bind(alarm.clone());
    }
    if let Some(state) = &query.new_state {
        builder.push(" AND h.new_state = ").push_bind(state.clone());
    }
    if let Some(kind) = &query.item_type {
        builder.push(" AND h.item_type = ").push_bind(kind.clone());
    }
    if let Some(from) = query.from_ms {
        builder.push(" AND h.timestamp_ms >= ").push_bind(from);
    }
    if let Some(to) = query.to_ms {
        builder.push(" AND h.timestamp_ms <= ").push_bind(to);
    }
    if let Some(text) = &query.text {
        // LIKE is case-insensitive for ASCII in SQLite; the pattern's own
        // wildcards are escaped so users search for text, not patterns.
        let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        builder
            .push(" AND (h.summary LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR h.alarm_name LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\')");
    }
}

fn into_entry(row: EntryRow) -> HistoryEntry {
    HistoryEntry {
        id: row.id,
        alarm_name: row.alarm_name,
        item_type: row.item_type,
        timestamp_ms: row.timestamp_ms,
        timestamp: rfc3339(row.timestamp_ms),
        summary: row.summary,
        old_state: row.old_state,
        new_state: row.new_state,
        notification_count: u32::try_from(row.notification_count).unwrap_or(u32::MAX),
    }
}

/// `oldState.stateValue` and `newState.stateValue` of a StateUpdate's
/// HistoryData; `None` for other items or documents without them.
fn states_of(item: &AlarmHistoryItem) -> (Option<String>, Option<String>) {
    if item.history_item_type != "StateUpdate" {
        return (None, None);
    }
    let Ok(data) = serde_json::from_str::<serde_json::Value>(&item.history_data) else { return (None, None) };
    let state = |key: &str| data[key]["stateValue"].as_str().map(str::to_owned);
    (state("oldState"), state("newState"))
}
