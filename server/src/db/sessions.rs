//! The `sessions` table: login sessions by the SHA-256 of their token, with
//! their user and expiry. Kept in SQLite so a restart logs nobody out.

use sqlx::SqlitePool;

use super::DbError;

/// Queries on `sessions`.
pub struct Sessions<'a> {
    pool: &'a SqlitePool,
}

impl<'a> Sessions<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        Sessions { pool }
    }

    /// Stores a new session.
    pub async fn insert(
        &self,
        token_sha256: &str,
        username: &str,
        created_at_ms: i64,
        expires_at_ms: i64,
    ) -> Result<(), DbError> {
        sqlx::query("INSERT INTO sessions (token_sha256, username, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?)")
            .bind(token_sha256)
            .bind(username)
            .bind(created_at_ms)
            .bind(expires_at_ms)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// The user of an unexpired session.
    pub async fn user(&self, token_sha256: &str, now_ms: i64) -> Result<Option<String>, DbError> {
        Ok(sqlx::query_scalar::<_, String>(
            "SELECT username FROM sessions WHERE token_sha256 = ? AND expires_at_ms > ?",
        )
        .bind(token_sha256)
        .bind(now_ms)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Ends a session (logout).
    pub async fn delete(&self, token_sha256: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM sessions WHERE token_sha256 = ?").bind(token_sha256).execute(self.pool).await?;
        Ok(())
    }

    /// Ends every session of `username` (a new password logs everyone out).
    pub async fn delete_for_user(&self, username: &str) -> Result<u64, DbError> {
        let done = sqlx::query("DELETE FROM sessions WHERE username = ?").bind(username).execute(self.pool).await?;
        Ok(done.rows_affected())
    }

    /// Forgets expired sessions.
    pub async fn delete_expired(&self, now_ms: i64) -> Result<u64, DbError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at_ms <= ?").bind(now_ms).execute(self.pool).await?;
        Ok(done.rows_affected())
    }
}
