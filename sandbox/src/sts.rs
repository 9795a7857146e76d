//! AWS Security Token Service: who the caller is, and role sessions.
//!
//! `GetCallerIdentity` answers for the principal the request's access key
//! maps to. `AssumeRole` issues temporary credentials (`ASIA...` keys) whose
//! later requests run as that role session, which is how CloudTrail records
//! show `AssumedRole` identities with the role as `sessionIssuer`. Roles need
//! not exist beforehand: any well-formed role ARN in the sandbox account is
//! accepted until the sandbox has IAM.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::identity::{ACCOUNT_ID, Principal, PrincipalKind};
use crate::protocol::value::Value;
use crate::random;
use crate::service::{Audit, CallContext, Handled};

/// The shortest and longest sessions AssumeRole grants, in seconds.
/// <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html> (DurationSeconds).
const MIN_DURATION_SECONDS: i64 = 900;
const MAX_DURATION_SECONDS: i64 = 43_200;
const DEFAULT_DURATION_SECONDS: i64 = 3_600;

/// One role session issued by AssumeRole. The secret key and session token
/// are not kept: the sandbox does not verify signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSession {
    pub role_arn: String,
    pub session_name: String,
    /// The role's unique id (`AROA...`).
    pub role_id: String,
    pub created_ms: i64,
    pub expiration_ms: i64,
}

impl RoleSession {
    fn role_name(&self) -> &str {
        self.role_arn.rsplit('/').next().unwrap_or_default()
    }

    /// `arn:aws:sts::<account>:assumed-role/<role name>/<session name>`.
    fn assumed_role_arn(&self, partition: &str) -> String {
        format!("arn:{partition}:sts::{ACCOUNT_ID}:assumed-role/{}/{}", self.role_name(), self.session_name)
    }
}

/// STS's state: the role sessions issued, by access key id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsState {
    pub sessions: BTreeMap<String, RoleSession>,
}

impl StsState {
    /// The principal `access_key_id` maps to: a role session if AssumeRole
    /// issued it, otherwise the default user. An expired session's key fails
    /// as AWS fails it.
    pub fn principal(&self, partition: &str, access_key_id: Option<String>, now: i64) -> Result<Principal, AwsError> {
        let Some(session) = access_key_id.as_ref().and_then(|key| self.sessions.get(key)) else {
            return Ok(Principal::default_user(partition, access_key_id));
        };
        if session.expiration_ms <= now {
            // https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html (ExpiredTokenException)
            return Err(AwsError::sender(
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ));
        }
        Ok(Principal {
            account_id: ACCOUNT_ID.to_owned(),
            arn: session.assumed_role_arn(partition),
            user_id: format!("{}:{}", session.role_id, session.session_name),
            access_key_id,
            kind: PrincipalKind::AssumedRole {
                role_arn: session.role_arn.clone(),
                role_name: session.role_name().to_owned(),
                role_id: session.role_id.clone(),
                session_created_ms: session.created_ms,
            },
        })
    }

    /// Forgets sessions that expired; they can never be used again.
    fn purge_expired(&mut self, now: i64) {
        self.sessions.retain(|_, session| session.expiration_ms > now);
    }
}

/// The STS operations the sandbox implements, decoded from Query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StsRequest {
    GetCallerIdentity,
    AssumeRole(AssumeRoleRequest),
}

/// <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleRequest {
    pub role_arn: String,
    pub role_session_name: String,
    pub duration_seconds: Option<i64>,
}

impl StsRequest {
    /// Decodes an operation's Query parameters; `Ok(None)` for an operation
    /// the sandbox lacks.
    pub fn decode(operation: &str, params: &[(String, String)]) -> Result<Option<StsRequest>, AwsError> {
        let param = |name: &str| params.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
        let required = |name: &str| {
            param(name).ok_or_else(|| {
                AwsError::sender(
                    "ValidationError",
                    format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", crate::service::lower_first(name)),
                )
            })
        };
        Ok(Some(match operation {
            "GetCallerIdentity" => StsRequest::GetCallerIdentity,
            "AssumeRole" => StsRequest::AssumeRole(AssumeRoleRequest {
                role_arn: required("RoleArn")?,
                role_session_name: required("RoleSessionName")?,
                duration_seconds: match param("DurationSeconds") {
                    Some(text) => Some(text.parse::<i64>().map_err(|_| {
                        AwsError::sender(
                            "ValidationError",
                            format!("Value '{text}' at 'durationSeconds' is not a number"),
                        )
                    })?),
                    None => None,
                },
            }),
            _ => return Ok(None),
        }))
    }
}

/// Runs an STS call; `None` for an operation the sandbox lacks.
pub fn call(state: &mut StsState, ctx: &CallContext, operation: &str, params: &[(String, String)]) -> Option<Handled> {
    let request = match StsRequest::decode(operation, params) {
        Ok(Some(request)) => request,
        Ok(None) => return None,
        Err(error) => {
            return Some(Handled {
                result: Err(error),
                audit: Some(Audit { read_only: true, ..Audit::default() }),
                mutated: false,
            });
        }
    };
    let (result, mutated, request_parameters) = match &request {
        // https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
        StsRequest::GetCallerIdentity => (
            Ok(Value::structure()
                .with("UserId", ctx.caller.user_id.as_str())
                .with("Account", ctx.caller.account_id.as_str())
                .with("Arn", ctx.caller.arn.as_str())),
            false,
            None,
        ),
        StsRequest::AssumeRole(assume) => {
            let parameters = serde_json::json!({
                "roleArn": assume.role_arn,
                "roleSessionName": assume.role_session_name,
                "durationSeconds": assume.duration_seconds.unwrap_or(DEFAULT_DURATION_SECONDS),
            });
            state.purge_expired(ctx.now);
            (assume_role(state, ctx, assume), true, Some(parameters))
        }
    };
    let response_elements = result.as_ref().ok().and_then(crate::service::response_elements);
    let response_elements = if matches!(request, StsRequest::GetCallerIdentity) { None } else { response_elements };
    Some(Handled {
        result,
        // AssumeRole does not change resources, so CloudTrail marks it read-only.
        audit: Some(Audit { request_parameters, response_elements, resources: Vec::new(), read_only: true }),
        mutated,
    })
}

fn assume_role(state: &mut StsState, ctx: &CallContext, request: &AssumeRoleRequest) -> Result<Value, AwsError> {
    let role_name = parse_role_arn(&request.role_arn, &ctx.partition)?;
    if !valid_session_name(&request.role_session_name) {
        return Err(AwsError::sender(
            "ValidationError",
            format!(
                "1 validation error detected: Value '{}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
                request.role_session_name
            ),
        ));
    }
    let duration = request.duration_seconds.unwrap_or(DEFAULT_DURATION_SECONDS);
    if duration < MIN_DURATION_SECONDS {
        return Err(AwsError::sender(
            "ValidationError",
            format!(
                "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to {MIN_DURATION_SECONDS}"
            ),
        ));
    }
    if duration > MAX_DURATION_SECONDS {
        return Err(AwsError::sender(
            "ValidationError",
            format!(
                "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to {MAX_DURATION_SECONDS}"
            ),
        ));
    }
    let issued = issue_session(state, &request.role_arn, &role_name, &request.role_session_name, ctx, duration)?;
    let (access_key_id, secret_access_key, session_token, expiration, role_id, assumed_arn) = (
        issued.access_key_id,
        issued.secret_access_key,
        issued.session_token,
        issued.expiration_ms,
        issued.role_id,
        issued.assumed_role_arn,
    );
    Ok(Value::structure()
        .with(
            "Credentials",
            Value::structure()
                .with("AccessKeyId", access_key_id)
                .with("SecretAccessKey", secret_access_key)
                .with("SessionToken", session_token)
                .with("Expiration", Value::Timestamp(expiration)),
        )
        .with(
            "AssumedRoleUser",
            Value::structure()
                .with("AssumedRoleId", format!("{role_id}:{}", request.role_session_name))
                .with("Arn", assumed_arn),
        )
        .with("PackedPolicySize", 0i64))
}

/// Temporary credentials of a role session.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration_ms: i64,
    pub role_id: String,
    pub assumed_role_arn: String,
}

/// Issues a role session's credentials: what AssumeRole does once its
/// input is checked, and what the sandbox's ECS tasks get for their task role.
pub fn issue_session(
    state: &mut StsState,
    role_arn: &str,
    role_name: &str,
    session_name: &str,
    ctx: &CallContext,
    duration_seconds: i64,
) -> Result<IssuedSession, AwsError> {
    let access_key_id = format!("ASIA{}", random::text(random::UPPER_BASE32, 16)?);
    let secret_access_key = random::text(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)?;
    let session_token = random::text(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 356)?;
    // The same role keeps the same unique id across sessions, as in IAM.
    let role_id = crate::iam::role_id(ACCOUNT_ID, role_name);
    let session = RoleSession {
        role_arn: role_arn.to_owned(),
        session_name: session_name.to_owned(),
        role_id: role_id.clone(),
        created_ms: ctx.now,
        expiration_ms: ctx.now + duration_seconds * 1000,
    };
    let assumed_role_arn = session.assumed_role_arn(&ctx.partition);
    let expiration_ms = session.expiration_ms;
    state.sessions.insert(access_key_id.clone(), session);
    Ok(IssuedSession { access_key_id, secret_access_key, session_token, expiration_ms, role_id, assumed_role_arn })
}

/// The role name of a role ARN in the sandbox account, checked as
/// AssumeRole checks it.
pub fn role_name_of(role_arn: &str, partition: &str) -> Result<String, AwsError> {
    parse_role_arn(role_arn, partition)
}

/// Checks `arn:<partition>:iam::<account>:role/<path/><name>` and returns the
/// role name. A role in another account is refused as AWS refuses a role
/// whose trust policy does not name the caller.
fn parse_role_arn(arn: &str, partition: &str) -> Result<String, AwsError> {
    let invalid = || AwsError::sender("ValidationError", format!("{arn} is invalid"));
    let rest = arn.strip_prefix("arn:").ok_or_else(invalid)?;
    let mut parts = rest.splitn(5, ':');
    let (arn_partition, service, region, account, resource) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next());
    let (Some(arn_partition), Some("iam"), Some(""), Some(account), Some(resource)) =
        (arn_partition, service, region, account, resource)
    else {
        return Err(invalid());
    };
    let path_and_name = resource.strip_prefix("role/").ok_or_else(invalid)?;
    let name = path_and_name.rsplit('/').next().unwrap_or_default();
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !name_ok || account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    if account != ACCOUNT_ID || arn_partition != partition {
        // https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (errors; AccessDenied)
        let mut error =
            AwsError::sender("AccessDenied", format!("Not authorized to perform sts:AssumeRole on resource: {arn}"));
        error.status = http::StatusCode::FORBIDDEN;
        return Err(error);
    }
    Ok(name.to_owned())
}

/// RoleSessionName: 2 to 64 characters of `[\w+=,.@-]`.
fn valid_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(role: &str, session: &str) -> Vec<(String, String)> {
        vec![("RoleArn".into(), role.into()), ("RoleSessionName".into(), session.into())]
    }

    fn member<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
        path.iter().try_fold(value, |current, name| match current {
            Value::Map(members) => members.iter().find(|(key, _)| key == name).map(|(_, v)| v),
            _ => None,
        })
    }

    // https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html:
    // temporary keys, AssumedRoleId "AROA...:session", assumed-role ARN.
    #[test]
    fn assumed_keys_map_to_the_role_session() {
        let mut state = StsState::default();
        let role = "arn:aws:iam::111122223333:role/service/pattern1-app-Pattern1ECSTaskRole";
        let handled =
            call(&mut state, &CallContext::for_tests(1_000), "AssumeRole", &params(role, "task")).expect("known");
        let output = handled.result.expect("assumed");
        let Some(Value::String(key)) = member(&output, &["Credentials", "AccessKeyId"]) else { panic!("no key") };
        assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
        let Some(Value::String(arn)) = member(&output, &["AssumedRoleUser", "Arn"]) else { panic!("no arn") };
        assert_eq!(arn, "arn:aws:sts::111122223333:assumed-role/pattern1-app-Pattern1ECSTaskRole/task");

        let principal = state.principal("aws", Some(key.clone()), 2_000).expect("valid");
        assert_eq!(principal.arn, *arn);
        assert!(principal.user_id.starts_with("AROA") && principal.user_id.ends_with(":task"));
        let identity = principal.user_identity();
        assert_eq!(identity["type"], "AssumedRole");
        assert_eq!(identity["sessionContext"]["sessionIssuer"]["arn"], role);
        assert_eq!(identity["sessionContext"]["sessionIssuer"]["userName"], "pattern1-app-Pattern1ECSTaskRole");

        // Default one hour: an hour later the key is expired.
        let expired = state.principal("aws", Some(key.clone()), 1_000 + 3_600_000).expect_err("expired");
        assert_eq!(expired.code, "ExpiredTokenException");
        // CloudTrail never sees the secret.
        let audit = handled.audit.expect("recorded");
        let elements = audit.response_elements.expect("elements");
        assert!(elements["credentials"].get("secretAccessKey").is_none());
    }

    #[test]
    fn malformed_or_foreign_roles_are_refused() {
        let mut state = StsState::default();
        let bad =
            call(&mut state, &CallContext::for_tests(0), "AssumeRole", &params("not-an-arn", "s1")).expect("known");
        assert_eq!(bad.result.expect_err("invalid").code, "ValidationError");
        let foreign = call(
            &mut state,
            &CallContext::for_tests(0),
            "AssumeRole",
            &params("arn:aws:iam::999999999999:role/x", "s1"),
        )
        .expect("known");
        assert_eq!(foreign.result.expect_err("denied").code, "AccessDenied");
        let session = call(
            &mut state,
            &CallContext::for_tests(0),
            "AssumeRole",
            &params("arn:aws:iam::111122223333:role/x", "a b"),
        )
        .expect("known");
        assert_eq!(session.result.expect_err("bad session").code, "ValidationError");
        assert!(state.sessions.is_empty());
    }

    #[test]
    fn unknown_keys_are_the_default_user() {
        let principal = StsState::default().principal("aws", Some("AKIAEXAMPLE".into()), 0).expect("user");
        assert_eq!(principal.arn, "arn:aws:iam::111122223333:user/sandbox-admin");
    }
}
