//! CloudTrail through the official Rust SDK: trails, selectors and what
//! reaches the log group.

mod support;

use std::time::Duration;

use aws_sdk_cloudtrail::types::EventSelector;

const GROUP: &str = "trail-logs";

async fn setup()
-> (keywatch_sandbox::RunningSandbox, aws_sdk_cloudtrail::Client, aws_sdk_cloudwatchlogs::Client, aws_sdk_kms::Client) {
    let (_sandbox, running) = support::start_sandbox_with(support::quick_config()).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    logs.create_log_group().log_group_name(GROUP).send().await.expect("CreateLogGroup");
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&sdk);
    support::create_trail_bucket(&sdk, "bucket").await;
    cloudtrail
        .create_trail()
        .name("trail1")
        .s3_bucket_name("bucket")
        .cloud_watch_logs_log_group_arn(format!("arn:aws:logs:ap-southeast-2:111122223333:log-group:{GROUP}:*"))
        .cloud_watch_logs_role_arn("arn:aws:iam::111122223333:role/trail")
        .send()
        .await
        .expect("CreateTrail");
    (running, cloudtrail, logs, aws_sdk_kms::Client::new(&sdk))
}

async fn delivered(logs: &aws_sdk_cloudwatchlogs::Client, event_source: &str) -> usize {
    tokio::time::sleep(Duration::from_millis(400)).await;
    let pattern = format!("{{ $.eventSource = \"{event_source}\" }}");
    logs.filter_log_events()
        .log_group_name(GROUP)
        .filter_pattern(pattern)
        .send()
        .await
        .expect("FilterLogEvents")
        .events()
        .len()
}

// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html: a new
// trail does not log until StartLogging; API_GetEventSelectors.html: the default selector.
#[tokio::test]
async fn trails_deliver_only_while_logging() {
    let (_running, cloudtrail, logs, kms) = setup().await;
    let trails = cloudtrail.describe_trails().send().await.expect("DescribeTrails");
    assert_eq!(trails.trail_list()[0].home_region(), Some("ap-southeast-2"));
    let selectors = cloudtrail.get_event_selectors().trail_name("trail1").send().await.expect("GetEventSelectors");
    assert_eq!(selectors.event_selectors()[0].include_management_events(), Some(true));

    kms.list_keys().send().await.expect("ListKeys");
    assert_eq!(delivered(&logs, "kms.amazonaws.com").await, 0, "not logging yet");
    cloudtrail.start_logging().name("trail1").send().await.expect("StartLogging");
    kms.list_keys().send().await.expect("ListKeys");
    assert_eq!(delivered(&logs, "kms.amazonaws.com").await, 1);
    cloudtrail.stop_logging().name("trail1").send().await.expect("StopLogging");
    kms.list_keys().send().await.expect("ListKeys");
    assert_eq!(delivered(&logs, "kms.amazonaws.com").await, 1);

    let missing = cloudtrail.get_trail_status().name("nope").send().await.expect_err("missing");
    assert!(missing.into_service_error().is_trail_not_found_exception());
    cloudtrail.delete_trail().name("trail1").send().await.expect("DeleteTrail");
    assert!(cloudtrail.describe_trails().send().await.expect("DescribeTrails").trail_list().is_empty());
}

// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html
// (ReadWriteType; ExcludeManagementEventSources).
#[tokio::test]
async fn selectors_are_honoured() {
    let (_running, cloudtrail, logs, kms) = setup().await;
    cloudtrail.start_logging().name("trail1").send().await.expect("StartLogging");
    cloudtrail
        .put_event_selectors()
        .trail_name("trail1")
        .event_selectors(EventSelector::builder().exclude_management_event_sources("kms.amazonaws.com").build())
        .send()
        .await
        .expect("PutEventSelectors");
    kms.list_keys().send().await.expect("ListKeys");
    assert_eq!(delivered(&logs, "kms.amazonaws.com").await, 0, "KMS excluded");

    cloudtrail
        .put_event_selectors()
        .trail_name("trail1")
        .event_selectors(
            EventSelector::builder().read_write_type(aws_sdk_cloudtrail::types::ReadWriteType::WriteOnly).build(),
        )
        .send()
        .await
        .expect("PutEventSelectors");
    kms.list_keys().send().await.expect("ListKeys (read)");
    kms.create_key().send().await.expect("CreateKey (write)");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let found = logs
        .filter_log_events()
        .log_group_name(GROUP)
        .filter_pattern("{ $.eventSource = \"kms.amazonaws.com\" }")
        .send()
        .await
        .expect("FilterLogEvents");
    let names: Vec<String> = found
        .events()
        .iter()
        .filter_map(|e| serde_json::from_str::<serde_json::Value>(e.message().unwrap_or_default()).ok())
        .map(|record| record["eventName"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, vec!["CreateKey"]);
}

// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
// (gzip JSON log files under AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/)
#[tokio::test]
async fn log_files_reach_the_trails_bucket() {
    let (_running, cloudtrail, _logs, kms) = setup().await;
    let sdk = support::sdk_config(&_running.endpoint_url, "ap-southeast-2");
    let s3 = support::s3_client(&sdk);
    cloudtrail.update_trail().name("trail1").s3_key_prefix("lab").send().await.expect("UpdateTrail");
    cloudtrail.start_logging().name("trail1").send().await.expect("StartLogging");
    let key =
        kms.create_key().send().await.expect("CreateKey").key_metadata().map(|m| m.key_id().to_owned()).expect("id");
    tokio::time::sleep(Duration::from_millis(400)).await;

    let listed = s3
        .list_objects_v2()
        .bucket("bucket")
        .prefix("lab/AWSLogs/111122223333/CloudTrail/ap-southeast-2/")
        .send()
        .await
        .expect("List");
    assert!(!listed.contents().is_empty(), "no log file delivered");
    let mut found = false;
    for object in listed.contents() {
        let name = object.key().expect("key");
        assert!(name.contains("/111122223333_CloudTrail_ap-southeast-2_") && name.ends_with(".json.gz"), "{name}");
        let body = s3
            .get_object()
            .bucket("bucket")
            .key(name)
            .send()
            .await
            .expect("GetObject")
            .body
            .collect()
            .await
            .expect("body");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(body.into_bytes().as_ref()), &mut text)
            .expect("gunzip");
        let file: serde_json::Value = serde_json::from_str(&text).expect("json");
        found |= file["Records"].as_array().expect("Records").iter().any(|record| {
            record["eventName"] == "CreateKey" && record["responseElements"]["keyMetadata"]["keyId"] == key.as_str()
        });
    }
    assert!(found, "the CreateKey record is in a log file");
    let status = cloudtrail.get_trail_status().name("trail1").send().await.expect("GetTrailStatus");
    assert!(status.latest_delivery_time().is_some());

    let missing =
        cloudtrail.update_trail().name("trail1").s3_bucket_name("no-such-bucket").send().await.expect_err("no bucket");
    assert!(missing.into_service_error().is_s3_bucket_does_not_exist_exception());
}
