//! CloudTrail records: the JSON document CloudTrail writes for one API call.
//!
//! Fields and their meaning: <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>
//! (eventVersion 1.11). Example records for KMS calls:
//! <https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html>.

use serde::Serialize;
use serde_json::Value as Json;

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

/// One call's record: the JSON text CloudTrail writes, and the fields
/// event selectors and lookups read, so that the text is serialized once
/// per call and never parsed again on the way to the store and the trails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub text: String,
    pub event_source: String,
    pub event_name: String,
    pub event_type: String,
    pub event_category: String,
    pub error_code: Option<String>,
    pub read_only: bool,
    /// `userIdentity.arn`.
    pub user_arn: String,
}

impl Record {
    /// A record from its JSON text (a stored or hand-written record).
    pub fn parse(text: String) -> Result<Record, serde_json::Error> {
        let json: Json = serde_json::from_str(&text)?;
        let field = |pointer: &str| json.pointer(pointer).and_then(Json::as_str).map(str::to_owned);
        Ok(Record {
            event_source: field("/eventSource").unwrap_or_default(),
            event_name: field("/eventName").unwrap_or_default(),
            event_type: field("/eventType").unwrap_or_default(),
            event_category: field("/eventCategory").unwrap_or_default(),
            error_code: field("/errorCode"),
            read_only: json.get("readOnly").and_then(Json::as_bool).unwrap_or(false),
            user_arn: field("/userIdentity/arn").unwrap_or_default(),
            text,
        })
    }

    /// The record as a JSON document.
    pub fn json(&self) -> Json {
        // Built by `build` or read by `parse`: always a JSON document.
        serde_json::from_str(&self.text).unwrap_or(Json::Null)
    }
}

/// A record kept as a JSON document (the event history of a state file
/// written by an earlier release).
impl<'de> serde::Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Record, D::Error> {
        let json = Json::deserialize(deserializer)?;
        Record::parse(json.to_string()).map_err(serde::de::Error::custom)
    }
}

/// The record document, in the order CloudTrail writes its fields
/// (record-contents.html; the ct-decrypt.html example).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    event_version: &'static str,
    user_identity: crate::identity::UserIdentity<'a>,
    event_time: String,
    event_source: &'a str,
    event_name: &'a str,
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
    user_agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    request_parameters: &'a Option<Json>,
    response_elements: &'a Option<Json>,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    read_only: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<Resource<'a>>,
    event_type: &'static str,
    management_event: bool,
    recipient_account_id: &'a str,
    event_category: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Resource<'a> {
    account_id: &'a str,
    #[serde(rename = "type")]
    resource_type: &'a str,
    #[serde(rename = "ARN")]
    arn: &'a str,
}

/// What every record of a management API call says it is.
const EVENT_TYPE: &str = "AwsApiCall";
const EVENT_CATEGORY: &str = "Management";

/// The `errorCode` a failed call is recorded with: the error's own code,
/// unless CloudTrail names it otherwise (an authorization failure).
fn recorded_code(error: &AwsError) -> &str {
    error.trail_code.unwrap_or(&error.code)
}

/// Builds the record of one management API call.
pub fn build(facts: &CallFacts<'_>) -> Record {
    let event_source = event_source(facts.service);
    let document = Document {
        event_version: EVENT_VERSION,
        user_identity: facts.caller.identity(),
        event_time: crate::clock::iso8601_seconds(facts.event_time),
        event_source: &event_source,
        event_name: facts.operation,
        aws_region: facts.region,
        source_ip_address: facts.source_ip,
        user_agent: facts.user_agent,
        error_code: facts.error.map(recorded_code),
        error_message: facts.error.map(|error| error.message.as_str()),
        request_parameters: &facts.audit.request_parameters,
        response_elements: &facts.audit.response_elements,
        request_id: facts.request_id,
        event_id: &facts.event_id,
        read_only: facts.audit.read_only,
        resources: facts
            .audit
            .resources
            .iter()
            .map(|resource| Resource {
                account_id: &facts.caller.account_id,
                resource_type: &resource.resource_type,
                arn: &resource.arn,
            })
            .collect(),
        event_type: EVENT_TYPE,
        management_event: true,
        recipient_account_id: &facts.caller.account_id,
        event_category: EVENT_CATEGORY,
    };
    Record {
        // Strings, numbers, booleans and JSON values only: serializing
        // cannot fail.
        text: serde_json::to_string(&document).unwrap_or_default(),
        event_name: facts.operation.to_owned(),
        event_type: EVENT_TYPE.to_owned(),
        event_category: EVENT_CATEGORY.to_owned(),
        error_code: facts.error.map(|error| recorded_code(error).to_owned()),
        read_only: facts.audit.read_only,
        user_arn: facts.caller.arn.clone(),
        event_source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::AuditResource;
    use serde_json::json;

    // CloudTrail records KMS's AccessDeniedException as errorCode
    // "AccessDenied" (records of denied kms:Decrypt and kms:GenerateDataKey
    // calls quoted in aws-samples/baseline-environment-on-aws#51 and
    // cloudposse/terraform-aws-cloudwatch-flow-logs#5).
    #[test]
    fn an_authorization_failure_is_recorded_as_access_denied() {
        let caller = Principal::default_user("aws", None);
        let error =
            AwsError::sender("AccessDeniedException", "User: x is not authorized").with_trail_code("AccessDenied");
        let audit = Audit::default();
        let built = build(&CallFacts {
            caller: &caller,
            region: "ap-southeast-2",
            event_time: 0,
            service: "kms",
            operation: "Decrypt",
            source_ip: "192.0.2.0",
            user_agent: "",
            request_id: "req",
            event_id: "evt".into(),
            audit: &audit,
            error: Some(&error),
        });
        assert_eq!(built.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(built.json()["errorCode"], "AccessDenied");
        assert_eq!(built.json()["errorMessage"], "User: x is not authorized");
    }

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
        let built = build(&CallFacts {
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
        let record = built.json();
        assert!(built.text.starts_with("{\"eventVersion\":\"1.11\",\"userIdentity\":"), "{}", built.text);
        assert_eq!(Record::parse(built.text.clone()).expect("parses"), built);
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
