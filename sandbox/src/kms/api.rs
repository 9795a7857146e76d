//! KMS over AWS JSON 1.1 (`X-Amz-Target: TrentService.<Operation>`):
//! decoding inputs into typed requests, running them on [`KmsState`], and
//! encoding outputs as [`Value`]s, plus what CloudTrail records of each call.
//!
//! Input and output shapes: <https://docs.aws.amazon.com/kms/latest/APIReference/API_Operations.html>.
//! CloudTrail shapes: <https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html>
//! (Encrypt and Decrypt record `keyId` and `encryptionAlgorithm`, never the
//! plaintext or ciphertext, and name the key in `resources`).
//!
//! A role session's call is first checked against the role's
//! identity-based policies ([`call_authorized`]): an explicit deny refuses
//! it as KMS does. Nothing else is authorized: the sandbox has no key
//! policies in force and no allow-by-default model, so what no policy
//! denies is allowed, as it always was.

use std::collections::BTreeMap;

use keywatch_domain::iam_policy::{self, Decision, Policy, RequestContext};
use serde::Deserialize;

use super::{CreateKeyRequest, Key, KmsState, SYMMETRIC_DEFAULT, Tag};
use crate::error::AwsError;
use crate::identity::PrincipalKind;
use crate::protocol::value::Value;
use crate::service::{self, Audit, AuditResource, CallContext, Handled, blob, decode_json};

/// A decoded KMS request.
#[derive(Debug, Clone, PartialEq)]
pub enum KmsRequest {
    CreateKey(CreateKeyInput),
    DescribeKey(KeyIdInput),
    ListKeys(ListInput),
    CreateAlias(AliasInput),
    ListAliases(ListAliasesInput),
    DeleteAlias(AliasNameInput),
    Encrypt(EncryptInput),
    Decrypt(DecryptInput),
    ReEncrypt(ReEncryptInput),
    GenerateDataKey(GenerateDataKeyInput),
    GenerateDataKeyWithoutPlaintext(GenerateDataKeyInput),
    EnableKey(KeyIdInput),
    DisableKey(KeyIdInput),
    ScheduleKeyDeletion(ScheduleKeyDeletionInput),
    CancelKeyDeletion(KeyIdInput),
    GetKeyPolicy(KeyPolicyInput),
    PutKeyPolicy(KeyPolicyInput),
    TagResource(TagResourceInput),
    UntagResource(UntagResourceInput),
    ListResourceTags(ListResourceTagsInput),
    EnableKeyRotation(KeyIdInput),
    DisableKeyRotation(KeyIdInput),
    GetKeyRotationStatus(KeyIdInput),
    UpdateKeyDescription(UpdateKeyDescriptionInput),
}

/// UpdateKeyDescription's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateKeyDescriptionInput {
    pub key_id: String,
    pub description: String,
}

/// CreateKey's input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyInput {
    pub description: Option<String>,
    pub policy: Option<String>,
    pub key_usage: Option<String>,
    pub key_spec: Option<String>,
    pub customer_master_key_spec: Option<String>,
    pub origin: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// Inputs that only name a key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdInput {
    pub key_id: String,
}

/// ListKeys' paging input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

/// CreateAlias's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasInput {
    pub alias_name: String,
    pub target_key_id: String,
}

/// ListAliases' input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesInput {
    pub key_id: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

/// DeleteAlias's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasNameInput {
    pub alias_name: String,
}

/// Encrypt's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptInput {
    pub key_id: String,
    #[serde(deserialize_with = "blob::required")]
    pub plaintext: Vec<u8>,
    #[serde(default)]
    pub encryption_context: BTreeMap<String, String>,
    pub encryption_algorithm: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
}

/// Decrypt's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptInput {
    #[serde(deserialize_with = "blob::required")]
    pub ciphertext_blob: Vec<u8>,
    pub key_id: Option<String>,
    #[serde(default)]
    pub encryption_context: BTreeMap<String, String>,
    pub encryption_algorithm: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
}

/// ReEncrypt's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptInput {
    #[serde(deserialize_with = "blob::required")]
    pub ciphertext_blob: Vec<u8>,
    #[serde(default)]
    pub source_encryption_context: BTreeMap<String, String>,
    pub source_key_id: Option<String>,
    pub destination_key_id: String,
    #[serde(default)]
    pub destination_encryption_context: BTreeMap<String, String>,
}

/// GenerateDataKey's (and GenerateDataKeyWithoutPlaintext's) input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyInput {
    pub key_id: String,
    pub number_of_bytes: Option<i64>,
    pub key_spec: Option<String>,
    #[serde(default)]
    pub encryption_context: BTreeMap<String, String>,
}

/// ScheduleKeyDeletion's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionInput {
    pub key_id: String,
    pub pending_window_in_days: Option<i64>,
}

/// GetKeyPolicy's and PutKeyPolicy's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyPolicyInput {
    pub key_id: String,
    pub policy_name: Option<String>,
    pub policy: Option<String>,
}

/// TagResource's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    pub key_id: String,
    pub tags: Vec<Tag>,
}

/// UntagResource's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    pub key_id: String,
    pub tag_keys: Vec<String>,
}

/// ListResourceTags' input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceTagsInput {
    pub key_id: String,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

impl KmsRequest {
    /// Decodes `input` for `operation`; `Ok(None)` for an operation the
    /// sandbox lacks.
    pub fn decode(operation: &str, input: &serde_json::Value) -> Result<Option<KmsRequest>, AwsError> {
        Ok(Some(match operation {
            "CreateKey" => KmsRequest::CreateKey(decode_json(input)?),
            "DescribeKey" => KmsRequest::DescribeKey(decode_json(input)?),
            "ListKeys" => KmsRequest::ListKeys(decode_json(input)?),
            "CreateAlias" => KmsRequest::CreateAlias(decode_json(input)?),
            "ListAliases" => KmsRequest::ListAliases(decode_json(input)?),
            "DeleteAlias" => KmsRequest::DeleteAlias(decode_json(input)?),
            "Encrypt" => KmsRequest::Encrypt(decode_json(input)?),
            "Decrypt" => KmsRequest::Decrypt(decode_json(input)?),
            "ReEncrypt" => KmsRequest::ReEncrypt(decode_json(input)?),
            "GenerateDataKey" => KmsRequest::GenerateDataKey(decode_json(input)?),
            "GenerateDataKeyWithoutPlaintext" => KmsRequest::GenerateDataKeyWithoutPlaintext(decode_json(input)?),
            "EnableKey" => KmsRequest::EnableKey(decode_json(input)?),
            "DisableKey" => KmsRequest::DisableKey(decode_json(input)?),
            "ScheduleKeyDeletion" => KmsRequest::ScheduleKeyDeletion(decode_json(input)?),
            "CancelKeyDeletion" => KmsRequest::CancelKeyDeletion(decode_json(input)?),
            "GetKeyPolicy" => KmsRequest::GetKeyPolicy(decode_json(input)?),
            "PutKeyPolicy" => KmsRequest::PutKeyPolicy(decode_json(input)?),
            "TagResource" => KmsRequest::TagResource(decode_json(input)?),
            "UntagResource" => KmsRequest::UntagResource(decode_json(input)?),
            "ListResourceTags" => KmsRequest::ListResourceTags(decode_json(input)?),
            "EnableKeyRotation" => KmsRequest::EnableKeyRotation(decode_json(input)?),
            "DisableKeyRotation" => KmsRequest::DisableKeyRotation(decode_json(input)?),
            "GetKeyRotationStatus" => KmsRequest::GetKeyRotationStatus(decode_json(input)?),
            "UpdateKeyDescription" => KmsRequest::UpdateKeyDescription(decode_json(input)?),
            _ => return Ok(None),
        }))
    }

    /// Whether CloudTrail marks the call read-only (it changes no resource).
    pub fn read_only(&self) -> bool {
        matches!(
            self,
            KmsRequest::DescribeKey(_)
                | KmsRequest::ListKeys(_)
                | KmsRequest::ListAliases(_)
                | KmsRequest::Encrypt(_)
                | KmsRequest::Decrypt(_)
                | KmsRequest::ReEncrypt(_)
                | KmsRequest::GenerateDataKey(_)
                | KmsRequest::GenerateDataKeyWithoutPlaintext(_)
                | KmsRequest::GetKeyPolicy(_)
                | KmsRequest::ListResourceTags(_)
                | KmsRequest::GetKeyRotationStatus(_)
        )
    }

    /// The key the request names, as given.
    fn key_ref(&self) -> Option<&str> {
        match self {
            KmsRequest::DescribeKey(i)
            | KmsRequest::EnableKey(i)
            | KmsRequest::DisableKey(i)
            | KmsRequest::CancelKeyDeletion(i)
            | KmsRequest::EnableKeyRotation(i)
            | KmsRequest::DisableKeyRotation(i)
            | KmsRequest::GetKeyRotationStatus(i) => Some(&i.key_id),
            KmsRequest::UpdateKeyDescription(i) => Some(&i.key_id),
            KmsRequest::CreateAlias(i) => Some(&i.target_key_id),
            KmsRequest::Encrypt(i) => Some(&i.key_id),
            KmsRequest::Decrypt(i) => i.key_id.as_deref(),
            KmsRequest::ReEncrypt(i) => Some(&i.destination_key_id),
            KmsRequest::GenerateDataKey(i) | KmsRequest::GenerateDataKeyWithoutPlaintext(i) => Some(&i.key_id),
            KmsRequest::ScheduleKeyDeletion(i) => Some(&i.key_id),
            KmsRequest::GetKeyPolicy(i) | KmsRequest::PutKeyPolicy(i) => Some(&i.key_id),
            KmsRequest::TagResource(i) => Some(&i.key_id),
            KmsRequest::UntagResource(i) => Some(&i.key_id),
            KmsRequest::ListResourceTags(i) => Some(&i.key_id),
            KmsRequest::CreateKey(_)
            | KmsRequest::ListKeys(_)
            | KmsRequest::ListAliases(_)
            | KmsRequest::DeleteAlias(_) => None,
        }
    }
}

/// Runs a KMS call that no identity policy restricts (CloudFormation's
/// provisioning); `None` for an operation the sandbox lacks.
pub fn call(state: &mut KmsState, ctx: &CallContext, operation: &str, input: &serde_json::Value) -> Option<Handled> {
    call_authorized(state, ctx, operation, input, &[])
}

/// Runs a KMS call by a caller whose identity-based policies are
/// `policies` (a role session's; none for the default user): a call they
/// explicitly deny is refused before it runs, and recorded so.
pub fn call_authorized(
    state: &mut KmsState,
    ctx: &CallContext,
    operation: &str,
    input: &serde_json::Value,
    policies: &[Policy],
) -> Option<Handled> {
    let purged = state.purge(ctx.now);
    let mut request_parameters = service::request_parameters(input);
    let request = match KmsRequest::decode(operation, input) {
        Ok(Some(request)) => request,
        Ok(None) => return None,
        Err(error) => {
            let audit = Audit { request_parameters, ..Audit::default() };
            return Some(Handled { result: Err(error), audit: Some(audit), mutated: purged });
        }
    };
    // CloudTrail records the algorithm KMS used even when the caller left it out.
    if matches!(request, KmsRequest::Encrypt(_) | KmsRequest::Decrypt(_))
        && let Some(serde_json::Value::Object(members)) = request_parameters.as_mut()
    {
        members.entry("encryptionAlgorithm").or_insert_with(|| SYMMETRIC_DEFAULT.into());
    }
    if let (KmsRequest::Decrypt(_), None) = (&request, &request_parameters) {
        request_parameters = Some(serde_json::json!({ "encryptionAlgorithm": SYMMETRIC_DEFAULT }));
    }
    let read_only = request.read_only();
    let result = authorize(state, ctx, operation, &request, policies).and_then(|()| run(state, ctx, &request));
    let resources = resources(state, ctx, &request, &result);
    let response_elements = match &result {
        Ok(output) if !read_only => service::response_elements(output),
        _ => None,
    };
    Some(Handled {
        mutated: purged || (!read_only && result.is_ok()),
        result,
        audit: Some(Audit { request_parameters, response_elements, resources, read_only }),
    })
}

/// The key CloudTrail names in `resources`: the one that did the work,
/// else the one the request (or the ciphertext) names, when it exists.
fn resources(
    state: &KmsState,
    ctx: &CallContext,
    request: &KmsRequest,
    result: &Result<Value, AwsError>,
) -> Vec<AuditResource> {
    let from_output = result.as_ref().ok().and_then(|output| {
        match member(output, "KeyId").or_else(|| member(output, "KeyMetadata").and_then(|m| member(m, "Arn"))) {
            Some(Value::String(arn)) if arn.starts_with("arn:") => Some(arn.clone()),
            _ => None,
        }
    });
    let from_request = || {
        request
            .key_ref()
            .and_then(|key_ref| state.resolve(ctx, key_ref).ok())
            .or_else(|| match request {
                KmsRequest::Decrypt(input) => state.blob_key(ctx, &input.ciphertext_blob),
                KmsRequest::ReEncrypt(input) => state.blob_key(ctx, &input.ciphertext_blob),
                _ => None,
            })
            .map(|key| key.arn.clone())
    };
    from_output
        .or_else(from_request)
        .map(|arn| vec![AuditResource { resource_type: "AWS::KMS::Key".to_owned(), arn }])
        .unwrap_or_default()
}

/// Refuses a role session's request that its role's identity-based
/// policies explicitly deny. Each IAM action the request needs is
/// evaluated on the key it acts on (ReEncrypt needs `kms:ReEncryptFrom` on
/// the source key and `kms:ReEncryptTo` on the destination:
/// <https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html>);
/// a call on no key on `*`. A key that cannot be found is left to the
/// operation, which fails as KMS does for it.
///
/// The request context carries the session's `aws:TokenIssueTime` (to the
/// millisecond) and `aws:CurrentTime`, which revoking a role's older
/// sessions compares:
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html>.
fn authorize(
    state: &KmsState,
    ctx: &CallContext,
    operation: &str,
    request: &KmsRequest,
    policies: &[Policy],
) -> Result<(), AwsError> {
    let PrincipalKind::AssumedRole { role_arn, session_created_ms, .. } = &ctx.caller.kind else {
        return Ok(());
    };
    if policies.is_empty() {
        return Ok(());
    }
    let context = RequestContext::default()
        .with("aws:TokenIssueTime", crate::protocol::iso8601_utc(*session_created_ms, true))
        .with("aws:CurrentTime", crate::protocol::iso8601_utc(ctx.now, true))
        .with("aws:PrincipalArn", role_arn.as_str())
        .with("aws:PrincipalAccount", ctx.account())
        .with("aws:PrincipalType", "AssumedRole")
        .with("aws:userid", ctx.caller.user_id.as_str())
        .with("aws:RequestedRegion", ctx.region.as_str());
    let key_arn = |key_ref: Option<&str>, blob: Option<&[u8]>| {
        key_ref
            .and_then(|key_ref| state.resolve(ctx, key_ref).ok())
            .or_else(|| blob.and_then(|blob| state.blob_key(ctx, blob)))
            .map(|key| key.arn.clone())
    };
    let needed: Vec<(String, Option<String>)> = match request {
        KmsRequest::ReEncrypt(input) => vec![
            ("kms:ReEncryptFrom".to_owned(), key_arn(input.source_key_id.as_deref(), Some(&input.ciphertext_blob))),
            ("kms:ReEncryptTo".to_owned(), key_arn(Some(&input.destination_key_id), None)),
        ],
        KmsRequest::Decrypt(input) => {
            vec![(format!("kms:{operation}"), key_arn(input.key_id.as_deref(), Some(&input.ciphertext_blob)))]
        }
        KmsRequest::CreateKey(_)
        | KmsRequest::ListKeys(_)
        | KmsRequest::ListAliases(_)
        | KmsRequest::DeleteAlias(_) => {
            vec![(format!("kms:{operation}"), Some("*".to_owned()))]
        }
        other => vec![(format!("kms:{operation}"), key_arn(other.key_ref(), None))],
    };
    for (action, resource) in needed {
        let Some(resource) = resource else { continue };
        let decision = iam_policy::evaluate(
            policies,
            &iam_policy::Request { action: &action, resource: &resource, context: &context },
        );
        if decision == Decision::Deny {
            return Err(explicit_deny(ctx, &action, &resource));
        }
    }
    Ok(())
}

/// KMS's refusal of a call an identity-based policy explicitly denies, in
/// IAM's words
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html>:
/// "User: <arn> is not authorized to perform: <action> on resource:
/// <arn> with an explicit deny in a[n] <type> policy"). The caller gets
/// KMS's `AccessDeniedException` (HTTP 400); CloudTrail records the call
/// with `errorCode` `AccessDenied`, as it records KMS's authorization
/// failures.
pub fn explicit_deny(ctx: &CallContext, action: &str, resource: &str) -> AwsError {
    AwsError::sender(
        "AccessDeniedException",
        format!(
            "User: {} is not authorized to perform: {action} on resource: {resource} with an explicit deny in an identity-based policy",
            ctx.caller.arn
        ),
    )
    .with_trail_code("AccessDenied")
}

fn member<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    match value {
        Value::Map(members) => members.iter().find(|(key, _)| key == name).map(|(_, v)| v),
        _ => None,
    }
}

fn limit(requested: Option<i64>, default: usize) -> Result<usize, AwsError> {
    match requested {
        None => Ok(default),
        Some(n) if (1..=1000).contains(&n) => Ok(n as usize),
        Some(n) => Err(AwsError::sender(
            "ValidationException",
            format!(
                "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000"
            ),
        )),
    }
}

fn dry_run() -> AwsError {
    // https://docs.aws.amazon.com/kms/latest/developerguide/programming-dryrun.html
    AwsError::sender("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
}

fn run(state: &mut KmsState, ctx: &CallContext, request: &KmsRequest) -> Result<Value, AwsError> {
    Ok(match request {
        KmsRequest::CreateKey(input) => {
            let key = state.create_key(
                ctx,
                CreateKeyRequest {
                    description: input.description.clone(),
                    policy: input.policy.clone(),
                    key_usage: input.key_usage.clone(),
                    key_spec: input.key_spec.clone().or_else(|| input.customer_master_key_spec.clone()),
                    origin: input.origin.clone(),
                    tags: input.tags.clone(),
                },
            )?;
            Value::structure().with("KeyMetadata", key_metadata(key))
        }
        KmsRequest::DescribeKey(input) => {
            Value::structure().with("KeyMetadata", key_metadata(state.resolve(ctx, &input.key_id)?))
        }
        KmsRequest::ListKeys(input) => {
            let (keys, next) = state.list_keys(ctx, limit(input.limit, 100)?, input.marker.as_deref());
            let entries: Vec<Value> = keys
                .iter()
                .map(|key| Value::structure().with("KeyId", key.key_id.as_str()).with("KeyArn", key.arn.as_str()))
                .collect();
            paged(Value::structure().with("Keys", entries), next)
        }
        KmsRequest::CreateAlias(input) => {
            state.create_alias(ctx, &input.alias_name, &input.target_key_id)?;
            Value::structure()
        }
        KmsRequest::ListAliases(input) => {
            let prefix = format!("arn:{}:kms:{}:{}:", ctx.partition, ctx.region, ctx.account());
            let (aliases, next) =
                state.list_aliases(ctx, input.key_id.as_deref(), limit(input.limit, 50)?, input.marker.as_deref())?;
            let entries: Vec<Value> = aliases
                .iter()
                .map(|alias| {
                    Value::structure()
                        .with("AliasName", alias.name.as_str())
                        .with("AliasArn", format!("{prefix}{}", alias.name))
                        .with("TargetKeyId", alias.target_key_id.as_str())
                        .with("CreationDate", Value::Timestamp(alias.creation_date))
                        .with("LastUpdatedDate", Value::Timestamp(alias.last_updated_date))
                })
                .collect();
            paged(Value::structure().with("Aliases", entries), next)
        }
        KmsRequest::DeleteAlias(input) => {
            state.delete_alias(ctx, &input.alias_name)?;
            Value::structure()
        }
        KmsRequest::Encrypt(input) => {
            let sealed = state.encrypt(
                ctx,
                &input.key_id,
                &input.plaintext,
                &input.encryption_context,
                input.encryption_algorithm.as_deref(),
            )?;
            if input.dry_run {
                return Err(dry_run());
            }
            Value::structure()
                .with("CiphertextBlob", Value::Blob(sealed.ciphertext))
                .with("KeyId", sealed.key_arn)
                .with("EncryptionAlgorithm", SYMMETRIC_DEFAULT)
        }
        KmsRequest::Decrypt(input) => {
            let opened = state.decrypt(
                ctx,
                &input.ciphertext_blob,
                &input.encryption_context,
                input.key_id.as_deref(),
                input.encryption_algorithm.as_deref(),
            )?;
            if input.dry_run {
                return Err(dry_run());
            }
            Value::structure()
                .with("KeyId", opened.key_arn)
                .with("Plaintext", Value::Blob(opened.plaintext))
                .with("EncryptionAlgorithm", SYMMETRIC_DEFAULT)
        }
        KmsRequest::ReEncrypt(input) => {
            let (source, sealed) = state.re_encrypt(
                ctx,
                &input.ciphertext_blob,
                &input.source_encryption_context,
                input.source_key_id.as_deref(),
                &input.destination_key_id,
                &input.destination_encryption_context,
            )?;
            Value::structure()
                .with("CiphertextBlob", Value::Blob(sealed.ciphertext))
                .with("SourceKeyId", source.key_arn)
                .with("KeyId", sealed.key_arn)
                .with("SourceEncryptionAlgorithm", SYMMETRIC_DEFAULT)
                .with("DestinationEncryptionAlgorithm", SYMMETRIC_DEFAULT)
        }
        KmsRequest::GenerateDataKey(input) | KmsRequest::GenerateDataKeyWithoutPlaintext(input) => {
            let data_key = state.generate_data_key(
                ctx,
                &input.key_id,
                input.number_of_bytes,
                input.key_spec.as_deref(),
                &input.encryption_context,
            )?;
            let output = Value::structure().with("CiphertextBlob", Value::Blob(data_key.sealed.ciphertext));
            let output = if matches!(request, KmsRequest::GenerateDataKey(_)) {
                output.with("Plaintext", Value::Blob(data_key.plaintext))
            } else {
                output
            };
            output.with("KeyId", data_key.sealed.key_arn)
        }
        KmsRequest::EnableKey(input) => {
            state.set_enabled(ctx, &input.key_id, true)?;
            Value::structure()
        }
        KmsRequest::DisableKey(input) => {
            state.set_enabled(ctx, &input.key_id, false)?;
            Value::structure()
        }
        KmsRequest::ScheduleKeyDeletion(input) => {
            let key = state.schedule_key_deletion(ctx, &input.key_id, input.pending_window_in_days)?;
            Value::structure()
                .with("KeyId", key.arn.as_str())
                .with("DeletionDate", key.deletion_date.map_or(Value::Null, Value::Timestamp))
                .with("KeyState", key.state.as_str())
                .with("PendingWindowInDays", key.pending_window_in_days.map_or(Value::Null, Value::Integer))
        }
        KmsRequest::CancelKeyDeletion(input) => {
            Value::structure().with("KeyId", state.cancel_key_deletion(ctx, &input.key_id)?)
        }
        KmsRequest::GetKeyPolicy(input) => {
            let key = state.get_key_policy(ctx, &input.key_id, input.policy_name.as_deref())?;
            Value::structure().with("Policy", key.policy.as_str()).with("PolicyName", "default")
        }
        KmsRequest::PutKeyPolicy(input) => {
            let policy = input.policy.clone().ok_or_else(|| {
                AwsError::sender(
                    "ValidationException",
                    "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null",
                )
            })?;
            state.put_key_policy(ctx, &input.key_id, input.policy_name.as_deref(), policy)?;
            Value::structure()
        }
        KmsRequest::TagResource(input) => {
            state.tag_resource(ctx, &input.key_id, input.tags.clone())?;
            Value::structure()
        }
        KmsRequest::UntagResource(input) => {
            state.untag_resource(ctx, &input.key_id, &input.tag_keys)?;
            Value::structure()
        }
        KmsRequest::EnableKeyRotation(input) | KmsRequest::DisableKeyRotation(input) => {
            state.set_rotation(ctx, &input.key_id, matches!(request, KmsRequest::EnableKeyRotation(_)))?;
            Value::structure()
        }
        KmsRequest::GetKeyRotationStatus(input) => {
            let key = state.resolve(ctx, &input.key_id)?;
            Value::structure()
                .with("KeyRotationEnabled", key.rotation_enabled)
                .with("KeyId", key.arn.as_str())
                .with("RotationPeriodInDays", if key.rotation_enabled { Value::Integer(365) } else { Value::Null })
        }
        KmsRequest::UpdateKeyDescription(input) => {
            state.update_description(ctx, &input.key_id, &input.description)?;
            Value::structure()
        }
        KmsRequest::ListResourceTags(input) => {
            let key = state.resolve(ctx, &input.key_id)?;
            let limit = limit(input.limit, 50)?;
            let start = input.marker.as_deref().and_then(|m| m.parse::<usize>().ok()).unwrap_or(0);
            let tags: Vec<Value> = key
                .tags
                .iter()
                .skip(start)
                .take(limit)
                .map(|tag| {
                    Value::structure().with("TagKey", tag.tag_key.as_str()).with("TagValue", tag.tag_value.as_str())
                })
                .collect();
            let next = (key.tags.len() > start + limit).then(|| (start + limit).to_string());
            paged(Value::structure().with("Tags", tags), next)
        }
    })
}

fn paged(output: Value, next: Option<String>) -> Value {
    let truncated = next.is_some();
    output.with("NextMarker", next.map_or(Value::Null, Value::String)).with("Truncated", truncated)
}

/// `KeyMetadata`, without the key material.
/// <https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html>
pub fn key_metadata(key: &Key) -> Value {
    Value::structure()
        .with("AWSAccountId", key.arn.split(':').nth(4).unwrap_or_default())
        .with("KeyId", key.key_id.as_str())
        .with("Arn", key.arn.as_str())
        .with("CreationDate", Value::Timestamp(key.creation_date))
        .with("Enabled", key.state == super::KeyState::Enabled)
        .with("Description", key.description.as_str())
        .with("KeyUsage", "ENCRYPT_DECRYPT")
        .with("KeyState", key.state.as_str())
        .with("DeletionDate", key.deletion_date.map_or(Value::Null, Value::Timestamp))
        .with("Origin", "AWS_KMS")
        .with("KeyManager", "CUSTOMER")
        .with("CustomerMasterKeySpec", SYMMETRIC_DEFAULT)
        .with("KeySpec", SYMMETRIC_DEFAULT)
        .with("EncryptionAlgorithms", vec![SYMMETRIC_DEFAULT])
        .with("MultiRegion", false)
        .with("PendingDeletionWindowInDays", key.pending_window_in_days.map_or(Value::Null, Value::Integer))
}
