//! The `connection_checks` table: every time the console asked STS who it is,
//! and what came back.

use keywatch_app::api::connection::{AwsMode, CallerIdentity, CheckOutcome, ConnectionCheck};
use keywatch_app::error::AppError;
use sqlx::SqlitePool;

use super::DbError;
use crate::clock::rfc3339;

/// Queries on `connection_checks`.
pub struct ConnectionChecks<'a> {
    pool: &'a SqlitePool,
}

/// A check to record.
#[derive(Debug, Clone)]
pub struct NewConnectionCheck {
    pub checked_at_ms: i64,
    pub mode: AwsMode,
    pub region: String,
    pub profile: Option<String>,
    pub outcome: Result<CallerIdentity, AppError>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    checked_at_ms: i64,
    mode: String,
    region: String,
    account_id: Option<String>,
    caller_arn: Option<String>,
    user_id: Option<String>,
    error: Option<String>,
}

impl<'a> ConnectionChecks<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        ConnectionChecks { pool }
    }

    /// Records a check and returns it as stored.
    pub async fn insert(&self, check: NewConnectionCheck) -> Result<ConnectionCheck, DbError> {
        let (identity, error) = match &check.outcome {
            Ok(identity) => (Some(identity), None),
            // The stored error is the user-facing AppError (kind and safe
            // message), so the page can show it again later.
            Err(error) => (None, Some(serde_json::to_string(error).map_err(|e| DbError::Corrupt(e.to_string()))?)),
        };
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO connection_checks
                 (checked_at_ms, mode, region, profile, account_id, caller_arn, user_id, error)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             RETURNING id",
        )
        .bind(check.checked_at_ms)
        .bind(mode_column(check.mode))
        .bind(&check.region)
        .bind(&check.profile)
        .bind(identity.map(|i| &i.account_id))
        .bind(identity.map(|i| &i.arn))
        .bind(identity.map(|i| &i.user_id))
        .bind(error)
        .fetch_one(self.pool)
        .await?;
        Ok(ConnectionCheck {
            id,
            checked_at: rfc3339(check.checked_at_ms),
            mode: check.mode,
            region: check.region,
            outcome: match check.outcome {
                Ok(identity) => CheckOutcome::Connected(identity),
                Err(error) => CheckOutcome::Failed(error),
            },
        })
    }

    /// The newest `limit` checks, newest first.
    pub async fn recent(&self, limit: u32) -> Result<Vec<ConnectionCheck>, DbError> {
        let rows = sqlx::query_as::<_, Row>(
            "SELECT id, checked_at_ms, mode, region, account_id, caller_arn, user_id, error
             FROM connection_checks
             ORDER BY checked_at_ms DESC, id DESC
             LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(self.pool)
        .await?;
        rows.into_iter().map(into_check).collect()
    }
}

fn into_check(row: Row) -> Result<ConnectionCheck, DbError> {
    let mode = match row.mode.as_str() {
        "sandbox" => AwsMode::Sandbox,
        "live" => AwsMode::Live,
        other => return Err(DbError::Corrupt(format!("connection_checks.mode = {other:?}"))),
    };
    let outcome = match (row.account_id, row.caller_arn, row.user_id, row.error) {
        (Some(account_id), Some(arn), Some(user_id), None) => {
            CheckOutcome::Connected(CallerIdentity { account_id, arn, user_id })
        }
        (None, None, None, Some(error)) => CheckOutcome::Failed(
            serde_json::from_str(&error).map_err(|e| DbError::Corrupt(format!("connection_checks.error: {e}")))?,
        ),
        _ => return Err(DbError::Corrupt(format!("connection_checks row {} is neither success nor failure", row.id))),
    };
    Ok(ConnectionCheck { id: row.id, checked_at: rfc3339(row.checked_at_ms), mode, region: row.region, outcome })
}

fn mode_column(mode: AwsMode) -> &'static str {
    match mode {
        AwsMode::Sandbox => "sandbox",
        AwsMode::Live => "live",
    }
}
