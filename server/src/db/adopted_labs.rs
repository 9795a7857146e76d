//! The `adopted_labs` table: labs deployed by hand that a user adopted, the
//! prefix Keywatch files each under and its stacks' own names.

use keywatch_domain::lab::{LabSection, LabStacks};
use sqlx::SqlitePool;

use super::DbError;

/// Queries on `adopted_labs`.
pub struct AdoptedLabs<'a> {
    pool: &'a SqlitePool,
}

/// One adopted lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdoptedLab {
    pub prefix: String,
    pub stacks: LabStacks,
}

type Row = (String, Option<String>, Option<String>, Option<String>);

fn into_lab((prefix, base, application, logging): Row) -> AdoptedLab {
    AdoptedLab { prefix, stacks: LabStacks { base, application, logging } }
}

impl<'a> AdoptedLabs<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        AdoptedLabs { pool }
    }

    /// Records an adoption. A stack already adopted, or a prefix in use,
    /// is a constraint violation the caller reports as a conflict.
    pub async fn insert(&self, lab: &AdoptedLab, actor: &str, at_ms: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO adopted_labs (prefix, base_stack, app_stack, logging_stack, adopted_by, adopted_at_ms)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&lab.prefix)
        .bind(lab.stacks.name(LabSection::BaseNetwork))
        .bind(lab.stacks.name(LabSection::Application))
        .bind(lab.stacks.name(LabSection::LoggingAndAlarm))
        .bind(actor)
        .bind(at_ms)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The adopted lab filed under `prefix`, if there is one.
    pub async fn get(&self, prefix: &str) -> Result<Option<AdoptedLab>, DbError> {
        let row = sqlx::query_as::<_, Row>(
            "SELECT prefix, base_stack, app_stack, logging_stack FROM adopted_labs WHERE prefix = ?",
        )
        .bind(prefix)
        .fetch_optional(self.pool)
        .await?;
        Ok(row.map(into_lab))
    }

    /// Every adopted lab, oldest first.
    pub async fn all(&self) -> Result<Vec<AdoptedLab>, DbError> {
        let rows = sqlx::query_as::<_, Row>(
            "SELECT prefix, base_stack, app_stack, logging_stack FROM adopted_labs ORDER BY adopted_at_ms, prefix",
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(into_lab).collect())
    }

    /// Forgets an adoption (its stacks are gone).
    pub async fn delete(&self, prefix: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM adopted_labs WHERE prefix = ?").bind(prefix).execute(self.pool).await?;
        Ok(())
    }
}
