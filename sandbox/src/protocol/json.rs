//! The AWS JSON 1.0 and 1.1 protocols: `X-Amz-Target: Prefix.Operation` and a
//! JSON body both ways, as KMS, CloudWatch Logs, CloudTrail, SQS and (from
//! boto3 and the CLI) CloudWatch speak it.
//!
//! See <https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html>.

use base64::Engine as _;
use serde_json::{Map, Number, json};

use super::value::Value;
use crate::error::AwsError;

/// Encodes an output: timestamps as epoch seconds, blobs as base64.
pub fn encode_output(output: &Value) -> serde_json::Value {
    match output {
        Value::Null => serde_json::Value::Null,
        Value::Bool(flag) => serde_json::Value::Bool(*flag),
        Value::Integer(number) => serde_json::Value::Number((*number).into()),
        Value::Float(number) => Number::from_f64(*number).map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::String(text) => serde_json::Value::String(text.clone()),
        Value::Timestamp(millis) => {
            let seconds = *millis as f64 / 1000.0;
            Number::from_f64(seconds).map_or(serde_json::Value::Null, serde_json::Value::Number)
        }
        Value::Blob(bytes) => serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
        Value::List(items) => serde_json::Value::Array(items.iter().map(encode_output).collect()),
        Value::Map(members) => {
            let object: Map<String, serde_json::Value> = members
                .iter()
                .filter(|(_, value)| !matches!(value, Value::Null))
                .map(|(name, value)| (name.clone(), encode_output(value)))
                .collect();
            serde_json::Value::Object(object)
        }
    }
}

/// The JSON protocols' error body; the SDKs read the code from `__type`.
pub fn encode_error(error: &AwsError) -> serde_json::Value {
    json!({ "__type": error.code, "message": error.message })
}
