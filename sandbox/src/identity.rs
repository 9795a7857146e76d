//! Who is calling: the sandbox's account and the principals that credentials
//! map to.
//!
//! The sandbox accepts any credentials (it checks the shape of a SigV4
//! `Authorization` header, not its signature), so that the AWS CLI, boto3 and
//! the SDKs work against it unchanged. Every access key maps to the account's
//! default IAM user, except the temporary keys STS `AssumeRole` issued, which
//! map to that role session (see [`crate::sts`]).

use serde_json::json;

/// The sandbox's account id: the example account AWS uses throughout its own
/// documentation, so that nobody mistakes sandbox ARNs for a real account.
pub const ACCOUNT_ID: &str = "111122223333";

/// The default principal's user name.
pub const DEFAULT_USER_NAME: &str = "sandbox-admin";

/// The unique id IAM would give that user (AIDA prefix: an IAM user).
pub const DEFAULT_USER_ID: &str = "AIDASANDBOXADMIN00001";

/// What kind of identity a principal is, as CloudTrail's
/// `userIdentity.type` distinguishes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An IAM user (`type: IAMUser`).
    IamUser { user_name: String },
    /// A role session from STS `AssumeRole` (`type: AssumedRole`).
    AssumedRole {
        /// The role's ARN (`sessionContext.sessionIssuer.arn`).
        role_arn: String,
        /// The role's name, the last segment of its ARN.
        role_name: String,
        /// The role's unique id (`AROA...`).
        role_id: String,
        /// When the session's credentials were issued (epoch ms).
        session_created_ms: i64,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: String,
    pub arn: String,
    /// The principal id (`UserId` in GetCallerIdentity; `AROA...:session`
    /// for a role session).
    pub user_id: String,
    /// The access key the request was signed with, if it was signed.
    pub access_key_id: Option<String>,
    pub kind: PrincipalKind,
}

impl Principal {
    /// The account's default IAM user, for a request signed with `access_key_id`.
    pub fn default_user(partition: &str, access_key_id: Option<String>) -> Principal {
        Principal {
            account_id: ACCOUNT_ID.to_owned(),
            arn: format!("arn:{partition}:iam::{ACCOUNT_ID}:user/{DEFAULT_USER_NAME}"),
            user_id: DEFAULT_USER_ID.to_owned(),
            access_key_id,
            kind: PrincipalKind::IamUser { user_name: DEFAULT_USER_NAME.to_owned() },
        }
    }

    /// The `userIdentity` element of a CloudTrail record for this caller.
    ///
    /// Shapes from <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html>
    /// (IAMUser with `userName`; AssumedRole with `sessionContext.sessionIssuer`
    /// naming the role).
    pub fn user_identity(&self) -> serde_json::Value {
        match &self.kind {
            PrincipalKind::IamUser { user_name } => json!({
                "type": "IAMUser",
                "principalId": self.user_id,
                "arn": self.arn,
                "accountId": self.account_id,
                "accessKeyId": self.access_key_id.clone().unwrap_or_default(),
                "userName": user_name,
            }),
            PrincipalKind::AssumedRole { role_arn, role_name, role_id, session_created_ms } => json!({
                "type": "AssumedRole",
                "principalId": self.user_id,
                "arn": self.arn,
                "accountId": self.account_id,
                "accessKeyId": self.access_key_id.clone().unwrap_or_default(),
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": role_id,
                        "arn": role_arn,
                        "accountId": self.account_id,
                        "userName": role_name,
                    },
                    "attributes": {
                        "creationDate": crate::clock::iso8601_seconds(*session_created_ms),
                        "mfaAuthenticated": "false",
                    },
                },
            }),
        }
    }
}
