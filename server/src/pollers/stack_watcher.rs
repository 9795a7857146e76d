//! The stack watcher: follows every deployment CloudFormation has not
//! finished, stores the stack's new events (once each, by CloudFormation's
//! event id) and records how the deployment ended. Unfinished deployments
//! live in SQLite, so a restarted console resumes following them.

use std::time::Duration;

use tokio::sync::watch;

use crate::aws::cloudformation::CloudFormation;
use crate::db::Database;
use crate::db::audit::{AuditEntry, AuditOutcome, actions};
use crate::db::deployments::Unfinished;
use crate::db::stack_events::NewStackEvent;
use crate::error::ServerError;

/// This poller's name in metrics and `/healthz`.
pub const POLLER: &str = "stack-watcher";

/// How often the watcher asks CloudFormation; the pages poll SQLite as often.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Events a little older than the deployment's start still belong to it:
/// AWS's clock and ours may differ by this much.
const CLOCK_SKEW_MS: i64 = 5_000;

/// Follows unfinished deployments.
#[derive(Debug, Clone)]
pub struct StackWatcher {
    cloudformation: CloudFormation,
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
    /// A watcher reading CloudFormation and writing `db`.
    pub fn new(cloudformation: CloudFormation, db: Database) -> StackWatcher {
        StackWatcher { cloudformation, db }
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

    /// Follows each unfinished deployment once; returns how many it saw finish.
    pub async fn poll_once(&self) -> Result<usize, ServerError> {
        let mut finished = 0;
        for deployment in self.db.deployments().unfinished().await? {
            if self.follow(&deployment).await? {
                finished += 1;
            }
        }
        Ok(finished)
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
