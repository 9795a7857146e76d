//! The `maintenance_windows` and `muted_alarms` tables: when an alarm's
//! notifications and responses are muted, and which alarms' actions
//! Keywatch itself disabled for a window (and so enables again).

use keywatch_domain::response::MaintenanceWindow;
use sqlx::SqlitePool;

use super::DbError;

/// Queries on `maintenance_windows` and `muted_alarms`.
pub struct MaintenanceWindows<'a> {
    pool: &'a SqlitePool,
}

/// One stored window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredWindow {
    pub id: i64,
    pub alarm_name: String,
    pub window: MaintenanceWindow,
    pub reason: String,
    pub created_by: String,
}

type Row = (i64, String, i64, i64, String, String);

fn stored((id, alarm_name, starts_ms, ends_ms, reason, created_by): Row) -> StoredWindow {
    StoredWindow { id, alarm_name, window: MaintenanceWindow { starts_ms, ends_ms }, reason, created_by }
}

impl<'a> MaintenanceWindows<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        MaintenanceWindows { pool }
    }

    /// Records a window; returns its id.
    pub async fn insert(
        &self,
        alarm_name: &str,
        window: MaintenanceWindow,
        reason: &str,
        user: &str,
        now_ms: i64,
    ) -> Result<i64, DbError> {
        let done = sqlx::query(
            "INSERT INTO maintenance_windows (alarm_name, starts_at_ms, ends_at_ms, reason, created_by, created_at_ms)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(alarm_name)
        .bind(window.starts_ms)
        .bind(window.ends_ms)
        .bind(reason)
        .bind(user)
        .bind(now_ms)
        .execute(self.pool)
        .await?;
        Ok(done.last_insert_rowid())
    }

    /// Ends a window at `now_ms` (or drops one that has not started).
    pub async fn end(&self, id: i64, now_ms: i64) -> Result<Option<StoredWindow>, DbError> {
        let Some(found) = self.get(id).await? else { return Ok(None) };
        if found.window.starts_ms >= now_ms {
            sqlx::query("DELETE FROM maintenance_windows WHERE id = ?").bind(id).execute(self.pool).await?;
        } else if found.window.ends_ms > now_ms {
            sqlx::query("UPDATE maintenance_windows SET ends_at_ms = ? WHERE id = ?")
                .bind(now_ms)
                .bind(id)
                .execute(self.pool)
                .await?;
        }
        Ok(Some(found))
    }

    pub async fn get(&self, id: i64) -> Result<Option<StoredWindow>, DbError> {
        let row = sqlx::query_as::<_, Row>(
            "SELECT id, alarm_name, starts_at_ms, ends_at_ms, reason, created_by FROM maintenance_windows WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        Ok(row.map(stored))
    }

    /// The alarm's windows that have not ended by `now_ms`, soonest first.
    pub async fn open_or_coming(&self, alarm_name: &str, now_ms: i64) -> Result<Vec<StoredWindow>, DbError> {
        let rows = sqlx::query_as::<_, Row>(
            "SELECT id, alarm_name, starts_at_ms, ends_at_ms, reason, created_by FROM maintenance_windows
             WHERE alarm_name = ? AND ends_at_ms > ? ORDER BY starts_at_ms, id",
        )
        .bind(alarm_name)
        .bind(now_ms)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(stored).collect())
    }

    /// Every alarm's windows, to decide muting: those that have not ended.
    pub async fn all_open_or_coming(&self, now_ms: i64) -> Result<Vec<StoredWindow>, DbError> {
        let rows = sqlx::query_as::<_, Row>(
            "SELECT id, alarm_name, starts_at_ms, ends_at_ms, reason, created_by FROM maintenance_windows
             WHERE ends_at_ms > ? ORDER BY alarm_name, starts_at_ms",
        )
        .bind(now_ms)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(stored).collect())
    }

    /// Whether `at_ms` falls in one of the alarm's windows (ended ones too:
    /// an episode is judged by when it happened).
    pub async fn covers(&self, alarm_name: &str, at_ms: i64) -> Result<bool, DbError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM maintenance_windows WHERE alarm_name = ? AND starts_at_ms <= ? AND ends_at_ms > ?",
        )
        .bind(alarm_name)
        .bind(at_ms)
        .bind(at_ms)
        .fetch_one(self.pool)
        .await?
            > 0)
    }

    /// The alarms whose actions Keywatch disabled.
    pub async fn muted(&self) -> Result<Vec<String>, DbError> {
        Ok(sqlx::query_scalar::<_, String>("SELECT alarm_name FROM muted_alarms ORDER BY alarm_name")
            .fetch_all(self.pool)
            .await?)
    }

    pub async fn set_muted(&self, alarm_name: &str, muted: bool, now_ms: i64) -> Result<(), DbError> {
        if muted {
            sqlx::query("INSERT OR IGNORE INTO muted_alarms (alarm_name, muted_at_ms) VALUES (?, ?)")
                .bind(alarm_name)
                .bind(now_ms)
                .execute(self.pool)
                .await?;
        } else {
            sqlx::query("DELETE FROM muted_alarms WHERE alarm_name = ?").bind(alarm_name).execute(self.pool).await?;
        }
        Ok(())
    }
}
