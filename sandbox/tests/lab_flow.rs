//! The first half of the lab's loop, through the official Rust SDK only:
//! a role session makes KMS calls, CloudTrail records them, the trail
//! delivers the records to a log group, and the lab's metric filter turns
//! the failures into datapoints in the sandbox's metric store.
//!
//! The loop is the lab's (/work/shared/docs/lab.md, stack 3 and section 4);
//! the delivered stream name `<account>_CloudTrail_<region>` is from
//! <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html>.

mod support;

use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_cloudtrail::types::{EventSelector, LookupAttribute, LookupAttributeKey, ReadWriteType};
use aws_sdk_kms::primitives::Blob;
use keywatch_sandbox::metrics::MetricId;

const REGION: &str = "ap-southeast-2";
const TASK_ROLE: &str = "arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole";
const LOG_GROUP: &str = "pattern1-logging-loggroup";

#[tokio::test]
async fn kms_failures_of_the_task_role_become_metric_datapoints() {
    let (sandbox, running) = support::start_sandbox_with(support::quick_config()).await;
    let admin = support::sdk_config(&running.endpoint_url, REGION);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&admin);
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&admin);
    let sts = aws_sdk_sts::Client::new(&admin);
    let admin_kms = aws_sdk_kms::Client::new(&admin);

    // Stack 3: log group (7 days), trail delivering to it, the lab's filter.
    logs.create_log_group().log_group_name(LOG_GROUP).send().await.expect("CreateLogGroup");
    logs.put_retention_policy()
        .log_group_name(LOG_GROUP)
        .retention_in_days(7)
        .send()
        .await
        .expect("PutRetentionPolicy");
    support::create_trail_bucket(&admin, "pattern1-logging-bucket").await;
    cloudtrail
        .create_trail()
        .name("pattern1-logging-trail")
        .s3_bucket_name("pattern1-logging-bucket")
        .enable_log_file_validation(true)
        .cloud_watch_logs_log_group_arn(format!("arn:aws:logs:{REGION}:111122223333:log-group:{LOG_GROUP}:*"))
        .cloud_watch_logs_role_arn("arn:aws:iam::111122223333:role/pattern1-logging-CloudTrailToLogs")
        .send()
        .await
        .expect("CreateTrail");
    cloudtrail
        .put_event_selectors()
        .trail_name("pattern1-logging-trail")
        .event_selectors(
            EventSelector::builder().read_write_type(ReadWriteType::All).include_management_events(true).build(),
        )
        .send()
        .await
        .expect("PutEventSelectors");
    cloudtrail.start_logging().name("pattern1-logging-trail").send().await.expect("StartLogging");
    let pattern = format!(
        "{{ $.errorCode = \"*\" && $.eventSource= \"kms.amazonaws.com\" && $.userIdentity.sessionContext.sessionIssuer.arn = \"{TASK_ROLE}\" }}"
    );
    support::put_lab_metric_filter(&admin, LOG_GROUP, &pattern).await;

    // The application's key, and the task role's session.
    let key = admin_kms.create_key().description("pattern1 app key").send().await.expect("CreateKey");
    let key_id = key.key_metadata().map(|m| m.key_id().to_owned()).expect("key id");
    let other_key = admin_kms
        .create_key()
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .map(|m| m.key_id().to_owned())
        .expect("id");
    let assumed = sts.assume_role().role_arn(TASK_ROLE).role_session_name("ecs-task").send().await.expect("AssumeRole");
    let credentials = assumed.credentials().expect("credentials");
    assert!(credentials.access_key_id().starts_with("ASIA"));
    let task = support::sdk_config_with(
        &running.endpoint_url,
        REGION,
        Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            None,
            "assumed",
        ),
    );
    let identity = aws_sdk_sts::Client::new(&task).get_caller_identity().send().await.expect("GetCallerIdentity");
    assert_eq!(
        identity.arn(),
        Some("arn:aws:sts::111122223333:assumed-role/pattern1-app-Pattern1ECSTaskRole/ecs-task")
    );
    let kms = aws_sdk_kms::Client::new(&task);

    // Section 4: encrypt, decrypt with the right key, then with wrong keys.
    let encrypted = kms.encrypt().key_id(&key_id).plaintext(Blob::new("my secret text")).send().await.expect("Encrypt");
    let blob = encrypted.ciphertext_blob().expect("ciphertext").clone();
    let decrypted = kms.decrypt().key_id(&key_id).ciphertext_blob(blob.clone()).send().await.expect("Decrypt");
    assert_eq!(decrypted.plaintext().map(|p| p.as_ref()), Some(&b"my secret text"[..]));
    let mut codes = Vec::new();
    for wrong in [
        "some-random-false-key",
        "some-random-false-key",
        "some-random-false-key",
        other_key.as_str(),
        other_key.as_str(),
    ] {
        let error = kms.decrypt().key_id(wrong).ciphertext_blob(blob.clone()).send().await.expect_err("wrong key");
        let error = error.into_service_error();
        codes.push(if error.is_not_found_exception() {
            "NotFoundException"
        } else if error.is_incorrect_key_exception() {
            "IncorrectKeyException"
        } else {
            panic!("unexpected {error:?}")
        });
    }
    assert_eq!(
        codes,
        [
            "NotFoundException",
            "NotFoundException",
            "NotFoundException",
            "IncorrectKeyException",
            "IncorrectKeyException"
        ]
    );

    // The failures arrive in the log group as CloudTrail records.
    let deadline = Instant::now() + Duration::from_secs(10);
    let failures = loop {
        let found = logs
            .filter_log_events()
            .log_group_name(LOG_GROUP)
            .filter_pattern(&pattern)
            .send()
            .await
            .expect("FilterLogEvents");
        if found.events().len() >= 5 || Instant::now() > deadline {
            break found.events().to_vec();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(failures.len(), 5);
    let stream_name = format!("111122223333_CloudTrail_{REGION}");
    for event in &failures {
        assert_eq!(event.log_stream_name(), Some(stream_name.as_str()));
        let record: serde_json::Value = serde_json::from_str(event.message().expect("message")).expect("a JSON record");
        assert_eq!(record["eventVersion"], "1.11");
        assert_eq!(record["eventSource"], "kms.amazonaws.com");
        assert_eq!(record["eventName"], "Decrypt");
        assert_eq!(record["userIdentity"]["type"], "AssumedRole");
        assert_eq!(record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"], TASK_ROLE);
        assert_eq!(record["requestParameters"]["encryptionAlgorithm"], "SYMMETRIC_DEFAULT");
        assert!(record["errorCode"].is_string() && record["errorMessage"].is_string());
        assert_eq!(record["readOnly"], true);
        assert!(!event.message().unwrap_or_default().contains("my secret text"));
    }
    // The successful calls were delivered too, just not matched.
    let all = logs
        .get_log_events()
        .log_group_name(LOG_GROUP)
        .log_stream_name(&stream_name)
        .start_from_head(true)
        .send()
        .await
        .expect("GetLogEvents");
    assert!(all.events().iter().any(|e| e.message().unwrap_or_default().contains("\"eventName\":\"Encrypt\"")));

    // Each failure is one datapoint of value 1 in the metric store.
    let metric = MetricId {
        namespace: "Pattern1Application/KMSSecurity".into(),
        metric_name: "KMSSecurityError".into(),
        dimensions: Vec::new(),
    };
    let values: Vec<f64> =
        sandbox.read_state(|state| state.metrics.query(&metric, 0, i64::MAX).iter().map(|p| p.value).collect());
    assert_eq!(values, vec![1.0; 5]);

    // And CloudTrail's event history has them.
    let history = cloudtrail
        .lookup_events()
        .lookup_attributes(
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::EventName)
                .attribute_value("Decrypt")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("LookupEvents");
    assert_eq!(history.events().len(), 6);
    assert_eq!(history.events()[0].username(), Some("ecs-task"));
    let status = cloudtrail.get_trail_status().name("pattern1-logging-trail").send().await.expect("GetTrailStatus");
    assert_eq!(status.is_logging(), Some(true));
    assert!(status.latest_cloud_watch_logs_delivery_time().is_some());
}
