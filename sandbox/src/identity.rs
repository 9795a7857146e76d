//! Who is calling: the sandbox's account and the principals that credentials
//! map to.
//!
//! The sandbox accepts any credentials (it checks the shape of a SigV4
//! `Authorization` header, not its signature), so that the AWS CLI, boto3 and
//! the SDKs work against it unchanged. Every access key maps to the account's
//! default IAM user, except the temporary keys STS `AssumeRole` issued, which
//! map to that role session (see [`crate::sts`]).

use serde::Serialize;

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
        serde_json::to_value(self.identity()).unwrap_or(serde_json::Value::Null)
    }

    /// [`Principal::user_identity`], borrowed, for serializing in place.
    pub fn identity(&self) -> UserIdentity<'_> {
        let (kind, user_name, session_context) = match &self.kind {
            PrincipalKind::IamUser { user_name } => ("IAMUser", Some(user_name.as_str()), None),
            PrincipalKind::AssumedRole { role_arn, role_name, role_id, session_created_ms } => (
                "AssumedRole",
                None,
                Some(SessionContext {
                    session_issuer: SessionIssuer {
                        kind: "Role",
                        principal_id: role_id,
                        arn: role_arn,
                        account_id: &self.account_id,
                        user_name: role_name,
                    },
                    attributes: SessionAttributes {
                        creation_date: crate::clock::iso8601_seconds(*session_created_ms),
                        mfa_authenticated: "false",
                    },
                }),
            ),
        };
        UserIdentity {
            kind,
            principal_id: &self.user_id,
            arn: &self.arn,
            account_id: &self.account_id,
            access_key_id: self.access_key_id.as_deref().unwrap_or_default(),
            user_name,
            session_context,
        }
    }
}

/// A record's `userIdentity`, in the order CloudTrail writes it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    principal_id: &'a str,
    arn: &'a str,
    account_id: &'a str,
    access_key_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_context: Option<SessionContext<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'a> {
    session_issuer: SessionIssuer<'a>,
    attributes: SessionAttributes,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionIssuer<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    principal_id: &'a str,
    arn: &'a str,
    account_id: &'a str,
    user_name: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionAttributes {
    creation_date: String,
    mfa_authenticated: &'static str,
}
