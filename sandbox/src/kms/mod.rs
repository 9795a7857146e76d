//! AWS Key Management Service: symmetric keys, aliases, key policies, tags,
//! and real authenticated encryption with them.
//!
//! This module owns KMS's state and rules and works on plain data; [`api`]
//! decodes AWS JSON 1.1 inputs into its requests and encodes its outputs.
//! Errors are the ones the KMS API reference lists for each operation.

pub mod api;
pub mod crypto;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::service::CallContext;
use crypto::KeyMaterial;

/// The only algorithm of symmetric encryption keys.
pub const SYMMETRIC_DEFAULT: &str = "SYMMETRIC_DEFAULT";

/// Largest Encrypt plaintext. <https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html>
pub const MAX_PLAINTEXT_BYTES: usize = 4096;

/// A key's lifecycle state. <https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KeyState {
    /// The name KMS uses in `KeyMetadata.KeyState`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
        }
    }
}

/// A tag on a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub tag_key: String,
    pub tag_value: String,
}

/// A KMS key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    pub key_id: String,
    pub arn: String,
    pub creation_date: i64,
    pub description: String,
    pub state: KeyState,
    pub deletion_date: Option<i64>,
    pub pending_window_in_days: Option<i64>,
    /// The key policy named `default`, the only name KMS accepts.
    pub policy: String,
    pub tags: Vec<Tag>,
    pub material: KeyMaterial,
    /// Whether KMS rotates the key material every year (EnableKeyRotation).
    #[serde(default)]
    pub rotation_enabled: bool,
}

/// An alias (`alias/name`) pointing at a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub name: String,
    pub target_key_id: String,
    pub creation_date: i64,
    pub last_updated_date: i64,
}

/// The keys and aliases of one region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionKeys {
    pub keys: BTreeMap<String, Key>,
    pub aliases: BTreeMap<String, Alias>,
}

/// KMS's state, per region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsState {
    pub regions: BTreeMap<String, RegionKeys>,
}

/// What CreateKey accepts. <https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html>
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateKeyRequest {
    pub description: Option<String>,
    pub policy: Option<String>,
    pub key_usage: Option<String>,
    pub key_spec: Option<String>,
    pub origin: Option<String>,
    pub tags: Vec<Tag>,
}

/// Data produced by Encrypt, GenerateDataKey and ReEncrypt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    /// The ARN of the key that encrypted it.
    pub key_arn: String,
}

/// Decrypt's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub plaintext: Vec<u8>,
    pub key_arn: String,
}

/// A data key from GenerateDataKey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKey {
    pub plaintext: Vec<u8>,
    pub sealed: Sealed,
}

fn not_found(message: String) -> AwsError {
    AwsError::sender("NotFoundException", message)
}

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::sender("ValidationException", message)
}

/// The default key policy: the account's root may do everything.
/// <https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>
pub fn default_policy(partition: &str, account: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

impl KmsState {
    fn region(&mut self, ctx: &CallContext) -> &mut RegionKeys {
        self.regions.entry(ctx.region.clone()).or_default()
    }

    /// Deletes keys whose waiting period is over, with their aliases.
    pub fn purge(&mut self, now: i64) -> bool {
        let mut changed = false;
        for region in self.regions.values_mut() {
            let before = region.keys.len();
            region.keys.retain(|_, key| key.deletion_date.is_none_or(|date| date > now));
            if region.keys.len() != before {
                changed = true;
                let keys = &region.keys;
                region.aliases.retain(|_, alias| keys.contains_key(&alias.target_key_id));
            }
        }
        changed
    }

    /// Finds a key by key id, key ARN, alias name or alias ARN, failing as
    /// KMS fails for each form.
    pub fn resolve(&self, ctx: &CallContext, key_ref: &str) -> Result<&Key, AwsError> {
        let prefix = format!("arn:{}:kms:{}:{}:", ctx.partition, ctx.region, ctx.account());
        let region = self.regions.get(&ctx.region);
        let alias_arn = |name: &str| format!("{prefix}{name}");
        let local = key_ref.strip_prefix(&prefix).unwrap_or(key_ref);
        if let Some(alias) = local.strip_prefix("alias/") {
            let name = format!("alias/{alias}");
            let target = region.and_then(|r| r.aliases.get(&name)).map(|a| a.target_key_id.clone());
            return target
                .and_then(|id| region.and_then(|r| r.keys.get(&id)))
                .ok_or_else(|| not_found(format!("Alias {} is not found.", alias_arn(&name))));
        }
        let key_id = local.strip_prefix("key/").unwrap_or(local);
        if !is_uuid(key_id) || (local == key_ref && key_ref.starts_with("key/")) {
            return Err(not_found(format!("Invalid keyId {key_ref}")));
        }
        region
            .and_then(|r| r.keys.get(key_id))
            .ok_or_else(|| not_found(format!("Key '{prefix}key/{key_id}' does not exist")))
    }

    fn resolve_mut(&mut self, ctx: &CallContext, key_ref: &str) -> Result<&mut Key, AwsError> {
        let key_id = self.resolve(ctx, key_ref)?.key_id.clone();
        self.region(ctx).keys.get_mut(&key_id).ok_or_else(|| not_found(format!("Invalid keyId {key_ref}")))
    }

    /// A key that may be used for cryptography now.
    fn usable(&self, ctx: &CallContext, key_ref: &str) -> Result<&Key, AwsError> {
        let key = self.resolve(ctx, key_ref)?;
        check_usable(key)?;
        Ok(key)
    }

    /// CreateKey: a symmetric encryption key with fresh material.
    pub fn create_key(&mut self, ctx: &CallContext, request: CreateKeyRequest) -> Result<&Key, AwsError> {
        if let Some(usage) = request.key_usage.as_deref().filter(|usage| *usage != "ENCRYPT_DECRYPT") {
            return Err(AwsError::sender(
                "UnsupportedOperationException",
                format!("The Keywatch sandbox supports only ENCRYPT_DECRYPT keys, not {usage}"),
            ));
        }
        if let Some(spec) = request.key_spec.as_deref().filter(|spec| *spec != SYMMETRIC_DEFAULT) {
            return Err(AwsError::sender(
                "UnsupportedOperationException",
                format!("The Keywatch sandbox supports only SYMMETRIC_DEFAULT keys, not {spec}"),
            ));
        }
        if let Some(origin) = request.origin.as_deref().filter(|origin| *origin != "AWS_KMS") {
            return Err(AwsError::sender(
                "UnsupportedOperationException",
                format!("The Keywatch sandbox supports only AWS_KMS key material, not {origin}"),
            ));
        }
        let policy = match request.policy {
            Some(policy) => checked_policy(policy)?,
            None => default_policy(&ctx.partition, ctx.account()),
        };
        let key_id = uuid::Uuid::new_v4().to_string();
        let key = Key {
            arn: format!("arn:{}:kms:{}:{}:key/{key_id}", ctx.partition, ctx.region, ctx.account()),
            key_id: key_id.clone(),
            creation_date: ctx.now,
            description: request.description.unwrap_or_default(),
            state: KeyState::Enabled,
            deletion_date: None,
            pending_window_in_days: None,
            policy,
            tags: request.tags,
            material: KeyMaterial::generate()?,
            rotation_enabled: false,
        };
        let keys = &mut self.region(ctx).keys;
        Ok(keys.entry(key_id).or_insert(key))
    }

    /// ListKeys, one page: keys after `marker` (a key id), at most `limit`.
    pub fn list_keys(&self, ctx: &CallContext, limit: usize, marker: Option<&str>) -> (Vec<&Key>, Option<String>) {
        let keys = self.regions.get(&ctx.region).map(|r| r.keys.values().collect()).unwrap_or_default();
        page(keys, limit, marker, |key| key.key_id.clone())
    }

    /// CreateAlias. <https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html>
    pub fn create_alias(
        &mut self,
        ctx: &CallContext,
        alias_name: &str,
        target_key_id: &str,
    ) -> Result<String, AwsError> {
        check_alias_name(alias_name)?;
        let key = self.resolve(ctx, target_key_id)?;
        if key.state == KeyState::PendingDeletion {
            return Err(pending_deletion(key));
        }
        let (key_id, key_arn) = (key.key_id.clone(), key.arn.clone());
        let region = self.region(ctx);
        if region.aliases.contains_key(alias_name) {
            return Err(AwsError::sender(
                "AlreadyExistsException",
                format!(
                    "An alias with the name arn:{}:kms:{}:{}:{alias_name} already exists",
                    ctx.partition,
                    ctx.region,
                    ctx.account()
                ),
            ));
        }
        region.aliases.insert(
            alias_name.to_owned(),
            Alias {
                name: alias_name.to_owned(),
                target_key_id: key_id,
                creation_date: ctx.now,
                last_updated_date: ctx.now,
            },
        );
        Ok(key_arn)
    }

    /// DeleteAlias; returns the key it pointed at.
    pub fn delete_alias(&mut self, ctx: &CallContext, alias_name: &str) -> Result<String, AwsError> {
        let prefix = format!("arn:{}:kms:{}:{}:", ctx.partition, ctx.region, ctx.account());
        match self.region(ctx).aliases.remove(alias_name) {
            Some(alias) => Ok(format!("{prefix}key/{}", alias.target_key_id)),
            None => Err(not_found(format!("Alias {prefix}{alias_name} is not found."))),
        }
    }

    /// ListAliases, optionally only those of one key.
    pub fn list_aliases(
        &self,
        ctx: &CallContext,
        key_id: Option<&str>,
        limit: usize,
        marker: Option<&str>,
    ) -> Result<(Vec<&Alias>, Option<String>), AwsError> {
        let target = key_id.map(|key_ref| self.resolve(ctx, key_ref).map(|key| key.key_id.clone())).transpose()?;
        let aliases = self
            .regions
            .get(&ctx.region)
            .map(|r| {
                r.aliases.values().filter(|alias| target.as_ref().is_none_or(|id| *id == alias.target_key_id)).collect()
            })
            .unwrap_or_default();
        Ok(page(aliases, limit, marker, |alias| alias.name.clone()))
    }

    /// Encrypt. <https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html>
    pub fn encrypt(
        &self,
        ctx: &CallContext,
        key_ref: &str,
        plaintext: &[u8],
        context: &BTreeMap<String, String>,
        algorithm: Option<&str>,
    ) -> Result<Sealed, AwsError> {
        if plaintext.is_empty() || plaintext.len() > MAX_PLAINTEXT_BYTES {
            return Err(validation(format!(
                "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length {} {}",
                if plaintext.is_empty() { "greater than or equal to" } else { "less than or equal to" },
                if plaintext.is_empty() { 1 } else { MAX_PLAINTEXT_BYTES }
            )));
        }
        let key = self.usable(ctx, key_ref)?;
        check_algorithm(key, algorithm)?;
        Ok(Sealed {
            ciphertext: crypto::seal(&key.material, &key.key_id, plaintext, context)?,
            key_arn: key.arn.clone(),
        })
    }

    /// Decrypt: the blob names its key; a KeyId, when given, must name the
    /// same key. <https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html>
    pub fn decrypt(
        &self,
        ctx: &CallContext,
        blob: &[u8],
        context: &BTreeMap<String, String>,
        key_ref: Option<&str>,
        algorithm: Option<&str>,
    ) -> Result<Opened, AwsError> {
        let Some(blob_key_id) = crypto::blob_key_id(blob) else {
            return Err(invalid_ciphertext());
        };
        if let Some(key_ref) = key_ref {
            let requested = self.resolve(ctx, key_ref)?;
            if requested.key_id != blob_key_id {
                return Err(incorrect_key());
            }
        }
        let key = self
            .regions
            .get(&ctx.region)
            .and_then(|region| region.keys.get(blob_key_id))
            .ok_or_else(invalid_ciphertext)?;
        check_usable(key)?;
        check_algorithm(key, algorithm)?;
        let plaintext = crypto::open(&key.material, blob, context).ok_or_else(invalid_ciphertext)?;
        Ok(Opened { plaintext, key_arn: key.arn.clone() })
    }

    /// The key a blob names, if it exists (for CloudTrail's `resources`).
    pub fn blob_key(&self, ctx: &CallContext, blob: &[u8]) -> Option<&Key> {
        self.regions.get(&ctx.region)?.keys.get(crypto::blob_key_id(blob)?)
    }

    /// ReEncrypt: Decrypt's checks on the source, Encrypt's on the destination.
    pub fn re_encrypt(
        &self,
        ctx: &CallContext,
        blob: &[u8],
        source_context: &BTreeMap<String, String>,
        source_key: Option<&str>,
        destination_key: &str,
        destination_context: &BTreeMap<String, String>,
    ) -> Result<(Opened, Sealed), AwsError> {
        let opened = self.decrypt(ctx, blob, source_context, source_key, None)?;
        let key = self.usable(ctx, destination_key)?;
        let ciphertext = crypto::seal(&key.material, &key.key_id, &opened.plaintext, destination_context)?;
        let sealed = Sealed { ciphertext, key_arn: key.arn.clone() };
        Ok((Opened { plaintext: Vec::new(), key_arn: opened.key_arn }, sealed))
    }

    /// GenerateDataKey: `number_of_bytes` or `key_spec` (exactly one).
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html>
    pub fn generate_data_key(
        &self,
        ctx: &CallContext,
        key_ref: &str,
        number_of_bytes: Option<i64>,
        key_spec: Option<&str>,
        context: &BTreeMap<String, String>,
    ) -> Result<DataKey, AwsError> {
        let length = match (number_of_bytes, key_spec) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(validation("Please specify either number of bytes or key spec."));
            }
            (Some(n), None) if (1..=1024).contains(&n) => n as usize,
            (Some(n), None) => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{n}' at 'numberOfBytes' failed to satisfy constraint: Member must have value {}",
                    if n < 1 { "greater than or equal to 1" } else { "less than or equal to 1024" }
                )));
            }
            (None, Some("AES_256")) => 32,
            (None, Some("AES_128")) => 16,
            (None, Some(other)) => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{other}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]"
                )));
            }
        };
        let key = self.usable(ctx, key_ref)?;
        let plaintext = crate::random::bytes(length)?;
        let ciphertext = crypto::seal(&key.material, &key.key_id, &plaintext, context)?;
        Ok(DataKey { plaintext, sealed: Sealed { ciphertext, key_arn: key.arn.clone() } })
    }

    /// EnableKey / DisableKey. A key pending deletion cannot change.
    pub fn set_enabled(&mut self, ctx: &CallContext, key_ref: &str, enabled: bool) -> Result<String, AwsError> {
        let key = self.resolve_mut(ctx, key_ref)?;
        if key.state == KeyState::PendingDeletion {
            return Err(pending_deletion(key));
        }
        key.state = if enabled { KeyState::Enabled } else { KeyState::Disabled };
        Ok(key.arn.clone())
    }

    /// ScheduleKeyDeletion, 7 to 30 days ahead (default 30).
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html>
    pub fn schedule_key_deletion(
        &mut self,
        ctx: &CallContext,
        key_ref: &str,
        days: Option<i64>,
    ) -> Result<&Key, AwsError> {
        let days = days.unwrap_or(30);
        if !(7..=30).contains(&days) {
            return Err(validation(format!(
                "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value {}",
                if days < 7 { "greater than or equal to 7" } else { "less than or equal to 30" }
            )));
        }
        let key = self.resolve_mut(ctx, key_ref)?;
        if key.state == KeyState::PendingDeletion {
            return Err(pending_deletion(key));
        }
        key.state = KeyState::PendingDeletion;
        key.deletion_date = Some(ctx.now + days * crate::clock::DAY_MS);
        key.pending_window_in_days = Some(days);
        Ok(key)
    }

    /// EnableKeyRotation / DisableKeyRotation: a disabled or
    /// pending-deletion key cannot change its rotation.
    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html>
    pub fn set_rotation(&mut self, ctx: &CallContext, key_ref: &str, enabled: bool) -> Result<String, AwsError> {
        let key = self.resolve_mut(ctx, key_ref)?;
        match key.state {
            KeyState::Enabled => {
                key.rotation_enabled = enabled;
                Ok(key.arn.clone())
            }
            KeyState::PendingDeletion => Err(pending_deletion(key)),
            KeyState::Disabled => Err(AwsError::sender("DisabledException", format!("{} is disabled.", key.arn))),
        }
    }

    /// UpdateKeyDescription. <https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateKeyDescription.html>
    pub fn update_description(
        &mut self,
        ctx: &CallContext,
        key_ref: &str,
        description: &str,
    ) -> Result<String, AwsError> {
        let key = self.resolve_mut(ctx, key_ref)?;
        if key.state == KeyState::PendingDeletion {
            return Err(pending_deletion(key));
        }
        key.description = description.to_owned();
        Ok(key.arn.clone())
    }

    /// CancelKeyDeletion: the key comes back disabled, as in KMS.
    pub fn cancel_key_deletion(&mut self, ctx: &CallContext, key_ref: &str) -> Result<String, AwsError> {
        let key = self.resolve_mut(ctx, key_ref)?;
        if key.state != KeyState::PendingDeletion {
            return Err(AwsError::sender("KMSInvalidStateException", format!("{} is not pending deletion.", key.arn)));
        }
        key.state = KeyState::Disabled;
        key.deletion_date = None;
        key.pending_window_in_days = None;
        Ok(key.arn.clone())
    }

    /// GetKeyPolicy; `default` is the only policy name.
    pub fn get_key_policy(
        &self,
        ctx: &CallContext,
        key_ref: &str,
        policy_name: Option<&str>,
    ) -> Result<&Key, AwsError> {
        check_policy_name(policy_name)?;
        self.resolve(ctx, key_ref)
    }

    /// PutKeyPolicy. <https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html>
    pub fn put_key_policy(
        &mut self,
        ctx: &CallContext,
        key_ref: &str,
        policy_name: Option<&str>,
        policy: String,
    ) -> Result<String, AwsError> {
        check_policy_name(policy_name)?;
        let policy = checked_policy(policy)?;
        let key = self.resolve_mut(ctx, key_ref)?;
        if key.state == KeyState::PendingDeletion {
            return Err(pending_deletion(key));
        }
        key.policy = policy;
        Ok(key.arn.clone())
    }

    /// TagResource: new values replace old ones of the same key.
    pub fn tag_resource(&mut self, ctx: &CallContext, key_ref: &str, tags: Vec<Tag>) -> Result<String, AwsError> {
        let key = self.resolve_mut(ctx, key_ref)?;
        if key.state == KeyState::PendingDeletion {
            return Err(pending_deletion(key));
        }
        for tag in tags {
            key.tags.retain(|existing| existing.tag_key != tag.tag_key);
            key.tags.push(tag);
        }
        Ok(key.arn.clone())
    }

    /// UntagResource.
    pub fn untag_resource(
        &mut self,
        ctx: &CallContext,
        key_ref: &str,
        tag_keys: &[String],
    ) -> Result<String, AwsError> {
        let key = self.resolve_mut(ctx, key_ref)?;
        key.tags.retain(|tag| !tag_keys.contains(&tag.tag_key));
        Ok(key.arn.clone())
    }
}

/// One page of `items` (already in order) after `marker`.
fn page<T>(items: Vec<T>, limit: usize, marker: Option<&str>, id: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    let mut items: Vec<T> = match marker {
        Some(marker) => items.into_iter().skip_while(|item| id(item).as_str() <= marker).collect(),
        None => items,
    };
    let next = (items.len() > limit).then(|| items.get(limit.saturating_sub(1)).map(&id)).flatten();
    items.truncate(limit);
    (items, next)
}

fn check_usable(key: &Key) -> Result<(), AwsError> {
    match key.state {
        KeyState::Enabled => Ok(()),
        // https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html (DisabledException)
        KeyState::Disabled => Err(AwsError::sender("DisabledException", format!("{} is disabled.", key.arn))),
        KeyState::PendingDeletion => Err(pending_deletion(key)),
    }
}

fn pending_deletion(key: &Key) -> AwsError {
    // https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
    AwsError::sender("KMSInvalidStateException", format!("{} is pending deletion.", key.arn))
}

fn check_algorithm(key: &Key, algorithm: Option<&str>) -> Result<(), AwsError> {
    match algorithm {
        None | Some(SYMMETRIC_DEFAULT) => Ok(()),
        Some(other) => Err(AwsError::sender(
            "InvalidKeyUsageException",
            format!(
                "{} key usage is ENCRYPT_DECRYPT and key spec is SYMMETRIC_DEFAULT, which does not support {other}.",
                key.arn
            ),
        )),
    }
}

fn invalid_ciphertext() -> AwsError {
    // KMS gives no detail for a ciphertext it cannot decrypt.
    AwsError::sender("InvalidCiphertextException", "")
}

fn incorrect_key() -> AwsError {
    AwsError::sender(
        "IncorrectKeyException",
        "The key ID in the request does not identify a KMS key that can perform this operation.",
    )
}

fn check_alias_name(name: &str) -> Result<(), AwsError> {
    // https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html (AliasName)
    let Some(rest) = name.strip_prefix("alias/") else {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$"
        )));
    };
    if rest.is_empty() || name.len() > 256 || !rest.chars().all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c)) {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$"
        )));
    }
    if rest.starts_with("aws/") {
        return Err(AwsError::sender("InvalidAliasNameException", "Alias must not begin with 'alias/aws/'"));
    }
    Ok(())
}

fn check_policy_name(name: Option<&str>) -> Result<(), AwsError> {
    match name {
        None | Some("default") => Ok(()),
        Some(_) => Err(not_found("No such policy exists".to_owned())),
    }
}

fn checked_policy(policy: String) -> Result<String, AwsError> {
    match serde_json::from_str::<serde_json::Value>(&policy) {
        Ok(serde_json::Value::Object(_)) => Ok(policy),
        _ => Err(AwsError::sender("MalformedPolicyDocumentException", "The key policy is not a JSON policy document.")),
    }
}

#[cfg(test)]
mod tests;
