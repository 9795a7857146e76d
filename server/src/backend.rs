//! The server's side of the app's backend port: server functions land here,
//! and here they meet the AWS wrappers and the SQLite repositories.

use async_trait::async_trait;
use keywatch_app::api::backend::ConsoleBackend;
use keywatch_app::api::connection::{ConnectionCheck, ConsoleSettings};
use keywatch_app::error::AppError;

use crate::aws::Aws;
use crate::db::Database;
use crate::db::connection_checks::NewConnectionCheck;

/// The console's backend: AWS through the SDK, state in SQLite.
pub struct ServerBackend {
    aws: Aws,
    db: Database,
    settings: ConsoleSettings,
}

impl ServerBackend {
    pub fn new(aws: Aws, db: Database, settings: ConsoleSettings) -> ServerBackend {
        ServerBackend { aws, db, settings }
    }
}

#[async_trait]
impl ConsoleBackend for ServerBackend {
    fn settings(&self) -> ConsoleSettings {
        self.settings.clone()
    }

    async fn check_connection(&self) -> Result<ConnectionCheck, AppError> {
        let outcome = self.aws.sts().caller_identity().await.map_err(|error| {
            tracing::warn!(%error, "connection check failed");
            AppError::from(error)
        });
        let check = NewConnectionCheck {
            checked_at_ms: now_ms(),
            mode: self.settings.mode,
            region: self.settings.region.clone(),
            profile: self.settings.profile.clone(),
            outcome,
        };
        Ok(self.db.connection_checks().insert(check).await?)
    }

    async fn recent_connection_checks(&self, limit: u32) -> Result<Vec<ConnectionCheck>, AppError> {
        Ok(self.db.connection_checks().recent(limit).await?)
    }
}

fn now_ms() -> i64 {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}
