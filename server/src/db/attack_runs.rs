//! The `attack_runs` and `attack_responses` tables: every simulated attack
//! the Testing page started (its parameters, start and end, each call's
//! answer, when the alarm and its notification followed, the outcome).

use keywatch_app::api::attack::{AttackResponseView, AttackRunView, StatusCount};
use keywatch_domain::attack;
use sqlx::SqlitePool;

use super::DbError;
use crate::clock::rfc3339;

/// Queries on `attack_runs` and `attack_responses`.
pub struct AttackRuns<'a> {
    pool: &'a SqlitePool,
}

/// A run about to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttackRun {
    pub prefix: String,
    pub endpoint: String,
    pub alarm_name: Option<String>,
    pub wrong_key: String,
    pub requested_count: u32,
    pub rate_per_second: u32,
    pub alarm_reset: bool,
    pub started_at_ms: i64,
}

/// What a finished run's task needs to know of it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTimes {
    pub first_failure_at_ms: Option<i64>,
    pub alarm_at_ms: Option<i64>,
    pub notified_at_ms: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    endpoint: String,
    alarm_name: Option<String>,
    requested_count: i64,
    rate_per_second: i64,
    alarm_reset: bool,
    started_at_ms: i64,
    finished_at_ms: Option<i64>,
    sent: i64,
    first_failure_at_ms: Option<i64>,
    alarm_at_ms: Option<i64>,
    notified_at_ms: Option<i64>,
    notification_source: Option<String>,
    watch_until_ms: Option<i64>,
    outcome: String,
}

/// A `SELECT` of a run's columns followed by `$tail`, as one literal.
macro_rules! select_runs {
    ($tail:literal) => {
        concat!(
            "SELECT id, endpoint, alarm_name, requested_count, rate_per_second, alarm_reset, started_at_ms,
                 finished_at_ms, sent, first_failure_at_ms, alarm_at_ms, notified_at_ms, notification_source,
                 watch_until_ms, outcome
             FROM attack_runs ",
            $tail
        )
    };
}

/// The stored notification of a run.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredNotification {
    pub notified_at_ms: i64,
    pub notification_source: String,
    pub notification_subject: Option<String>,
    pub notification_message: String,
}

impl<'a> AttackRuns<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        AttackRuns { pool }
    }

    /// Records a started run; returns its id.
    pub async fn insert(&self, run: &NewAttackRun) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO attack_runs
                 (prefix, endpoint, alarm_name, wrong_key, requested_count, rate_per_second, alarm_reset, started_at_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&run.prefix)
        .bind(&run.endpoint)
        .bind(&run.alarm_name)
        .bind(&run.wrong_key)
        .bind(i64::from(run.requested_count))
        .bind(i64::from(run.rate_per_second))
        .bind(run.alarm_reset)
        .bind(run.started_at_ms)
        .fetch_one(self.pool)
        .await?)
    }

    /// Stores call `sequence` (1-based) and its answer; a failing answer
    /// (anything but 2xx) sets the run's first failure if it has none.
    pub async fn record_response(
        &self,
        run_id: i64,
        sequence: u32,
        sent_at_ms: i64,
        status: Option<u16>,
        body: &str,
    ) -> Result<(), DbError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO attack_responses (run_id, sequence, sent_at_ms, status, body) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (run_id, sequence) DO NOTHING",
        )
        .bind(run_id)
        .bind(i64::from(sequence))
        .bind(sent_at_ms)
        .bind(status.map(i64::from))
        .bind(body)
        .execute(&mut *transaction)
        .await?;
        let failed = status.is_some_and(|status| !(200..300).contains(&status));
        sqlx::query(
            "UPDATE attack_runs SET sent = MAX(sent, ?),
                 first_failure_at_ms = CASE WHEN ? AND first_failure_at_ms IS NULL THEN ? ELSE first_failure_at_ms END
             WHERE id = ?",
        )
        .bind(i64::from(sequence))
        .bind(failed)
        .bind(sent_at_ms)
        .bind(run_id)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Records when the alarm went to ALARM (once).
    pub async fn set_alarm_at(&self, run_id: i64, at_ms: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE attack_runs SET alarm_at_ms = ? WHERE id = ? AND alarm_at_ms IS NULL")
            .bind(at_ms)
            .bind(run_id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Records the alarm's notification (once).
    pub async fn set_notification(&self, run_id: i64, notification: &StoredNotification) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE attack_runs SET notified_at_ms = ?, notification_source = ?, notification_subject = ?,
                 notification_message = ?
             WHERE id = ? AND notified_at_ms IS NULL",
        )
        .bind(notification.notified_at_ms)
        .bind(&notification.notification_source)
        .bind(&notification.notification_subject)
        .bind(&notification.notification_message)
        .bind(run_id)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Records until when the run watches after its last call.
    pub async fn set_watch_until(&self, run_id: i64, until_ms: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE attack_runs SET watch_until_ms = ? WHERE id = ?")
            .bind(until_ms)
            .bind(run_id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Ends a running run with `outcome`; a run already ended keeps its own.
    pub async fn finish(&self, run_id: i64, outcome: &str, at_ms: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE attack_runs SET outcome = ?, finished_at_ms = ? WHERE id = ? AND outcome = 'running'")
            .bind(outcome)
            .bind(at_ms)
            .bind(run_id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Marks every run still `running` as interrupted: called at start-up,
    /// when no run's task can be alive. Returns how many there were.
    pub async fn interrupt_running(&self, at_ms: i64) -> Result<u64, DbError> {
        Ok(sqlx::query("UPDATE attack_runs SET outcome = 'interrupted', finished_at_ms = ? WHERE outcome = 'running'")
            .bind(at_ms)
            .execute(self.pool)
            .await?
            .rows_affected())
    }

    /// The id of the run in progress, if any.
    pub async fn running(&self) -> Result<Option<i64>, DbError> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT id FROM attack_runs WHERE outcome = 'running' ORDER BY id LIMIT 1")
            .fetch_optional(self.pool)
            .await?)
    }

    /// The run's measured instants.
    pub async fn times(&self, run_id: i64) -> Result<Option<RunTimes>, DbError> {
        let row = sqlx::query_as::<_, (Option<i64>, Option<i64>, Option<i64>)>(
            "SELECT first_failure_at_ms, alarm_at_ms, notified_at_ms FROM attack_runs WHERE id = ?",
        )
        .bind(run_id)
        .fetch_optional(self.pool)
        .await?;
        Ok(row.map(|(first_failure_at_ms, alarm_at_ms, notified_at_ms)| RunTimes {
            first_failure_at_ms,
            alarm_at_ms,
            notified_at_ms,
        }))
    }

    /// The run's notification, once seen.
    pub async fn notification(&self, run_id: i64) -> Result<Option<StoredNotification>, DbError> {
        Ok(sqlx::query_as::<_, StoredNotification>(
            "SELECT notified_at_ms, notification_source, notification_subject, notification_message
             FROM attack_runs WHERE id = ? AND notified_at_ms IS NOT NULL",
        )
        .bind(run_id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// One run with its status counts.
    pub async fn get(&self, run_id: i64) -> Result<Option<AttackRunView>, DbError> {
        let row = sqlx::query_as::<_, Row>(select_runs!("WHERE id = ?")).bind(run_id).fetch_optional(self.pool).await?;
        match row {
            Some(row) => Ok(Some(self.view(row).await?)),
            None => Ok(None),
        }
    }

    /// The newest runs, newest first.
    pub async fn list(&self, limit: u32) -> Result<Vec<AttackRunView>, DbError> {
        let rows = sqlx::query_as::<_, Row>(select_runs!("ORDER BY id DESC LIMIT ?"))
            .bind(i64::from(limit))
            .fetch_all(self.pool)
            .await?;
        let mut runs = Vec::with_capacity(rows.len());
        for row in rows {
            runs.push(self.view(row).await?);
        }
        Ok(runs)
    }

    /// How many runs are recorded.
    pub async fn count(&self) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM attack_runs").fetch_one(self.pool).await?)
    }

    /// The run's newest responses, newest first.
    pub async fn responses(&self, run_id: i64, limit: u32) -> Result<Vec<AttackResponseView>, DbError> {
        let rows = sqlx::query_as::<_, (i64, i64, Option<i64>, String)>(
            "SELECT sequence, sent_at_ms, status, body FROM attack_responses
             WHERE run_id = ? ORDER BY sequence DESC LIMIT ?",
        )
        .bind(run_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(sequence, sent_at_ms, status, body)| AttackResponseView {
                sequence: u32::try_from(sequence).unwrap_or_default(),
                sent_at: rfc3339(sent_at_ms),
                status: status.and_then(|status| u16::try_from(status).ok()),
                body,
            })
            .collect())
    }

    async fn view(&self, row: Row) -> Result<AttackRunView, DbError> {
        let counts = sqlx::query_as::<_, (Option<i64>, i64)>(
            "SELECT status, COUNT(*) FROM attack_responses WHERE run_id = ? GROUP BY status ORDER BY status",
        )
        .bind(row.id)
        .fetch_all(self.pool)
        .await?;
        // The first response to the run's alarm that took effect after the
        // run started (crate::responses records them per episode).
        let contained_at_ms = sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MIN(done_at_ms) FROM responses WHERE alarm_name = ? AND episode_ms >= ? AND done_at_ms IS NOT NULL",
        )
        .bind(&row.alarm_name)
        .bind(row.started_at_ms)
        .fetch_one(self.pool)
        .await?;
        Ok(AttackRunView {
            id: row.id,
            endpoint: row.endpoint,
            alarm_name: row.alarm_name,
            requested_count: u32::try_from(row.requested_count).unwrap_or_default(),
            rate_per_second: u32::try_from(row.rate_per_second).unwrap_or_default(),
            sent: u32::try_from(row.sent).unwrap_or_default(),
            started_at: rfc3339(row.started_at_ms),
            finished_at: row.finished_at_ms.map(rfc3339),
            outcome: row.outcome,
            alarm_reset: row.alarm_reset,
            status_counts: counts
                .into_iter()
                .map(|(status, count)| StatusCount { status: status.and_then(|s| u16::try_from(s).ok()), count })
                .collect(),
            first_failure_at: row.first_failure_at_ms.map(rfc3339),
            alarm_at: row.alarm_at_ms.map(rfc3339),
            notified_at: row.notified_at_ms.map(rfc3339),
            notification_source: row.notification_source,
            time_to_alarm_ms: attack::time_to(row.first_failure_at_ms, row.alarm_at_ms),
            time_to_notification_ms: attack::time_to(row.first_failure_at_ms, row.notified_at_ms),
            contained_at: contained_at_ms.map(rfc3339),
            time_to_contain_ms: attack::time_to(row.first_failure_at_ms, contained_at_ms),
            watch_until: row.watch_until_ms.map(rfc3339),
        })
    }
}
