//! AWS Identity and Access Management, as far as the sandbox needs it: the
//! roles, customer managed policies and instance profiles that
//! CloudFormation stacks create, and [`api`], IAM's own API for creating
//! and reading roles and managing their inline policies. A role's
//! identity-based policies ([`IamState::identity_policies`]) are evaluated
//! for its sessions' KMS calls, where an explicit deny refuses the call
//! (`keywatch_domain::iam_policy` owns the policy language). A role's
//! unique id ([`role_id`]) is the one STS gives the role's sessions, so
//! CloudTrail records name the same role either way.

pub mod api;

use std::collections::BTreeMap;

use keywatch_domain::iam_policy::Policy;
use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::random;

/// The unique id IAM gives role `name` in `account`: `AROA` and 17 upper
/// base32 characters, stable for a name (STS uses it for the role's sessions).
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids>
pub fn role_id(account: &str, name: &str) -> String {
    format!("AROA{}", random::stable_id(&format!("{account}/{name}"), 17))
}

/// The unique id of customer managed policy `arn` (`ANPA...`).
pub fn policy_id(arn: &str) -> String {
    format!("ANPA{}", random::stable_id(arn, 17))
}

/// The unique id of instance profile `arn` (`AIPA...`).
pub fn instance_profile_id(arn: &str) -> String {
    format!("AIPA{}", random::stable_id(arn, 17))
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub role_id: String,
    pub description: Option<String>,
    /// The trust policy (`AssumeRolePolicyDocument`), as JSON text.
    pub assume_role_policy_document: String,
    pub max_session_duration: i64,
    pub permissions_boundary: Option<String>,
    /// Inline policies by name, as JSON text.
    pub inline_policies: BTreeMap<String, String>,
    /// Attached managed policy ARNs.
    pub managed_policy_arns: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub create_date: i64,
}

/// A customer managed policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub policy_id: String,
    pub description: Option<String>,
    pub document: String,
    /// Its versions are not kept: `v1`, `v2`, ... counts the updates.
    pub default_version: u32,
    pub create_date: i64,
    pub update_date: i64,
}

/// An instance profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceProfile {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub id: String,
    pub roles: Vec<String>,
}

/// IAM's state; IAM is global, so nothing is per region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IamState {
    pub roles: BTreeMap<String, Role>,
    pub managed_policies: BTreeMap<String, ManagedPolicy>,
    pub instance_profiles: BTreeMap<String, InstanceProfile>,
}

/// `NoSuchEntity`, as IAM words it for `kind` (`role`, ...).
/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html>
pub fn no_such_entity(kind: &str, name: &str) -> AwsError {
    AwsError {
        status: http::StatusCode::NOT_FOUND,
        ..AwsError::sender("NoSuchEntity", format!("The {kind} with name {name} cannot be found."))
    }
}

/// `EntityAlreadyExists`, as IAM words it (`Role with name X already exists.`).
/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html>
pub fn entity_already_exists(kind: &str, name: &str) -> AwsError {
    AwsError {
        status: http::StatusCode::CONFLICT,
        ..AwsError::sender("EntityAlreadyExists", format!("{kind} with name {name} already exists."))
    }
}

fn delete_conflict(message: &str) -> AwsError {
    AwsError { status: http::StatusCode::CONFLICT, ..AwsError::sender("DeleteConflict", message) }
}

fn validation(message: String) -> AwsError {
    AwsError::sender("ValidationError", message)
}

/// Role, policy and profile names: `[\w+=,.@-]+`, at most `max` characters.
/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html>
pub fn check_name(name: &str, member: &str, max: usize) -> Result<(), AwsError> {
    if name.is_empty() || name.len() > max {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"
        )));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )));
    }
    Ok(())
}

/// Paths: `/` alone or `/.../`. <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html>
pub fn check_path(path: &str) -> Result<(), AwsError> {
    if path.starts_with('/') && path.ends_with('/') && path.len() <= 512 {
        Ok(())
    } else {
        Err(validation(format!(
            "1 validation error detected: Value '{path}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
        )))
    }
}

/// An identity-based policy (PutRolePolicy's document) must parse as one:
/// IAM refuses a malformed document when it is put, so the sandbox never
/// keeps a deny it could not evaluate.
/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html> (MalformedPolicyDocument)
pub fn check_identity_policy(document: &str) -> Result<(), AwsError> {
    Policy::parse(document).map(drop).map_err(|error| AwsError::sender("MalformedPolicyDocument", error.to_string()))
}

/// A policy document must be a JSON object with a `Statement`.
pub fn check_document(document: &str) -> Result<(), AwsError> {
    match serde_json::from_str::<serde_json::Value>(document) {
        Ok(serde_json::Value::Object(members)) if members.contains_key("Statement") => Ok(()),
        _ => Err(AwsError::sender("MalformedPolicyDocument", "Syntax errors in policy.")),
    }
}

impl IamState {
    /// The role `name`.
    pub fn role(&self, name: &str) -> Result<&Role, AwsError> {
        self.roles.get(name).ok_or_else(|| no_such_entity("role", name))
    }

    /// The role `name`, to change.
    pub fn role_mut(&mut self, name: &str) -> Result<&mut Role, AwsError> {
        self.roles.get_mut(name).ok_or_else(|| no_such_entity("role", name))
    }

    /// CreateRole.
    pub fn create_role(&mut self, role: Role) -> Result<&Role, AwsError> {
        check_name(&role.name, "roleName", 64)?;
        check_path(&role.path)?;
        check_document(&role.assume_role_policy_document)?;
        if self.roles.contains_key(&role.name) {
            return Err(entity_already_exists("Role", &role.name));
        }
        let name = role.name.clone();
        Ok(self.roles.entry(name).or_insert(role))
    }

    /// Checks that a managed policy ARN can be attached: AWS managed
    /// policies (`arn:<partition>:iam::aws:policy/...`) always, customer
    /// managed ones when they exist.
    pub fn check_attachable(&self, arn: &str) -> Result<(), AwsError> {
        let aws_managed = arn.split(':').nth(4) == Some("aws") && arn.contains(":policy/");
        if aws_managed || self.managed_policies.contains_key(arn) {
            Ok(())
        } else {
            Err(AwsError {
                status: http::StatusCode::NOT_FOUND,
                ..AwsError::sender("NoSuchEntity", format!("Policy {arn} does not exist or is not attachable."))
            })
        }
    }

    /// DeleteRole: refused while the role has policies or is in an
    /// instance profile, as IAM refuses it.
    /// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html>
    pub fn delete_role(&mut self, name: &str) -> Result<(), AwsError> {
        let role = self.role(name)?;
        if !role.inline_policies.is_empty() || !role.managed_policy_arns.is_empty() {
            return Err(delete_conflict("Cannot delete entity, must delete policies first."));
        }
        if self.instance_profiles.values().any(|profile| profile.roles.iter().any(|r| r == name)) {
            return Err(delete_conflict("Cannot delete entity, must remove roles from instance profile first."));
        }
        self.roles.remove(name);
        Ok(())
    }

    /// DeletePolicy: refused while the policy is attached.
    pub fn delete_managed_policy(&mut self, arn: &str) -> Result<(), AwsError> {
        if !self.managed_policies.contains_key(arn) {
            return Err(AwsError {
                status: http::StatusCode::NOT_FOUND,
                ..AwsError::sender("NoSuchEntity", format!("Policy {arn} was not found."))
            });
        }
        if self.roles.values().any(|role| role.managed_policy_arns.iter().any(|a| a == arn)) {
            return Err(delete_conflict("Cannot delete a policy attached to entities."));
        }
        self.managed_policies.remove(arn);
        Ok(())
    }

    /// The identity-based policies of role `name`: its inline policies and
    /// the customer managed policies attached to it, parsed. AWS managed
    /// policies are not kept, so they add nothing; a role the sandbox does
    /// not know (STS lets any role ARN be assumed) has none.
    pub fn identity_policies(&self, name: &str) -> Vec<Policy> {
        let Some(role) = self.roles.get(name) else { return Vec::new() };
        let managed = role.managed_policy_arns.iter().filter_map(|arn| self.managed_policies.get(arn));
        role.inline_policies
            .values()
            .map(String::as_str)
            .chain(managed.map(|policy| policy.document.as_str()))
            .filter_map(|document| match Policy::parse(document) {
                Ok(policy) => Some(policy),
                Err(error) => {
                    // Only CloudFormation's looser check lets one in; it
                    // cannot be evaluated, as AWS would not have kept it.
                    tracing::debug!(role = name, %error, "identity policy not evaluated");
                    None
                }
            })
            .collect()
    }

    /// Roles, policies and profiles all gone.
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.managed_policies.is_empty() && self.instance_profiles.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids:
    // role ids start with AROA and are stable for the role.
    #[test]
    fn role_ids_are_stable_and_aroa() {
        let id = role_id("111122223333", "pattern1-app-Pattern1ECSTaskRole");
        assert!(id.starts_with("AROA") && id.len() == 21, "{id}");
        assert_eq!(id, role_id("111122223333", "pattern1-app-Pattern1ECSTaskRole"));
        assert_ne!(id, role_id("111122223333", "other"));
    }

    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_id-based:
    // a role's identity-based policies are its inline policies and the
    // managed policies attached to it (the default version's document).
    #[test]
    fn identity_policies_are_inline_and_attached_managed_ones() {
        let mut state = IamState::default();
        let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}}"#;
        let arn = "arn:aws:iam::111122223333:policy/contain".to_owned();
        state.managed_policies.insert(
            arn.clone(),
            ManagedPolicy {
                name: "contain".into(),
                path: "/".into(),
                arn: arn.clone(),
                policy_id: policy_id(&arn),
                description: None,
                document: deny.into(),
                default_version: 1,
                create_date: 0,
                update_date: 0,
            },
        );
        state
            .create_role(Role {
                name: "app".into(),
                path: "/".into(),
                arn: "arn:aws:iam::111122223333:role/app".into(),
                role_id: role_id("111122223333", "app"),
                description: None,
                assume_role_policy_document: r#"{"Statement":[]}"#.into(),
                max_session_duration: 3600,
                permissions_boundary: None,
                inline_policies: [("inline".to_owned(), deny.to_owned())].into(),
                managed_policy_arns: vec![arn, "arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
                tags: BTreeMap::new(),
                create_date: 0,
            })
            .expect("created");
        // The AWS managed policy is not kept, so two policies, not three.
        assert_eq!(state.identity_policies("app").len(), 2);
    }

    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html: role names
    // are at most 64 characters of [\w+=,.@-].
    #[test]
    fn names_are_checked() {
        assert!(check_name("pattern1-app-Pattern1ECSTaskRole", "roleName", 64).is_ok());
        assert_eq!(check_name(&"r".repeat(65), "roleName", 64).expect_err("long").code, "ValidationError");
        assert_eq!(check_name("a b", "roleName", 64).expect_err("space").code, "ValidationError");
    }
}
