//! CloudWatch Logs over AWS JSON 1.1 (`X-Amz-Target: Logs_20140328.<Operation>`):
//! typed requests, their outputs as [`Value`]s, and what CloudTrail records.
//!
//! Shapes: <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_Operations.html>.
//! CloudTrail does not log the data-plane calls (PutLogEvents, GetLogEvents,
//! FilterLogEvents): <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/logging_cw_api_calls_cwl.html>.

use keywatch_domain::filter_pattern::FilterPattern;
use serde::Deserialize;

use super::{InputLogEvent, LogGroup, LogsState, MetricFilter, MetricTransformation, group_not_found};
use crate::error::AwsError;
use crate::metrics::MetricStore;
use crate::protocol::value::Value;
use crate::service::{self, Audit, AuditResource, CallContext, Handled, decode_json};

/// Inputs naming a log group by `logGroupName` or `logGroupIdentifier`
/// (a name or an ARN).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRef {
    pub log_group_name: Option<String>,
    pub log_group_identifier: Option<String>,
}

impl GroupRef {
    fn name(&self) -> Result<String, AwsError> {
        if let Some(name) = &self.log_group_name {
            return Ok(name.clone());
        }
        match &self.log_group_identifier {
            Some(identifier) if identifier.starts_with("arn:") => {
                crate::cloudtrail::parse_log_group_arn(identifier).map(|(_, name)| name).ok_or_else(group_not_found)
            }
            Some(identifier) => Ok(identifier.clone()),
            None => Err(AwsError::sender(
                "InvalidParameterException",
                "Either logGroupName or logGroupIdentifier must be given.",
            )),
        }
    }
}

/// CreateLogGroup's and DeleteLogGroup's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroupNameInput {
    pub log_group_name: String,
}

/// DescribeLogGroups' input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsInput {
    pub log_group_name_prefix: Option<String>,
    pub log_group_name_pattern: Option<String>,
    pub limit: Option<i64>,
    pub next_token: Option<String>,
}

/// PutRetentionPolicy's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionInput {
    pub log_group_name: String,
    pub retention_in_days: i64,
}

/// CreateLogStream's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStreamInput {
    pub log_group_name: String,
    pub log_stream_name: String,
}

/// DescribeLogStreams' input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsInput {
    #[serde(flatten)]
    pub group: GroupRef,
    pub log_stream_name_prefix: Option<String>,
    pub order_by: Option<String>,
    pub descending: Option<bool>,
    pub limit: Option<i64>,
    pub next_token: Option<String>,
}

/// PutLogEvents' input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutLogEventsInput {
    pub log_group_name: String,
    pub log_stream_name: String,
    pub log_events: Vec<InputLogEvent>,
}

/// GetLogEvents' input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsInput {
    #[serde(flatten)]
    pub group: GroupRef,
    pub log_stream_name: String,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
    pub start_from_head: Option<bool>,
}

/// FilterLogEvents' input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsInput {
    #[serde(flatten)]
    pub group: GroupRef,
    pub log_stream_names: Option<Vec<String>>,
    pub log_stream_name_prefix: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub filter_pattern: Option<String>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
}

/// PutMetricFilter's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutMetricFilterInput {
    pub log_group_name: String,
    pub filter_name: String,
    pub filter_pattern: String,
    pub metric_transformations: Vec<MetricTransformation>,
}

/// DescribeMetricFilters' input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeMetricFiltersInput {
    pub log_group_name: Option<String>,
    pub filter_name_prefix: Option<String>,
    pub metric_name: Option<String>,
    pub metric_namespace: Option<String>,
    pub limit: Option<i64>,
    pub next_token: Option<String>,
}

/// DeleteMetricFilter's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteMetricFilterInput {
    pub log_group_name: String,
    pub filter_name: String,
}

/// TestMetricFilter's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestMetricFilterInput {
    pub filter_pattern: String,
    pub log_event_messages: Vec<String>,
}

/// A decoded CloudWatch Logs request.
#[derive(Debug, Clone, PartialEq)]
pub enum LogsRequest {
    CreateLogGroup(LogGroupNameInput),
    DeleteLogGroup(LogGroupNameInput),
    DescribeLogGroups(DescribeLogGroupsInput),
    PutRetentionPolicy(RetentionInput),
    DeleteRetentionPolicy(LogGroupNameInput),
    CreateLogStream(LogStreamInput),
    DescribeLogStreams(DescribeLogStreamsInput),
    PutLogEvents(PutLogEventsInput),
    GetLogEvents(GetLogEventsInput),
    FilterLogEvents(FilterLogEventsInput),
    PutMetricFilter(PutMetricFilterInput),
    DescribeMetricFilters(DescribeMetricFiltersInput),
    DeleteMetricFilter(DeleteMetricFilterInput),
    TestMetricFilter(TestMetricFilterInput),
}

impl LogsRequest {
    /// Decodes `input` for `operation`; `Ok(None)` for one the sandbox lacks.
    pub fn decode(operation: &str, input: &serde_json::Value) -> Result<Option<LogsRequest>, AwsError> {
        Ok(Some(match operation {
            "CreateLogGroup" => LogsRequest::CreateLogGroup(decode_json(input)?),
            "DeleteLogGroup" => LogsRequest::DeleteLogGroup(decode_json(input)?),
            "DescribeLogGroups" => LogsRequest::DescribeLogGroups(decode_json(input)?),
            "PutRetentionPolicy" => LogsRequest::PutRetentionPolicy(decode_json(input)?),
            "DeleteRetentionPolicy" => LogsRequest::DeleteRetentionPolicy(decode_json(input)?),
            "CreateLogStream" => LogsRequest::CreateLogStream(decode_json(input)?),
            "DescribeLogStreams" => LogsRequest::DescribeLogStreams(decode_json(input)?),
            "PutLogEvents" => LogsRequest::PutLogEvents(decode_json(input)?),
            "GetLogEvents" => LogsRequest::GetLogEvents(decode_json(input)?),
            "FilterLogEvents" => LogsRequest::FilterLogEvents(decode_json(input)?),
            "PutMetricFilter" => LogsRequest::PutMetricFilter(decode_json(input)?),
            "DescribeMetricFilters" => LogsRequest::DescribeMetricFilters(decode_json(input)?),
            "DeleteMetricFilter" => LogsRequest::DeleteMetricFilter(decode_json(input)?),
            "TestMetricFilter" => LogsRequest::TestMetricFilter(decode_json(input)?),
            _ => return Ok(None),
        }))
    }
}

/// Whether CloudTrail records `operation` and whether it is read-only.
fn audited(operation: &str) -> Option<bool> {
    match operation {
        "PutLogEvents" | "GetLogEvents" | "FilterLogEvents" => None,
        "DescribeLogGroups" | "DescribeLogStreams" | "DescribeMetricFilters" | "TestMetricFilter" => Some(true),
        _ => Some(false),
    }
}

/// Runs a CloudWatch Logs call; `None` for an operation the sandbox lacks.
pub fn call(
    state: &mut LogsState,
    metrics: &mut MetricStore,
    ctx: &CallContext,
    operation: &str,
    input: &serde_json::Value,
) -> Option<Handled> {
    let expired = state.enforce_retention(ctx.now);
    let request = LogsRequest::decode(operation, input);
    let read_only = audited(operation);
    let request = match request {
        Ok(Some(request)) => request,
        Ok(None) => return None,
        Err(error) => {
            let audit = read_only.map(|read_only| Audit {
                request_parameters: service::request_parameters(input),
                read_only,
                ..Audit::default()
            });
            return Some(Handled { result: Err(error), audit, mutated: expired });
        }
    };
    let result = run(state, metrics, ctx, &request);
    let writes = !matches!(
        request,
        LogsRequest::DescribeLogGroups(_)
            | LogsRequest::DescribeLogStreams(_)
            | LogsRequest::DescribeMetricFilters(_)
            | LogsRequest::TestMetricFilter(_)
            | LogsRequest::GetLogEvents(_)
            | LogsRequest::FilterLogEvents(_)
    );
    let audit = read_only.map(|read_only| {
        let resources = match input.get("logGroupName").and_then(|name| name.as_str()) {
            Some(name) => {
                vec![AuditResource { resource_type: "AWS::Logs::LogGroup".into(), arn: group_arn(ctx, name) }]
            }
            None => Vec::new(),
        };
        Audit {
            request_parameters: service::request_parameters(input),
            response_elements: result.as_ref().ok().filter(|_| !read_only).and_then(service::response_elements),
            resources,
            read_only,
        }
    });
    Some(Handled { mutated: expired || (writes && result.is_ok()), result, audit })
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>` (without `:*`).
pub fn group_arn(ctx: &CallContext, name: &str) -> String {
    format!("arn:{}:logs:{}:{}:log-group:{name}", ctx.partition, ctx.region, ctx.account())
}

fn limit(requested: Option<i64>, max: i64, field: &str) -> Result<usize, AwsError> {
    match requested {
        None => Ok(max as usize),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(AwsError::sender(
            "InvalidParameterException",
            format!(
                "1 validation error detected: Value '{n}' at '{field}' failed to satisfy constraint: Member must have value between 1 and {max}"
            ),
        )),
    }
}

fn token_index(token: Option<&str>) -> Result<usize, AwsError> {
    match token {
        None => Ok(0),
        Some(token) => token
            .parse()
            .map_err(|_| AwsError::sender("InvalidParameterException", "The specified nextToken is invalid.")),
    }
}

fn run(
    state: &mut LogsState,
    metrics: &mut MetricStore,
    ctx: &CallContext,
    request: &LogsRequest,
) -> Result<Value, AwsError> {
    let region = ctx.region.as_str();
    Ok(match request {
        LogsRequest::CreateLogGroup(input) => {
            state.create_group(region, &input.log_group_name, ctx.now)?;
            Value::structure()
        }
        LogsRequest::DeleteLogGroup(input) => {
            state.delete_group(region, &input.log_group_name)?;
            Value::structure()
        }
        LogsRequest::DescribeLogGroups(input) => {
            let limit = limit(input.limit, 50, "limit")?;
            let start = token_index(input.next_token.as_deref())?;
            let pattern = input.log_group_name_pattern.as_ref().map(|p| p.to_lowercase());
            let groups: Vec<&LogGroup> = state
                .groups(region)
                .filter(|group| {
                    input.log_group_name_prefix.as_ref().is_none_or(|prefix| group.name.starts_with(prefix.as_str()))
                })
                .filter(|group| pattern.as_ref().is_none_or(|p| group.name.to_lowercase().contains(p.as_str())))
                .collect();
            let entries: Vec<Value> =
                groups.iter().skip(start).take(limit).map(|group| describe_group(ctx, group)).collect();
            let next = (groups.len() > start + limit).then(|| (start + limit).to_string());
            Value::structure().with("logGroups", entries).with("nextToken", next.map_or(Value::Null, Value::String))
        }
        LogsRequest::PutRetentionPolicy(input) => {
            state.put_retention(region, &input.log_group_name, input.retention_in_days, ctx.now)?;
            Value::structure()
        }
        LogsRequest::DeleteRetentionPolicy(input) => {
            state.delete_retention(region, &input.log_group_name)?;
            Value::structure()
        }
        LogsRequest::CreateLogStream(input) => {
            state.create_stream(region, &input.log_group_name, &input.log_stream_name, ctx.now)?;
            Value::structure()
        }
        LogsRequest::DescribeLogStreams(input) => {
            let group = state.group(region, &input.group.name()?)?;
            let limit = limit(input.limit, 50, "limit")?;
            let start = token_index(input.next_token.as_deref())?;
            let by_time = input.order_by.as_deref() == Some("LastEventTime");
            if by_time && input.log_stream_name_prefix.is_some() {
                // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html
                return Err(AwsError::sender(
                    "InvalidParameterException",
                    "Cannot order by LastEventTime with a logStreamNamePrefix.",
                ));
            }
            let mut streams: Vec<_> = group
                .streams
                .values()
                .filter(|stream| {
                    input.log_stream_name_prefix.as_ref().is_none_or(|prefix| stream.name.starts_with(prefix.as_str()))
                })
                .collect();
            if by_time {
                streams.sort_by_key(|stream| stream.summary.last_timestamp.unwrap_or(0));
            }
            if input.descending == Some(true) {
                streams.reverse();
            }
            let arn_prefix = group_arn(ctx, &group.name);
            let entries: Vec<Value> = streams
                .iter()
                .skip(start)
                .take(limit)
                .map(|stream| {
                    let optional = |at: Option<i64>| at.map_or(Value::Null, Value::Integer);
                    Value::structure()
                        .with("logStreamName", stream.name.as_str())
                        .with("creationTime", stream.creation_time)
                        .with("firstEventTimestamp", optional(stream.summary.first_timestamp))
                        .with("lastEventTimestamp", optional(stream.summary.last_timestamp))
                        .with("lastIngestionTime", optional(stream.last_ingestion_time))
                        .with("arn", format!("{arn_prefix}:log-stream:{}", stream.name))
                        .with("storedBytes", 0i64)
                })
                .collect();
            let next = (streams.len() > start + limit).then(|| (start + limit).to_string());
            Value::structure().with("logStreams", entries).with("nextToken", next.map_or(Value::Null, Value::String))
        }
        LogsRequest::PutLogEvents(input) => {
            let rejected = state.ingest(
                &super::StreamTarget {
                    region,
                    group: &input.log_group_name,
                    stream: &input.log_stream_name,
                    create_stream: false,
                },
                input.log_events.clone(),
                ctx.now,
                metrics,
            )?;
            let index = |i: Option<usize>| i.map_or(Value::Null, |i| Value::Integer(i as i64));
            let info = if rejected == super::Rejected::default() {
                Value::Null
            } else {
                Value::structure()
                    .with("tooNewLogEventStartIndex", index(rejected.too_new_start_index))
                    .with("tooOldLogEventEndIndex", index(rejected.too_old_end_index))
                    .with("expiredLogEventEndIndex", index(rejected.expired_end_index))
            };
            Value::structure()
                .with("nextSequenceToken", format!("{:056}", state.next_event_id))
                .with("rejectedLogEventsInfo", info)
        }
        LogsRequest::GetLogEvents(input) => get_log_events(state, ctx, input)?,
        LogsRequest::FilterLogEvents(input) => filter_log_events(state, ctx, input)?,
        LogsRequest::PutMetricFilter(input) => {
            let filter = MetricFilter {
                name: input.filter_name.clone(),
                pattern: input.filter_pattern.clone(),
                transformations: input.metric_transformations.clone(),
                creation_time: ctx.now,
            };
            state.put_metric_filter(region, &input.log_group_name, filter)?;
            Value::structure()
        }
        LogsRequest::DescribeMetricFilters(input) => {
            if input.metric_name.is_some() != input.metric_namespace.is_some() {
                return Err(AwsError::sender(
                    "InvalidParameterException",
                    "metricName and metricNamespace must be given together.",
                ));
            }
            let groups: Vec<&LogGroup> = match &input.log_group_name {
                Some(name) => vec![state.group(region, name)?],
                None => state.groups(region).collect(),
            };
            let filters: Vec<(&LogGroup, &MetricFilter)> = groups
                .into_iter()
                .flat_map(|group| group.metric_filters.values().map(move |filter| (group, filter)))
                .filter(|(_, filter)| {
                    input.filter_name_prefix.as_ref().is_none_or(|prefix| filter.name.starts_with(prefix.as_str()))
                })
                .filter(|(_, filter)| {
                    input.metric_name.as_ref().is_none_or(|name| {
                        filter.transformations.iter().any(|t| {
                            t.metric_name == *name && Some(&t.metric_namespace) == input.metric_namespace.as_ref()
                        })
                    })
                })
                .collect();
            let limit = limit(input.limit, 50, "limit")?;
            let start = token_index(input.next_token.as_deref())?;
            let entries: Vec<Value> = filters
                .iter()
                .skip(start)
                .take(limit)
                .map(|(group, filter)| {
                    Value::structure()
                        .with("filterName", filter.name.as_str())
                        .with("filterPattern", filter.pattern.as_str())
                        .with(
                            "metricTransformations",
                            filter.transformations.iter().map(transformation).collect::<Vec<_>>(),
                        )
                        .with("creationTime", filter.creation_time)
                        .with("logGroupName", group.name.as_str())
                })
                .collect();
            let next = (filters.len() > start + limit).then(|| (start + limit).to_string());
            Value::structure().with("metricFilters", entries).with("nextToken", next.map_or(Value::Null, Value::String))
        }
        LogsRequest::DeleteMetricFilter(input) => {
            state.delete_metric_filter(region, &input.log_group_name, &input.filter_name)?;
            Value::structure()
        }
        LogsRequest::TestMetricFilter(input) => {
            // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TestMetricFilter.html
            if input.log_event_messages.is_empty() || input.log_event_messages.len() > 50 {
                return Err(AwsError::sender(
                    "InvalidParameterException",
                    "1 validation error detected: Value at 'logEventMessages' failed to satisfy constraint: Member must have length between 1 and 50",
                ));
            }
            let pattern = FilterPattern::parse(&input.filter_pattern)
                .map_err(|error| AwsError::sender("InvalidParameterException", error.to_string()))?;
            let matches: Vec<Value> = input
                .log_event_messages
                .iter()
                .enumerate()
                .filter_map(|(index, message)| {
                    let matched = pattern.match_event(message)?;
                    let extracted = Value::Map(
                        matched.extracted_values().into_iter().map(|(k, v)| (k, Value::String(v))).collect(),
                    );
                    Some(
                        Value::structure()
                            // The reference's examples number events from 0.
                            .with("eventNumber", index as i64)
                            .with("eventMessage", message.as_str())
                            .with("extractedValues", extracted),
                    )
                })
                .collect();
            Value::structure().with("matches", matches)
        }
    })
}

fn transformation(transformation: &MetricTransformation) -> Value {
    let dimensions =
        Value::Map(transformation.dimensions.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect());
    Value::structure()
        .with("metricName", transformation.metric_name.as_str())
        .with("metricNamespace", transformation.metric_namespace.as_str())
        .with("metricValue", transformation.metric_value.as_str())
        .with("defaultValue", transformation.default_value.map_or(Value::Null, Value::Float))
        .with("dimensions", if transformation.dimensions.is_empty() { Value::Null } else { dimensions })
        .with("unit", transformation.unit.clone().map_or(Value::Null, Value::String))
}

fn describe_group(ctx: &CallContext, group: &LogGroup) -> Value {
    let arn = group_arn(ctx, &group.name);
    Value::structure()
        .with("logGroupName", group.name.as_str())
        .with("creationTime", group.creation_time)
        .with("retentionInDays", group.retention_in_days.map_or(Value::Null, Value::Integer))
        .with("metricFilterCount", group.metric_filters.len() as i64)
        .with("arn", format!("{arn}:*"))
        .with("storedBytes", group.stored_bytes())
        .with("logGroupClass", "STANDARD")
        .with("logGroupArn", arn)
}

/// GetLogEvents with `f/<n>` and `b/<n>` tokens: positions in the stream's
/// events within the time range.
fn get_log_events(state: &LogsState, ctx: &CallContext, input: &GetLogEventsInput) -> Result<Value, AwsError> {
    let group = state.group(&ctx.region, &input.group.name()?)?;
    let stream = group
        .streams
        .get(&input.log_stream_name)
        .ok_or_else(|| AwsError::sender("ResourceNotFoundException", "The specified log stream does not exist."))?;
    let limit = limit(input.limit, 10_000, "limit")?;
    let mut events = Vec::new();
    let query = super::EventQuery {
        region: &ctx.region,
        group: &group.name,
        stream: Some(&stream.name),
        start: input.start_time,
        end: input.end_time,
    };
    state.visit_events(&query, &mut |_, event| {
        events.push(event);
        true
    })?;
    let len = events.len();
    let invalid_token = || AwsError::sender("InvalidParameterException", "The specified nextToken is invalid.");
    let (from, to) = match input.next_token.as_deref() {
        Some(token) => {
            let (direction, position) = token.split_once('/').ok_or_else(invalid_token)?;
            let position: usize = position.parse().map_err(|_| invalid_token())?;
            let position = position.min(len);
            match direction {
                "f" => (position, (position + limit).min(len)),
                "b" => (position.saturating_sub(limit), position),
                _ => return Err(invalid_token()),
            }
        }
        None if input.start_from_head == Some(true) => (0, limit.min(len)),
        None => (len.saturating_sub(limit), len),
    };
    let entries: Vec<Value> = events[from..to]
        .iter()
        .map(|e| {
            Value::structure()
                .with("timestamp", e.timestamp)
                .with("message", e.message.as_str())
                .with("ingestionTime", e.ingestion_time)
        })
        .collect();
    Ok(Value::structure()
        .with("events", entries)
        .with("nextForwardToken", format!("f/{to}"))
        .with("nextBackwardToken", format!("b/{from}")))
}

/// FilterLogEvents across a group's streams, in timestamp order.
fn filter_log_events(state: &LogsState, ctx: &CallContext, input: &FilterLogEventsInput) -> Result<Value, AwsError> {
    let group = state.group(&ctx.region, &input.group.name()?)?;
    if input.log_stream_names.is_some() && input.log_stream_name_prefix.is_some() {
        return Err(AwsError::sender(
            "InvalidParameterException",
            "You cannot specify both logStreamNames and logStreamNamePrefix.",
        ));
    }
    let pattern = match input.filter_pattern.as_deref() {
        Some(text) => Some(
            FilterPattern::parse(text)
                .map_err(|error| AwsError::sender("InvalidParameterException", error.filter_log_events_message()))?,
        ),
        None => None,
    };
    let limit = limit(input.limit, 10_000, "limit")?;
    let start = token_index(input.next_token.as_deref())?;
    // FilterLogEvents' endTime is inclusive.
    let query = super::EventQuery {
        region: &ctx.region,
        group: &group.name,
        stream: None,
        start: input.start_time,
        end: input.end_time.map(|end| end.saturating_add(1)),
    };
    let wanted = |stream: &str| {
        input.log_stream_names.as_ref().is_none_or(|names| names.iter().any(|name| name == stream))
            && input.log_stream_name_prefix.as_ref().is_none_or(|prefix| stream.starts_with(prefix.as_str()))
    };
    // Matches up to the page's end and one more (to know whether a next
    // page exists): the read stops there.
    let mut found: Vec<(String, super::LogEvent)> = Vec::new();
    state.visit_events(&query, &mut |stream, event| {
        if wanted(stream) && pattern.as_ref().is_none_or(|p| p.matches(&event.message)) {
            found.push((stream.to_owned(), event));
        }
        found.len() <= start + limit
    })?;
    let entries: Vec<Value> = found
        .iter()
        .skip(start)
        .take(limit)
        .map(|(stream, e)| {
            Value::structure()
                .with("logStreamName", stream.as_str())
                .with("timestamp", e.timestamp)
                .with("message", e.message.as_str())
                .with("ingestionTime", e.ingestion_time)
                .with("eventId", e.event_id.as_str())
        })
        .collect();
    let next = (found.len() > start + limit).then(|| (start + limit).to_string());
    let searched: Vec<Value> = group
        .streams
        .keys()
        .map(|name| Value::structure().with("logStreamName", name.as_str()).with("searchedCompletely", true))
        .collect();
    Ok(Value::structure()
        .with("events", entries)
        .with("searchedLogStreams", searched)
        .with("nextToken", next.map_or(Value::Null, Value::String)))
}
