//! Change sets: what an update (or a creation) would do, computed before it
//! is run, then executed or discarded.
//!
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html>

use keywatch_domain::cloudformation as cfn;

use super::engine::{self, Place, validation};
use super::request::{self, param, required, tag_list};
use super::stack::{
    ChangeSet, ChangeSetStatus, CloudFormationState, Deployment, PlannedChange, PlannedDetail, Stack, StackStatus,
    shown_value,
};
use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::CallContext;
use crate::state::SandboxState;

/// The reason a change set without changes fails with.
pub const NO_CHANGES: &str =
    "The submitted information didn't contain changes. Submit different information to create a change set.";

fn not_found(name: &str) -> AwsError {
    AwsError::sender("ChangeSetNotFound", format!("ChangeSet [{name}] does not exist"))
}

/// Finds a change set by ARN, or by name within `stack_name`.
pub(crate) fn find<'a>(
    cloudformation: &'a CloudFormationState,
    ctx: &CallContext,
    name: &str,
    stack_name: Option<&str>,
) -> Result<&'a ChangeSet, AwsError> {
    let index = find_index(cloudformation, ctx, name, stack_name)?;
    Ok(&cloudformation.change_sets[index])
}

fn find_index(
    cloudformation: &CloudFormationState,
    ctx: &CallContext,
    name: &str,
    stack_name: Option<&str>,
) -> Result<usize, AwsError> {
    if name.starts_with("arn:") {
        return cloudformation
            .change_sets
            .iter()
            .position(|c| c.change_set_id == name && c.status != ChangeSetStatus::DeleteComplete)
            .ok_or_else(|| not_found(name));
    }
    let stack_name = stack_name
        .ok_or_else(|| validation("StackName must be specified if ChangeSetName is not specified as an ARN."))?;
    let stack = cloudformation.stack(&ctx.region, stack_name).ok_or_else(|| not_found(name))?;
    cloudformation
        .change_sets
        .iter()
        .position(|c| {
            c.stack_id == stack.stack_id && c.change_set_name == name && c.status != ChangeSetStatus::DeleteComplete
        })
        .ok_or_else(|| not_found(name))
}

fn planned(change: cfn::ResourceChange) -> PlannedChange {
    PlannedChange {
        action: change.action.as_str().to_owned(),
        logical_id: change.logical_id,
        physical_id: change.physical_id,
        resource_type: change.resource_type,
        replacement: change.replacement.map(|r| r.as_str().to_owned()),
        scope: change.scope,
        details: change
            .details
            .into_iter()
            .map(|d| PlannedDetail {
                attribute: d.attribute,
                name: d.name,
                requires_recreation: d.requires_recreation,
                evaluation: d.evaluation,
                change_source: d.change_source,
                causing_entity: d.causing_entity,
            })
            .collect(),
    }
}

/// CreateChangeSet. A CREATE change set makes the stack in
/// `REVIEW_IN_PROGRESS`, as CloudFormation does.
pub fn create(
    state: &mut SandboxState,
    ctx: &CallContext,
    place: &Place,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let stack_name = required(params, "StackName")?;
    let name = required(params, "ChangeSetName")?;
    let change_set_type = param(params, "ChangeSetType").unwrap_or("UPDATE");
    if !name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        || name.len() > 128
    {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
        )));
    }
    let existing = state.cloudformation.stack_index(&ctx.region, stack_name);
    let index = match (change_set_type, existing) {
        ("CREATE", Some(index)) if state.cloudformation.stacks[index].status != StackStatus::ReviewInProgress => {
            return Err(validation(format!(
                "Stack [{stack_name}] already exists and cannot be created again with the changeSet [{name}]."
            )));
        }
        ("CREATE", Some(index)) => index,
        ("CREATE", None) => {
            request::check_stack_name(stack_name)?;
            let empty = Deployment {
                template_body: String::new(),
                parameters: Vec::new(),
                capabilities: Vec::new(),
                tags: Default::default(),
            };
            let mut stack = request::new_stack(ctx, stack_name, None, empty, params);
            engine::stack_event(&mut stack, StackStatus::ReviewInProgress, Some("User Initiated"), ctx.now);
            state.cloudformation.stacks.push(stack);
            state.cloudformation.stacks.len() - 1
        }
        ("UPDATE", Some(index)) => index,
        ("UPDATE", None) => return Err(request::no_such_stack(stack_name)),
        (other, _) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'changeSetType' failed to satisfy constraint: Member must satisfy enum value set: [IMPORT, UPDATE, CREATE]"
            )));
        }
    };
    let stack = &state.cloudformation.stacks[index];
    if stack.status.in_progress() {
        return Err(validation(format!(
            "Stack:{} is in {} state and can not be updated.",
            stack.stack_id,
            stack.status.as_str()
        )));
    }
    if state.cloudformation.change_sets.iter().any(|c| {
        c.stack_id == stack.stack_id && c.change_set_name == name && c.status != ChangeSetStatus::DeleteComplete
    }) {
        return Err(AwsError::sender("AlreadyExistsException", format!("ChangeSet {name} already exists")));
    }
    let body = if param(params, "UsePreviousTemplate").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        Some(stack.deployment.template_body.clone())
    } else {
        request::template_body(state, params)?
    };
    let body = body.ok_or_else(|| validation("Either Template URL or Template Body must be specified."))?;
    let previous = (stack.status != StackStatus::ReviewInProgress).then_some(stack);
    let (deployment, template) = request::deployment(body, params, previous)?;
    let exports = state.cloudformation.exports(&ctx.region);
    let changes = engine::plan_changes(stack, &deployment, &exports, place)?;
    let unchanged = previous.is_some() && changes.is_empty();
    let stack_id = stack.stack_id.clone();
    let change_set_id = format!(
        "arn:{}:cloudformation:{}:{}:changeSet/{name}/{}",
        ctx.partition,
        ctx.region,
        ctx.account(),
        uuid::Uuid::new_v4()
    );
    state.cloudformation.change_sets.push(ChangeSet {
        change_set_id: change_set_id.clone(),
        change_set_name: name.to_owned(),
        stack_id: stack_id.clone(),
        stack_name: stack_name.to_owned(),
        change_set_type: change_set_type.to_owned(),
        description: param(params, "Description").map(str::to_owned).or(template.description),
        status: if unchanged { ChangeSetStatus::Failed } else { ChangeSetStatus::CreateComplete },
        status_reason: unchanged.then(|| NO_CHANGES.to_owned()),
        execution_status: if unchanged { "UNAVAILABLE" } else { "AVAILABLE" }.to_owned(),
        creation_time: ctx.now,
        deployment,
        changes: changes.into_iter().map(planned).collect(),
    });
    Ok(Value::structure().with("Id", change_set_id).with("StackId", stack_id))
}

fn change_value(change: &PlannedChange) -> Value {
    let details: Vec<Value> = change
        .details
        .iter()
        .map(|d| {
            let mut target = Value::structure().with("Attribute", d.attribute.clone());
            if let Some(name) = &d.name {
                target = target.with("Name", name.clone());
            }
            target = target.with("RequiresRecreation", d.requires_recreation.clone());
            let mut detail = Value::structure()
                .with("Target", target)
                .with("Evaluation", d.evaluation.clone())
                .with("ChangeSource", d.change_source.clone());
            if let Some(entity) = &d.causing_entity {
                detail = detail.with("CausingEntity", entity.clone());
            }
            detail
        })
        .collect();
    let mut resource = Value::structure()
        .with("Action", change.action.clone())
        .with("LogicalResourceId", change.logical_id.clone())
        .with("PhysicalResourceId", change.physical_id.clone().map_or(Value::Null, Value::String))
        .with("ResourceType", change.resource_type.clone());
    if let Some(replacement) = &change.replacement {
        resource = resource.with("Replacement", replacement.clone());
    }
    resource = resource.with("Scope", Value::from(change.scope.clone())).with("Details", Value::List(details));
    Value::structure().with("Type", "Resource").with("ResourceChange", resource)
}

/// The stack a change set belongs to.
fn change_set_stack<'a>(cloudformation: &'a CloudFormationState, change_set: &ChangeSet) -> Option<&'a Stack> {
    cloudformation.stacks.iter().find(|s| s.stack_id == change_set.stack_id)
}

/// DescribeChangeSet.
pub fn describe(
    cloudformation: &CloudFormationState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let name = required(params, "ChangeSetName")?;
    let change_set = find(cloudformation, ctx, name, param(params, "StackName"))?;
    let parameters: Vec<Value> = change_set
        .deployment
        .parameters
        .iter()
        .map(|p| Value::structure().with("ParameterKey", p.key.clone()).with("ParameterValue", shown_value(p)))
        .collect();
    let notification_arns =
        change_set_stack(cloudformation, change_set).map(|s| s.notification_arns.clone()).unwrap_or_default();
    Ok(Value::structure()
        .with("ChangeSetName", change_set.change_set_name.clone())
        .with("ChangeSetId", change_set.change_set_id.clone())
        .with("StackId", change_set.stack_id.clone())
        .with("StackName", change_set.stack_name.clone())
        .with("Description", change_set.description.clone().map_or(Value::Null, Value::String))
        .with("Parameters", Value::List(parameters))
        .with("CreationTime", Value::Timestamp(change_set.creation_time))
        .with("ExecutionStatus", change_set.execution_status.clone())
        .with("Status", change_set.status.as_str())
        .with("StatusReason", change_set.status_reason.clone().map_or(Value::Null, Value::String))
        .with("NotificationARNs", Value::from(notification_arns))
        .with("RollbackConfiguration", Value::structure())
        .with("Capabilities", Value::from(change_set.deployment.capabilities.clone()))
        .with("Tags", tag_list(&change_set.deployment.tags))
        .with("Changes", Value::List(change_set.changes.iter().map(change_value).collect()))
        .with("IncludeNestedStacks", false))
}

/// ExecuteChangeSet: runs the change set as a creation (CREATE) or an
/// update; the stack's other change sets become obsolete.
pub fn execute(
    state: &mut SandboxState,
    ctx: &CallContext,
    params: &[(String, String)],
    pace_ms: i64,
) -> Result<Value, AwsError> {
    let name = required(params, "ChangeSetName")?;
    let index = find_index(&state.cloudformation, ctx, name, param(params, "StackName"))?;
    let change_set = state.cloudformation.change_sets[index].clone();
    if change_set.execution_status != "AVAILABLE" {
        return Err(AwsError::sender(
            "InvalidChangeSetStatus",
            format!(
                "ChangeSet [{}] cannot be executed in its current execution status of [{}]",
                change_set.change_set_id, change_set.execution_status
            ),
        ));
    }
    let stack_index = state
        .cloudformation
        .stacks
        .iter()
        .position(|s| s.stack_id == change_set.stack_id && s.is_live())
        .ok_or_else(|| request::no_such_stack(&change_set.stack_name))?;
    let place = Place::of(ctx);
    let token = param(params, "ClientRequestToken").map(str::to_owned);
    let description = keywatch_domain::cloudformation::Template::parse(&change_set.deployment.template_body)
        .ok()
        .and_then(|t| t.description);
    let stack = &mut state.cloudformation.stacks[stack_index];
    if stack.status == StackStatus::ReviewInProgress {
        let steps = engine::plan_create(&change_set.deployment, stack, &place)?;
        let mut operation = engine::new_operation(token, ctx.now + pace_ms);
        operation.steps = steps;
        operation.change_set_id = Some(change_set.change_set_id.clone());
        stack.deployment = change_set.deployment.clone();
        stack.description = description;
        stack.operation = Some(operation);
        engine::stack_event(stack, StackStatus::CreateInProgress, Some("User Initiated"), ctx.now);
    } else {
        if !stack.status.updatable() {
            return Err(validation(format!(
                "Stack:{} is in {} state and can not be updated.",
                stack.stack_id,
                stack.status.as_str()
            )));
        }
        engine::start_update(
            stack,
            ctx,
            change_set.deployment.clone(),
            description,
            token,
            Some(change_set.change_set_id.clone()),
            pace_ms,
        )?;
    }
    for other in state.cloudformation.change_sets.iter_mut().filter(|c| c.stack_id == change_set.stack_id) {
        other.execution_status =
            if other.change_set_id == change_set.change_set_id { "EXECUTE_IN_PROGRESS" } else { "OBSOLETE" }.to_owned();
    }
    Ok(Value::structure())
}

/// DeleteChangeSet.
pub fn delete(
    cloudformation: &mut CloudFormationState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let name = required(params, "ChangeSetName")?;
    let index = find_index(cloudformation, ctx, name, param(params, "StackName"))?;
    if cloudformation.change_sets[index].execution_status == "EXECUTE_IN_PROGRESS" {
        return Err(AwsError::sender(
            "InvalidChangeSetStatus",
            format!(
                "ChangeSet [{}] cannot be deleted while it is being executed",
                cloudformation.change_sets[index].change_set_id
            ),
        ));
    }
    cloudformation.change_sets.remove(index);
    Ok(Value::structure())
}

/// ListChangeSets.
pub fn list(
    cloudformation: &CloudFormationState,
    ctx: &CallContext,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let stack_name = required(params, "StackName")?;
    let stack = cloudformation.stack(&ctx.region, stack_name).ok_or_else(|| request::no_such_stack(stack_name))?;
    let summaries: Vec<Value> = cloudformation
        .change_sets
        .iter()
        .filter(|c| c.stack_id == stack.stack_id)
        .map(|c| {
            Value::structure()
                .with("StackId", c.stack_id.clone())
                .with("StackName", c.stack_name.clone())
                .with("ChangeSetId", c.change_set_id.clone())
                .with("ChangeSetName", c.change_set_name.clone())
                .with("ExecutionStatus", c.execution_status.clone())
                .with("Status", c.status.as_str())
                .with("StatusReason", c.status_reason.clone().map_or(Value::Null, Value::String))
                .with("CreationTime", Value::Timestamp(c.creation_time))
                .with("Description", c.description.clone().map_or(Value::Null, Value::String))
                .with("IncludeNestedStacks", false)
        })
        .collect();
    Ok(Value::structure().with("Summaries", Value::List(summaries)))
}
