//! `AWS::KMS::Key` and `AWS::KMS::Alias`, made by the sandbox's KMS through
//! the same operations CloudFormation's KMS handlers call (CreateKey,
//! PutKeyPolicy, EnableKeyRotation, DisableKey, ScheduleKeyDeletion,
//! CreateAlias, DeleteAlias).
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html>

use serde_json::{Value as Json, json};

use super::{
    Create, Delete, HandlerErrorCode, Props, ProvisionError, Provisioned, ResourceType, Update, outcome, output_str,
};
use crate::kms::{KeyState, KmsState, api};
use crate::service::CallContext;

/// CloudFormation's default `PendingWindowInDays` for a key's deletion.
const DEFAULT_PENDING_WINDOW_DAYS: i64 = 30;

fn call(
    state: &mut KmsState,
    ctx: &CallContext,
    operation: &str,
    input: Json,
) -> Result<crate::protocol::value::Value, ProvisionError> {
    outcome("Kms", operation, api::call(state, ctx, operation, &input))
}

fn key_attributes(state: &KmsState, ctx: &CallContext, key_id: &str) -> Result<Provisioned, ProvisionError> {
    let key = state.resolve(ctx, key_id).map_err(|error| ProvisionError::service("Kms", &error))?;
    Ok(Provisioned::new(key.key_id.clone()).with("Arn", key.arn.clone()).with("KeyId", key.key_id.clone()))
}

/// The types share one function per operation, matching on the type inside.
pub(super) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType { name: "AWS::KMS::Key", create, update, delete },
    ResourceType { name: "AWS::KMS::Alias", create, update, delete },
];

fn create(Create { state: sandbox, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let state = &mut sandbox.kms;
    match request.resource_type {
        "AWS::KMS::Key" => {
            let mut input = json!({});
            if let Some(description) = props.str("Description")? {
                input["Description"] = json!(description);
            }
            // Without KeyPolicy CloudFormation gives the key KMS's default policy.
            if let Some(policy) = props.document("KeyPolicy")? {
                input["Policy"] = json!(policy);
            }
            for name in ["KeyUsage", "KeySpec", "Origin"] {
                if let Some(value) = props.str(name)? {
                    input[name] = json!(value);
                }
            }
            let tags: Vec<Json> = props.tags()?.into_iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect();
            input["Tags"] = json!(tags);
            let output = call(state, ctx, "CreateKey", input)?;
            let key_id = output_str(&output, &["KeyMetadata", "KeyId"]).ok_or_else(|| {
                ProvisionError::handler("CreateKey returned no KeyId", HandlerErrorCode::InternalFailure)
            })?;
            let finish = |state: &mut KmsState| -> Result<(), ProvisionError> {
                if props.bool("EnableKeyRotation")? == Some(true) {
                    call(state, ctx, "EnableKeyRotation", json!({"KeyId": key_id}))?;
                }
                if props.bool("Enabled")? == Some(false) {
                    call(state, ctx, "DisableKey", json!({"KeyId": key_id}))?;
                }
                Ok(())
            };
            if let Err(error) = finish(state) {
                // The stack never learns this key's id: schedule its deletion
                // now rather than leave it billing.
                let _ = call(state, ctx, "ScheduleKeyDeletion", json!({"KeyId": key_id, "PendingWindowInDays": 7}));
                return Err(error);
            }
            key_attributes(state, ctx, &key_id)
        }
        "AWS::KMS::Alias" => {
            let alias_name = props.required_str("AliasName")?;
            let target = props.required_str("TargetKeyId")?;
            call(state, ctx, "CreateAlias", json!({"AliasName": alias_name, "TargetKeyId": target}))?;
            Ok(Provisioned::new(alias_name))
        }
        other => Err(super::unsupported(other)),
    }
}

fn update(Update { state: sandbox, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let state = &mut sandbox.kms;
    let id = change.current.physical_id.clone();
    match change.request.resource_type {
        "AWS::KMS::Key" => {
            // Re-enable first: rotation cannot change on a disabled key.
            let enabled = props.bool("Enabled")?.unwrap_or(true);
            if change.changed("Enabled") && enabled {
                call(state, ctx, "EnableKey", json!({"KeyId": id}))?;
            }
            if change.changed("Description") {
                let description = props.str("Description")?.unwrap_or_default();
                call(state, ctx, "UpdateKeyDescription", json!({"KeyId": id, "Description": description}))?;
            }
            if change.changed("KeyPolicy") {
                let policy = match props.document("KeyPolicy")? {
                    Some(policy) => policy,
                    None => crate::kms::default_policy(&ctx.partition, ctx.account()),
                };
                call(state, ctx, "PutKeyPolicy", json!({"KeyId": id, "PolicyName": "default", "Policy": policy}))?;
            }
            if change.changed("EnableKeyRotation") {
                let operation = if props.bool("EnableKeyRotation")? == Some(true) {
                    "EnableKeyRotation"
                } else {
                    "DisableKeyRotation"
                };
                call(state, ctx, operation, json!({"KeyId": id}))?;
            }
            if change.changed("Tags") {
                let old = Props { logical_id: change.request.logical_id, value: change.previous }.tags()?;
                let new = props.tags()?;
                let removed: Vec<&String> = old.keys().filter(|key| !new.contains_key(*key)).collect();
                if !removed.is_empty() {
                    call(state, ctx, "UntagResource", json!({"KeyId": id, "TagKeys": removed}))?;
                }
                let tags: Vec<Json> = new.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect();
                if !tags.is_empty() {
                    call(state, ctx, "TagResource", json!({"KeyId": id, "Tags": tags}))?;
                }
            }
            if change.changed("Enabled") && !enabled {
                call(state, ctx, "DisableKey", json!({"KeyId": id}))?;
            }
            key_attributes(state, ctx, &id)
        }
        "AWS::KMS::Alias" => {
            if change.changed("TargetKeyId") {
                let target = props.required_str("TargetKeyId")?;
                // Check the new target before giving up the old one.
                state.resolve(ctx, &target).map_err(|error| ProvisionError::service("Kms", &error))?;
                call(state, ctx, "DeleteAlias", json!({"AliasName": id}))?;
                call(state, ctx, "CreateAlias", json!({"AliasName": id, "TargetKeyId": target}))?;
            }
            Ok(Provisioned::new(id))
        }
        other => Err(super::unsupported(other)),
    }
}

fn delete(Delete { state: sandbox, ctx, resource_type, current, props }: Delete) -> Result<(), ProvisionError> {
    let state = &mut sandbox.kms;
    match resource_type {
        "AWS::KMS::Key" => {
            // A key is never deleted at once: CloudFormation schedules its
            // deletion, and the key waits in PendingDeletion.
            // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html (PendingWindowInDays)
            match state.resolve(ctx, &current.physical_id) {
                Ok(key) if key.state == KeyState::PendingDeletion => return Ok(()),
                Ok(_) => {}
                Err(_) => return Ok(()),
            }
            let days = props.int("PendingWindowInDays")?.unwrap_or(DEFAULT_PENDING_WINDOW_DAYS);
            call(
                state,
                ctx,
                "ScheduleKeyDeletion",
                json!({"KeyId": current.physical_id, "PendingWindowInDays": days}),
            )?;
            Ok(())
        }
        "AWS::KMS::Alias" => {
            call(state, ctx, "DeleteAlias", json!({"AliasName": current.physical_id}))?;
            Ok(())
        }
        other => Err(super::unsupported(other)),
    }
}
