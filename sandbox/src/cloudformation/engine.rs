//! The engine: starts stack operations (create, update, delete) and runs
//! them step by step, one resource per step, with CloudFormation's events,
//! rollbacks and cleanup phases.
//!
//! An operation is a queue of [`Step`]s kept with the stack (so a restart
//! resumes it). [`advance`] runs the steps that are due; with a pace of zero
//! they all run at once, otherwise one per pace interval, so that the
//! console's progress view can be watched working.
//!
//! Status flows follow
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-failure-options.html>
//! and
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks.html>.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use keywatch_domain::cloudformation as cfn;
use serde_json::Value as Json;

use super::provision::{self, Provisioned, ResourceRequest};
use super::stack::{
    CloudFormationState, Deployment, Operation, ResourceStatus, Stack, StackEvent, StackOutput, StackResource,
    StackStatus, Step, Touched,
};
use crate::error::AwsError;
use crate::service::CallContext;
use crate::state::SandboxState;

/// The resource type CloudFormation gives the stack itself in events.
pub const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// Where the stack lives, for pseudo parameters.
#[derive(Debug, Clone)]
pub struct Place {
    pub region: String,
    pub partition: String,
    pub account: String,
}

impl Place {
    /// The place of a call.
    pub fn of(ctx: &CallContext) -> Place {
        Place { region: ctx.region.clone(), partition: ctx.partition.clone(), account: ctx.account().to_owned() }
    }

    fn url_suffix(&self) -> &'static str {
        if self.partition == "aws-cn" { "amazonaws.com.cn" } else { "amazonaws.com" }
    }
}

/// What templates see of the stack being deployed and its neighbours.
struct StackView<'a> {
    stack: &'a Stack,
    place: &'a Place,
    exports: &'a [(String, String, String)],
}

impl cfn::StackContext for StackView<'_> {
    fn pseudo_parameter(&self, name: &str) -> Option<Json> {
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
        Some(match name {
            "AWS::Region" => Json::String(self.place.region.clone()),
            "AWS::AccountId" => Json::String(self.place.account.clone()),
            "AWS::StackName" => Json::String(self.stack.stack_name.clone()),
            "AWS::StackId" => Json::String(self.stack.stack_id.clone()),
            "AWS::Partition" => Json::String(self.place.partition.clone()),
            "AWS::URLSuffix" => Json::String(self.place.url_suffix().to_owned()),
            "AWS::NotificationARNs" => {
                Json::Array(self.stack.notification_arns.iter().cloned().map(Json::String).collect())
            }
            _ => return None,
        })
    }

    fn physical_id(&self, logical_id: &str) -> Option<String> {
        self.stack.resource(logical_id).and_then(|r| r.physical_id().map(str::to_owned))
    }

    fn attribute(&self, logical_id: &str, attribute: &str) -> Option<Json> {
        self.stack.resource(logical_id)?.provisioned.as_ref()?.attributes.get(attribute).cloned()
    }

    fn import_value(&self, export_name: &str) -> Option<String> {
        self.exports.iter().find(|(name, _, _)| name == export_name).map(|(_, value, _)| value.clone())
    }

    fn availability_zones(&self, region: &str) -> Vec<String> {
        let region = if region.is_empty() { self.place.region.as_str() } else { region };
        // Every region the sandbox serves has at least three zones, named as
        // AWS names them for a new account.
        ["a", "b", "c"].iter().map(|zone| format!("{region}{zone}")).collect()
    }
}

/// A template with its parameters resolved: what every step evaluates.
struct Prepared {
    template: cfn::Template,
    parameters: cfn::ResolvedParameters,
}

fn prepare(deployment: &Deployment) -> Result<Prepared, String> {
    let template = cfn::Template::parse(&deployment.template_body).map_err(|e| e.to_string())?;
    let supplied = supplied_parameters(deployment);
    let parameters = cfn::resolve_parameters(&template, &supplied, None).map_err(|e| e.to_string())?;
    Ok(Prepared { template, parameters })
}

/// The stored parameters as supplied values.
pub fn supplied_parameters(deployment: &Deployment) -> Vec<cfn::SuppliedParameter> {
    deployment
        .parameters
        .iter()
        .map(|p| cfn::SuppliedParameter { key: p.key.clone(), value: Some(p.value.clone()), use_previous_value: false })
        .collect()
}

/// Everything a step needs besides the stack itself.
pub struct Runtime<'a> {
    pub state: &'a mut SandboxState,
    pub place: Place,
    pub now: i64,
    /// Milliseconds between steps.
    pub pace_ms: i64,
}

/// Runs every step that is due at `now`, for every stack. Returns whether
/// anything changed.
pub fn advance(state: &mut SandboxState, place_of: impl Fn(&str) -> Place, now: i64, pace_ms: i64) -> bool {
    if !state.cloudformation.has_due(now) {
        return false;
    }
    // The engine needs the other services mutably while it walks the stacks.
    let mut cloudformation = std::mem::take(&mut state.cloudformation);
    let mut changed = false;
    for index in 0..cloudformation.stacks.len() {
        loop {
            let due = cloudformation.stacks[index].operation.as_ref().is_some_and(|op| op.next_due <= now);
            if !due {
                break;
            }
            let place = place_of(&cloudformation.stacks[index].region);
            let mut runtime = Runtime { state, place, now, pace_ms };
            run_next_step(&mut cloudformation, index, &mut runtime);
            changed = true;
        }
    }
    state.cloudformation = cloudformation;
    changed
}

fn run_next_step(cloudformation: &mut CloudFormationState, index: usize, runtime: &mut Runtime<'_>) {
    let region = cloudformation.stacks[index].region.clone();
    let exports = cloudformation.exports(&region);
    let publishing =
        cloudformation.stacks[index].operation.as_ref().and_then(|op| op.steps.front()).is_some_and(|step| {
            matches!(
                step,
                Step::Transition { to: StackStatus::CreateComplete | StackStatus::UpdateCompleteCleanupInProgress, .. }
            )
        });
    // Who imports what matters only when outputs are published, and finding
    // out evaluates every stack's template.
    let importers: BTreeMap<String, Vec<String>> = if publishing {
        let stack_id = cloudformation.stacks[index].stack_id.clone();
        exports
            .iter()
            .filter(|(_, _, exporter)| *exporter == stack_id)
            .map(|(name, _, _)| (name.clone(), importers(cloudformation, &region, name)))
            .collect()
    } else {
        BTreeMap::new()
    };
    let stack = &mut cloudformation.stacks[index];
    let Some(step) = stack.operation.as_mut().and_then(|op| op.steps.pop_front()) else {
        stack.operation = None;
        return;
    };
    match step {
        Step::Create { logical_id } => create_resource(stack, &logical_id, &exports, runtime),
        Step::Update { logical_id } => update_resource(stack, &logical_id, &exports, runtime),
        Step::Delete { logical_id } => delete_resource(stack, &logical_id, runtime),
        Step::DeleteReplaced { resource } => delete_replaced(stack, &resource, runtime),
        Step::Revert { touched } => revert(stack, touched, runtime),
        Step::Transition { to, reason } => transition(stack, to, reason, &exports, &importers, runtime),
    }
    let terminal = !stack.status.in_progress() && stack.status != StackStatus::ReviewInProgress;
    let succeeded = matches!(stack.status, StackStatus::CreateComplete | StackStatus::UpdateComplete);
    let mut executed = None;
    if let Some(op) = stack.operation.as_mut() {
        op.next_due = runtime.now + runtime.pace_ms;
        if terminal {
            executed = op.change_set_id.take();
        }
        if op.steps.is_empty() {
            stack.operation = None;
        }
    }
    if let Some(id) = executed
        && let Some(change_set) = cloudformation.change_sets.iter_mut().find(|c| c.change_set_id == id)
    {
        change_set.execution_status = if succeeded { "EXECUTE_COMPLETE" } else { "EXECUTE_FAILED" }.to_owned();
    }
}

/// Adds an event for a resource of `stack`. The arguments are the members
/// of a `StackEvent` a call site actually varies, kept flat so that each
/// call reads like the event it records.
#[allow(clippy::too_many_arguments)]
fn resource_event(
    stack: &mut Stack,
    logical_id: &str,
    resource_type: &str,
    physical_id: Option<&str>,
    status: ResourceStatus,
    reason: Option<&str>,
    properties: Option<&Json>,
    now: i64,
) {
    let token = stack.operation.as_ref().and_then(|op| op.client_request_token.clone());
    stack.events.push(StackEvent {
        event_id: format!("{logical_id}-{}-{}", status.as_str(), uuid::Uuid::new_v4()),
        logical_id: logical_id.to_owned(),
        physical_id: physical_id.map(str::to_owned),
        resource_type: resource_type.to_owned(),
        timestamp: now,
        status: status.as_str().to_owned(),
        reason: reason.map(str::to_owned),
        properties: properties.map(Json::to_string),
        client_request_token: token,
    });
    if let Some(resource) = stack.resource_mut(logical_id) {
        resource.status = status;
        resource.status_reason = reason.map(str::to_owned);
        resource.last_updated = now;
    }
}

/// Sets the stack's status and records the stack-level event.
pub fn stack_event(stack: &mut Stack, status: StackStatus, reason: Option<&str>, now: i64) {
    stack.status = status;
    stack.status_reason = reason.map(str::to_owned);
    let token = stack.operation.as_ref().and_then(|op| op.client_request_token.clone());
    stack.events.push(StackEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        logical_id: stack.stack_name.clone(),
        physical_id: Some(stack.stack_id.clone()),
        resource_type: STACK_TYPE.to_owned(),
        timestamp: now,
        status: status.as_str().to_owned(),
        reason: reason.map(str::to_owned),
        properties: None,
        client_request_token: token,
    });
}

/// Resolves a resource's properties against the stack as it stands. Dynamic
/// references stay unresolved in what is returned: that is what the stack
/// keeps and shows in events, so a secret's value is never stored or shown
/// ([`with_secrets`] resolves them for the provisioner alone).
fn resolve_properties(
    stack: &Stack,
    logical_id: &str,
    exports: &[(String, String, String)],
    runtime: &Runtime<'_>,
) -> Result<(String, Json), String> {
    let prepared = prepare(&stack.deployment)?;
    let view = StackView { stack, place: &runtime.place, exports };
    let evaluator = cfn::Evaluator::new(&prepared.template, &prepared.parameters, &view).map_err(|e| e.to_string())?;
    let declared = prepared
        .template
        .resource(logical_id)
        .ok_or_else(|| format!("Resource {logical_id} is not in the template"))?;
    let properties = evaluator.resource_properties(logical_id).map_err(|e| e.to_string())?;
    Ok((declared.resource_type.clone(), properties))
}

/// The properties with their `{{resolve:...}}` dynamic references resolved.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html>
fn with_secrets(properties: &Json, runtime: &mut Runtime<'_>) -> Result<Json, String> {
    let place = runtime.place.clone();
    let state = &mut *runtime.state;
    cfn::substitute_dynamic(properties, &mut |reference| resolve_dynamic_reference(state, &place, reference))
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

fn create_resource(
    stack: &mut Stack,
    logical_id: &str,
    exports: &[(String, String, String)],
    runtime: &mut Runtime<'_>,
) {
    let now = runtime.now;
    let resolved = resolve_properties(stack, logical_id, exports, runtime);
    let declared_type = stack.resource(logical_id).map(|r| r.resource_type.clone()).unwrap_or_default();
    if stack.resource(logical_id).is_none() {
        stack.resources.push(StackResource {
            logical_id: logical_id.to_owned(),
            resource_type: declared_type.clone(),
            provisioned: None,
            properties: Json::Object(serde_json::Map::new()),
            status: ResourceStatus::CreateInProgress,
            status_reason: None,
            last_updated: now,
        });
    }
    let (resource_type, properties) = match resolved {
        Ok(resolved) => resolved,
        Err(error) => {
            resource_event(
                stack,
                logical_id,
                &declared_type,
                None,
                ResourceStatus::CreateFailed,
                Some(&error),
                None,
                now,
            );
            fail_operation(stack, logical_id, runtime);
            return;
        }
    };
    if let Some(resource) = stack.resource_mut(logical_id) {
        resource.resource_type = resource_type.clone();
        resource.properties = properties.clone();
    }
    resource_event(
        stack,
        logical_id,
        &resource_type,
        None,
        ResourceStatus::CreateInProgress,
        None,
        Some(&properties),
        now,
    );
    let resolved = match with_secrets(&properties, runtime) {
        Ok(resolved) => resolved,
        Err(error) => {
            resource_event(
                stack,
                logical_id,
                &resource_type,
                None,
                ResourceStatus::CreateFailed,
                Some(&error),
                None,
                now,
            );
            fail_operation(stack, logical_id, runtime);
            return;
        }
    };
    let request = ResourceRequest {
        logical_id,
        resource_type: &resource_type,
        properties: &resolved,
        stack_name: &stack.stack_name,
        stack_id: &stack.stack_id,
    };
    let ctx = service_context(&runtime.place, now);
    match provision::create(runtime.state, &ctx, &request) {
        Ok(provisioned) => {
            let physical = provisioned.physical_id.clone();
            if let Some(resource) = stack.resource_mut(logical_id) {
                resource.provisioned = Some(provisioned);
            }
            if let Some(op) = stack.operation.as_mut()
                && matches!(stack.status, StackStatus::UpdateInProgress)
            {
                op.touched.push(Touched::Added { logical_id: logical_id.to_owned() });
            }
            resource_event(
                stack,
                logical_id,
                &resource_type,
                Some(&physical),
                ResourceStatus::CreateInProgress,
                Some("Resource creation Initiated"),
                Some(&properties),
                now,
            );
            resource_event(
                stack,
                logical_id,
                &resource_type,
                Some(&physical),
                ResourceStatus::CreateComplete,
                None,
                Some(&properties),
                now,
            );
        }
        Err(error) => {
            let reason = error.reason.clone();
            resource_event(
                stack,
                logical_id,
                &resource_type,
                None,
                ResourceStatus::CreateFailed,
                Some(&reason),
                Some(&properties),
                now,
            );
            fail_operation(stack, logical_id, runtime);
        }
    }
}

/// The identity CloudFormation acts with in the other services: the
/// account's default principal, as a stack created without a service role.
fn service_context(place: &Place, now: i64) -> CallContext {
    CallContext {
        caller: crate::identity::Principal::default_user(&place.partition, None),
        region: place.region.clone(),
        partition: place.partition.clone(),
        now,
        request_id: uuid::Uuid::new_v4().to_string(),
    }
}

/// Whether a change from `old` to `new` properties needs a new physical
/// resource, per the resource type's "Update requires: Replacement"
/// properties (the provisioners' create-only properties).
fn needs_replacement(resource_type: &str, old: &Json, new: &Json) -> bool {
    !provision::requires_replacement(resource_type, old, new).is_empty()
}

fn update_resource(
    stack: &mut Stack,
    logical_id: &str,
    exports: &[(String, String, String)],
    runtime: &mut Runtime<'_>,
) {
    let now = runtime.now;
    let Some(current) = stack.resource(logical_id).cloned() else {
        create_resource(stack, logical_id, exports, runtime);
        return;
    };
    let Some(provisioned) = current.provisioned.clone() else {
        create_resource(stack, logical_id, exports, runtime);
        return;
    };
    let (resource_type, properties) = match resolve_properties(stack, logical_id, exports, runtime) {
        Ok(resolved) => resolved,
        Err(error) => {
            resource_event(
                stack,
                logical_id,
                &current.resource_type,
                Some(&provisioned.physical_id),
                ResourceStatus::UpdateFailed,
                Some(&error),
                None,
                now,
            );
            fail_operation(stack, logical_id, runtime);
            return;
        }
    };
    if resource_type == current.resource_type && properties == current.properties {
        return;
    }
    let replace =
        resource_type != current.resource_type || needs_replacement(&resource_type, &current.properties, &properties);
    let (stack_name, stack_id) = (stack.stack_name.clone(), stack.stack_id.clone());
    let resolved = with_secrets(&properties, runtime);
    let resolved_properties = resolved.as_ref().unwrap_or(&properties);
    // Compared with the new properties by the provisioner, so resolved alike.
    let previous_resolved = with_secrets(&current.properties, runtime).unwrap_or_else(|_| current.properties.clone());
    let request = ResourceRequest {
        logical_id,
        resource_type: &resource_type,
        properties: resolved_properties,
        stack_name: &stack_name,
        stack_id: &stack_id,
    };
    let ctx = service_context(&runtime.place, now);
    resource_event(
        stack,
        logical_id,
        &resource_type,
        Some(&provisioned.physical_id),
        ResourceStatus::UpdateInProgress,
        None,
        Some(&properties),
        now,
    );
    let outcome = if let Err(error) = &resolved {
        Err(provision::ProvisionError { reason: error.clone(), code: provision::HandlerErrorCode::InvalidRequest })
    } else if replace {
        resource_event(
            stack,
            logical_id,
            &resource_type,
            Some(&provisioned.physical_id),
            ResourceStatus::UpdateInProgress,
            Some("Requested update requires the creation of a new physical resource; hence creating one."),
            Some(&properties),
            now,
        );
        provision::create(runtime.state, &ctx, &request)
    } else {
        provision::update(runtime.state, &ctx, &request, &provisioned, &previous_resolved)
    };
    match outcome {
        Ok(new) => {
            let physical = new.physical_id.clone();
            if let Some(resource) = stack.resource_mut(logical_id) {
                resource.provisioned = Some(new);
                resource.properties = properties.clone();
                resource.resource_type = resource_type.clone();
            }
            if let Some(op) = stack.operation.as_mut() {
                let previous = Box::new(current.clone());
                if replace {
                    op.superseded.push(current);
                    op.touched.push(Touched::Replaced { logical_id: logical_id.to_owned(), previous });
                } else {
                    op.touched.push(Touched::Updated { logical_id: logical_id.to_owned(), previous });
                }
            }
            resource_event(
                stack,
                logical_id,
                &resource_type,
                Some(&physical),
                ResourceStatus::UpdateComplete,
                None,
                Some(&properties),
                now,
            );
        }
        Err(error) => {
            resource_event(
                stack,
                logical_id,
                &resource_type,
                Some(&provisioned.physical_id),
                ResourceStatus::UpdateFailed,
                Some(&error.reason),
                Some(&properties),
                now,
            );
            fail_operation(stack, logical_id, runtime);
        }
    }
}

/// The DeletionPolicy declared for a resource in the stack's template
/// (falling back to the type's default).
fn deletion_policy(stack: &Stack, logical_id: &str) -> cfn::DeletionPolicy {
    cfn::Template::parse(&stack.deployment.template_body)
        .ok()
        .and_then(|template| template.resource(logical_id).map(|r| r.deletion_policy))
        .unwrap_or(cfn::DeletionPolicy::Delete)
}

fn delete_resource(stack: &mut Stack, logical_id: &str, runtime: &mut Runtime<'_>) {
    let now = runtime.now;
    let Some(resource) = stack.resource(logical_id).cloned() else {
        return;
    };
    let removing_from_stack = |stack: &mut Stack| stack.resources.retain(|r| r.logical_id != logical_id);
    let Some(provisioned) = resource.provisioned.clone() else {
        // Never created (it failed, or its turn never came): nothing to delete.
        resource_event(
            stack,
            logical_id,
            &resource.resource_type,
            None,
            ResourceStatus::DeleteComplete,
            None,
            None,
            now,
        );
        removing_from_stack(stack);
        return;
    };
    let physical = provisioned.physical_id.clone();
    let policy = deletion_policy(stack, logical_id);
    if policy == cfn::DeletionPolicy::Retain {
        resource_event(
            stack,
            logical_id,
            &resource.resource_type,
            Some(&physical),
            ResourceStatus::DeleteSkipped,
            None,
            None,
            now,
        );
        removing_from_stack(stack);
        return;
    }
    resource_event(
        stack,
        logical_id,
        &resource.resource_type,
        Some(&physical),
        ResourceStatus::DeleteInProgress,
        None,
        None,
        now,
    );
    let ctx = service_context(&runtime.place, now);
    let deleted = if policy == cfn::DeletionPolicy::Snapshot {
        provision::delete_with_snapshot(
            runtime.state,
            &ctx,
            &resource.resource_type,
            &provisioned,
            &resource.properties,
        )
    } else {
        provision::delete(runtime.state, &ctx, &resource.resource_type, &provisioned, &resource.properties)
            .map(|()| None)
    };
    match deleted {
        Ok(_snapshot) => {
            resource_event(
                stack,
                logical_id,
                &resource.resource_type,
                Some(&physical),
                ResourceStatus::DeleteComplete,
                None,
                None,
                now,
            );
            removing_from_stack(stack);
        }
        Err(error) => {
            resource_event(
                stack,
                logical_id,
                &resource.resource_type,
                Some(&physical),
                ResourceStatus::DeleteFailed,
                Some(&error.reason),
                None,
                now,
            );
            fail_operation(stack, logical_id, runtime);
        }
    }
}

fn delete_replaced(stack: &mut Stack, resource: &StackResource, runtime: &mut Runtime<'_>) {
    let now = runtime.now;
    let Some(provisioned) = &resource.provisioned else {
        return;
    };
    let ctx = service_context(&runtime.place, now);
    let physical = provisioned.physical_id.clone();
    let token = stack.operation.as_ref().and_then(|op| op.client_request_token.clone());
    let event = |status: ResourceStatus, reason: Option<String>| StackEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        logical_id: resource.logical_id.clone(),
        physical_id: Some(physical.clone()),
        resource_type: resource.resource_type.clone(),
        timestamp: now,
        status: status.as_str().to_owned(),
        reason,
        properties: None,
        client_request_token: token.clone(),
    };
    // The superseded resource is no longer the stack's, so its events do not
    // change the current resource's status.
    stack.events.push(event(ResourceStatus::DeleteInProgress, None));
    let outcome = provision::delete(runtime.state, &ctx, &resource.resource_type, provisioned, &resource.properties);
    stack.events.push(match outcome {
        Ok(()) => event(ResourceStatus::DeleteComplete, None),
        // A cleanup failure leaves the old resource behind but does not fail
        // the update, as on AWS.
        Err(error) => event(ResourceStatus::DeleteFailed, Some(error.reason)),
    });
}

fn revert(stack: &mut Stack, touched: Touched, runtime: &mut Runtime<'_>) {
    let now = runtime.now;
    let ctx = service_context(&runtime.place, now);
    match touched {
        Touched::Added { logical_id } => delete_resource(stack, &logical_id, runtime),
        Touched::Updated { logical_id, previous } => {
            let Some(current) = stack.resource(&logical_id).cloned() else {
                return;
            };
            let (Some(now_provisioned), Some(_)) = (&current.provisioned, &previous.provisioned) else {
                return;
            };
            resource_event(
                stack,
                &logical_id,
                &previous.resource_type,
                Some(&now_provisioned.physical_id),
                ResourceStatus::UpdateInProgress,
                None,
                Some(&previous.properties),
                now,
            );
            let restored_properties =
                with_secrets(&previous.properties, runtime).unwrap_or(previous.properties.clone());
            let request = ResourceRequest {
                logical_id: &logical_id,
                resource_type: &previous.resource_type,
                properties: &restored_properties,
                stack_name: &stack.stack_name,
                stack_id: &stack.stack_id,
            };
            match provision::update(runtime.state, &ctx, &request, now_provisioned, &current.properties) {
                Ok(restored) => {
                    let physical = restored.physical_id.clone();
                    if let Some(resource) = stack.resource_mut(&logical_id) {
                        *resource = StackResource { provisioned: Some(restored), ..(*previous).clone() };
                    }
                    resource_event(
                        stack,
                        &logical_id,
                        &previous.resource_type,
                        Some(&physical),
                        ResourceStatus::UpdateComplete,
                        None,
                        Some(&previous.properties),
                        now,
                    );
                }
                Err(error) => {
                    resource_event(
                        stack,
                        &logical_id,
                        &previous.resource_type,
                        Some(&now_provisioned.physical_id),
                        ResourceStatus::UpdateFailed,
                        Some(&error.reason),
                        None,
                        now,
                    );
                    rollback_failed(stack, &logical_id, now);
                }
            }
        }
        Touched::Replaced { logical_id, previous } => {
            if let Some(current) = stack.resource(&logical_id).cloned()
                && let Some(new) = &current.provisioned
            {
                let _ = provision::delete(runtime.state, &ctx, &current.resource_type, new, &current.properties);
            }
            if let Some(op) = stack.operation.as_mut() {
                op.superseded.retain(|r| r.provisioned != previous.provisioned);
            }
            let physical = previous.physical_id().map(str::to_owned);
            if let Some(resource) = stack.resource_mut(&logical_id) {
                *resource = (*previous).clone();
            }
            resource_event(
                stack,
                &logical_id,
                &previous.resource_type,
                physical.as_deref(),
                ResourceStatus::UpdateComplete,
                None,
                Some(&previous.properties),
                now,
            );
        }
    }
}

fn rollback_failed(stack: &mut Stack, logical_id: &str, now: i64) {
    let reason = format!("The following resource(s) failed to update: [{logical_id}]. ");
    if let Some(op) = stack.operation.as_mut() {
        op.steps.clear();
    }
    stack_event(stack, StackStatus::UpdateRollbackFailed, Some(&reason), now);
}

/// A resource step failed: turn the rest of the operation into the
/// rollback (or failure) CloudFormation performs in the stack's status.
fn fail_operation(stack: &mut Stack, logical_id: &str, runtime: &mut Runtime<'_>) {
    let now = runtime.now;
    let Some(op) = stack.operation.as_mut() else {
        return;
    };
    op.steps.clear();
    match stack.status {
        StackStatus::CreateInProgress => {
            if stack.disable_rollback {
                let reason = format!("The following resource(s) failed to create: [{logical_id}]. ");
                stack_event(stack, StackStatus::CreateFailed, Some(&reason), now);
                return;
            }
            let reason =
                format!("The following resource(s) failed to create: [{logical_id}]. Rollback requested by user.");
            let order = deletion_order(stack);
            let op = stack.operation.get_or_insert_with(|| new_operation(None, now));
            op.steps = order.into_iter().map(|logical_id| Step::Delete { logical_id }).collect();
            op.steps.push_back(Step::Transition { to: StackStatus::RollbackComplete, reason: None });
            stack_event(stack, StackStatus::RollbackInProgress, Some(&reason), now);
        }
        StackStatus::UpdateInProgress | StackStatus::UpdateCompleteCleanupInProgress => {
            let verb = if stack.resource(logical_id).is_some_and(|r| r.status == ResourceStatus::CreateFailed) {
                "create"
            } else {
                "update"
            };
            let reason = format!("The following resource(s) failed to {verb}: [{logical_id}]. ");
            start_update_rollback(stack, &reason, now);
        }
        StackStatus::DeleteInProgress => {
            let reason = format!("The following resource(s) failed to delete: [{logical_id}]. ");
            if let Some(op) = stack.operation.as_mut() {
                op.steps.clear();
            }
            stack_event(stack, StackStatus::DeleteFailed, Some(&reason), now);
        }
        StackStatus::RollbackInProgress => {
            stack_event(stack, StackStatus::RollbackFailed, None, now);
            if let Some(op) = stack.operation.as_mut() {
                op.steps.clear();
            }
        }
        StackStatus::UpdateRollbackInProgress => rollback_failed(stack, logical_id, now),
        _ => {}
    }
}

fn start_update_rollback(stack: &mut Stack, reason: &str, now: i64) {
    let Some(op) = stack.operation.as_mut() else {
        return;
    };
    let touched: Vec<Touched> = op.touched.drain(..).rev().collect();
    op.steps = touched.into_iter().map(|touched| Step::Revert { touched }).collect();
    op.steps.push_back(Step::Transition { to: StackStatus::UpdateRollbackCompleteCleanupInProgress, reason: None });
    op.steps.push_back(Step::Transition { to: StackStatus::UpdateRollbackComplete, reason: None });
    if let Some(previous) = op.previous.clone() {
        stack.deployment = previous;
    }
    stack_event(stack, StackStatus::UpdateRollbackInProgress, Some(reason), now);
}

/// Logical ids of the stack's resources in the order to delete them: the
/// reverse of the template's creation order, then anything else the stack
/// holds (resources of an older template), newest first.
fn deletion_order(stack: &Stack) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    if let Ok(prepared) = prepare(&stack.deployment) {
        let all: Vec<&str> = prepared.template.resources.iter().map(|(id, _)| id.as_str()).collect();
        if let Ok(creation) = cfn::creation_order(&prepared.template, &all) {
            order = creation.into_iter().rev().filter(|id| stack.resource(id).is_some()).collect();
        }
    }
    for resource in stack.resources.iter().rev() {
        if !order.contains(&resource.logical_id) {
            order.push(resource.logical_id.clone());
        }
    }
    order
}

/// The live stacks in `region` that import `export_name`.
pub fn importers(cloudformation: &CloudFormationState, region: &str, export_name: &str) -> Vec<String> {
    cloudformation
        .stacks
        .iter()
        .filter(|s| s.region == region && s.is_live() && s.status != StackStatus::ReviewInProgress)
        .filter(|s| imports_of(s).iter().any(|name| name == export_name))
        .map(|s| s.stack_name.clone())
        .collect()
}

/// The export names a stack's template imports (after resolving the
/// arguments of its `Fn::ImportValue`s, which are usually `!Sub`s).
pub fn imports_of(stack: &Stack) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(prepared) = prepare(&stack.deployment) else {
        return names;
    };
    let place = Place {
        region: stack.region.clone(),
        partition: partition_of(&stack.stack_id),
        account: account_of(&stack.stack_id),
    };
    let view = StackView { stack, place: &place, exports: &[] };
    let Ok(evaluator) = cfn::Evaluator::new(&prepared.template, &prepared.parameters, &view) else {
        return names;
    };
    let mut visit = |value: &Json| collect_imports(value, &evaluator, &mut names);
    for (_, resource) in &prepared.template.resources {
        visit(&resource.properties);
    }
    for (_, output) in &prepared.template.outputs {
        visit(&output.value);
    }
    names
}

fn collect_imports(value: &Json, evaluator: &cfn::Evaluator<'_>, names: &mut Vec<String>) {
    match value {
        Json::Object(members) => {
            if let Some(argument) = members.get("Fn::ImportValue")
                && members.len() == 1
            {
                if let Ok(Json::String(name)) = evaluator.resolve(argument) {
                    names.push(name);
                }
                return;
            }
            members.values().for_each(|member| collect_imports(member, evaluator, names));
        }
        Json::Array(items) => items.iter().for_each(|item| collect_imports(item, evaluator, names)),
        _ => {}
    }
}

fn partition_of(arn: &str) -> String {
    arn.split(':').nth(1).unwrap_or("aws").to_owned()
}

fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or(crate::identity::ACCOUNT_ID).to_owned()
}

/// Evaluates the stack's outputs; an export in use by another stack may not
/// change or disappear.
fn evaluate_outputs(
    stack: &Stack,
    exports: &[(String, String, String)],
    importers: &BTreeMap<String, Vec<String>>,
    place: &Place,
) -> Result<Vec<StackOutput>, String> {
    let prepared = prepare(&stack.deployment)?;
    let view = StackView { stack, place, exports };
    let evaluator = cfn::Evaluator::new(&prepared.template, &prepared.parameters, &view).map_err(|e| e.to_string())?;
    let outputs: Vec<StackOutput> = evaluator
        .outputs()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|output| StackOutput {
            key: output.key,
            value: output.value,
            description: output.description,
            export_name: output.export_name,
        })
        .collect();
    for (name, value, exporter) in exports.iter().filter(|(_, _, exporter)| *exporter == stack.stack_id) {
        let users: Vec<&String> =
            importers.get(name).map(|u| u.iter().filter(|u| **u != stack.stack_name).collect()).unwrap_or_default();
        let Some(user) = users.first() else {
            continue;
        };
        let _ = exporter;
        match outputs.iter().find(|o| o.export_name.as_deref() == Some(name.as_str())) {
            None => return Err(format!("Cannot delete export {name} as it is in use by {user}.")),
            Some(output) if output.value != *value => {
                return Err(format!("Export {name} cannot be updated as it is in use by {user}"));
            }
            Some(_) => {}
        }
    }
    // Export names are unique in a region.
    for output in &outputs {
        if let Some(name) = &output.export_name
            && let Some((_, _, other)) = exports.iter().find(|(n, _, s)| n == name && *s != stack.stack_id)
        {
            let other_name = other.split('/').nth(1).unwrap_or(other);
            return Err(format!("Export with name {name} is already exported by stack {other_name}"));
        }
    }
    Ok(outputs)
}

fn transition(
    stack: &mut Stack,
    to: StackStatus,
    reason: Option<String>,
    exports: &[(String, String, String)],
    importers: &BTreeMap<String, Vec<String>>,
    runtime: &mut Runtime<'_>,
) {
    let now = runtime.now;
    match to {
        StackStatus::CreateComplete | StackStatus::UpdateCompleteCleanupInProgress => {
            match evaluate_outputs(stack, exports, importers, &runtime.place) {
                Ok(outputs) => stack.outputs = outputs,
                Err(error) => {
                    // Outputs fail the operation as a resource would.
                    if stack.status == StackStatus::CreateInProgress {
                        let order = deletion_order(stack);
                        let op = stack.operation.get_or_insert_with(|| new_operation(None, now));
                        op.steps = order.into_iter().map(|logical_id| Step::Delete { logical_id }).collect();
                        op.steps.push_back(Step::Transition { to: StackStatus::RollbackComplete, reason: None });
                        stack_event(stack, StackStatus::RollbackInProgress, Some(&error), now);
                    } else {
                        start_update_rollback(stack, &error, now);
                    }
                    return;
                }
            }
            if to == StackStatus::UpdateCompleteCleanupInProgress
                && let Some(op) = stack.operation.as_mut()
            {
                // The cleanup phase deletes what the update superseded.
                for resource in op.superseded.drain(..).rev() {
                    op.steps.push_front(Step::DeleteReplaced { resource: Box::new(resource) });
                }
                op.touched.clear();
            }
        }
        StackStatus::UpdateRollbackComplete => {
            if let Ok(outputs) = evaluate_outputs(stack, exports, &BTreeMap::new(), &runtime.place) {
                stack.outputs = outputs;
            }
        }
        StackStatus::DeleteComplete => {
            stack.deletion_time = Some(now);
            stack.outputs.clear();
        }
        StackStatus::RollbackComplete => stack.outputs.clear(),
        _ => {}
    }
    stack_event(stack, to, reason.as_deref(), now);
}

/// A fresh operation.
pub fn new_operation(client_request_token: Option<String>, now: i64) -> Operation {
    Operation {
        steps: VecDeque::new(),
        next_due: now,
        touched: Vec::new(),
        superseded: Vec::new(),
        previous: None,
        client_request_token,
        change_set_id: None,
    }
}

/// Plans the steps of creating every active resource of a deployment.
pub fn plan_create(deployment: &Deployment, stack: &Stack, place: &Place) -> Result<VecDeque<Step>, AwsError> {
    let prepared = prepare(deployment).map_err(validation)?;
    let view = StackView { stack, place, exports: &[] };
    let evaluator = cfn::Evaluator::new(&prepared.template, &prepared.parameters, &view).map_err(template_error)?;
    let active = evaluator.active_resources();
    let order = cfn::creation_order(&prepared.template, &active).map_err(template_error)?;
    let mut steps: VecDeque<Step> = order.into_iter().map(|logical_id| Step::Create { logical_id }).collect();
    steps.push_back(Step::Transition { to: StackStatus::CreateComplete, reason: None });
    Ok(steps)
}

/// Plans the steps of updating a stack to `deployment`: changed and new
/// resources in creation order, then the cleanup phase deleting removed ones.
pub fn plan_update(deployment: &Deployment, stack: &Stack, place: &Place) -> Result<VecDeque<Step>, AwsError> {
    let prepared = prepare(deployment).map_err(validation)?;
    let view = StackView { stack, place, exports: &[] };
    let evaluator = cfn::Evaluator::new(&prepared.template, &prepared.parameters, &view).map_err(template_error)?;
    let active = evaluator.active_resources();
    let order = cfn::creation_order(&prepared.template, &active).map_err(template_error)?;
    let mut steps: VecDeque<Step> = order
        .iter()
        .map(|logical_id| match stack.resource(logical_id).and_then(|r| r.provisioned.as_ref()) {
            Some(_) => Step::Update { logical_id: logical_id.clone() },
            None => Step::Create { logical_id: logical_id.clone() },
        })
        .collect();
    steps.push_back(Step::Transition { to: StackStatus::UpdateCompleteCleanupInProgress, reason: None });
    let kept: BTreeSet<&String> = order.iter().collect();
    for logical_id in deletion_order(stack) {
        if !kept.contains(&logical_id) {
            steps.push_back(Step::Delete { logical_id });
        }
    }
    steps.push_back(Step::Transition { to: StackStatus::UpdateComplete, reason: None });
    Ok(steps)
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
    let steps = plan_update(&deployment, stack, &place)?;
    let mut operation = new_operation(token, ctx.now + pace_ms);
    operation.steps = steps;
    operation.previous = Some(std::mem::replace(&mut stack.deployment, deployment));
    operation.change_set_id = change_set_id;
    stack.operation = Some(operation);
    stack.description = description;
    stack.last_updated_time = Some(ctx.now);
    stack_event(stack, StackStatus::UpdateInProgress, Some("User Initiated"), ctx.now);
    Ok(())
}

/// Plans deleting every resource of the stack.
pub fn plan_delete(stack: &Stack, retain: &[String]) -> VecDeque<Step> {
    let mut steps: VecDeque<Step> = deletion_order(stack)
        .into_iter()
        .filter(|logical_id| !retain.contains(logical_id))
        .map(|logical_id| Step::Delete { logical_id })
        .collect();
    steps.push_back(Step::Transition { to: StackStatus::DeleteComplete, reason: None });
    steps
}

/// Parameters that are unchanged templates' evaluation: used by the API to
/// resolve `UsePreviousValue` against the stack's current parameters.
pub fn previous_parameters(stack: &Stack) -> BTreeMap<String, String> {
    stack.deployment.parameters.iter().map(|p| (p.key.clone(), p.value.clone())).collect()
}

/// Resources of the stack with their resolved properties, for change sets.
pub fn deployed_resources(stack: &Stack) -> Vec<cfn::DeployedResource> {
    stack
        .resources
        .iter()
        .filter_map(|r| {
            r.provisioned.as_ref().map(|p| cfn::DeployedResource {
                logical_id: r.logical_id.clone(),
                resource_type: r.resource_type.clone(),
                physical_id: p.physical_id.clone(),
                properties: r.properties.clone(),
            })
        })
        .collect()
}

/// Plans the changes of a change set: what executing `deployment` on
/// `stack` would add, modify (with replacement) and remove.
pub fn plan_changes(
    stack: &Stack,
    deployment: &Deployment,
    exports: &[(String, String, String)],
    place: &Place,
) -> Result<Vec<cfn::ResourceChange>, AwsError> {
    let new = prepare(deployment).map_err(validation)?;
    let old = if stack.status == StackStatus::ReviewInProgress { None } else { prepare(&stack.deployment).ok() };
    let view = StackView { stack, place, exports };
    let evaluator = cfn::Evaluator::new(&new.template, &new.parameters, &view).map_err(template_error)?;
    cfn::plan_changes(&deployed_resources(stack), old.as_ref().map(|p| &p.template), &new.template, &evaluator)
        .map_err(template_error)
}

/// A `ValidationError` with CloudFormation's text.
pub fn validation(message: impl Into<String>) -> AwsError {
    AwsError::sender("ValidationError", message)
}

/// A template error as CloudFormation returns it.
pub fn template_error(error: cfn::TemplateError) -> AwsError {
    validation(error.to_string())
}

/// Resolves a template's provisioned state into a `Provisioned` lookup for
/// tests and the API.
pub fn provisioned_of<'a>(stack: &'a Stack, logical_id: &str) -> Option<&'a Provisioned> {
    stack.resource(logical_id).and_then(|r| r.provisioned.as_ref())
}
