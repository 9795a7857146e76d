//! Responses: Keywatch reacting to a managed alarm. The alarm's page sets
//! its playbooks and maintenance windows; each round of the alarm history
//! poller mutes or unmutes alarms for their windows ([`apply_windows`]),
//! records a response for every new transition into ALARM ([`respond`]) and
//! runs the approved ones; people approve, refuse or revert them here.
//! Every step is audited.
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
    AlarmResponses, AlarmResponsesRequest, DecisionRequest, EndWindowRequest, PlaybookRequest, PlaybookView,
    ResponseView, WindowRequest, WindowView,
};
use keywatch_app::error::AppError;
use keywatch_domain::lab::{self, LabSection};
use keywatch_domain::response::{
    self, CONTAIN_POLICY_NAME, Decision, MaintenanceWindow, Playbook, REVOKE_SESSIONS_POLICY_NAME, ResponseStatus,
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

    async fn alarm_view(&self, alarm_name: &str, with_suggestions: bool) -> Result<AlarmResponses, AppError> {
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
        let (suggested_role_arn, suggested_key_arn) =
            if with_suggestions { self.suggestions().await } else { (None, None) };
        let responses = self.db.responses().newest(Some(alarm_name), LISTED).await?.iter().map(view).collect();
        let now = now_ms();
        let windows = self
            .db
            .maintenance_windows()
            .open_or_coming(alarm_name, now)
            .await?
            .into_iter()
            .map(|stored| WindowView {
                id: stored.id,
                starts_at: rfc3339(stored.window.starts_ms),
                ends_at: rfc3339(stored.window.ends_ms),
                reason: stored.reason,
                created_by: stored.created_by,
                open: stored.window.contains(now),
            })
            .collect();
        Ok(AlarmResponses {
            alarm_name: alarm_name.to_owned(),
            playbooks,
            suggested_role_arn,
            suggested_key_arn,
            responses,
            windows,
        })
    }

    async fn set_playbook_now(&self, request: PlaybookRequest, user: &str) -> Result<AlarmResponses, AppError> {
        let Some(mode) = request.mode else {
            self.db.responses().remove_playbook(&request.alarm_name, request.playbook).await?;
            return self.alarm_view(&request.alarm_name, true).await;
        };
        let setting = checked_setting(request, mode)?;
        self.db.responses().set_playbook(&setting, user, now_ms()).await?;
        self.alarm_view(&setting.alarm_name, true).await
    }

    async fn add_window_now(&self, request: WindowRequest, user: &str) -> Result<AlarmResponses, AppError> {
        let invalid = |field: &str, message: String| AppError::InvalidInput { field: Some(field.to_owned()), message };
        let now = now_ms();
        let starts_ms = match request.starts_at.trim() {
            "" => now,
            text => parse_utc_minute(text)
                .ok_or_else(|| invalid("startsAt", format!("{text} is not a date and time (YYYY-MM-DDTHH:MM, UTC)")))?,
        };
        let ends_ms = starts_ms.saturating_add(i64::from(request.duration_minutes) * 60_000);
        let window = MaintenanceWindow::new(starts_ms, ends_ms, now)
            .map_err(|error| invalid("durationMinutes", format!("{}.", capitalized(&error.to_string()))))?;
        let reason = request.reason.trim();
        if reason.is_empty() || reason.len() > 200 {
            return Err(invalid("reason", "Say why (at most 200 characters).".to_owned()));
        }
        self.db.maintenance_windows().insert(&request.alarm_name, window, reason, user, now).await?;
        // A window opening now mutes at once, not at the next round.
        apply_windows(&self.aws, &self.db).await?;
        self.alarm_view(&request.alarm_name, true).await
    }

    async fn end_window_now(&self, request: EndWindowRequest) -> Result<AlarmResponses, AppError> {
        let ended = self.db.maintenance_windows().end(request.id, now_ms()).await?;
        let ended = ended.ok_or_else(|| AppError::NotFound(format!("maintenance window {}", request.id)))?;
        apply_windows(&self.aws, &self.db).await?;
        self.alarm_view(&ended.alarm_name, true).await
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
        self.alarm_view(&request.alarm_name, request.with_suggestions).await
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

    async fn add_window(&self, request: WindowRequest) -> Result<AlarmResponses, AppError> {
        let user = crate::auth::current_user();
        let target = format!("{} for {} min: {}", request.alarm_name, request.duration_minutes, request.reason);
        let result = self.add_window_now(request, &user).await;
        self.db.audit().record(AuditEntry::of_result(user, actions::MAINTENANCE_WINDOW, target, &result)).await;
        result
    }

    async fn end_window(&self, request: EndWindowRequest) -> Result<AlarmResponses, AppError> {
        let user = crate::auth::current_user();
        let target = format!("window {} ended", request.id);
        let result = self.end_window_now(request).await;
        self.db.audit().record(AuditEntry::of_result(user, actions::MAINTENANCE_WINDOW, target, &result)).await;
        result
    }
}

/// `YYYY-MM-DDTHH:MM` (what a datetime-local field sends), read as UTC.
fn parse_utc_minute(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let at = time::PrimitiveDateTime::parse(text, &format).ok()?.assume_utc();
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
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
pub async fn respond(aws: &Aws, db: &Database, console_url: Option<&str>) -> Result<RespondStats, ServerError> {
    apply_windows(aws, db).await?;
    let responses = db.responses();
    let mut stats = RespondStats::default();
    for episode in responses.unanswered_episodes().await? {
        // An episode in a maintenance window is recorded and shown, never run
        // by itself ("Run it" still can).
        let muted = db.maintenance_windows().covers(&episode.setting.alarm_name, episode.episode_ms).await?;
        let (status, detail) = if muted {
            (ResponseStatus::Notified, Some(MUTED))
        } else {
            (ResponseStatus::on_alarm(episode.setting.mode), None)
        };
        if let Some(id) = responses.insert(&episode, status, detail, now_ms()).await? {
            stats.recorded += 1;
            let target = format!("response {id}: {} {}", episode.setting.alarm_name, episode.setting.playbook.as_str());
            let entry =
                AuditEntry::new(AUTOMATIC_USER.to_owned(), actions::RESPONSE_START, target, AuditOutcome::Succeeded)
                    .with_detail(status.as_str());
            db.audit().record(entry).await;
            if status == ResponseStatus::AwaitingApproval
                && let Some(url) = console_url
            {
                announce(aws, &episode.setting, id, url).await;
            }
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

/// Publishes, on the alarm's SNS topics, that a response waits for
/// someone, with a link to the alarm's page where it is approved or
/// refused. A topic that cannot be told is logged: the response is recorded
/// and shown either way.
async fn announce(aws: &Aws, setting: &PlaybookSetting, id: i64, console_url: &str) {
    let topics = match aws.cloudwatch().describe_alarm(&setting.alarm_name).await {
        Ok(Some(alarm)) => alarm.alarm_actions.into_iter().filter(|arn| arn.contains(":sns:")).collect(),
        Ok(None) => Vec::new(),
        Err(error) => {
            tracing::warn!(%error, alarm = %setting.alarm_name, "the alarm's topics could not be read");
            Vec::new()
        }
    };
    let link = format!("{console_url}{}", approval_path(&setting.alarm_name));
    let subject = format!("Keywatch: approve or refuse a response to {}", setting.alarm_name);
    // SNS subjects are at most 100 characters.
    let subject: String = subject.chars().take(100).collect();
    let message = format!(
        "{} went into ALARM. Keywatch's response {id} ({}) waits for someone to approve or refuse it:\n\n{link}\n\n{}",
        setting.alarm_name,
        setting.playbook.title(),
        setting.playbook.consequences()
    );
    for topic in topics {
        if let Err(error) = aws.sns().publish(&topic, &subject, &message).await {
            tracing::warn!(%error, %topic, "the response awaiting approval could not be announced");
        }
    }
}

/// The alarm's page, where its responses are decided.
pub fn approval_path(alarm_name: &str) -> String {
    let name: String = percent_encoding::utf8_percent_encode(alarm_name, percent_encoding::NON_ALPHANUMERIC).collect();
    format!("/alarms/edit?name={name}")
}

/// The detail of a response muted by a maintenance window.
const MUTED: &str = "muted: the alarm fired during a maintenance window";

/// Disables the actions of the alarms inside a maintenance window now, and
/// enables again those Keywatch disabled whose windows have all closed.
pub async fn apply_windows(aws: &Aws, db: &Database) -> Result<(), ServerError> {
    let now = now_ms();
    let windows = db.maintenance_windows().all_open_or_coming(now).await?;
    let inside: Vec<&str> = windows.iter().filter(|w| w.window.contains(now)).map(|w| w.alarm_name.as_str()).collect();
    let muted = db.maintenance_windows().muted().await?;
    let cloudwatch = aws.cloudwatch();
    for alarm in inside.iter().filter(|alarm| !muted.iter().any(|m| m == *alarm)) {
        cloudwatch.set_alarm_actions(alarm, false).await?;
        db.maintenance_windows().set_muted(alarm, true, now).await?;
        let entry =
            AuditEntry::new(AUTOMATIC_USER.to_owned(), actions::MAINTENANCE_MUTE, *alarm, AuditOutcome::Succeeded)
                .with_detail("DisableAlarmActions");
        db.audit().record(entry).await;
    }
    for alarm in muted.iter().filter(|alarm| !inside.contains(&alarm.as_str())) {
        match cloudwatch.set_alarm_actions(alarm, true).await {
            Ok(()) => {}
            // An alarm deleted meanwhile has no actions to enable.
            Err(error) if error.code == "ResourceNotFound" => {}
            Err(error) => return Err(error.into()),
        }
        db.maintenance_windows().set_muted(alarm, false, now).await?;
        let entry = AuditEntry::new(
            AUTOMATIC_USER.to_owned(),
            actions::MAINTENANCE_UNMUTE,
            alarm.as_str(),
            AuditOutcome::Succeeded,
        )
        .with_detail("EnableAlarmActions");
        db.audit().record(entry).await;
    }
    Ok(())
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
