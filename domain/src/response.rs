//! Keywatch's responses to an alarm: the playbooks an alarm can be given,
//! the mode each runs in, the life of one response (one per alarm episode),
//! the IAM policy documents that contain a role, and the maintenance
//! windows that mute an alarm's notifications and responses.
//!
//! An *episode* is one transition of an alarm into ALARM: a response is
//! keyed by the alarm and the time of that transition, so however often
//! the history is read again (or the console restarts), an episode gets at
//! most one response of each playbook.

use serde::{Deserialize, Serialize};

/// What Keywatch does when an alarm fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Playbook {
    /// An explicit deny of the key's KMS operations on the role, and the
    /// revocation of the role's sessions issued before the response.
    ContainRole,
    /// KMS DisableKey on the key.
    DisableKey,
}

impl Playbook {
    pub const ALL: [Playbook; 2] = [Playbook::ContainRole, Playbook::DisableKey];

    /// The name stored and sent in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Playbook::ContainRole => "contain-role",
            Playbook::DisableKey => "disable-key",
        }
    }

    pub fn parse(text: &str) -> Option<Playbook> {
        Playbook::ALL.into_iter().find(|playbook| playbook.as_str() == text)
    }

    pub fn title(self) -> &'static str {
        match self {
            Playbook::ContainRole => "Contain the role",
            Playbook::DisableKey => "Disable the key",
        }
    }

    /// What choosing it means, said before it is chosen.
    pub fn consequences(self) -> &'static str {
        match self {
            Playbook::ContainRole => {
                "Adds two inline policies to the role: an explicit deny of every KMS operation on the key, and \
                 AWS's revocation of the role's sessions issued before now (a deny of everything for them). \
                 The application's calls with the key fail until the response is reverted; sessions the role \
                 issues afterwards keep their other permissions."
            }
            Playbook::DisableKey => {
                "Disables the KMS key: every principal's Encrypt, Decrypt and GenerateDataKey with it fails \
                 (DisabledException) until the response is reverted, which enables it again. Data encrypted \
                 under the key stays unreadable meanwhile, for every application that uses it."
            }
        }
    }
}

/// How a playbook runs when its alarm fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResponseMode {
    /// The response is recorded and shown; nothing is changed.
    NotifyOnly,
    /// The response waits for someone to approve or refuse it in the console.
    Approval,
    /// The response runs as soon as the console sees the alarm fire.
    Automatic,
}

impl ResponseMode {
    pub const ALL: [ResponseMode; 3] = [ResponseMode::NotifyOnly, ResponseMode::Approval, ResponseMode::Automatic];

    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::NotifyOnly => "notify",
            ResponseMode::Approval => "approval",
            ResponseMode::Automatic => "automatic",
        }
    }

    pub fn parse(text: &str) -> Option<ResponseMode> {
        ResponseMode::ALL.into_iter().find(|mode| mode.as_str() == text)
    }

    pub fn title(self) -> &'static str {
        match self {
            ResponseMode::NotifyOnly => "Notify only",
            ResponseMode::Approval => "Ask for approval",
            ResponseMode::Automatic => "Automatic",
        }
    }
}

/// Where one response is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResponseStatus {
    /// Notify-only: recorded and shown, nothing changed.
    Notified,
    /// Waiting for someone to approve or refuse it.
    AwaitingApproval,
    /// Approved, or automatic: its AWS calls are to be made.
    Approved,
    /// Someone refused it; nothing was changed.
    Refused,
    /// Its AWS calls were made.
    Done,
    /// An AWS call failed; what was done is in the detail.
    Failed,
    /// Undone: the policies deleted, or the key enabled again.
    Reverted,
}

impl ResponseStatus {
    pub const ALL: [ResponseStatus; 7] = [
        ResponseStatus::Notified,
        ResponseStatus::AwaitingApproval,
        ResponseStatus::Approved,
        ResponseStatus::Refused,
        ResponseStatus::Done,
        ResponseStatus::Failed,
        ResponseStatus::Reverted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResponseStatus::Notified => "notified",
            ResponseStatus::AwaitingApproval => "awaiting-approval",
            ResponseStatus::Approved => "approved",
            ResponseStatus::Refused => "refused",
            ResponseStatus::Done => "done",
            ResponseStatus::Failed => "failed",
            ResponseStatus::Reverted => "reverted",
        }
    }

    pub fn parse(text: &str) -> Option<ResponseStatus> {
        ResponseStatus::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// The status a new episode's response starts in.
    pub fn on_alarm(mode: ResponseMode) -> ResponseStatus {
        match mode {
            ResponseMode::NotifyOnly => ResponseStatus::Notified,
            ResponseMode::Approval => ResponseStatus::AwaitingApproval,
            ResponseMode::Automatic => ResponseStatus::Approved,
        }
    }

    /// The status after someone's decision, or why the decision does not
    /// apply. A notify-only response may still be run by hand: it is the
    /// same decision as approving one.
    pub fn decide(self, decision: Decision) -> Result<ResponseStatus, DecisionRefused> {
        match (self, decision) {
            (ResponseStatus::AwaitingApproval | ResponseStatus::Notified, Decision::Approve) => {
                Ok(ResponseStatus::Approved)
            }
            (ResponseStatus::AwaitingApproval, Decision::Refuse) => Ok(ResponseStatus::Refused),
            // A failed response may have made some of its calls: reverting
            // undoes those (deleting a policy that is not there is fine).
            (ResponseStatus::Done | ResponseStatus::Failed, Decision::Revert) => Ok(ResponseStatus::Reverted),
            (status, decision) => Err(DecisionRefused { status, decision }),
        }
    }
}

/// A stored name that is no playbook, mode or status Keywatch knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {name:?}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
}

/// `TryFrom<String>` by each type's `parse`, for reading stored rows.
macro_rules! parse_stored {
    ($($type:ty => $kind:literal),*) => {$(
        impl TryFrom<String> for $type {
            type Error = UnknownName;
            fn try_from(name: String) -> Result<$type, UnknownName> {
                <$type>::parse(&name).ok_or(UnknownName { kind: $kind, name })
            }
        }
    )*};
}

parse_stored!(Playbook => "playbook", ResponseMode => "response mode", ResponseStatus => "response status");

/// What someone decides about a response in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Approve,
    Refuse,
    Revert,
}

impl Decision {
    pub fn verb(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Refuse => "refused",
            Decision::Revert => "reverted",
        }
    }
}

/// A decision that does not apply to the response's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a response that is {} cannot be {}", status.as_str(), decision.verb())]
pub struct DecisionRefused {
    pub status: ResponseStatus,
    pub decision: Decision,
}

/// The inline policy that denies the role the key's KMS operations.
pub const CONTAIN_POLICY_NAME: &str = "KeywatchContainKmsKey";

/// The inline policy's name AWS's console gives the revocation of a role's
/// sessions ("Revoke active sessions").
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html>
pub const REVOKE_SESSIONS_POLICY_NAME: &str = "AWSRevokeOlderSessions";

/// An explicit deny of every KMS operation on `key_arn`: an explicit deny
/// overrides any allow, in the role's policies or the key policy.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
pub fn contain_policy(key_arn: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "KeywatchContainment",
            "Effect": "Deny",
            "Action": "kms:*",
            "Resource": key_arn,
        }]
    })
    .to_string()
}

/// AWS's revocation of a role's sessions issued before `issued_before`
/// (RFC 3339, UTC): a deny of everything, conditioned on the session's
/// `aws:TokenIssueTime`, so that sessions the role issues afterwards are
/// not affected.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html>
pub fn revoke_older_sessions_policy(issued_before: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": issued_before}}
        }
    })
    .to_string()
}

/// The role's name in a role ARN (`arn:aws:iam::111122223333:role/path/name`),
/// the name IAM's PutRolePolicy takes.
pub fn role_name_of(role_arn: &str) -> Option<&str> {
    let resource = role_arn.strip_prefix("arn:")?.splitn(5, ':').nth(4)?;
    let path_and_name = resource.strip_prefix("role/")?;
    path_and_name.rsplit('/').next().filter(|name| !name.is_empty())
}

/// Whether `arn` is a KMS key's ARN (not an alias's).
pub fn is_key_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "kms"
        && parts[5].strip_prefix("key/").is_some_and(|id| !id.is_empty())
}

/// The longest maintenance window: a week. Longer quiet is turning the
/// alarm's actions off, which is a different decision.
pub const MAX_WINDOW_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// A maintenance window: from `starts_ms` (inclusive) to `ends_ms`
/// (exclusive), the alarm's notifications and Keywatch's responses are
/// muted while its history keeps recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub starts_ms: i64,
    pub ends_ms: i64,
}

/// Why a maintenance window is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("the window must end after it starts")]
    EndsBeforeStart,
    #[error("the window has already ended")]
    AlreadyOver,
    #[error("a window lasts at most 7 days")]
    TooLong,
}

impl MaintenanceWindow {
    /// A window checked at `now_ms`.
    pub fn new(starts_ms: i64, ends_ms: i64, now_ms: i64) -> Result<MaintenanceWindow, WindowError> {
        if ends_ms <= starts_ms {
            return Err(WindowError::EndsBeforeStart);
        }
        if ends_ms <= now_ms {
            return Err(WindowError::AlreadyOver);
        }
        if ends_ms - starts_ms > MAX_WINDOW_MS {
            return Err(WindowError::TooLong);
        }
        Ok(MaintenanceWindow { starts_ms, ends_ms })
    }

    pub fn contains(self, at_ms: i64) -> bool {
        self.starts_ms <= at_ms && at_ms < self.ends_ms
    }
}

/// What the alarm's actions should be at `now_ms` given its windows:
/// disabled inside any window, enabled otherwise.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DisableAlarmActions.html>
pub fn actions_enabled_at(windows: &[MaintenanceWindow], now_ms: i64) -> bool {
    !windows.iter().any(|window| window.contains(now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_episode_starts_as_its_mode_says() {
        assert_eq!(ResponseStatus::on_alarm(ResponseMode::NotifyOnly), ResponseStatus::Notified);
        assert_eq!(ResponseStatus::on_alarm(ResponseMode::Approval), ResponseStatus::AwaitingApproval);
        assert_eq!(ResponseStatus::on_alarm(ResponseMode::Automatic), ResponseStatus::Approved);
    }

    #[test]
    fn decisions_apply_only_where_they_make_sense() {
        use Decision::*;
        use ResponseStatus::*;
        assert_eq!(AwaitingApproval.decide(Approve), Ok(Approved));
        assert_eq!(AwaitingApproval.decide(Refuse), Ok(Refused));
        assert_eq!(Notified.decide(Approve), Ok(Approved));
        assert_eq!(Done.decide(Revert), Ok(Reverted));
        assert_eq!(Failed.decide(Revert), Ok(Reverted));
        for (status, decision) in
            [(Done, Approve), (Refused, Approve), (Reverted, Revert), (Approved, Refuse), (Notified, Revert)]
        {
            assert_eq!(status.decide(decision), Err(DecisionRefused { status, decision }));
        }
        assert_eq!(Refused.decide(Approve).unwrap_err().to_string(), "a response that is refused cannot be approved");
    }

    #[test]
    fn names_round_trip() {
        for playbook in Playbook::ALL {
            assert_eq!(Playbook::parse(playbook.as_str()), Some(playbook));
        }
        for mode in ResponseMode::ALL {
            assert_eq!(ResponseMode::parse(mode.as_str()), Some(mode));
        }
        for status in ResponseStatus::ALL {
            assert_eq!(ResponseStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(Playbook::parse("delete-everything"), None);
    }

    #[test]
    fn maintenance_windows_are_bounded_and_mute_only_inside() {
        const HOUR: i64 = 60 * 60 * 1000;
        assert_eq!(MaintenanceWindow::new(10, 10, 0), Err(WindowError::EndsBeforeStart));
        assert_eq!(MaintenanceWindow::new(0, HOUR, 2 * HOUR), Err(WindowError::AlreadyOver));
        assert_eq!(MaintenanceWindow::new(0, MAX_WINDOW_MS + 1, 0), Err(WindowError::TooLong));
        let window = MaintenanceWindow::new(HOUR, 2 * HOUR, 0).expect("window");
        assert!(!window.contains(HOUR - 1));
        assert!(window.contains(HOUR));
        assert!(!window.contains(2 * HOUR), "the end is exclusive");
        assert!(actions_enabled_at(&[window], 0));
        assert!(!actions_enabled_at(&[window], HOUR + 1));
        assert!(actions_enabled_at(&[], HOUR + 1));
    }

    // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html:
    // "AWS attaches a new inline policy to the role that denies all
    // permissions to all actions", conditioned on DateLessThan aws:TokenIssueTime.
    #[test]
    fn the_revocation_is_awss_policy() {
        let policy: serde_json::Value =
            serde_json::from_str(&revoke_older_sessions_policy("2026-12-07T23:47:00Z")).unwrap();
        assert_eq!(
            policy,
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Deny",
                    "Action": ["*"],
                    "Resource": ["*"],
                    "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-12-07T23:47:00Z"}}
                }
            })
        );
        assert_eq!(REVOKE_SESSIONS_POLICY_NAME, "AWSRevokeOlderSessions");
    }

    #[test]
    fn containment_denies_every_kms_operation_on_the_key_only() {
        let key = "arn:aws:kms:ap-southeast-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let policy: serde_json::Value = serde_json::from_str(&contain_policy(key)).unwrap();
        let statement = &policy["Statement"][0];
        assert_eq!(statement["Effect"], "Deny");
        assert_eq!(statement["Action"], "kms:*");
        assert_eq!(statement["Resource"], key);
    }

    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html: a
    // role's ARN is arn:partition:iam::account:role/path/name.
    #[test]
    fn role_names_come_from_role_arns() {
        assert_eq!(
            role_name_of("arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole"),
            Some("pattern1-app-Pattern1ECSTaskRole")
        );
        assert_eq!(role_name_of("arn:aws:iam::111122223333:role/service/team/Reader"), Some("Reader"));
        assert_eq!(role_name_of("arn:aws:iam::111122223333:user/alice"), None);
        assert_eq!(role_name_of("pattern1-app-role"), None);
        assert!(is_key_arn("arn:aws:kms:ap-southeast-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(!is_key_arn("arn:aws:kms:ap-southeast-2:111122223333:alias/lab"));
        assert!(!is_key_arn("1234abcd-12ab-34cd-56ef-1234567890ab"));
    }
}
