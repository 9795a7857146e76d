//! The `threshold_changes` table: every change of an alarm's settings made
//! from the Alarms page, with its path (change set or PutMetricAlarm), the
//! old and new values, the settings it asked for, and how it ended; and the
//! pending change-set changes with how their deployments ended, which the
//! stack watcher finishes.

use keywatch_app::api::alarms::ThresholdChange;
use keywatch_domain::alarm::MetricAlarm;
use sqlx::SqlitePool;

use super::DbError;
use crate::clock::rfc3339;

/// Queries on `threshold_changes`.
pub struct ThresholdChanges<'a> {
    pool: &'a SqlitePool,
}

/// A change to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewThresholdChange {
    pub requested_at_ms: i64,
    pub alarm_name: String,
    /// `(field, old value, new value)`.
    pub fields: Vec<(String, String, String)>,
    /// `change set` or `PutMetricAlarm`.
    pub path: &'static str,
    pub stack_name: Option<String>,
    pub change_set_id: Option<String>,
    pub outcome: &'static str,
    pub detail: Option<String>,
    pub finished_at_ms: Option<i64>,
    /// The alarm's settings the change asked for; `None` for a detection
    /// change, which sets stack parameters only.
    pub proposed: Option<MetricAlarm>,
}

/// A change-set change still pending, as the stack watcher finishes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingStackChange {
    pub id: i64,
    pub requested_at_ms: i64,
    pub stack_name: String,
    /// What DescribeAlarms should show once the stack is updated.
    pub proposed: Option<MetricAlarm>,
    /// How the change set's deployment ended; `None` while CloudFormation
    /// is still working on it.
    pub deployment: Option<DeploymentEnd>,
}

/// How a deployment ended, as the stack watcher recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentEnd {
    pub succeeded: bool,
    /// The stack's status then (`DOES_NOT_EXIST` when it was gone).
    pub final_status: String,
    pub status_reason: Option<String>,
}

type Row = (i64, i64, String, String, String, Option<String>, Option<String>, String, Option<String>, Option<i64>);

impl<'a> ThresholdChanges<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        ThresholdChanges { pool }
    }

    /// Records a change; returns it as stored.
    pub async fn insert(&self, change: NewThresholdChange) -> Result<ThresholdChange, DbError> {
        let fields = serde_json::to_string(&change.fields).map_err(|error| DbError::Corrupt(error.to_string()))?;
        let proposed = change
            .proposed
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|error| DbError::Corrupt(error.to_string()))?;
        let row = sqlx::query_as::<_, Row>(
            "INSERT INTO threshold_changes (requested_at_ms, alarm_name, fields, path, stack_name, change_set_id, \
             outcome, detail, finished_at_ms, proposed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, \
             requested_at_ms, alarm_name, fields, path, stack_name, change_set_id, outcome, detail, finished_at_ms",
        )
        .bind(change.requested_at_ms)
        .bind(&change.alarm_name)
        .bind(fields)
        .bind(change.path)
        .bind(&change.stack_name)
        .bind(&change.change_set_id)
        .bind(change.outcome)
        .bind(&change.detail)
        .bind(change.finished_at_ms)
        .bind(proposed)
        .fetch_one(self.pool)
        .await?;
        view(row)
    }

    /// Records how a pending change ended; a change already finished keeps
    /// its outcome.
    pub async fn finish(
        &self,
        id: i64,
        outcome: &'static str,
        detail: Option<String>,
        finished_at_ms: i64,
    ) -> Result<(), DbError> {
        sqlx::query("UPDATE threshold_changes SET outcome = ?, detail = ?, finished_at_ms = ? WHERE id = ? AND outcome = 'pending'")
            .bind(outcome)
            .bind(detail)
            .bind(finished_at_ms)
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// The pending change-set changes, oldest first, each with how its
    /// change set's deployment ended (recorded by the stack watcher).
    pub async fn pending_stack_changes(&self) -> Result<Vec<PendingStackChange>, DbError> {
        type Pending = (i64, i64, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);
        let rows = sqlx::query_as::<_, Pending>(
            "SELECT t.id, t.requested_at_ms, t.stack_name, t.proposed, d.outcome, d.final_status, d.status_reason
             FROM threshold_changes t LEFT JOIN deployments d ON d.change_set_id = t.change_set_id
             WHERE t.outcome = 'pending' AND t.path = 'change set' ORDER BY t.id",
        )
        .fetch_all(self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, requested_at_ms, stack_name, proposed, outcome, final_status, status_reason)| {
                let proposed = proposed
                    .map(|json| serde_json::from_str(&json))
                    .transpose()
                    .map_err(|error| DbError::Corrupt(format!("threshold_changes.proposed: {error}")))?;
                Ok(PendingStackChange {
                    id,
                    requested_at_ms,
                    stack_name: stack_name.unwrap_or_default(),
                    proposed,
                    deployment: outcome.map(|outcome| DeploymentEnd {
                        succeeded: outcome == "succeeded",
                        final_status: final_status.unwrap_or_default(),
                        status_reason,
                    }),
                })
            })
            .collect()
    }

    /// The alarm's changes, newest first.
    pub async fn for_alarm(&self, alarm_name: &str, limit: u32) -> Result<Vec<ThresholdChange>, DbError> {
        let rows = sqlx::query_as::<_, Row>(
            "SELECT id, requested_at_ms, alarm_name, fields, path, stack_name, change_set_id, outcome, detail, \
             finished_at_ms FROM threshold_changes WHERE alarm_name = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(alarm_name)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.into_iter().map(view).collect()
    }
}

fn view(row: Row) -> Result<ThresholdChange, DbError> {
    let (id, requested_at_ms, alarm_name, fields, path, stack_name, change_set_id, outcome, detail, finished_at_ms) =
        row;
    let fields = serde_json::from_str(&fields)
        .map_err(|error| DbError::Corrupt(format!("threshold_changes.fields: {error}")))?;
    Ok(ThresholdChange {
        id,
        requested_at: rfc3339(requested_at_ms),
        alarm_name,
        fields,
        path,
        stack_name,
        change_set_id,
        outcome,
        detail,
        finished_at: finished_at_ms.map(rfc3339),
    })
}
