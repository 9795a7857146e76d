//! `AWS::CloudWatch::Alarm`, made by the sandbox's CloudWatch PutMetricAlarm,
//! so the alarm is evaluated by the same evaluator as any other, and
//! `AWS::CloudWatch::CompositeAlarm`, made by PutCompositeAlarm (the next
//! evaluator tick settles it).
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html>
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-compositealarm.html>

use serde_json::{Value as Json, json};

use super::{
    Create, Delete, HandlerErrorCode, Props, ProvisionError, Provisioned, ResourceType, Update, name_or_generated,
    outcome,
};
use crate::cloudwatch::alarm_arn;
use crate::protocol::value::Value;
use crate::service::CallContext;
use crate::state::SandboxState;

fn call(state: &mut SandboxState, ctx: &CallContext, operation: &str, input: Json) -> Result<Value, ProvisionError> {
    let handled = crate::cloudwatch::api::call(&mut state.cloudwatch, &mut state.metrics, ctx, operation, &input);
    outcome("CloudWatch", operation, handled.map(|(handled, _changes)| handled))
}

/// PutMetricAlarm's input from the resource's properties: the names are
/// the same; scalars are converted to the types the API takes.
fn put_input(props: &Props, name: &str) -> Result<Json, ProvisionError> {
    if props.get("Metrics").is_some() {
        return Err(ProvisionError::handler(
            "The Keywatch sandbox does not evaluate metric math alarms (Metrics)",
            HandlerErrorCode::InvalidRequest,
        ));
    }
    let mut input = json!({"AlarmName": name});
    for key in [
        "AlarmDescription",
        "Namespace",
        "MetricName",
        "Statistic",
        "ExtendedStatistic",
        "ComparisonOperator",
        "TreatMissingData",
        "Unit",
        "EvaluateLowSampleCountPercentile",
    ] {
        if let Some(value) = props.str(key)? {
            input[key] = json!(value);
        }
    }
    for key in ["Period", "EvaluationPeriods", "DatapointsToAlarm"] {
        if let Some(value) = props.int(key)? {
            input[key] = json!(value);
        }
    }
    if props.get("EvaluationPeriods").is_none() {
        return Err(props.missing("EvaluationPeriods"));
    }
    if props.get("ComparisonOperator").is_none() {
        return Err(props.missing("ComparisonOperator"));
    }
    if let Some(threshold) = props.number("Threshold")? {
        input["Threshold"] = json!(threshold);
    }
    if let Some(enabled) = props.bool("ActionsEnabled")? {
        input["ActionsEnabled"] = json!(enabled);
    }
    for key in ["AlarmActions", "OKActions", "InsufficientDataActions"] {
        input[key] = json!(props.strings(key)?);
    }
    let mut dimensions = Vec::new();
    for dimension in props.objects("Dimensions")? {
        dimensions.push(json!({"Name": dimension.required_str("Name")?, "Value": dimension.required_str("Value")?}));
    }
    input["Dimensions"] = json!(dimensions);
    let tags: Vec<Json> = props.tags()?.into_iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
    input["Tags"] = json!(tags);
    Ok(input)
}

pub(super) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType { name: "AWS::CloudWatch::Alarm", create, update, delete },
    ResourceType {
        name: "AWS::CloudWatch::CompositeAlarm",
        create: create_composite,
        update: update_composite,
        delete,
    },
];

/// PutCompositeAlarm's input from the resource's properties (same names).
fn composite_input(props: &Props, name: &str) -> Result<Json, ProvisionError> {
    let Some(rule) = props.str("AlarmRule")? else { return Err(props.missing("AlarmRule")) };
    let mut input = json!({"AlarmName": name, "AlarmRule": rule});
    if let Some(description) = props.str("AlarmDescription")? {
        input["AlarmDescription"] = json!(description);
    }
    if let Some(enabled) = props.bool("ActionsEnabled")? {
        input["ActionsEnabled"] = json!(enabled);
    }
    for key in ["AlarmActions", "OKActions", "InsufficientDataActions"] {
        input[key] = json!(props.strings(key)?);
    }
    Ok(input)
}

fn create_composite(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let name = name_or_generated(props, request, "AlarmName", 255, false)?;
    let taken = state.cloudwatch.composite(&ctx.region, &name).is_some()
        || state.cloudwatch.alarm(&ctx.region, &name).is_some();
    if taken {
        return Err(ProvisionError::already_exists(request.resource_type, &name));
    }
    call(state, ctx, "PutCompositeAlarm", composite_input(props, &name)?)?;
    Ok(attributes(ctx, &name))
}

fn update_composite(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let name = change.current.physical_id.clone();
    if state.cloudwatch.composite(&ctx.region, &name).is_none() {
        return Err(ProvisionError::not_found(change.request.resource_type, &name));
    }
    call(state, ctx, "PutCompositeAlarm", composite_input(props, &name)?)?;
    Ok(attributes(ctx, &name))
}

fn create(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let name = name_or_generated(props, request, "AlarmName", 255, false)?;
    // PutMetricAlarm would overwrite an alarm of the same name; the
    // resource handler refuses to take over one it did not create.
    if state.cloudwatch.alarm(&ctx.region, &name).is_some() {
        return Err(ProvisionError::already_exists(request.resource_type, &name));
    }
    call(state, ctx, "PutMetricAlarm", put_input(props, &name)?)?;
    Ok(attributes(ctx, &name))
}

fn attributes(ctx: &CallContext, name: &str) -> Provisioned {
    Provisioned::new(name).with("Arn", alarm_arn(&ctx.partition, &ctx.region, ctx.account(), name))
}

fn update(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let name = change.current.physical_id.clone();
    if state.cloudwatch.alarm(&ctx.region, &name).is_none() {
        return Err(ProvisionError::not_found(change.request.resource_type, &name));
    }
    call(state, ctx, "PutMetricAlarm", put_input(props, &name)?)?;
    Ok(attributes(ctx, &name))
}

fn delete(Delete { state, ctx, current, .. }: Delete) -> Result<(), ProvisionError> {
    call(state, ctx, "DeleteAlarms", json!({"AlarmNames": [current.physical_id]}))?;
    Ok(())
}
