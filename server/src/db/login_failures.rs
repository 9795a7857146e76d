//! The `login_failures` table: the login rate limiter's memory, written
//! through so that a restart does not forget who was guessing.

use sqlx::SqlitePool;

use super::DbError;

/// Queries on `login_failures`.
pub struct LoginFailures<'a> {
    pool: &'a SqlitePool,
}

impl<'a> LoginFailures<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        LoginFailures { pool }
    }

    /// Records a failed login from `address_key` and forgets failures
    /// older than `forget_before_ms`.
    pub async fn record(&self, address_key: &str, at_ms: i64, forget_before_ms: i64) -> Result<(), DbError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("DELETE FROM login_failures WHERE failed_at_ms < ?")
            .bind(forget_before_ms)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("INSERT INTO login_failures (address_key, failed_at_ms) VALUES (?, ?)")
            .bind(address_key)
            .bind(at_ms)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Forgets `address_key`'s failures (it logged in).
    pub async fn clear(&self, address_key: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM login_failures WHERE address_key = ?").bind(address_key).execute(self.pool).await?;
        Ok(())
    }

    /// Failures since `since_ms`, oldest first, as (key, time).
    pub async fn since(&self, since_ms: i64) -> Result<Vec<(String, i64)>, DbError> {
        Ok(sqlx::query_as::<_, (String, i64)>(
            "SELECT address_key, failed_at_ms FROM login_failures WHERE failed_at_ms >= ? ORDER BY failed_at_ms",
        )
        .bind(since_ms)
        .fetch_all(self.pool)
        .await?)
    }
}
