//! CloudFormation's operations over the Query protocol: decoding their
//! parameters (`Parameters.member.N.ParameterKey`, `Capabilities.member.N`,
//! ...) and shaping their outputs, as the API reference documents them
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Operations.html>).

use std::collections::BTreeMap;

use keywatch_domain::cloudformation as cfn;

use super::engine::{self, Place, template_error, validation};
use super::{
    ChangeSet, CloudFormationState, Deployment, Stack, StackOutput, StackParameter, StackStatus, change_sets,
    shown_value,
};
use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::{Audit, AuditResource, CallContext, Handled};
use crate::state::SandboxState;

/// The largest template body CreateStack accepts inline (51,200 bytes).
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html>
const MAX_TEMPLATE_BODY: usize = 51_200;

pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

pub(crate) fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, AwsError> {
    param(params, name).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            crate::service::lower_first(name)
        ))
    })
}

/// `Name.member.1`, `Name.member.2`, ... in order.
pub(crate) fn members(params: &[(String, String)], name: &str) -> Vec<String> {
    (1..).map_while(|n| param(params, &format!("{name}.member.{n}")).map(str::to_owned)).collect()
}

fn flag(params: &[(String, String)], name: &str) -> bool {
    param(params, name).is_some_and(|value| value.eq_ignore_ascii_case("true"))
}

/// `Parameters.member.N.{ParameterKey,ParameterValue,UsePreviousValue}`.
pub(crate) fn supplied_parameters(params: &[(String, String)]) -> Vec<cfn::SuppliedParameter> {
    let mut supplied = Vec::new();
    for n in 1.. {
        let Some(key) = param(params, &format!("Parameters.member.{n}.ParameterKey")) else {
            break;
        };
        supplied.push(cfn::SuppliedParameter {
            key: key.to_owned(),
            value: param(params, &format!("Parameters.member.{n}.ParameterValue")).map(str::to_owned),
            use_previous_value: flag(params, &format!("Parameters.member.{n}.UsePreviousValue")),
        });
    }
    supplied
}

/// `Tags.member.N.{Key,Value}`.
pub(crate) fn tags(params: &[(String, String)]) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    for n in 1.. {
        let (Some(key), Some(value)) =
            (param(params, &format!("Tags.member.{n}.Key")), param(params, &format!("Tags.member.{n}.Value")))
        else {
            break;
        };
        tags.insert(key.to_owned(), value.to_owned());
    }
    tags
}

/// The template of a request: `TemplateBody`, or `TemplateURL` naming an
/// object in the sandbox's S3.
pub(crate) fn template_body(state: &SandboxState, params: &[(String, String)]) -> Result<Option<String>, AwsError> {
    if let Some(body) = param(params, "TemplateBody") {
        if body.len() > MAX_TEMPLATE_BODY {
            return Err(validation(format!(
                "1 validation error detected: Value '{}' at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to {MAX_TEMPLATE_BODY}",
                body.chars().take(20).collect::<String>()
            )));
        }
        return Ok(Some(body.to_owned()));
    }
    match param(params, "TemplateURL") {
        Some(url) => template_from_url(state, url).map(Some),
        None => Ok(None),
    }
}

/// Reads a template from an S3 URL (`https://bucket.s3.region.amazonaws.com/key`
/// or path style `https://s3.region.amazonaws.com/bucket/key`).
fn template_from_url(state: &SandboxState, url: &str) -> Result<String, AwsError> {
    let invalid = || validation("TemplateURL must be a supported URL.");
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).ok_or_else(invalid)?;
    let (host, path) = rest.split_once('/').ok_or_else(invalid)?;
    let (bucket, key) = if host.starts_with("s3.") || host.starts_with("s3-") || !host.contains(".s3") {
        path.split_once('/').ok_or_else(invalid)?
    } else {
        (host.split(".s3").next().ok_or_else(invalid)?, path)
    };
    let bytes: Option<Vec<u8>> = {
        let _ = (state, bucket, key);
        None
    };
    let bytes = bytes
        .ok_or_else(|| validation("S3 error: Access Denied\nFor more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html"))?;
    String::from_utf8(bytes).map_err(|_| validation("Template format error: unsupported structure."))
}

/// Resolves a `{{resolve:...}}` dynamic reference in a resource property.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html>
pub fn resolve_dynamic_reference(
    state: &mut SandboxState,
    place: &Place,
    reference: &cfn::DynamicReference,
) -> Result<String, String> {
    match reference.service.as_str() {
        "secretsmanager" => {
            let secret_id = reference.secret_id.as_deref().unwrap_or_default();
            state
                .secretsmanager
                .secret_string(
                    &place.region,
                    secret_id,
                    reference.json_key.as_deref(),
                    reference.version_stage.as_deref(),
                    reference.version_id.as_deref(),
                    crate::clock::now_ms(),
                )
                .map_err(|error| {
                    format!(
                        "Could not resolve the dynamic reference {{{{resolve:secretsmanager:{}}}}}: {}",
                        reference.reference, error.message
                    )
                })
        }
        other => Err(format!(
            "The Keywatch sandbox cannot resolve {other} dynamic references ({{{{resolve:{other}:{}}}}})",
            reference.reference
        )),
    }
}

/// Checks the capabilities a template needs against those acknowledged.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html>
fn check_capabilities(template: &cfn::Template, acknowledged: &[String]) -> Result<(), AwsError> {
    let missing: Vec<&str> = template
        .required_capabilities()
        .iter()
        .map(|capability| capability.as_str())
        .filter(|name| !acknowledged.iter().any(|a| a == name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(AwsError::sender(
        "InsufficientCapabilitiesException",
        format!("Requires capabilities : [{}]", missing.join(", ")),
    ))
}

/// Builds a deployment from a request: the template parsed and checked, the
/// parameters resolved (with `UsePreviousValue` against `previous`), the
/// capabilities checked.
pub(crate) fn deployment(
    body: String,
    params: &[(String, String)],
    previous: Option<&Stack>,
) -> Result<(Deployment, cfn::Template), AwsError> {
    let template = cfn::Template::parse(&body).map_err(template_error)?;
    let supplied = supplied_parameters(params);
    let previous_values = previous.map(engine::previous_parameters);
    let resolved = cfn::resolve_parameters(&template, &supplied, previous_values.as_ref()).map_err(template_error)?;
    let capabilities = members(params, "Capabilities");
    check_capabilities(&template, &capabilities)?;
    let parameters = template
        .parameters
        .iter()
        .filter_map(|(key, _)| {
            resolved.get(key).map(|p| StackParameter { key: key.clone(), value: p.raw.clone(), no_echo: p.no_echo })
        })
        .collect();
    let mut stack_tags = previous.map(|s| s.deployment.tags.clone()).unwrap_or_default();
    let supplied_tags = tags(params);
    if !supplied_tags.is_empty() || previous.is_none() {
        stack_tags = supplied_tags;
    }
    Ok((Deployment { template_body: body, parameters, capabilities, tags: stack_tags }, template))
}

/// `arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`.
pub(crate) fn new_stack_id(ctx: &CallContext, name: &str) -> String {
    format!(
        "arn:{}:cloudformation:{}:{}:stack/{name}/{}",
        ctx.partition,
        ctx.region,
        ctx.account(),
        uuid::Uuid::new_v4()
    )
}

/// Stack names: 1-128 characters, a letter first, then letters, digits and hyphens.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html>
pub(crate) fn check_stack_name(name: &str) -> Result<(), AwsError> {
    let valid = name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
        )))
    }
}

pub(crate) fn no_such_stack(name: &str) -> AwsError {
    validation(format!("Stack with id {name} does not exist"))
}

/// A new stack record in `status`, before its operation starts.
pub(crate) fn new_stack(
    ctx: &CallContext,
    name: &str,
    description: Option<String>,
    deployment: Deployment,
    params: &[(String, String)],
) -> Stack {
    Stack {
        stack_id: new_stack_id(ctx, name),
        stack_name: name.to_owned(),
        region: ctx.region.clone(),
        description,
        status: StackStatus::CreateInProgress,
        status_reason: None,
        creation_time: ctx.now,
        last_updated_time: None,
        deletion_time: None,
        deployment,
        disable_rollback: flag(params, "DisableRollback") || param(params, "OnFailure") == Some("DO_NOTHING"),
        notification_arns: members(params, "NotificationARNs"),
        termination_protection: flag(params, "EnableTerminationProtection"),
        resources: Vec::new(),
        outputs: Vec::new(),
        events: Vec::new(),
        operation: None,
    }
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
    start_update(&mut state.cloudformation.stacks[index], ctx, deployment, template.description, token, None, pace_ms)?;
    Ok(Value::structure().with("StackId", state.cloudformation.stacks[index].stack_id.clone()))
}

/// Starts updating `stack` to `deployment` (UpdateStack, ExecuteChangeSet).
pub(crate) fn start_update(
    stack: &mut Stack,
    ctx: &CallContext,
    deployment: Deployment,
    description: Option<String>,
    token: Option<String>,
    change_set_id: Option<String>,
    pace_ms: i64,
) -> Result<(), AwsError> {
    let place = Place::of(ctx);
    let steps = engine::plan_update(&deployment, stack, &place)?;
    let mut operation = engine::new_operation(token, ctx.now + pace_ms);
    operation.steps = steps;
    operation.previous = Some(std::mem::replace(&mut stack.deployment, deployment));
    operation.change_set_id = change_set_id;
    stack.operation = Some(operation);
    stack.description = description;
    stack.last_updated_time = Some(ctx.now);
    engine::stack_event(stack, StackStatus::UpdateInProgress, Some("User Initiated"), ctx.now);
    Ok(())
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
        let importers = state.cloudformation.importers(&region, export);
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

pub(crate) fn tag_list(tags: &BTreeMap<String, String>) -> Value {
    Value::List(tags.iter().map(|(k, v)| Value::structure().with("Key", k.clone()).with("Value", v.clone())).collect())
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
    let name = required(params, "StackName")?;
    let stack = cloudformation.stack(&ctx.region, name).ok_or_else(|| no_such_stack(name))?;
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

fn resource_value(stack: &Stack, resource: &super::StackResource, detail: bool) -> Value {
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
    let name = required(params, "StackName")?;
    let stack = cloudformation.stack(&ctx.region, name).ok_or_else(|| no_such_stack(name))?;
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
    let name = required(params, "StackName")?;
    let stack = cloudformation.stack(&ctx.region, name).ok_or_else(|| no_such_stack(name))?;
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
    let importers = cloudformation.importers(&ctx.region, export);
    if importers.is_empty() {
        return Err(validation(format!("Export '{export}' is not imported by any stack.")));
    }
    Ok(Value::structure().with("Imports", Value::from(importers)))
}

/// The stack a change set belongs to, for the API's errors.
pub(crate) fn change_set_stack<'a>(
    cloudformation: &'a CloudFormationState,
    change_set: &ChangeSet,
) -> Option<&'a Stack> {
    cloudformation.stacks.iter().find(|s| s.stack_id == change_set.stack_id)
}
