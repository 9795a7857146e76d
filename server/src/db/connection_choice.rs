//! The `connection_choice` table: the Region and profile last chosen on the
//! Connection page (names only, never credentials).

use sqlx::SqlitePool;

use super::DbError;

/// A stored choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChoice {
    pub region: String,
    pub profile: Option<String>,
}

/// Queries on `connection_choice`.
pub struct ConnectionChoice<'a> {
    pool: &'a SqlitePool,
}

impl<'a> ConnectionChoice<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        ConnectionChoice { pool }
    }

    /// The last choice, if one was made.
    pub async fn get(&self) -> Result<Option<StoredChoice>, DbError> {
        let row =
            sqlx::query_as::<_, (String, Option<String>)>("SELECT region, profile FROM connection_choice WHERE id = 1")
                .fetch_optional(self.pool)
                .await?;
        Ok(row.map(|(region, profile)| StoredChoice { region, profile }))
    }

    /// Records a choice, replacing the previous one.
    pub async fn set(&self, choice: &StoredChoice, chosen_at_ms: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO connection_choice (id, region, profile, chosen_at_ms) VALUES (1, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET region = excluded.region, profile = excluded.profile,
                                            chosen_at_ms = excluded.chosen_at_ms",
        )
        .bind(&choice.region)
        .bind(choice.profile.as_deref())
        .bind(chosen_at_ms)
        .execute(self.pool)
        .await?;
        Ok(())
    }
}
