//! `AWS::CloudTrail::Trail`, made by the sandbox's CloudTrail (CreateTrail,
//! PutEventSelectors, StartLogging, UpdateTrail, DeleteTrail). A trail with
//! `IsLogging: true` starts logging at once; its log group and role are the
//! trail's own CloudWatch Logs delivery settings.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudtrail-trail.html>

use serde_json::{Value as Json, json};

use super::{Create, Delete, Props, ProvisionError, Provisioned, ResourceType, Update, name_or_generated, outcome};
use crate::protocol::value::Value;
use crate::service::CallContext;
use crate::state::SandboxState;

fn call(state: &mut SandboxState, ctx: &CallContext, operation: &str, input: Json) -> Result<Value, ProvisionError> {
    let logs = &state.logs;
    let s3 = &state.s3;
    let log_group_exists = |region: &str, name: &str| logs.group(region, name).is_ok();
    let bucket_policy = |name: &str| s3.bucket(name).ok().map(|bucket| bucket.policy.clone());
    let targets =
        crate::cloudtrail::api::DeliveryTargets { log_group_exists: &log_group_exists, bucket_policy: &bucket_policy };
    let handled = crate::cloudtrail::api::call(&mut state.cloudtrail, ctx, operation, &input, &targets);
    outcome("CloudTrail", operation, handled)
}

/// CreateTrail's (or UpdateTrail's) input from the properties; the API
/// spells `KMSKeyId` as `KmsKeyId`.
fn trail_input(props: &Props, name: &str) -> Result<Json, ProvisionError> {
    let mut input = json!({"Name": name});
    for (property, member) in [
        ("S3BucketName", "S3BucketName"),
        ("S3KeyPrefix", "S3KeyPrefix"),
        ("SnsTopicName", "SnsTopicName"),
        ("CloudWatchLogsLogGroupArn", "CloudWatchLogsLogGroupArn"),
        ("CloudWatchLogsRoleArn", "CloudWatchLogsRoleArn"),
        ("KMSKeyId", "KmsKeyId"),
    ] {
        if let Some(value) = props.str(property)? {
            input[member] = json!(value);
        }
    }
    for name in ["IncludeGlobalServiceEvents", "IsMultiRegionTrail", "EnableLogFileValidation", "IsOrganizationTrail"] {
        if let Some(flag) = props.bool(name)? {
            input[name] = json!(flag);
        }
    }
    Ok(input)
}

/// The event selectors as PutEventSelectors takes them, if any are given.
fn selectors_input(props: &Props, name: &str) -> Result<Option<Json>, ProvisionError> {
    let basic = props.objects("EventSelectors")?;
    let advanced = props.get("AdvancedEventSelectors");
    if basic.is_empty() && advanced.is_none() {
        return Ok(None);
    }
    let mut input = json!({"TrailName": name});
    if !basic.is_empty() {
        let mut selectors = Vec::new();
        for selector in basic {
            let mut out = json!({});
            if let Some(kind) = selector.str("ReadWriteType")? {
                out["ReadWriteType"] = json!(kind);
            }
            if let Some(flag) = selector.bool("IncludeManagementEvents")? {
                out["IncludeManagementEvents"] = json!(flag);
            }
            out["ExcludeManagementEventSources"] = json!(selector.strings("ExcludeManagementEventSources")?);
            if let Some(resources) = selector.get("DataResources") {
                out["DataResources"] = resources.clone();
            }
            selectors.push(out);
        }
        input["EventSelectors"] = json!(selectors);
    }
    if let Some(advanced) = advanced {
        input["AdvancedEventSelectors"] = advanced.clone();
    }
    Ok(Some(input))
}

fn attributes(state: &SandboxState, ctx: &CallContext, name: &str) -> Result<Provisioned, ProvisionError> {
    let trail = state.cloudtrail.find(ctx, name).map_err(|error| ProvisionError::service("CloudTrail", &error))?;
    let mut provisioned = Provisioned::new(trail.name.clone()).with("Arn", trail.arn.clone());
    if let Some(topic) = &trail.sns_topic_name {
        let arn = if topic.starts_with("arn:") {
            topic.clone()
        } else {
            format!("arn:{}:sns:{}:{}:{topic}", ctx.partition, ctx.region, ctx.account())
        };
        provisioned = provisioned.with("SnsTopicArn", arn);
    }
    Ok(provisioned)
}

fn set_logging(state: &mut SandboxState, ctx: &CallContext, name: &str, logging: bool) -> Result<(), ProvisionError> {
    let operation = if logging { "StartLogging" } else { "StopLogging" };
    call(state, ctx, operation, json!({"Name": name}))?;
    Ok(())
}

pub(super) const RESOURCE_TYPES: &[ResourceType] =
    &[ResourceType { name: "AWS::CloudTrail::Trail", create, update, delete }];

fn create(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let is_logging = props.bool("IsLogging")?.ok_or_else(|| props.missing("IsLogging"))?;
    props.required_str("S3BucketName")?;
    let name = name_or_generated(props, request, "TrailName", 128, false)?;
    call(state, ctx, "CreateTrail", trail_input(props, &name)?)?;
    // Finish the trail or remove it, so a failure leaves nothing behind.
    let finish = |state: &mut SandboxState| -> Result<(), ProvisionError> {
        if let Some(selectors) = selectors_input(props, &name)? {
            call(state, ctx, "PutEventSelectors", selectors)?;
        }
        if is_logging {
            set_logging(state, ctx, &name, true)?;
        }
        Ok(())
    };
    if let Err(error) = finish(state) {
        let _ = call(state, ctx, "DeleteTrail", json!({"Name": name}));
        return Err(error);
    }
    attributes(state, ctx, &name)
}

fn update(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let name = change.current.physical_id.clone();
    let mut input = trail_input(props, &name)?;
    // A removed log delivery is cleared with empty strings.
    for member in ["CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn"] {
        if props.get(member).is_none() && change.previous.get(member).is_some() {
            input[member] = json!("");
        }
    }
    call(state, ctx, "UpdateTrail", input)?;
    if change.changed("EventSelectors") || change.changed("AdvancedEventSelectors") {
        let selectors = selectors_input(props, &name)?
            .unwrap_or_else(|| json!({"TrailName": name, "EventSelectors": [{"ReadWriteType": "All"}]}));
        call(state, ctx, "PutEventSelectors", selectors)?;
    }
    if change.changed("IsLogging") {
        let logging = props.bool("IsLogging")?.ok_or_else(|| props.missing("IsLogging"))?;
        set_logging(state, ctx, &name, logging)?;
    }
    attributes(state, ctx, &name)
}

fn delete(Delete { state, ctx, current, .. }: Delete) -> Result<(), ProvisionError> {
    call(state, ctx, "DeleteTrail", json!({"Name": current.physical_id}))?;
    Ok(())
}
