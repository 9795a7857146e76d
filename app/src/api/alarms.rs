//! The Alarms page's data and server functions: the alarms Keywatch manages
//! (or every alarm in the Region), one alarm's settings with the threshold
//! form, the preview of a proposed setting against the metric's history, the
//! threshold sweep (alarms and time in ALARM for many thresholds), and
//! Apply (through the alarm's stack when a Keywatch stack owns it, else
//! PutMetricAlarm), with every change recorded.
//!
//! Server functions reach AWS and SQLite only through [`port::AlarmsBackend`].

use keywatch_domain::alarm::{MetricAlarm, Preview, Sweep, ThresholdForm};
use keywatch_domain::lab_alarms::{AlarmParameter, Detection};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One alarm in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmSummary {
    pub alarm_name: String,
    /// OK, ALARM or INSUFFICIENT_DATA.
    pub state_value: String,
    /// `Namespace / MetricName`, or a note for alarms without one metric.
    pub metric: String,
    /// The condition in words; `None` for alarms the form does not edit.
    pub condition: Option<String>,
    /// Keywatch manages it (the history poller follows it).
    pub managed: bool,
}

/// Which alarms to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmListQuery {
    /// Every alarm in the Region, not only Keywatch's.
    pub all: bool,
}

/// Where an alarm's settings are changed: its stack, or the alarm itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangePath {
    /// A Keywatch stack owns the alarm: changes go through a change set.
    Stack {
        stack_name: String,
        logical_id: String,
        /// Form fields set by stack parameters; the others are fixed by the template.
        parameters: Vec<AlarmParameter>,
    },
    /// The stack of a lab deployed by hand and adopted owns the alarm: its
    /// template fixes every setting, so a change set changes the alarm
    /// resource in the stack's own template.
    StackTemplate { stack_name: String, logical_id: String },
    /// No Keywatch stack owns it: changes go through PutMetricAlarm.
    PutMetricAlarm,
}

/// One recorded change of an alarm's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdChange {
    pub id: i64,
    /// RFC 3339, UTC.
    pub requested_at: String,
    pub alarm_name: String,
    /// `(field, old value, new value)`.
    pub fields: Vec<(String, String, String)>,
    /// `change set` or `PutMetricAlarm`.
    pub path: String,
    pub stack_name: Option<String>,
    pub change_set_id: Option<String>,
    /// `pending`, `succeeded` or `failed`.
    pub outcome: String,
    pub detail: Option<String>,
    pub finished_at: Option<String>,
}

/// Everything the alarm's page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmView {
    pub alarm_name: String,
    pub state_value: String,
    pub state_reason: String,
    pub condition: String,
    pub settings: MetricAlarm,
    pub path: ChangePath,
    pub changes: Vec<ThresholdChange>,
}

/// Names one alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmRequest {
    pub alarm_name: String,
}

/// A proposed setting for an alarm, as the form holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdRequest {
    pub alarm_name: String,
    pub form: ThresholdForm,
}

/// A tunable parameter of a detection, with its current stack value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectionField {
    pub key: String,
    pub description: Option<String>,
    pub value: String,
}

/// One optional detection of the logging stack, as deployed now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectionView {
    pub detection: Detection,
    pub title: String,
    pub enabled: bool,
    pub stack_name: String,
    /// The detection's alarm, while it is switched on.
    pub alarm_name: Option<String>,
    pub fields: Vec<DetectionField>,
}

/// The logging stack's detections; `stack_name` is `None` before it is deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detections {
    pub stack_name: Option<String>,
    pub detections: Vec<DetectionView>,
}

/// Switches a detection on or off and tunes it, through the stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectionRequest {
    pub detection: Detection,
    pub enabled: bool,
    /// Parameter key → value, for the detection's parameters.
    pub values: Vec<(String, String)>,
}

/// The logging stack's optional detections.
#[server(endpoint = "thresholds/detections")]
pub async fn get_detections() -> Result<Detections, AppError> {
    crate::api::port::<port::Alarms>()?.0.detections().await
}

/// Applies a detection's switch and tuning through the logging stack's change set.
#[server(endpoint = "thresholds/detection", input = Json)]
pub async fn set_detection(request: DetectionRequest) -> Result<ThresholdChange, AppError> {
    crate::api::port::<port::Alarms>()?.0.set_detection(request).await
}

/// Recent events of the trail's log group, for the pattern tester.
#[server(endpoint = "thresholds/trail-events")]
pub async fn recent_trail_events() -> Result<Vec<String>, AppError> {
    crate::api::port::<port::Alarms>()?.0.recent_trail_events().await
}

/// Alarms Keywatch manages, or all in the Region.
#[server(endpoint = "thresholds/alarms", input = Json)]
pub async fn list_alarms(query: AlarmListQuery) -> Result<Vec<AlarmSummary>, AppError> {
    crate::api::port::<port::Alarms>()?.0.alarms(query).await
}

/// One alarm's settings, change path and recorded changes.
#[server(endpoint = "thresholds/alarm", input = Json)]
pub async fn get_alarm(request: AlarmRequest) -> Result<AlarmView, AppError> {
    crate::api::port::<port::Alarms>()?.0.alarm(request).await
}

/// What the current and the proposed setting would have done over the
/// metric's recorded history.
#[server(endpoint = "thresholds/preview", input = Json)]
pub async fn preview_threshold(request: ThresholdRequest) -> Result<Preview, AppError> {
    crate::api::port::<port::Alarms>()?.0.preview(request).await
}

/// How many alarms, and how long in ALARM, about 100 thresholds spanning the
/// metric's recorded values would have produced with the proposed setting's
/// other rules (the current and proposed thresholds among them).
#[server(endpoint = "thresholds/sweep", input = Json)]
pub async fn sweep_thresholds(request: ThresholdRequest) -> Result<Sweep, AppError> {
    crate::api::port::<port::Alarms>()?.0.sweep(request).await
}

/// Applies the proposed setting and records the change.
#[server(endpoint = "thresholds/apply", input = Json)]
pub async fn apply_threshold(request: ThresholdRequest) -> Result<ThresholdChange, AppError> {
    crate::api::port::<port::Alarms>()?.0.apply(request).await
}

/// The first refused field of a form, as an [`AppError`] naming the field.
pub fn form_error(form: &ThresholdForm, base: &MetricAlarm) -> Result<MetricAlarm, AppError> {
    form.apply(base).map_err(|errors| {
        let first = errors.into_iter().next();
        AppError::InvalidInput {
            field: first.as_ref().map(|e| e.field.clone()),
            message: first.map(|e| e.message).unwrap_or_else(|| "invalid setting".to_owned()),
        }
    })
}

/// The port between the Alarms page's server functions and the server crate.
#[cfg(feature = "ssr")]
pub mod port {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;

    /// What the Alarms page's server functions ask of the server.
    #[async_trait]
    pub trait AlarmsBackend: Send + Sync + 'static {
        /// The alarms to list.
        async fn alarms(&self, query: AlarmListQuery) -> Result<Vec<AlarmSummary>, AppError>;
        /// One alarm's page.
        async fn alarm(&self, request: AlarmRequest) -> Result<AlarmView, AppError>;
        /// The preview of a proposed setting.
        async fn preview(&self, request: ThresholdRequest) -> Result<Preview, AppError>;
        /// The threshold sweep of a proposed setting.
        async fn sweep(&self, request: ThresholdRequest) -> Result<Sweep, AppError>;
        /// Applies a proposed setting; refuses invalid values before sending anything.
        async fn apply(&self, request: ThresholdRequest) -> Result<ThresholdChange, AppError>;
        /// The logging stack's optional detections.
        async fn detections(&self) -> Result<Detections, AppError>;
        /// Switches and tunes a detection through the stack; refuses invalid values first.
        async fn set_detection(&self, request: DetectionRequest) -> Result<ThresholdChange, AppError>;
        /// Recent messages of the logging stack's trail log group.
        async fn recent_trail_events(&self) -> Result<Vec<String>, AppError>;
    }

    /// The Alarms pages' backend as Leptos context.
    #[derive(Clone)]
    pub struct Alarms(pub Arc<dyn AlarmsBackend>);
}
