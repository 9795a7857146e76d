//! The Testing page's data and server functions (lab section 4): a round
//! trip through the deployed application, simulated attacks (wrong-key
//! decrypts) run in the background and recorded in SQLite, and the live view
//! of the metric, the alarm and its notification.
//!
//! Server functions reach AWS, the application and SQLite only through
//! [`port::AttackBackend`], which the server crate implements.

use keywatch_domain::lab::LabSection;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One HTTP request to the application and what it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpExchange {
    pub method: String,
    pub url: String,
    pub request_body: String,
    /// `None` when the application could not be reached.
    pub status: Option<u16>,
    /// The response body, or why there was none.
    pub response_body: String,
}

/// The lab's alarm as DescribeAlarms reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmView {
    pub alarm_name: String,
    /// `StateValue`: OK, ALARM or INSUFFICIENT_DATA.
    pub state_value: String,
    pub state_reason: String,
    /// RFC 3339, UTC.
    pub state_updated_at: Option<String>,
    pub namespace: String,
    pub metric_name: String,
    pub threshold: f64,
    pub comparison_operator: String,
    pub statistic: Option<String>,
    pub period_seconds: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: Option<u32>,
}

/// What the Testing page shows on load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestingOverview {
    pub prefix: String,
    /// Sections whose stacks are not deployed (ready) yet.
    pub missing_prerequisites: Vec<LabSection>,
    /// The load balancer's DNS name (the application's endpoint).
    pub endpoint: Option<String>,
    /// The application's KMS key id, from the application stack's outputs.
    pub key_id: Option<String>,
    pub alarm: Option<AlarmView>,
    /// The attack size that crosses the alarm's current settings at the
    /// default rate, or why none can.
    pub default_count: Option<u32>,
    pub sizing_problem: Option<String>,
    pub default_rate: u32,
    pub max_count: u32,
    pub max_rate: u32,
    /// The console talks to live AWS (CloudTrail takes minutes there).
    pub live_aws: bool,
}

/// A record to encrypt and read back with the right key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundTripRequest {
    pub name: String,
    pub text: String,
}

/// The round trip's two exchanges and whether the text came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundTripResult {
    pub key_id: String,
    pub encrypt: HttpExchange,
    pub decrypt: Option<HttpExchange>,
    pub passed: bool,
}

/// A simulated attack as typed in the form: N decrypts at R per second.
/// Kept as text so the server checks exactly what was typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackRequest {
    pub count: String,
    pub rate: String,
}

/// Which run to stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopRequest {
    pub id: i64,
}

/// How many responses had one status (`None`: no answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: Option<u16>,
    pub count: i64,
}

/// An attack run as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackRunView {
    pub id: i64,
    pub endpoint: String,
    pub alarm_name: Option<String>,
    pub requested_count: u32,
    pub rate_per_second: u32,
    pub sent: u32,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `running`, `alarm`, `stopped`, `no_alarm`, `interrupted`.
    pub outcome: String,
    /// The alarm was in ALARM before the run and was set to OK first.
    pub alarm_reset: bool,
    pub status_counts: Vec<StatusCount>,
    pub first_failure_at: Option<String>,
    pub alarm_at: Option<String>,
    pub notified_at: Option<String>,
    /// Where the notification was seen: `inbox` or `alarm history`.
    pub notification_source: Option<String>,
    pub time_to_alarm_ms: Option<i64>,
    pub time_to_notification_ms: Option<i64>,
    /// When a response to the alarm's episode contained it (its AWS calls
    /// made), if the alarm has a playbook that ran.
    pub contained_at: Option<String>,
    /// From the first failing call to the containment in effect.
    pub time_to_contain_ms: Option<i64>,
    /// Until when the run watches for the alarm (RFC 3339), once all calls are sent.
    pub watch_until: Option<String>,
}

impl AttackRunView {
    pub fn is_running(&self) -> bool {
        self.outcome == "running"
    }

    /// The outcome in words.
    pub fn outcome_label(&self) -> &'static str {
        match self.outcome.as_str() {
            "running" => "Running",
            "alarm" => "Alarm reached",
            "stopped" => "Stopped",
            "no_alarm" => "No alarm within the watch window",
            "interrupted" => "Interrupted by a restart",
            _ => "Unknown",
        }
    }
}

/// One wrong-key decrypt of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackResponseView {
    /// 1-based.
    pub sequence: u32,
    pub sent_at: String,
    pub status: Option<u16>,
    pub body: String,
}

/// One datapoint of the alarm's metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    pub timestamp_ms: i64,
    pub value: f64,
}

/// The notification a run's alarm sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub source: String,
    pub at: String,
    pub subject: Option<String>,
    pub message: String,
}

/// What the page polls every second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestingLive {
    pub alarm: Option<AlarmView>,
    pub datapoints: Vec<MetricPoint>,
    pub chart_from_ms: i64,
    pub chart_to_ms: i64,
    /// The newest run (running or not).
    pub latest: Option<AttackRunView>,
    /// The newest run's responses, newest first (at most 50).
    pub responses: Vec<AttackResponseView>,
    pub notification: Option<NotificationView>,
    /// Past runs, newest first.
    pub runs: Vec<AttackRunView>,
    pub live_aws: bool,
}

/// The page's prerequisites, endpoint, key and alarm.
#[server(endpoint = "testing/overview")]
pub async fn get_testing_overview() -> Result<TestingOverview, AppError> {
    crate::api::port::<port::Attack>()?.0.overview().await
}

/// Encrypts a record and decrypts it with the application's key.
#[server(endpoint = "testing/round-trip", input = Json)]
pub async fn run_round_trip(request: RoundTripRequest) -> Result<RoundTripResult, AppError> {
    crate::api::port::<port::Attack>()?.0.round_trip(request).await
}

/// Checks N and R and starts the simulated attack in the background.
#[server(endpoint = "testing/attack", input = Json)]
pub async fn start_attack(request: AttackRequest) -> Result<AttackRunView, AppError> {
    crate::api::port::<port::Attack>()?.0.start_attack(request).await
}

/// Stops a running attack.
#[server(endpoint = "testing/stop", input = Json)]
pub async fn stop_attack(request: StopRequest) -> Result<AttackRunView, AppError> {
    crate::api::port::<port::Attack>()?.0.stop_attack(request).await
}

/// The metric, the alarm, the newest run and past runs now.
#[server(endpoint = "testing/live")]
pub async fn get_testing_live() -> Result<TestingLive, AppError> {
    crate::api::port::<port::Attack>()?.0.live().await
}

/// The port between the Testing page's server functions and the server crate.
#[cfg(feature = "ssr")]
pub mod port {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;

    /// What the Testing page's server functions ask of the server.
    #[async_trait]
    pub trait AttackBackend: Send + Sync + 'static {
        async fn overview(&self) -> Result<TestingOverview, AppError>;
        async fn round_trip(&self, request: RoundTripRequest) -> Result<RoundTripResult, AppError>;
        async fn start_attack(&self, request: AttackRequest) -> Result<AttackRunView, AppError>;
        async fn stop_attack(&self, request: StopRequest) -> Result<AttackRunView, AppError>;
        async fn live(&self) -> Result<TestingLive, AppError>;
    }

    /// The Testing page's attack backend as Leptos context.
    #[derive(Clone)]
    pub struct Attack(pub Arc<dyn AttackBackend>);
}
