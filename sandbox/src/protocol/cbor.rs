//! Smithy RPC v2 CBOR: `POST /service/<Service>/operation/<Operation>` with a
//! CBOR body, which aws-sdk-cloudwatch speaks.
//!
//! See <https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html>.

use ciborium::value::{Integer, Value as Cbor};

use super::value::Value;
use crate::error::AwsError;

/// Reads `(service, operation)` from an RPC v2 path.
pub fn parse_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/service/")?;
    let (service, operation) = rest.split_once("/operation/")?;
    (!service.is_empty() && !operation.is_empty() && !operation.contains('/')).then_some((service, operation))
}

/// Converts a decoded CBOR input into the JSON document the AWS JSON
/// protocols would have carried, so a service decodes one typed request from
/// either: timestamps (tag 1) become epoch seconds and byte strings base64,
/// exactly as AWS JSON 1.0 writes them.
pub fn to_json(value: &Cbor) -> serde_json::Value {
    use base64::Engine as _;
    match value {
        Cbor::Null => serde_json::Value::Null,
        Cbor::Bool(flag) => serde_json::Value::Bool(*flag),
        Cbor::Integer(number) => {
            let wide = i128::from(*number);
            match i64::try_from(wide) {
                Ok(small) => serde_json::Value::from(small),
                Err(_) => serde_json::Value::from(wide as f64),
            }
        }
        Cbor::Float(number) => {
            serde_json::Number::from_f64(*number).map_or(serde_json::Value::Null, serde_json::Value::Number)
        }
        Cbor::Text(text) => serde_json::Value::String(text.clone()),
        Cbor::Bytes(bytes) => serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
        Cbor::Tag(_, inner) => to_json(inner),
        Cbor::Array(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Cbor::Map(members) => serde_json::Value::Object(
            members
                .iter()
                .filter_map(|(name, value)| match name {
                    Cbor::Text(name) => Some((name.clone(), to_json(value))),
                    _ => None,
                })
                .collect(),
        ),
        _ => serde_json::Value::Null,
    }
}

/// Encodes an output as a CBOR document. Timestamps use tag 1 (epoch
/// seconds as a float), as the protocol requires.
pub fn encode_output(output: &Value) -> Vec<u8> {
    serialize(&to_cbor(output))
}

/// The protocol's error body: a map whose `__type` names the error.
pub fn encode_error(error: &AwsError) -> Vec<u8> {
    let body = Cbor::Map(vec![
        (Cbor::Text("__type".to_owned()), Cbor::Text(error.code.clone())),
        (Cbor::Text("message".to_owned()), Cbor::Text(error.message.clone())),
    ]);
    serialize(&body)
}

fn to_cbor(value: &Value) -> Cbor {
    match value {
        Value::Null => Cbor::Null,
        Value::Bool(flag) => Cbor::Bool(*flag),
        Value::Integer(number) => Cbor::Integer(Integer::from(*number)),
        Value::Float(number) => Cbor::Float(*number),
        Value::String(text) => Cbor::Text(text.clone()),
        Value::Timestamp(millis) => Cbor::Tag(1, Box::new(Cbor::Float(*millis as f64 / 1000.0))),
        Value::Blob(bytes) => Cbor::Bytes(bytes.clone()),
        Value::List(items) => Cbor::Array(items.iter().map(to_cbor).collect()),
        Value::Map(members) => Cbor::Map(
            members
                .iter()
                .filter(|(_, value)| !matches!(value, Value::Null))
                .map(|(name, value)| (Cbor::Text(name.clone()), to_cbor(value)))
                .collect(),
        ),
    }
}

fn serialize(value: &Cbor) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail; an empty body is the safe fallback.
    if ciborium::into_writer(value, &mut bytes).is_err() {
        bytes.clear();
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rpc_v2_paths() {
        assert_eq!(
            parse_path("/service/GraniteServiceVersion20100801/operation/PutMetricData"),
            Some(("GraniteServiceVersion20100801", "PutMetricData"))
        );
        assert_eq!(parse_path("/service//operation/X"), None);
        assert_eq!(parse_path("/service/S/operation/"), None);
        assert_eq!(parse_path("/service/S/operation/A/B"), None);
        assert_eq!(parse_path("/"), None);
    }

    #[test]
    fn inputs_read_as_their_json_protocol_equivalent() {
        let input = Cbor::Map(vec![
            (Cbor::Text("StartTime".into()), Cbor::Tag(1, Box::new(Cbor::Float(1.5)))),
            (Cbor::Text("Period".into()), Cbor::Integer(10.into())),
            (Cbor::Text("Data".into()), Cbor::Bytes(vec![1, 2])),
        ]);
        assert_eq!(to_json(&input), serde_json::json!({"StartTime": 1.5, "Period": 10, "Data": "AQI="}));
    }

    #[test]
    fn timestamps_are_tagged_epoch_seconds() {
        let bytes = encode_output(&Value::structure().with("At", Value::Timestamp(1_500)));
        let decoded: Cbor = ciborium::from_reader(bytes.as_slice()).expect("valid cbor");
        let Cbor::Map(members) = decoded else { panic!("not a map") };
        assert_eq!(members[0].1, Cbor::Tag(1, Box::new(Cbor::Float(1.5))));
    }
}
