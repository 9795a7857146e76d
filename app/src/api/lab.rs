//! The setup wizard's data and server functions: where the lab stands, what
//! each section's stack creates and asks for, change-set previews, deployments
//! with their live progress, and teardown.
//!
//! Server functions reach AWS and SQLite only through [`port::LabBackend`],
//! which the server crate implements and provides as context
//! ([`port::Lab`]).

use keywatch_domain::lab::LabSection;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A stack's status as DescribeStacks reports it; `status` is `None` when
/// there is no such stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackState {
    pub stack_name: String,
    pub status: Option<String>,
    /// CloudFormation's `StackStatusReason`.
    pub reason: Option<String>,
    pub outputs: Vec<StackOutputView>,
}

impl StackState {
    /// CloudFormation is still working on the stack. A stack in
    /// `REVIEW_IN_PROGRESS` waits for its first change set to be executed,
    /// which may never happen: nothing is working on it.
    pub fn in_progress(&self) -> bool {
        self.status.as_deref().is_some_and(|status| status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS")
    }

    /// The stack exists (a deleted stack does not).
    pub fn exists(&self) -> bool {
        self.status.as_deref().is_some_and(|status| status != "DELETE_COMPLETE")
    }

    /// The stack was created or updated successfully and is usable.
    pub fn is_ready(&self) -> bool {
        matches!(self.status.as_deref(), Some("CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE"))
    }

    /// The status in words for people new to CloudFormation.
    pub fn label(&self) -> String {
        match self.status.as_deref() {
            None | Some("DELETE_COMPLETE") => "Not deployed".to_owned(),
            Some("REVIEW_IN_PROGRESS") => "Not deployed (change set under review)".to_owned(),
            Some(status) => status.to_owned(),
        }
    }
}

/// One stack output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackOutputView {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
}

/// One section's stack at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionStatus {
    pub section: LabSection,
    pub stack: StackState,
}

/// The whole lab at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabOverview {
    /// The prefix the stacks are named by: the last one deployed, or the lab's.
    pub prefix: String,
    pub sections: Vec<SectionStatus>,
    /// The lab under `prefix` was deployed by hand and adopted: its stacks
    /// keep their own names and templates.
    #[serde(default)]
    pub adopted: bool,
    /// Labs deployed by hand that the account holds and Keywatch does not
    /// manage yet, recognised by what their stacks contain.
    #[serde(default)]
    pub found: Vec<FoundLab>,
}

/// A lab found in the account: each section's stack, if it has one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundLab {
    pub base: Option<String>,
    pub application: Option<String>,
    pub logging: Option<String>,
}

/// `adopt_lab`'s input: the found lab's stacks, as the overview listed them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptRequest {
    #[serde(default)]
    pub base: String,
    #[serde(default)]
    pub application: String,
    #[serde(default)]
    pub logging: String,
}

/// A resource the section's template declares, and what it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePlan {
    pub logical_id: String,
    pub resource_type: String,
    pub purpose: String,
}

/// One form field, from the template's `Parameters` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterField {
    pub key: String,
    pub parameter_type: String,
    pub description: Option<String>,
    pub default: Option<String>,
    pub allowed_values: Vec<String>,
    /// What the field starts with: the stack's current value, or the default.
    pub value: String,
    /// The template's declaration, so the browser checks values exactly as
    /// CloudFormation will without shipping the template parser.
    pub declaration: keywatch_domain::cloudformation::ParameterDecl,
}

/// A parameter the console fills in from earlier stacks' outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WiredValue {
    pub key: String,
    pub value: String,
}

/// A resource of the stack and where CloudFormation is with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceProgress {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// One stack event as recorded by the stack watcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub event_id: String,
    /// RFC 3339, UTC.
    pub timestamp: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// What a deployment (or a stack deletion) did, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentView {
    pub id: i64,
    pub actor: String,
    pub section: LabSection,
    pub stack_name: String,
    /// `create`, `update` or `delete`.
    pub action: String,
    pub change_set_id: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `succeeded` or `failed`; `None` while CloudFormation works.
    pub outcome: Option<String>,
    pub final_status: Option<String>,
    pub status_reason: Option<String>,
}

/// The stack's live state: what the page polls while CloudFormation works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionLive {
    pub stack: StackState,
    pub resources: Vec<ResourceProgress>,
    /// Resources CloudFormation has finished with.
    pub done: usize,
    /// Resources the stack has (or its template declares, before it exists).
    pub total: usize,
    /// Recorded events, oldest first.
    pub events: Vec<EventView>,
    /// The most recent deployment of this stack.
    pub deployment: Option<DeploymentView>,
}

/// The application section's image: where it goes and whether it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageStatus {
    pub repository_name: Option<String>,
    pub repository_uri: Option<String>,
    /// `None` when the repository cannot be asked (no base stack yet).
    pub image_present: Option<bool>,
    /// The commands that build and push `workload/`'s image.
    pub push_commands: Vec<String>,
    /// On the sandbox the application runs without a pushed image.
    pub sandbox: bool,
}

/// Everything a section page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionDetail {
    pub section: LabSection,
    pub prefix: String,
    pub stack_name: String,
    pub description: Option<String>,
    pub resources: Vec<ResourcePlan>,
    pub fields: Vec<ParameterField>,
    pub wired: Vec<WiredValue>,
    /// Why the wired parameters cannot be filled in yet.
    pub wiring_problem: Option<String>,
    /// Sections to complete first.
    pub missing_prerequisites: Vec<LabSection>,
    pub live: SectionLive,
    pub image: Option<ImageStatus>,
}

/// Which section, under which prefix (`None`: the current one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionRequest {
    pub section: LabSection,
    pub prefix: Option<String>,
}

/// A deployment to preview: the form's values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRequest {
    pub section: LabSection,
    pub prefix: String,
    /// Form values by parameter key; wired parameters are the console's own.
    pub parameters: Vec<(String, String)>,
}

/// One change of a change set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeView {
    /// `Add`, `Modify`, `Remove`.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// `True`, `False` or `Conditional` for modifications.
    pub replacement: Option<String>,
}

/// What a deployment would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PreviewOutcome {
    /// A change set ready to execute.
    Changes { change_set_id: String, update: bool, changes: Vec<ChangeView> },
    /// The stack already matches: CloudFormation found nothing to change.
    NoChanges,
}

/// Executes a previewed change set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployRequest {
    pub section: LabSection,
    pub prefix: String,
    pub change_set_id: String,
}

/// Something teardown could not remove, and how to remove it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leftover {
    pub what: String,
    pub name: String,
    pub how_to_remove: String,
    /// Set when the console can remove it itself (a button on the page).
    #[serde(default)]
    pub removal: Option<LeftoverRemoval>,
}

/// How the console removes a leftover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeftoverRemoval {
    /// RDS `DeleteDBSnapshot` on the leftover's name.
    DeleteDbSnapshot,
}

/// Removes one leftover of the last teardown of `prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveLeftoverRequest {
    pub prefix: String,
    pub name: String,
}

/// One step of a teardown and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeardownStep {
    pub title: String,
    /// `pending`, `running`, `done`, `skipped`, `failed`.
    pub state: String,
    pub detail: Option<String>,
}

/// Where a teardown of the lab stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeardownStatus {
    pub prefix: String,
    pub stacks: Vec<SectionStatus>,
    /// A teardown is running now.
    pub running: bool,
    /// The steps of the current or last teardown (empty before the first).
    pub steps: Vec<TeardownStep>,
    pub leftovers: Vec<Leftover>,
    /// When the last teardown ended (RFC 3339), so an old run reads as old.
    #[serde(default)]
    pub finished_at: Option<String>,
}

/// Starts tearing the lab down; `confirmation` must repeat the prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeardownRequest {
    pub prefix: String,
    pub confirmation: String,
}

/// Which prefix's teardown to show (`None`: the current one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeardownQuery {
    pub prefix: Option<String>,
}

/// The whole lab at a glance.
#[server(endpoint = "lab/overview")]
pub async fn get_lab_overview() -> Result<LabOverview, AppError> {
    crate::api::port::<port::Lab>()?.0.overview().await
}

/// A section page's content.
#[server(endpoint = "lab/section", input = Json)]
pub async fn get_section_detail(request: SectionRequest) -> Result<SectionDetail, AppError> {
    crate::api::port::<port::Lab>()?.0.section(request).await
}

/// A section's stack, resources and events now (polled while in progress).
#[server(endpoint = "lab/live", input = Json)]
pub async fn get_section_live(request: SectionRequest) -> Result<SectionLive, AppError> {
    crate::api::port::<port::Lab>()?.0.live(request).await
}

/// Creates a change set for the form's values and says what it would change.
#[server(endpoint = "lab/preview", input = Json)]
pub async fn preview_section(request: PreviewRequest) -> Result<PreviewOutcome, AppError> {
    crate::api::port::<port::Lab>()?.0.preview(request).await
}

/// Executes a previewed change set; the stack watcher follows it from here.
#[server(endpoint = "lab/deploy", input = Json)]
pub async fn deploy_section(request: DeployRequest) -> Result<DeploymentView, AppError> {
    crate::api::port::<port::Lab>()?.0.deploy(request).await
}

/// Where teardown stands, with what it would delete.
#[server(endpoint = "lab/teardown-status", input = Json)]
pub async fn get_teardown_status(query: TeardownQuery) -> Result<TeardownStatus, AppError> {
    crate::api::port::<port::Lab>()?.0.teardown_status(query).await
}

/// Starts tearing the lab down in the background.
#[server(endpoint = "lab/teardown", input = Json)]
pub async fn start_teardown(request: TeardownRequest) -> Result<TeardownStatus, AppError> {
    crate::api::port::<port::Lab>()?.0.teardown(request).await
}

/// Deletes one section's stack (a failed one, to try again) without
/// touching the others; refused while a later section's stack uses it.
#[server(endpoint = "lab/delete-section", input = Json)]
pub async fn delete_section(request: SectionRequest) -> Result<SectionLive, AppError> {
    crate::api::port::<port::Lab>()?.0.delete_section(request).await
}

/// Removes something the last teardown left behind (an RDS final
/// snapshot); only leftovers that teardown recorded can be removed this way.
#[server(endpoint = "lab/remove-leftover", input = Json)]
pub async fn remove_leftover(request: RemoveLeftoverRequest) -> Result<TeardownStatus, AppError> {
    crate::api::port::<port::Lab>()?.0.remove_leftover(request).await
}

/// Adopts a lab deployed by hand (audited): Keywatch manages its stacks,
/// alarm and topic from then on, and tears it down when asked.
#[server(endpoint = "lab/adopt")]
pub async fn adopt_lab(request: AdoptRequest) -> Result<LabOverview, AppError> {
    crate::api::port::<port::Lab>()?.0.adopt(request).await
}

/// The port between the wizard's server functions and the server crate.
#[cfg(feature = "ssr")]
pub mod port {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;

    /// What the wizard's server functions ask of the server.
    #[async_trait]
    pub trait LabBackend: Send + Sync + 'static {
        /// Each section's stack status under the current prefix.
        async fn overview(&self) -> Result<LabOverview, AppError>;
        /// A section page's content.
        async fn section(&self, request: SectionRequest) -> Result<SectionDetail, AppError>;
        /// The section's stack now, with recorded events.
        async fn live(&self, request: SectionRequest) -> Result<SectionLive, AppError>;
        /// A change set for the given values.
        async fn preview(&self, request: PreviewRequest) -> Result<PreviewOutcome, AppError>;
        /// Executes a change set and records the deployment.
        async fn deploy(&self, request: DeployRequest) -> Result<DeploymentView, AppError>;
        /// Where teardown stands.
        async fn teardown_status(&self, query: TeardownQuery) -> Result<TeardownStatus, AppError>;
        /// Starts a teardown after checking the confirmation.
        async fn teardown(&self, request: TeardownRequest) -> Result<TeardownStatus, AppError>;
        /// Removes a leftover the last teardown recorded.
        async fn remove_leftover(&self, request: RemoveLeftoverRequest) -> Result<TeardownStatus, AppError>;
        /// Starts deleting one section's stack; the others stay.
        async fn delete_section(&self, request: SectionRequest) -> Result<SectionLive, AppError>;
        /// Adopts one of the labs the overview found.
        async fn adopt(&self, request: AdoptRequest) -> Result<LabOverview, AppError>;
    }

    /// The lab backend as Leptos context.
    #[derive(Clone)]
    pub struct Lab(pub Arc<dyn LabBackend>);
}
