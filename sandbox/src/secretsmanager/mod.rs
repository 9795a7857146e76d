//! AWS Secrets Manager: secrets, their versions and staging labels
//! (`AWSCURRENT`, `AWSPREVIOUS`), scheduled deletion and restore, and
//! random passwords, on plain data. [`api`] speaks AWS JSON 1.1
//! (`X-Amz-Target: secretsmanager.<Operation>`); CloudFormation calls
//! [`SecretsManagerState::create_from_template`], [`SecretsManagerState::secret_string`],
//! [`SecretsManagerState::force_delete`] and [`SecretsManagerState::attach_target`] in process.
//!
//! Secret values never leave this module except as the value of
//! GetSecretValue: the dispatcher's CloudTrail records leave them out
//! (`SecretString` and `SecretBinary` are in `service::SENSITIVE`).

pub mod api;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::DAY_MS;
use crate::error::AwsError;
use crate::random;

/// The label of a secret's current version.
pub const AWSCURRENT: &str = "AWSCURRENT";
/// The label the previous current version gets.
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";

/// One version of a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretVersion {
    pub secret_string: Option<String>,
    pub secret_binary: Option<Vec<u8>>,
    pub stages: Vec<String>,
    pub created_ms: i64,
}

/// A secret's value: a string or bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretValue {
    String(String),
    Binary(Vec<u8>),
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// One secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    pub arn: String,
    pub name: String,
    pub region: String,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    pub tags: Vec<Tag>,
    pub created_ms: i64,
    pub last_changed_ms: i64,
    pub last_accessed_ms: Option<i64>,
    /// When a scheduled deletion happens (`DeletedDate` is when it was asked).
    pub deletion_date_ms: Option<i64>,
    pub deleted_date_ms: Option<i64>,
    /// Versions by id.
    pub versions: BTreeMap<String, SecretVersion>,
}

impl Secret {
    /// The version id carrying `stage`.
    pub fn version_with_stage(&self, stage: &str) -> Option<&str> {
        self.versions.iter().find(|(_, v)| v.stages.iter().any(|s| s == stage)).map(|(id, _)| id.as_str())
    }
}

/// Every secret, by ARN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsManagerState {
    pub secrets: BTreeMap<String, Secret>,
}

/// What CreateSecret takes (from the API or CloudFormation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewSecret {
    pub name: String,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    pub value: Option<SecretValue>,
    /// The first version's id (`ClientRequestToken`); a UUID when absent.
    pub version_id: Option<String>,
    pub tags: Vec<Tag>,
}

/// GetRandomPassword's options and CloudFormation's `GenerateSecretString`.
/// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html>
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordOptions {
    #[serde(default, deserialize_with = "lenient::integer")]
    pub password_length: Option<i64>,
    #[serde(default)]
    pub exclude_characters: Option<String>,
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub exclude_numbers: Option<bool>,
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub exclude_punctuation: Option<bool>,
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub exclude_uppercase: Option<bool>,
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub exclude_lowercase: Option<bool>,
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub include_space: Option<bool>,
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub require_each_included_type: Option<bool>,
}

/// CloudFormation hands template values over as strings as often as as
/// numbers or booleans (`PasswordLength: "32"`) and converts them to the
/// property's type; these readers take either.
mod lenient {
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Integer(i64),
        Bool(bool),
        Text(String),
    }

    pub fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
        match Option::<Scalar>::deserialize(deserializer)? {
            None => Ok(None),
            Some(Scalar::Integer(number)) => Ok(Some(number)),
            Some(Scalar::Text(text)) => text.trim().parse().map(Some).map_err(serde::de::Error::custom),
            Some(Scalar::Bool(_)) => Err(serde::de::Error::custom("expected an integer")),
        }
    }

    pub fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
        match Option::<Scalar>::deserialize(deserializer)? {
            None => Ok(None),
            Some(Scalar::Bool(flag)) => Ok(Some(flag)),
            Some(Scalar::Text(text)) => {
                text.trim().to_ascii_lowercase().parse().map(Some).map_err(serde::de::Error::custom)
            }
            Some(Scalar::Integer(_)) => Err(serde::de::Error::custom("expected a boolean")),
        }
    }
}

/// CloudFormation's `GenerateSecretString`: password options plus the JSON
/// template the password is put into.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-secretsmanager-secret-generatesecretstring.html>
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateSecretString {
    #[serde(flatten)]
    pub password: PasswordOptions,
    pub secret_string_template: Option<String>,
    pub generate_string_key: Option<String>,
}

/// `AWS::SecretsManager::Secret`'s properties (those the sandbox keeps).
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-secretsmanager-secret.html>
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretProperties {
    pub name: Option<String>,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    pub secret_string: Option<String>,
    pub generate_secret_string: Option<GenerateSecretString>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// The punctuation GetRandomPassword draws from.
/// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html> (ExcludePunctuation)
pub const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

fn invalid_parameter(message: impl Into<String>) -> AwsError {
    AwsError::sender("InvalidParameterException", message)
}

fn invalid_request(message: impl Into<String>) -> AwsError {
    AwsError::sender("InvalidRequestException", message)
}

/// `ResourceNotFoundException` as Secrets Manager words it.
pub fn not_found() -> AwsError {
    AwsError::sender("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

/// The error for calls on a secret scheduled for deletion.
/// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html> (InvalidRequestException)
pub fn marked_for_deletion() -> AwsError {
    invalid_request("You can't perform this operation on the secret because it was marked for deletion.")
}

/// A random password. Every included character class is used at least
/// once unless `RequireEachIncludedType` is false.
/// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html>
pub fn random_password(options: &PasswordOptions) -> Result<String, AwsError> {
    let length = options.password_length.unwrap_or(32);
    if !(1..=4096).contains(&length) {
        return Err(invalid_parameter("Password length must be between 1 and 4096."));
    }
    let excluded = options.exclude_characters.as_deref().unwrap_or_default();
    let keep = |set: &str| set.chars().filter(|c| !excluded.contains(*c)).collect::<Vec<char>>();
    let mut classes: Vec<Vec<char>> = Vec::new();
    if options.exclude_lowercase != Some(true) {
        classes.push(keep("abcdefghijklmnopqrstuvwxyz"));
    }
    if options.exclude_uppercase != Some(true) {
        classes.push(keep("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    }
    if options.exclude_numbers != Some(true) {
        classes.push(keep("0123456789"));
    }
    if options.exclude_punctuation != Some(true) {
        classes.push(keep(PUNCTUATION));
    }
    if options.include_space == Some(true) {
        classes.push(keep(" "));
    }
    classes.retain(|class| !class.is_empty());
    let length = usize::try_from(length).unwrap_or(32);
    let require_each = options.require_each_included_type != Some(false);
    if classes.is_empty() || (require_each && classes.len() > length) {
        return Err(invalid_parameter(
            "The password can't be generated with the specified length and excluded characters.",
        ));
    }
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    let mut password: Vec<char> = Vec::with_capacity(length);
    if require_each {
        for class in &classes {
            password.push(pick(class)?);
        }
    }
    while password.len() < length {
        password.push(pick(&all)?);
    }
    // Shuffle so the required characters are not always first.
    for i in (1..password.len()).rev() {
        let j = uniform(i + 1)?;
        password.swap(i, j);
    }
    Ok(password.into_iter().collect())
}

/// A uniformly random index below `n` (rejection sampling avoids bias).
fn uniform(n: usize) -> Result<usize, AwsError> {
    let n = u32::try_from(n).unwrap_or(u32::MAX).max(1);
    let limit = u32::MAX - u32::MAX % n;
    loop {
        let bytes: [u8; 4] = random::bytes(4)?
            .try_into()
            .map_err(|_| AwsError::internal("the random number generator returned too few bytes"))?;
        let value = u32::from_le_bytes(bytes);
        if value < limit {
            return Ok(usize::try_from(value % n).unwrap_or(0));
        }
    }
}

fn pick(chars: &[char]) -> Result<char, AwsError> {
    chars.get(uniform(chars.len())?).copied().ok_or_else(|| AwsError::internal("empty character set"))
}

/// The secret string `GenerateSecretString` makes: the password alone, or
/// the template with the password under `GenerateStringKey`.
pub fn generate_secret_string(spec: &GenerateSecretString) -> Result<String, AwsError> {
    let password = random_password(&spec.password)?;
    match (&spec.secret_string_template, &spec.generate_string_key) {
        (None, None) => Ok(password),
        (Some(template), Some(key)) => {
            let mut document: serde_json::Value = serde_json::from_str(template)
                .map_err(|_| invalid_parameter("SecretStringTemplate must be a valid JSON string."))?;
            let Some(members) = document.as_object_mut() else {
                return Err(invalid_parameter("SecretStringTemplate must be a JSON object."));
            };
            members.insert(key.clone(), serde_json::Value::String(password));
            Ok(document.to_string())
        }
        // Both or neither: "If you specify SecretStringTemplate then GenerateStringKey must be specified" (and back).
        _ => Err(invalid_parameter(
            "SecretStringTemplate and GenerateStringKey must both be specified or both be left out.",
        )),
    }
}

impl SecretsManagerState {
    /// Removes secrets whose recovery window has passed; whether any was.
    pub fn purge(&mut self, now: i64) -> bool {
        let before = self.secrets.len();
        self.secrets.retain(|_, secret| secret.deletion_date_ms.is_none_or(|at| at > now));
        before != self.secrets.len()
    }

    /// The secret `id` names in `region`: its name, full ARN, or partial ARN
    /// (the ARN without the six random characters).
    /// <https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen>
    pub fn find(&self, region: &str, id: &str) -> Result<&Secret, AwsError> {
        let key = self.find_arn(region, id).ok_or_else(not_found)?;
        self.secrets.get(&key).ok_or_else(not_found)
    }

    fn find_arn(&self, region: &str, id: &str) -> Option<String> {
        if self.secrets.contains_key(id) {
            return Some(id.to_owned());
        }
        self.secrets
            .values()
            .find(|s| {
                (s.region == region && s.name == id)
                    || s.arn.strip_prefix(id).is_some_and(|rest| rest.len() == 7 && rest.starts_with('-'))
            })
            .map(|s| s.arn.clone())
    }

    fn find_mut(&mut self, region: &str, id: &str) -> Result<&mut Secret, AwsError> {
        let key = self.find_arn(region, id).ok_or_else(not_found)?;
        self.secrets.get_mut(&key).ok_or_else(not_found)
    }

    /// CreateSecret.
    /// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html>
    pub fn create(
        &mut self,
        region: &str,
        partition: &str,
        account: &str,
        new: NewSecret,
        now: i64,
    ) -> Result<&Secret, AwsError> {
        check_name(&new.name)?;
        if let Some(existing) = self.secrets.values().find(|s| s.region == region && s.name == new.name) {
            if existing.deletion_date_ms.is_some() {
                return Err(invalid_request(
                    "You can't create this secret because a secret with this name is already scheduled for deletion.",
                ));
            }
            return Err(AwsError::sender(
                "ResourceExistsException",
                format!("The operation failed because the secret {} already exists.", new.name),
            ));
        }
        let suffix = random::text(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 6)?;
        let arn = format!("arn:{partition}:secretsmanager:{region}:{account}:secret:{}-{suffix}", new.name);
        let mut versions = BTreeMap::new();
        if let Some(value) = new.value {
            let version_id = new.version_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            versions.insert(version_id, version(value, vec![AWSCURRENT.to_owned()], now));
        }
        let secret = Secret {
            arn: arn.clone(),
            name: new.name,
            region: region.to_owned(),
            description: new.description,
            kms_key_id: new.kms_key_id,
            tags: new.tags,
            created_ms: now,
            last_changed_ms: now,
            last_accessed_ms: None,
            deletion_date_ms: None,
            deleted_date_ms: None,
            versions,
        };
        Ok(self.secrets.entry(arn).or_insert(secret))
    }

    /// GetSecretValue: the version `version_id` names, else the one with
    /// `version_stage` (`AWSCURRENT` by default). Returns the secret and version id.
    /// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html>
    pub fn get_value(
        &mut self,
        region: &str,
        id: &str,
        version_id: Option<&str>,
        version_stage: Option<&str>,
        now: i64,
    ) -> Result<(&Secret, String), AwsError> {
        let secret = self.find_mut(region, id)?;
        if secret.deletion_date_ms.is_some() {
            return Err(marked_for_deletion());
        }
        let chosen = match (version_id, version_stage) {
            (Some(version), stage) => {
                let found =
                    secret.versions.get(version).filter(|v| stage.is_none_or(|s| v.stages.iter().any(|x| x == s)));
                found.map(|_| version.to_owned()).ok_or_else(|| {
                    AwsError::sender(
                        "ResourceNotFoundException",
                        format!("Secrets Manager can't find the specified secret value for VersionId: {version}"),
                    )
                })?
            }
            (None, stage) => {
                let stage = stage.unwrap_or(AWSCURRENT);
                secret.version_with_stage(stage).map(str::to_owned).ok_or_else(|| {
                    AwsError::sender(
                        "ResourceNotFoundException",
                        format!("Secrets Manager can't find the specified secret value for staging label: {stage}"),
                    )
                })?
            }
        };
        // LastAccessedDate is a date: AWS rounds it to the day.
        secret.last_accessed_ms = Some(now - now.rem_euclid(DAY_MS));
        Ok((&*secret, chosen))
    }

    /// PutSecretValue: a new version, labelled `stages` (`AWSCURRENT` by
    /// default); moving `AWSCURRENT` leaves `AWSPREVIOUS` on the version that had it.
    /// Returns the secret's ARN and name, the version id and its stages.
    /// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html>
    pub fn put_value(
        &mut self,
        region: &str,
        id: &str,
        value: SecretValue,
        version_id: Option<String>,
        stages: Option<Vec<String>>,
        now: i64,
    ) -> Result<(String, String, String, Vec<String>), AwsError> {
        let secret = self.find_mut(region, id)?;
        if secret.deletion_date_ms.is_some() {
            return Err(marked_for_deletion());
        }
        let version_id = version_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let stages = stages.unwrap_or_else(|| vec![AWSCURRENT.to_owned()]);
        let new_version = version(value, stages.clone(), now);
        if let Some(existing) = secret.versions.get(&version_id) {
            // The same token with the same value is a retry; with another value a conflict.
            if existing.secret_string == new_version.secret_string
                && existing.secret_binary == new_version.secret_binary
            {
                return Ok((secret.arn.clone(), secret.name.clone(), version_id, existing.stages.clone()));
            }
            return Err(AwsError::sender(
                "ResourceExistsException",
                "You can't modify an existing version, you can only create a new version.",
            ));
        }
        if stages.iter().any(|s| s == AWSCURRENT) {
            let previous = secret.version_with_stage(AWSCURRENT).map(str::to_owned);
            for version in secret.versions.values_mut() {
                version.stages.retain(|s| s != AWSPREVIOUS);
            }
            if let Some(previous) = previous.and_then(|id| secret.versions.get_mut(&id)) {
                previous.stages.retain(|s| s != AWSCURRENT);
                previous.stages.push(AWSPREVIOUS.to_owned());
            }
        }
        for version in secret.versions.values_mut() {
            version.stages.retain(|s| s == AWSPREVIOUS || !stages.contains(s));
        }
        // Versions with no label left are deprecated; AWS removes them eventually.
        secret.versions.retain(|_, v| !v.stages.is_empty());
        secret.versions.insert(version_id.clone(), new_version);
        secret.last_changed_ms = now;
        Ok((secret.arn.clone(), secret.name.clone(), version_id, stages))
    }

    /// DeleteSecret: scheduled `recovery_days` (7 to 30, default 30) ahead,
    /// or at once with `force`. Returns the ARN, name and deletion date.
    /// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html>
    pub fn delete(
        &mut self,
        region: &str,
        id: &str,
        recovery_days: Option<i64>,
        force: bool,
        now: i64,
    ) -> Result<(String, String, i64), AwsError> {
        if force && recovery_days.is_some() {
            return Err(invalid_parameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
            ));
        }
        let days = recovery_days.unwrap_or(30);
        if !force && !(7..=30).contains(&days) {
            return Err(invalid_parameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."));
        }
        let secret = self.find_mut(region, id)?;
        let (arn, name) = (secret.arn.clone(), secret.name.clone());
        if force {
            self.secrets.remove(&arn);
            return Ok((arn, name, now));
        }
        // Force deletion (above) works on a scheduled secret; scheduling again does not.
        if secret.deletion_date_ms.is_some() {
            return Err(invalid_request(
                "You tried to perform the operation on a secret that's currently marked deleted.",
            ));
        }
        let at = now + days * DAY_MS;
        secret.deletion_date_ms = Some(at);
        secret.deleted_date_ms = Some(now);
        Ok((arn, name, at))
    }

    /// RestoreSecret: cancels a scheduled deletion.
    pub fn restore(&mut self, region: &str, id: &str, now: i64) -> Result<(String, String), AwsError> {
        let secret = self.find_mut(region, id)?;
        secret.deletion_date_ms = None;
        secret.deleted_date_ms = None;
        secret.last_changed_ms = now;
        Ok((secret.arn.clone(), secret.name.clone()))
    }

    /// `AWS::SecretsManager::Secret`: creates the secret its properties
    /// describe (`GenerateSecretString` or `SecretString`, not both); a
    /// missing `Name` is `logical_name` with a random suffix, as
    /// CloudFormation names it. Returns the ARN (the resource's `Ref`).
    pub fn create_from_template(
        &mut self,
        region: &str,
        partition: &str,
        account: &str,
        logical_name: &str,
        properties: &SecretProperties,
        now: i64,
    ) -> Result<String, AwsError> {
        let value = match (&properties.secret_string, &properties.generate_secret_string) {
            (Some(_), Some(_)) => {
                return Err(invalid_parameter("You can't specify both SecretString and GenerateSecretString."));
            }
            (Some(text), None) => Some(SecretValue::String(text.clone())),
            (None, Some(spec)) => Some(SecretValue::String(generate_secret_string(spec)?)),
            // Without either, CloudFormation generates a 32-character password.
            (None, None) => Some(SecretValue::String(random_password(&PasswordOptions::default())?)),
        };
        let name = match &properties.name {
            Some(name) => name.clone(),
            None => format!("{logical_name}-{}", random::text(random::UPPER_BASE32, 12)?),
        };
        let new = NewSecret {
            name,
            description: properties.description.clone(),
            kms_key_id: properties.kms_key_id.clone(),
            value,
            version_id: None,
            tags: properties.tags.clone(),
        };
        Ok(self.create(region, partition, account, new, now)?.arn.clone())
    }

    /// The value a `{{resolve:secretsmanager:id:SecretString:json_key:version_stage:version_id}}`
    /// dynamic reference resolves to: the secret string, or one member of it
    /// when it is JSON and `json_key` is given.
    /// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html>
    pub fn secret_string(
        &mut self,
        region: &str,
        id: &str,
        json_key: Option<&str>,
        version_stage: Option<&str>,
        version_id: Option<&str>,
        now: i64,
    ) -> Result<String, AwsError> {
        let (secret, version) = self.get_value(region, id, version_id, version_stage, now)?;
        let text = secret
            .versions
            .get(&version)
            .and_then(|v| v.secret_string.clone())
            .ok_or_else(|| invalid_request("The secret has no SecretString."))?;
        let Some(key) = json_key.filter(|k| !k.is_empty()) else { return Ok(text) };
        let document: serde_json::Value = serde_json::from_str(&text)
            .map_err(|_| invalid_request("The secret's SecretString is not JSON, so it has no key to resolve."))?;
        match document.get(key) {
            Some(serde_json::Value::String(value)) => Ok(value.clone()),
            Some(other) => Ok(other.to_string()),
            None => Err(invalid_request(format!("The secret's SecretString has no key {key}."))),
        }
    }

    /// Deletes a secret at once (CloudFormation's stack deletion uses no
    /// recovery window unless the template asks for one).
    pub fn force_delete(&mut self, region: &str, id: &str, now: i64) -> Result<(), AwsError> {
        self.delete(region, id, None, true, now).map(|_| ())
    }

    /// `AWS::SecretsManager::SecretTargetAttachment`: merges the target's
    /// connection details (`engine`, `host`, `port`, `dbname`, ...) into the
    /// secret's JSON as a new `AWSCURRENT` version.
    /// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-secretsmanager-secrettargetattachment.html>
    pub fn attach_target(
        &mut self,
        region: &str,
        id: &str,
        connection: &serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> Result<String, AwsError> {
        let current = self.secret_string(region, id, None, None, None, now)?;
        let mut document: serde_json::Value = serde_json::from_str(&current)
            .map_err(|_| invalid_request("The secret to attach must hold a JSON object."))?;
        let Some(members) = document.as_object_mut() else {
            return Err(invalid_request("The secret to attach must hold a JSON object."));
        };
        for (name, value) in connection {
            members.insert(name.clone(), value.clone());
        }
        let (arn, ..) = self.put_value(region, id, SecretValue::String(document.to_string()), None, None, now)?;
        Ok(arn)
    }
}

fn version(value: SecretValue, stages: Vec<String>, now: i64) -> SecretVersion {
    let (secret_string, secret_binary) = match value {
        SecretValue::String(text) => (Some(text), None),
        SecretValue::Binary(bytes) => (None, Some(bytes)),
    };
    SecretVersion { secret_string, secret_binary, stages, created_ms: now }
}

/// Secret names: 1 to 512 of letters, digits and `/_+=.@-`.
/// <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html> (Name)
pub fn check_name(name: &str) -> Result<(), AwsError> {
    let ok =
        (1..=512).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AwsError::sender(
            "ValidationException",
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
        ))
    }
}

#[cfg(test)]
mod tests;
