//! `AWS::Logs::LogGroup`, `AWS::Logs::LogStream` and `AWS::Logs::MetricFilter`,
//! made by the sandbox's CloudWatch Logs (CreateLogGroup, PutRetentionPolicy,
//! CreateLogStream, PutMetricFilter and their deletes).
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-logs-loggroup.html>

use serde_json::{Value as Json, json};

use super::{Create, Delete, Props, ProvisionError, Provisioned, ResourceType, Update, name_or_generated, outcome};
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

pub(super) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType { name: "AWS::Logs::LogGroup", create: create_group, update: update_group, delete: delete_group },
    ResourceType { name: "AWS::Logs::LogStream", create: create_stream, update: update_stream, delete: delete_stream },
    ResourceType {
        name: "AWS::Logs::MetricFilter",
        create: create_metric_filter,
        update: update_metric_filter,
        delete: delete_metric_filter,
    },
];

fn create_group(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let name = name_or_generated(props, request, "LogGroupName", 512, false)?;
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

fn update_group(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let name = &change.current.physical_id;
    if change.changed("RetentionInDays") {
        match props.int("RetentionInDays")? {
            Some(days) => {
                call(state, ctx, "PutRetentionPolicy", json!({"logGroupName": name, "retentionInDays": days}))?
            }
            None => call(state, ctx, "DeleteRetentionPolicy", json!({"logGroupName": name}))?,
        };
    }
    Ok(group_attributes(ctx, name))
}

fn delete_group(Delete { state, ctx, current, .. }: Delete) -> Result<(), ProvisionError> {
    call(state, ctx, "DeleteLogGroup", json!({"logGroupName": current.physical_id})).map(drop)
}

fn create_stream(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let group = props.required_str("LogGroupName")?;
    let name = name_or_generated(props, request, "LogStreamName", 512, false)?;
    call(state, ctx, "CreateLogStream", json!({"logGroupName": group, "logStreamName": name}))?;
    Ok(Provisioned::new(name))
}

fn update_stream(Update { change, .. }: Update) -> Result<Provisioned, ProvisionError> {
    Ok(Provisioned::new(change.current.physical_id.clone()))
}

/// CloudWatch Logs' DeleteLogStream, which the sandbox serves no API for.
fn delete_stream(Delete { state, ctx, current, props, .. }: Delete) -> Result<(), ProvisionError> {
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
    Ok(())
}

/// PutMetricFilter, which replaces the filter of the same name.
fn put_metric_filter(
    state: &mut SandboxState,
    ctx: &CallContext,
    group: &str,
    name: &str,
    pattern: &str,
    transformations: Json,
) -> Result<(), ProvisionError> {
    let input = json!({"logGroupName": group, "filterName": name, "filterPattern": pattern,
                       "metricTransformations": transformations});
    call(state, ctx, "PutMetricFilter", input).map(drop)
}

fn create_metric_filter(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let group = props.required_str("LogGroupName")?;
    let pattern = props.required_str("FilterPattern")?;
    let transformations = transformations(props)?;
    let name = name_or_generated(props, request, "FilterName", 512, false)?;
    let exists = state.logs.group(&ctx.region, &group).is_ok_and(|g| g.metric_filters.contains_key(&name));
    if exists {
        let identifier = json!({"/properties/LogGroupName": group, "/properties/FilterName": name}).to_string();
        return Err(ProvisionError::already_exists(request.resource_type, &identifier));
    }
    put_metric_filter(state, ctx, &group, &name, &pattern, transformations)?;
    Ok(Provisioned::new(name))
}

fn update_metric_filter(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let name = &change.current.physical_id;
    let group = props.required_str("LogGroupName")?;
    let pattern = props.required_str("FilterPattern")?;
    put_metric_filter(state, ctx, &group, name, &pattern, transformations(props)?)?;
    Ok(Provisioned::new(name.clone()))
}

fn delete_metric_filter(Delete { state, ctx, current, props, .. }: Delete) -> Result<(), ProvisionError> {
    let group = props.str("LogGroupName")?.unwrap_or_default();
    call(state, ctx, "DeleteMetricFilter", json!({"logGroupName": group, "filterName": current.physical_id})).map(drop)
}
