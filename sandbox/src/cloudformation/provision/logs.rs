//! `AWS::Logs::LogGroup`, `AWS::Logs::LogStream` and `AWS::Logs::MetricFilter`,
//! made by the sandbox's CloudWatch Logs (CreateLogGroup, PutRetentionPolicy,
//! CreateLogStream, PutMetricFilter and their deletes).
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-logs-loggroup.html>

use serde_json::{Value as Json, json};

use super::{Change, Props, ProvisionError, Provisioned, ResourceRequest, name_or_generated, outcome};
use crate::protocol::value::Value;
use crate::service::CallContext;
use crate::state::SandboxState;

fn call(state: &mut SandboxState, ctx: &CallContext, operation: &str, input: Json) -> Result<Value, ProvisionError> {
    let handled = crate::logs::api::call(&mut state.logs, &mut state.metrics, ctx, operation, &input);
    outcome("CloudWatchLogs", operation, handled)
}

/// The group's ARN as `Fn::GetAtt Arn` gives it, with the trailing `:*`.
fn group_attributes(ctx: &CallContext, name: &str) -> Provisioned {
    Provisioned::new(name).with("Arn", format!("{}:*", crate::logs::api::group_arn(ctx, name)))
}

/// The metric transformations as PutMetricFilter takes them.
fn transformations(props: &Props) -> Result<Json, ProvisionError> {
    let list = props.objects("MetricTransformations")?;
    if list.is_empty() {
        return Err(props.missing("MetricTransformations"));
    }
    let mut out = Vec::new();
    for item in list {
        let mut transformation = json!({
            "metricName": item.required_str("MetricName")?,
            "metricNamespace": item.required_str("MetricNamespace")?,
            "metricValue": item.required_str("MetricValue")?,
        });
        if let Some(default) = item.number("DefaultValue")? {
            transformation["defaultValue"] = json!(default);
        }
        if let Some(unit) = item.str("Unit")? {
            transformation["unit"] = json!(unit);
        }
        let mut dimensions = serde_json::Map::new();
        for dimension in item.objects("Dimensions")? {
            dimensions.insert(dimension.required_str("Key")?, json!(dimension.required_str("Value")?));
        }
        if !dimensions.is_empty() {
            transformation["dimensions"] = Json::Object(dimensions);
        }
        out.push(transformation);
    }
    Ok(Json::Array(out))
}

pub(super) fn create(
    state: &mut SandboxState,
    ctx: &CallContext,
    request: &ResourceRequest,
) -> Result<Provisioned, ProvisionError> {
    let props = Props::of(request);
    match request.resource_type {
        "AWS::Logs::LogGroup" => {
            let name = name_or_generated(&props, request, "LogGroupName", 512, false)?;
            if state.logs.group(&ctx.region, &name).is_ok() {
                let identifier = json!({"/properties/LogGroupName": name}).to_string();
                return Err(ProvisionError::already_exists(request.resource_type, &identifier));
            }
            call(state, ctx, "CreateLogGroup", json!({"logGroupName": name}))?;
            if let Some(days) = props.int("RetentionInDays")? {
                // A refused retention must not leave a half-made group behind.
                if let Err(error) =
                    call(state, ctx, "PutRetentionPolicy", json!({"logGroupName": name, "retentionInDays": days}))
                {
                    let _ = state.logs.delete_group(&ctx.region, &name);
                    return Err(error);
                }
            }
            Ok(group_attributes(ctx, &name))
        }
        "AWS::Logs::LogStream" => {
            let group = props.required_str("LogGroupName")?;
            let name = name_or_generated(&props, request, "LogStreamName", 512, false)?;
            call(state, ctx, "CreateLogStream", json!({"logGroupName": group, "logStreamName": name}))?;
            Ok(Provisioned::new(name))
        }
        "AWS::Logs::MetricFilter" => {
            let group = props.required_str("LogGroupName")?;
            let pattern = props.required_str("FilterPattern")?;
            let transformations = transformations(&props)?;
            let name = name_or_generated(&props, request, "FilterName", 512, false)?;
            let exists = state.logs.group(&ctx.region, &group).is_ok_and(|g| g.metric_filters.contains_key(&name));
            if exists {
                let identifier = json!({"/properties/LogGroupName": group, "/properties/FilterName": name}).to_string();
                return Err(ProvisionError::already_exists(request.resource_type, &identifier));
            }
            call(
                state,
                ctx,
                "PutMetricFilter",
                json!({"logGroupName": group, "filterName": name, "filterPattern": pattern,
                       "metricTransformations": transformations}),
            )?;
            Ok(Provisioned::new(name))
        }
        other => Err(super::unsupported(other)),
    }
}

pub(super) fn update(
    state: &mut SandboxState,
    ctx: &CallContext,
    change: &Change,
) -> Result<Provisioned, ProvisionError> {
    let props = change.props();
    let name = change.current.physical_id.clone();
    match change.request.resource_type {
        "AWS::Logs::LogGroup" => {
            if change.changed("RetentionInDays") {
                match props.int("RetentionInDays")? {
                    Some(days) => {
                        call(state, ctx, "PutRetentionPolicy", json!({"logGroupName": name, "retentionInDays": days}))?
                    }
                    None => call(state, ctx, "DeleteRetentionPolicy", json!({"logGroupName": name}))?,
                };
            }
            Ok(group_attributes(ctx, &name))
        }
        "AWS::Logs::LogStream" => Ok(Provisioned::new(name)),
        "AWS::Logs::MetricFilter" => {
            let group = props.required_str("LogGroupName")?;
            let pattern = props.required_str("FilterPattern")?;
            // PutMetricFilter replaces the filter of the same name.
            call(
                state,
                ctx,
                "PutMetricFilter",
                json!({"logGroupName": group, "filterName": name, "filterPattern": pattern,
                       "metricTransformations": transformations(&props)?}),
            )?;
            Ok(Provisioned::new(name))
        }
        other => Err(super::unsupported(other)),
    }
}

pub(super) fn delete(
    state: &mut SandboxState,
    ctx: &CallContext,
    resource_type: &str,
    current: &Provisioned,
    properties: &Json,
) -> Result<(), ProvisionError> {
    let props = Props { logical_id: "", value: properties };
    match resource_type {
        "AWS::Logs::LogGroup" => {
            call(state, ctx, "DeleteLogGroup", json!({"logGroupName": current.physical_id}))?;
        }
        "AWS::Logs::LogStream" => {
            // CloudWatch Logs' DeleteLogStream, which the sandbox serves no API for.
            let group = props.str("LogGroupName")?.unwrap_or_default();
            if let Some(found) = state.logs.regions.get_mut(&ctx.region).and_then(|groups| groups.get_mut(&group))
                && found.streams.remove(&current.physical_id).is_some()
            {
                state.logs.journal.push(crate::store::journal::Change::LogStreamDeleted {
                    region: ctx.region.clone(),
                    group,
                    stream: current.physical_id.clone(),
                });
            }
        }
        "AWS::Logs::MetricFilter" => {
            let group = props.str("LogGroupName")?.unwrap_or_default();
            call(state, ctx, "DeleteMetricFilter", json!({"logGroupName": group, "filterName": current.physical_id}))?;
        }
        other => return Err(super::unsupported(other)),
    }
    Ok(())
}
