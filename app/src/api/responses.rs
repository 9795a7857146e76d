//! Responses: what Keywatch does when a managed alarm fires. An alarm's
//! playbooks with their modes (set on the alarm's page), the responses made
//! to each alarm episode, the decisions on them (approve, refuse, revert),
//! and the maintenance windows that mute the alarm, every one audited.
//!
//! Server functions reach AWS and SQLite only through [`port::ResponsesBackend`].

use keywatch_domain::response::{Decision, Playbook, ResponseMode, ResponseStatus};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One playbook as an alarm has it (or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybookView {
    pub playbook: Playbook,
    /// `None`: the alarm does not run it.
    pub mode: Option<ResponseMode>,
    pub role_arn: Option<String>,
    pub key_arn: Option<String>,
}

/// One response to an alarm episode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseView {
    pub id: i64,
    pub alarm_name: String,
    /// When the alarm went into ALARM, RFC 3339.
    pub episode_at: String,
    pub playbook: Playbook,
    pub mode: ResponseMode,
    pub status: ResponseStatus,
    /// What it acts on: the role, or the key.
    pub target: String,
    pub decided_by: Option<String>,
    pub done_at: Option<String>,
    /// From the alarm firing to the containment in effect.
    pub time_to_contain_ms: Option<i64>,
    pub reverted_by: Option<String>,
    pub reverted_at: Option<String>,
    pub detail: Option<String>,
}

/// One maintenance window of an alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowView {
    pub id: i64,
    /// RFC 3339, UTC.
    pub starts_at: String,
    pub ends_at: String,
    pub reason: String,
    pub created_by: String,
    /// Open now: notifications and responses are muted.
    pub open: bool,
}

/// An alarm's response settings and its responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmResponses {
    pub alarm_name: String,
    pub playbooks: Vec<PlaybookView>,
    /// The lab's task role and key, to fill the form with.
    pub suggested_role_arn: Option<String>,
    pub suggested_key_arn: Option<String>,
    pub responses: Vec<ResponseView>,
    /// Windows that have not ended, soonest first.
    pub windows: Vec<WindowView>,
}

/// Opens a maintenance window on an alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowRequest {
    pub alarm_name: String,
    /// `YYYY-MM-DDTHH:MM` in UTC (a datetime-local field); empty: now.
    pub starts_at: String,
    pub duration_minutes: u32,
    pub reason: String,
}

/// Ends (or, before it starts, drops) a maintenance window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndWindowRequest {
    pub id: i64,
}

/// Which alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmResponsesRequest {
    pub alarm_name: String,
    /// Read the lab's task role and key for the form (a DescribeStacks):
    /// the panel's first load wants them, its refreshes do not.
    pub with_suggestions: bool,
}

/// Sets (or, with no mode, removes) one of an alarm's playbooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybookRequest {
    pub alarm_name: String,
    pub playbook: Playbook,
    pub mode: Option<ResponseMode>,
    /// The role to contain (contain-role).
    pub role_arn: String,
    pub key_arn: String,
}

/// A decision on one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRequest {
    pub id: i64,
    pub decision: Decision,
}

/// The alarm's playbooks and its responses, newest first.
#[server(endpoint = "responses/alarm", input = Json)]
pub async fn get_alarm_responses(request: AlarmResponsesRequest) -> Result<AlarmResponses, AppError> {
    crate::api::port::<port::Responses>()?.0.alarm_responses(request).await
}

/// Sets or removes a playbook; refuses invalid ARNs before storing anything.
#[server(endpoint = "responses/playbook", input = Json)]
pub async fn set_playbook(request: PlaybookRequest) -> Result<AlarmResponses, AppError> {
    crate::api::port::<port::Responses>()?.0.set_playbook(request).await
}

/// Approves, refuses or reverts a response; approving runs it at once.
#[server(endpoint = "responses/decide", input = Json)]
pub async fn decide_response(request: DecisionRequest) -> Result<ResponseView, AppError> {
    crate::api::port::<port::Responses>()?.0.decide(request).await
}

/// Opens a maintenance window; refuses one that is over, too long or unnamed.
#[server(endpoint = "responses/window", input = Json)]
pub async fn add_window(request: WindowRequest) -> Result<AlarmResponses, AppError> {
    crate::api::port::<port::Responses>()?.0.add_window(request).await
}

/// Ends a maintenance window now.
#[server(endpoint = "responses/window-end", input = Json)]
pub async fn end_window(request: EndWindowRequest) -> Result<AlarmResponses, AppError> {
    crate::api::port::<port::Responses>()?.0.end_window(request).await
}

/// The newest responses of every alarm.
#[server(endpoint = "responses/recent")]
pub async fn recent_responses() -> Result<Vec<ResponseView>, AppError> {
    crate::api::port::<port::Responses>()?.0.recent().await
}

/// The port between the responses' server functions and the server crate.
#[cfg(feature = "ssr")]
pub mod port {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;

    /// What the responses' server functions ask of the server.
    #[async_trait]
    pub trait ResponsesBackend: Send + Sync + 'static {
        async fn alarm_responses(&self, request: AlarmResponsesRequest) -> Result<AlarmResponses, AppError>;
        async fn set_playbook(&self, request: PlaybookRequest) -> Result<AlarmResponses, AppError>;
        async fn decide(&self, request: DecisionRequest) -> Result<ResponseView, AppError>;
        async fn recent(&self) -> Result<Vec<ResponseView>, AppError>;
        async fn add_window(&self, request: WindowRequest) -> Result<AlarmResponses, AppError>;
        async fn end_window(&self, request: EndWindowRequest) -> Result<AlarmResponses, AppError>;
    }

    /// The responses' backend as Leptos context.
    #[derive(Clone)]
    pub struct Responses(pub Arc<dyn ResponsesBackend>);
}
