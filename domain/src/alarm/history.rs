//! Alarm history items as `DescribeAlarmHistory` returns them.
//!
//! Three item types matter to Keywatch: `ConfigurationUpdate` (alarm created
//! or changed), `StateUpdate` (a transition) and `Action` (an SNS publish).
//! Summaries and `HistoryData` follow items real alarms produced:
//!
//! - `Alarm "Crudalarm" created`, data `{"version":"1.0","type":"Create","createdAlarm":{…}}`
//!   (inside it AWS spells the OK actions key `okactions`, kept as is);
//! - `Alarm updated from OK to ALARM`, data
//!   `{"version":"1.0","oldState":{"stateValue",…},"newState":{…}}`;
//! - `Successfully executed action arn:aws:sns:…`, data
//!   `{"actionState":"Succeeded","stateUpdateTimestamp":…,"notificationResource":…,"publishedMessage":…}`.
//!
//! The update summary `Alarm "name" updated` with type `Update` and keys
//! `originalUpdatedAlarm`/`updatedAlarm`, and the failure summary
//! `Failed to execute action …`, have not been confirmed against a real alarm.
//!
//! API reference: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmHistoryItem.html>

use serde::{Deserialize, Serialize};

use super::config::MetricAlarm;
use super::evaluate::{AlarmState, StateValue};
use super::reason::{StateReasonData, format_aws_timestamp};

/// `HistoryItemType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HistoryItemType {
    ConfigurationUpdate,
    StateUpdate,
    Action,
}

/// One `AlarmHistoryItem`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmHistoryItem {
    /// The alarm the item belongs to.
    pub alarm_name: String,
    /// Always `MetricAlarm` here.
    pub alarm_type: String,
    /// When it happened, epoch milliseconds.
    pub timestamp_ms: i64,
    /// ConfigurationUpdate, StateUpdate or Action.
    pub history_item_type: HistoryItemType,
    /// One line, e.g. `Alarm updated from OK to ALARM`.
    pub history_summary: String,
    /// A JSON document, as a string like the API returns it.
    pub history_data: String,
}

fn item(
    alarm_name: &str,
    timestamp_ms: i64,
    kind: HistoryItemType,
    summary: String,
    data: &impl Serialize,
) -> AlarmHistoryItem {
    AlarmHistoryItem {
        alarm_name: alarm_name.to_owned(),
        alarm_type: "MetricAlarm".to_owned(),
        timestamp_ms,
        history_item_type: kind,
        history_summary: summary,
        // These documents hold only strings, integers and finite numbers, so
        // serialising cannot fail.
        history_data: serde_json::to_string(data).unwrap_or_default(),
    }
}

/// The alarm as `HistoryData` describes it: camelCase keys in AWS's order
/// (a struct, because `serde_json::Map` would sort the keys).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlarmDocument<'a> {
    alarm_name: &'a str,
    alarm_description: &'a str,
    alarm_arn: &'a str,
    alarm_configuration_updated_timestamp: String,
    namespace: &'a str,
    metric_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_statistic: Option<&'a str>,
    period: u32,
    dimensions: Vec<DimensionDocument<'a>>,
    threshold: f64,
    comparison_operator: &'a str,
    evaluation_periods: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    datapoints_to_alarm: Option<u32>,
    treat_missing_data: &'a str,
    state_value: &'a str,
    state_updated_timestamp: String,
    actions_enabled: bool,
    alarm_actions: &'a [String],
    insufficient_data_actions: &'a [String],
    // AWS's own spelling in HistoryData.
    #[serde(rename = "okactions")]
    ok_actions: &'a [String],
}

#[derive(Serialize)]
struct DimensionDocument<'a> {
    value: &'a str,
    name: &'a str,
}

fn alarm_document<'a>(
    alarm: &'a MetricAlarm,
    alarm_arn: &'a str,
    updated_ms: i64,
    state: StateValue,
) -> AlarmDocument<'a> {
    AlarmDocument {
        alarm_name: &alarm.alarm_name,
        alarm_description: alarm.alarm_description.as_deref().unwrap_or(""),
        alarm_arn,
        alarm_configuration_updated_timestamp: format_aws_timestamp(updated_ms),
        namespace: &alarm.namespace,
        metric_name: &alarm.metric_name,
        statistic: alarm.statistic.map(|s| s.as_str()),
        extended_statistic: alarm.extended_statistic.as_ref().map(|s| s.as_str()),
        period: alarm.period,
        dimensions: alarm.dimensions.iter().map(|d| DimensionDocument { value: &d.value, name: &d.name }).collect(),
        threshold: alarm.threshold,
        comparison_operator: alarm.comparison_operator.as_str(),
        evaluation_periods: alarm.evaluation_periods,
        datapoints_to_alarm: alarm.datapoints_to_alarm,
        treat_missing_data: alarm.treat_missing_data.as_str(),
        state_value: state.as_str(),
        state_updated_timestamp: format_aws_timestamp(updated_ms),
        actions_enabled: alarm.actions_enabled,
        alarm_actions: &alarm.alarm_actions,
        insufficient_data_actions: &alarm.insufficient_data_actions,
        ok_actions: &alarm.ok_actions,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateDocument<'a> {
    version: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    created_alarm: AlarmDocument<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UpdateDocument<'a> {
    version: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    original_updated_alarm: AlarmDocument<'a>,
    updated_alarm: AlarmDocument<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StateDocument<'a> {
    state_value: &'a str,
    state_reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason_data: Option<&'a StateReasonData>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StateUpdateDocument<'a> {
    version: &'static str,
    old_state: StateDocument<'a>,
    new_state: StateDocument<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActionDocument<'a> {
    action_state: &'static str,
    state_update_timestamp: i64,
    notification_resource: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    published_message: Option<&'a str>,
}

/// `ConfigurationUpdate` for a new alarm: `Alarm "<name>" created`.
pub fn alarm_created(alarm: &MetricAlarm, alarm_arn: &str, timestamp_ms: i64) -> AlarmHistoryItem {
    let data = CreateDocument {
        version: "1.0",
        kind: "Create",
        created_alarm: alarm_document(alarm, alarm_arn, timestamp_ms, StateValue::InsufficientData),
    };
    item(
        &alarm.alarm_name,
        timestamp_ms,
        HistoryItemType::ConfigurationUpdate,
        format!("Alarm \"{}\" created", alarm.alarm_name),
        &data,
    )
}

/// `ConfigurationUpdate` for a changed alarm: `Alarm "<name>" updated`.
pub fn alarm_updated(
    original: &MetricAlarm,
    updated: &MetricAlarm,
    alarm_arn: &str,
    state: StateValue,
    original_updated_ms: i64,
    timestamp_ms: i64,
) -> AlarmHistoryItem {
    let data = UpdateDocument {
        version: "1.0",
        kind: "Update",
        original_updated_alarm: alarm_document(original, alarm_arn, original_updated_ms, state),
        updated_alarm: alarm_document(updated, alarm_arn, timestamp_ms, state),
    };
    item(
        &updated.alarm_name,
        timestamp_ms,
        HistoryItemType::ConfigurationUpdate,
        format!("Alarm \"{}\" updated", updated.alarm_name),
        &data,
    )
}

fn state_document(state: &AlarmState) -> StateDocument<'_> {
    StateDocument {
        state_value: state.state_value.as_str(),
        state_reason: &state.state_reason,
        state_reason_data: state.state_reason_data.as_ref(),
    }
}

/// `StateUpdate`: `Alarm updated from <old> to <new>`, at the new state's timestamp.
pub fn state_updated(alarm_name: &str, old: &AlarmState, new: &AlarmState) -> AlarmHistoryItem {
    let data = StateUpdateDocument { version: "1.0", old_state: state_document(old), new_state: state_document(new) };
    item(
        alarm_name,
        new.state_updated_timestamp_ms,
        HistoryItemType::StateUpdate,
        format!("Alarm updated from {} to {}", old.state_value, new.state_value),
        &data,
    )
}

/// `Action`: an alarm action (an SNS publish in the lab) and how it went.
pub fn action_executed(
    alarm_name: &str,
    action_arn: &str,
    succeeded: bool,
    state_updated_ms: i64,
    published_message: Option<&str>,
    timestamp_ms: i64,
) -> AlarmHistoryItem {
    let data = ActionDocument {
        action_state: if succeeded { "Succeeded" } else { "Failed" },
        state_update_timestamp: state_updated_ms,
        notification_resource: action_arn,
        published_message,
    };
    let summary = if succeeded {
        format!("Successfully executed action {action_arn}")
    } else {
        format!("Failed to execute action {action_arn}")
    };
    item(alarm_name, timestamp_ms, HistoryItemType::Action, summary, &data)
}
