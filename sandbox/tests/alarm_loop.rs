//! The second half of the lab's loop, through the official Rust SDK only:
//! the lab's metric filter and alarm, failed decrypts by the task role, the
//! alarm reaching ALARM, CloudWatch's message published to the topic and
//! delivered to an SQS queue and an email subscriber, and the history.
//!
//! Loop and alarm settings: /work/shared/docs/lab.md (stack 3, section 4).

mod support;

use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_cloudwatch::types::{ComparisonOperator, HistoryItemType, StateValue, Statistic};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_sqs::types::QueueAttributeName;

const REGION: &str = "ap-southeast-2";
const TASK_ROLE: &str = "arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole";
const LOG_GROUP: &str = "pattern1-logging-loggroup";
const ALARM: &str = "pattern1-logging-alarm";

#[tokio::test]
async fn failed_decrypts_raise_the_alarm_and_notify_the_topics_subscribers() {
    let (sandbox, running) = support::start_sandbox_with(support::quick_config()).await;
    let admin = support::sdk_config(&running.endpoint_url, REGION);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&admin);
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&admin);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&admin);
    let sns = aws_sdk_sns::Client::new(&admin);
    let sqs = aws_sdk_sqs::Client::new(&admin);

    // The trail delivering to the log group, and the lab's metric filter.
    logs.create_log_group().log_group_name(LOG_GROUP).send().await.expect("CreateLogGroup");
    support::create_trail_bucket(&admin, "pattern1-logging-bucket").await;
    cloudtrail
        .create_trail()
        .name("pattern1-logging-trail")
        .s3_bucket_name("pattern1-logging-bucket")
        .cloud_watch_logs_log_group_arn(format!("arn:aws:logs:{REGION}:111122223333:log-group:{LOG_GROUP}:*"))
        .cloud_watch_logs_role_arn("arn:aws:iam::111122223333:role/pattern1-logging-CloudTrailToLogs")
        .send()
        .await
        .expect("CreateTrail");
    cloudtrail.start_logging().name("pattern1-logging-trail").send().await.expect("StartLogging");
    let pattern = format!(
        "{{ $.errorCode = \"*\" && $.eventSource= \"kms.amazonaws.com\" && $.userIdentity.sessionContext.sessionIssuer.arn = \"{TASK_ROLE}\" }}"
    );
    support::put_lab_metric_filter(&admin, LOG_GROUP, &pattern).await;

    // The topic, an SQS queue subscribed to it, and an email subscriber.
    let topic_arn = sns
        .create_topic()
        .name("pattern1-logging-topic")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("topic arn");
    let queue_url =
        sqs.create_queue().queue_name("alarm-inbox").send().await.expect("CreateQueue").queue_url.expect("queue url");
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes");
    let queue_arn = attributes.attributes().and_then(|a| a.get(&QueueAttributeName::QueueArn)).expect("arn").clone();
    // The queue policy that lets the topic send, as AWS requires.
    // https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}}]
    });
    sqs.set_queue_attributes()
        .queue_url(&queue_url)
        .attributes(QueueAttributeName::Policy, policy.to_string())
        .send()
        .await
        .expect("SetQueueAttributes");
    let subscribed =
        sns.subscribe().topic_arn(&topic_arn).protocol("sqs").endpoint(&queue_arn).send().await.expect("Subscribe sqs");
    assert!(subscribed.subscription_arn().is_some_and(|arn| arn.starts_with(&topic_arn)));
    // Email subscriptions wait for confirmation.
    // https://docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html
    let email = sns
        .subscribe()
        .topic_arn(&topic_arn)
        .protocol("email")
        .endpoint("ops@example.com")
        .send()
        .await
        .expect("Subscribe email");
    assert_eq!(email.subscription_arn(), Some("pending confirmation"));
    let outbox: serde_json::Value = fetch_json(&format!("{}/_keywatch/sns/outbox", running.endpoint_url)).await;
    let confirmation = outbox["messages"][0]["body"].as_str().expect("confirmation email").to_owned();
    let link = confirmation.lines().find(|line| line.starts_with("http")).expect("a SubscribeURL").to_owned();
    // The link works unsigned, like AWS's.
    let confirmed = fetch_text(&link).await;
    assert!(confirmed.contains("<SubscriptionArn>arn:aws:sns:"), "{confirmed}");

    // An HTTP subscriber that confirms by fetching the SubscribeURL.
    // https://docs.aws.amazon.com/sns/latest/dg/sns-subscribe-https-s-endpoints-to-topic.html
    let (subscriber_url, received_posts) = start_http_subscriber().await;
    let http = sns
        .subscribe()
        .topic_arn(&topic_arn)
        .protocol("http")
        .endpoint(&subscriber_url)
        .send()
        .await
        .expect("Subscribe http");
    assert_eq!(http.subscription_arn(), Some("pending confirmation"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = sns.list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.expect("List");
        let confirmed = listed
            .subscriptions()
            .iter()
            .any(|s| s.protocol() == Some("http") && s.subscription_arn().is_some_and(|arn| arn.starts_with("arn:")));
        if confirmed {
            break;
        }
        assert!(Instant::now() < deadline, "the HTTP subscription was never confirmed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The lab's alarm: Sum > 1 over 10 s, 1 of 1, missing data ignored.
    cloudwatch
        .put_metric_alarm()
        .alarm_name(ALARM)
        .namespace("Pattern1Application/KMSSecurity")
        .metric_name("KMSSecurityError")
        .statistic(Statistic::Sum)
        .period(10)
        .evaluation_periods(1)
        .datapoints_to_alarm(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .treat_missing_data("ignore")
        .alarm_actions(&topic_arn)
        .send()
        .await
        .expect("PutMetricAlarm");
    let described = cloudwatch.describe_alarms().alarm_names(ALARM).send().await.expect("DescribeAlarms");
    assert_eq!(described.metric_alarms()[0].state_value(), Some(&StateValue::InsufficientData));

    // Failed decrypts by the task role's session.
    let sts = aws_sdk_sts::Client::new(&admin);
    let assumed = sts.assume_role().role_arn(TASK_ROLE).role_session_name("ecs-task").send().await.expect("AssumeRole");
    let c = assumed.credentials().expect("credentials");
    let task = support::sdk_config_with(
        &running.endpoint_url,
        REGION,
        Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_owned()), None, "t"),
    );
    let kms = aws_sdk_kms::Client::new(&task);
    for _ in 0..4 {
        kms.decrypt()
            .key_id("some-random-false-key")
            .ciphertext_blob(Blob::new(vec![1u8; 64]))
            .send()
            .await
            .expect_err("wrong key");
    }

    // The alarm reaches ALARM within a couple of evaluation periods.
    let deadline = Instant::now() + Duration::from_secs(35);
    loop {
        let alarms = cloudwatch.describe_alarms().alarm_names(ALARM).send().await.expect("DescribeAlarms");
        if alarms.metric_alarms()[0].state_value() == Some(&StateValue::Alarm) {
            break;
        }
        assert!(Instant::now() < deadline, "the alarm never fired");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // CloudWatch's message arrives in the queue inside SNS's envelope.
    // https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
    let received = sqs.receive_message().queue_url(&queue_url).wait_time_seconds(5).send().await.expect("Receive");
    let message = received.messages().first().expect("a message");
    let envelope: serde_json::Value = serde_json::from_str(message.body().expect("body")).expect("json envelope");
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], topic_arn.as_str());
    assert_eq!(envelope["Subject"], "ALARM: \"pattern1-logging-alarm\" in Asia Pacific (Sydney)");
    let alarm_message: serde_json::Value =
        serde_json::from_str(envelope["Message"].as_str().expect("message")).expect("alarm json");
    assert_eq!(alarm_message["AlarmName"], ALARM);
    assert_eq!(alarm_message["NewStateValue"], "ALARM");
    assert_eq!(alarm_message["OldStateValue"], "INSUFFICIENT_DATA");
    assert_eq!(alarm_message["AWSAccountId"], "111122223333");
    assert_eq!(alarm_message["Trigger"]["Period"], 10);
    sqs.delete_message()
        .queue_url(&queue_url)
        .receipt_handle(message.receipt_handle().expect("handle"))
        .send()
        .await
        .expect("DeleteMessage");

    // The confirmed email subscriber got it too.
    let outbox: serde_json::Value = fetch_json(&format!("{}/_keywatch/sns/outbox", running.endpoint_url)).await;
    let last = outbox["messages"].as_array().and_then(|m| m.last()).expect("an email").clone();
    assert_eq!(last["subject"], "ALARM: \"pattern1-logging-alarm\" in Asia Pacific (Sydney)");
    // As readable text in AWS's layout (keywatch_domain::alarm::email cites
    // the sample e-mails), not the JSON the queue got, with SNS's footer.
    let body = last["body"].as_str().expect("a body");
    assert!(serde_json::from_str::<serde_json::Value>(body).is_err(), "{body}");
    let intro = format!(
        "You are receiving this email because your Amazon CloudWatch Alarm \"{ALARM}\" in the Asia Pacific (Sydney) region has entered the ALARM state, because \"{}\" at \"",
        alarm_message["NewStateReason"].as_str().expect("reason")
    );
    assert!(body.starts_with(&intro), "{body}");
    let in_order = [
        "\n\nView this alarm in the AWS Management Console:\nhttps://ap-southeast-2.console.aws.amazon.com/cloudwatch/deeplink.js?region=ap-southeast-2#alarmsV2:alarm/pattern1-logging-alarm\n".to_owned(),
        "\nAlarm Details:\n- Name:                       pattern1-logging-alarm\n".to_owned(),
        "\n- State Change:               INSUFFICIENT_DATA -> ALARM\n".to_owned(),
        "\n- AWS Account:                111122223333\n".to_owned(),
        format!("\n- Alarm Arn:                  arn:aws:cloudwatch:{REGION}:111122223333:alarm:{ALARM}\n"),
        "\nThreshold:\n- The alarm is in the ALARM state when the metric is GreaterThanThreshold 1.0 for at least 1 of the last 1 period(s) of 10 seconds.\n".to_owned(),
        "\nMonitored Metric:\n- MetricNamespace:                     Pattern1Application/KMSSecurity\n".to_owned(),
        "\n- Statistic:                           Sum\n".to_owned(),
        "\n- TreatMissingData:                    ignore\n".to_owned(),
        format!("\nState Change Actions:\n- OK:\n- ALARM: [{topic_arn}]\n- INSUFFICIENT_DATA:\n"),
        "\n--\nIf you wish to stop receiving notifications from this topic".to_owned(),
    ];
    let mut rest = body;
    for part in &in_order {
        let at = rest.find(part.as_str()).unwrap_or_else(|| panic!("{part:?} missing or out of order in {body}"));
        // Keep a part's final newline: the next part may begin with it.
        rest = &rest[at + part.trim_end_matches('\n').len()..];
    }

    // The HTTP subscriber got it too, signed like every message it got.
    let deadline = Instant::now() + Duration::from_secs(10);
    let posts = loop {
        let posts = received_posts.lock().expect("posts").clone();
        if posts.iter().any(|(kind, _)| kind == "Notification") {
            break posts;
        }
        assert!(Instant::now() < deadline, "no notification reached the HTTP subscriber");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(posts[0].0, "SubscriptionConfirmation");
    for (_, body) in &posts {
        let message: serde_json::Value = serde_json::from_str(body).expect("json");
        verify_signature(&message).await;
    }
    let notification: serde_json::Value =
        serde_json::from_str(&posts.iter().find(|(kind, _)| kind == "Notification").expect("notification").1)
            .expect("json");
    assert_eq!(notification["Subject"], "ALARM: \"pattern1-logging-alarm\" in Asia Pacific (Sydney)");

    // History: created, the transition, and the action.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html
    let history = cloudwatch.describe_alarm_history().alarm_name(ALARM).send().await.expect("DescribeAlarmHistory");
    let kinds: Vec<_> = history.alarm_history_items().iter().filter_map(|i| i.history_item_type().cloned()).collect();
    assert!(kinds.contains(&HistoryItemType::ConfigurationUpdate));
    let summaries: Vec<&str> = history.alarm_history_items().iter().filter_map(|i| i.history_summary()).collect();
    assert!(summaries.contains(&"Alarm updated from INSUFFICIENT_DATA to ALARM"), "{summaries:?}");
    assert!(summaries.contains(&format!("Successfully executed action {topic_arn}").as_str()), "{summaries:?}");

    // CloudTrail recorded the alarm's creation as a CloudWatch management event.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/logging_cw_api_calls.html
    let recorded = cloudtrail
        .lookup_events()
        .lookup_attributes(
            aws_sdk_cloudtrail::types::LookupAttribute::builder()
                .attribute_key(aws_sdk_cloudtrail::types::LookupAttributeKey::EventName)
                .attribute_value("PutMetricAlarm")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("LookupEvents");
    assert_eq!(recorded.events().len(), 1);
    assert_eq!(recorded.events()[0].event_source(), Some("monitoring.amazonaws.com"));
    drop(sandbox);
}

#[tokio::test]
async fn metrics_put_over_cbor_read_back_and_alarm_state_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = keywatch_sandbox::SandboxConfig { state_dir: Some(dir.path().to_owned()), ..support::quick_config() };
    let (_, running) = support::start_sandbox_with(config.clone()).await;
    let admin = support::sdk_config(&running.endpoint_url, REGION);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&admin);
    let sqs = aws_sdk_sqs::Client::new(&admin);
    let now = aws_sdk_cloudwatch::primitives::DateTime::from_secs(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() as i64,
    );
    cloudwatch
        .put_metric_data()
        .namespace("Keywatch/Test")
        .metric_data(
            aws_sdk_cloudwatch::types::MetricDatum::builder().metric_name("Hits").value(3.0).timestamp(now).build(),
        )
        .send()
        .await
        .expect("PutMetricData");
    let listed = cloudwatch.list_metrics().namespace("Keywatch/Test").send().await.expect("ListMetrics");
    assert_eq!(listed.metrics().len(), 1);
    let start = aws_sdk_cloudwatch::primitives::DateTime::from_secs(now.secs() - 60);
    let end = aws_sdk_cloudwatch::primitives::DateTime::from_secs(now.secs() + 60);
    let stats = cloudwatch
        .get_metric_statistics()
        .namespace("Keywatch/Test")
        .metric_name("Hits")
        .start_time(start)
        .end_time(end)
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .expect("GetMetricStatistics");
    assert_eq!(stats.datapoints().iter().filter_map(|d| d.sum()).sum::<f64>(), 3.0);
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
    let query = aws_sdk_cloudwatch::types::MetricDataQuery::builder()
        .id("hits")
        .metric_stat(
            aws_sdk_cloudwatch::types::MetricStat::builder()
                .metric(
                    aws_sdk_cloudwatch::types::Metric::builder().namespace("Keywatch/Test").metric_name("Hits").build(),
                )
                .period(60)
                .stat("Maximum")
                .build(),
        )
        .build();
    let data = cloudwatch
        .get_metric_data()
        .metric_data_queries(query)
        .start_time(start)
        .end_time(end)
        .send()
        .await
        .expect("GetMetricData");
    assert_eq!(data.metric_data_results()[0].values(), [3.0]);
    cloudwatch
        .put_metric_alarm()
        .alarm_name("hits")
        .namespace("Keywatch/Test")
        // A metric without data, missing data ignored: evaluations keep
        // whatever state SetAlarmState gives it.
        .metric_name("Quiet")
        .treat_missing_data("ignore")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(100.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .expect("PutMetricAlarm");
    // An invalid period is refused with the documented constraint.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    let refused = cloudwatch
        .put_metric_alarm()
        .alarm_name("bad")
        .namespace("Keywatch/Test")
        .metric_name("Hits")
        .statistic(Statistic::Sum)
        .period(15)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await;
    assert!(refused.is_err());
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_TagResource.html
    let alarm_arn = "arn:aws:cloudwatch:ap-southeast-2:111122223333:alarm:hits";
    cloudwatch
        .tag_resource()
        .resource_arn(alarm_arn)
        .tags(aws_sdk_cloudwatch::types::Tag::builder().key("lab").value("pattern1").build())
        .send()
        .await
        .expect("TagResource");
    let tags = cloudwatch.list_tags_for_resource().resource_arn(alarm_arn).send().await.expect("ListTags");
    assert_eq!(tags.tags().iter().map(|t| (t.key(), t.value())).collect::<Vec<_>>(), [(Some("lab"), Some("pattern1"))]);
    cloudwatch
        .set_alarm_state()
        .alarm_name("hits")
        .state_value(StateValue::Alarm)
        .state_reason("testing")
        .send()
        .await
        .expect("SetAlarmState");
    let queue_url = sqs.create_queue().queue_name("kept").send().await.expect("CreateQueue").queue_url.expect("url");
    sqs.send_message().queue_url(&queue_url).message_body("still here").send().await.expect("SendMessage");
    drop(running);

    let (_, running) = support::start_sandbox_with(config).await;
    let admin = support::sdk_config(&running.endpoint_url, REGION);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&admin);
    let sqs = aws_sdk_sqs::Client::new(&admin);
    let alarms = cloudwatch.describe_alarms().alarm_names("hits").send().await.expect("DescribeAlarms");
    assert_eq!(alarms.metric_alarms()[0].state_value(), Some(&StateValue::Alarm));
    assert_eq!(alarms.metric_alarms()[0].state_reason(), Some("testing"));
    let queue_url = sqs.get_queue_url().queue_name("kept").send().await.expect("GetQueueUrl").queue_url.expect("url");
    let received = sqs.receive_message().queue_url(&queue_url).send().await.expect("ReceiveMessage");
    assert_eq!(received.messages().first().and_then(|m| m.body()), Some("still here"));
}

#[tokio::test]
async fn receives_long_poll_and_disabled_actions_publish_nothing() {
    let running = support::start_sandbox().await;
    let admin = support::sdk_config(&running.endpoint_url, REGION);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&admin);
    let sns = aws_sdk_sns::Client::new(&admin);
    let sqs = aws_sdk_sqs::Client::new(&admin);
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueUrl.html
    let missing = sqs.get_queue_url().queue_name("nope").send().await.expect_err("no such queue");
    assert!(missing.into_service_error().is_queue_does_not_exist());
    let queue_url = sqs.create_queue().queue_name("q").send().await.expect("CreateQueue").queue_url.expect("url");
    let queue_arn = "arn:aws:sqs:ap-southeast-2:111122223333:q";
    let topic_arn = sns.create_topic().name("t").send().await.expect("CreateTopic").topic_arn.expect("arn");
    sns.subscribe().topic_arn(&topic_arn).protocol("sqs").endpoint(queue_arn).send().await.expect("Subscribe");

    // A receive waiting up to 5 s returns as soon as a message arrives.
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
    let sender = sqs.clone();
    let url = queue_url.clone();
    let send = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        sender.send_message().queue_url(&url).message_body("late").send().await.expect("SendMessage");
    });
    let started = Instant::now();
    let received = sqs.receive_message().queue_url(&queue_url).wait_time_seconds(5).send().await.expect("Receive");
    send.await.expect("sent");
    assert_eq!(received.messages().first().and_then(|m| m.body()), Some("late"));
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    let handle = received.messages()[0].receipt_handle().expect("handle").to_owned();
    sqs.delete_message().queue_url(&queue_url).receipt_handle(handle).send().await.expect("DeleteMessage");

    // With actions disabled a state change publishes nothing.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DisableAlarmActions.html
    cloudwatch
        .put_metric_alarm()
        .alarm_name("quiet")
        .namespace("Keywatch/Test")
        .metric_name("Quiet")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .treat_missing_data("ignore")
        .alarm_actions(&topic_arn)
        .send()
        .await
        .expect("PutMetricAlarm");
    cloudwatch.disable_alarm_actions().alarm_names("quiet").send().await.expect("DisableAlarmActions");
    let set = |value| cloudwatch.set_alarm_state().alarm_name("quiet").state_value(value).state_reason("test").send();
    set(StateValue::Alarm).await.expect("SetAlarmState");
    let none = sqs.receive_message().queue_url(&queue_url).wait_time_seconds(1).send().await.expect("Receive");
    assert!(none.messages().is_empty());
    // Enabled again, the next change publishes.
    cloudwatch.enable_alarm_actions().alarm_names("quiet").send().await.expect("EnableAlarmActions");
    set(StateValue::Ok).await.expect("SetAlarmState");
    set(StateValue::Alarm).await.expect("SetAlarmState");
    let one = sqs.receive_message().queue_url(&queue_url).wait_time_seconds(2).send().await.expect("Receive");
    assert_eq!(one.messages().len(), 1);
}

#[tokio::test]
async fn cloudwatch_answers_aws_json_1_0_as_the_cli_sends_it() {
    // The AWS JSON 1.0 protocol: X-Amz-Target `<Service>.<Operation>`, JSON
    // both ways, timestamps as epoch seconds.
    // https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html
    let running = support::start_sandbox().await;
    let host = running.endpoint_url.trim_start_matches("http://").to_owned();
    let put = serde_json::json!({
        "AlarmName": "json-alarm", "Namespace": "Keywatch/Test", "MetricName": "Hits", "Statistic": "Sum",
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"
    });
    let (status, _) = post_json(&host, "PutMetricAlarm", &put).await;
    assert_eq!(status, 200);
    let (status, body) = post_json(&host, "DescribeAlarms", &serde_json::json!({"AlarmNames": ["json-alarm"]})).await;
    assert_eq!(status, 200, "{body}");
    let described: serde_json::Value = serde_json::from_str(&body).expect("json");
    let alarm = &described["MetricAlarms"][0];
    assert_eq!(alarm["StateValue"], "INSUFFICIENT_DATA");
    assert_eq!(alarm["StateReason"], "Unchecked: Initial alarm creation");
    assert!(alarm["StateUpdatedTimestamp"].is_number());
    let (status, body) = post_json(&host, "DeleteAlarms", &serde_json::json!({"AlarmNames": ["missing"]})).await;
    assert_eq!(status, 400);
    assert!(body.contains("ResourceNotFound"), "{body}");
}

/// One AWS JSON 1.0 call to CloudWatch; (status, body).
async fn post_json(host: &str, operation: &str, input: &serde_json::Value) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let body = input.to_string();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: GraniteServiceVersion20100801.{operation}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/ap-southeast-2/monitoring/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let status = response.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

type Posts = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A small HTTP endpoint that records SNS's POSTs and confirms
/// subscriptions by fetching their SubscribeURL, as a subscriber must.
async fn start_http_subscriber() -> (String, Posts) {
    let posts: Posts = Posts::default();
    let recorded = posts.clone();
    let app = axum::Router::new().route(
        "/sns",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let recorded = recorded.clone();
            async move {
                let kind =
                    headers.get("x-amz-sns-message-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                if kind == "SubscriptionConfirmation" {
                    let message: serde_json::Value = serde_json::from_str(&body).expect("json");
                    let confirmed = fetch_text(message["SubscribeURL"].as_str().expect("SubscribeURL")).await;
                    assert!(confirmed.contains("ConfirmSubscriptionResult"), "{confirmed}");
                }
                recorded.lock().expect("posts").push((kind, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/sns"), posts)
}

/// Verifies an SNS message as AWS documents: fetch the certificate at
/// SigningCertURL, rebuild the canonical string, check the RSA signature
/// (SHA1 for SignatureVersion 1, SHA256 for 2).
/// https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
async fn verify_signature(message: &serde_json::Value) {
    use base64::Engine as _;
    let kind = message["Type"].as_str().expect("Type");
    let names: &[&str] = if kind == "Notification" {
        &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    } else {
        &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    };
    let mut canonical = String::new();
    for name in names {
        if let Some(value) = message[*name].as_str() {
            canonical.push_str(&format!("{name}\n{value}\n"));
        }
    }
    let pem = fetch_text(message["SigningCertURL"].as_str().expect("SigningCertURL")).await;
    let base64_body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(base64_body).expect("certificate der");
    let signature = base64::engine::general_purpose::STANDARD
        .decode(message["Signature"].as_str().expect("Signature"))
        .expect("b64");
    let algorithm: &'static aws_lc_rs::signature::RsaParameters = match message["SignatureVersion"].as_str() {
        Some("2") => &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        _ => &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
    };
    aws_lc_rs::signature::UnparsedPublicKey::new(algorithm, rsa_public_key(&der))
        .verify(canonical.as_bytes(), &signature)
        .expect("the signature verifies with the certificate's key");
}

/// The RSAPublicKey inside a certificate's SubjectPublicKeyInfo: the BIT
/// STRING after the rsaEncryption algorithm identifier.
fn rsa_public_key(certificate: &[u8]) -> &[u8] {
    const RSA_ENCRYPTION: [u8; 13] = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let at = certificate.windows(RSA_ENCRYPTION.len()).position(|w| w == RSA_ENCRYPTION).expect("an RSA key");
    let rest = &certificate[at + RSA_ENCRYPTION.len()..];
    assert_eq!(rest[0], 0x03, "a BIT STRING follows");
    let (length, header) = match rest[1] {
        n if n < 0x80 => (n as usize, 2),
        0x81 => (rest[2] as usize, 3),
        _ => (((rest[2] as usize) << 8) | rest[3] as usize, 4),
    };
    // Skip the unused-bits byte.
    &rest[header + 1..header + length]
}

async fn fetch_text(url: &str) -> String {
    let url = url.strip_prefix("http://").unwrap_or(url);
    let (host, path) = url.split_once('/').map_or((url, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}

async fn fetch_json(url: &str) -> serde_json::Value {
    serde_json::from_str(&fetch_text(url).await).expect("json")
}
