//! Labs deployed by hand (the lab's AWS CLI steps, any stack names): finding
//! them among the Region's stacks with the domain's recognition rules,
//! adopting one (recorded in `adopted_labs`, audited), and what an adopted
//! lab's stacks hold that Keywatch's own would name in their outputs: the
//! alarm, its topic and the retained trail bucket, found among the logging
//! stack's resources.
//!
//! The wizard, teardown, the Testing page and the Alarms page ask here for
//! the stacks of a prefix, so an adopted lab is handled as one Keywatch
//! deployed, under the names its user chose.

use keywatch_app::api::alarms::ThresholdChange;
use keywatch_app::api::lab::AdoptRequest;
use keywatch_app::error::AppError;
use keywatch_domain::alarm::MetricAlarm;
use keywatch_domain::lab::{LabSection, LabStacks, Prefix};
use keywatch_domain::lab_adoption::{self, LoggingResources, ResourceFact, StackFacts};

use crate::aws::Aws;
use crate::aws::cloudformation::{ChangeSetOutcome, StackRequest};
use crate::clock::now_ms;
use crate::db::Database;
use crate::db::adopted_labs::AdoptedLab;
use crate::db::audit::{AuditEntry, actions};
use crate::db::deployments::{NewDeployment, PlannedResource};
use crate::db::threshold_changes::NewThresholdChange;

/// The stacks of the lab filed under `prefix`, and whether it was adopted
/// (its stacks keep their own names and templates).
pub async fn lab_stacks(db: &Database, prefix: &Prefix) -> Result<(LabStacks, bool), AppError> {
    Ok(match db.adopted_labs().get(prefix.as_str()).await? {
        Some(adopted) => (adopted.stacks, true),
        None => (LabStacks::of_prefix(prefix), false),
    })
}

/// The labs the Region holds that Keywatch neither deployed nor adopted.
pub async fn find(aws: &Aws, db: &Database) -> Result<Vec<LabStacks>, AppError> {
    let (deployed, _) = db.deployments().names_and_prefixes().await?;
    let adopted: Vec<String> = db
        .adopted_labs()
        .all()
        .await?
        .into_iter()
        .flat_map(|lab| lab.stacks.names().into_iter().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    let cloudformation = aws.cloudformation();
    let mut facts = Vec::new();
    for stack in cloudformation.describe_all_stacks().await? {
        let managed = deployed.contains(&stack.stack_name) || adopted.contains(&stack.stack_name);
        // Only the lab's outputs and parameters make a stack worth listing
        // the resources of: one ListStackResources per candidate, not per stack.
        let candidate = stack.outputs.iter().any(|output| output.key.starts_with("OutputPattern1"))
            || stack.parameters.iter().any(|(key, _)| key == "AppECSTaskRoleArn");
        let settled = !stack.status.ends_with("_IN_PROGRESS") && stack.status != "DELETE_COMPLETE";
        if managed || !candidate || !settled {
            continue;
        }
        let resources = cloudformation
            .stack_resources(&stack.stack_name)
            .await?
            .into_iter()
            .map(|r| ResourceFact {
                logical_id: r.logical_id,
                resource_type: r.resource_type,
                physical_id: r.physical_id,
            })
            .collect();
        facts.push(StackFacts {
            outputs: stack.outputs.into_iter().map(|output| (output.key, output.value)).collect(),
            stack_name: stack.stack_name,
            stack_id: stack.stack_id,
            parameters: stack.parameters,
            resources,
        });
    }
    Ok(lab_adoption::group(&facts))
}

/// Adopts the found lab `request` names (audited); returns the prefix it is
/// filed under, which becomes the console's current lab.
pub async fn adopt(aws: &Aws, db: &Database, request: &AdoptRequest) -> Result<Prefix, AppError> {
    let wanted = |name: &str| (!name.trim().is_empty()).then(|| name.trim().to_owned());
    let requested = LabStacks {
        base: wanted(&request.base),
        application: wanted(&request.application),
        logging: wanted(&request.logging),
    };
    let target = requested.names().join(", ");
    let result = adopt_found(aws, db, requested).await;
    db.audit().record(AuditEntry::of_result(crate::auth::current_user(), actions::LAB_ADOPT, target, &result)).await;
    result
}

async fn adopt_found(aws: &Aws, db: &Database, requested: LabStacks) -> Result<Prefix, AppError> {
    // Only a lab found now is adopted: a request cannot make Keywatch
    // manage (and later delete) stacks that are not the lab's.
    let found = find(aws, db).await?;
    if !found.contains(&requested) {
        return Err(AppError::Conflict(
            "Those stacks are not a lab deployed by hand that Keywatch can adopt (any more); reload the page"
                .to_owned(),
        ));
    }
    let (_, mut taken) = db.deployments().names_and_prefixes().await?;
    taken.extend(db.adopted_labs().all().await?.into_iter().map(|lab| lab.prefix));
    let prefix = lab_adoption::adoption_prefix(&requested.names(), &taken);
    let lab = AdoptedLab { prefix: prefix.as_str().to_owned(), stacks: requested };
    db.adopted_labs().insert(&lab, &crate::auth::current_user(), now_ms()).await?;
    Ok(prefix)
}

/// The lab's alarm, topic and trail bucket among the logging stack's
/// resources (the lab's template names none of them in its outputs).
pub async fn logging_resources(aws: &Aws, logging_stack: &str) -> Result<LoggingResources, AppError> {
    let resources: Vec<ResourceFact> = aws
        .cloudformation()
        .stack_resources(logging_stack)
        .await?
        .into_iter()
        .map(|r| ResourceFact { logical_id: r.logical_id, resource_type: r.resource_type, physical_id: r.physical_id })
        .collect();
    Ok(lab_adoption::logging_resources(&resources))
}

/// The alarm topics of every adopted lab, for the pollers and the Alarms
/// page to manage beside the topics named with the lab's prefix. A lab
/// whose stack cannot be read now adds none this round.
pub async fn adopted_topics(aws: &Aws, db: &Database) -> Result<Vec<String>, AppError> {
    let mut topics = Vec::new();
    for lab in db.adopted_labs().all().await? {
        let Some(logging) = lab.stacks.name(LabSection::LoggingAndAlarm) else { continue };
        if let Some(topic) = logging_resources(aws, logging).await?.topic_arn {
            topics.push(topic);
        }
    }
    Ok(topics)
}

/// The adopted lab whose logging stack owns `alarm_name`, if any.
pub struct AdoptedAlarm {
    pub prefix: String,
    pub stack_name: String,
    pub logical_id: String,
}

/// The adopted logging stack that owns `alarm_name`, if any.
pub async fn adopted_owner(aws: &Aws, db: &Database, alarm_name: &str) -> Result<Option<AdoptedAlarm>, AppError> {
    for lab in db.adopted_labs().all().await? {
        let Some(logging) = lab.stacks.name(LabSection::LoggingAndAlarm) else { continue };
        if let Some((logical_id, name)) = logging_resources(aws, logging).await?.alarm
            && name == alarm_name
        {
            return Ok(Some(AdoptedAlarm { prefix: lab.prefix, stack_name: logging.to_owned(), logical_id }));
        }
    }
    Ok(None)
}

/// Applies a threshold change to an adopted lab's alarm through its stack:
/// a change set over the stack's own template with the alarm resource
/// changed, executed, recorded as a deployment and as a pending threshold
/// change, both of which the stack watcher finishes when the update ends.
pub async fn apply_threshold(
    aws: &Aws,
    db: &Database,
    owner: AdoptedAlarm,
    fields: Vec<(String, String, String)>,
    current: &MetricAlarm,
    proposed: &MetricAlarm,
) -> Result<ThresholdChange, AppError> {
    let AdoptedAlarm { prefix, stack_name, logical_id } = owner;
    let (change_set_id, plan) = match retune_change_set(aws, &stack_name, &logical_id, current, proposed).await? {
        ChangeSetOutcome::Ready { change_set_id, changes } => (change_set_id, changes),
        ChangeSetOutcome::NoChanges => {
            return Err(AppError::Conflict(format!("CloudFormation found nothing to change in {stack_name}")));
        }
        ChangeSetOutcome::Failed { reason } => return Err(AppError::InvalidInput { field: None, message: reason }),
    };
    let stack_id = aws.cloudformation().describe_stack(&stack_name).await?.map(|stack| stack.stack_id);
    aws.cloudformation().execute_change_set(&change_set_id).await?;
    let deployment = db
        .deployments()
        .insert(NewDeployment {
            actor: crate::auth::current_user(),
            section: LabSection::LoggingAndAlarm,
            prefix,
            stack_name: stack_name.clone(),
            stack_id,
            action: "update",
            change_set_id: Some(change_set_id.clone()),
            started_at_ms: now_ms(),
        })
        .await?;
    let plan: Vec<PlannedResource> = plan
        .into_iter()
        .map(|change| PlannedResource {
            logical_id: change.logical_id,
            resource_type: change.resource_type,
            action: change.action,
        })
        .collect();
    db.deployments().insert_plan(deployment.id, &plan).await?;
    let change = db
        .threshold_changes()
        .insert(NewThresholdChange {
            requested_at_ms: now_ms(),
            alarm_name: proposed.alarm_name.clone(),
            fields,
            path: "change set",
            stack_name: Some(stack_name.clone()),
            change_set_id: Some(change_set_id),
            outcome: "pending",
            detail: None,
            finished_at_ms: None,
            // The stack watcher finishes the change once the deployment
            // ends and DescribeAlarms shows these settings.
            proposed: Some(proposed.clone()),
        })
        .await?;
    Ok(change)
}

/// A change set that gives the alarm `logical_id` of stack `stack_name`
/// the settings `new`, by changing the alarm resource in the stack's own
/// template (GetTemplate); every parameter keeps its value. The lab's
/// template fixes the alarm's settings, so a parameter cannot carry them.
pub async fn retune_change_set(
    aws: &Aws,
    stack_name: &str,
    logical_id: &str,
    old: &MetricAlarm,
    new: &MetricAlarm,
) -> Result<ChangeSetOutcome, AppError> {
    let cloudformation = aws.cloudformation();
    let stack = cloudformation
        .describe_stack(stack_name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("The stack {stack_name}")))?;
    if stack.status.ends_with("_IN_PROGRESS") {
        return Err(AppError::Conflict(format!(
            "{stack_name} is busy ({}); wait for CloudFormation to finish",
            stack.status
        )));
    }
    let body = cloudformation.template_body(stack_name).await?;
    let retuned = lab_adoption::retune_alarm(&body, logical_id, old, new)
        .map_err(|error| AppError::Conflict(format!("{stack_name}: {error}")))?;
    // The lab's logging stack creates a named IAM role.
    let request = StackRequest {
        stack_name,
        template_body: &retuned,
        parameters: &stack.parameters,
        capabilities: &["CAPABILITY_NAMED_IAM"],
        update: true,
    };
    Ok(cloudformation.create_change_set(&request, &format!("keywatch-threshold-{}", now_ms())).await?)
}
