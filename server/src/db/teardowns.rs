//! The `teardowns` table: every teardown of the lab, who started it, and
//! its steps as last reported, so a restarted console can finish one.

use keywatch_app::api::lab::TeardownStatus;
use sqlx::SqlitePool;

use super::DbError;

/// Queries on `teardowns`.
pub struct Teardowns<'a> {
    pool: &'a SqlitePool,
}

/// A teardown as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTeardown {
    pub id: i64,
    pub status: TeardownStatus,
}

impl<'a> Teardowns<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        Teardowns { pool }
    }

    /// Records a started teardown; returns its id.
    pub async fn insert(&self, actor: &str, started_at_ms: i64, status: &TeardownStatus) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO teardowns (actor, prefix, started_at_ms, status) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(actor)
        .bind(&status.prefix)
        .bind(started_at_ms)
        .bind(to_json(status)?)
        .fetch_one(self.pool)
        .await?)
    }

    /// Stores the teardown's current status; `finished_at_ms` once it ends.
    pub async fn update(&self, id: i64, status: &TeardownStatus, finished_at_ms: Option<i64>) -> Result<(), DbError> {
        sqlx::query("UPDATE teardowns SET status = ?, finished_at_ms = COALESCE(?, finished_at_ms) WHERE id = ?")
            .bind(to_json(status)?)
            .bind(finished_at_ms)
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// The newest teardown.
    pub async fn latest(&self) -> Result<Option<StoredTeardown>, DbError> {
        let row = sqlx::query_as::<_, (i64, String)>("SELECT id, status FROM teardowns ORDER BY id DESC LIMIT 1")
            .fetch_optional(self.pool)
            .await?;
        row.map(|(id, status)| Ok(StoredTeardown { id, status: from_json(&status)? })).transpose()
    }

    /// The newest teardown that never finished, if any.
    pub async fn unfinished(&self) -> Result<Option<StoredTeardown>, DbError> {
        let row = sqlx::query_as::<_, (i64, String)>(
            "SELECT id, status FROM teardowns WHERE finished_at_ms IS NULL ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(self.pool)
        .await?;
        row.map(|(id, status)| Ok(StoredTeardown { id, status: from_json(&status)? })).transpose()
    }
}

fn to_json(status: &TeardownStatus) -> Result<String, DbError> {
    serde_json::to_string(status).map_err(|error| DbError::Corrupt(error.to_string()))
}

fn from_json(text: &str) -> Result<TeardownStatus, DbError> {
    serde_json::from_str(text).map_err(|error| DbError::Corrupt(format!("teardowns.status: {error}")))
}
