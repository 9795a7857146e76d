//! Who is calling: the sandbox's account and the principals that credentials
//! map to.
//!
//! The sandbox accepts any credentials (it checks the shape of a SigV4
//! `Authorization` header, not its signature), so that the AWS CLI, boto3 and
//! the SDKs work against it unchanged. Every access key maps to the account's
//! default IAM user until roles are assumed through STS.

/// The sandbox's account id: the example account AWS uses throughout its own
/// documentation, so that nobody mistakes sandbox ARNs for a real account.
pub const ACCOUNT_ID: &str = "111122223333";

/// The default principal's user name.
pub const DEFAULT_USER_NAME: &str = "sandbox-admin";

/// The unique id IAM would give that user (AIDA prefix: an IAM user).
pub const DEFAULT_USER_ID: &str = "AIDASANDBOXADMIN00001";

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: String,
    pub arn: String,
    pub user_id: String,
    /// The access key the request was signed with, if it was signed.
    pub access_key_id: Option<String>,
}

impl Principal {
    /// The account's default IAM user, for a request signed with `access_key_id`.
    pub fn default_user(partition: &str, access_key_id: Option<String>) -> Principal {
        Principal {
            account_id: ACCOUNT_ID.to_owned(),
            arn: format!("arn:{partition}:iam::{ACCOUNT_ID}:user/{DEFAULT_USER_NAME}"),
            user_id: DEFAULT_USER_ID.to_owned(),
            access_key_id,
        }
    }
}
