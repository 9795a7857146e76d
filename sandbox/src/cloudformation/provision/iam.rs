//! `AWS::IAM::Role`, `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy` and
//! `AWS::IAM::InstanceProfile`, kept in the sandbox's IAM store
//! ([`crate::iam`]). Deleting a role first removes its inline policies and
//! detaches its managed ones, as CloudFormation's role handler does.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html>

use std::collections::BTreeMap;

use super::{
    Create, Delete, HandlerErrorCode, Props, ProvisionError, Provisioned, ResourceType, Update, generated_name,
    name_or_generated,
};
use crate::error::AwsError;
use crate::iam::{self, IamState, InstanceProfile, ManagedPolicy, Role};
use crate::service::CallContext;

fn failed(error: AwsError) -> ProvisionError {
    ProvisionError::service("Iam", &error)
}

/// IAM's default and allowed `MaxSessionDuration`, in seconds.
const DEFAULT_MAX_SESSION: i64 = 3600;

/// `arn:<partition>:iam::<account>:<kind><path><name>`.
fn arn(ctx: &CallContext, kind: &str, path: &str, name: &str) -> String {
    format!("arn:{}:iam::{}:{kind}{path}{name}", ctx.partition, ctx.account())
}

fn role_attributes(role: &Role) -> Provisioned {
    Provisioned::new(role.name.clone()).with("Arn", role.arn.clone()).with("RoleId", role.role_id.clone())
}

fn policy_attributes(policy: &ManagedPolicy, attachments: usize) -> Provisioned {
    Provisioned::new(policy.arn.clone())
        .with("PolicyArn", policy.arn.clone())
        .with("PolicyId", policy.policy_id.clone())
        .with("AttachmentCount", attachments as i64)
        .with("CreateDate", crate::clock::iso8601_seconds(policy.create_date))
        .with("UpdateDate", crate::clock::iso8601_seconds(policy.update_date))
        .with("DefaultVersionId", format!("v{}", policy.default_version))
        .with("IsAttachable", true)
        .with("PermissionsBoundaryUsageCount", 0)
}

/// `Policies: [{PolicyName, PolicyDocument}]` as a map.
fn inline_policies(props: &Props) -> Result<BTreeMap<String, String>, ProvisionError> {
    let mut policies = BTreeMap::new();
    for policy in props.objects("Policies")? {
        let name = policy.required_str("PolicyName")?;
        let document = policy.required_document("PolicyDocument")?;
        iam::check_name(&name, "policyName", 128).map_err(failed)?;
        iam::check_document(&document).map_err(failed)?;
        policies.insert(name, document);
    }
    Ok(policies)
}

fn managed_arns(state: &IamState, props: &Props) -> Result<Vec<String>, ProvisionError> {
    let arns = props.strings("ManagedPolicyArns")?;
    for arn in &arns {
        state.check_attachable(arn).map_err(failed)?;
    }
    Ok(arns)
}

/// Users and groups are not modelled: a policy naming them cannot be
/// attached in the sandbox, and says so rather than pretending.
fn refuse_users_and_groups(props: &Props) -> Result<(), ProvisionError> {
    if !props.strings("Users")?.is_empty() || !props.strings("Groups")?.is_empty() {
        return Err(ProvisionError::handler(
            "The Keywatch sandbox has no IAM users or groups to attach policies to",
            HandlerErrorCode::InvalidRequest,
        ));
    }
    Ok(())
}

/// The types share one function per operation, matching on the type inside.
pub(super) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType { name: "AWS::IAM::Role", create, update, delete },
    ResourceType { name: "AWS::IAM::Policy", create, update, delete },
    ResourceType { name: "AWS::IAM::ManagedPolicy", create, update, delete },
    ResourceType { name: "AWS::IAM::InstanceProfile", create, update, delete },
];

fn create(Create { state: sandbox, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let state = &mut sandbox.iam;
    match request.resource_type {
        "AWS::IAM::Role" => {
            let trust = props.required_document("AssumeRolePolicyDocument")?;
            let name = name_or_generated(props, request, "RoleName", 64, false)?;
            let path = props.str("Path")?.unwrap_or_else(|| "/".to_owned());
            let role = Role {
                arn: arn(ctx, "role", &path, &name),
                role_id: iam::role_id(ctx.account(), &name),
                name,
                path,
                description: props.str("Description")?,
                assume_role_policy_document: trust,
                max_session_duration: props.int("MaxSessionDuration")?.unwrap_or(DEFAULT_MAX_SESSION),
                permissions_boundary: props.str("PermissionsBoundary")?,
                inline_policies: inline_policies(props)?,
                managed_policy_arns: managed_arns(state, props)?,
                tags: props.tags()?,
                create_date: ctx.now,
            };
            if !(3600..=43_200).contains(&role.max_session_duration) {
                return Err(failed(AwsError::sender(
                    "ValidationError",
                    format!(
                        "1 validation error detected: Value '{}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600",
                        role.max_session_duration
                    ),
                )));
            }
            Ok(role_attributes(state.create_role(role).map_err(failed)?))
        }
        "AWS::IAM::Policy" => {
            let name = props.required_str("PolicyName")?;
            let document = props.required_document("PolicyDocument")?;
            iam::check_name(&name, "policyName", 128).map_err(failed)?;
            iam::check_document(&document).map_err(failed)?;
            refuse_users_and_groups(props)?;
            let roles = props.strings("Roles")?;
            for role in &roles {
                state.role(role).map_err(failed)?;
            }
            for role in &roles {
                state.role_mut(role).map_err(failed)?.inline_policies.insert(name.clone(), document.clone());
            }
            let id = generated_name(request.stack_name, request.logical_id, 128, false);
            Ok(Provisioned::new(id.clone()).with("Id", id))
        }
        "AWS::IAM::ManagedPolicy" => {
            let document = props.required_document("PolicyDocument")?;
            let name = name_or_generated(props, request, "ManagedPolicyName", 128, false)?;
            let path = props.str("Path")?.unwrap_or_else(|| "/".to_owned());
            iam::check_name(&name, "policyName", 128).map_err(failed)?;
            iam::check_path(&path).map_err(failed)?;
            iam::check_document(&document).map_err(failed)?;
            refuse_users_and_groups(props)?;
            let policy_arn = arn(ctx, "policy", &path, &name);
            if state.managed_policies.contains_key(&policy_arn) {
                return Err(failed(AwsError {
                    status: http::StatusCode::CONFLICT,
                    ..AwsError::sender(
                        "EntityAlreadyExists",
                        format!("A policy called {name} already exists. Duplicate names are not allowed."),
                    )
                }));
            }
            let roles = props.strings("Roles")?;
            for role in &roles {
                state.role(role).map_err(failed)?;
            }
            let policy = ManagedPolicy {
                policy_id: iam::policy_id(&policy_arn),
                arn: policy_arn.clone(),
                name,
                path,
                description: props.str("Description")?,
                document,
                default_version: 1,
                create_date: ctx.now,
                update_date: ctx.now,
            };
            state.managed_policies.insert(policy_arn.clone(), policy.clone());
            for role in &roles {
                state.role_mut(role).map_err(failed)?.managed_policy_arns.push(policy_arn.clone());
            }
            Ok(policy_attributes(&policy, roles.len()))
        }
        "AWS::IAM::InstanceProfile" => {
            let roles = props.strings("Roles")?;
            if props.get("Roles").is_none() {
                return Err(props.missing("Roles"));
            }
            if roles.len() > 1 {
                return Err(ProvisionError::validation(
                    request.logical_id,
                    "#/Roles: expected maximum item count: 1, found: 2",
                ));
            }
            for role in &roles {
                state.role(role).map_err(failed)?;
            }
            let name = name_or_generated(props, request, "InstanceProfileName", 128, false)?;
            let path = props.str("Path")?.unwrap_or_else(|| "/".to_owned());
            iam::check_name(&name, "instanceProfileName", 128).map_err(failed)?;
            if state.instance_profiles.contains_key(&name) {
                return Err(failed(iam::entity_already_exists("Instance Profile", &name)));
            }
            let profile_arn = arn(ctx, "instance-profile", &path, &name);
            let profile = InstanceProfile {
                id: iam::instance_profile_id(&profile_arn),
                arn: profile_arn.clone(),
                name: name.clone(),
                path,
                roles,
            };
            state.instance_profiles.insert(name.clone(), profile);
            Ok(Provisioned::new(name).with("Arn", profile_arn))
        }
        other => Err(super::unsupported(other)),
    }
}

fn update(Update { state: sandbox, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let state = &mut sandbox.iam;
    let id = change.current.physical_id.clone();
    match change.request.resource_type {
        "AWS::IAM::Role" => {
            let trust = props.required_document("AssumeRolePolicyDocument")?;
            iam::check_document(&trust).map_err(failed)?;
            let policies = inline_policies(props)?;
            let managed = managed_arns(state, props)?;
            let role = state.role_mut(&id).map_err(failed)?;
            // Policies attached by AWS::IAM::Policy resources are kept;
            // only the ones this resource declared before are replaced.
            let old = inline_policies(&Props { logical_id: "", value: change.previous })?;
            role.inline_policies.retain(|name, _| !old.contains_key(name));
            role.inline_policies.extend(policies);
            let old_managed = Props { logical_id: "", value: change.previous }.strings("ManagedPolicyArns")?;
            role.managed_policy_arns.retain(|arn| !old_managed.contains(arn));
            for arn in managed {
                if !role.managed_policy_arns.contains(&arn) {
                    role.managed_policy_arns.push(arn);
                }
            }
            role.assume_role_policy_document = trust;
            role.description = props.str("Description")?;
            role.max_session_duration = props.int("MaxSessionDuration")?.unwrap_or(DEFAULT_MAX_SESSION);
            role.permissions_boundary = props.str("PermissionsBoundary")?;
            role.tags = props.tags()?;
            Ok(role_attributes(role))
        }
        "AWS::IAM::Policy" => {
            let name = props.required_str("PolicyName")?;
            let document = props.required_document("PolicyDocument")?;
            iam::check_document(&document).map_err(failed)?;
            refuse_users_and_groups(props)?;
            let roles = props.strings("Roles")?;
            for role in &roles {
                state.role(role).map_err(failed)?;
            }
            detach_inline(state, &Props { logical_id: "", value: change.previous })?;
            for role in &roles {
                state.role_mut(role).map_err(failed)?.inline_policies.insert(name.clone(), document.clone());
            }
            Ok(Provisioned::new(id.clone()).with("Id", id))
        }
        "AWS::IAM::ManagedPolicy" => {
            let document = props.required_document("PolicyDocument")?;
            iam::check_document(&document).map_err(failed)?;
            let roles = props.strings("Roles")?;
            for role in &roles {
                state.role(role).map_err(failed)?;
            }
            for role in state.roles.values_mut() {
                role.managed_policy_arns.retain(|arn| *arn != id);
            }
            for role in &roles {
                state.role_mut(role).map_err(failed)?.managed_policy_arns.push(id.clone());
            }
            let policy = state
                .managed_policies
                .get_mut(&id)
                .ok_or_else(|| ProvisionError::not_found(change.request.resource_type, &id))?;
            if policy.document != document {
                policy.document = document;
                policy.default_version += 1;
                policy.update_date = ctx.now;
            }
            Ok(policy_attributes(policy, roles.len()))
        }
        "AWS::IAM::InstanceProfile" => {
            let roles = props.strings("Roles")?;
            for role in &roles {
                state.role(role).map_err(failed)?;
            }
            let profile = state
                .instance_profiles
                .get_mut(&id)
                .ok_or_else(|| ProvisionError::not_found(change.request.resource_type, &id))?;
            profile.roles = roles;
            Ok(Provisioned::new(id).with("Arn", profile.arn.clone()))
        }
        other => Err(super::unsupported(other)),
    }
}

/// Removes an AWS::IAM::Policy's inline policy from the roles it named.
fn detach_inline(state: &mut IamState, props: &Props) -> Result<(), ProvisionError> {
    let name = props.str("PolicyName")?.unwrap_or_default();
    for role in props.strings("Roles")? {
        if let Some(role) = state.roles.get_mut(&role) {
            role.inline_policies.remove(&name);
        }
    }
    Ok(())
}

fn delete(Delete { state: sandbox, resource_type, current, props, .. }: Delete) -> Result<(), ProvisionError> {
    let state = &mut sandbox.iam;
    let id = current.physical_id.as_str();
    match resource_type {
        "AWS::IAM::Role" => {
            let Some(role) = state.roles.get_mut(id) else {
                return Err(ProvisionError::not_found(resource_type, id));
            };
            role.inline_policies.clear();
            role.managed_policy_arns.clear();
            state.delete_role(id).map_err(failed)
        }
        "AWS::IAM::Policy" => detach_inline(state, props),
        "AWS::IAM::ManagedPolicy" => {
            for role in state.roles.values_mut() {
                role.managed_policy_arns.retain(|arn| arn != id);
            }
            state.delete_managed_policy(id).map_err(failed)
        }
        "AWS::IAM::InstanceProfile" => match state.instance_profiles.remove(id) {
            Some(_) => Ok(()),
            None => Err(ProvisionError::not_found(resource_type, id)),
        },
        other => Err(super::unsupported(other)),
    }
}
