//! IAM over the Query protocol (`Action=GetRole&...`, signed for `iam` in
//! us-east-1), as far as the lab's CLI steps and Keywatch need it: creating
//! and reading roles and their inline policies, putting and deleting inline
//! policies, and service-linked roles. Policy documents come back URL-encoded, as IAM
//! returns them (the CLI and SDKs decode them).
//!
//! Shapes: <https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html>.

use super::{IamState, Role, check_identity_policy, check_name};
use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::{Audit, CallContext, Handled, lower_first, query_request_parameters};

/// Runs an IAM call; `None` for an operation the sandbox lacks.
pub fn call(state: &mut IamState, ctx: &CallContext, operation: &str, params: &[(String, String)]) -> Option<Handled> {
    let read_only = match operation {
        "GetRole" | "ListRoles" | "ListRolePolicies" | "GetRolePolicy" => true,
        "CreateRole" | "PutRolePolicy" | "DeleteRolePolicy" | "CreateServiceLinkedRole" => false,
        _ => return None,
    };
    let result = run(state, ctx, operation, params);
    let audit = Audit {
        // Policy documents are not recorded whole: CloudTrail shows the call.
        request_parameters: query_request_parameters(params, &["PolicyDocument"]),
        response_elements: None,
        resources: Vec::new(),
        read_only,
    };
    Some(Handled { mutated: !read_only && result.is_ok(), result, audit: Some(audit) })
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// A required parameter, or IAM's `ValidationError` for its absence.
fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, AwsError> {
    param(params, name).ok_or_else(|| {
        AwsError::sender(
            "ValidationError",
            format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(name)
            ),
        )
    })
}

fn run(
    state: &mut IamState,
    ctx: &CallContext,
    operation: &str,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    Ok(match operation {
        "GetRole" => Value::structure().with("Role", role_value(state.role(required(params, "RoleName")?)?)),
        "ListRoles" => {
            let prefix = param(params, "PathPrefix").unwrap_or("/");
            let roles: Vec<Value> =
                state.roles.values().filter(|role| role.path.starts_with(prefix)).map(role_value).collect();
            Value::structure().with("Roles", roles).with("IsTruncated", false)
        }
        "ListRolePolicies" => {
            let role = state.role(required(params, "RoleName")?)?;
            let names: Vec<Value> = role.inline_policies.keys().map(|name| Value::from(name.as_str())).collect();
            Value::structure().with("PolicyNames", names).with("IsTruncated", false)
        }
        "GetRolePolicy" => {
            let (role_name, policy_name) = (required(params, "RoleName")?, required(params, "PolicyName")?);
            let role = state.role(role_name)?;
            let document = role.inline_policies.get(policy_name).ok_or_else(|| {
                no_such_entity_text(format!("The role policy with name {policy_name} cannot be found."))
            })?;
            Value::structure()
                .with("RoleName", role_name)
                .with("PolicyName", policy_name)
                .with("PolicyDocument", url_encoded(document))
        }
        "CreateRole" => {
            let name = required(params, "RoleName")?;
            let path = param(params, "Path").unwrap_or("/");
            let max_session_duration = match param(params, "MaxSessionDuration") {
                None => 3600,
                Some(text) => text.parse::<i64>().ok().filter(|s| (3600..=43_200).contains(s)).ok_or_else(|| {
                    AwsError::sender(
                        "ValidationError",
                        format!("1 validation error detected: Value '{text}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200"),
                    )
                })?,
            };
            let role = state.create_role(Role {
                arn: format!("arn:{}:iam::{}:role{path}{name}", ctx.partition, ctx.account()),
                role_id: super::role_id(ctx.account(), name),
                name: name.to_owned(),
                path: path.to_owned(),
                description: param(params, "Description").map(str::to_owned),
                assume_role_policy_document: required(params, "AssumeRolePolicyDocument")?.to_owned(),
                max_session_duration,
                permissions_boundary: None,
                inline_policies: Default::default(),
                managed_policy_arns: Vec::new(),
                tags: Default::default(),
                create_date: ctx.now,
            })?;
            Value::structure().with("Role", role_value(role))
        }
        "PutRolePolicy" => {
            let (role_name, policy_name) = (required(params, "RoleName")?, required(params, "PolicyName")?);
            let document = required(params, "PolicyDocument")?;
            check_name(policy_name, "policyName", 128)?;
            check_identity_policy(document)?;
            state.role_mut(role_name)?.inline_policies.insert(policy_name.to_owned(), document.to_owned());
            Value::structure()
        }
        "DeleteRolePolicy" => {
            let (role_name, policy_name) = (required(params, "RoleName")?, required(params, "PolicyName")?);
            if state.role_mut(role_name)?.inline_policies.remove(policy_name).is_none() {
                return Err(no_such_entity_text(format!("The role policy with name {policy_name} cannot be found.")));
            }
            Value::structure()
        }
        "CreateServiceLinkedRole" => {
            let service = required(params, "AWSServiceName")?;
            let role = service_linked_role(ctx, service, param(params, "CustomSuffix"), param(params, "Description"))?;
            if state.roles.contains_key(&role.name) {
                return Err(AwsError::sender(
                    "InvalidInput",
                    format!(
                        "Service role name {} has been taken in this account, please try a different suffix.",
                        role.name
                    ),
                ));
            }
            let value = role_value(&role);
            state.roles.insert(role.name.clone(), role);
            Value::structure().with("Role", value)
        }
        _ => return Err(AwsError::sender("InvalidAction", format!("Could not find operation {operation}"))),
    })
}

fn no_such_entity_text(message: String) -> AwsError {
    AwsError { status: http::StatusCode::NOT_FOUND, ..AwsError::sender("NoSuchEntity", message) }
}

/// The service-linked role AWS makes for `service` (`ecs.amazonaws.com` ->
/// `AWSServiceRoleForECS` on path `/aws-service-role/ecs.amazonaws.com/`),
/// trusted by that service.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html>
fn service_linked_role(
    ctx: &CallContext,
    service: &str,
    suffix: Option<&str>,
    description: Option<&str>,
) -> Result<Role, AwsError> {
    let Some(prefix) = service.strip_suffix(".amazonaws.com").filter(|p| !p.is_empty()) else {
        return Err(AwsError::sender("InvalidInput", format!("Invalid service name: {service}")));
    };
    // The role names AWS uses for the services the lab meets; others by
    // the service prefix with its first letter upper-cased.
    let short = match prefix {
        "ecs" => "ECS".to_owned(),
        "rds" => "RDS".to_owned(),
        "elasticloadbalancing" => "ElasticLoadBalancing".to_owned(),
        "ecs.application-autoscaling" => "ApplicationAutoScaling_ECSService".to_owned(),
        other => {
            let mut chars = other.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        }
    };
    let name = match suffix {
        Some(suffix) => format!("AWSServiceRoleFor{short}_{suffix}"),
        None => format!("AWSServiceRoleFor{short}"),
    };
    let path = format!("/aws-service-role/{service}/");
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    });
    Ok(Role {
        arn: format!("arn:{}:iam::{}:role{path}{name}", ctx.partition, ctx.account()),
        role_id: super::role_id(ctx.account(), &name),
        name,
        path,
        description: description.map(str::to_owned),
        assume_role_policy_document: trust.to_string(),
        max_session_duration: 3600,
        permissions_boundary: None,
        inline_policies: Default::default(),
        managed_policy_arns: Vec::new(),
        tags: Default::default(),
        create_date: ctx.now,
    })
}

/// A policy document as IAM returns it: URL-encoded (RFC 3986).
fn url_encoded(document: &str) -> String {
    percent_encoding::utf8_percent_encode(document, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn role_value(role: &Role) -> Value {
    let mut value = Value::structure()
        .with("Path", role.path.as_str())
        .with("RoleName", role.name.as_str())
        .with("RoleId", role.role_id.as_str())
        .with("Arn", role.arn.as_str())
        .with("CreateDate", Value::Timestamp(role.create_date))
        .with("AssumeRolePolicyDocument", url_encoded(&role.assume_role_policy_document))
        .with("MaxSessionDuration", role.max_session_duration);
    if let Some(description) = &role.description {
        value = value.with("Description", description.as_str());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn ok(state: &mut IamState, operation: &str, pairs: &[(&str, &str)]) -> Value {
        let handled = call(state, &CallContext::for_tests(0), operation, &params(pairs)).expect("served");
        handled.result.expect("succeeds")
    }

    fn err(state: &mut IamState, operation: &str, pairs: &[(&str, &str)]) -> AwsError {
        let handled = call(state, &CallContext::for_tests(0), operation, &params(pairs)).expect("served");
        handled.result.expect_err("fails")
    }

    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html,
    // API_GetRolePolicy.html (PolicyDocument "URL-encoded compliant with RFC 3986"),
    // API_DeleteRolePolicy.html (NoSuchEntity).
    #[test]
    fn inline_policies_are_put_read_listed_and_deleted() {
        let mut state = IamState::default();
        let role = service_linked_role(&CallContext::for_tests(0), "ecs.amazonaws.com", None, None).expect("role");
        let name = role.name.clone();
        state.roles.insert(name.clone(), role);
        let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:*","Resource":"*"}]}"#;
        ok(&mut state, "PutRolePolicy", &[("RoleName", &name), ("PolicyName", "deny"), ("PolicyDocument", document)]);
        let listed = format!("{:?}", ok(&mut state, "ListRolePolicies", &[("RoleName", &name)]));
        assert!(listed.contains("\"deny\""), "{listed}");
        let read = format!("{:?}", ok(&mut state, "GetRolePolicy", &[("RoleName", &name), ("PolicyName", "deny")]));
        assert!(read.contains("%7B%22Version%22"), "URL-encoded: {read}");
        let malformed =
            err(&mut state, "PutRolePolicy", &[("RoleName", &name), ("PolicyName", "x"), ("PolicyDocument", "{")]);
        assert_eq!(malformed.code, "MalformedPolicyDocument");
        ok(&mut state, "DeleteRolePolicy", &[("RoleName", &name), ("PolicyName", "deny")]);
        let gone = err(&mut state, "DeleteRolePolicy", &[("RoleName", &name), ("PolicyName", "deny")]);
        assert_eq!((gone.code.as_str(), gone.status), ("NoSuchEntity", http::StatusCode::NOT_FOUND));
        let missing = err(&mut state, "GetRole", &[("RoleName", "nobody")]);
        assert_eq!(missing.message, "The role with name nobody cannot be found.");
    }

    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (EntityAlreadyExists)
    // and API_PutRolePolicy.html (MalformedPolicyDocument for a document
    // that is not a valid identity-based policy).
    #[test]
    fn a_role_is_created_once_and_takes_only_valid_identity_policies() {
        let mut state = IamState::default();
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#;
        let made = format!(
            "{:?}",
            ok(
                &mut state,
                "CreateRole",
                &[("RoleName", "app"), ("Path", "/lab/"), ("AssumeRolePolicyDocument", trust)]
            )
        );
        assert!(made.contains("arn:aws:iam::111122223333:role/lab/app"), "{made}");
        let again = err(&mut state, "CreateRole", &[("RoleName", "app"), ("AssumeRolePolicyDocument", trust)]);
        assert_eq!((again.code.as_str(), again.status), ("EntityAlreadyExists", http::StatusCode::CONFLICT));
        let no_resource = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kms:*"}}"#;
        let refused = err(
            &mut state,
            "PutRolePolicy",
            &[("RoleName", "app"), ("PolicyName", "x"), ("PolicyDocument", no_resource)],
        );
        assert_eq!(refused.code, "MalformedPolicyDocument");
        assert!(state.identity_policies("app").is_empty());
        let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}}"#;
        ok(&mut state, "PutRolePolicy", &[("RoleName", "app"), ("PolicyName", "deny"), ("PolicyDocument", deny)]);
        assert_eq!(state.identity_policies("app").len(), 1);
        assert!(state.identity_policies("nobody").is_empty());
    }

    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceLinkedRole.html
    // and using-service-linked-roles.html (AWSServiceRoleForECS).
    #[test]
    fn a_service_linked_role_is_made_once() {
        let mut state = IamState::default();
        let made =
            format!("{:?}", ok(&mut state, "CreateServiceLinkedRole", &[("AWSServiceName", "ecs.amazonaws.com")]));
        assert!(
            made.contains("AWSServiceRoleForECS") && made.contains("/aws-service-role/ecs.amazonaws.com/"),
            "{made}"
        );
        let again = err(&mut state, "CreateServiceLinkedRole", &[("AWSServiceName", "ecs.amazonaws.com")]);
        assert_eq!(again.code, "InvalidInput");
        let listed = format!("{:?}", ok(&mut state, "ListRoles", &[("PathPrefix", "/aws-service-role/")]));
        assert!(listed.contains("AWSServiceRoleForECS"), "{listed}");
    }
}
