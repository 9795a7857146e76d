//! CloudTrail records: the JSON document CloudTrail writes for one API call.
//!
//! Fields and their meaning: <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>
//! (eventVersion 1.11). Example records for KMS calls:
//! <https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html>.

use serde_json::{Value as Json, json};

use crate::error::AwsError;
use crate::identity::Principal;
use crate::service::Audit;

/// The record format version CloudTrail writes today.
pub const EVENT_VERSION: &str = "1.11";

/// Everything a record is made from.
#[derive(Debug, Clone)]
pub struct CallFacts<'a> {
    pub caller: &'a Principal,
    pub region: &'a str,
    /// Epoch milliseconds.
    pub event_time: i64,
    /// The signing name (`kms`), turned into `kms.amazonaws.com`.
    pub service: &'a str,
    pub operation: &'a str,
    pub source_ip: &'a str,
    pub user_agent: &'a str,
    pub request_id: &'a str,
    pub event_id: String,
    pub audit: &'a Audit,
    pub error: Option<&'a AwsError>,
}

/// `kms` -> `kms.amazonaws.com`.
pub fn event_source(service: &str) -> String {
    format!("{service}.amazonaws.com")
}

/// Builds the record of one management API call.
pub fn build(facts: &CallFacts<'_>) -> Json {
    let mut record = json!({
        "eventVersion": EVENT_VERSION,
        "userIdentity": facts.caller.user_identity(),
        "eventTime": crate::clock::iso8601_seconds(facts.event_time),
        "eventSource": event_source(facts.service),
        "eventName": facts.operation,
        "awsRegion": facts.region,
        "sourceIPAddress": facts.source_ip,
        "userAgent": facts.user_agent,
        "requestParameters": facts.audit.request_parameters.clone().unwrap_or(Json::Null),
        "responseElements": facts.audit.response_elements.clone().unwrap_or(Json::Null),
        "requestID": facts.request_id,
        "eventID": facts.event_id,
        "readOnly": facts.audit.read_only,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": facts.caller.account_id,
        "eventCategory": "Management",
    });
    if let Json::Object(members) = &mut record {
        if let Some(error) = facts.error {
            members.insert("errorCode".into(), Json::String(error.code.clone()));
            members.insert("errorMessage".into(), Json::String(error.message.clone()));
        }
        if !facts.audit.resources.is_empty() {
            let resources: Vec<Json> = facts
                .audit
                .resources
                .iter()
                .map(|resource| json!({"accountId": facts.caller.account_id, "type": resource.resource_type, "ARN": resource.arn}))
                .collect();
            members.insert("resources".into(), Json::Array(resources));
        }
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::AuditResource;

    // Shape of the Decrypt example in the KMS developer guide (ct-decrypt.html),
    // with errorCode/errorMessage as record-contents.html describes failures.
    #[test]
    fn a_failed_decrypt_record_has_the_documented_fields() {
        let caller = Principal::default_user("aws", Some("AKIAIOSFODNN7EXAMPLE".into()));
        let audit = Audit {
            request_parameters: Some(json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "keyId": "k"})),
            response_elements: None,
            resources: vec![AuditResource {
                resource_type: "AWS::KMS::Key".into(),
                arn: "arn:aws:kms:ap-southeast-2:111122223333:key/k".into(),
            }],
            read_only: true,
        };
        let error = AwsError::sender("IncorrectKeyException", "wrong key");
        let record = build(&CallFacts {
            caller: &caller,
            region: "ap-southeast-2",
            event_time: 1_595_890_704_000,
            service: "kms",
            operation: "Decrypt",
            source_ip: "192.0.2.0",
            user_agent: "aws-sdk-rust",
            request_id: "req",
            event_id: "evt".into(),
            audit: &audit,
            error: Some(&error),
        });
        assert_eq!(record["eventVersion"], "1.11");
        assert_eq!(record["eventTime"], "2020-07-27T22:58:24Z");
        assert_eq!(record["eventSource"], "kms.amazonaws.com");
        assert_eq!(record["userIdentity"]["type"], "IAMUser");
        assert_eq!(record["errorCode"], "IncorrectKeyException");
        assert_eq!(record["responseElements"], Json::Null);
        assert_eq!(record["resources"][0]["type"], "AWS::KMS::Key");
        assert_eq!(record["readOnly"], true);
        for field in [
            "requestID",
            "eventID",
            "eventType",
            "managementEvent",
            "recipientAccountId",
            "eventCategory",
            "sourceIPAddress",
            "userAgent",
            "awsRegion",
        ] {
            assert!(record.get(field).is_some(), "{field}");
        }
    }
}
