//! CloudTrail over AWS JSON 1.1
//! (`X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Operation>`):
//! typed requests, their outputs as [`Value`]s, and what CloudTrail records
//! about calls to itself.
//!
//! Shapes: <https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_Operations.html>.

use serde::Deserialize;

use super::record::Record;
use super::{AdvancedEventSelector, CloudTrailState, EventSelector, Trail, bucket_policy, parse_log_group_arn};
use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::{self, Audit, AuditResource, CallContext, Handled, decode_json, timestamp};

/// CreateTrail's and UpdateTrail's input (UpdateTrail leaves out what stays).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailInput {
    pub name: String,
    pub s3_bucket_name: Option<String>,
    pub s3_key_prefix: Option<String>,
    pub sns_topic_name: Option<String>,
    pub include_global_service_events: Option<bool>,
    pub is_multi_region_trail: Option<bool>,
    pub enable_log_file_validation: Option<bool>,
    pub cloud_watch_logs_log_group_arn: Option<String>,
    pub cloud_watch_logs_role_arn: Option<String>,
    pub kms_key_id: Option<String>,
    pub is_organization_trail: Option<bool>,
}

/// Inputs that name one trail as `Name`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameInput {
    pub name: String,
}

/// DescribeTrails' input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeTrailsInput {
    pub trail_name_list: Option<Vec<String>>,
    pub include_shadow_trails: Option<bool>,
}

/// PutEventSelectors' input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutEventSelectorsInput {
    pub trail_name: String,
    pub event_selectors: Option<Vec<EventSelector>>,
    pub advanced_event_selectors: Option<Vec<AdvancedEventSelector>>,
}

/// GetEventSelectors' input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailNameInput {
    pub trail_name: String,
}

/// One LookupEvents attribute.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupAttribute {
    pub attribute_key: String,
    pub attribute_value: String,
}

/// LookupEvents' input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEventsInput {
    #[serde(default)]
    pub lookup_attributes: Vec<LookupAttribute>,
    #[serde(default, deserialize_with = "timestamp::optional")]
    pub start_time: Option<i64>,
    #[serde(default, deserialize_with = "timestamp::optional")]
    pub end_time: Option<i64>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

/// A decoded CloudTrail request.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudTrailRequest {
    CreateTrail(TrailInput),
    UpdateTrail(TrailInput),
    DeleteTrail(NameInput),
    DescribeTrails(DescribeTrailsInput),
    GetTrailStatus(NameInput),
    StartLogging(NameInput),
    StopLogging(NameInput),
    PutEventSelectors(PutEventSelectorsInput),
    GetEventSelectors(TrailNameInput),
    LookupEvents(LookupEventsInput),
}

impl CloudTrailRequest {
    /// Decodes `input` for `operation`; `Ok(None)` for one the sandbox lacks.
    pub fn decode(operation: &str, input: &serde_json::Value) -> Result<Option<CloudTrailRequest>, AwsError> {
        Ok(Some(match operation {
            "CreateTrail" => CloudTrailRequest::CreateTrail(decode_json(input)?),
            "UpdateTrail" => CloudTrailRequest::UpdateTrail(decode_json(input)?),
            "DeleteTrail" => CloudTrailRequest::DeleteTrail(decode_json(input)?),
            "DescribeTrails" => CloudTrailRequest::DescribeTrails(decode_json(input)?),
            "GetTrailStatus" => CloudTrailRequest::GetTrailStatus(decode_json(input)?),
            "StartLogging" => CloudTrailRequest::StartLogging(decode_json(input)?),
            "StopLogging" => CloudTrailRequest::StopLogging(decode_json(input)?),
            "PutEventSelectors" => CloudTrailRequest::PutEventSelectors(decode_json(input)?),
            "GetEventSelectors" => CloudTrailRequest::GetEventSelectors(decode_json(input)?),
            "LookupEvents" => CloudTrailRequest::LookupEvents(decode_json(input)?),
            _ => return Ok(None),
        }))
    }

    fn read_only(&self) -> bool {
        matches!(
            self,
            CloudTrailRequest::DescribeTrails(_)
                | CloudTrailRequest::GetTrailStatus(_)
                | CloudTrailRequest::GetEventSelectors(_)
                | CloudTrailRequest::LookupEvents(_)
        )
    }
}

/// What CreateTrail and UpdateTrail check their delivery targets against.
pub struct DeliveryTargets<'a> {
    /// Whether the log group `(region, name)` exists.
    pub log_group_exists: &'a dyn Fn(&str, &str) -> bool,
    /// The S3 bucket `name`'s policy: `None` when the bucket does not
    /// exist, `Some(None)` when it has no policy.
    pub bucket_policy: &'a dyn Fn(&str) -> Option<Option<String>>,
}

/// Runs a CloudTrail call; `None` for an operation the sandbox lacks.
pub fn call(
    state: &mut CloudTrailState,
    ctx: &CallContext,
    operation: &str,
    input: &serde_json::Value,
    targets: &DeliveryTargets<'_>,
) -> Option<Handled> {
    let request_parameters = service::request_parameters(input);
    let request = match CloudTrailRequest::decode(operation, input) {
        Ok(Some(request)) => request,
        Ok(None) => return None,
        Err(error) => {
            return Some(Handled {
                result: Err(error),
                audit: Some(Audit { request_parameters, ..Audit::default() }),
                mutated: false,
            });
        }
    };
    let read_only = request.read_only();
    let result = run(state, ctx, &request, targets);
    let response_elements = match &result {
        Ok(output) if !read_only => service::response_elements(output),
        _ => None,
    };
    let resources = match &result {
        Ok(Value::Map(members)) => members
            .iter()
            .find(|(name, _)| name == "TrailARN")
            .and_then(|(_, value)| match value {
                Value::String(arn) => {
                    Some(vec![AuditResource { resource_type: "AWS::CloudTrail::Trail".into(), arn: arn.clone() }])
                }
                _ => None,
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    Some(Handled {
        mutated: !read_only && result.is_ok(),
        result,
        audit: Some(Audit { request_parameters, response_elements, resources, read_only }),
    })
}

fn run(
    state: &mut CloudTrailState,
    ctx: &CallContext,
    request: &CloudTrailRequest,
    targets: &DeliveryTargets<'_>,
) -> Result<Value, AwsError> {
    Ok(match request {
        CloudTrailRequest::CreateTrail(input) => {
            let bucket = input.s3_bucket_name.clone().ok_or_else(|| {
                AwsError::sender(
                    "ValidationException",
                    "1 validation error detected: Value null at 's3BucketName' failed to satisfy constraint: Member must not be null",
                )
            })?;
            let mut trail = Trail {
                name: input.name.clone(),
                s3_bucket_name: bucket,
                include_global_service_events: true,
                ..Trail::default()
            };
            apply(&mut trail, input, targets, ctx, &super::trail_arn(ctx, &ctx.region, &input.name))?;
            trail_output(state.create(ctx, trail)?, ctx)
        }
        CloudTrailRequest::UpdateTrail(input) => {
            let trail = state.find_mut(ctx, &input.name)?;
            let mut updated = trail.clone();
            let arn = updated.arn.clone();
            apply(&mut updated, input, targets, ctx, &arn)?;
            *trail = updated;
            trail_output(trail, ctx)
        }
        CloudTrailRequest::DeleteTrail(input) => {
            state.delete(ctx, &input.name)?;
            Value::structure()
        }
        CloudTrailRequest::DescribeTrails(input) => {
            let mut trails = state.visible(ctx, input.include_shadow_trails.unwrap_or(true));
            if let Some(names) = input.trail_name_list.as_ref().filter(|names| !names.is_empty()) {
                trails.retain(|trail| names.iter().any(|name| *name == trail.name || *name == trail.arn));
            }
            Value::structure().with("trailList", trails.iter().map(|trail| describe(trail)).collect::<Vec<_>>())
        }
        CloudTrailRequest::GetTrailStatus(input) => {
            let trail = state.find(ctx, &input.name)?;
            let time = |at: Option<i64>| at.map_or(Value::Null, Value::Timestamp);
            let text = |at: Option<i64>| at.map_or(Value::Null, |ms| Value::String(crate::protocol::iso8601(ms)));
            Value::structure()
                .with("IsLogging", trail.is_logging)
                .with("LatestDeliveryError", trail.latest_delivery_error.clone().map_or(Value::Null, Value::String))
                .with("LatestDeliveryTime", time(trail.latest_delivery_time))
                .with(
                    "LatestCloudWatchLogsDeliveryError",
                    trail.latest_cloud_watch_logs_delivery_error.clone().map_or(Value::Null, Value::String),
                )
                .with("LatestCloudWatchLogsDeliveryTime", time(trail.latest_cloud_watch_logs_delivery_time))
                .with("StartLoggingTime", time(trail.start_logging_time))
                .with("StopLoggingTime", time(trail.stop_logging_time))
                .with("TimeLoggingStarted", text(trail.start_logging_time))
                .with("TimeLoggingStopped", text(trail.stop_logging_time))
        }
        CloudTrailRequest::StartLogging(input) => {
            let trail = state.find_mut(ctx, &input.name)?;
            if !trail.is_logging {
                trail.is_logging = true;
                trail.start_logging_time = Some(ctx.now);
            }
            Value::structure()
        }
        CloudTrailRequest::StopLogging(input) => {
            let trail = state.find_mut(ctx, &input.name)?;
            if trail.is_logging {
                trail.is_logging = false;
                trail.stop_logging_time = Some(ctx.now);
            }
            Value::structure()
        }
        CloudTrailRequest::PutEventSelectors(input) => {
            let trail = state.find_mut(ctx, &input.trail_name)?;
            match (&input.event_selectors, &input.advanced_event_selectors) {
                (Some(selectors), None) => {
                    check_selectors(selectors)?;
                    trail.event_selectors = Some(selectors.clone());
                    trail.advanced_event_selectors = None;
                }
                (None, Some(advanced)) => {
                    trail.advanced_event_selectors = Some(advanced.clone());
                    trail.event_selectors = None;
                }
                // https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html
                // ("You can use either AdvancedEventSelectors or EventSelectors, but not both").
                _ => {
                    return Err(AwsError::sender(
                        "InvalidParameterCombinationException",
                        "You can use either AdvancedEventSelectors or EventSelectors, but not both.",
                    ));
                }
            }
            selectors_output(trail)
        }
        CloudTrailRequest::GetEventSelectors(input) => selectors_output(state.find(ctx, &input.trail_name)?),
        CloudTrailRequest::LookupEvents(input) => lookup_events(state, input)?,
    })
}

/// The trail's bucket must exist and its policy let CloudTrail write there.
/// <https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html>
/// (S3BucketDoesNotExistException, InsufficientS3BucketPolicyException)
fn check_bucket(
    trail: &Trail,
    targets: &DeliveryTargets<'_>,
    ctx: &CallContext,
    trail_arn: &str,
) -> Result<(), AwsError> {
    let bucket = &trail.s3_bucket_name;
    let Some(policy) = (targets.bucket_policy)(bucket) else {
        return Err(AwsError::sender("S3BucketDoesNotExistException", format!("S3 bucket {bucket} does not exist")));
    };
    let delivery = bucket_policy::Delivery {
        bucket,
        key_prefix: trail.s3_key_prefix.as_deref(),
        account: ctx.account(),
        partition: &ctx.partition,
        trail_arn,
    };
    if policy.is_some_and(|policy| bucket_policy::allows(&policy, &delivery)) {
        Ok(())
    } else {
        Err(AwsError::sender(
            "InsufficientS3BucketPolicyException",
            format!("Incorrect S3 bucket policy is detected for bucket: {bucket}"),
        ))
    }
}

/// Applies CreateTrail/UpdateTrail settings, checking the log delivery pair.
fn apply(
    trail: &mut Trail,
    input: &TrailInput,
    targets: &DeliveryTargets<'_>,
    ctx: &CallContext,
    trail_arn: &str,
) -> Result<(), AwsError> {
    if let Some(bucket) = &input.s3_bucket_name {
        trail.s3_bucket_name = bucket.clone();
    }
    if input.s3_key_prefix.is_some() {
        trail.s3_key_prefix = input.s3_key_prefix.clone().filter(|prefix| !prefix.is_empty());
    }
    if input.s3_bucket_name.is_some() || input.s3_key_prefix.is_some() {
        check_bucket(trail, targets, ctx, trail_arn)?;
    }
    if input.sns_topic_name.is_some() {
        trail.sns_topic_name = input.sns_topic_name.clone();
    }
    if let Some(flag) = input.include_global_service_events {
        trail.include_global_service_events = flag;
    }
    if let Some(flag) = input.is_multi_region_trail {
        trail.is_multi_region_trail = flag;
    }
    if let Some(flag) = input.enable_log_file_validation {
        trail.log_file_validation_enabled = flag;
    }
    if input.kms_key_id.is_some() {
        trail.kms_key_id = input.kms_key_id.clone();
    }
    if input.is_organization_trail == Some(true) {
        return Err(AwsError::sender("OrganizationsNotInUseException", "This account is not part of an organization."));
    }
    // An empty string removes log delivery (UpdateTrail).
    if let Some(arn) = &input.cloud_watch_logs_log_group_arn {
        trail.cloud_watch_logs_log_group_arn = (!arn.is_empty()).then(|| arn.clone());
    }
    if let Some(arn) = &input.cloud_watch_logs_role_arn {
        trail.cloud_watch_logs_role_arn = (!arn.is_empty()).then(|| arn.clone());
    }
    if let Some(arn) = &trail.cloud_watch_logs_log_group_arn {
        // https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html
        // (InvalidCloudWatchLogsLogGroupArnException, InvalidCloudWatchLogsRoleArnException);
        // the messages are Keywatch's.
        let Some((region, name)) = parse_log_group_arn(arn) else {
            return Err(AwsError::sender(
                "InvalidCloudWatchLogsLogGroupArnException",
                format!("{arn} is not a log group ARN."),
            ));
        };
        if !(targets.log_group_exists)(&region, &name) {
            return Err(AwsError::sender(
                "InvalidCloudWatchLogsLogGroupArnException",
                format!("The log group {name} does not exist."),
            ));
        }
        let role_ok = trail
            .cloud_watch_logs_role_arn
            .as_deref()
            .is_some_and(|role| role.starts_with("arn:") && role.contains(":role/"));
        if !role_ok {
            return Err(AwsError::sender(
                "InvalidCloudWatchLogsRoleArnException",
                "A valid IAM role ARN must be given with CloudWatchLogsLogGroupArn.",
            ));
        }
    }
    Ok(())
}

fn check_selectors(selectors: &[EventSelector]) -> Result<(), AwsError> {
    // https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html:
    // at most 5 selectors; ExcludeManagementEventSources may name only
    // kms.amazonaws.com and rdsdata.amazonaws.com.
    let sources_ok = selectors
        .iter()
        .flat_map(|s| &s.exclude_management_event_sources)
        .all(|source| source == "kms.amazonaws.com" || source == "rdsdata.amazonaws.com");
    let kinds_ok = selectors.iter().all(|s| ["All", "ReadOnly", "WriteOnly"].contains(&s.read_write_type.as_str()));
    if selectors.is_empty() || selectors.len() > 5 || !sources_ok || !kinds_ok {
        return Err(AwsError::sender(
            "InvalidEventSelectorsException",
            "Event selectors are invalid: at most 5, ReadWriteType All, ReadOnly or WriteOnly, and only kms.amazonaws.com or rdsdata.amazonaws.com may be excluded.",
        ));
    }
    Ok(())
}

fn trail_output(trail: &Trail, ctx: &CallContext) -> Value {
    let sns_arn = trail.sns_topic_name.as_ref().map_or(Value::Null, |name| {
        Value::String(format!("arn:{}:sns:{}:{}:{name}", ctx.partition, trail.home_region, ctx.account()))
    });
    let text = |field: &Option<String>| field.clone().map_or(Value::Null, Value::String);
    Value::structure()
        .with("Name", trail.name.as_str())
        .with("S3BucketName", trail.s3_bucket_name.as_str())
        .with("S3KeyPrefix", text(&trail.s3_key_prefix))
        .with("SnsTopicName", text(&trail.sns_topic_name))
        .with("SnsTopicARN", sns_arn)
        .with("IncludeGlobalServiceEvents", trail.include_global_service_events)
        .with("IsMultiRegionTrail", trail.is_multi_region_trail)
        .with("TrailARN", trail.arn.as_str())
        .with("LogFileValidationEnabled", trail.log_file_validation_enabled)
        .with("CloudWatchLogsLogGroupArn", text(&trail.cloud_watch_logs_log_group_arn))
        .with("CloudWatchLogsRoleArn", text(&trail.cloud_watch_logs_role_arn))
        .with("KmsKeyId", text(&trail.kms_key_id))
        .with("IsOrganizationTrail", false)
}

fn describe(trail: &Trail) -> Value {
    let text = |field: &Option<String>| field.clone().map_or(Value::Null, Value::String);
    Value::structure()
        .with("Name", trail.name.as_str())
        .with("S3BucketName", trail.s3_bucket_name.as_str())
        .with("S3KeyPrefix", text(&trail.s3_key_prefix))
        .with("SnsTopicName", text(&trail.sns_topic_name))
        .with("IncludeGlobalServiceEvents", trail.include_global_service_events)
        .with("IsMultiRegionTrail", trail.is_multi_region_trail)
        .with("HomeRegion", trail.home_region.as_str())
        .with("TrailARN", trail.arn.as_str())
        .with("LogFileValidationEnabled", trail.log_file_validation_enabled)
        .with("CloudWatchLogsLogGroupArn", text(&trail.cloud_watch_logs_log_group_arn))
        .with("CloudWatchLogsRoleArn", text(&trail.cloud_watch_logs_role_arn))
        .with("KmsKeyId", text(&trail.kms_key_id))
        .with("HasCustomEventSelectors", trail.event_selectors.is_some() || trail.advanced_event_selectors.is_some())
        .with("HasInsightSelectors", false)
        .with("IsOrganizationTrail", false)
}

fn selectors_output(trail: &Trail) -> Value {
    let output = Value::structure().with("TrailARN", trail.arn.as_str());
    match &trail.advanced_event_selectors {
        Some(advanced) => {
            output.with("AdvancedEventSelectors", to_value(&serde_json::to_value(advanced).unwrap_or_default()))
        }
        None => {
            let selectors = trail.event_selectors.clone().unwrap_or_else(|| vec![EventSelector::default()]);
            output.with("EventSelectors", to_value(&serde_json::to_value(selectors).unwrap_or_default()))
        }
    }
}

/// A JSON document as a [`Value`] (selectors are stored in their wire shape).
fn to_value(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(flag) => Value::Bool(*flag),
        serde_json::Value::Number(number) => {
            number.as_i64().map_or_else(|| Value::Float(number.as_f64().unwrap_or_default()), Value::Integer)
        }
        serde_json::Value::String(text) => Value::String(text.clone()),
        serde_json::Value::Array(items) => Value::List(items.iter().map(to_value).collect()),
        serde_json::Value::Object(members) => {
            Value::Map(members.iter().map(|(k, v)| (k.clone(), to_value(v))).collect())
        }
    }
}

/// LookupEvents over the event history, newest first.
/// <https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html>
fn lookup_events(state: &CloudTrailState, input: &LookupEventsInput) -> Result<Value, AwsError> {
    if input.lookup_attributes.len() > 1 {
        return Err(AwsError::sender(
            "InvalidLookupAttributesException",
            "You cannot specify more than one lookup attribute.",
        ));
    }
    let max_results = match input.max_results {
        None => 50,
        Some(n) if (1..=50).contains(&n) => n as usize,
        Some(_) => return Err(AwsError::sender("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")),
    };
    let start = match &input.next_token {
        Some(token) => token
            .parse::<usize>()
            .map_err(|_| AwsError::sender("InvalidNextTokenException", "The next token is invalid."))?,
        None => 0,
    };
    let attribute = input.lookup_attributes.first();
    if let Some(reader) = state.archive.reader() {
        // The stored history (90 days): one more than a page says whether
        // another page follows.
        let matches = |record: &serde_json::Value| attribute.is_none_or(|a| attribute_matches(record, a));
        let query = super::ArchiveQuery {
            from_ms: input.start_time.unwrap_or(i64::MIN),
            to_ms: input.end_time.unwrap_or(i64::MAX),
            matches: &matches,
            skip: start,
            take: max_results + 1,
        };
        let found = reader(&query).map_err(|error| {
            tracing::error!(%error, "the CloudTrail event history could not be read");
            AwsError::internal("The event history could not be read.")
        })?;
        let events: Vec<Value> = found.iter().take(max_results).map(lookup_event).collect();
        let next = (found.len() > max_results).then(|| (start + max_results).to_string());
        return Ok(Value::structure()
            .with("Events", events)
            .with("NextToken", next.map_or(Value::Null, Value::String)));
    }
    // A memory-only sandbox's recent history, read back from its text.
    let history: Vec<serde_json::Value> = state.history.iter().map(Record::json).collect();
    let matching: Vec<&serde_json::Value> = history
        .iter()
        .rev()
        .filter(|record| {
            let time = event_time(record);
            input.start_time.is_none_or(|s| time >= s) && input.end_time.is_none_or(|e| time <= e)
        })
        .filter(|record| attribute.is_none_or(|a| attribute_matches(record, a)))
        .collect();
    let events: Vec<Value> = matching.iter().skip(start).take(max_results).map(|record| lookup_event(record)).collect();
    let next = (matching.len() > start + max_results).then(|| (start + max_results).to_string());
    Ok(Value::structure().with("Events", events).with("NextToken", next.map_or(Value::Null, Value::String)))
}

fn text<'r>(record: &'r serde_json::Value, pointer: &str) -> &'r str {
    record.pointer(pointer).and_then(|v| v.as_str()).unwrap_or_default()
}

/// A record's `eventTime` in epoch milliseconds (0 if it has none).
pub fn event_time(record: &serde_json::Value) -> i64 {
    time::OffsetDateTime::parse(text(record, "/eventTime"), &time::format_description::well_known::Rfc3339)
        .map_or(0, |at| (at.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn username(record: &serde_json::Value) -> String {
    match text(record, "/userIdentity/type") {
        "IAMUser" => text(record, "/userIdentity/userName").to_owned(),
        _ => text(record, "/userIdentity/arn").rsplit('/').next().unwrap_or_default().to_owned(),
    }
}

fn resources(record: &serde_json::Value) -> Vec<(String, String)> {
    record
        .get("resources")
        .and_then(|r| r.as_array())
        .map(|items| items.iter().map(|item| (text(item, "/type").to_owned(), text(item, "/ARN").to_owned())).collect())
        .unwrap_or_default()
}

fn attribute_matches(record: &serde_json::Value, attribute: &LookupAttribute) -> bool {
    let value = attribute.attribute_value.as_str();
    match attribute.attribute_key.as_str() {
        "EventId" => text(record, "/eventID") == value,
        "EventName" => text(record, "/eventName") == value,
        "EventSource" => text(record, "/eventSource") == value,
        "ReadOnly" => record.get("readOnly").and_then(|v| v.as_bool()).map(|b| b.to_string()).as_deref() == Some(value),
        "Username" => username(record) == value,
        "AccessKeyId" => text(record, "/userIdentity/accessKeyId") == value,
        "ResourceType" => resources(record).iter().any(|(kind, _)| kind == value),
        "ResourceName" => resources(record).iter().any(|(_, name)| name == value),
        _ => false,
    }
}

fn lookup_event(record: &serde_json::Value) -> Value {
    let resources: Vec<Value> = resources(record)
        .into_iter()
        .map(|(kind, name)| Value::structure().with("ResourceType", kind).with("ResourceName", name))
        .collect();
    Value::structure()
        .with("EventId", text(record, "/eventID"))
        .with("EventName", text(record, "/eventName"))
        .with("ReadOnly", record.get("readOnly").and_then(|v| v.as_bool()).unwrap_or(false).to_string())
        .with("AccessKeyId", text(record, "/userIdentity/accessKeyId"))
        .with("EventTime", Value::Timestamp(event_time(record)))
        .with("EventSource", text(record, "/eventSource"))
        .with("Username", username(record))
        .with("Resources", resources)
        .with("CloudTrailEvent", record.to_string())
}
