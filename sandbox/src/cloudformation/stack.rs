//! What CloudFormation keeps: stacks (their resources, events, outputs and
//! running operation) and change sets, as persisted in `cloudformation.json`.
//! Every other module of CloudFormation works on these types; this one
//! depends on none of them but the provisioners' [`Provisioned`].

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::provision::Provisioned;

/// A stack's status, as `StackStatus` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StackStatus {
    CreateInProgress,
    CreateFailed,
    CreateComplete,
    RollbackInProgress,
    RollbackFailed,
    RollbackComplete,
    DeleteInProgress,
    DeleteFailed,
    DeleteComplete,
    UpdateInProgress,
    UpdateCompleteCleanupInProgress,
    UpdateComplete,
    UpdateFailed,
    UpdateRollbackInProgress,
    UpdateRollbackFailed,
    UpdateRollbackCompleteCleanupInProgress,
    UpdateRollbackComplete,
    ReviewInProgress,
}

impl StackStatus {
    /// The wire name (`CREATE_COMPLETE`).
    pub fn as_str(self) -> &'static str {
        match self {
            StackStatus::CreateInProgress => "CREATE_IN_PROGRESS",
            StackStatus::CreateFailed => "CREATE_FAILED",
            StackStatus::CreateComplete => "CREATE_COMPLETE",
            StackStatus::RollbackInProgress => "ROLLBACK_IN_PROGRESS",
            StackStatus::RollbackFailed => "ROLLBACK_FAILED",
            StackStatus::RollbackComplete => "ROLLBACK_COMPLETE",
            StackStatus::DeleteInProgress => "DELETE_IN_PROGRESS",
            StackStatus::DeleteFailed => "DELETE_FAILED",
            StackStatus::DeleteComplete => "DELETE_COMPLETE",
            StackStatus::UpdateInProgress => "UPDATE_IN_PROGRESS",
            StackStatus::UpdateCompleteCleanupInProgress => "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            StackStatus::UpdateComplete => "UPDATE_COMPLETE",
            StackStatus::UpdateFailed => "UPDATE_FAILED",
            StackStatus::UpdateRollbackInProgress => "UPDATE_ROLLBACK_IN_PROGRESS",
            StackStatus::UpdateRollbackFailed => "UPDATE_ROLLBACK_FAILED",
            StackStatus::UpdateRollbackCompleteCleanupInProgress => "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
            StackStatus::UpdateRollbackComplete => "UPDATE_ROLLBACK_COMPLETE",
            StackStatus::ReviewInProgress => "REVIEW_IN_PROGRESS",
        }
    }

    /// Whether an operation is running (CloudFormation refuses another one).
    pub fn in_progress(self) -> bool {
        self.as_str().ends_with("_IN_PROGRESS") && self != StackStatus::ReviewInProgress
    }

    /// States from which UpdateStack is allowed.
    /// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks.html>
    pub fn updatable(self) -> bool {
        matches!(self, StackStatus::CreateComplete | StackStatus::UpdateComplete | StackStatus::UpdateRollbackComplete)
    }

    /// Whether the stack's outputs (and so its exports) exist.
    pub fn has_outputs(self) -> bool {
        matches!(
            self,
            StackStatus::CreateComplete
                | StackStatus::UpdateComplete
                | StackStatus::UpdateCompleteCleanupInProgress
                | StackStatus::UpdateRollbackComplete
                | StackStatus::UpdateRollbackCompleteCleanupInProgress
                | StackStatus::UpdateInProgress
                | StackStatus::UpdateRollbackInProgress
                | StackStatus::UpdateFailed
                | StackStatus::UpdateRollbackFailed
                | StackStatus::DeleteFailed
        )
    }
}

/// A resource's status, as `ResourceStatus` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceStatus {
    CreateInProgress,
    CreateFailed,
    CreateComplete,
    DeleteInProgress,
    DeleteFailed,
    DeleteComplete,
    DeleteSkipped,
    UpdateInProgress,
    UpdateFailed,
    UpdateComplete,
    UpdateRollbackInProgress,
    UpdateRollbackComplete,
    UpdateRollbackFailed,
}

impl ResourceStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceStatus::CreateInProgress => "CREATE_IN_PROGRESS",
            ResourceStatus::CreateFailed => "CREATE_FAILED",
            ResourceStatus::CreateComplete => "CREATE_COMPLETE",
            ResourceStatus::DeleteInProgress => "DELETE_IN_PROGRESS",
            ResourceStatus::DeleteFailed => "DELETE_FAILED",
            ResourceStatus::DeleteComplete => "DELETE_COMPLETE",
            ResourceStatus::DeleteSkipped => "DELETE_SKIPPED",
            ResourceStatus::UpdateInProgress => "UPDATE_IN_PROGRESS",
            ResourceStatus::UpdateFailed => "UPDATE_FAILED",
            ResourceStatus::UpdateComplete => "UPDATE_COMPLETE",
            ResourceStatus::UpdateRollbackInProgress => "UPDATE_ROLLBACK_IN_PROGRESS",
            ResourceStatus::UpdateRollbackComplete => "UPDATE_ROLLBACK_COMPLETE",
            ResourceStatus::UpdateRollbackFailed => "UPDATE_ROLLBACK_FAILED",
        }
    }
}

/// A parameter value as the stack keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackParameter {
    pub key: String,
    /// As supplied (lists comma-joined).
    pub value: String,
    /// `NoEcho` parameters are shown as `****`.
    pub no_echo: bool,
}

/// One resource of a stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackResource {
    pub logical_id: String,
    pub resource_type: String,
    /// `None` until the resource has been created.
    pub provisioned: Option<Provisioned>,
    /// The resolved properties it was last created or updated with.
    pub properties: serde_json::Value,
    pub status: ResourceStatus,
    pub status_reason: Option<String>,
    pub last_updated: i64,
}

impl StackResource {
    /// Its physical id, once created.
    pub fn physical_id(&self) -> Option<&str> {
        self.provisioned.as_ref().map(|p| p.physical_id.as_str())
    }
}

/// One stack event (`DescribeStackEvents`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackEvent {
    pub event_id: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub timestamp: i64,
    pub status: String,
    pub reason: Option<String>,
    /// The resource's properties as JSON text, as CloudFormation shows them.
    pub properties: Option<String>,
    pub client_request_token: Option<String>,
}

/// An output after evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackOutput {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
    pub export_name: Option<String>,
}

/// What the stack was deployed from: the template and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub template_body: String,
    pub parameters: Vec<StackParameter>,
    pub capabilities: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// What an update did to one resource, so that a rollback can undo it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Touched {
    /// Created by this update; a rollback deletes it.
    Added { logical_id: String },
    /// Updated in place; a rollback updates it back.
    Updated { logical_id: String, previous: Box<StackResource> },
    /// Replaced by a new physical resource; the old one is deleted in the
    /// cleanup phase, or restored by a rollback (which deletes the new one).
    Replaced { logical_id: String, previous: Box<StackResource> },
}

/// One unit of work of a running operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Step {
    /// Create the resource (a new stack, or an update adding it).
    Create { logical_id: String },
    /// Bring an existing resource to the new template's properties.
    Update { logical_id: String },
    /// Delete a resource of the stack (stack deletion, or removal after an
    /// update), honouring its DeletionPolicy.
    Delete { logical_id: String },
    /// Delete a physical resource that a replacement superseded.
    DeleteReplaced { resource: Box<StackResource> },
    /// Undo one update change.
    Revert { touched: Touched },
    /// Move the stack to its next status.
    Transition { to: StackStatus, reason: Option<String> },
}

/// An operation in progress on a stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub steps: VecDeque<Step>,
    /// When the next step is due (epoch ms).
    pub next_due: i64,
    /// The changes an update made so far, newest last.
    pub touched: Vec<Touched>,
    /// Resources replaced by this update, to delete once it completes.
    pub superseded: Vec<StackResource>,
    /// The deployment an update started from, restored by a rollback.
    pub previous: Option<Deployment>,
    pub client_request_token: Option<String>,
    /// The change set being executed, if any.
    pub change_set_id: Option<String>,
}

/// A stack, live or deleted (deleted stacks stay listed, as on AWS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stack {
    pub stack_id: String,
    pub stack_name: String,
    pub region: String,
    pub description: Option<String>,
    pub status: StackStatus,
    pub status_reason: Option<String>,
    pub creation_time: i64,
    pub last_updated_time: Option<i64>,
    pub deletion_time: Option<i64>,
    pub deployment: Deployment,
    pub disable_rollback: bool,
    pub notification_arns: Vec<String>,
    pub termination_protection: bool,
    pub resources: Vec<StackResource>,
    pub outputs: Vec<StackOutput>,
    /// Oldest first.
    pub events: Vec<StackEvent>,
    pub operation: Option<Operation>,
}

impl Stack {
    /// The resource with this logical id.
    pub fn resource(&self, logical_id: &str) -> Option<&StackResource> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    pub(super) fn resource_mut(&mut self, logical_id: &str) -> Option<&mut StackResource> {
        self.resources.iter_mut().find(|r| r.logical_id == logical_id)
    }

    /// Whether this stack counts as existing (not deleted).
    pub fn is_live(&self) -> bool {
        self.status != StackStatus::DeleteComplete
    }
}

/// A change set's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeSetStatus {
    CreatePending,
    CreateInProgress,
    CreateComplete,
    DeleteComplete,
    Failed,
}

impl ChangeSetStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeSetStatus::CreatePending => "CREATE_PENDING",
            ChangeSetStatus::CreateInProgress => "CREATE_IN_PROGRESS",
            ChangeSetStatus::CreateComplete => "CREATE_COMPLETE",
            ChangeSetStatus::DeleteComplete => "DELETE_COMPLETE",
            ChangeSetStatus::Failed => "FAILED",
        }
    }
}

/// One change a change set would make (`Changes[].ResourceChange`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedChange {
    pub action: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub replacement: Option<String>,
    pub scope: Vec<String>,
    pub details: Vec<PlannedDetail>,
}

/// One `ResourceChangeDetail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedDetail {
    pub attribute: String,
    pub name: Option<String>,
    pub requires_recreation: String,
    pub evaluation: String,
    pub change_source: String,
    pub causing_entity: Option<String>,
}

/// A change set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeSet {
    pub change_set_id: String,
    pub change_set_name: String,
    pub stack_id: String,
    pub stack_name: String,
    pub change_set_type: String,
    pub description: Option<String>,
    pub status: ChangeSetStatus,
    pub status_reason: Option<String>,
    /// `UNAVAILABLE`, `AVAILABLE`, `EXECUTE_IN_PROGRESS`, `EXECUTE_COMPLETE`,
    /// `EXECUTE_FAILED` or `OBSOLETE`.
    pub execution_status: String,
    pub creation_time: i64,
    pub deployment: Deployment,
    pub changes: Vec<PlannedChange>,
}

/// CloudFormation's state in the sandbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CloudFormationState {
    pub stacks: Vec<Stack>,
    pub change_sets: Vec<ChangeSet>,
}

impl CloudFormationState {
    /// The live stack named `name_or_id` (a name or a stack id) in `region`;
    /// a deleted stack is found by its id only, as on AWS.
    pub fn stack(&self, region: &str, name_or_id: &str) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.region == region && matches_stack(s, name_or_id))
    }

    pub(super) fn stack_index(&self, region: &str, name_or_id: &str) -> Option<usize> {
        self.stacks.iter().position(|s| s.region == region && matches_stack(s, name_or_id))
    }

    /// Every export of the live stacks in `region`: (name, value, exporting stack id).
    pub fn exports(&self, region: &str) -> Vec<(String, String, String)> {
        self.stacks
            .iter()
            .filter(|s| s.region == region && s.is_live() && s.status.has_outputs())
            .flat_map(|s| {
                s.outputs.iter().filter_map(move |output| {
                    output.export_name.as_ref().map(|name| (name.clone(), output.value.clone(), s.stack_id.clone()))
                })
            })
            .collect()
    }

    /// Whether any stack has work due at `now`.
    pub fn has_due(&self, now: i64) -> bool {
        self.stacks.iter().any(|s| s.operation.as_ref().is_some_and(|op| op.next_due <= now))
    }
}

fn matches_stack(stack: &Stack, name_or_id: &str) -> bool {
    if name_or_id.starts_with("arn:") {
        stack.stack_id == name_or_id
    } else {
        stack.stack_name == name_or_id && stack.is_live()
    }
}

/// Masks a `NoEcho` parameter value as DescribeStacks does.
pub fn shown_value(parameter: &StackParameter) -> String {
    if parameter.no_echo { "****".to_owned() } else { parameter.value.clone() }
}
