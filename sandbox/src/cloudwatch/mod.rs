//! CloudWatch: metric alarms, their history and tags, and the evaluator tick
//! that turns the metric store's datapoints into alarm state changes.
//!
//! Evaluation itself is `keywatch_domain::alarm` (the rules AWS documents);
//! this module keeps the alarms, decides when each is due, and hands the
//! state changes back so the dispatcher can run their actions (SNS
//! publishes), which it records here as `Action` history items.
//! Wire shapes live in [`api`].

pub mod api;

use std::collections::BTreeMap;

use keywatch_domain::alarm::{self, AlarmHistoryItem, AlarmState, MetricAlarm, MetricSample, StateValue};
use serde::{Deserialize, Serialize};

use crate::metrics::{MetricId, MetricStore, Sample};

/// How long AWS keeps alarm history: two weeks.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html>
pub const HISTORY_RETENTION_MS: i64 = 14 * crate::clock::DAY_MS;

/// One alarm with its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmRecord {
    pub region: String,
    pub arn: String,
    pub alarm: MetricAlarm,
    /// `Unit` as PutMetricAlarm gave it (the domain type does not carry it).
    pub unit: Option<String>,
    pub state: AlarmState,
    /// `AlarmConfigurationUpdatedTimestamp`, epoch ms.
    pub configuration_updated_ms: i64,
    /// The evaluation instant last evaluated, so each runs once.
    #[serde(default)]
    pub last_evaluated_ms: Option<i64>,
}

/// A history item and the region its alarm lives in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub region: String,
    pub item: AlarmHistoryItem,
}

/// A tag on an alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// One composite alarm with its state (PutCompositeAlarm).
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositeRecord {
    pub region: String,
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    /// The `AlarmRule` as given (it parsed when it was put).
    pub rule: String,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub state: AlarmState,
    /// `AlarmConfigurationUpdatedTimestamp`, epoch ms.
    pub configuration_updated_ms: i64,
}

/// Everything CloudWatch keeps besides the metric store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CloudWatchState {
    /// Metric alarms by ARN.
    pub alarms: BTreeMap<String, AlarmRecord>,
    /// Composite alarms by ARN.
    #[serde(default)]
    pub composites: BTreeMap<String, CompositeRecord>,
    /// History items, oldest first.
    pub history: Vec<HistoryEntry>,
    /// Tags by alarm ARN.
    pub tags: BTreeMap<String, Vec<Tag>>,
}

/// A state change whose actions are due.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    /// The alarm after the change.
    pub record: AlarmRecord,
    pub old: AlarmState,
}

impl StateChange {
    /// The action ARNs the new state runs: none while actions are disabled.
    /// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DisableAlarmActions.html>
    pub fn actions(&self) -> Vec<String> {
        let alarm = &self.record.alarm;
        let actions = [&alarm.alarm_actions, &alarm.ok_actions, &alarm.insufficient_data_actions];
        state_actions(alarm.actions_enabled, self.record.state.state_value, actions)
    }
}

/// The actions `state` runs given an alarm's ALARM, OK and
/// INSUFFICIENT_DATA actions: none while actions are disabled. Metric and
/// composite alarms alike.
fn state_actions(enabled: bool, state: StateValue, [alarm, ok, insufficient]: [&Vec<String>; 3]) -> Vec<String> {
    if !enabled {
        return Vec::new();
    }
    match state {
        StateValue::Alarm => alarm.clone(),
        StateValue::Ok => ok.clone(),
        StateValue::InsufficientData => insufficient.clone(),
    }
}

/// A composite alarm's state change whose actions are due.
#[derive(Debug, Clone, PartialEq)]
pub struct CompositeChange {
    /// The composite alarm after the change.
    pub record: CompositeRecord,
    pub old: AlarmState,
}

impl CompositeChange {
    /// The action ARNs the new state runs: none while actions are disabled.
    pub fn actions(&self) -> Vec<String> {
        let record = &self.record;
        let actions = [&record.alarm_actions, &record.ok_actions, &record.insufficient_data_actions];
        state_actions(record.actions_enabled, record.state.state_value, actions)
    }
}

/// The `Action` history item of one action run for the state `state`.
fn action_item(
    name: &str,
    state: &AlarmState,
    action_arn: &str,
    outcome: Result<&str, &str>,
    now: i64,
) -> AlarmHistoryItem {
    alarm::history::action_executed(
        name,
        action_arn,
        outcome.is_ok(),
        state.state_updated_timestamp_ms,
        outcome.ok(),
        now,
    )
}

/// `arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`.
pub fn alarm_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}")
}

impl CloudWatchState {
    /// The alarm named `name` in `region`.
    pub fn alarm(&self, region: &str, name: &str) -> Option<&AlarmRecord> {
        self.alarms.values().find(|record| record.region == region && record.alarm.alarm_name == name)
    }

    /// The composite alarm named `name` in `region`.
    pub fn composite(&self, region: &str, name: &str) -> Option<&CompositeRecord> {
        self.composites.values().find(|record| record.region == region && record.name == name)
    }

    /// The state of the alarm (metric or composite) a rule names, by name or ARN.
    fn state_named(&self, region: &str, name_or_arn: &str) -> Option<StateValue> {
        if name_or_arn.starts_with("arn:") {
            let metric = self.alarms.get(name_or_arn).map(|r| r.state.state_value);
            return metric.or_else(|| self.composites.get(name_or_arn).map(|r| r.state.state_value));
        }
        let metric = self.alarm(region, name_or_arn).map(|r| r.state.state_value);
        metric.or_else(|| self.composite(region, name_or_arn).map(|r| r.state.state_value))
    }

    /// Re-evaluates every composite alarm's rule against the states of the
    /// alarms it names, recording each transition; returns the transitions
    /// whose actions the caller runs. A composite naming another composite
    /// sees that one's new state on the next pass; passes stop when nothing
    /// changes, and after as many passes as there are composites (a cycle,
    /// which AWS also stops evaluating).
    pub fn settle_composites(&mut self, now: i64) -> Vec<CompositeChange> {
        use keywatch_domain::alarm::composite::AlarmRule;
        let mut changes = Vec::new();
        for _ in 0..=self.composites.len() {
            let mut next = Vec::new();
            for record in self.composites.values() {
                let Ok(rule) = AlarmRule::parse(&record.rule) else { continue };
                let holds = rule.holds(&|name: &str| self.state_named(&record.region, name));
                let value = if holds { StateValue::Alarm } else { StateValue::Ok };
                if value != record.state.state_value {
                    let reason = format!("The alarm rule evaluated to {}", if holds { "TRUE" } else { "FALSE" });
                    next.push((record.arn.clone(), value, reason));
                }
            }
            if next.is_empty() {
                break;
            }
            for (arn, value, reason) in next {
                let Some(record) = self.composites.get_mut(&arn) else { continue };
                let new = AlarmState {
                    state_value: value,
                    state_reason: reason,
                    state_reason_data: None,
                    state_updated_timestamp_ms: now,
                };
                let old = std::mem::replace(&mut record.state, new);
                let change = CompositeChange { record: record.clone(), old };
                let mut item = alarm::history::state_updated(&change.record.name, &change.old, &change.record.state);
                item.alarm_type = "CompositeAlarm".to_owned();
                let region = change.record.region.clone();
                self.push_history(&region, item, now);
                changes.push(change);
            }
        }
        changes
    }

    /// Records how a composite alarm's action went, as an `Action` history item.
    pub fn record_composite_action(
        &mut self,
        change: &CompositeChange,
        action_arn: &str,
        outcome: Result<&str, &str>,
        now: i64,
    ) {
        let record = &change.record;
        let item = action_item(&record.name, &record.state, action_arn, outcome, now);
        let item = AlarmHistoryItem { alarm_type: "CompositeAlarm".to_owned(), ..item };
        self.push_history(&record.region, item, now);
    }

    fn alarm_mut(&mut self, region: &str, name: &str) -> Option<&mut AlarmRecord> {
        self.alarms.values_mut().find(|record| record.region == region && record.alarm.alarm_name == name)
    }

    /// Appends a history item, forgetting those past retention.
    pub fn push_history(&mut self, region: &str, item: AlarmHistoryItem, now: i64) {
        self.history.retain(|entry| entry.item.timestamp_ms >= now - HISTORY_RETENTION_MS);
        self.history.push(HistoryEntry { region: region.to_owned(), item });
    }

    /// Records how an alarm action went, as an `Action` history item.
    pub fn record_action(&mut self, change: &StateChange, action_arn: &str, outcome: Result<&str, &str>, now: i64) {
        let item = action_item(&change.record.alarm.alarm_name, &change.record.state, action_arn, outcome, now);
        self.push_history(&change.record.region, item, now);
    }

    /// Evaluates every alarm whose evaluation instant has come since its
    /// last evaluation, against the metric store; returns the state changes
    /// (history already recorded) whose actions the caller runs.
    pub fn evaluate_due(&mut self, metrics: &MetricStore, now: i64) -> Vec<StateChange> {
        let mut changes = Vec::new();
        let mut items = Vec::new();
        for record in self.alarms.values_mut() {
            let Ok(instant) = alarm::evaluation_instant_ms(&record.alarm, now) else { continue };
            if record.last_evaluated_ms.is_some_and(|last| last >= instant) {
                continue;
            }
            record.last_evaluated_ms = Some(instant);
            let span = i64::from(record.alarm.period) * 1_000 * alarm::evaluation_range_len(&record.alarm) as i64;
            let metric = MetricId {
                namespace: record.alarm.namespace.clone(),
                metric_name: record.alarm.metric_name.clone(),
                dimensions: record.alarm.dimensions.iter().map(|d| (d.name.clone(), d.value.clone())).collect(),
            };
            // Raw datapoints where kept (3 hours), statistic sets beyond.
            let samples: Vec<MetricSample> = metrics
                .samples(&metric, instant - span, instant, now)
                .into_iter()
                .filter_map(|sample| match sample {
                    Sample::Raw(point) => (record.unit.is_none() || point.unit == record.unit)
                        .then_some(MetricSample::Value { timestamp_ms: point.timestamp, value: point.value }),
                    Sample::Rollup { start, rollup, .. } => (record.unit.is_none() || rollup.unit == record.unit)
                        .then_some(MetricSample::StatisticSet {
                            timestamp_ms: start,
                            sample_count: rollup.sample_count,
                            sum: rollup.sum,
                            minimum: rollup.minimum,
                            maximum: rollup.maximum,
                        }),
                })
                .collect();
            let evaluation = match alarm::evaluate(&record.alarm, &samples, now, &record.state) {
                Ok(evaluation) => evaluation,
                Err(error) => {
                    tracing::warn!(alarm = %record.arn, %error, "alarm evaluation failed");
                    continue;
                }
            };
            if evaluation.changed {
                let old = std::mem::replace(&mut record.state, evaluation.state);
                items.push((
                    record.region.clone(),
                    alarm::history::state_updated(&record.alarm.alarm_name, &old, &record.state),
                ));
                changes.push(StateChange { record: record.clone(), old });
            }
        }
        for (region, item) in items {
            self.push_history(&region, item, now);
        }
        changes
    }

    /// SetAlarmState: sets the state until the next evaluation says
    /// otherwise, and runs the actions of a change.
    /// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html>
    pub fn set_state(
        &mut self,
        region: &str,
        name: &str,
        state_value: StateValue,
        reason: &str,
        reason_data: Option<alarm::StateReasonData>,
        now: i64,
    ) -> Option<Option<StateChange>> {
        let record = self.alarm_mut(region, name)?;
        let new = AlarmState {
            state_value,
            state_reason: reason.to_owned(),
            state_reason_data: reason_data,
            state_updated_timestamp_ms: now,
        };
        if record.state.state_value == state_value {
            // Same value: AWS updates the reason but records no transition.
            record.state.state_reason = new.state_reason;
            return Some(None);
        }
        let old = std::mem::replace(&mut record.state, new);
        let change = StateChange { record: record.clone(), old };
        let item = alarm::history::state_updated(name, &change.old, &change.record.state);
        self.push_history(region, item, now);
        Some(Some(change))
    }
}

/// What CloudWatch publishes to an SNS topic for a state change.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmNotification {
    /// `ALARM: "name" in Asia Pacific (Sydney)`.
    pub subject: String,
    /// The JSON alarm message (`email-json`, SQS, HTTP(S) and the rest).
    pub message: String,
    /// The readable e-mail `email` subscribers get instead of the JSON.
    pub email_text: String,
}

/// The notification for a state change. JSON message fields as in "Using
/// Amazon CloudWatch alarms" (alarm notifications):
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>;
/// the e-mail text as [`keywatch_domain::alarm::email`] reproduces it.
pub fn notification(change: &StateChange, account: &str) -> AlarmNotification {
    let record = &change.record;
    let alarm = &record.alarm;
    let email = alarm::email::AlarmEmail {
        alarm,
        region: &record.region,
        alarm_arn: &record.arn,
        account,
        unit: record.unit.as_deref(),
        old: change.old.state_value,
        new: &record.state,
    };
    let (statistic_type, statistic) = match (&alarm.statistic, &alarm.extended_statistic) {
        (Some(statistic), _) => ("Statistic", statistic.as_str().to_uppercase()),
        (None, Some(extended)) => ("ExtendedStatistic", extended.as_str().to_owned()),
        (None, None) => ("Statistic", String::new()),
    };
    let dimensions: Vec<serde_json::Value> =
        alarm.dimensions.iter().map(|d| serde_json::json!({"value": d.value, "name": d.name})).collect();
    let trigger = ordered(vec![
        ("MetricName", json(alarm.metric_name.clone())),
        ("Namespace", json(alarm.namespace.clone())),
        ("StatisticType", json(statistic_type)),
        ("Statistic", json(statistic)),
        ("Unit", json(record.unit.clone())),
        ("Dimensions", json(dimensions)),
        ("Period", json(alarm.period)),
        ("EvaluationPeriods", json(alarm.evaluation_periods)),
        ("DatapointsToAlarm", json(alarm.effective_datapoints_to_alarm())),
        ("ComparisonOperator", json(alarm.comparison_operator.as_str())),
        ("Threshold", java_double(alarm.threshold)),
        ("TreatMissingData", json(alarm.treat_missing_data.as_str())),
        ("EvaluateLowSampleCountPercentile", json("")),
    ]);
    let mut members = common_members(
        &MessageAlarm {
            name: &alarm.alarm_name,
            description: alarm.alarm_description.as_deref(),
            arn: &record.arn,
            region: &record.region,
            configuration_updated_ms: record.configuration_updated_ms,
            state: &record.state,
            actions: [&alarm.alarm_actions, &alarm.ok_actions, &alarm.insufficient_data_actions],
        },
        &change.old,
        account,
    );
    members.push(("Trigger", trigger));
    let message = ordered(members);
    AlarmNotification { subject: email.subject(), message, email_text: email.body() }
}

/// What metric and composite alarms' messages both say about the alarm.
struct MessageAlarm<'a> {
    name: &'a str,
    description: Option<&'a str>,
    arn: &'a str,
    region: &'a str,
    configuration_updated_ms: i64,
    state: &'a AlarmState,
    /// ALARM, OK and INSUFFICIENT_DATA actions.
    actions: [&'a Vec<String>; 3],
}

/// The alarm message's members up to `InsufficientDataActions`, in AWS's
/// order; each kind of alarm appends its own (`Trigger`, `AlarmRule`).
fn common_members(alarm: &MessageAlarm<'_>, old: &AlarmState, account: &str) -> Vec<(&'static str, String)> {
    let [alarm_actions, ok_actions, insufficient_data_actions] = alarm.actions;
    vec![
        ("AlarmName", json(alarm.name)),
        ("AlarmDescription", json(alarm.description)),
        ("AWSAccountId", json(account)),
        (
            "AlarmConfigurationUpdatedTimestamp",
            json(alarm::reason::format_aws_timestamp(alarm.configuration_updated_ms)),
        ),
        ("NewStateValue", json(alarm.state.state_value.as_str())),
        ("NewStateReason", json(alarm.state.state_reason.clone())),
        ("StateChangeTime", json(alarm::reason::format_aws_timestamp(alarm.state.state_updated_timestamp_ms))),
        ("Region", json(alarm::email::region_name(alarm.region))),
        ("AlarmArn", json(alarm.arn)),
        ("OldStateValue", json(old.state_value.as_str())),
        ("OKActions", json(ok_actions.clone())),
        ("AlarmActions", json(alarm_actions.clone())),
        ("InsufficientDataActions", json(insufficient_data_actions.clone())),
    ]
}

/// The notification for a composite alarm's state change: the alarm
/// message's common members (as for a metric alarm) with the composite's
/// `AlarmRule` in place of the metric `Trigger`.
pub fn composite_notification(change: &CompositeChange, account: &str) -> AlarmNotification {
    let record = &change.record;
    let region_name = alarm::email::region_name(&record.region);
    let mut members = common_members(
        &MessageAlarm {
            name: &record.name,
            description: record.description.as_deref(),
            arn: &record.arn,
            region: &record.region,
            configuration_updated_ms: record.configuration_updated_ms,
            state: &record.state,
            actions: [&record.alarm_actions, &record.ok_actions, &record.insufficient_data_actions],
        },
        &change.old,
        account,
    );
    members.push(("AlarmRule", json(record.rule.clone())));
    let message = ordered(members);
    let subject = format!("{}: \"{}\" in {region_name}", record.state.state_value.as_str(), record.name);
    let email_text = format!(
        "You are receiving this email because your Amazon CloudWatch composite alarm \"{}\" in the {region_name} \
         region has entered the {} state, because \"{}\" at \"{}\".\n\nAlarm rule: {}\n",
        record.name,
        record.state.state_value.as_str(),
        record.state.state_reason,
        alarm::reason::format_aws_timestamp(record.state.state_updated_timestamp_ms),
        record.rule,
    );
    AlarmNotification { subject, message, email_text }
}

/// A number as Java prints doubles (`1.0`), like AWS's message.
fn java_double(value: f64) -> String {
    alarm::reason::format_java_double(value)
}

fn json(value: impl Into<serde_json::Value>) -> String {
    value.into().to_string()
}

/// A JSON object with members in the order given (AWS's order; serde_json's
/// map would sort them). Values are JSON texts already.
fn ordered(members: Vec<(&str, String)>) -> String {
    let body: Vec<String> =
        members.into_iter().map(|(name, text)| format!("{}:{text}", serde_json::Value::from(name))).collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests;
