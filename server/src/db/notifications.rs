//! The `notifications` table: SNS notifications that reached Keywatch's
//! inbox queue, once per `MessageId`, each linked to the state change it
//! reports once both are stored.

use keywatch_app::api::history::DeliveredNotification;
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::DbError;
use crate::clock::rfc3339;

/// Queries on `notifications`.
pub struct Notifications<'a> {
    pool: &'a SqlitePool,
}

/// A notification to store, read from SNS's envelope and CloudWatch's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    /// CloudWatch's alarm message JSON (the envelope's `Message`).
    pub message: String,
    pub sns_timestamp_ms: i64,
    pub received_at_ms: i64,
    pub alarm_name: Option<String>,
    pub new_state: Option<String>,
    pub state_change_time_ms: Option<i64>,
}

/// How far apart a notification's `StateChangeTime` and its StateUpdate's
/// timestamp may be. They are the same instant in AWS's data; the window only
/// absorbs rounding, and the closest match wins.
const LINK_WINDOW_MS: i64 = 5_000;

#[derive(sqlx::FromRow)]
struct Row {
    message_id: String,
    topic_arn: String,
    subject: Option<String>,
    message: String,
    received_at_ms: i64,
}

impl<'a> Notifications<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        Notifications { pool }
    }

    /// Stores a notification unless its MessageId is already stored (SNS
    /// delivers at least once), linking it to its state change if that is
    /// stored. True when it was new. The row is committed when this returns.
    pub async fn insert(&self, notification: &NewNotification) -> Result<bool, DbError> {
        let mut transaction = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO notifications
                 (message_id, topic_arn, subject, message, sns_timestamp_ms, received_at_ms,
                  alarm_name, new_state, state_change_time_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(&notification.message_id)
        .bind(&notification.topic_arn)
        .bind(&notification.subject)
        .bind(&notification.message)
        .bind(notification.sns_timestamp_ms)
        .bind(notification.received_at_ms)
        .bind(&notification.alarm_name)
        .bind(&notification.new_state)
        .bind(notification.state_change_time_ms)
        .execute(&mut *transaction)
        .await?
        .rows_affected()
            == 1;
        if let Some(alarm_name) = notification.alarm_name.as_deref().filter(|_| inserted) {
            link_waiting(&mut transaction, alarm_name).await?;
        }
        transaction.commit().await?;
        Ok(inserted)
    }

    /// How many notifications are stored.
    pub async fn count(&self) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM notifications").fetch_one(self.pool).await?)
    }

    /// The notifications linked to state change `state_update_id`, oldest first.
    pub async fn for_state_update(&self, state_update_id: i64) -> Result<Vec<DeliveredNotification>, DbError> {
        let rows = sqlx::query_as::<_, Row>(
            "SELECT message_id, topic_arn, subject, message, received_at_ms
             FROM notifications WHERE state_update_id = ? ORDER BY received_at_ms, id",
        )
        .bind(state_update_id)
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| DeliveredNotification {
                message_id: row.message_id,
                topic_arn: row.topic_arn,
                subject: row.subject,
                received_at: rfc3339(row.received_at_ms),
                message: serde_json::from_str::<serde_json::Value>(&row.message)
                    .ok()
                    .and_then(|json| serde_json::to_string_pretty(&json).ok())
                    .unwrap_or(row.message),
            })
            .collect())
    }

    /// The first notification of `alarm_name` moving to `new_state` whose
    /// state change happened at or after `since_ms` (the Testing page's
    /// "notification arrived"): (received at, subject, message).
    pub async fn first_since(
        &self,
        alarm_name: &str,
        new_state: &str,
        since_ms: i64,
    ) -> Result<Option<(i64, Option<String>, String)>, DbError> {
        Ok(sqlx::query_as::<_, (i64, Option<String>, String)>(
            "SELECT received_at_ms, subject, message FROM notifications
             WHERE alarm_name = ? AND new_state = ? AND COALESCE(state_change_time_ms, sns_timestamp_ms) >= ?
             ORDER BY received_at_ms, id LIMIT 1",
        )
        .bind(alarm_name)
        .bind(new_state)
        .bind(since_ms)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Deletes notifications received before `cutoff_ms`; returns how many.
    pub async fn delete_older_than(&self, cutoff_ms: i64) -> Result<u64, DbError> {
        Ok(sqlx::query("DELETE FROM notifications WHERE received_at_ms < ?")
            .bind(cutoff_ms)
            .execute(self.pool)
            .await?
            .rows_affected())
    }
}

/// Links `alarm_name`'s unlinked notifications to the StateUpdate with the
/// same new state closest to their `StateChangeTime`. Run after storing
/// either side, since either may arrive first.
pub(super) async fn link_waiting(transaction: &mut Transaction<'_, Sqlite>, alarm_name: &str) -> Result<(), DbError> {
    let waiting = sqlx::query_as::<_, (i64, String, i64)>(
        "SELECT id, new_state, state_change_time_ms FROM notifications
         WHERE state_update_id IS NULL AND alarm_name = ? AND new_state IS NOT NULL
           AND state_change_time_ms IS NOT NULL",
    )
    .bind(alarm_name)
    .fetch_all(&mut **transaction)
    .await?;
    for (id, new_state, changed_ms) in waiting {
        let state_update = sqlx::query_scalar::<_, i64>(
            "SELECT id FROM alarm_history
             WHERE alarm_name = ? AND item_type = 'StateUpdate' AND new_state = ?
               AND timestamp_ms BETWEEN ? AND ?
             ORDER BY ABS(timestamp_ms - ?), id
             LIMIT 1",
        )
        .bind(alarm_name)
        .bind(&new_state)
        .bind(changed_ms - LINK_WINDOW_MS)
        .bind(changed_ms + LINK_WINDOW_MS)
        .bind(changed_ms)
        .fetch_optional(&mut **transaction)
        .await?;
        if let Some(state_update) = state_update {
            sqlx::query("UPDATE notifications SET state_update_id = ? WHERE id = ?")
                .bind(state_update)
                .bind(id)
                .execute(&mut **transaction)
                .await?;
        }
    }
    Ok(())
}
