//! The port between server functions and the server crate.
//!
//! The app crate cannot depend on the server crate (dependencies point from
//! server to app), so server functions reach AWS and SQLite through this
//! trait, which the server implements and provides as Leptos context.

use std::sync::Arc;

use async_trait::async_trait;

use super::audit::AuditPage;
use super::connection::{ConnectionCheck, ConsoleSettings};
use super::history::{HistoryCursor, HistoryFilter, HistoryPage, HistoryRetention, StateChangeDetail, Timeline};
use super::subscribers::{AlarmTopic, OutboxEmail};
use crate::error::AppError;
use keywatch_domain::sns::SubscriptionStatus;

/// Everything server functions can ask of the server.
#[async_trait]
pub trait ConsoleBackend: Send + Sync + 'static {
    /// How the console is connected: mode, region, profile.
    fn settings(&self) -> ConsoleSettings;

    /// Asks STS who the console is, and records the outcome.
    async fn check_connection(&self) -> Result<ConnectionCheck, AppError>;

    /// Switches every AWS client to `region` (and `profile`, on live AWS),
    /// remembering the choice; both have been validated.
    async fn change_connection(&self, region: &str, profile: Option<String>) -> Result<ConsoleSettings, AppError>;

    /// The most recent recorded connection checks, newest first.
    async fn recent_connection_checks(&self, limit: u32) -> Result<Vec<ConnectionCheck>, AppError>;

    /// The alarm topics (from the managed alarms' actions and the lab's
    /// topics) with their subscribers, endpoints masked.
    async fn alarm_topics(&self) -> Result<Vec<AlarmTopic>, AppError>;

    /// SNS `Subscribe`; the endpoint has been validated for its protocol.
    async fn subscribe(&self, topic_arn: &str, protocol: &str, endpoint: &str) -> Result<SubscriptionStatus, AppError>;

    /// SNS `Unsubscribe`.
    async fn unsubscribe(&self, subscription_arn: &str) -> Result<(), AppError>;

    /// Subscribes the pending subscription shown as `masked_endpoint` again.
    async fn resend_confirmation(&self, topic_arn: &str, protocol: &str, masked_endpoint: &str)
    -> Result<(), AppError>;

    /// The sandbox's SNS email outbox, newest first; empty on live AWS.
    async fn sandbox_outbox(&self) -> Result<Vec<OutboxEmail>, AppError>;

    /// Follows the confirmation link in the sandbox email `message_id`.
    async fn confirm_from_outbox(&self, message_id: &str) -> Result<(), AppError>;

    /// A page of stored history matching `filter`, newest first, after `after`.
    async fn history_page(
        &self,
        filter: HistoryFilter,
        after: Option<HistoryCursor>,
        limit: u32,
    ) -> Result<HistoryPage, AppError>;

    /// The matching alarms' states over the filter's time range.
    async fn timeline(&self, filter: HistoryFilter) -> Result<Timeline, AppError>;

    /// One stored history item with its reason, datapoints and notifications.
    async fn state_change(&self, id: i64) -> Result<StateChangeDetail, AppError>;

    /// The retention setting.
    async fn history_retention(&self) -> Result<HistoryRetention, AppError>;

    /// Changes the retention setting; the pollers apply it on their next round.
    async fn set_history_retention(&self, retention: HistoryRetention) -> Result<HistoryRetention, AppError>;

    /// Audit records older than `before` (`None`: the newest), newest first.
    async fn audit_page(&self, before: Option<i64>, limit: u32) -> Result<AuditPage, AppError>;
}

/// The backend as Leptos context.
#[derive(Clone)]
pub struct Backend(pub Arc<dyn ConsoleBackend>);
