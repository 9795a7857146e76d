//! Secrets Manager over AWS JSON 1.1 (`X-Amz-Target: secretsmanager.<Operation>`):
//! typed inputs, outputs as [`Value`]s, and what CloudTrail records (never
//! the secret value: `SecretString` and `SecretBinary` are left out).
//!
//! Shapes: <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Operations.html>.

use serde::Deserialize;

use super::{NewSecret, PasswordOptions, Secret, SecretValue, SecretsManagerState, Tag, random_password};
use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::{self, Audit, AuditResource, CallContext, Handled, decode_json};

/// CreateSecret's input.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateSecretInput {
    pub name: String,
    pub client_request_token: Option<String>,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    pub secret_string: Option<String>,
    #[serde(default, deserialize_with = "optional_blob")]
    pub secret_binary: Option<Vec<u8>>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// GetSecretValue's input.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSecretValueInput {
    pub secret_id: String,
    pub version_id: Option<String>,
    pub version_stage: Option<String>,
}

/// PutSecretValue's input.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutSecretValueInput {
    pub secret_id: String,
    pub client_request_token: Option<String>,
    pub secret_string: Option<String>,
    #[serde(default, deserialize_with = "optional_blob")]
    pub secret_binary: Option<Vec<u8>>,
    pub version_stages: Option<Vec<String>>,
}

/// Inputs that only name a secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretIdInput {
    pub secret_id: String,
}

/// DeleteSecret's input.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteSecretInput {
    pub secret_id: String,
    pub recovery_window_in_days: Option<i64>,
    pub force_delete_without_recovery: Option<bool>,
}

/// One ListSecrets filter.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    pub key: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// ListSecrets' input.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretsInput {
    pub include_planned_deletion: Option<bool>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    #[serde(default)]
    pub filters: Vec<Filter>,
    pub sort_order: Option<String>,
}

fn optional_blob<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<u8>>, D::Error> {
    service::blob::required(deserializer).map(Some)
}

/// Runs a Secrets Manager call; `None` for an operation the sandbox lacks.
pub fn call(
    state: &mut SecretsManagerState,
    ctx: &CallContext,
    operation: &str,
    input: &serde_json::Value,
) -> Option<Handled> {
    let purged = state.purge(ctx.now);
    let read_only = match operation {
        "GetSecretValue" | "DescribeSecret" | "ListSecrets" | "GetRandomPassword" => true,
        "CreateSecret" | "PutSecretValue" | "DeleteSecret" | "RestoreSecret" => false,
        _ => return None,
    };
    let result = run(state, ctx, operation, input);
    let arn = match &result {
        Ok(Value::Map(members)) => members.iter().find(|(n, _)| n == "ARN").and_then(|(_, v)| match v {
            Value::String(arn) => Some(arn.clone()),
            _ => None,
        }),
        _ => None,
    };
    let resources = arn
        .map(|arn| vec![AuditResource { resource_type: "AWS::SecretsManager::Secret".into(), arn }])
        .unwrap_or_default();
    let response_elements = match &result {
        // GetRandomPassword's output is a secret too.
        Ok(output) if !read_only => service::response_elements(output),
        _ => None,
    };
    // GetSecretValue changes LastAccessedDate, which is saved.
    let touched = operation == "GetSecretValue" && result.is_ok();
    Some(Handled {
        mutated: purged || touched || (!read_only && result.is_ok()),
        result,
        audit: Some(Audit {
            request_parameters: service::request_parameters(input),
            response_elements,
            resources,
            read_only,
        }),
    })
}

fn value_of(secret_string: Option<String>, secret_binary: Option<Vec<u8>>) -> Result<Option<SecretValue>, AwsError> {
    match (secret_string, secret_binary) {
        (Some(_), Some(_)) => Err(AwsError::sender(
            "InvalidParameterException",
            "You can't specify both a binary secret value and a string secret value in the same secret.",
        )),
        (Some(text), None) => Ok(Some(SecretValue::String(text))),
        (None, Some(bytes)) => Ok(Some(SecretValue::Binary(bytes))),
        (None, None) => Ok(None),
    }
}

fn run(
    state: &mut SecretsManagerState,
    ctx: &CallContext,
    operation: &str,
    input: &serde_json::Value,
) -> Result<Value, AwsError> {
    let region = ctx.region.as_str();
    Ok(match operation {
        "CreateSecret" => {
            let input: CreateSecretInput = decode_json(input)?;
            let value = value_of(input.secret_string, input.secret_binary)?;
            let has_value = value.is_some();
            let new = NewSecret {
                name: input.name,
                description: input.description,
                kms_key_id: input.kms_key_id,
                value,
                version_id: input.client_request_token,
                tags: input.tags,
            };
            let secret = state.create(region, &ctx.partition, ctx.account(), new, ctx.now)?;
            let version =
                if has_value { secret.version_with_stage(super::AWSCURRENT).map(str::to_owned) } else { None };
            Value::structure()
                .with("ARN", secret.arn.clone())
                .with("Name", secret.name.clone())
                .with("VersionId", version.map_or(Value::Null, Value::String))
        }
        "GetSecretValue" => {
            let input: GetSecretValueInput = decode_json(input)?;
            let (secret, version_id) = state.get_value(
                region,
                &input.secret_id,
                input.version_id.as_deref(),
                input.version_stage.as_deref(),
                ctx.now,
            )?;
            let Some(version) = secret.versions.get(&version_id) else { return Err(super::not_found()) };
            Value::structure()
                .with("ARN", secret.arn.clone())
                .with("Name", secret.name.clone())
                .with("VersionId", version_id.clone())
                .with("SecretBinary", version.secret_binary.clone().map_or(Value::Null, Value::Blob))
                .with("SecretString", version.secret_string.clone().map_or(Value::Null, Value::String))
                .with("VersionStages", version.stages.clone())
                .with("CreatedDate", Value::Timestamp(version.created_ms))
        }
        "PutSecretValue" => {
            let input: PutSecretValueInput = decode_json(input)?;
            let Some(value) = value_of(input.secret_string, input.secret_binary)? else {
                return Err(AwsError::sender(
                    "InvalidRequestException",
                    "You must provide either SecretString or SecretBinary.",
                ));
            };
            let (arn, name, version_id, stages) = state.put_value(
                region,
                &input.secret_id,
                value,
                input.client_request_token,
                input.version_stages,
                ctx.now,
            )?;
            Value::structure()
                .with("ARN", arn)
                .with("Name", name)
                .with("VersionId", version_id)
                .with("VersionStages", stages)
        }
        "DescribeSecret" => {
            let input: SecretIdInput = decode_json(input)?;
            describe(state.find(region, &input.secret_id)?)
        }
        "ListSecrets" => list(state, region, &decode_json(input)?)?,
        "DeleteSecret" => {
            let input: DeleteSecretInput = decode_json(input)?;
            let force = input.force_delete_without_recovery.unwrap_or(false);
            let (arn, name, at) =
                state.delete(region, &input.secret_id, input.recovery_window_in_days, force, ctx.now)?;
            Value::structure().with("ARN", arn).with("Name", name).with("DeletionDate", Value::Timestamp(at))
        }
        "RestoreSecret" => {
            let input: SecretIdInput = decode_json(input)?;
            let (arn, name) = state.restore(region, &input.secret_id, ctx.now)?;
            Value::structure().with("ARN", arn).with("Name", name)
        }
        "GetRandomPassword" => {
            let options: PasswordOptions = decode_json(input)?;
            Value::structure().with("RandomPassword", random_password(&options)?)
        }
        _ => return Err(AwsError::unknown_operation("secretsmanager", operation)),
    })
}

/// DescribeSecret's output, also each ListSecrets entry.
fn describe(secret: &Secret) -> Value {
    let stages =
        Value::Map(secret.versions.iter().map(|(id, v)| (id.clone(), Value::from(v.stages.clone()))).collect());
    let tags: Vec<Value> = secret
        .tags
        .iter()
        .map(|t| Value::structure().with("Key", t.key.clone()).with("Value", t.value.clone()))
        .collect();
    let optional = |text: &Option<String>| text.clone().map_or(Value::Null, Value::String);
    let date = |at: Option<i64>| at.map_or(Value::Null, Value::Timestamp);
    Value::structure()
        .with("ARN", secret.arn.clone())
        .with("Name", secret.name.clone())
        .with("Description", optional(&secret.description))
        .with("KmsKeyId", optional(&secret.kms_key_id))
        .with("RotationEnabled", false)
        .with("LastChangedDate", Value::Timestamp(secret.last_changed_ms))
        .with("LastAccessedDate", date(secret.last_accessed_ms))
        .with("DeletedDate", date(secret.deleted_date_ms))
        .with("Tags", if tags.is_empty() { Value::Null } else { Value::List(tags) })
        .with("VersionIdsToStages", stages)
        .with("CreatedDate", Value::Timestamp(secret.created_ms))
}

/// ListSecrets: filters `name`, `description`, `tag-key`, `tag-value` and
/// `all` match by prefix (a leading `!` negates), as documented at
/// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Filter.html>.
fn list(state: &SecretsManagerState, region: &str, input: &ListSecretsInput) -> Result<Value, AwsError> {
    let max = input.max_results.unwrap_or(100);
    if !(1..=100).contains(&max) {
        return Err(AwsError::sender("InvalidParameterException", "MaxResults must be between 1 and 100."));
    }
    let start: usize = match &input.next_token {
        Some(token) => token
            .parse()
            .map_err(|_| AwsError::sender("InvalidNextTokenException", "The NextToken value is invalid."))?,
        None => 0,
    };
    let include_deleted = input.include_planned_deletion.unwrap_or(false);
    let mut secrets: Vec<&Secret> = state
        .secrets
        .values()
        .filter(|s| s.region == region && (include_deleted || s.deletion_date_ms.is_none()))
        .filter(|s| input.filters.iter().all(|f| filter_matches(f, s)))
        .collect();
    secrets.sort_by_key(|s| (s.created_ms, s.name.clone()));
    if input.sort_order.as_deref() != Some("asc") {
        secrets.reverse();
    }
    let max = usize::try_from(max).unwrap_or(100);
    let page: Vec<Value> = secrets.iter().skip(start).take(max).map(|s| describe(s)).collect();
    let next = (start + max < secrets.len()).then(|| (start + max).to_string());
    Ok(Value::structure().with("SecretList", page).with("NextToken", next.map_or(Value::Null, Value::String)))
}

fn filter_matches(filter: &Filter, secret: &Secret) -> bool {
    filter.values.iter().any(|value| {
        let (negated, value) = match value.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, value.as_str()),
        };
        let description = secret.description.clone().unwrap_or_default();
        let found = match filter.key.as_str() {
            "name" => secret.name.starts_with(value),
            "description" => description.starts_with(value),
            "tag-key" => secret.tags.iter().any(|t| t.key.starts_with(value)),
            "tag-value" => secret.tags.iter().any(|t| t.value.starts_with(value)),
            "all" => {
                secret.name.starts_with(value)
                    || description.starts_with(value)
                    || secret.tags.iter().any(|t| t.key.starts_with(value) || t.value.starts_with(value))
            }
            _ => false,
        };
        found != negated
    })
}
