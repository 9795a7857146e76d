//! AWS Security Token Service: who the caller is.
//!
//! `GetCallerIdentity` answers for the principal the request's access key maps
//! to; `AssumeRole` (and the role sessions the lab's task role needs) arrive
//! with the KMS and CloudTrail work.

use crate::error::AwsError;
use crate::identity::Principal;
use crate::protocol::value::Value;

/// The STS operations the sandbox implements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StsRequest {
    GetCallerIdentity,
}

impl StsRequest {
    /// Names an STS operation; `None` for one the sandbox lacks.
    pub fn from_operation(operation: &str) -> Option<StsRequest> {
        match operation {
            "GetCallerIdentity" => Some(StsRequest::GetCallerIdentity),
            _ => None,
        }
    }
}

/// Runs an STS request for `caller`.
pub fn handle(request: &StsRequest, caller: &Principal) -> Result<Value, AwsError> {
    match request {
        // https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
        StsRequest::GetCallerIdentity => Ok(Value::structure()
            .with("UserId", caller.user_id.as_str())
            .with("Account", caller.account_id.as_str())
            .with("Arn", caller.arn.as_str())),
    }
}
