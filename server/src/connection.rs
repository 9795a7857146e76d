//! The server's side of the Connection page's port ([`ConnectionBackend`]):
//! the console's settings, STS checks recorded in SQLite, and switching the
//! whole console to another Region or profile (through [`ConnectionSwitch`]).

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use keywatch_app::api::connection::port::ConnectionBackend;
use keywatch_app::api::connection::{ConnectionCheck, ConsoleSettings};
use keywatch_app::error::AppError;

use crate::aws::Aws;
use crate::clock::now_ms;
use crate::db::Database;
use crate::db::audit::{AuditEntry, actions};
use crate::db::connection_checks::NewConnectionCheck;

/// Switches the whole console to another Region or profile (the running
/// console implements it; see [`crate::console`]).
#[async_trait]
pub trait ConnectionSwitch: Send + Sync {
    async fn switch(
        self: Arc<Self>,
        region: &'static keywatch_domain::region::Region,
        profile: Option<String>,
    ) -> Result<ConsoleSettings, AppError>;
}

/// The Connection page's backend: STS through the SDK, checks in SQLite.
pub struct ServerConnection {
    aws: Aws,
    db: Database,
    settings: ConsoleSettings,
    /// Weak: the console owns this backend.
    switch: Option<Weak<dyn ConnectionSwitch>>,
}

impl ServerConnection {
    pub fn new(aws: Aws, db: Database, settings: ConsoleSettings) -> ServerConnection {
        ServerConnection { aws, db, settings, switch: None }
    }

    /// Lets `change_connection` switch the console through `switch`.
    pub fn with_switch(mut self, switch: Weak<dyn ConnectionSwitch>) -> ServerConnection {
        self.switch = Some(switch);
        self
    }
}

#[async_trait]
impl ConnectionBackend for ServerConnection {
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

    async fn change_connection(&self, region: &str, profile: Option<String>) -> Result<ConsoleSettings, AppError> {
        let region = keywatch_domain::region::parse(region)
            .map_err(|error| AppError::InvalidInput { field: Some("region".into()), message: error.to_string() })?;
        let target = match &profile {
            Some(profile) => format!("{} (profile {profile})", region.code),
            None => region.code.to_owned(),
        };
        let result = match self.switch.as_ref().and_then(Weak::upgrade) {
            Some(switch) => switch.switch(region, profile).await,
            None => Err(AppError::Conflict("This console cannot change its connection while running".into())),
        };
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::CONNECTION_CHANGE, target, &result))
            .await;
        result
    }

    async fn recent_connection_checks(&self, limit: u32) -> Result<Vec<ConnectionCheck>, AppError> {
        Ok(self.db.connection_checks().recent(limit).await?)
    }
}
