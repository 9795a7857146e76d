//! The server's side of the wizard's port ([`LabBackend`]): section pages,
//! change-set previews and deployments through CloudFormation, and teardown
//! (ECR, the three stacks, the retained trail bucket) running in the
//! background. Deployments are recorded in SQLite; the stack watcher follows
//! them from there.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use keywatch_app::api::connection::AwsMode;
use keywatch_app::api::lab::port::LabBackend;
use keywatch_app::api::lab::{
    AdoptRequest, ChangeView, DeployRequest, DeploymentView, FoundLab, ImageStatus, LabOverview, Leftover,
    LeftoverRemoval, ParameterField, PreviewOutcome, PreviewRequest, RemoveLeftoverRequest, ResourcePlan,
    ResourceProgress, SectionDetail, SectionLive, SectionRequest, SectionStatus, StackOutputView, StackState,
    TeardownQuery, TeardownRequest, TeardownStatus, TeardownStep, WiredValue,
};
use keywatch_app::error::AppError;
use keywatch_domain::cloudformation::{SuppliedParameter, Template, resolve_parameters};
use keywatch_domain::lab::{self, LabSection, LabStacks, Prefix};

use crate::aws::Aws;
use crate::aws::cloudformation::{ChangeSetOutcome, StackDescription, StackRequest};
use crate::clock::now_ms;
use crate::db::Database;
use crate::db::audit::{AuditEntry, actions};
use crate::db::deployments::{CONSOLE_ACTOR, NewDeployment, PlannedResource};

/// How many recorded events a section page shows.
const EVENTS_SHOWN: u32 = 300;

/// How often teardown checks on a stack it is deleting.
const TEARDOWN_POLL: Duration = Duration::from_secs(1);

/// Longest teardown waits for one stack: CloudFormation's deletions of the
/// lab's stacks (RDS, NAT gateway) take minutes, never this long.
const TEARDOWN_STACK_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// The wizard's backend: CloudFormation, ECR and S3 through the SDK,
/// deployments in SQLite.
#[derive(Clone)]
pub struct ServerLab {
    aws: Aws,
    db: Database,
    region: String,
    sandbox: bool,
    teardown: Arc<Mutex<Option<TeardownStatus>>>,
    /// The `teardowns` row of the current or last teardown.
    teardown_row: Arc<Mutex<Option<i64>>>,
    /// The notification inbox's queue, which teardown deletes: one queue
    /// for every lab's topics, named after the pollers' prefix (not after
    /// the lab torn down, which may be adopted and filed under another).
    inbox_queue: String,
}

impl ServerLab {
    /// The wizard's backend, on live AWS or the built-in sandbox (`mode`).
    pub fn new(aws: Aws, db: Database, region: String, mode: AwsMode) -> ServerLab {
        ServerLab {
            aws,
            db,
            region,
            sandbox: mode == AwsMode::Sandbox,
            teardown: Arc::new(Mutex::new(None)),
            teardown_row: Arc::new(Mutex::new(None)),
            // `serve` runs the pollers with `PollerConfig::new`'s prefix.
            inbox_queue: crate::pollers::inbox::queue_name(crate::pollers::DEFAULT_LAB_PREFIX),
        }
    }

    /// Starts again a teardown the console was running when it stopped;
    /// every step is safe to repeat. Returns whether there was one.
    pub async fn resume_teardown(&self) -> Result<bool, AppError> {
        let Some(stored) = self.db.teardowns().unfinished().await? else { return Ok(false) };
        let prefix = parse_prefix(&stored.status.prefix)?;
        // Every step runs again from the first, so each starts out pending.
        *self.teardown_state() = Some(TeardownStatus {
            running: true,
            steps: teardown_steps(&self.stacks(&prefix).await?.0, &prefix),
            leftovers: Vec::new(),
            finished_at: None,
            ..stored.status
        });
        *self.teardown_row.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(stored.id);
        tokio::spawn(self.clone().run_teardown(prefix));
        Ok(true)
    }

    /// The final snapshots of DB instance `instance`, as leftovers the page
    /// can delete; if RDS cannot be asked, how to find them by hand.
    async fn final_snapshots(&self, instance: &str) -> Vec<Leftover> {
        match self.aws.rds().manual_snapshots(instance).await {
            Ok(snapshots) => snapshots
                .into_iter()
                .map(|snapshot| Leftover {
                    what: "RDS final snapshot".to_owned(),
                    how_to_remove: format!(
                        "aws rds delete-db-snapshot --db-snapshot-identifier {}",
                        snapshot.identifier
                    ),
                    name: snapshot.identifier,
                    removal: Some(LeftoverRemoval::DeleteDbSnapshot),
                })
                .collect(),
            Err(error) => {
                tracing::warn!(%error, "the final snapshots could not be listed");
                vec![Leftover {
                    what: "RDS final snapshot".to_owned(),
                    name: format!("final snapshot of {instance}"),
                    how_to_remove: format!(
                        "aws rds describe-db-snapshots --db-instance-identifier {instance} --snapshot-type manual, \
                         then aws rds delete-db-snapshot --db-snapshot-identifier <the snapshot's id>"
                    ),
                    removal: None,
                }]
            }
        }
    }

    /// Records the teardown's steps in SQLite; a failure to record does not
    /// stop the teardown itself.
    async fn persist_teardown(&self, finished: bool) {
        let row = *self.teardown_row.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let status = self.teardown_state().clone();
        if let (Some(id), Some(status)) = (row, status)
            && let Err(error) = self.db.teardowns().update(id, &status, finished.then(now_ms)).await
        {
            tracing::warn!(%error, "teardown progress could not be recorded");
        }
    }

    /// The stacks of the lab under `prefix` (an adopted lab's own names),
    /// and whether it was adopted.
    pub async fn stacks(&self, prefix: &Prefix) -> Result<(LabStacks, bool), AppError> {
        crate::adoption::lab_stacks(&self.db, prefix).await
    }

    /// The stack of `section` in the lab under `prefix`: the adopted stack,
    /// else Keywatch's `<prefix>-<suffix>` (also for a section an adopted lab
    /// lacks, which then reads as not deployed).
    pub async fn lab_stack_name(&self, section: LabSection, prefix: &Prefix) -> Result<String, AppError> {
        let (stacks, _) = self.stacks(prefix).await?;
        match stacks.name(section) {
            Some(name) => Ok(name.to_owned()),
            None => stack_name(section, prefix),
        }
    }

    /// Refuses to deploy Keywatch's template over an adopted lab's stack:
    /// it keeps the template its user deployed (thresholds change in it
    /// through the Alarms page).
    async fn refuse_adopted(&self, prefix: &Prefix) -> Result<(), AppError> {
        if self.stacks(prefix).await?.1 {
            return Err(AppError::Conflict(format!(
                "The lab {} was deployed by hand and adopted: its stacks keep their own templates. Change its \
                 alarm on the Alarms page, or tear it down",
                prefix.as_str()
            )));
        }
        Ok(())
    }

    async fn current_prefix(&self, given: Option<String>) -> Result<Prefix, AppError> {
        match given.filter(|given| !given.trim().is_empty()) {
            Some(given) => parse_prefix(&given),
            None => Ok(self
                .db
                .deployments()
                .latest_prefix()
                .await?
                .and_then(|prefix| Prefix::parse(&prefix).ok())
                .unwrap_or_default()),
        }
    }

    /// Executes the previewed change set and records the deployment.
    /// `known` is what the caller has just learnt: the section's stack as
    /// described, and the change set's changes; what it has not is read here.
    async fn execute_deployment(
        &self,
        request: DeployRequest,
        known: Option<(StackDescription, Vec<PlannedResource>)>,
    ) -> Result<DeploymentView, AppError> {
        let prefix = parse_prefix(&request.prefix)?;
        self.refuse_adopted(&prefix).await?;
        let stack_name = self.lab_stack_name(request.section, &prefix).await?;
        let (before, known_plan) = match known {
            Some((stack, plan)) => (Some(stack), Some(plan)),
            None => (self.describe(&stack_name).await?, None),
        };
        // A CREATE change set leaves the new stack in REVIEW_IN_PROGRESS.
        let action = match &before {
            Some(stack) if stack.status != "REVIEW_IN_PROGRESS" && stack.status != "DELETE_COMPLETE" => "update",
            _ => "create",
        };
        // What the change set will do, read before executing it: CloudFormation
        // deletes a stack's change sets once one is executed. Progress is
        // counted against it; without it the page counts what exists.
        let plan: Vec<PlannedResource> = match known_plan {
            Some(plan) => plan,
            None => match self.aws.cloudformation().change_set_changes(&request.change_set_id).await {
                Ok(changes) => changes
                    .into_iter()
                    .map(|change| PlannedResource {
                        logical_id: change.logical_id,
                        resource_type: change.resource_type,
                        action: change.action,
                    })
                    .collect(),
                Err(error) => {
                    tracing::warn!(%error, "the change set's plan could not be read; progress counts what exists");
                    Vec::new()
                }
            },
        };
        self.aws.cloudformation().execute_change_set(&request.change_set_id).await?;
        let deployment = NewDeployment {
            // The audit log names them when the watcher records the outcome.
            actor: crate::auth::current_user(),
            section: request.section,
            prefix: prefix.as_str().to_owned(),
            stack_id: before.map(|stack| stack.stack_id),
            stack_name,
            action,
            change_set_id: Some(request.change_set_id),
            started_at_ms: now_ms(),
        };
        let deployment = self.db.deployments().insert(deployment).await?;
        self.db.deployments().insert_plan(deployment.id, &plan).await?;
        Ok(deployment)
    }

    /// Checks the confirmation and starts tearing the lab down in the background.
    async fn start_teardown(&self, request: TeardownRequest) -> Result<TeardownStatus, AppError> {
        let prefix = parse_prefix(&request.prefix)?;
        if request.confirmation.trim() != prefix.as_str() {
            return Err(AppError::InvalidInput {
                field: Some("confirmation".to_owned()),
                message: format!("type {} to confirm", prefix.as_str()),
            });
        }
        let (stacks, _) = self.stacks(&prefix).await?;
        {
            let mut state = self.teardown_state();
            if state.as_ref().is_some_and(|run| run.running) {
                return Err(AppError::Conflict("a teardown is already running".to_owned()));
            }
            *state = Some(TeardownStatus {
                prefix: prefix.as_str().to_owned(),
                stacks: Vec::new(),
                running: true,
                steps: teardown_steps(&stacks, &prefix),
                leftovers: Vec::new(),
                finished_at: None,
            });
        }
        let status = self.teardown_state().clone();
        if let Some(status) = status {
            let id = self.db.teardowns().insert(CONSOLE_ACTOR, now_ms(), &status).await?;
            *self.teardown_row.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(id);
        }
        tokio::spawn(self.clone().run_teardown(prefix.clone()));
        self.teardown_status(TeardownQuery { prefix: Some(prefix.as_str().to_owned()) }).await
    }

    /// The prefix the wizard deployed last (the deployments table), else
    /// the lab's own: no AWS call.
    pub async fn prefix(&self) -> Result<Prefix, AppError> {
        self.current_prefix(None).await
    }

    /// A change set for `section` under `prefix` with the form's
    /// `parameters`, as the wizard's preview makes it. `described` is the
    /// section's stack as the caller has just described it, if it has
    /// (otherwise it is described here).
    pub async fn section_change_set(
        &self,
        section: LabSection,
        prefix: &Prefix,
        parameters: &[(String, String)],
        described: Option<&StackDescription>,
    ) -> Result<PreviewOutcome, AppError> {
        // Every path that deploys Keywatch's template comes through here
        // (the wizard's preview, the Alarms page's detections).
        self.refuse_adopted(prefix).await?;
        let template = template(section)?;
        let name = self.lab_stack_name(section, prefix).await?;
        // The form is checked before anything is sent to AWS.
        let form = checked_form(&template, parameters, &wired_keys(section, prefix))?;
        let earlier = self.earlier_stacks(section, prefix).await?;
        for prerequisite in section.prerequisites() {
            let stack = earlier.get(&prerequisite.number()).cloned().flatten();
            if !state_of(&self.lab_stack_name(*prerequisite, prefix).await?, stack).is_ready() {
                return Err(AppError::Conflict(format!("deploy {} first", prerequisite.title())));
            }
        }
        let lookup =
            |from: LabSection, key: &str| earlier.get(&from.number()).and_then(|stack| output(stack.as_ref(), key));
        let wired = lab::wired_parameters(section, prefix, &lookup)
            .map_err(|missing| AppError::Conflict(missing.to_string()))?;
        let parameters = with_wired(&template, form, wired)?;
        let existing = match described {
            Some(stack) => Some(stack.clone()),
            None => self.describe(&name).await?,
        };
        let update = match &existing {
            Some(stack) if stack.status.ends_with("_IN_PROGRESS") && stack.status != "REVIEW_IN_PROGRESS" => {
                return Err(AppError::Conflict(format!(
                    "{name} is busy ({}); wait for CloudFormation to finish",
                    stack.status
                )));
            }
            Some(stack) if stack.status == "ROLLBACK_COMPLETE" => {
                return Err(AppError::Conflict(format!(
                    "{name} failed to create (ROLLBACK_COMPLETE) and cannot be updated: delete this section's \
                     stack below, then preview again (the other sections stay)"
                )));
            }
            Some(stack) => stack.status != "DELETE_COMPLETE" && stack.status != "REVIEW_IN_PROGRESS",
            None => false,
        };
        self.create_change_set(section, &name, &parameters, update).await
    }

    /// Executes a change set [`ServerLab::section_change_set`] made, with
    /// the `changes` it listed, for the section's stack `described` (as the
    /// caller has just described it), and records the deployment, which the
    /// stack watcher then follows; one that never started is audited.
    pub async fn deploy_described(
        &self,
        request: DeployRequest,
        described: StackDescription,
        changes: &[ChangeView],
    ) -> Result<DeploymentView, AppError> {
        let plan = changes
            .iter()
            .map(|change| PlannedResource {
                logical_id: change.logical_id.clone(),
                resource_type: change.resource_type.clone(),
                action: change.action.clone(),
            })
            .collect();
        self.audited_deployment(request, Some((described, plan))).await
    }

    async fn audited_deployment(
        &self,
        request: DeployRequest,
        known: Option<(StackDescription, Vec<PlannedResource>)>,
    ) -> Result<DeploymentView, AppError> {
        let target = format!("{} ({}) change set {}", request.section.title(), request.prefix, request.change_set_id);
        let result = self.execute_deployment(request, known).await;
        // A started deployment is audited by the stack watcher when
        // CloudFormation finishes it, with its real outcome (a create that
        // rolls back is a failure); here only what never started.
        if result.is_err() {
            self.db
                .audit()
                .record(AuditEntry::of_result(crate::auth::current_user(), actions::LAB_DEPLOY, target, &result))
                .await;
        }
        result
    }

    /// CreateChangeSet for the section's stack, as the preview shows it.
    async fn create_change_set(
        &self,
        section: LabSection,
        name: &str,
        parameters: &[(String, String)],
        update: bool,
    ) -> Result<PreviewOutcome, AppError> {
        let stack_request = StackRequest {
            stack_name: name,
            template_body: section.template().unwrap_or_default(),
            parameters,
            capabilities: section.capabilities(),
            update,
        };
        let change_set_name = format!("keywatch-{}", now_ms());
        match self.aws.cloudformation().create_change_set(&stack_request, &change_set_name).await? {
            ChangeSetOutcome::Ready { change_set_id, changes } => Ok(PreviewOutcome::Changes {
                change_set_id,
                update,
                changes: changes
                    .into_iter()
                    .map(|change| ChangeView {
                        action: change.action,
                        logical_id: change.logical_id,
                        resource_type: change.resource_type,
                        replacement: change.replacement,
                    })
                    .collect(),
            }),
            ChangeSetOutcome::NoChanges => Ok(PreviewOutcome::NoChanges),
            ChangeSetOutcome::Failed { reason } => Err(AppError::InvalidInput { field: None, message: reason }),
        }
    }

    /// Every stack before `section`, described once each (`None` where
    /// there is none), by section number: for prerequisites and wiring.
    async fn earlier_stacks(
        &self,
        section: LabSection,
        prefix: &Prefix,
    ) -> Result<BTreeMap<u8, Option<StackDescription>>, AppError> {
        let mut stacks = BTreeMap::new();
        for earlier in LabSection::ALL.iter().filter(|earlier| earlier.number() < section.number()) {
            if earlier.stack_suffix().is_none() {
                continue;
            }
            let name = self.lab_stack_name(*earlier, prefix).await?;
            stacks.insert(earlier.number(), self.describe(&name).await?);
        }
        Ok(stacks)
    }

    async fn describe(&self, stack_name: &str) -> Result<Option<StackDescription>, AppError> {
        Ok(self.aws.cloudformation().describe_stack(stack_name).await?)
    }

    async fn stack_state(&self, stack_name: &str) -> Result<StackState, AppError> {
        Ok(state_of(stack_name, self.describe(stack_name).await?))
    }

    /// The outputs of every stack before `section`, for wiring.
    async fn earlier_outputs(
        &self,
        section: LabSection,
        prefix: &Prefix,
    ) -> Result<BTreeMap<(u8, String), String>, AppError> {
        let stacks = self.earlier_stacks(section, prefix).await?;
        Ok(stacks
            .into_iter()
            .flat_map(|(number, stack)| {
                stack.into_iter().flat_map(move |stack| {
                    stack.outputs.into_iter().map(move |output| ((number, output.key), output.value))
                })
            })
            .collect())
    }

    async fn section_live(&self, section: LabSection, prefix: &Prefix) -> Result<SectionLive, AppError> {
        let stack_name = self.lab_stack_name(section, prefix).await?;
        let stack = self.stack_state(&stack_name).await?;
        let resources = if stack.exists() {
            self.aws
                .cloudformation()
                .stack_resources(&stack_name)
                .await?
                .into_iter()
                .map(|resource| ResourceProgress {
                    logical_id: resource.logical_id,
                    resource_type: resource.resource_type,
                    status: resource.status,
                    reason: resource.reason,
                })
                .collect()
        } else {
            Vec::new()
        };
        let events = self.db.stack_events().for_stack(&stack_name, EVENTS_SHOWN).await?;
        let deployment = self.db.deployments().latest_for_stack(&stack_name).await?;
        let plan = match &deployment {
            Some(deployment) if stack.exists() => self.db.deployments().plan(deployment.id).await?,
            _ => Vec::new(),
        };
        let (resources, done, total) = match (&deployment, plan.is_empty()) {
            (Some(deployment), false) => {
                let completed = self.db.stack_events().completed_resources(deployment.id).await?;
                progress_against_plan(resources, &plan, &completed)
            }
            // A stack the wizard did not deploy: count what it has. Nothing
            // deployed: nothing to count (the preview lists what will be).
            _ => {
                let done = resources.iter().filter(|resource| resource.status.ends_with("_COMPLETE")).count();
                let total = resources.len();
                (resources, done, total)
            }
        };
        Ok(SectionLive { stack, resources, done, total, events, deployment })
    }

    async fn image_status(&self, outputs: &BTreeMap<(u8, String), String>) -> ImageStatus {
        let base = LabSection::BaseNetwork.number();
        let repository_name = outputs.get(&(base, lab::BASE_REPOSITORY_OUTPUT.to_owned())).cloned();
        let repository_uri = outputs.get(&(base, lab::BASE_REPOSITORY_URI_OUTPUT.to_owned())).cloned();
        let image_present = match &repository_name {
            Some(name) => match self.aws.ecr().image_count(name).await {
                Ok(count) => count.map(|count| count > 0),
                Err(error) => {
                    // The page still helps without it: it shows the commands.
                    tracing::warn!(%error, "could not ask ECR for the lab's image");
                    None
                }
            },
            None => None,
        };
        let push_commands =
            repository_uri.as_deref().map(|uri| lab::image_push_commands(uri, &self.region)).unwrap_or_default();
        ImageStatus { repository_name, repository_uri, image_present, push_commands, sandbox: self.sandbox }
    }

    /// The base stack's ECR repository (its output, else the template's name).
    async fn repository_name(&self, prefix: &Prefix) -> Result<String, AppError> {
        let base_name = self.lab_stack_name(LabSection::BaseNetwork, prefix).await?;
        let base = self.describe(&base_name).await?;
        Ok(output(base.as_ref(), lab::BASE_REPOSITORY_OUTPUT).unwrap_or_else(|| format!("{base_name}-simple-app")))
    }

    /// The application stack's database instance: its resource's physical
    /// id (the lab's own template lets CloudFormation name it), else
    /// Keywatch's template's `<stack>-db`.
    async fn database_instance(&self, prefix: &Prefix) -> Result<String, AppError> {
        let app_name = self.lab_stack_name(LabSection::Application, prefix).await?;
        if self.describe(&app_name).await?.is_some() {
            let resources = self.aws.cloudformation().stack_resources(&app_name).await?;
            if let Some(id) = resources
                .into_iter()
                .find(|resource| resource.resource_type == "AWS::RDS::DBInstance")
                .and_then(|resource| resource.physical_id)
                .filter(|id| !id.is_empty())
            {
                return Ok(id);
            }
        }
        Ok(format!("{app_name}-db"))
    }

    /// The logging stack's retained trail bucket (its output, else the
    /// template's name), `None` when neither can be worked out.
    async fn trail_bucket_name(&self, prefix: &Prefix) -> Result<Option<String>, AppError> {
        let logging_name = self.lab_stack_name(LabSection::LoggingAndAlarm, prefix).await?;
        let logging = self.describe(&logging_name).await?;
        if let Some(bucket) = output(logging.as_ref(), lab::LOGGING_TRAIL_BUCKET_OUTPUT) {
            return Ok(Some(bucket));
        }
        // The lab's own template names no bucket in its outputs (and lets
        // CloudFormation name it): the stack's resource says which it is.
        if logging.is_some()
            && let Some(bucket) = crate::adoption::logging_resources(&self.aws, &logging_name).await?.trail_bucket
        {
            return Ok(Some(bucket));
        }
        // Keywatch's template's BucketName: ${AWS::StackName}-trail-${AWS::AccountId}-${AWS::Region}.
        Ok(self
            .aws
            .sts()
            .caller_identity()
            .await
            .ok()
            .map(|identity| format!("{logging_name}-trail-{}-{}", identity.account_id, self.region)))
    }

    /// Checks that one section's stack may be deleted on its own, then
    /// deletes it in the background (emptying the base's repository first,
    /// and the logging stack's retained trail bucket after, as teardown
    /// does, so the section can be deployed again).
    async fn start_section_deletion(&self, request: SectionRequest) -> Result<SectionLive, AppError> {
        let section = request.section;
        let prefix = self.current_prefix(request.prefix).await?;
        self.refuse_adopted(&prefix).await?;
        if self.teardown_state().as_ref().is_some_and(|run| run.running) {
            return Err(AppError::Conflict("a teardown is running; it deletes every section".to_owned()));
        }
        let name = self.lab_stack_name(section, &prefix).await?;
        let Some(stack) = self.describe(&name).await?.filter(|stack| stack.status != "DELETE_COMPLETE") else {
            return Err(AppError::NotFound(format!("The stack {name}")));
        };
        if stack.status.ends_with("_IN_PROGRESS") && stack.status != "REVIEW_IN_PROGRESS" {
            return Err(AppError::Conflict(format!(
                "{name} is busy ({}); wait for CloudFormation to finish",
                stack.status
            )));
        }
        // CloudFormation will not delete a stack whose exports another stack
        // imports: the later sections go first, as in a teardown.
        for later in
            LabSection::ALL.iter().filter(|later| later.number() > section.number() && later.stack_suffix().is_some())
        {
            let later_name = self.lab_stack_name(*later, &prefix).await?;
            if self.describe(&later_name).await?.is_some_and(|stack| stack.status != "DELETE_COMPLETE") {
                return Err(AppError::Conflict(format!(
                    "Delete section {}. {} ({later_name}) first: it uses {name}'s outputs",
                    later.number(),
                    later.title()
                )));
            }
        }
        let repository = self.repository_name(&prefix).await?;
        let bucket = self.trail_bucket_name(&prefix).await?;
        // Read before the deletion starts: a fast deletion would leave nothing to read.
        let live = self.section_live(section, &prefix).await?;
        let lab = self.clone();
        let deleting = prefix.clone();
        tokio::spawn(async move {
            if section == LabSection::BaseNetwork
                && let Err(error) = lab.aws.ecr().delete_all_images(&repository).await
            {
                tracing::warn!(error = %error.user_message(), "the repository could not be emptied");
            }
            if let Err(reason) = lab.delete_stack(section, &deleting).await {
                tracing::warn!(%reason, "a section's stack could not be deleted");
                return;
            }
            if section == LabSection::LoggingAndAlarm
                && let Some(bucket) = bucket
                && let Err(error) = lab.aws.s3().empty_and_delete_bucket(&bucket).await
            {
                tracing::warn!(error = %error.user_message(), %bucket, "the retained trail bucket could not be deleted");
            }
        });
        Ok(live)
    }

    fn teardown_state(&self) -> MutexGuard<'_, Option<TeardownStatus>> {
        // A panic elsewhere cannot leave the status half-written: every
        // update replaces whole fields.
        self.teardown.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_step(&self, index: usize, state: &str, detail: Option<String>) {
        if let Some(run) = self.teardown_state().as_mut()
            && let Some(step) = run.steps.get_mut(index)
        {
            step.state = state.to_owned();
            step.detail = detail;
        }
    }

    /// Deletes the lab in order; each step's outcome is in the shared status.
    async fn run_teardown(self, prefix: Prefix) {
        let result = self.run_teardown_steps(&prefix).await;
        if let Some(run) = self.teardown_state().as_mut() {
            run.running = false;
            run.finished_at = Some(crate::clock::rfc3339(now_ms()));
        }
        if let Err(error) = result {
            tracing::warn!(?error, "teardown stopped");
        }
        self.persist_teardown(true).await;
    }

    async fn run_teardown_steps(&self, prefix: &Prefix) -> Result<(), AppError> {
        // Names are read before the stacks that report them are gone.
        let repository = self.repository_name(prefix).await?;
        let bucket = self.trail_bucket_name(prefix).await?;
        let database = self.database_instance(prefix).await?;

        self.set_step(0, "running", None);
        match self.aws.ecr().delete_all_images(&repository).await {
            Ok(Some(count)) => self.set_step(0, "done", Some(format!("{count} image(s) deleted from {repository}"))),
            Ok(None) => self.set_step(0, "skipped", Some(format!("no repository {repository}"))),
            // CloudFormation's own error will say more if the images block the deletion.
            Err(error) => self.set_step(0, "failed", Some(error.user_message())),
        }
        self.persist_teardown(false).await;

        let mut database_deleted = false;
        for (offset, section) in lab::TEARDOWN_ORDER.iter().enumerate() {
            let index = offset + 1;
            self.set_step(index, "running", None);
            self.persist_teardown(false).await;
            match self.delete_stack(*section, prefix).await {
                Ok((detail, existed)) => {
                    database_deleted |= existed && *section == LabSection::Application;
                    self.set_step(index, if existed { "done" } else { "skipped" }, Some(detail));
                }
                Err(reason) => {
                    self.set_step(index, "failed", Some(reason));
                    // Later stacks depend on this one: stop here.
                    return Ok(());
                }
            }
        }

        // An adopted lab's stacks are gone: nothing is left to manage.
        if self.stacks(prefix).await?.1 {
            self.db.adopted_labs().delete(prefix.as_str()).await?;
        }

        let last = lab::TEARDOWN_ORDER.len() + 1;
        self.set_step(last, "running", None);
        let mut leftovers = Vec::new();
        match bucket {
            None => self.set_step(last, "failed", Some("the bucket's name could not be worked out".to_owned())),
            Some(bucket) => match self.aws.s3().empty_and_delete_bucket(&bucket).await {
                Ok(Some(count)) => self.set_step(last, "done", Some(format!("{bucket}: {count} object(s) deleted"))),
                Ok(None) => self.set_step(last, "skipped", Some(format!("no bucket {bucket}"))),
                Err(error) => {
                    self.set_step(last, "failed", Some(error.user_message()));
                    leftovers.push(Leftover {
                        what: "CloudTrail bucket".to_owned(),
                        how_to_remove: format!("aws s3 rb s3://{bucket} --force"),
                        name: bucket,
                        removal: None,
                    });
                }
            },
        }
        // Keywatch's own notification inbox (no stack holds it). With the
        // alarm topics gone the inbox does not create it again; with another
        // lab's still there it makes the queue anew.
        let inbox = self.inbox_queue.clone();
        self.set_step(last + 1, "running", None);
        match self.aws.sqs().delete_queue_named(&inbox).await {
            Ok(true) => self.set_step(last + 1, "done", Some(format!("{inbox} deleted"))),
            Ok(false) => self.set_step(last + 1, "skipped", Some(format!("no queue {inbox}"))),
            Err(error) => {
                self.set_step(last + 1, "failed", Some(error.user_message()));
                leftovers.push(Leftover {
                    what: "Notification inbox queue".to_owned(),
                    how_to_remove: format!(
                        "aws sqs delete-queue --queue-url \"$(aws sqs get-queue-url --queue-name {inbox} --query QueueUrl --output text)\""
                    ),
                    name: inbox,
                    removal: None,
                });
            }
        }
        if database_deleted {
            // The database's DeletionPolicy is Snapshot (CloudFormation's
            // default for DB instances): deleting the stack leaves a final
            // snapshot, billed on AWS, until someone deletes it.
            // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
            leftovers.extend(self.final_snapshots(&database).await);
        }
        if let Some(run) = self.teardown_state().as_mut() {
            run.leftovers = leftovers;
        }
        Ok(())
    }

    /// Deletes one stack and waits for CloudFormation to finish. Says what
    /// happened and whether the stack existed; the error is CloudFormation's
    /// reason.
    async fn delete_stack(&self, section: LabSection, prefix: &Prefix) -> Result<(String, bool), String> {
        let name = self.lab_stack_name(section, prefix).await.map_err(|error| error.to_string())?;
        let stack = self.describe(&name).await.map_err(|error| error.to_string())?;
        let Some(stack) = stack.filter(|stack| stack.status != "DELETE_COMPLETE") else {
            return Ok((format!("{name} did not exist"), false));
        };
        let deployment = NewDeployment {
            actor: CONSOLE_ACTOR.to_owned(),
            section,
            prefix: prefix.as_str().to_owned(),
            stack_name: name.clone(),
            stack_id: Some(stack.stack_id.clone()),
            action: "delete",
            change_set_id: None,
            started_at_ms: now_ms(),
        };
        self.db.deployments().insert(deployment).await.map_err(|error| AppError::from(error).to_string())?;
        let cloudformation = self.aws.cloudformation();
        cloudformation.delete_stack(&stack.stack_id).await.map_err(|error| error.user_message())?;
        let started = tokio::time::Instant::now();
        while started.elapsed() < TEARDOWN_STACK_TIMEOUT {
            tokio::time::sleep(TEARDOWN_POLL).await;
            let now = cloudformation.describe_stack(&stack.stack_id).await.map_err(|error| error.user_message())?;
            match now {
                None => return Ok((format!("{name} deleted"), true)),
                Some(now) if now.status == "DELETE_COMPLETE" => return Ok((format!("{name} deleted"), true)),
                Some(now) if now.status == "DELETE_FAILED" => {
                    return Err(format!(
                        "{name}: DELETE_FAILED: {}",
                        now.status_reason.unwrap_or_else(|| "CloudFormation gave no reason".to_owned())
                    ));
                }
                Some(_) => {}
            }
        }
        Err(format!("{name} was still being deleted after an hour; see the CloudFormation console"))
    }
}

#[async_trait]
impl LabBackend for ServerLab {
    async fn overview(&self) -> Result<LabOverview, AppError> {
        let prefix = self.current_prefix(None).await?;
        let mut sections = Vec::new();
        for section in deployable() {
            let stack = self.stack_state(&self.lab_stack_name(section, &prefix).await?).await?;
            sections.push(SectionStatus { section, stack });
        }
        let (_, adopted) = self.stacks(&prefix).await?;
        let found = crate::adoption::find(&self.aws, &self.db)
            .await?
            .into_iter()
            .map(|lab| FoundLab { base: lab.base, application: lab.application, logging: lab.logging })
            .collect();
        Ok(LabOverview { prefix: prefix.as_str().to_owned(), sections, adopted, found })
    }

    async fn section(&self, request: SectionRequest) -> Result<SectionDetail, AppError> {
        let prefix = self.current_prefix(request.prefix).await?;
        let section = request.section;
        let template = template(section)?;
        let outputs = self.earlier_outputs(section, &prefix).await?;
        let lookup = |from: LabSection, key: &str| outputs.get(&(from.number(), key.to_owned())).cloned();
        let (wired, wiring_problem) = match lab::wired_parameters(section, &prefix, &lookup) {
            Ok(wired) => {
                (wired.into_iter().map(|w| WiredValue { key: w.key.to_owned(), value: w.value }).collect(), None)
            }
            Err(missing) => (Vec::new(), Some(missing.to_string())),
        };
        let mut missing_prerequisites = Vec::new();
        for prerequisite in section.prerequisites() {
            if !self.stack_state(&self.lab_stack_name(*prerequisite, &prefix).await?).await?.is_ready() {
                missing_prerequisites.push(*prerequisite);
            }
        }
        let live = self.section_live(section, &prefix).await?;
        let current = match self.describe(&live.stack.stack_name).await? {
            Some(stack) if stack.status != "DELETE_COMPLETE" => stack.parameters.into_iter().collect(),
            _ => BTreeMap::new(),
        };
        let wired_keys = wired_keys(section, &prefix);
        let fields = template
            .parameters
            .iter()
            .filter(|(key, _)| !wired_keys.contains(&key.as_str()))
            .map(|(key, declaration)| ParameterField {
                key: key.clone(),
                parameter_type: declaration.parameter_type.clone(),
                description: declaration.description.clone(),
                default: declaration.default.clone(),
                allowed_values: declaration.allowed_values.clone(),
                value: current.get(key).or(declaration.default.as_ref()).cloned().unwrap_or_default(),
                declaration: declaration.clone(),
            })
            .collect();
        let resources = template
            .resources
            .iter()
            .map(|(logical_id, resource)| ResourcePlan {
                logical_id: logical_id.clone(),
                resource_type: resource.resource_type.clone(),
                purpose: lab::resource_purpose(&resource.resource_type).to_owned(),
            })
            .collect();
        let image = if section == LabSection::Application { Some(self.image_status(&outputs).await) } else { None };
        Ok(SectionDetail {
            section,
            stack_name: self.lab_stack_name(section, &prefix).await?,
            prefix: prefix.as_str().to_owned(),
            description: template.description.clone(),
            resources,
            fields,
            wired,
            wiring_problem,
            missing_prerequisites,
            live,
            image,
        })
    }

    async fn live(&self, request: SectionRequest) -> Result<SectionLive, AppError> {
        let prefix = self.current_prefix(request.prefix).await?;
        self.section_live(request.section, &prefix).await
    }

    async fn preview(&self, request: PreviewRequest) -> Result<PreviewOutcome, AppError> {
        let prefix = parse_prefix(&request.prefix)?;
        self.section_change_set(request.section, &prefix, &request.parameters, None).await
    }

    async fn deploy(&self, request: DeployRequest) -> Result<DeploymentView, AppError> {
        self.audited_deployment(request, None).await
    }

    async fn teardown_status(&self, query: TeardownQuery) -> Result<TeardownStatus, AppError> {
        let prefix = self.current_prefix(query.prefix).await?;
        let mut stacks = Vec::new();
        for section in lab::TEARDOWN_ORDER {
            let stack = self.stack_state(&self.lab_stack_name(section, &prefix).await?).await?;
            stacks.push(SectionStatus { section, stack });
        }
        let mut run = self.teardown_state().clone();
        if run.is_none() {
            // After a restart, the last teardown as recorded.
            run = self.db.teardowns().latest().await?.map(|stored| stored.status);
        }
        let run = run.filter(|run| run.prefix == prefix.as_str());
        Ok(match run {
            Some(run) => TeardownStatus { stacks, ..run },
            None => TeardownStatus {
                prefix: prefix.as_str().to_owned(),
                stacks,
                running: false,
                steps: Vec::new(),
                leftovers: Vec::new(),
                finished_at: None,
            },
        })
    }

    async fn delete_section(&self, request: SectionRequest) -> Result<SectionLive, AppError> {
        let target = format!("{} ({})", request.section.title(), request.prefix.clone().unwrap_or_default());
        let result = self.start_section_deletion(request).await;
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::LAB_DELETE_SECTION, target, &result))
            .await;
        result
    }

    async fn teardown(&self, request: TeardownRequest) -> Result<TeardownStatus, AppError> {
        let target = format!("lab prefix {}", request.prefix);
        let result = self.start_teardown(request).await;
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::LAB_TEARDOWN, target, &result))
            .await;
        result
    }

    async fn adopt(&self, request: AdoptRequest) -> Result<LabOverview, AppError> {
        crate::adoption::adopt(&self.aws, &self.db, &request).await?;
        self.overview().await
    }

    async fn remove_leftover(&self, request: RemoveLeftoverRequest) -> Result<TeardownStatus, AppError> {
        let target = request.name.clone();
        let result = self.remove_recorded_leftover(request).await;
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::LEFTOVER_REMOVE, target, &result))
            .await;
        result
    }
}

impl ServerLab {
    /// Removes one leftover the last teardown of its prefix recorded.
    async fn remove_recorded_leftover(&self, request: RemoveLeftoverRequest) -> Result<TeardownStatus, AppError> {
        let prefix = parse_prefix(&request.prefix)?;
        let not_recorded = || AppError::InvalidInput {
            field: None,
            message: "that is not something the last teardown left behind".to_owned(),
        };
        // Only what teardown recorded can be removed: the console never
        // deletes an arbitrary snapshot named by a request.
        let mut stored = self
            .db
            .teardowns()
            .latest()
            .await?
            .filter(|s| s.status.prefix == prefix.as_str())
            .ok_or_else(not_recorded)?;
        if stored.status.running {
            return Err(AppError::Conflict("the teardown is still running".to_owned()));
        }
        let index = stored
            .status
            .leftovers
            .iter()
            .position(|l| l.name == request.name && l.removal.is_some())
            .ok_or_else(not_recorded)?;
        match stored.status.leftovers[index].removal {
            Some(LeftoverRemoval::DeleteDbSnapshot) => {
                // Already gone (deleted by hand) counts as removed.
                self.aws.rds().delete_snapshot(&request.name).await?;
            }
            None => return Err(not_recorded()),
        }
        stored.status.leftovers.remove(index);
        self.db.teardowns().update(stored.id, &stored.status, None).await?;
        if let Some(run) = self.teardown_state().as_mut().filter(|run| run.prefix == prefix.as_str()) {
            run.leftovers.clone_from(&stored.status.leftovers);
        }
        self.teardown_status(TeardownQuery { prefix: Some(prefix.as_str().to_owned()) }).await
    }
}

/// The sections that deploy a stack.
fn deployable() -> impl Iterator<Item = LabSection> {
    LabSection::ALL.into_iter().filter(|section| section.stack_suffix().is_some())
}

fn parse_prefix(input: &str) -> Result<Prefix, AppError> {
    Prefix::parse(input)
        .map_err(|error| AppError::InvalidInput { field: Some("prefix".to_owned()), message: error.to_string() })
}

fn stack_name(section: LabSection, prefix: &Prefix) -> Result<String, AppError> {
    prefix.stack_name(section).ok_or_else(|| AppError::InvalidInput {
        field: None,
        message: format!("the {} section deploys no stack", section.title()),
    })
}

fn template(section: LabSection) -> Result<Template, AppError> {
    let body = section.template().ok_or_else(|| AppError::InvalidInput {
        field: None,
        message: format!("the {} section deploys no stack", section.title()),
    })?;
    Template::parse(body).map_err(|error| {
        tracing::error!(%error, section = section.slug(), "an embedded template does not parse");
        AppError::Internal
    })
}

/// The keys the console fills in itself for a section.
fn wired_keys(section: LabSection, prefix: &Prefix) -> Vec<&'static str> {
    lab::wired_parameters(section, prefix, &|_, _| Some(String::new()))
        .map(|wired| wired.into_iter().map(|w| w.key).collect())
        .unwrap_or_default()
}

/// The form's values, each checked as CloudFormation checks parameters; a
/// refusal names the field. Values for wired keys are the console's to set,
/// so the form's are dropped.
fn checked_form(
    template: &Template,
    form: &[(String, String)],
    wired_keys: &[&str],
) -> Result<Vec<(String, String)>, AppError> {
    let mut parameters = Vec::new();
    for (key, value) in form {
        if wired_keys.contains(&key.as_str()) {
            continue;
        }
        if template.parameter(key).is_none() {
            return Err(AppError::InvalidInput {
                field: Some(key.clone()),
                message: format!("Parameters: [{key}] do not exist in the template"),
            });
        }
        if let Some(message) = lab::parameter_error(template, key, value) {
            return Err(AppError::InvalidInput { field: Some(key.clone()), message });
        }
        parameters.push((key.clone(), value.clone()));
    }
    // Between fields, as PutMetricAlarm will check them when the stack is
    // created (the page runs the same rules before sending).
    if let Some(error) = keywatch_domain::lab_alarms::lab_alarm_errors(&parameters).into_iter().next() {
        return Err(AppError::InvalidInput { field: Some(error.field), message: error.message });
    }
    Ok(parameters)
}

/// The checked form plus the wired values, resolved together as
/// CloudFormation will (missing values, defaults).
fn with_wired(
    template: &Template,
    mut parameters: Vec<(String, String)>,
    wired: Vec<lab::WiredParameter>,
) -> Result<Vec<(String, String)>, AppError> {
    parameters.extend(wired.into_iter().map(|w| (w.key.to_owned(), w.value)));
    let supplied: Vec<SuppliedParameter> = parameters
        .iter()
        .map(|(key, value)| SuppliedParameter {
            key: key.clone(),
            value: Some(value.clone()),
            use_previous_value: false,
        })
        .collect();
    resolve_parameters(template, &supplied, None)
        .map_err(|error| AppError::InvalidInput { field: None, message: error.message() })?;
    Ok(parameters)
}

/// Progress of a deployment against what its change set planned: each
/// planned resource with its status now (`NOT_STARTED` until CloudFormation
/// reaches it), how many it has finished during this deployment, and how
/// many there are. A resource's `CREATE_COMPLETE` from an earlier
/// deployment does not count for an update that modifies it.
fn progress_against_plan(
    current: Vec<ResourceProgress>,
    plan: &[PlannedResource],
    completed: &[String],
) -> (Vec<ResourceProgress>, usize, usize) {
    let resources = plan
        .iter()
        .map(|planned| {
            current.iter().find(|resource| resource.logical_id == planned.logical_id).cloned().unwrap_or_else(|| {
                ResourceProgress {
                    logical_id: planned.logical_id.clone(),
                    resource_type: planned.resource_type.clone(),
                    status: if planned.action == "Remove" && completed.contains(&planned.logical_id) {
                        "DELETE_COMPLETE".to_owned()
                    } else {
                        "NOT_STARTED".to_owned()
                    },
                    reason: None,
                }
            })
        })
        .collect();
    let done = plan.iter().filter(|planned| completed.contains(&planned.logical_id)).count();
    (resources, done, plan.len())
}

fn teardown_steps(stacks: &LabStacks, prefix: &Prefix) -> Vec<TeardownStep> {
    let step = |title: String| TeardownStep { title, state: "pending".to_owned(), detail: None };
    let mut steps = vec![step("Empty the ECR repository".to_owned())];
    for section in lab::TEARDOWN_ORDER {
        let name = stacks.name(section).map(str::to_owned).or_else(|| prefix.stack_name(section));
        steps.push(step(format!("Delete stack {}", name.unwrap_or_default())));
    }
    steps.push(step("Empty and delete the retained CloudTrail bucket".to_owned()));
    steps.push(step("Delete Keywatch's notification inbox queue".to_owned()));
    steps
}

fn output(stack: Option<&StackDescription>, key: &str) -> Option<String> {
    stack?.outputs.iter().find(|output| output.key == key).map(|output| output.value.clone())
}

fn state_of(stack_name: &str, stack: Option<StackDescription>) -> StackState {
    match stack {
        None => StackState { stack_name: stack_name.to_owned(), status: None, reason: None, outputs: Vec::new() },
        Some(stack) => StackState {
            stack_name: stack.stack_name,
            status: Some(stack.status),
            reason: stack.status_reason,
            outputs: stack
                .outputs
                .into_iter()
                .map(|output| StackOutputView { key: output.key, value: output.value, description: output.description })
                .collect(),
        },
    }
}
