//! The stack watcher: follows every deployment CloudFormation has not
//! finished, stores the stack's new events (once each, by CloudFormation's
//! event id) and records how the deployment ended; then finishes the
//! threshold changes made through those deployments' change sets (an alarm
//! change once DescribeAlarms shows the settings it asked for). Unfinished
//! deployments and pending changes live in SQLite, so a restarted console
//! resumes following them.

use std::time::Duration;

use keywatch_domain::alarm::MetricAlarm;
use keywatch_domain::lab_alarms::changed_fields;
use tokio::sync::watch;

use crate::aws::Aws;
use crate::aws::cloudformation::CloudFormation;
use crate::aws::cloudwatch::CloudWatch;
use crate::db::Database;
use crate::db::audit::{AuditEntry, AuditOutcome, actions};
use crate::db::deployments::Unfinished;
use crate::db::stack_events::NewStackEvent;
use crate::db::threshold_changes::PendingStackChange;
use crate::error::ServerError;

/// This poller's name in metrics and `/healthz`.
pub const POLLER: &str = "stack-watcher";

/// How often the watcher asks CloudFormation; the pages poll SQLite as often.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Events a little older than the deployment's start still belong to it:
/// AWS's clock and ours may differ by this much.
const CLOCK_SKEW_MS: i64 = 5_000;

/// How long a threshold change waits for its stack update before it is
/// recorded as failed (the deployment itself is still followed).
const THRESHOLD_CHANGE_TIMEOUT_MS: i64 = 30 * 60 * 1000;

/// Follows unfinished deployments and the threshold changes made through them.
#[derive(Debug, Clone)]
pub struct StackWatcher {
    cloudformation: CloudFormation,
    cloudwatch: CloudWatch,
    db: Database,
}

/// How a stack status ends a deployment: `None` while CloudFormation is
/// still working, `Some(true)` for success.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html#cfn-console-view-stack-data-resources-status-codes>
pub fn outcome_of(status: &str) -> Option<bool> {
    if status.ends_with("_IN_PROGRESS") {
        return None;
    }
    Some(matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "DELETE_COMPLETE" | "IMPORT_COMPLETE"))
}

impl StackWatcher {
    /// A watcher reading CloudFormation (and CloudWatch, to confirm alarm
    /// changes) through `aws` and writing `db`.
    pub fn new(aws: &Aws, db: Database) -> StackWatcher {
        StackWatcher { cloudformation: aws.cloudformation(), cloudwatch: aws.cloudwatch(), db }
    }

    /// Runs [`StackWatcher::poll_once`] every `interval` until `stopped`
    /// flips. A round in progress when it flips is finished, so what it read
    /// is committed; the next start resumes from SQLite either way.
    pub fn spawn(self, interval: Duration, mut stopped: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let metrics = crate::metrics::global();
        metrics.poller_started(POLLER);
        tokio::spawn(async move {
            loop {
                match self.poll_once().await {
                    Ok(_) => metrics.poller_succeeded(POLLER),
                    Err(error) => {
                        // AWS or SQLite may be briefly unavailable; the next round retries.
                        tracing::warn!(%error, "stack watcher round failed");
                        metrics.poller_failed(POLLER, super::fault(&error));
                    }
                }
                if super::sleep_or_stop(interval, &mut stopped).await {
                    return;
                }
            }
        })
    }

    /// Follows each unfinished deployment once, then finishes the threshold
    /// changes whose deployments have ended; returns how many deployments
    /// it saw finish.
    pub async fn poll_once(&self) -> Result<usize, ServerError> {
        let mut finished = 0;
        for deployment in self.db.deployments().unfinished().await? {
            if self.follow(&deployment).await? {
                finished += 1;
            }
        }
        self.finish_threshold_changes().await?;
        Ok(finished)
    }

    /// Records the end of every pending change-set change whose deployment
    /// has ended (or that has waited too long). A change recorded after its
    /// deployment already ended is finished here all the same.
    async fn finish_threshold_changes(&self) -> Result<(), ServerError> {
        for change in self.db.threshold_changes().pending_stack_changes().await? {
            let Some((outcome, detail)) = self.threshold_outcome(&change).await else { continue };
            self.db.threshold_changes().finish(change.id, outcome, Some(detail), now_ms()).await?;
        }
        Ok(())
    }

    /// How a pending change ended: `None` while its stack is still updating.
    async fn threshold_outcome(&self, change: &PendingStackChange) -> Option<(&'static str, String)> {
        let stack_name = &change.stack_name;
        let Some(deployment) = &change.deployment else {
            let late = now_ms() - change.requested_at_ms > THRESHOLD_CHANGE_TIMEOUT_MS;
            return late.then(|| ("failed", format!("{stack_name} was still updating after 30 minutes")));
        };
        Some(match (deployment.succeeded, &change.proposed) {
            (true, Some(proposed)) => self.confirm_alarm(proposed).await,
            (true, None) => ("succeeded", format!("{stack_name} updated")),
            (false, _) if deployment.final_status == "DOES_NOT_EXIST" => {
                ("failed", format!("{stack_name} no longer exists"))
            }
            (false, _) => {
                let reason = deployment.status_reason.as_deref().unwrap_or("CloudFormation gave no reason");
                ("failed", format!("{stack_name} ended {}: {reason}", deployment.final_status))
            }
        })
    }

    /// Whether DescribeAlarms shows the alarm as the change set meant it.
    async fn confirm_alarm(&self, wanted: &MetricAlarm) -> (&'static str, String) {
        let name = &wanted.alarm_name;
        let unread = |why: String| ("failed", format!("the stack updated but the alarm could not be read: {why}"));
        match self.cloudwatch.describe_alarm(name).await {
            Ok(Some(alarm)) => match alarm.settings {
                Some(now) if changed_fields(&now, wanted).is_empty() => {
                    ("succeeded", "stack updated; DescribeAlarms shows the new settings".to_owned())
                }
                Some(now) => ("failed", format!("the stack updated but the alarm reads: {}", now.describe_condition())),
                None => unread(format!(
                    "{name} is not a static-threshold alarm on one metric; the threshold form does not edit it"
                )),
            },
            Ok(None) => unread(format!("The alarm {name} was not found")),
            Err(error) => unread(keywatch_app::error::AppError::from(error).to_string()),
        }
    }

    async fn follow(&self, deployment: &Unfinished) -> Result<bool, ServerError> {
        // A deleted stack can only be described by its id.
        let name = deployment.stack_id.as_deref().unwrap_or(&deployment.stack_name);
        let Some(stack) = self.cloudformation.describe_stack(name).await? else {
            let (succeeded, status, reason) = if deployment.action == "delete" {
                (true, "DELETE_COMPLETE", None)
            } else {
                (false, "DOES_NOT_EXIST", Some("CloudFormation has no such stack"))
            };
            if self.db.deployments().finish(deployment.id, now_ms(), succeeded, status, reason).await? {
                self.audit_outcome(deployment, succeeded, status, reason).await;
            }
            return Ok(true);
        };
        if deployment.stack_id.is_none() {
            self.db.deployments().set_stack_id(deployment.id, &stack.stack_id).await?;
        }
        for event in self.cloudformation.stack_events(&stack.stack_id).await? {
            let ours = event.timestamp_ms + CLOCK_SKEW_MS >= deployment.started_at_ms;
            self.db
                .stack_events()
                .insert(&NewStackEvent {
                    event_id: &event.event_id,
                    stack_id: &stack.stack_id,
                    stack_name: &stack.stack_name,
                    deployment_id: ours.then_some(deployment.id),
                    timestamp_ms: event.timestamp_ms,
                    logical_id: &event.logical_id,
                    physical_id: event.physical_id.as_deref(),
                    resource_type: &event.resource_type,
                    status: &event.status,
                    reason: event.reason.as_deref(),
                })
                .await?;
        }
        match outcome_of(&stack.status) {
            None => Ok(false),
            Some(succeeded) => {
                let reason = stack.status_reason.as_deref();
                let first =
                    self.db.deployments().finish(deployment.id, now_ms(), succeeded, &stack.status, reason).await?;
                if first {
                    self.audit_outcome(deployment, succeeded, &stack.status, reason).await;
                }
                Ok(true)
            }
        }
    }

    /// Records a wizard deployment's real outcome in the audit log, once:
    /// a create that rolls back is a failure, whatever starting it was.
    /// Deletions belong to a teardown, which the audit log records itself.
    async fn audit_outcome(&self, deployment: &Unfinished, succeeded: bool, status: &str, reason: Option<&str>) {
        if deployment.action == "delete" {
            return;
        }
        let detail = match reason {
            Some(reason) => format!("{} of {}: {status} ({reason})", deployment.action, deployment.stack_name),
            None => format!("{} of {}: {status}", deployment.action, deployment.stack_name),
        };
        let entry = AuditEntry {
            user: deployment.actor.clone(),
            action: actions::LAB_DEPLOY,
            target: deployment.stack_name.clone(),
            outcome: if succeeded { AuditOutcome::Succeeded } else { AuditOutcome::Failed },
            detail: Some(detail),
        };
        self.db.audit().record(entry).await;
    }
}

fn now_ms() -> i64 {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::outcome_of;

    #[test]
    fn stack_status_codes_end_deployments_as_cloudformation_documents_them() {
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html#cfn-console-view-stack-data-resources-status-codes
        for working in
            ["CREATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "REVIEW_IN_PROGRESS", "DELETE_IN_PROGRESS"]
        {
            assert_eq!(outcome_of(working), None, "{working}");
        }
        for success in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"] {
            assert_eq!(outcome_of(success), Some(true), "{success}");
        }
        // A rolled-back creation or update is complete but did not do what was asked.
        for failure in
            ["ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "CREATE_FAILED", "DELETE_FAILED", "ROLLBACK_FAILED"]
        {
            assert_eq!(outcome_of(failure), Some(false), "{failure}");
        }
    }
}
