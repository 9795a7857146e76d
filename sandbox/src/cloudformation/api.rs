//! CloudFormation's operations over the Query protocol: [`call`] routes
//! each one; the stack operations and the reads are here, their outputs
//! shaped as the API reference documents them
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Operations.html>).
//! The change set operations are in [`super::change_sets`], and what both
//! kinds read from a request (`Parameters.member.N.ParameterKey`,
//! `Capabilities.member.N`, ...) in `request`.

use keywatch_domain::cloudformation as cfn;

use super::change_sets;
use super::engine::{self, Place, template_error, validation};
use super::request::{
    check_stack_name, deployment, flag, members, new_stack, no_such_stack, param, required, tag_list, template_body,
};
use super::stack::{CloudFormationState, Stack, StackOutput, StackResource, StackStatus, shown_value};
use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::{Audit, AuditResource, CallContext, Handled};
use crate::state::SandboxState;

/// The stack the request's `StackName` (a name or a stack id) names.
fn named_stack<'a>(
    cloudformation: &'a CloudFormationState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<&'a Stack, AwsError> {
    let name = required(params, "StackName")?;
    cloudformation.stack(&ctx.region, name).ok_or_else(|| no_such_stack(name))
}

/// Runs a CloudFormation call.
pub fn call(
    state: &mut SandboxState,
    ctx: &CallContext,
    operation: &str,
    params: &[(String, String)],
    pace_ms: i64,
) -> Option<Handled> {
    let place = Place::of(ctx);
    let read_only = matches!(
        operation,
        "DescribeStacks"
            | "ListStacks"
            | "DescribeStackEvents"
            | "DescribeStackResource"
            | "DescribeStackResources"
            | "ListStackResources"
            | "GetTemplate"
            | "GetTemplateSummary"
            | "ValidateTemplate"
            | "DescribeChangeSet"
            | "ListChangeSets"
            | "ListExports"
            | "ListImports"
    );
    let result = match operation {
        "CreateStack" => create_stack(state, ctx, params, pace_ms),
        "UpdateStack" => update_stack(state, ctx, params, pace_ms),
        "DeleteStack" => delete_stack(state, ctx, params),
        "DescribeStacks" => describe_stacks(&state.cloudformation, ctx, params),
        "ListStacks" => list_stacks(&state.cloudformation, ctx, params),
        "DescribeStackEvents" => describe_stack_events(&state.cloudformation, ctx, params),
        "DescribeStackResource" => describe_stack_resource(&state.cloudformation, ctx, params),
        "DescribeStackResources" => describe_stack_resources(&state.cloudformation, ctx, params),
        "ListStackResources" => list_stack_resources(&state.cloudformation, ctx, params),
        "GetTemplate" => get_template(&state.cloudformation, ctx, params),
        "GetTemplateSummary" => get_template_summary(state, ctx, params),
        "ValidateTemplate" => validate_template(state, params),
        "CreateChangeSet" => change_sets::create(state, ctx, &place, params),
        "DescribeChangeSet" => change_sets::describe(&state.cloudformation, ctx, params),
        "ExecuteChangeSet" => change_sets::execute(state, ctx, params, pace_ms),
        "DeleteChangeSet" => change_sets::delete(&mut state.cloudformation, ctx, params),
        "ListChangeSets" => change_sets::list(&state.cloudformation, ctx, params),
        "ListExports" => Ok(list_exports(&state.cloudformation, ctx)),
        "ListImports" => list_imports(&state.cloudformation, ctx, params),
        "SetStackPolicy" | "UpdateTerminationProtection" => {
            update_termination_protection(state, ctx, params, operation)
        }
        _ => return None,
    };
    let stack_arn = param(params, "StackName")
        .and_then(|name| state.cloudformation.stack(&ctx.region, name))
        .map(|stack| stack.stack_id.clone());
    let mut request = serde_json::Map::new();
    for key in ["StackName", "ChangeSetName", "ChangeSetType", "ExportName"] {
        if let Some(value) = param(params, key) {
            request.insert(crate::service::lower_first(key), serde_json::Value::String(value.to_owned()));
        }
    }
    let resources = stack_arn
        .map(|arn| vec![AuditResource { resource_type: engine::STACK_TYPE.to_owned(), arn }])
        .unwrap_or_default();
    Some(Handled {
        mutated: !read_only,
        audit: Some(Audit {
            request_parameters: (!request.is_empty()).then_some(serde_json::Value::Object(request)),
            response_elements: None,
            resources,
            read_only,
        }),
        result,
    })
}

fn create_stack(
    state: &mut SandboxState,
    ctx: &CallContext,
    params: &[(String, String)],
    pace_ms: i64,
) -> Result<Value, AwsError> {
    let name = required(params, "StackName")?;
    check_stack_name(name)?;
    let body = template_body(state, params)?
        .ok_or_else(|| validation("Either Template URL or Template Body must be specified."))?;
    let (deployment, template) = deployment(body, params, None)?;
    let cloudformation = &mut state.cloudformation;
    if cloudformation.stack(&ctx.region, name).is_some() {
        return Err(AwsError::sender("AlreadyExistsException", format!("Stack [{name}] already exists")));
    }
    let mut stack = new_stack(ctx, name, template.description.clone(), deployment.clone(), params);
    let place = Place::of(ctx);
    let steps = engine::plan_create(&deployment, &stack, &place)?;
    let token = param(params, "ClientRequestToken").map(str::to_owned);
    let mut operation = engine::new_operation(token, ctx.now + pace_ms);
    operation.steps = steps;
    stack.operation = Some(operation);
    engine::stack_event(&mut stack, StackStatus::CreateInProgress, Some("User Initiated"), ctx.now);
    let stack_id = stack.stack_id.clone();
    cloudformation.stacks.push(stack);
    Ok(Value::structure().with("StackId", stack_id))
}

fn update_stack(
    state: &mut SandboxState,
    ctx: &CallContext,
    params: &[(String, String)],
    pace_ms: i64,
) -> Result<Value, AwsError> {
    let name = required(params, "StackName")?;
    let index = state.cloudformation.stack_index(&ctx.region, name).ok_or_else(|| no_such_stack(name))?;
    let body = if flag(params, "UsePreviousTemplate") {
        Some(state.cloudformation.stacks[index].deployment.template_body.clone())
    } else {
        template_body(state, params)?
    };
    let body = body.ok_or_else(|| validation("Either Template URL or Template Body must be specified."))?;
    let stack = &state.cloudformation.stacks[index];
    if !stack.status.updatable() {
        return Err(validation(format!(
            "Stack:{} is in {} state and can not be updated.",
            stack.stack_id,
            stack.status.as_str()
        )));
    }
    let (deployment, template) = deployment(body, params, Some(stack))?;
    if deployment == stack.deployment {
        return Err(validation("No updates are to be performed."));
    }
    let token = param(params, "ClientRequestToken").map(str::to_owned);
    engine::start_update(
        &mut state.cloudformation.stacks[index],
        ctx,
        deployment,
        template.description,
        token,
        None,
        pace_ms,
    )?;
    Ok(Value::structure().with("StackId", state.cloudformation.stacks[index].stack_id.clone()))
}

fn delete_stack(state: &mut SandboxState, ctx: &CallContext, params: &[(String, String)]) -> Result<Value, AwsError> {
    let name = required(params, "StackName")?;
    let region = ctx.region.clone();
    // Deleting a stack that does not exist succeeds, as on AWS.
    let Some(index) = state.cloudformation.stack_index(&region, name) else {
        return Ok(Value::structure());
    };
    let exports: Vec<(String, String, String)> = state.cloudformation.exports(&region);
    let stack_id = state.cloudformation.stacks[index].stack_id.clone();
    let in_use = exports.iter().filter(|(_, _, exporter)| *exporter == stack_id).find_map(|(export, _, _)| {
        let importers = engine::importers(&state.cloudformation, &region, export);
        let stack_name = &state.cloudformation.stacks[index].stack_name;
        importers.into_iter().find(|importer| importer != stack_name).map(|importer| (export.clone(), importer))
    });
    let stack = &mut state.cloudformation.stacks[index];
    if !stack.is_live() {
        return Ok(Value::structure());
    }
    if stack.termination_protection {
        return Err(validation(format!(
            "Stack [{}] cannot be deleted while TerminationProtection is enabled",
            stack.stack_name
        )));
    }
    if stack.status.in_progress() {
        if stack.status == StackStatus::DeleteInProgress {
            return Ok(Value::structure());
        }
        return Err(validation(format!(
            "Stack [{}] cannot be deleted while in status {}",
            stack.stack_name,
            stack.status.as_str()
        )));
    }
    if let Some((export, importer)) = in_use {
        // CloudFormation refuses before deleting anything and leaves the stack
        // in its status, with an event saying why.
        let reason = format!("Export {export} cannot be deleted as it is in use by {importer}");
        let status = stack.status;
        engine::stack_event(stack, status, Some(&reason), ctx.now);
        return Ok(Value::structure());
    }
    let retain = members(params, "RetainResources");
    let token = param(params, "ClientRequestToken").map(str::to_owned);
    let mut operation = engine::new_operation(token, ctx.now);
    operation.steps = engine::plan_delete(stack, &retain);
    stack.operation = Some(operation);
    engine::stack_event(stack, StackStatus::DeleteInProgress, Some("User Initiated"), ctx.now);
    if stack.status == StackStatus::DeleteInProgress && stack.resources.is_empty() {
        // A stack with nothing in it (REVIEW_IN_PROGRESS, ROLLBACK_COMPLETE)
        // is gone at once.
    }
    Ok(Value::structure())
}

fn update_termination_protection(
    state: &mut SandboxState,
    ctx: &CallContext,
    params: &[(String, String)],
    operation: &str,
) -> Result<Value, AwsError> {
    let name = required(params, "StackName")?;
    let index = state.cloudformation.stack_index(&ctx.region, name).ok_or_else(|| no_such_stack(name))?;
    let stack = &mut state.cloudformation.stacks[index];
    if operation == "UpdateTerminationProtection" {
        stack.termination_protection = flag(params, "EnableTerminationProtection");
        return Ok(Value::structure().with("StackId", stack.stack_id.clone()));
    }
    Ok(Value::structure())
}

fn parameter_list(stack: &Stack) -> Value {
    Value::List(
        stack
            .deployment
            .parameters
            .iter()
            .map(|p| Value::structure().with("ParameterKey", p.key.clone()).with("ParameterValue", shown_value(p)))
            .collect(),
    )
}

fn output_list(outputs: &[StackOutput]) -> Value {
    Value::List(
        outputs
            .iter()
            .map(|o| {
                let mut value =
                    Value::structure().with("OutputKey", o.key.clone()).with("OutputValue", o.value.clone());
                if let Some(description) = &o.description {
                    value = value.with("Description", description.clone());
                }
                if let Some(export) = &o.export_name {
                    value = value.with("ExportName", export.clone());
                }
                value
            })
            .collect(),
    )
}

fn optional_time(millis: Option<i64>) -> Value {
    millis.map_or(Value::Null, Value::Timestamp)
}

fn optional_text(text: &Option<String>) -> Value {
    text.clone().map_or(Value::Null, Value::String)
}

/// One `Stack` of DescribeStacks.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Stack.html>
fn stack_value(stack: &Stack) -> Value {
    Value::structure()
        .with("StackId", stack.stack_id.clone())
        .with("StackName", stack.stack_name.clone())
        .with("Description", optional_text(&stack.description))
        .with("Parameters", parameter_list(stack))
        .with("CreationTime", Value::Timestamp(stack.creation_time))
        .with("DeletionTime", optional_time(stack.deletion_time))
        .with("LastUpdatedTime", optional_time(stack.last_updated_time))
        .with("RollbackConfiguration", Value::structure())
        .with("StackStatus", stack.status.as_str())
        .with("StackStatusReason", optional_text(&stack.status_reason))
        .with("DisableRollback", stack.disable_rollback)
        .with("NotificationARNs", Value::from(stack.notification_arns.clone()))
        .with("Capabilities", Value::from(stack.deployment.capabilities.clone()))
        .with("Outputs", output_list(&stack.outputs))
        .with("Tags", tag_list(&stack.deployment.tags))
        .with("EnableTerminationProtection", stack.termination_protection)
        .with("DriftInformation", Value::structure().with("StackDriftStatus", "NOT_CHECKED"))
}

fn describe_stacks(
    cloudformation: &CloudFormationState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let stacks: Vec<Value> = match param(params, "StackName") {
        Some(name) => vec![stack_value(cloudformation.stack(&ctx.region, name).ok_or_else(|| no_such_stack(name))?)],
        None => cloudformation
            .stacks
            .iter()
            .filter(|s| s.region == ctx.region && s.is_live())
            .rev()
            .map(stack_value)
            .collect(),
    };
    Ok(Value::structure().with("Stacks", Value::List(stacks)))
}

fn list_stacks(
    cloudformation: &CloudFormationState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let filter = members(params, "StackStatusFilter");
    let summaries: Vec<Value> = cloudformation
        .stacks
        .iter()
        .filter(|s| s.region == ctx.region)
        .filter(|s| filter.is_empty() || filter.iter().any(|f| f == s.status.as_str()))
        .rev()
        .map(|s| {
            Value::structure()
                .with("StackId", s.stack_id.clone())
                .with("StackName", s.stack_name.clone())
                .with("TemplateDescription", optional_text(&s.description))
                .with("CreationTime", Value::Timestamp(s.creation_time))
                .with("LastUpdatedTime", optional_time(s.last_updated_time))
                .with("DeletionTime", optional_time(s.deletion_time))
                .with("StackStatus", s.status.as_str())
                .with("StackStatusReason", optional_text(&s.status_reason))
                .with("DriftInformation", Value::structure().with("StackDriftStatus", "NOT_CHECKED"))
        })
        .collect();
    Ok(Value::structure().with("StackSummaries", Value::List(summaries)))
}

fn describe_stack_events(
    cloudformation: &CloudFormationState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let stack = named_stack(cloudformation, ctx, params)?;
    let events: Vec<Value> = stack
        .events
        .iter()
        .rev()
        .map(|e| {
            Value::structure()
                .with("StackId", stack.stack_id.clone())
                .with("EventId", e.event_id.clone())
                .with("StackName", stack.stack_name.clone())
                .with("LogicalResourceId", e.logical_id.clone())
                .with("PhysicalResourceId", optional_text(&e.physical_id))
                .with("ResourceType", e.resource_type.clone())
                .with("Timestamp", Value::Timestamp(e.timestamp))
                .with("ResourceStatus", e.status.clone())
                .with("ResourceStatusReason", optional_text(&e.reason))
                .with("ResourceProperties", optional_text(&e.properties))
                .with("ClientRequestToken", optional_text(&e.client_request_token))
        })
        .collect();
    Ok(Value::structure().with("StackEvents", Value::List(events)))
}

fn resource_value(stack: &Stack, resource: &StackResource, detail: bool) -> Value {
    let time_member = if detail { "LastUpdatedTimestamp" } else { "Timestamp" };
    Value::structure()
        .with("StackName", stack.stack_name.clone())
        .with("StackId", stack.stack_id.clone())
        .with("LogicalResourceId", resource.logical_id.clone())
        .with("PhysicalResourceId", resource.physical_id().map_or(Value::Null, Value::from))
        .with("ResourceType", resource.resource_type.clone())
        .with(time_member, Value::Timestamp(resource.last_updated))
        .with("ResourceStatus", resource.status.as_str())
        .with("ResourceStatusReason", optional_text(&resource.status_reason))
        .with("DriftInformation", Value::structure().with("StackResourceDriftStatus", "NOT_CHECKED"))
}

fn describe_stack_resource(
    cloudformation: &CloudFormationState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let name = required(params, "StackName")?;
    let logical_id = required(params, "LogicalResourceId")?;
    let stack = cloudformation.stack(&ctx.region, name).ok_or_else(|| no_such_stack(name))?;
    let resource = stack
        .resource(logical_id)
        .ok_or_else(|| validation(format!("Resource {logical_id} does not exist for stack {name}")))?;
    Ok(Value::structure().with("StackResourceDetail", resource_value(stack, resource, true)))
}

fn describe_stack_resources(
    cloudformation: &CloudFormationState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let stack = match (param(params, "StackName"), param(params, "PhysicalResourceId")) {
        (Some(name), _) => cloudformation.stack(&ctx.region, name).ok_or_else(|| no_such_stack(name))?,
        (None, Some(physical)) => cloudformation
            .stacks
            .iter()
            .filter(|s| s.region == ctx.region && s.is_live())
            .find(|s| s.resources.iter().any(|r| r.physical_id() == Some(physical)))
            .ok_or_else(|| validation(format!("Stack for {physical} does not exist")))?,
        (None, None) => return Err(validation("StackName or PhysicalResourceId is required")),
    };
    let logical = param(params, "LogicalResourceId");
    let resources: Vec<Value> = stack
        .resources
        .iter()
        .filter(|r| logical.is_none_or(|l| l == r.logical_id))
        .map(|r| resource_value(stack, r, false))
        .collect();
    Ok(Value::structure().with("StackResources", Value::List(resources)))
}

fn list_stack_resources(
    cloudformation: &CloudFormationState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let stack = named_stack(cloudformation, ctx, params)?;
    let summaries: Vec<Value> = stack
        .resources
        .iter()
        .map(|r| {
            Value::structure()
                .with("LogicalResourceId", r.logical_id.clone())
                .with("PhysicalResourceId", r.physical_id().map_or(Value::Null, Value::from))
                .with("ResourceType", r.resource_type.clone())
                .with("LastUpdatedTimestamp", Value::Timestamp(r.last_updated))
                .with("ResourceStatus", r.status.as_str())
                .with("ResourceStatusReason", optional_text(&r.status_reason))
                .with("DriftInformation", Value::structure().with("StackResourceDriftStatus", "NOT_CHECKED"))
        })
        .collect();
    Ok(Value::structure().with("StackResourceSummaries", Value::List(summaries)))
}

fn get_template(
    cloudformation: &CloudFormationState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    if let Some(change_set) = param(params, "ChangeSetName") {
        let found = change_sets::find(cloudformation, ctx, change_set, param(params, "StackName"))?;
        return Ok(Value::structure()
            .with("TemplateBody", found.deployment.template_body.clone())
            .with("StagesAvailable", vec!["Original", "Processed"]));
    }
    let stack = named_stack(cloudformation, ctx, params)?;
    Ok(Value::structure()
        .with("TemplateBody", stack.deployment.template_body.clone())
        .with("StagesAvailable", vec!["Original", "Processed"]))
}

fn summary_parameters(summary: &cfn::TemplateSummary, template: &cfn::Template, with_type: bool) -> Value {
    Value::List(
        summary
            .parameters
            .iter()
            .map(|p| {
                let mut value = Value::structure().with("ParameterKey", p.key.clone());
                if let Some(default) = &p.default {
                    value = value.with("DefaultValue", default.clone());
                }
                if with_type {
                    value = value.with("ParameterType", p.parameter_type.clone());
                }
                value = value.with("NoEcho", p.no_echo);
                if let Some(description) = &p.description {
                    value = value.with("Description", description.clone());
                }
                let allowed = template
                    .parameters
                    .iter()
                    .find(|(key, _)| *key == p.key)
                    .map(|(_, decl)| decl.allowed_values.clone())
                    .unwrap_or_default();
                if with_type && !allowed.is_empty() {
                    value = value
                        .with("ParameterConstraints", Value::structure().with("AllowedValues", Value::from(allowed)));
                }
                value
            })
            .collect(),
    )
}

fn capabilities_value(summary: &cfn::TemplateSummary) -> Value {
    Value::List(summary.capabilities.iter().map(|c| Value::from(c.as_str())).collect())
}

/// ValidateTemplate.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ValidateTemplate.html>
fn validate_template(state: &SandboxState, params: &[(String, String)]) -> Result<Value, AwsError> {
    let body = template_body(state, params)?
        .ok_or_else(|| validation("Either Template URL or Template Body must be specified."))?;
    let template = cfn::Template::parse(&body).map_err(template_error)?;
    let summary = template.summary();
    Ok(Value::structure()
        .with("Parameters", summary_parameters(&summary, &template, false))
        .with("Description", optional_text(&summary.description))
        .with("Capabilities", capabilities_value(&summary))
        .with("CapabilitiesReason", optional_text(&summary.capabilities_reason))
        .with("DeclaredTransforms", Value::from(summary.declared_transforms.clone())))
}

/// GetTemplateSummary, of a template or of a stack's template.
fn get_template_summary(
    state: &SandboxState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let body = match param(params, "StackName") {
        Some(name) => state
            .cloudformation
            .stack(&ctx.region, name)
            .ok_or_else(|| no_such_stack(name))?
            .deployment
            .template_body
            .clone(),
        None => template_body(state, params)?
            .ok_or_else(|| validation("Either Template URL or Template Body must be specified."))?,
    };
    let template = cfn::Template::parse(&body).map_err(template_error)?;
    let summary = template.summary();
    let metadata = template.metadata.as_ref().map_or(Value::Null, |m| Value::String(m.to_string()));
    Ok(Value::structure()
        .with("Parameters", summary_parameters(&summary, &template, true))
        .with("Description", optional_text(&summary.description))
        .with("Capabilities", capabilities_value(&summary))
        .with("CapabilitiesReason", optional_text(&summary.capabilities_reason))
        .with("ResourceTypes", Value::from(summary.resource_types.clone()))
        .with("Version", template.format_version.clone().map_or(Value::Null, Value::String))
        .with("Metadata", metadata)
        .with("DeclaredTransforms", Value::from(summary.declared_transforms.clone())))
}

fn list_exports(cloudformation: &CloudFormationState, ctx: &CallContext) -> Value {
    let exports: Vec<Value> = cloudformation
        .exports(&ctx.region)
        .into_iter()
        .map(|(name, value, stack_id)| {
            Value::structure().with("ExportingStackId", stack_id).with("Name", name).with("Value", value)
        })
        .collect();
    Value::structure().with("Exports", Value::List(exports))
}

fn list_imports(
    cloudformation: &CloudFormationState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let export = required(params, "ExportName")?;
    let importers = engine::importers(cloudformation, &ctx.region, export);
    if importers.is_empty() {
        return Err(validation(format!("Export '{export}' is not imported by any stack.")));
    }
    Ok(Value::structure().with("Imports", Value::from(importers)))
}
