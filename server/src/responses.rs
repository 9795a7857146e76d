//! Responses: Keywatch reacting to a managed alarm. The alarm's page sets
//! its playbooks; each round of the alarm history poller records a response
//! for every new transition into ALARM ([`respond`]) and runs the approved
//! ones; people approve, refuse or revert them here. Every step is audited.
//!
//! A response runs at most once per alarm episode: the `responses` table
//! keys it by alarm, episode and playbook, and in this process one lock
//! ([`RUNNING`]) keeps the poller and a person's approval from running the
//! same approved response twice. The AWS calls are idempotent (an inline
//! policy put again, a key disabled again), so a crash between the calls and
//! the status update is finished, not repeated, by the next round.

use std::sync::Arc;

use async_trait::async_trait;
use keywatch_app::api::responses::port::ResponsesBackend;
use keywatch_app::api::responses::{
    AlarmResponses, AlarmResponsesRequest, DecisionRequest, PlaybookRequest, PlaybookView, ResponseView,
};
use keywatch_app::error::AppError;
use keywatch_domain::lab::{self, LabSection};
use keywatch_domain::response::{
    self, CONTAIN_POLICY_NAME, Decision, Playbook, REVOKE_SESSIONS_POLICY_NAME, ResponseStatus,
};

use crate::aws::{Aws, AwsCallError, AwsErrorKind};
use crate::clock::{now_ms, rfc3339};
use crate::db::Database;
use crate::db::audit::{AuditEntry, AuditOutcome, actions};
use crate::db::responses::{PlaybookSetting, Response};
use crate::error::ServerError;
use crate::lab::ServerLab;

/// Who the audit log names for what the console does by itself.
pub const AUTOMATIC_USER: &str = "keywatch (automatic)";

/// Held while approved responses run, so that one runs once.
static RUNNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How many responses the pages list.
const LISTED: u32 = 100;

/// The responses' backend.
pub struct ServerResponses {
    aws: Aws,
    db: Database,
    lab: Arc<ServerLab>,
}

impl ServerResponses {
    pub fn new(aws: Aws, db: Database, lab: Arc<ServerLab>) -> ServerResponses {
        ServerResponses { aws, db, lab }
    }

    /// The lab's task role and key, when its application stack is Keywatch's
    /// and deployed; a lab that cannot be read suggests nothing.
    async fn suggestions(&self) -> (Option<String>, Option<String>) {
        let outputs = async {
            let prefix = self.lab.prefix().await.ok()?;
            let name = self.lab.lab_stack_name(LabSection::Application, &prefix).await.ok()?;
            self.aws.cloudformation().describe_stack(&name).await.ok().flatten().map(|stack| stack.outputs)
        }
        .await
        .unwrap_or_default();
        let output = |key: &str| outputs.iter().find(|o| o.key == key).map(|o| o.value.clone());
        (output(lab::APP_TASK_ROLE_OUTPUT), output(lab::APP_KEY_ARN_OUTPUT))
    }

    async fn alarm_view(&self, alarm_name: &str) -> Result<AlarmResponses, AppError> {
        let set = self.db.responses().playbooks(alarm_name).await?;
        let playbooks = Playbook::ALL
            .into_iter()
            .map(|playbook| {
                let setting = set.iter().find(|s| s.playbook == playbook);
                PlaybookView {
                    playbook,
                    mode: setting.map(|s| s.mode),
                    role_arn: setting.and_then(|s| s.role_arn.clone()),
                    key_arn: setting.map(|s| s.key_arn.clone()),
                }
            })
            .collect();
        let (suggested_role_arn, suggested_key_arn) = self.suggestions().await;
        let responses = self.db.responses().newest(Some(alarm_name), LISTED).await?.iter().map(view).collect();
        Ok(AlarmResponses {
            alarm_name: alarm_name.to_owned(),
            playbooks,
            suggested_role_arn,
            suggested_key_arn,
            responses,
        })
    }

    async fn set_playbook_now(&self, request: PlaybookRequest, user: &str) -> Result<AlarmResponses, AppError> {
        let Some(mode) = request.mode else {
            self.db.responses().remove_playbook(&request.alarm_name, request.playbook).await?;
            return self.alarm_view(&request.alarm_name).await;
        };
        let setting = checked_setting(request, mode)?;
        self.db.responses().set_playbook(&setting, user, now_ms()).await?;
        self.alarm_view(&setting.alarm_name).await
    }

    async fn decide_now(&self, request: DecisionRequest, user: &str) -> Result<ResponseView, AppError> {
        let responses = self.db.responses();
        let found =
            responses.get(request.id).await?.ok_or_else(|| AppError::NotFound(format!("response {}", request.id)))?;
        let next = found.status.decide(request.decision).map_err(|refused| AppError::Conflict(refused.to_string()))?;
        let lost = || AppError::Conflict("someone else decided on this response first".to_owned());
        match request.decision {
            Decision::Approve => {
                let _running = RUNNING.lock().await;
                if !responses.decide(found.id, found.status, next, user, now_ms()).await? {
                    return Err(lost());
                }
                run(&self.aws, &self.db, &Response { status: next, ..found.clone() }, user).await?;
            }
            Decision::Refuse => {
                if !responses.decide(found.id, found.status, next, user, now_ms()).await? {
                    return Err(lost());
                }
            }
            Decision::Revert => {
                if let Err(error) = undo(&self.aws, &found).await {
                    responses.note(found.id, &format!("The revert failed: {}", AppError::from(error.clone()))).await?;
                    return Err(error.into());
                }
                if !responses.decide(found.id, found.status, next, user, now_ms()).await? {
                    return Err(lost());
                }
            }
        }
        let stored =
            responses.get(found.id).await?.ok_or_else(|| AppError::NotFound(format!("response {}", found.id)))?;
        Ok(view(&stored))
    }
}

#[async_trait]
impl ResponsesBackend for ServerResponses {
    async fn alarm_responses(&self, request: AlarmResponsesRequest) -> Result<AlarmResponses, AppError> {
        self.alarm_view(&request.alarm_name).await
    }

    async fn set_playbook(&self, request: PlaybookRequest) -> Result<AlarmResponses, AppError> {
        let user = crate::auth::current_user();
        let target = format!(
            "{} {} {}",
            request.alarm_name,
            request.playbook.as_str(),
            request.mode.map_or("off", |m| m.as_str())
        );
        let result = self.set_playbook_now(request, &user).await;
        self.db.audit().record(AuditEntry::of_result(user, actions::RESPONSE_PLAYBOOK, target, &result)).await;
        result
    }

    async fn decide(&self, request: DecisionRequest) -> Result<ResponseView, AppError> {
        let user = crate::auth::current_user();
        let action =
            if request.decision == Decision::Revert { actions::RESPONSE_REVERT } else { actions::RESPONSE_DECIDE };
        let target = format!("response {} {}", request.id, request.decision.verb());
        let result = self.decide_now(request, &user).await;
        self.db.audit().record(AuditEntry::of_result(user, action, target, &result)).await;
        result
    }

    async fn recent(&self) -> Result<Vec<ResponseView>, AppError> {
        Ok(self.db.responses().newest(None, LISTED).await?.iter().map(view).collect())
    }
}

/// A playbook request checked: ARNs of the right kinds, the role's only
/// for containment.
fn checked_setting(
    request: PlaybookRequest,
    mode: keywatch_domain::response::ResponseMode,
) -> Result<PlaybookSetting, AppError> {
    let invalid = |field: &str, message: &str| AppError::InvalidInput {
        field: Some(field.to_owned()),
        message: message.to_owned(),
    };
    if request.alarm_name.trim().is_empty() || request.alarm_name.len() > 255 {
        return Err(invalid("alarmName", "Name an alarm (at most 255 characters)."));
    }
    let key_arn = request.key_arn.trim().to_owned();
    if !response::is_key_arn(&key_arn) {
        return Err(invalid("keyArn", "Give the key's ARN: arn:aws:kms:<region>:<account>:key/<key id>."));
    }
    let role_arn = match request.playbook {
        Playbook::ContainRole => {
            let role_arn = request.role_arn.trim().to_owned();
            if response::role_name_of(&role_arn).is_none() {
                return Err(invalid("roleArn", "Give the role's ARN: arn:aws:iam::<account>:role/<name>."));
            }
            Some(role_arn)
        }
        Playbook::DisableKey => None,
    };
    Ok(PlaybookSetting { alarm_name: request.alarm_name, playbook: request.playbook, mode, role_arn, key_arn })
}

/// What one round of [`respond`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RespondStats {
    pub recorded: usize,
    pub ran: usize,
}

/// Records a response for every episode a playbook has not answered, then
/// runs the approved ones (the automatic ones among them).
pub async fn respond(aws: &Aws, db: &Database) -> Result<RespondStats, ServerError> {
    let responses = db.responses();
    let mut stats = RespondStats::default();
    for episode in responses.unanswered_episodes().await? {
        let status = ResponseStatus::on_alarm(episode.setting.mode);
        if let Some(id) = responses.insert(&episode, status, now_ms()).await? {
            stats.recorded += 1;
            let target = format!("response {id}: {} {}", episode.setting.alarm_name, episode.setting.playbook.as_str());
            let entry =
                AuditEntry::new(AUTOMATIC_USER.to_owned(), actions::RESPONSE_START, target, AuditOutcome::Succeeded)
                    .with_detail(status.as_str());
            db.audit().record(entry).await;
        }
    }
    let _running = RUNNING.lock().await;
    for approved in responses.approved().await? {
        // A failed run is recorded on the response and in the audit log.
        let _ = run(aws, db, &approved, AUTOMATIC_USER).await;
        stats.ran += 1;
    }
    Ok(stats)
}

/// Makes an approved response's AWS calls (the caller holds [`RUNNING`]) and
/// records how they ended.
async fn run(aws: &Aws, db: &Database, approved: &Response, user: &str) -> Result<(), AppError> {
    let outcome = contain(aws, approved).await;
    let (status, detail) = match &outcome {
        Ok(()) => (ResponseStatus::Done, None),
        Err(error) => (ResponseStatus::Failed, Some(AppError::from(error.clone()).to_string())),
    };
    db.responses().finish(approved.id, status, detail.as_deref(), now_ms()).await?;
    let target = format!("response {}: {} {}", approved.id, approved.alarm_name, approved.playbook.as_str());
    let result = outcome.map_err(AppError::from);
    db.audit().record(AuditEntry::of_result(user.to_owned(), actions::RESPONSE_RUN, target, &result)).await;
    result
}

/// The playbook's AWS calls.
async fn contain(aws: &Aws, response: &Response) -> Result<(), AwsCallError> {
    match response.playbook {
        Playbook::ContainRole => {
            let role = role_of(response)?;
            let iam = aws.iam();
            iam.put_role_policy(role, CONTAIN_POLICY_NAME, &response::contain_policy(&response.key_arn)).await?;
            let revoke = response::revoke_older_sessions_policy(&rfc3339(now_ms()));
            iam.put_role_policy(role, REVOKE_SESSIONS_POLICY_NAME, &revoke).await
        }
        Playbook::DisableKey => aws.kms().disable_key(&response.key_arn).await,
    }
}

/// Undoes the playbook's AWS calls.
async fn undo(aws: &Aws, response: &Response) -> Result<(), AwsCallError> {
    match response.playbook {
        Playbook::ContainRole => {
            let role = role_of(response)?;
            let iam = aws.iam();
            iam.delete_role_policy(role, CONTAIN_POLICY_NAME).await?;
            iam.delete_role_policy(role, REVOKE_SESSIONS_POLICY_NAME).await
        }
        Playbook::DisableKey => aws.kms().enable_key(&response.key_arn).await,
    }
}

fn role_of(response: &Response) -> Result<&str, AwsCallError> {
    response.role_arn.as_deref().and_then(response::role_name_of).ok_or_else(|| AwsCallError {
        operation: "PutRolePolicy",
        kind: AwsErrorKind::Rejected,
        code: "NoRole".to_owned(),
        message: "the response names no role to contain".to_owned(),
    })
}

fn view(response: &Response) -> ResponseView {
    ResponseView {
        id: response.id,
        alarm_name: response.alarm_name.clone(),
        episode_at: rfc3339(response.episode_ms),
        playbook: response.playbook,
        mode: response.mode,
        status: response.status,
        target: match response.playbook {
            Playbook::ContainRole => response.role_arn.clone().unwrap_or_default(),
            Playbook::DisableKey => response.key_arn.clone(),
        },
        decided_by: response.decided_by.clone(),
        done_at: response.done_at_ms.map(rfc3339),
        time_to_contain_ms: response.done_at_ms.map(|done| done - response.episode_ms),
        reverted_by: response.reverted_by.clone(),
        reverted_at: response.reverted_at_ms.map(rfc3339),
        detail: response.detail.clone(),
    }
}
