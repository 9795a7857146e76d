//! The Connection page's data: how Keywatch reaches AWS, and the record of
//! checks that proved it (or did not).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Where the console's AWS calls go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AwsMode {
    /// The built-in offline sandbox.
    Sandbox,
    /// A real AWS account, through the default credential chain or a profile.
    Live,
}

/// Why the console is in its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModeSource {
    /// `--aws` (or `KEYWATCH_AWS`) chose it.
    Flag,
    /// No AWS credentials were found, so the sandbox was chosen.
    NoCredentialsFound,
    /// AWS credentials were found, so live AWS was chosen.
    CredentialsFound,
}

/// The console's connection settings, as the header and Connection page show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSettings {
    pub mode: AwsMode,
    pub mode_source: ModeSource,
    pub region: String,
    /// The region's display name, e.g. "Asia Pacific (Sydney)".
    pub region_name: String,
    pub profile: Option<String>,
    /// The sandbox's endpoint URL, in sandbox mode.
    pub sandbox_endpoint: Option<String>,
}

/// Who STS said the console is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerIdentity {
    pub account_id: String,
    pub arn: String,
    pub user_id: String,
}

/// How a connection check ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckOutcome {
    Connected(CallerIdentity),
    Failed(AppError),
}

/// One recorded connection check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionCheck {
    pub id: i64,
    /// When it ran, RFC 3339 in UTC.
    pub checked_at: String,
    pub mode: AwsMode,
    pub region: String,
    pub outcome: CheckOutcome,
}

/// How many checks the page lists.
pub const RECENT_CHECKS: u32 = 10;

/// The console's connection settings.
#[server(endpoint = "connection/settings")]
pub async fn get_console_settings() -> Result<ConsoleSettings, AppError> {
    Ok(crate::api::port::<port::Connection>()?.0.settings())
}

/// Calls STS GetCallerIdentity now and records the outcome.
#[server(endpoint = "connection/check")]
pub async fn check_connection() -> Result<ConnectionCheck, AppError> {
    crate::api::port::<port::Connection>()?.0.check_connection().await
}

/// The most recent connection checks, newest first.
#[server(endpoint = "connection/checks")]
pub async fn recent_connection_checks() -> Result<Vec<ConnectionCheck>, AppError> {
    crate::api::port::<port::Connection>()?.0.recent_connection_checks(RECENT_CHECKS).await
}

/// `change_connection`'s input: the Connection page's form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeConnectionInput {
    pub region: String,
    /// Empty for the default credential chain; ignored on the sandbox.
    #[serde(default)]
    pub profile: String,
}

/// Switches the console to another Region (and, on live AWS, profile): the
/// choice is checked first, then every AWS client, poller and page follows it.
#[server(endpoint = "connection/change")]
pub async fn change_connection(input: ChangeConnectionInput) -> Result<ConsoleSettings, AppError> {
    let choice = keywatch_domain::connection::parse_choice(&input.region, &input.profile)
        .map_err(|error| AppError::InvalidInput { field: Some(error.field().into()), message: error.to_string() })?;
    crate::api::port::<port::Connection>()?.0.change_connection(choice.region.code, choice.profile).await
}

/// The port between the Connection page's server functions and the server crate.
#[cfg(feature = "ssr")]
pub mod port {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;

    /// What the Connection page's server functions ask of the server.
    #[async_trait]
    pub trait ConnectionBackend: Send + Sync + 'static {
        /// How the console is connected: mode, region, profile.
        fn settings(&self) -> ConsoleSettings;

        /// Asks STS who the console is, and records the outcome.
        async fn check_connection(&self) -> Result<ConnectionCheck, AppError>;

        /// Switches every AWS client to `region` (and `profile`, on live AWS),
        /// remembering the choice; both have been validated.
        async fn change_connection(&self, region: &str, profile: Option<String>) -> Result<ConsoleSettings, AppError>;

        /// The most recent recorded connection checks, newest first.
        async fn recent_connection_checks(&self, limit: u32) -> Result<Vec<ConnectionCheck>, AppError>;
    }

    /// The connection backend as Leptos context.
    #[derive(Clone)]
    pub struct Connection(pub Arc<dyn ConnectionBackend>);
}
