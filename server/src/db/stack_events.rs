//! The `stack_events` table: CloudFormation's stack events as the stack
//! watcher saw them, stored once each (CloudFormation's event id is the key),
//! so the full history survives the stack and a restart of the console.

use keywatch_app::api::lab::EventView;
use sqlx::SqlitePool;

use super::DbError;
use crate::clock::rfc3339;

/// Queries on `stack_events`.
pub struct StackEvents<'a> {
    pool: &'a SqlitePool,
}

/// An event to store.
#[derive(Debug, Clone)]
pub struct NewStackEvent<'e> {
    pub event_id: &'e str,
    pub stack_id: &'e str,
    pub stack_name: &'e str,
    pub deployment_id: Option<i64>,
    pub timestamp_ms: i64,
    pub logical_id: &'e str,
    pub physical_id: Option<&'e str>,
    pub resource_type: &'e str,
    pub status: &'e str,
    pub reason: Option<&'e str>,
}

#[derive(sqlx::FromRow)]
struct Row {
    event_id: String,
    timestamp_ms: i64,
    logical_id: String,
    resource_type: String,
    status: String,
    reason: Option<String>,
}

impl<'a> StackEvents<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        StackEvents { pool }
    }

    /// Stores an event unless it is already stored; returns whether it was new.
    pub async fn insert(&self, event: &NewStackEvent<'_>) -> Result<bool, DbError> {
        let result = sqlx::query(
            "INSERT INTO stack_events
                 (event_id, stack_id, stack_name, deployment_id, timestamp_ms, logical_id, physical_id,
                  resource_type, status, reason)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event.event_id)
        .bind(event.stack_id)
        .bind(event.stack_name)
        .bind(event.deployment_id)
        .bind(event.timestamp_ms)
        .bind(event.logical_id)
        .bind(event.physical_id)
        .bind(event.resource_type)
        .bind(event.status)
        .bind(event.reason)
        .execute(self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// The newest `limit` events of every stack ever named `stack_name`,
    /// oldest first.
    pub async fn for_stack(&self, stack_name: &str, limit: u32) -> Result<Vec<EventView>, DbError> {
        let mut rows = sqlx::query_as::<_, Row>(
            "SELECT event_id, timestamp_ms, logical_id, resource_type, status, reason
             FROM stack_events WHERE stack_name = ?
             ORDER BY timestamp_ms DESC, rowid DESC LIMIT ?",
        )
        .bind(stack_name)
        .bind(i64::from(limit))
        .fetch_all(self.pool)
        .await?;
        rows.reverse();
        Ok(rows
            .into_iter()
            .map(|row| EventView {
                event_id: row.event_id,
                timestamp: rfc3339(row.timestamp_ms),
                logical_id: row.logical_id,
                resource_type: row.resource_type,
                status: row.status,
                reason: row.reason,
            })
            .collect())
    }

    /// The resources CloudFormation finished during a deployment (an event
    /// ending `_COMPLETE` recorded for it), the stack itself left out.
    pub async fn completed_resources(&self, deployment_id: i64) -> Result<Vec<String>, DbError> {
        Ok(sqlx::query_scalar::<_, String>(
            "SELECT DISTINCT logical_id FROM stack_events
             WHERE deployment_id = ? AND status GLOB '*_COMPLETE' AND logical_id <> stack_name",
        )
        .bind(deployment_id)
        .fetch_all(self.pool)
        .await?)
    }

    /// How many events are stored for a deployment.
    pub async fn count_for_deployment(&self, deployment_id: i64) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM stack_events WHERE deployment_id = ?")
            .bind(deployment_id)
            .fetch_one(self.pool)
            .await?)
    }
}
