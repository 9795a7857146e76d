//! The state directory's store: a directory the previous release wrote
//! (every part a JSON file, history inline) is imported on first start; the
//! growing data then lives in `sandbox.db`, never in the catalog files, and
//! survives restarts without being imported twice.

mod support;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use keywatch_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

async fn start(dir: &std::path::Path) -> (Sandbox, keywatch_sandbox::RunningSandbox) {
    let config = SandboxConfig { state_dir: Some(dir.to_owned()), ..SandboxConfig::default() };
    support::start_sandbox_with(config).await
}

fn iso(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(ms / 1000).expect("time");
    at.format(&time::format_description::well_known::Rfc3339).expect("format")
}

/// A state directory as the release before the store wrote it.
fn write_previous_release(dir: &std::path::Path, now: i64) {
    let record = |id: &str| {
        json!({"eventVersion": "1.11", "eventTime": iso(now - 60_000), "eventSource": "kms.amazonaws.com",
               "eventName": "CreateKey", "eventID": id, "readOnly": false, "awsRegion": "ap-southeast-2",
               "userIdentity": {"type": "IAMUser", "userName": "sandbox-admin",
                                "arn": "arn:aws:iam::111122223333:user/sandbox-admin"}})
    };
    let cloudtrail = json!({"trails": {}, "history": [record("imported-1"), record("imported-2")], "pending": []});
    let event = |id: u64, message: &str| {
        json!({"timestamp": now - 30_000, "message": message, "ingestion_time": now - 29_000,
               "event_id": format!("{id:020}")})
    };
    let logs = json!({"regions": {"ap-southeast-2": {"old-group": {
        "name": "old-group", "creation_time": now - 100_000, "retention_in_days": null,
        "streams": {"s": {"name": "s", "creation_time": now - 100_000,
                          "events": [event(1, "first line"), event(2, "second line")],
                          "last_ingestion_time": now - 29_000}},
        "metric_filters": {}}}}, "next_event_id": 2});
    let metrics = json!({"datapoints": [{"namespace": "Lab", "metric_name": "Calls", "dimensions": [],
                                         "timestamp": now - 10_000, "value": 3.0, "unit": "Count"}]});
    let s3 = json!({"buckets": {"old-bucket": {"name": "old-bucket", "region": "ap-southeast-2",
        "owner_account": "111122223333", "created_ms": now - 100_000, "policy": null,
        "objects": {"k": {"key": "k", "body": "a2VwdA==", "etag": "\"0a2b7b1a3e2b2c8b\"",
                          "last_modified_ms": now - 50_000, "content_type": "text/plain"}}}}});
    for (file, value) in
        [("cloudtrail.json", cloudtrail), ("logs.json", logs), ("metrics.json", metrics), ("s3.json", s3)]
    {
        std::fs::write(dir.join(file), serde_json::to_vec(&value).expect("json")).expect("written");
    }
}

async fn lookup(sdk: &aws_config::SdkConfig, event_id: &str) -> usize {
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventId)
        .attribute_value(event_id)
        .build()
        .expect("attribute");
    let found = aws_sdk_cloudtrail::Client::new(sdk)
        .lookup_events()
        .lookup_attributes(attribute)
        .send()
        .await
        .expect("LookupEvents");
    found.events().len()
}

async fn messages(sdk: &aws_config::SdkConfig) -> Vec<String> {
    let events = aws_sdk_cloudwatchlogs::Client::new(sdk)
        .get_log_events()
        .log_group_name("old-group")
        .log_stream_name("s")
        .start_from_head(true)
        .send()
        .await
        .expect("GetLogEvents");
    events.events().iter().filter_map(|event| event.message().map(str::to_owned)).collect()
}

#[tokio::test]
async fn a_previous_release_directory_is_imported_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = keywatch_sandbox::clock::now_ms();
    write_previous_release(dir.path(), now);

    let (sandbox, running) = start(dir.path()).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    assert_eq!(lookup(&sdk, "imported-1").await, 1);
    assert_eq!(messages(&sdk).await, ["first line", "second line"]);
    let object = support::s3_client(&sdk).get_object().bucket("old-bucket").key("k").send().await.expect("GetObject");
    assert_eq!(object.body.collect().await.expect("body").into_bytes().as_ref(), b"kept");
    let points = sandbox.read_state(|state| state.metrics.all().len());
    assert_eq!(points, 1);
    // New events get ids after the imported ones.
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
        .timestamp(keywatch_sandbox::clock::now_ms())
        .message("third line")
        .build()
        .expect("event");
    logs.put_log_events().log_group_name("old-group").log_stream_name("s").log_events(event).send().await.expect("Put");

    // The growing data moved into the database: the catalog files no
    // longer hold it, and metrics.json is gone.
    assert!(dir.path().join("sandbox.db").exists());
    let logs_file = std::fs::read_to_string(dir.path().join("logs.json")).expect("logs.json");
    assert!(logs_file.contains("old-group") && !logs_file.contains("first line"), "{logs_file}");
    let trail_file = std::fs::read_to_string(dir.path().join("cloudtrail.json")).expect("cloudtrail.json");
    assert!(!trail_file.contains("imported-1"), "{trail_file}");
    let s3_file = std::fs::read_to_string(dir.path().join("s3.json")).expect("s3.json");
    assert!(s3_file.contains("old-bucket") && !s3_file.contains("a2VwdA=="), "{s3_file}");
    assert!(!dir.path().join("metrics.json").exists());
    drop(running);
    drop(sandbox);

    // Started again: everything once, nothing imported twice.
    let (sandbox, running) = start(dir.path()).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    assert_eq!(lookup(&sdk, "imported-2").await, 1);
    assert_eq!(messages(&sdk).await, ["first line", "second line", "third line"]);
    assert_eq!(sandbox.read_state(|state| state.metrics.all().len()), 1);
}

#[tokio::test]
async fn history_and_objects_survive_a_restart_outside_the_catalog_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sandbox, running) = start(dir.path()).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key = kms.create_key().send().await.expect("CreateKey");
    let key_id = key.key_metadata().map(|m| m.key_id().to_owned()).expect("id");
    let event_id = {
        let found = aws_sdk_cloudtrail::Client::new(&sdk).lookup_events().send().await.expect("LookupEvents");
        found
            .events()
            .iter()
            .find(|e| e.event_name() == Some("CreateKey"))
            .and_then(|e| e.event_id())
            .map(str::to_owned)
    }
    .expect("CreateKey recorded");
    support::create_bucket(&sdk, "bytes").await;
    let body = aws_sdk_s3::primitives::ByteStream::from_static(&[0, 159, 146, 150]);
    support::s3_client(&sdk).put_object().bucket("bytes").key("raw").body(body).send().await.expect("PutObject");
    drop(running);
    drop(sandbox);

    // No trail changed, so there may be no cloudtrail.json at all.
    let trail_file = std::fs::read_to_string(dir.path().join("cloudtrail.json")).unwrap_or_default();
    assert!(!trail_file.contains(&event_id), "{trail_file}");
    let (_sandbox, running) = start(dir.path()).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    assert_eq!(lookup(&sdk, &event_id).await, 1);
    let object = support::s3_client(&sdk).get_object().bucket("bytes").key("raw").send().await.expect("GetObject");
    assert_eq!(object.body.collect().await.expect("body").into_bytes().as_ref(), &[0, 159, 146, 150]);
    let described = aws_sdk_kms::Client::new(&sdk).describe_key().key_id(&key_id).send().await.expect("DescribeKey");
    assert_eq!(described.key_metadata().map(|m| m.key_id()), Some(key_id.as_str()));
}

// LookupEvents pages through the stored history, beyond the records kept
// in memory.
#[tokio::test]
async fn lookup_events_reads_the_stored_history_beyond_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sandbox, running) = start(dir.path()).await;
    let now = keywatch_sandbox::clock::now_ms();
    let extra = keywatch_sandbox::cloudtrail::EVENT_HISTORY_LIMIT + 200;
    sandbox.write_state(&[], |state| {
        for i in 0..extra {
            let record = json!({"eventVersion": "1.11", "eventTime": iso(now - 1000), "eventSource": "kms.amazonaws.com",
                                "eventName": "Encrypt", "eventID": format!("seeded-{i}"), "readOnly": true,
                                "userIdentity": {"type": "IAMUser", "userName": "sandbox-admin"}});
            let record = keywatch_sandbox::cloudtrail::record::Record::parse(record.to_string()).expect("a record");
            state.cloudtrail.record(record, "ap-southeast-2", now - 1000, now - 1000, 0, 0);
        }
    });
    assert_eq!(
        sandbox.read_state(|state| state.cloudtrail.history.len()),
        keywatch_sandbox::cloudtrail::EVENT_HISTORY_LIMIT
    );
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    // The oldest record is no longer in memory, but LookupEvents finds it.
    assert_eq!(lookup(&sdk, "seeded-0").await, 1);
    let client = aws_sdk_cloudtrail::Client::new(&sdk);
    let encrypts = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventName)
        .attribute_value("Encrypt")
        .build()
        .expect("attribute");
    let mut pages = client.lookup_events().lookup_attributes(encrypts).into_paginator().send();
    let mut seen = 0;
    while let Some(page) = pages.next().await {
        seen += page.expect("page").events().len();
    }
    assert_eq!(seen, extra);
}

// SQS messages are rows: sent, received and deleted one at a time, and
// still waiting (with their receive count) after a restart.
#[tokio::test]
async fn queue_messages_survive_a_restart_outside_sqs_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sandbox, running) = start(dir.path()).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs.create_queue().queue_name("kept").send().await.expect("CreateQueue").queue_url.expect("url");
    for body in ["one", "two", "three"] {
        sqs.send_message().queue_url(&url).message_body(body).send().await.expect("SendMessage");
    }
    let received = sqs.receive_message().queue_url(&url).visibility_timeout(0).send().await.expect("Receive");
    let first = received.messages().first().expect("a message");
    assert_eq!(first.body(), Some("one"));
    let second = sqs.receive_message().queue_url(&url).send().await.expect("Receive");
    let handle = second.messages().first().and_then(|m| m.receipt_handle()).expect("handle").to_owned();
    sqs.delete_message().queue_url(&url).receipt_handle(handle).send().await.expect("DeleteMessage");
    drop(running);
    drop(sandbox);

    let queue_file = std::fs::read_to_string(dir.path().join("sqs.json")).expect("sqs.json");
    assert!(queue_file.contains("kept") && !queue_file.contains("three"), "{queue_file}");
    let (sandbox, _running) = start(dir.path()).await;
    let left: Vec<(String, u32)> = sandbox.read_state(|state| {
        state.sqs.messages("ap-southeast-2", "kept").iter().map(|m| (m.body.clone(), m.receive_count)).collect()
    });
    assert_eq!(left, [("two".to_owned(), 0), ("three".to_owned(), 0)]);
}

// SNS's outbox is rows too: the confirmation email is there after a restart.
#[tokio::test]
async fn the_sns_outbox_survives_a_restart_outside_sns_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sandbox, running) = start(dir.path()).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = sns.create_topic().name("kept").send().await.expect("CreateTopic").topic_arn.expect("arn");
    sns.subscribe().topic_arn(&topic).protocol("email").endpoint("ops@example.com").send().await.expect("Subscribe");
    let sent = sandbox.read_state(|state| state.sns.outbox.len());
    assert_eq!(sent, 1);
    drop(running);
    drop(sandbox);

    let topic_file = std::fs::read_to_string(dir.path().join("sns.json")).expect("sns.json");
    assert!(topic_file.contains("kept") && !topic_file.contains("ops@example.com\",\"subject"), "{topic_file}");
    let (sandbox, _running) = start(dir.path()).await;
    let kept: Vec<String> = sandbox.read_state(|state| state.sns.outbox.iter().map(|email| email.to.clone()).collect());
    assert_eq!(kept, ["ops@example.com"]);
}

// A full disk (here the database's size limit, which fails commits with the
// same SQLITE_FULL a full disk gives): writes answer the service's own
// server error, reads go on, and after a restart every batch that was
// answered 200 is there, whole, and no batch is there in part.
#[tokio::test]
async fn a_full_state_directory_fails_writes_with_the_services_error_and_keeps_reads() {
    use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata as _;
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    const BATCH: usize = 100;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SandboxConfig {
        state_dir: Some(dir.path().to_owned()),
        state_size_limit: Some(2 * 1024 * 1024),
        ..SandboxConfig::default()
    };
    let (sandbox, running) = support::start_sandbox_with(config).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    logs.create_log_group().log_group_name("full").send().await.expect("CreateLogGroup");
    logs.create_log_stream().log_group_name("full").log_stream_name("s").send().await.expect("CreateLogStream");
    let now = keywatch_sandbox::clock::now_ms();
    let mut answered = 0;
    let mut failure = None;
    for batch in 0..200 {
        let events: Vec<InputLogEvent> = (0..BATCH)
            .map(|i| {
                InputLogEvent::builder()
                    .timestamp(now)
                    .message(format!("batch {batch} event {i} {}", "x".repeat(1000)))
                    .build()
                    .expect("event")
            })
            .collect();
        match logs
            .put_log_events()
            .log_group_name("full")
            .log_stream_name("s")
            .set_log_events(Some(events))
            .send()
            .await
        {
            Ok(_) => answered += 1,
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let failure = failure.expect("the database filled up");
    // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html
    assert_eq!(failure.code(), Some("ServiceUnavailableException"), "{failure:?}");
    assert!(answered > 0, "no batch fitted");

    // Reads keep answering.
    let groups = logs.describe_log_groups().send().await.expect("DescribeLogGroups while full");
    assert_eq!(groups.log_groups().len(), 1);
    let kms = aws_sdk_kms::Client::new(&sdk);
    kms.list_keys().send().await.expect("ListKeys while full");
    drop(running);
    drop(sandbox);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let (_sandbox, running) = start(dir.path()).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let mut stored = 0;
    let mut token: Option<String> = None;
    loop {
        let page = logs
            .filter_log_events()
            .log_group_name("full")
            .set_next_token(token.take())
            .send()
            .await
            .expect("FilterLogEvents");
        stored += page.events().len();
        match page.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert!(stored >= answered * BATCH, "{stored} events stored, {answered} batches answered");
    assert_eq!(stored % BATCH, 0, "a batch was stored in part: {stored} events");
}

// Records waiting for delivery when the sandbox stops are delivered after
// it starts again, whole: the queue stores each record's text once (in its
// event row) and reads it back from there.
#[tokio::test]
async fn records_queued_for_delivery_survive_a_restart_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SandboxConfig {
        state_dir: Some(dir.path().to_owned()),
        cloudtrail_delivery_delay: std::time::Duration::from_secs(2),
        ..SandboxConfig::default()
    };
    let (sandbox, running) = support::start_sandbox_with(config.clone()).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    logs.create_log_group().log_group_name("trail-group").send().await.expect("CreateLogGroup");
    support::create_trail_bucket(&sdk, "trail-bucket").await;
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&sdk);
    cloudtrail
        .create_trail()
        .name("restart-trail")
        .s3_bucket_name("trail-bucket")
        .cloud_watch_logs_log_group_arn("arn:aws:logs:ap-southeast-2:111122223333:log-group:trail-group:*")
        .cloud_watch_logs_role_arn("arn:aws:iam::111122223333:role/CloudTrailToLogs")
        .send()
        .await
        .expect("CreateTrail");
    cloudtrail.start_logging().name("restart-trail").send().await.expect("StartLogging");
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key = kms.create_key().description("queued across a restart").send().await.expect("CreateKey");
    let key_id = key.key_metadata().map(|m| m.key_id().to_owned()).expect("id");
    // Stopped well before the 2 s delivery delay.
    drop(running);
    drop(sandbox);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let queued: i64 = rusqlite::Connection::open(dir.path().join("sandbox.db"))
        .and_then(|db| {
            db.query_row(
                "SELECT COUNT(*) FROM cloudtrail_queue WHERE event_seq IS NOT NULL AND body NOT LIKE '%CreateKey%'",
                [],
                |row| row.get(0),
            )
        })
        .expect("queue rows");
    assert!(queued >= 2, "the delivery and the log-file row name the event row ({queued})");

    let (_sandbox, running) = support::start_sandbox_with(config).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let mut delivered = None;
    for _ in 0..60 {
        let found = logs.filter_log_events().log_group_name("trail-group").send().await.expect("FilterLogEvents");
        delivered = found
            .events()
            .iter()
            .filter_map(|event| event.message())
            .find(|message| message.contains("\"CreateKey\"") && message.contains(&key_id))
            .map(str::to_owned);
        if delivered.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let delivered = delivered.expect("the CreateKey record delivered after the restart");
    let record: serde_json::Value = serde_json::from_str(&delivered).expect("a whole JSON record");
    assert_eq!(record["eventName"], "CreateKey");
    assert_eq!(record["requestParameters"]["description"], "queued across a restart");
}
