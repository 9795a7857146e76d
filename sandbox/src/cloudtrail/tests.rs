//! Trails, selectors and delivery queuing, on plain state.

use serde_json::json;

use super::api::{DeliveryTargets, call};
use super::*;

const GROUP_ARN: &str = "arn:aws:logs:ap-southeast-2:111122223333:log-group:trail-logs:*";

fn group_exists(_: &str, name: &str) -> bool {
    name == "trail-logs"
}

/// Buckets `bucket` and `b` exist with CloudTrail's policy, `closed` without one.
fn bucket_policy(name: &str) -> Option<Option<String>> {
    let policy = |bucket: &str| {
        json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": ["s3:GetBucketAcl", "s3:PutObject"],
            "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]}]})
        .to_string()
    };
    match name {
        "bucket" | "b" => Some(Some(policy(name))),
        "closed" => Some(None),
        _ => None,
    }
}

fn targets() -> DeliveryTargets<'static> {
    DeliveryTargets { log_group_exists: &group_exists, bucket_policy: &bucket_policy }
}

fn logging_trail(state: &mut CloudTrailState) {
    let created = call(
        state,
        &CallContext::for_tests(0),
        "CreateTrail",
        &json!({
            "Name": "pattern1-logging-trail",
            "S3BucketName": "bucket",
            "CloudWatchLogsLogGroupArn": GROUP_ARN,
            "CloudWatchLogsRoleArn": "arn:aws:iam::111122223333:role/trail-to-logs",
        }),
        &targets(),
    )
    .expect("known");
    assert!(created.result.is_ok(), "{:?}", created.result);
    let started =
        call(state, &CallContext::for_tests(0), "StartLogging", &json!({"Name": "pattern1-logging-trail"}), &targets())
            .expect("known");
    assert!(started.result.is_ok());
}

fn record(source: &str, read_only: bool) -> Record {
    let json =
        json!({"eventSource": source, "readOnly": read_only, "eventCategory": "Management", "eventName": "Decrypt"});
    Record::parse(json.to_string()).expect("a record")
}

#[test]
fn logging_trails_queue_records_after_the_delay() {
    let mut state = CloudTrailState::default();
    logging_trail(&mut state);
    state.record(record("kms.amazonaws.com", true), "ap-southeast-2", 10, 10, 1_000, 0);
    assert_eq!(state.history.len(), 1);
    assert!(state.take_due(1_009).is_empty());
    let due = state.take_due(1_010);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].log_group_arn, GROUP_ARN);
    assert!(state.pending.is_empty());
    // Another region's calls are not this single-region trail's.
    state.record(record("kms.amazonaws.com", true), "us-east-1", 20, 20, 0, 0);
    assert!(state.take_due(20).is_empty());
}

#[test]
fn stopped_trails_deliver_nothing() {
    let mut state = CloudTrailState::default();
    logging_trail(&mut state);
    call(&mut state, &CallContext::for_tests(1), "StopLogging", &json!({"Name": "pattern1-logging-trail"}), &targets())
        .expect("known")
        .result
        .expect("stopped");
    state.record(record("kms.amazonaws.com", true), "ap-southeast-2", 1, 1, 0, 0);
    assert!(state.take_due(1).is_empty());
    assert_eq!(state.history.len(), 1, "event history records regardless of trails");
}

// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html
// (ReadWriteType, ExcludeManagementEventSources).
#[test]
fn basic_selectors_filter_read_write_and_sources() {
    let mut trail = Trail::default();
    assert!(trail.selects(&record("kms.amazonaws.com", true)));
    trail.event_selectors =
        Some(vec![EventSelector { read_write_type: "WriteOnly".into(), ..EventSelector::default() }]);
    assert!(!trail.selects(&record("kms.amazonaws.com", true)));
    assert!(trail.selects(&record("kms.amazonaws.com", false)));
    trail.event_selectors = Some(vec![EventSelector {
        exclude_management_event_sources: vec!["kms.amazonaws.com".into()],
        ..EventSelector::default()
    }]);
    assert!(!trail.selects(&record("kms.amazonaws.com", true)));
    assert!(trail.selects(&record("logs.amazonaws.com", true)));
}

// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html
#[test]
fn advanced_selectors_match_fields() {
    let trail = Trail {
        advanced_event_selectors: Some(vec![AdvancedEventSelector {
            name: Some("management, not kms".into()),
            field_selectors: vec![
                FieldSelector {
                    field: "eventCategory".into(),
                    equals: Some(vec!["Management".into()]),
                    starts_with: None,
                    ends_with: None,
                    not_equals: None,
                    not_starts_with: None,
                    not_ends_with: None,
                },
                FieldSelector {
                    field: "eventSource".into(),
                    equals: None,
                    starts_with: None,
                    ends_with: None,
                    not_equals: Some(vec!["kms.amazonaws.com".into()]),
                    not_starts_with: None,
                    not_ends_with: None,
                },
            ],
        }]),
        ..Trail::default()
    };
    assert!(!trail.selects(&record("kms.amazonaws.com", true)));
    assert!(trail.selects(&record("sts.amazonaws.com", true)));
}

// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html (errors)
#[test]
fn trail_errors() {
    let mut state = CloudTrailState::default();
    logging_trail(&mut state);
    let again = call(
        &mut state,
        &CallContext::for_tests(1),
        "CreateTrail",
        &json!({"Name": "pattern1-logging-trail", "S3BucketName": "b"}),
        &targets(),
    )
    .expect("known");
    assert_eq!(again.result.expect_err("exists").code, "TrailAlreadyExistsException");
    let bad_name = call(
        &mut state,
        &CallContext::for_tests(1),
        "CreateTrail",
        &json!({"Name": "-x", "S3BucketName": "b"}),
        &targets(),
    )
    .expect("known");
    assert_eq!(bad_name.result.expect_err("name").code, "InvalidTrailNameException");
    let no_group = call(
        &mut state,
        &CallContext::for_tests(1),
        "CreateTrail",
        &json!({"Name": "other", "S3BucketName": "b", "CloudWatchLogsLogGroupArn": "arn:aws:logs:ap-southeast-2:111122223333:log-group:missing:*", "CloudWatchLogsRoleArn": "arn:aws:iam::111122223333:role/r"}),
        &targets(),
    )
    .expect("known");
    assert_eq!(no_group.result.expect_err("no group").code, "InvalidCloudWatchLogsLogGroupArnException");
    let no_role = call(
        &mut state,
        &CallContext::for_tests(1),
        "CreateTrail",
        &json!({"Name": "other", "S3BucketName": "b", "CloudWatchLogsLogGroupArn": GROUP_ARN}),
        &targets(),
    )
    .expect("known");
    assert_eq!(no_role.result.expect_err("no role").code, "InvalidCloudWatchLogsRoleArnException");
    let missing = call(&mut state, &CallContext::for_tests(1), "GetTrailStatus", &json!({"Name": "nope"}), &targets())
        .expect("known");
    let error = missing.result.expect_err("missing");
    assert_eq!(error.code, "TrailNotFoundException");
    assert_eq!(
        error.message,
        "Unknown trail: arn:aws:cloudtrail:ap-southeast-2:111122223333:trail/nope for the user: 111122223333"
    );
    let both = call(
        &mut state,
        &CallContext::for_tests(1),
        "PutEventSelectors",
        &json!({"TrailName": "pattern1-logging-trail", "EventSelectors": [{}], "AdvancedEventSelectors": []}),
        &targets(),
    )
    .expect("known");
    assert_eq!(both.result.expect_err("both").code, "InvalidParameterCombinationException");
    let deleted = call(
        &mut state,
        &CallContext::for_tests(2),
        "DeleteTrail",
        &json!({"Name": "pattern1-logging-trail"}),
        &targets(),
    )
    .expect("known");
    assert!(deleted.result.is_ok() && deleted.mutated);
    assert!(state.trails.values().all(|t| t.is_empty()));
}

#[test]
fn lookup_events_filters_newest_first() {
    let mut state = CloudTrailState::default();
    for (i, name) in ["Encrypt", "Decrypt", "Decrypt"].iter().enumerate() {
        let json = json!({"eventName": name, "eventID": format!("e{i}"), "eventSource": "kms.amazonaws.com", "eventTime": "2026-11-26T00:00:00Z", "readOnly": true, "userIdentity": {"type": "IAMUser", "userName": "u"}});
        state.history.push_back(Record::parse(json.to_string()).expect("a record"));
    }
    let found = call(
        &mut state,
        &CallContext::for_tests(0),
        "LookupEvents",
        &json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "Decrypt"}], "MaxResults": 1}),
        &targets(),
    )
    .expect("known");
    let text = format!("{:?}", found.result.expect("found"));
    assert!(text.contains("\"e2\"") && !text.contains("\"e1\"") && text.contains("NextToken"), "{text}");
}

#[test]
fn log_group_arns_parse() {
    assert_eq!(parse_log_group_arn(GROUP_ARN), Some(("ap-southeast-2".into(), "trail-logs".into())));
    assert_eq!(
        parse_log_group_arn("arn:aws:logs:us-east-1:111122223333:log-group:/a/b"),
        Some(("us-east-1".into(), "/a/b".into()))
    );
    assert_eq!(parse_log_group_arn("arn:aws:s3:::bucket"), None);
}

// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html
// (S3BucketDoesNotExistException, InsufficientS3BucketPolicyException)
#[test]
fn trails_need_an_existing_bucket_that_lets_cloudtrail_write() {
    let mut state = CloudTrailState::default();
    let created = call(
        &mut state,
        &CallContext::for_tests(1),
        "CreateTrail",
        &json!({"Name": "t1", "S3BucketName": "no-such-bucket"}),
        &targets(),
    )
    .expect("known");
    assert_eq!(created.result.expect_err("no bucket").code, "S3BucketDoesNotExistException");
    let closed = call(
        &mut state,
        &CallContext::for_tests(1),
        "CreateTrail",
        &json!({"Name": "t1", "S3BucketName": "closed"}),
        &targets(),
    )
    .expect("known");
    let error = closed.result.expect_err("no policy");
    assert_eq!(error.code, "InsufficientS3BucketPolicyException");
    assert_eq!(error.message, "Incorrect S3 bucket policy is detected for bucket: closed");
    logging_trail(&mut state);
    let updated = call(
        &mut state,
        &CallContext::for_tests(1),
        "UpdateTrail",
        &json!({"Name": "pattern1-logging-trail", "S3BucketName": "no-such-bucket"}),
        &targets(),
    )
    .expect("known");
    assert_eq!(updated.result.expect_err("no bucket").code, "S3BucketDoesNotExistException");
}

// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html (log file name format)
#[test]
fn records_are_batched_into_one_log_file_per_trail_and_region() {
    let mut state = CloudTrailState::default();
    logging_trail(&mut state);
    if let Some(trail) = state.trails.get_mut("ap-southeast-2").and_then(|t| t.get_mut("pattern1-logging-trail")) {
        trail.s3_key_prefix = Some("lab".into());
    }
    // The second record joins the file the first one opened (due at 10 + 1000).
    state.record(record("kms.amazonaws.com", false), "ap-southeast-2", 10, 10, 100, 1_000);
    state.record(record("kms.amazonaws.com", true), "ap-southeast-2", 20, 20, 100, 1_000);
    assert!(state.take_due_log_files(1_009).is_empty());
    assert_eq!(state.next_due(), Some(110));
    // 2026-11-27T03:05:00Z
    let now = 1_795_748_700_000;
    let files = state.take_due_log_files(now);
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(file.bucket, "bucket");
    assert_eq!(file.records.len(), 2);
    let key = log_file_key(file, now, "0123456789abcdef");
    assert_eq!(
        key,
        "lab/AWSLogs/111122223333/CloudTrail/ap-southeast-2/2026/11/27/111122223333_CloudTrail_ap-southeast-2_20261127T0305Z_0123456789abcdef.json.gz"
    );
    let gz = log_file_body(file).expect("gzip");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut text).expect("gunzip");
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(parsed["Records"].as_array().map(Vec::len), Some(2));
}
