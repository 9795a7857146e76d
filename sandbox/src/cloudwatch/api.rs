//! CloudWatch's operations as typed requests, decoded from the JSON document
//! that AWS JSON 1.0 carries (or that a Smithy RPC v2 CBOR body converts to,
//! see [`crate::protocol::cbor::to_json`]), and their outputs as [`Value`]s.
//!
//! Shapes: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Operations.html>.
//! CloudTrail records the alarm operations but not PutMetricData,
//! GetMetricData, GetMetricStatistics and ListMetrics:
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/logging_cw_api_calls.html>.

use std::collections::BTreeMap;

use keywatch_domain::alarm::{self, AlarmState, MetricAlarm, StateValue, statistics};
use serde::Deserialize;

use super::{AlarmRecord, CloudWatchState, StateChange, Tag, alarm_arn};
use crate::error::AwsError;
use crate::metrics::{Datapoint, MetricStore};
use crate::protocol::value::Value;
use crate::service::{self, Audit, AuditResource, CallContext, Handled, decode_json, timestamp};

/// A metric dimension (`Value` optional only in ListMetrics filters).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DimensionInput {
    pub name: String,
    pub value: Option<String>,
}

/// One `MetricDatum` of PutMetricData.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDatum {
    pub metric_name: String,
    #[serde(default)]
    pub dimensions: Vec<DimensionInput>,
    #[serde(default, deserialize_with = "timestamp::optional")]
    pub timestamp: Option<i64>,
    pub value: Option<f64>,
    pub values: Option<Vec<f64>>,
    pub counts: Option<Vec<f64>>,
    pub unit: Option<String>,
}

/// PutMetricData's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutMetricDataInput {
    pub namespace: String,
    #[serde(default)]
    pub metric_data: Vec<MetricDatum>,
}

/// A metric as the query operations name it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metric {
    pub namespace: String,
    pub metric_name: String,
    #[serde(default)]
    pub dimensions: Vec<DimensionInput>,
}

/// GetMetricStatistics' input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricStatisticsInput {
    #[serde(flatten)]
    pub metric: Metric,
    #[serde(default, deserialize_with = "timestamp::optional")]
    pub start_time: Option<i64>,
    #[serde(default, deserialize_with = "timestamp::optional")]
    pub end_time: Option<i64>,
    pub period: u32,
    #[serde(default)]
    pub statistics: Vec<String>,
    #[serde(default)]
    pub extended_statistics: Vec<String>,
    pub unit: Option<String>,
}

/// `MetricStat` of a GetMetricData query.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStat {
    pub metric: Metric,
    pub period: u32,
    pub stat: String,
    pub unit: Option<String>,
}

/// One `MetricDataQuery`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataQuery {
    pub id: String,
    pub metric_stat: Option<MetricStat>,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub return_data: Option<bool>,
}

/// GetMetricData's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricDataInput {
    pub metric_data_queries: Vec<MetricDataQuery>,
    #[serde(default, deserialize_with = "timestamp::optional")]
    pub start_time: Option<i64>,
    #[serde(default, deserialize_with = "timestamp::optional")]
    pub end_time: Option<i64>,
    pub scan_by: Option<String>,
}

/// ListMetrics' input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMetricsInput {
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    #[serde(default)]
    pub dimensions: Vec<DimensionInput>,
}

/// PutMetricAlarm's input: the domain's alarm plus what it does not model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutMetricAlarmInput {
    #[serde(flatten)]
    pub alarm: MetricAlarm,
    pub unit: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// PutCompositeAlarm's input (the actions suppressor is not modelled).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutCompositeAlarmInput {
    pub alarm_name: String,
    pub alarm_rule: String,
    pub alarm_description: Option<String>,
    pub actions_enabled: Option<bool>,
    #[serde(default)]
    pub alarm_actions: Vec<String>,
    #[serde(default, rename = "OKActions")]
    pub ok_actions: Vec<String>,
    #[serde(default)]
    pub insufficient_data_actions: Vec<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// DescribeAlarms' input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmsInput {
    /// `MetricAlarm` and/or `CompositeAlarm`; metric alarms only when absent.
    pub alarm_types: Option<Vec<String>>,
    pub alarm_names: Option<Vec<String>>,
    pub alarm_name_prefix: Option<String>,
    pub state_value: Option<String>,
    pub action_prefix: Option<String>,
    pub max_records: Option<i64>,
    pub next_token: Option<String>,
}

/// DescribeAlarmsForMetric's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmsForMetricInput {
    #[serde(flatten)]
    pub metric: Metric,
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    pub period: Option<u32>,
    pub unit: Option<String>,
}

/// DeleteAlarms', EnableAlarmActions' and DisableAlarmActions' input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmNamesInput {
    pub alarm_names: Vec<String>,
}

/// DescribeAlarmHistory's input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmHistoryInput {
    pub alarm_name: Option<String>,
    pub history_item_type: Option<String>,
    #[serde(default, deserialize_with = "timestamp::optional")]
    pub start_date: Option<i64>,
    #[serde(default, deserialize_with = "timestamp::optional")]
    pub end_date: Option<i64>,
    pub max_records: Option<i64>,
    pub next_token: Option<String>,
    pub scan_by: Option<String>,
}

/// SetAlarmState's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetAlarmStateInput {
    pub alarm_name: String,
    pub state_value: String,
    pub state_reason: String,
    pub state_reason_data: Option<String>,
}

/// TagResource's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: String,
    pub tags: Vec<Tag>,
}

/// ListTagsForResource's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceInput {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: String,
}

/// A decoded CloudWatch request.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudWatchRequest {
    PutMetricData(PutMetricDataInput),
    GetMetricData(GetMetricDataInput),
    GetMetricStatistics(GetMetricStatisticsInput),
    ListMetrics(ListMetricsInput),
    PutMetricAlarm(Box<PutMetricAlarmInput>),
    PutCompositeAlarm(Box<PutCompositeAlarmInput>),
    DescribeAlarms(DescribeAlarmsInput),
    DescribeAlarmsForMetric(DescribeAlarmsForMetricInput),
    DeleteAlarms(AlarmNamesInput),
    DescribeAlarmHistory(DescribeAlarmHistoryInput),
    SetAlarmState(SetAlarmStateInput),
    EnableAlarmActions(AlarmNamesInput),
    DisableAlarmActions(AlarmNamesInput),
    TagResource(TagResourceInput),
    ListTagsForResource(ResourceInput),
}

impl CloudWatchRequest {
    /// Decodes `input` for `operation`; `Ok(None)` for one the sandbox lacks.
    pub fn decode(operation: &str, input: &serde_json::Value) -> Result<Option<CloudWatchRequest>, AwsError> {
        use CloudWatchRequest as R;
        Ok(Some(match operation {
            "PutMetricData" => R::PutMetricData(decode_json(input)?),
            "GetMetricData" => R::GetMetricData(decode_json(input)?),
            "GetMetricStatistics" => R::GetMetricStatistics(decode_json(input)?),
            "ListMetrics" => R::ListMetrics(decode_json(input)?),
            "PutMetricAlarm" => R::PutMetricAlarm(Box::new(decode_json(input)?)),
            "PutCompositeAlarm" => R::PutCompositeAlarm(Box::new(decode_json(input)?)),
            "DescribeAlarms" => R::DescribeAlarms(decode_json(input)?),
            "DescribeAlarmsForMetric" => R::DescribeAlarmsForMetric(decode_json(input)?),
            "DeleteAlarms" => R::DeleteAlarms(decode_json(input)?),
            "DescribeAlarmHistory" => R::DescribeAlarmHistory(decode_json(input)?),
            "SetAlarmState" => R::SetAlarmState(decode_json(input)?),
            "EnableAlarmActions" => R::EnableAlarmActions(decode_json(input)?),
            "DisableAlarmActions" => R::DisableAlarmActions(decode_json(input)?),
            "TagResource" => R::TagResource(decode_json(input)?),
            "ListTagsForResource" => R::ListTagsForResource(decode_json(input)?),
            _ => return Ok(None),
        }))
    }
}

/// Whether CloudTrail records `operation` as a management event, and if so
/// whether it is read-only.
fn audited(operation: &str) -> Option<bool> {
    match operation {
        "PutMetricData" | "GetMetricData" | "GetMetricStatistics" | "ListMetrics" => None,
        "DescribeAlarms" | "DescribeAlarmsForMetric" | "DescribeAlarmHistory" | "ListTagsForResource" => Some(true),
        _ => Some(false),
    }
}

/// Runs a CloudWatch call; `None` for an operation the sandbox lacks. The
/// state changes it caused (SetAlarmState) come back for their actions.
pub fn call(
    state: &mut CloudWatchState,
    metrics: &mut MetricStore,
    ctx: &CallContext,
    operation: &str,
    input: &serde_json::Value,
) -> Option<(Handled, Vec<StateChange>)> {
    let read_only = audited(operation);
    let audit = |result: &Result<Value, AwsError>| {
        read_only.map(|read_only| Audit {
            request_parameters: service::request_parameters(input),
            response_elements: result.as_ref().ok().filter(|_| !read_only).and_then(service::response_elements),
            resources: input
                .get("AlarmName")
                .and_then(|name| name.as_str())
                .map(|name| AuditResource {
                    resource_type: "AWS::CloudWatch::Alarm".into(),
                    arn: alarm_arn(&ctx.partition, &ctx.region, ctx.account(), name),
                })
                .into_iter()
                .collect(),
            read_only,
        })
    };
    let request = match CloudWatchRequest::decode(operation, input) {
        Ok(Some(request)) => request,
        Ok(None) => return None,
        Err(error) => {
            let result = Err(error);
            let audit = audit(&result);
            return Some((Handled { result, audit, mutated: false }, Vec::new()));
        }
    };
    let mut changes = Vec::new();
    let result = run(state, metrics, ctx, &request, &mut changes);
    let writes = read_only == Some(false) || matches!(request, CloudWatchRequest::PutMetricData(_));
    let audit = audit(&result);
    Some((Handled { mutated: writes && result.is_ok(), result, audit }, changes))
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::sender("InvalidParameterValueException", message).with_query_code("InvalidParameterValue")
}

fn not_found(message: impl Into<String>) -> AwsError {
    AwsError::sender("ResourceNotFound", message)
}

fn run(
    state: &mut CloudWatchState,
    metrics: &mut MetricStore,
    ctx: &CallContext,
    request: &CloudWatchRequest,
    changes: &mut Vec<StateChange>,
) -> Result<Value, AwsError> {
    use CloudWatchRequest as R;
    let region = ctx.region.as_str();
    match request {
        R::PutMetricData(input) => {
            put_metric_data(metrics, input, ctx.now)?;
            Ok(Value::structure())
        }
        R::GetMetricStatistics(input) => get_metric_statistics(metrics, input, ctx.now),
        R::GetMetricData(input) => get_metric_data(metrics, input, ctx.now),
        R::ListMetrics(input) => Ok(list_metrics(metrics, input)),
        R::PutMetricAlarm(input) => {
            put_metric_alarm(state, ctx, input)?;
            Ok(Value::structure())
        }
        R::PutCompositeAlarm(input) => {
            put_composite_alarm(state, ctx, input)?;
            Ok(Value::structure())
        }
        R::DescribeAlarms(input) => describe_alarms(state, region, input),
        R::DescribeAlarmsForMetric(input) => {
            let alarms: Vec<Value> = state
                .alarms
                .values()
                .filter(|r| r.region == region && matches_metric(r, input))
                .map(describe_alarm)
                .collect();
            Ok(Value::structure().with("MetricAlarms", Value::List(alarms)))
        }
        R::DeleteAlarms(input) => {
            // AWS deletes nothing when any name is unknown.
            // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html
            let mut arns = Vec::new();
            for name in &input.alarm_names {
                let arn = state.alarm(region, name).map(|r| r.arn.clone());
                match arn.or_else(|| state.composite(region, name).map(|r| r.arn.clone())) {
                    Some(arn) => arns.push(arn),
                    None => return Err(not_found(format!("Could not find alarm {name}"))),
                }
            }
            for arn in arns {
                state.alarms.remove(&arn);
                state.composites.remove(&arn);
                state.tags.remove(&arn);
            }
            Ok(Value::structure())
        }
        R::DescribeAlarmHistory(input) => describe_alarm_history(state, region, input),
        R::SetAlarmState(input) => {
            let value = parse_state_value(&input.state_value)?;
            let data =
                match &input.state_reason_data {
                    Some(text) => Some(serde_json::from_str(text).map_err(|_| {
                        AwsError::sender("InvalidFormat", "StateReasonData is not a valid JSON document")
                    })?),
                    None => None,
                };
            match state.set_state(region, &input.alarm_name, value, &input.state_reason, data, ctx.now) {
                Some(change) => {
                    changes.extend(change);
                    Ok(Value::structure())
                }
                None => Err(not_found(format!("Alarm {} not found", input.alarm_name))),
            }
        }
        R::EnableAlarmActions(input) | R::DisableAlarmActions(input) => {
            let enabled = matches!(request, R::EnableAlarmActions(_));
            for name in &input.alarm_names {
                if let Some(record) = state.alarm_mut(region, name) {
                    record.alarm.actions_enabled = enabled;
                }
            }
            Ok(Value::structure())
        }
        R::TagResource(input) => {
            if !state.alarms.contains_key(&input.resource_arn) {
                return Err(resource_not_found(&input.resource_arn));
            }
            let tags = state.tags.entry(input.resource_arn.clone()).or_default();
            for tag in &input.tags {
                tags.retain(|kept| kept.key != tag.key);
                tags.push(tag.clone());
            }
            Ok(Value::structure())
        }
        R::ListTagsForResource(input) => {
            if !state.alarms.contains_key(&input.resource_arn) {
                return Err(resource_not_found(&input.resource_arn));
            }
            let tags: Vec<Value> = state
                .tags
                .get(&input.resource_arn)
                .into_iter()
                .flatten()
                .map(|tag| Value::structure().with("Key", tag.key.as_str()).with("Value", tag.value.as_str()))
                .collect();
            Ok(Value::structure().with("Tags", Value::List(tags)))
        }
    }
}

/// PutCompositeAlarm: creates the alarm in INSUFFICIENT_DATA (the caller
/// then evaluates it at once, as AWS does) or replaces an existing one's
/// configuration, keeping its state. The rule must parse; the name must not
/// be a metric alarm's (names are unique in a Region).
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html>
fn put_composite_alarm(
    state: &mut CloudWatchState,
    ctx: &CallContext,
    input: &PutCompositeAlarmInput,
) -> Result<(), AwsError> {
    use keywatch_domain::alarm::composite::AlarmRule;
    let length = input.alarm_name.chars().count();
    if !(1..=255).contains(&length) {
        return Err(invalid("AlarmName must be 1 to 255 characters long"));
    }
    AlarmRule::parse(&input.alarm_rule).map_err(|error| AwsError::sender("ValidationError", error.to_string()))?;
    if state.alarm(&ctx.region, &input.alarm_name).is_some() {
        return Err(invalid(format!("An alarm named {} already exists as a metric alarm", input.alarm_name)));
    }
    let arn = alarm_arn(&ctx.partition, &ctx.region, ctx.account(), &input.alarm_name);
    let kept = state.composites.get(&arn).map(|existing| existing.state.clone());
    let record = super::CompositeRecord {
        region: ctx.region.clone(),
        arn: arn.clone(),
        name: input.alarm_name.clone(),
        description: input.alarm_description.clone(),
        rule: input.alarm_rule.clone(),
        actions_enabled: input.actions_enabled.unwrap_or(true),
        alarm_actions: input.alarm_actions.clone(),
        ok_actions: input.ok_actions.clone(),
        insufficient_data_actions: input.insufficient_data_actions.clone(),
        state: kept.unwrap_or(AlarmState {
            state_value: StateValue::InsufficientData,
            state_reason: "Unchecked: Initial alarm creation".to_owned(),
            state_reason_data: None,
            state_updated_timestamp_ms: ctx.now,
        }),
        configuration_updated_ms: ctx.now,
    };
    state.composites.insert(arn.clone(), record);
    if !input.tags.is_empty() {
        state.tags.insert(arn, input.tags.clone());
    }
    Ok(())
}

/// A `CompositeAlarm` as DescribeAlarms returns it.
fn describe_composite(record: &super::CompositeRecord) -> Value {
    let mut value = Value::structure()
        .with("AlarmName", record.name.as_str())
        .with("AlarmArn", record.arn.as_str())
        .with("AlarmRule", record.rule.as_str())
        .with("ActionsEnabled", record.actions_enabled)
        .with("AlarmActions", record.alarm_actions.clone())
        .with("OKActions", record.ok_actions.clone())
        .with("InsufficientDataActions", record.insufficient_data_actions.clone())
        .with("StateValue", record.state.state_value.as_str())
        .with("StateReason", record.state.state_reason.as_str())
        .with("StateUpdatedTimestamp", Value::Timestamp(record.state.state_updated_timestamp_ms))
        .with("StateTransitionedTimestamp", Value::Timestamp(record.state.state_updated_timestamp_ms))
        .with("AlarmConfigurationUpdatedTimestamp", Value::Timestamp(record.configuration_updated_ms));
    if let Some(description) = &record.description {
        value = value.with("AlarmDescription", description.as_str());
    }
    value
}

fn resource_not_found(arn: &str) -> AwsError {
    AwsError::sender("ResourceNotFoundException", format!("The specified resource {arn} does not exist."))
}

fn parse_state_value(text: &str) -> Result<StateValue, AwsError> {
    match text {
        "OK" => Ok(StateValue::Ok),
        "ALARM" => Ok(StateValue::Alarm),
        "INSUFFICIENT_DATA" => Ok(StateValue::InsufficientData),
        other => Err(invalid(format!(
            "1 validation error detected: Value '{other}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"
        ))),
    }
}

fn dimension_pairs(dimensions: &[DimensionInput]) -> Vec<(String, String)> {
    dimensions.iter().map(|d| (d.name.clone(), d.value.clone().unwrap_or_default())).collect()
}

fn put_metric_data(metrics: &mut MetricStore, input: &PutMetricDataInput, now: i64) -> Result<(), AwsError> {
    if input.namespace.starts_with("AWS/") {
        // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
        return Err(invalid("The value AWS/ for parameter Namespace is invalid."));
    }
    for datum in &input.metric_data {
        let timestamp = datum.timestamp.unwrap_or(now);
        let mut values: Vec<f64> = Vec::new();
        if let Some(value) = datum.value {
            values.push(value);
        }
        if let Some(list) = &datum.values {
            let counts = datum.counts.clone().unwrap_or_else(|| vec![1.0; list.len()]);
            if counts.len() != list.len() {
                return Err(AwsError::sender(
                    "InvalidParameterCombinationException",
                    "The Values and Counts arrays must be the same length.",
                ));
            }
            for (value, count) in list.iter().zip(counts) {
                // Each counted value is a sample of its own.
                values.extend(std::iter::repeat_n(*value, count.max(0.0) as usize));
            }
        }
        if values.iter().any(|value| !value.is_finite()) {
            return Err(invalid("The value for parameter MetricData.member.Value is not a valid number."));
        }
        for value in values {
            metrics.put(
                Datapoint {
                    namespace: input.namespace.clone(),
                    metric_name: datum.metric_name.clone(),
                    dimensions: dimension_pairs(&datum.dimensions),
                    timestamp,
                    value,
                    unit: datum.unit.clone(),
                },
                now,
            );
        }
    }
    Ok(())
}

/// What one period holds: raw values, and roll-ups of older data.
#[derive(Debug, Default)]
struct PeriodData {
    values: Vec<f64>,
    sample_count: f64,
    sum: f64,
    minimum: Option<f64>,
    maximum: Option<f64>,
    /// Whether roll-ups contributed (percentiles then cannot be computed).
    rolled_up: bool,
}

impl PeriodData {
    fn add_value(&mut self, value: f64) {
        self.values.push(value);
        self.add_set(1.0, value, value, value);
    }

    fn add_set(&mut self, count: f64, sum: f64, minimum: f64, maximum: f64) {
        self.sample_count += count;
        self.sum += sum;
        self.minimum = Some(self.minimum.map_or(minimum, |m| m.min(minimum)));
        self.maximum = Some(self.maximum.map_or(maximum, |m| m.max(maximum)));
    }
}

/// Datapoints of `metric` in `[start, end)` grouped by period start, from
/// the finest data kept for each instant; roll-ups whose resolution the
/// period is not a multiple of are left out, which is CloudWatch's rule
/// that data older than 3 hours needs periods of whole minutes, older than
/// 15 days of 5 minutes, older than 63 days of hours.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html>
fn buckets(metrics: &MetricStore, query: &BucketQuery<'_>, now: i64) -> BTreeMap<i64, (PeriodData, Option<String>)> {
    let BucketQuery { metric, unit, start, end, period } = *query;
    let id = crate::metrics::MetricId {
        namespace: metric.namespace.clone(),
        metric_name: metric.metric_name.clone(),
        dimensions: dimension_pairs(&metric.dimensions),
    };
    let period_ms = i64::from(period.max(1)) * 1_000;
    let bucket_of = |at: i64| at - (at - start).rem_euclid(period_ms);
    let mut grouped: BTreeMap<i64, (PeriodData, Option<String>)> = BTreeMap::new();
    for sample in metrics.samples(&id, start, end, now) {
        match sample {
            crate::metrics::Sample::Raw(point) => {
                if unit.is_some_and(|unit| point.unit.as_deref() != Some(unit)) {
                    continue;
                }
                let entry = grouped.entry(bucket_of(point.timestamp)).or_default();
                entry.0.add_value(point.value);
                entry.1.clone_from(&point.unit);
            }
            crate::metrics::Sample::Rollup { start: at, resolution_ms, rollup } => {
                if period_ms % resolution_ms != 0 || unit.is_some_and(|unit| rollup.unit.as_deref() != Some(unit)) {
                    continue;
                }
                let entry = grouped.entry(bucket_of(at)).or_default();
                entry.0.add_set(rollup.sample_count, rollup.sum, rollup.minimum, rollup.maximum);
                entry.0.rolled_up = true;
                entry.1.clone_from(&rollup.unit);
            }
        }
    }
    grouped
}

/// Which datapoints [`buckets`] groups.
#[derive(Clone, Copy)]
struct BucketQuery<'a> {
    metric: &'a Metric,
    unit: Option<&'a str>,
    start: i64,
    end: i64,
    period: u32,
}

/// One statistic over a period (`Sum`, `Average`, `p90`, ...);
/// percentiles need the raw values, kept for 3 hours.
fn statistic(data: &PeriodData, name: &str) -> Option<f64> {
    if data.sample_count <= 0.0 {
        return None;
    }
    match name {
        "Sum" => Some(data.sum),
        "SampleCount" => Some(data.sample_count),
        "Average" => Some(data.sum / data.sample_count),
        "Minimum" => data.minimum,
        "Maximum" => data.maximum,
        other => {
            if data.rolled_up {
                return None;
            }
            let percentile = alarm::ExtendedStatistic::parse(other).ok()?.percentile();
            statistics::percentile(&mut data.values.clone(), percentile)
        }
    }
}

fn time_range(start: Option<i64>, end: Option<i64>) -> Result<(i64, i64), AwsError> {
    match (start, end) {
        (Some(start), Some(end)) if start < end => Ok((start, end)),
        (Some(_), Some(_)) => Err(invalid("The parameter StartTime must be less than the parameter EndTime.")),
        _ => Err(AwsError::sender("MissingRequiredParameterException", "StartTime and EndTime are required.")),
    }
}

fn get_metric_statistics(metrics: &MetricStore, input: &GetMetricStatisticsInput, now: i64) -> Result<Value, AwsError> {
    let (start, end) = time_range(input.start_time, input.end_time)?;
    if input.statistics.is_empty() == input.extended_statistics.is_empty() && input.statistics.is_empty() {
        return Err(AwsError::sender(
            "MissingRequiredParameterException",
            "Must specify either Statistics or ExtendedStatistics",
        ));
    }
    let query = BucketQuery { metric: &input.metric, unit: input.unit.as_deref(), start, end, period: input.period };
    let grouped = buckets(metrics, &query, now);
    let datapoints: Vec<Value> = grouped
        .iter()
        .map(|(bucket, (values, unit))| {
            let mut point = Value::structure().with("Timestamp", Value::Timestamp(*bucket));
            for name in &input.statistics {
                if let Some(value) = statistic(values, name) {
                    point = point.with(name, value);
                }
            }
            if !input.extended_statistics.is_empty() {
                let mut extended = Value::structure();
                for name in &input.extended_statistics {
                    if let Some(value) = statistic(values, name) {
                        extended = extended.with(name, value);
                    }
                }
                point = point.with("ExtendedStatistics", extended);
            }
            point.with("Unit", unit.clone().unwrap_or_else(|| "None".to_owned()))
        })
        .collect();
    Ok(Value::structure().with("Label", input.metric.metric_name.as_str()).with("Datapoints", Value::List(datapoints)))
}

fn get_metric_data(metrics: &MetricStore, input: &GetMetricDataInput, now: i64) -> Result<Value, AwsError> {
    let (start, end) = time_range(input.start_time, input.end_time)?;
    let ascending = input.scan_by.as_deref() == Some("TimestampAscending");
    let mut results = Vec::new();
    for query in &input.metric_data_queries {
        if query.expression.is_some() {
            return Err(invalid("The Keywatch sandbox does not evaluate metric math expressions."));
        }
        let Some(stat) = &query.metric_stat else {
            return Err(invalid(format!("The query {} has neither MetricStat nor Expression.", query.id)));
        };
        if query.return_data == Some(false) {
            continue;
        }
        let wanted = BucketQuery { metric: &stat.metric, unit: stat.unit.as_deref(), start, end, period: stat.period };
        let grouped = buckets(metrics, &wanted, now);
        let mut points: Vec<(i64, f64)> = grouped
            .iter()
            .filter_map(|(bucket, (values, _))| statistic(values, &stat.stat).map(|value| (*bucket, value)))
            .collect();
        if !ascending {
            points.reverse();
        }
        results.push(
            Value::structure()
                .with("Id", query.id.as_str())
                .with("Label", query.label.clone().unwrap_or_else(|| stat.metric.metric_name.clone()))
                .with("Timestamps", Value::List(points.iter().map(|(at, _)| Value::Timestamp(*at)).collect()))
                .with("Values", Value::List(points.iter().map(|(_, value)| Value::Float(*value)).collect()))
                .with("StatusCode", "Complete"),
        );
    }
    Ok(Value::structure().with("MetricDataResults", Value::List(results)).with("Messages", Value::List(Vec::new())))
}

fn list_metrics(metrics: &MetricStore, input: &ListMetricsInput) -> Value {
    let listed: Vec<Value> = metrics
        .metrics()
        .filter(|metric| {
            input.namespace.as_ref().is_none_or(|n| *n == metric.namespace)
                && input.metric_name.as_ref().is_none_or(|m| *m == metric.metric_name)
                && input.dimensions.iter().all(|filter| {
                    metric.dimensions.iter().any(|(name, value)| {
                        *name == filter.name && filter.value.as_ref().is_none_or(|wanted| wanted == value)
                    })
                })
        })
        .map(|metric| {
            Value::structure()
                .with("Namespace", metric.namespace.as_str())
                .with("MetricName", metric.metric_name.as_str())
                .with("Dimensions", dimensions_value(&metric.dimensions))
        })
        .collect();
    Value::structure().with("Metrics", Value::List(listed))
}

fn dimensions_value(dimensions: &[(String, String)]) -> Value {
    Value::List(
        dimensions
            .iter()
            .map(|(name, value)| Value::structure().with("Name", name.as_str()).with("Value", value.as_str()))
            .collect(),
    )
}

/// PutMetricAlarm: creates the alarm in INSUFFICIENT_DATA, or replaces an
/// existing alarm's settings keeping its state.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>
fn put_metric_alarm(
    state: &mut CloudWatchState,
    ctx: &CallContext,
    input: &PutMetricAlarmInput,
) -> Result<(), AwsError> {
    if let Err(errors) = input.alarm.validate() {
        let message: Vec<String> = errors.iter().map(ToString::to_string).collect();
        return Err(invalid(message.join("; ")));
    }
    let arn = alarm_arn(&ctx.partition, &ctx.region, ctx.account(), &input.alarm.alarm_name);
    let item = match state.alarms.get_mut(&arn) {
        Some(existing) => {
            let item = alarm::history::alarm_updated(
                &existing.alarm,
                &input.alarm,
                &arn,
                existing.state.state_value,
                existing.configuration_updated_ms,
                ctx.now,
            );
            existing.alarm = input.alarm.clone();
            existing.unit.clone_from(&input.unit);
            existing.configuration_updated_ms = ctx.now;
            // A changed configuration is evaluated afresh.
            existing.last_evaluated_ms = None;
            item
        }
        None => {
            state.alarms.insert(
                arn.clone(),
                AlarmRecord {
                    region: ctx.region.clone(),
                    arn: arn.clone(),
                    alarm: input.alarm.clone(),
                    unit: input.unit.clone(),
                    state: AlarmState::initial(ctx.now),
                    configuration_updated_ms: ctx.now,
                    last_evaluated_ms: None,
                },
            );
            if !input.tags.is_empty() {
                state.tags.insert(arn.clone(), input.tags.clone());
            }
            alarm::history::alarm_created(&input.alarm, &arn, ctx.now)
        }
    };
    state.push_history(&ctx.region, item, ctx.now);
    Ok(())
}

fn matches_metric(record: &AlarmRecord, input: &DescribeAlarmsForMetricInput) -> bool {
    let alarm = &record.alarm;
    let mut dimensions: Vec<(String, String)> =
        alarm.dimensions.iter().map(|d| (d.name.clone(), d.value.clone())).collect();
    dimensions.sort();
    let mut wanted = dimension_pairs(&input.metric.dimensions);
    wanted.sort();
    alarm.namespace == input.metric.namespace
        && alarm.metric_name == input.metric.metric_name
        && dimensions == wanted
        && input.statistic.as_ref().is_none_or(|s| alarm.statistic.is_some_and(|own| own.as_str() == s))
        && input
            .extended_statistic
            .as_ref()
            .is_none_or(|s| alarm.extended_statistic.as_ref().is_some_and(|own| own.as_str() == s))
        && input.period.is_none_or(|p| p == alarm.period)
        && input.unit.as_ref().is_none_or(|u| record.unit.as_ref() == Some(u))
}

fn page_size(requested: Option<i64>) -> Result<usize, AwsError> {
    match requested {
        None => Ok(100),
        Some(n) if (1..=100).contains(&n) => Ok(n as usize),
        Some(n) => Err(invalid(format!(
            "1 validation error detected: Value '{n}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100"
        ))),
    }
}

fn token_index(token: Option<&str>) -> Result<usize, AwsError> {
    token.map_or(Ok(0), |token| {
        token.parse().map_err(|_| AwsError::sender("InvalidNextToken", "The next token is invalid."))
    })
}

fn describe_alarms(state: &CloudWatchState, region: &str, input: &DescribeAlarmsInput) -> Result<Value, AwsError> {
    let size = page_size(input.max_records)?;
    let skip = token_index(input.next_token.as_deref())?;
    // Metric alarms only unless AlarmTypes asks for composites.
    let types = input.alarm_types.clone().unwrap_or_else(|| vec!["MetricAlarm".to_owned()]);
    if let Some(other) = types.iter().find(|t| *t != "MetricAlarm" && *t != "CompositeAlarm") {
        return Err(invalid(format!(
            "1 validation error detected: Value '{other}' at 'alarmTypes' failed to satisfy constraint: Member must satisfy enum value set: [CompositeAlarm, MetricAlarm]"
        )));
    }
    let wanted = |name: &str, value: StateValue, actions: &[&String]| {
        input.alarm_names.as_ref().is_none_or(|names| names.iter().any(|n| n == name))
            && input.alarm_name_prefix.as_ref().is_none_or(|p| name.starts_with(p.as_str()))
            && input.state_value.as_ref().is_none_or(|s| value.as_str() == s)
            && input
                .action_prefix
                .as_ref()
                .is_none_or(|prefix| actions.iter().any(|arn| arn.starts_with(prefix.as_str())))
    };
    let mut metric: Vec<&AlarmRecord> = if types.iter().any(|t| t == "MetricAlarm") {
        state
            .alarms
            .values()
            .filter(|r| r.region == region)
            .filter(|r| {
                let a = &r.alarm;
                let actions: Vec<&String> =
                    a.alarm_actions.iter().chain(&a.ok_actions).chain(&a.insufficient_data_actions).collect();
                wanted(&a.alarm_name, r.state.state_value, &actions)
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut composite: Vec<&super::CompositeRecord> = if types.iter().any(|t| t == "CompositeAlarm") {
        state
            .composites
            .values()
            .filter(|r| r.region == region)
            .filter(|r| {
                let actions: Vec<&String> =
                    r.alarm_actions.iter().chain(&r.ok_actions).chain(&r.insufficient_data_actions).collect();
                wanted(&r.name, r.state.state_value, &actions)
            })
            .collect()
    } else {
        Vec::new()
    };
    metric.sort_by(|a, b| a.alarm.alarm_name.cmp(&b.alarm.alarm_name));
    composite.sort_by(|a, b| a.name.cmp(&b.name));
    // One page over metric alarms, then composites.
    let total = metric.len() + composite.len();
    let metric_page: Vec<Value> = metric.iter().skip(skip).take(size).map(|r| describe_alarm(r)).collect();
    let composite_skip = skip.saturating_sub(metric.len());
    let composite_take = size - metric_page.len();
    let composite_page: Vec<Value> =
        composite.iter().skip(composite_skip).take(composite_take).map(|r| describe_composite(r)).collect();
    let mut output = Value::structure()
        .with("MetricAlarms", Value::List(metric_page))
        .with("CompositeAlarms", Value::List(composite_page));
    if skip + size < total {
        output = output.with("NextToken", (skip + size).to_string());
    }
    Ok(output)
}

/// A `MetricAlarm` as DescribeAlarms returns it.
pub fn describe_alarm(record: &AlarmRecord) -> Value {
    let alarm = &record.alarm;
    let dimensions: Vec<(String, String)> =
        alarm.dimensions.iter().map(|d| (d.name.clone(), d.value.clone())).collect();
    let optional = |text: Option<&str>| text.map_or(Value::Null, Value::from);
    Value::structure()
        .with("AlarmName", alarm.alarm_name.as_str())
        .with("AlarmArn", record.arn.as_str())
        .with("AlarmDescription", optional(alarm.alarm_description.as_deref()))
        .with("AlarmConfigurationUpdatedTimestamp", Value::Timestamp(record.configuration_updated_ms))
        .with("ActionsEnabled", alarm.actions_enabled)
        .with("OKActions", alarm.ok_actions.clone())
        .with("AlarmActions", alarm.alarm_actions.clone())
        .with("InsufficientDataActions", alarm.insufficient_data_actions.clone())
        .with("StateValue", record.state.state_value.as_str())
        .with("StateReason", record.state.state_reason.as_str())
        .with(
            "StateReasonData",
            record.state.state_reason_data.as_ref().map_or(Value::Null, |data| Value::from(data.to_json())),
        )
        .with("StateUpdatedTimestamp", Value::Timestamp(record.state.state_updated_timestamp_ms))
        .with("MetricName", alarm.metric_name.as_str())
        .with("Namespace", alarm.namespace.as_str())
        .with("Statistic", optional(alarm.statistic.map(|s| s.as_str())))
        .with("ExtendedStatistic", optional(alarm.extended_statistic.as_ref().map(|s| s.as_str())))
        .with("Dimensions", dimensions_value(&dimensions))
        .with("Period", i64::from(alarm.period))
        .with("Unit", optional(record.unit.as_deref()))
        .with("EvaluationPeriods", i64::from(alarm.evaluation_periods))
        .with("DatapointsToAlarm", alarm.datapoints_to_alarm.map_or(Value::Null, |m| Value::Integer(i64::from(m))))
        .with("Threshold", alarm.threshold)
        .with("ComparisonOperator", alarm.comparison_operator.as_str())
        .with("TreatMissingData", alarm.treat_missing_data.as_str())
        .with("StateTransitionedTimestamp", Value::Timestamp(record.state.state_updated_timestamp_ms))
}

fn describe_alarm_history(
    state: &CloudWatchState,
    region: &str,
    input: &DescribeAlarmHistoryInput,
) -> Result<Value, AwsError> {
    let size = page_size(input.max_records)?;
    let skip = token_index(input.next_token.as_deref())?;
    let mut matching: Vec<&alarm::AlarmHistoryItem> = state
        .history
        .iter()
        .filter(|entry| entry.region == region)
        .map(|entry| &entry.item)
        .filter(|item| input.alarm_name.as_ref().is_none_or(|name| *name == item.alarm_name))
        .filter(|item| {
            input.history_item_type.as_ref().is_none_or(|kind| format!("{:?}", item.history_item_type) == *kind)
        })
        .filter(|item| input.start_date.is_none_or(|start| item.timestamp_ms >= start))
        .filter(|item| input.end_date.is_none_or(|end| item.timestamp_ms <= end))
        .collect();
    // Newest first unless asked otherwise.
    if input.scan_by.as_deref() != Some("TimestampAscending") {
        matching.reverse();
    }
    let items: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(size)
        .map(|item| {
            Value::structure()
                .with("AlarmName", item.alarm_name.as_str())
                .with("AlarmType", item.alarm_type.as_str())
                .with("Timestamp", Value::Timestamp(item.timestamp_ms))
                .with("HistoryItemType", format!("{:?}", item.history_item_type))
                .with("HistorySummary", item.history_summary.as_str())
                .with("HistoryData", item.history_data.as_str())
        })
        .collect();
    let mut output = Value::structure().with("AlarmHistoryItems", Value::List(items));
    if skip + size < matching.len() {
        output = output.with("NextToken", (skip + size).to_string());
    }
    Ok(output)
}
