//! The `admin_account` table: the console's one admin and the argon2id hash
//! of its password (a PHC string; never the password).

use sqlx::SqlitePool;

use super::DbError;

/// Queries on `admin_account`.
pub struct Accounts<'a> {
    pool: &'a SqlitePool,
}

impl<'a> Accounts<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        Accounts { pool }
    }

    /// The stored password hash of `username`, if one is set.
    pub async fn password_hash(&self, username: &str) -> Result<Option<String>, DbError> {
        Ok(sqlx::query_scalar::<_, String>("SELECT password_hash FROM admin_account WHERE username = ?")
            .bind(username)
            .fetch_optional(self.pool)
            .await?)
    }

    /// Sets (or replaces) `username`'s password hash.
    pub async fn set_password_hash(&self, username: &str, password_hash: &str, now_ms: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO admin_account (username, password_hash, updated_at_ms) VALUES (?, ?, ?)
             ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,
                 updated_at_ms = excluded.updated_at_ms",
        )
        .bind(username)
        .bind(password_hash)
        .bind(now_ms)
        .execute(self.pool)
        .await?;
        Ok(())
    }
}
