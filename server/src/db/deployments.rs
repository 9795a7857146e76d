//! The `deployments` table: every stack creation, update and deletion the
//! wizard started, who started it, and how it ended.

use keywatch_app::api::lab::DeploymentView;
use keywatch_domain::lab::LabSection;
use sqlx::SqlitePool;

use super::DbError;
use crate::clock::rfc3339;

/// Who starts deployments until the console has users.
pub const CONSOLE_ACTOR: &str = "console";

/// Queries on `deployments`.
pub struct Deployments<'a> {
    pool: &'a SqlitePool,
}

/// A deployment to record as started.
#[derive(Debug, Clone)]
pub struct NewDeployment {
    pub actor: String,
    pub section: LabSection,
    pub prefix: String,
    pub stack_name: String,
    pub stack_id: Option<String>,
    /// `create`, `update` or `delete`.
    pub action: &'static str,
    pub change_set_id: Option<String>,
    pub started_at_ms: i64,
}

/// One resource a deployment's change set planned to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedResource {
    pub logical_id: String,
    pub resource_type: String,
    /// `Add`, `Modify` or `Remove`.
    pub action: String,
}

/// A deployment CloudFormation is still working on, as the stack watcher
/// follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    pub id: i64,
    /// Who started it (the audit log's user for its outcome).
    pub actor: String,
    pub stack_name: String,
    pub stack_id: Option<String>,
    pub action: String,
    pub started_at_ms: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    actor: String,
    section: String,
    stack_name: String,
    action: String,
    change_set_id: Option<String>,
    started_at_ms: i64,
    finished_at_ms: Option<i64>,
    outcome: Option<String>,
    final_status: Option<String>,
    status_reason: Option<String>,
}

impl<'a> Deployments<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        Deployments { pool }
    }

    /// Records a started deployment and returns it.
    pub async fn insert(&self, deployment: NewDeployment) -> Result<DeploymentView, DbError> {
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO deployments
                 (actor, section, prefix, stack_name, stack_id, action, change_set_id, started_at_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             RETURNING id",
        )
        .bind(&deployment.actor)
        .bind(deployment.section.slug())
        .bind(&deployment.prefix)
        .bind(&deployment.stack_name)
        .bind(&deployment.stack_id)
        .bind(deployment.action)
        .bind(&deployment.change_set_id)
        .bind(deployment.started_at_ms)
        .fetch_one(self.pool)
        .await?;
        self.get(id).await?.ok_or_else(|| DbError::Corrupt(format!("deployment {id} vanished after insert")))
    }

    /// One deployment by id.
    pub async fn get(&self, id: i64) -> Result<Option<DeploymentView>, DbError> {
        let row = sqlx::query_as::<_, Row>(
            "SELECT id, actor, section, stack_name, action, change_set_id, started_at_ms, finished_at_ms,
                    outcome, final_status, status_reason
             FROM deployments WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        row.map(into_view).transpose()
    }

    /// Records what deployment `id`'s change set planned.
    pub async fn insert_plan(&self, id: i64, plan: &[PlannedResource]) -> Result<(), DbError> {
        let mut transaction = self.pool.begin().await?;
        for resource in plan {
            sqlx::query(
                "INSERT OR IGNORE INTO deployment_plans (deployment_id, logical_id, resource_type, action)
                 VALUES (?, ?, ?, ?)",
            )
            .bind(id)
            .bind(&resource.logical_id)
            .bind(&resource.resource_type)
            .bind(&resource.action)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// What deployment `id`'s change set planned, in the change set's order
    /// (empty when nothing was recorded).
    pub async fn plan(&self, id: i64) -> Result<Vec<PlannedResource>, DbError> {
        let rows = sqlx::query_as::<_, (String, String, String)>(
            "SELECT logical_id, resource_type, action FROM deployment_plans WHERE deployment_id = ? ORDER BY rowid",
        )
        .bind(id)
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(logical_id, resource_type, action)| PlannedResource { logical_id, resource_type, action })
            .collect())
    }

    /// The newest deployment of a stack.
    pub async fn latest_for_stack(&self, stack_name: &str) -> Result<Option<DeploymentView>, DbError> {
        let row = sqlx::query_as::<_, Row>(
            "SELECT id, actor, section, stack_name, action, change_set_id, started_at_ms, finished_at_ms,
                    outcome, final_status, status_reason
             FROM deployments WHERE stack_name = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(stack_name)
        .fetch_optional(self.pool)
        .await?;
        row.map(into_view).transpose()
    }

    /// The prefix of the newest deployment or adoption, if any: the lab the
    /// user works on.
    pub async fn latest_prefix(&self) -> Result<Option<String>, DbError> {
        Ok(sqlx::query_scalar::<_, String>(
            "SELECT prefix FROM (
                 SELECT prefix, at FROM (
                     SELECT prefix, started_at_ms AS at FROM deployments ORDER BY id DESC LIMIT 1)
                 UNION ALL
                 SELECT prefix, adopted_at_ms AS at FROM adopted_labs)
             ORDER BY at DESC LIMIT 1",
        )
        .fetch_optional(self.pool)
        .await?)
    }

    /// Every stack name and every prefix the wizard ever deployed under:
    /// the stacks Keywatch made are not "found", and an adopted lab is not
    /// filed under a prefix in use.
    pub async fn names_and_prefixes(&self) -> Result<(Vec<String>, Vec<String>), DbError> {
        let names =
            sqlx::query_scalar::<_, String>("SELECT DISTINCT stack_name FROM deployments").fetch_all(self.pool).await?;
        let prefixes =
            sqlx::query_scalar::<_, String>("SELECT DISTINCT prefix FROM deployments").fetch_all(self.pool).await?;
        Ok((names, prefixes))
    }

    /// Deployments CloudFormation has not finished, oldest first.
    pub async fn unfinished(&self) -> Result<Vec<Unfinished>, DbError> {
        let rows = sqlx::query_as::<_, (i64, String, String, Option<String>, String, i64)>(
            "SELECT id, actor, stack_name, stack_id, action, started_at_ms FROM deployments
             WHERE outcome IS NULL ORDER BY id",
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, actor, stack_name, stack_id, action, started_at_ms)| Unfinished {
                id,
                actor,
                stack_name,
                stack_id,
                action,
                started_at_ms,
            })
            .collect())
    }

    /// Records the stack id once known.
    pub async fn set_stack_id(&self, id: i64, stack_id: &str) -> Result<(), DbError> {
        sqlx::query("UPDATE deployments SET stack_id = ? WHERE id = ? AND stack_id IS NULL")
            .bind(stack_id)
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Marks a deployment finished; true the first time, and a second call
    /// changes nothing (false).
    pub async fn finish(
        &self,
        id: i64,
        finished_at_ms: i64,
        succeeded: bool,
        final_status: &str,
        status_reason: Option<&str>,
    ) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE deployments SET finished_at_ms = ?, outcome = ?, final_status = ?, status_reason = ?
             WHERE id = ? AND outcome IS NULL",
        )
        .bind(finished_at_ms)
        .bind(if succeeded { "succeeded" } else { "failed" })
        .bind(final_status)
        .bind(status_reason)
        .bind(id)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn into_view(row: Row) -> Result<DeploymentView, DbError> {
    let section = LabSection::ALL
        .into_iter()
        .find(|section| section.slug() == row.section)
        .ok_or_else(|| DbError::Corrupt(format!("deployments.section = {:?}", row.section)))?;
    Ok(DeploymentView {
        id: row.id,
        actor: row.actor,
        section,
        stack_name: row.stack_name,
        action: row.action,
        change_set_id: row.change_set_id,
        started_at: rfc3339(row.started_at_ms),
        finished_at: row.finished_at_ms.map(rfc3339),
        outcome: row.outcome,
        final_status: row.final_status,
        status_reason: row.status_reason,
    })
}
