//! The `poller_cursors` table: where each background poller resumes.

use sqlx::SqlitePool;

use super::DbError;

/// Queries on `poller_cursors`.
pub struct PollerCursors<'a> {
    pool: &'a SqlitePool,
}

impl<'a> PollerCursors<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        PollerCursors { pool }
    }

    /// The stored position of `poller` for `key`.
    pub async fn position(&self, poller: &str, key: &str) -> Result<Option<i64>, DbError> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT position_ms FROM poller_cursors WHERE poller = ? AND cursor_key = ?")
            .bind(poller)
            .bind(key)
            .fetch_optional(self.pool)
            .await?)
    }

    /// Moves the position forward to `position_ms` (never backwards).
    pub async fn advance(&self, poller: &str, key: &str, position_ms: i64, now_ms: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO poller_cursors (poller, cursor_key, position_ms, updated_at_ms) VALUES (?, ?, ?, ?)
             ON CONFLICT (poller, cursor_key) DO UPDATE
             SET position_ms = MAX(position_ms, excluded.position_ms), updated_at_ms = excluded.updated_at_ms",
        )
        .bind(poller)
        .bind(key)
        .bind(position_ms)
        .bind(now_ms)
        .execute(self.pool)
        .await?;
        Ok(())
    }
}
