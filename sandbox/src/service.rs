//! What every sandboxed service shares: the context a call runs in, what a
//! call hands back to the dispatcher (its output and what CloudTrail should
//! record about it), and decoding of JSON-protocol inputs into typed requests.

use serde::de::DeserializeOwned;
use serde_json::Map;

use crate::error::AwsError;
use crate::identity::Principal;
use crate::protocol::value::Value;

/// Where and by whom a call is made, with the time it is served at.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub caller: Principal,
    /// The region the request is signed for.
    pub region: String,
    /// `aws`, `aws-cn` or `aws-us-gov`, after the region.
    pub partition: String,
    /// Epoch milliseconds.
    pub now: i64,
    pub request_id: String,
}

impl CallContext {
    /// A call by the sandbox's default user in ap-southeast-2 at `now`, for
    /// unit tests of service logic.
    #[cfg(test)]
    pub(crate) fn for_tests(now: i64) -> CallContext {
        CallContext {
            caller: Principal::default_user("aws", Some("AKIAIOSFODNN7EXAMPLE".into())),
            region: "ap-southeast-2".into(),
            partition: "aws".into(),
            now,
            request_id: "r".into(),
        }
    }

    /// The account every resource lives in.
    pub fn account(&self) -> &str {
        &self.caller.account_id
    }
}

/// A resource a CloudTrail record names (`resources[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditResource {
    /// e.g. `AWS::KMS::Key`.
    pub resource_type: String,
    pub arn: String,
}

/// What CloudTrail records about one call, beyond who, when and the outcome.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Audit {
    pub request_parameters: Option<serde_json::Value>,
    pub response_elements: Option<serde_json::Value>,
    pub resources: Vec<AuditResource>,
    pub read_only: bool,
}

/// The result of one call, as a service hands it back to the dispatcher.
#[derive(Debug, Clone)]
pub struct Handled {
    pub result: Result<Value, AwsError>,
    /// `None` for calls CloudTrail does not record.
    pub audit: Option<Audit>,
    /// Whether the service's state changed and must be saved.
    pub mutated: bool,
}

/// Decodes a JSON-protocol input into a typed request. A missing required
/// member fails as AWS's validation does; anything else malformed as a
/// `SerializationException`, as the JSON protocols report unreadable input.
pub fn decode_json<T: DeserializeOwned>(input: &serde_json::Value) -> Result<T, AwsError> {
    // Deserialized from the borrowed document: no copy of it per call.
    T::deserialize(input).map_err(|error| {
        let text = error.to_string();
        match text.strip_prefix("missing field `").and_then(|rest| rest.split_once('`')) {
            // https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html (ValidationException)
            Some((field, _)) => AwsError::sender(
                "ValidationException",
                format!(
                    "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                    lower_first(field)
                ),
            ),
            None => AwsError::sender("SerializationException", text),
        }
    })
}

/// `KeyId` -> `keyId`: CloudTrail spells request parameters in camelCase.
pub fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Members whose values are maps of caller data: their keys are kept as
/// written rather than camelCased.
const DATA_MAPS: &[&str] = &[
    "EncryptionContext",
    "SourceEncryptionContext",
    "DestinationEncryptionContext",
    "encryptionContext",
    "dimensions",
    "tags",
];

/// Members CloudTrail never records: secrets and payloads.
const SENSITIVE: &[&str] = &[
    "Plaintext",
    "CiphertextBlob",
    "SecretAccessKey",
    "SessionToken",
    "logEvents",
    "logEventMessages",
    "SecretString",
    "SecretBinary",
    "RandomPassword",
];

/// An input document as CloudTrail's `requestParameters`: members in
/// camelCase, secrets and payloads left out; `None` when nothing is left.
pub fn request_parameters(input: &serde_json::Value) -> Option<serde_json::Value> {
    match camel_case(input) {
        serde_json::Value::Object(members) if members.is_empty() => None,
        other => Some(other),
    }
}

/// `requestParameters` of a Query-protocol call: its parameters in camelCase,
/// without `Action`, `Version` and the members named in `withheld` (payloads
/// and secrets CloudTrail does not record); `None` when nothing is left.
pub fn query_request_parameters(params: &[(String, String)], withheld: &[&str]) -> Option<serde_json::Value> {
    let members: Map<String, serde_json::Value> = params
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "Action" | "Version") && !withheld.contains(&name.as_str()))
        .map(|(name, value)| (lower_first(name), serde_json::Value::from(value.as_str())))
        .collect();
    (!members.is_empty()).then_some(serde_json::Value::Object(members))
}

fn camel_case(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(members) => {
            let mut out = Map::new();
            for (name, member) in members {
                if SENSITIVE.contains(&name.as_str()) {
                    continue;
                }
                let converted = if DATA_MAPS.contains(&name.as_str()) { member.clone() } else { camel_case(member) };
                out.insert(lower_first(name), converted);
            }
            serde_json::Value::Object(out)
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(camel_case).collect()),
        other => other.clone(),
    }
}

/// An output as CloudTrail's `responseElements`: camelCase, timestamps as
/// ISO 8601, blobs and secrets left out; `None` when nothing is left.
pub fn response_elements(output: &Value) -> Option<serde_json::Value> {
    match output_json(output, false) {
        Some(serde_json::Value::Object(members)) if members.is_empty() => None,
        other => other,
    }
}

fn output_json(value: &Value, keep_keys: bool) -> Option<serde_json::Value> {
    Some(match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(flag) => serde_json::Value::Bool(*flag),
        Value::Integer(number) => serde_json::Value::from(*number),
        Value::Float(number) => serde_json::Value::from(*number),
        Value::String(text) => serde_json::Value::String(text.clone()),
        Value::Timestamp(millis) => serde_json::Value::String(crate::clock::iso8601_seconds(*millis)),
        Value::Blob(_) => return None,
        Value::List(items) => {
            serde_json::Value::Array(items.iter().filter_map(|item| output_json(item, false)).collect())
        }
        Value::Map(members) => {
            let mut out = Map::new();
            for (name, member) in members {
                if SENSITIVE.contains(&name.as_str()) || matches!(member, Value::Null) {
                    continue;
                }
                let data_map = DATA_MAPS.contains(&name.as_str());
                if let Some(json) = output_json(member, data_map) {
                    out.insert(if keep_keys { name.clone() } else { lower_first(name) }, json);
                }
            }
            serde_json::Value::Object(out)
        }
    })
}

/// Serde helpers for blob members, which the JSON protocols send as base64.
pub mod blob {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer};

    /// Reads a required base64 blob.
    pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|_| serde::de::Error::custom("a blob member is not valid base64"))
    }
}

/// Serde helpers for timestamps, which the JSON protocols send as epoch
/// seconds (with a fraction).
pub mod timestamp {
    use serde::{Deserialize, Deserializer};

    /// Reads an optional epoch-seconds timestamp as epoch milliseconds.
    pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
        let seconds = Option::<f64>::deserialize(deserializer)?;
        Ok(seconds.map(|s| (s * 1000.0).round() as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_parameters_are_camel_case_without_payloads() {
        let input = json!({"KeyId": "alias/a", "Plaintext": "c2VjcmV0", "EncryptionContext": {"Dept": "x"}});
        assert_eq!(request_parameters(&input), Some(json!({"keyId": "alias/a", "encryptionContext": {"Dept": "x"}})));
        assert_eq!(request_parameters(&json!({})), None);
    }

    // https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-cloudtrail.html
    // (CloudTrail entries for Secrets Manager never hold the secret value)
    #[test]
    fn secret_values_are_never_recorded() {
        let input = json!({"Name": "db", "SecretString": "hunter2", "SecretBinary": "AAEC"});
        assert_eq!(request_parameters(&input), Some(json!({"name": "db"})));
    }

    #[test]
    fn response_elements_drop_blobs_and_secrets() {
        let output = Value::structure()
            .with("CiphertextBlob", Value::Blob(vec![1]))
            .with("KeyId", "k")
            .with("Credentials", Value::structure().with("AccessKeyId", "ASIA").with("SecretAccessKey", "s"));
        assert_eq!(response_elements(&output), Some(json!({"keyId": "k", "credentials": {"accessKeyId": "ASIA"}})));
    }

    #[test]
    fn missing_members_fail_validation() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        #[allow(dead_code)]
        struct Input {
            key_id: String,
        }
        let error = decode_json::<Input>(&json!({})).expect_err("missing");
        assert_eq!(error.code, "ValidationException");
        assert!(error.message.contains("'keyId'"), "{}", error.message);
    }
}
