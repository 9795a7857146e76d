//! The `history_retention` table: how many days of history to keep.

use sqlx::SqlitePool;

use super::DbError;

/// Queries on `history_retention`.
pub struct HistoryRetention<'a> {
    pool: &'a SqlitePool,
}

impl<'a> HistoryRetention<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        HistoryRetention { pool }
    }

    /// Days to keep; `None` keeps everything.
    pub async fn keep_days(&self) -> Result<Option<u32>, DbError> {
        let days = sqlx::query_scalar::<_, Option<i64>>("SELECT keep_days FROM history_retention WHERE id = 1")
            .fetch_optional(self.pool)
            .await?
            .flatten();
        days.map(|d| u32::try_from(d).map_err(|_| DbError::Corrupt(format!("history_retention.keep_days = {d}"))))
            .transpose()
    }

    /// Sets the days to keep; `None` keeps everything.
    pub async fn set_keep_days(&self, keep_days: Option<u32>) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO history_retention (id, keep_days) VALUES (1, ?)
             ON CONFLICT (id) DO UPDATE SET keep_days = excluded.keep_days",
        )
        .bind(keep_days.map(i64::from))
        .execute(self.pool)
        .await?;
        Ok(())
    }
}
