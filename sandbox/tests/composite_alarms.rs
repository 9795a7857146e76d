//! Composite alarms through the official Rust SDK (Smithy RPC v2 CBOR):
//! PutCompositeAlarm, the composite's state following its rule as the
//! alarms it names change, its transitions in DescribeAlarmHistory with
//! AlarmType CompositeAlarm, its action publishing to SNS, DescribeAlarms'
//! AlarmTypes, and DeleteAlarms.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html>

mod support;

use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, HistoryItemType, StateValue, Statistic};

const REGION: &str = "ap-southeast-2";

async fn metric_alarm(cloudwatch: &aws_sdk_cloudwatch::Client, name: &str) {
    cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("Keywatch/Test")
        .metric_name(name)
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .expect("PutMetricAlarm");
}

async fn set(cloudwatch: &aws_sdk_cloudwatch::Client, name: &str, value: StateValue) {
    cloudwatch
        .set_alarm_state()
        .alarm_name(name)
        .state_value(value)
        .state_reason("test")
        .send()
        .await
        .expect("SetAlarmState");
}

async fn composite_state(cloudwatch: &aws_sdk_cloudwatch::Client, name: &str) -> StateValue {
    let described = cloudwatch
        .describe_alarms()
        .alarm_names(name)
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .expect("DescribeAlarms");
    let composite = described.composite_alarms().first().expect("the composite");
    composite.state_value().expect("state").clone()
}

#[tokio::test]
async fn a_composite_alarm_follows_its_rule_and_notifies() {
    let (_sandbox, running) = support::start_sandbox_with(support::quick_config()).await;
    let config = support::sdk_config(&running.endpoint_url, REGION);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);

    metric_alarm(&cloudwatch, "KeyDisabled").await;
    metric_alarm(&cloudwatch, "DecryptFailures").await;
    set(&cloudwatch, "KeyDisabled", StateValue::Ok).await;
    set(&cloudwatch, "DecryptFailures", StateValue::Ok).await;
    let topic = sns.create_topic().name("attack").send().await.expect("CreateTopic").topic_arn.expect("arn");
    let queue =
        sqs.create_queue().queue_name("attack-inbox").send().await.expect("CreateQueue").queue_url.expect("url");
    let queue_arn = format!("arn:aws:sqs:{REGION}:111122223333:attack-inbox");
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": queue_arn}]});
    sqs.set_queue_attributes()
        .queue_url(&queue)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, policy.to_string())
        .send()
        .await
        .expect("SetQueueAttributes");
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(&queue_arn).send().await.expect("Subscribe");

    // A bad rule is refused and creates nothing.
    let refused =
        cloudwatch.put_composite_alarm().alarm_name("Bad").alarm_rule("ALARM(KeyDisabled) XOR TRUE").send().await;
    assert!(refused.is_err(), "{refused:?}");

    let rule = "ALARM(KeyDisabled) AND ALARM(\"DecryptFailures\")";
    cloudwatch
        .put_composite_alarm()
        .alarm_name("KmsAttackInProgress")
        .alarm_rule(rule)
        .alarm_description("KMS attack in progress")
        .alarm_actions(&topic)
        .send()
        .await
        .expect("PutCompositeAlarm");
    // Created INSUFFICIENT_DATA, then evaluated at once: the rule is false.
    assert_eq!(composite_state(&cloudwatch, "KmsAttackInProgress").await, StateValue::Ok);

    set(&cloudwatch, "KeyDisabled", StateValue::Alarm).await;
    assert_eq!(composite_state(&cloudwatch, "KmsAttackInProgress").await, StateValue::Ok);
    set(&cloudwatch, "DecryptFailures", StateValue::Alarm).await;
    assert_eq!(composite_state(&cloudwatch, "KmsAttackInProgress").await, StateValue::Alarm);

    // The composite's ALARM action published CloudWatch's alarm message.
    let received = sqs.receive_message().queue_url(&queue).wait_time_seconds(5).send().await.expect("ReceiveMessage");
    let body = received.messages().first().and_then(|m| m.body()).expect("a message");
    // The SNS envelope around CloudWatch's alarm message.
    let envelope: serde_json::Value = serde_json::from_str(body).expect("json");
    let message: serde_json::Value =
        serde_json::from_str(envelope["Message"].as_str().expect("Message")).expect("alarm message");
    assert_eq!(message["AlarmName"], "KmsAttackInProgress");
    assert_eq!(message["NewStateValue"], "ALARM");
    assert_eq!(message["OldStateValue"], "OK");
    assert_eq!(message["AlarmRule"], rule);

    // History: the transitions, typed CompositeAlarm, and the action.
    let history = cloudwatch
        .describe_alarm_history()
        .alarm_name("KmsAttackInProgress")
        .send()
        .await
        .expect("DescribeAlarmHistory");
    let items = history.alarm_history_items();
    let updates: Vec<_> =
        items.iter().filter(|i| i.history_item_type() == Some(&HistoryItemType::StateUpdate)).collect();
    assert!(updates.iter().any(|i| i.history_summary() == Some("Alarm updated from OK to ALARM")), "{items:?}");
    assert!(updates.iter().all(|i| i.alarm_type() == Some(&AlarmType::CompositeAlarm)), "{items:?}");
    assert!(items.iter().any(|i| i.history_item_type() == Some(&HistoryItemType::Action)), "{items:?}");

    // DescribeAlarms lists metric alarms only unless asked for composites.
    let plain = cloudwatch.describe_alarms().send().await.expect("DescribeAlarms");
    assert_eq!(plain.metric_alarms().len(), 2);
    assert!(plain.composite_alarms().is_empty());
    let both = cloudwatch
        .describe_alarms()
        .alarm_types(AlarmType::CompositeAlarm)
        .alarm_types(AlarmType::MetricAlarm)
        .send()
        .await
        .expect("DescribeAlarms");
    assert_eq!((both.metric_alarms().len(), both.composite_alarms().len()), (2, 1));
    assert_eq!(both.composite_alarms()[0].alarm_rule(), Some(rule));

    // A child back to OK takes the composite back to OK.
    set(&cloudwatch, "KeyDisabled", StateValue::Ok).await;
    assert_eq!(composite_state(&cloudwatch, "KmsAttackInProgress").await, StateValue::Ok);

    cloudwatch.delete_alarms().alarm_names("KmsAttackInProgress").send().await.expect("DeleteAlarms");
    let after = cloudwatch.describe_alarms().alarm_types(AlarmType::CompositeAlarm).send().await.expect("Describe");
    assert!(after.composite_alarms().is_empty());
}

/// The logging stack's optional "KMS attack in progress" composite, made by
/// CloudFormation over the lab's alarm and a switched-on detection, follows
/// them and goes with the stack.
#[tokio::test]
async fn the_logging_stack_makes_the_attack_in_progress_composite() {
    use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
    let (_sandbox, running) = support::start_sandbox_with(support::quick_config()).await;
    let config = support::sdk_config(&running.endpoint_url, REGION);
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    let parameter = |key: &str, value: &str| Parameter::builder().parameter_key(key).parameter_value(value).build();
    cfn.create_stack()
        .stack_name("pattern1-logging")
        .template_body(include_str!("../../cloudformation/logging.yaml"))
        .capabilities(Capability::CapabilityNamedIam)
        .parameters(parameter("AppECSTaskRoleArn", "arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole"))
        .parameters(parameter("EnableKeyDisableDetection", "true"))
        .parameters(parameter("EnableAttackInProgressAlarm", "true"))
        .send()
        .await
        .expect("CreateStack");
    let stack = support::settled(&cfn, "pattern1-logging").await;
    assert_eq!(stack.stack_status(), Some(&StackStatus::CreateComplete), "{:?}", stack.stack_status_reason());

    let composite = "pattern1-logging-KMSAttackInProgress";
    let described = cloudwatch
        .describe_alarms()
        .alarm_names(composite)
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .expect("DescribeAlarms");
    let rule = described.composite_alarms().first().and_then(|c| c.alarm_rule()).expect("the composite").to_owned();
    // Under the lab's own stack name the lab's alarm keeps the lab's name.
    let lab = "Pattern1ApplicationKMSSecurityAlarm";
    let key_disable = "pattern1-logging-KMSKeyDisableOrDeletionAlarm";
    assert_eq!(rule, format!("ALARM(\"{lab}\") AND (FALSE OR ALARM(\"{key_disable}\"))"));

    set(&cloudwatch, lab, StateValue::Alarm).await;
    assert_eq!(composite_state(&cloudwatch, composite).await, StateValue::Ok);
    set(&cloudwatch, key_disable, StateValue::Alarm).await;
    assert_eq!(composite_state(&cloudwatch, composite).await, StateValue::Alarm);

    cfn.delete_stack().stack_name("pattern1-logging").send().await.expect("DeleteStack");
    // Gone with the stack (a deleted stack is no longer found by name).
    let mut left = usize::MAX;
    for _ in 0..100 {
        let after = cloudwatch.describe_alarms().alarm_types(AlarmType::CompositeAlarm).send().await.expect("Describe");
        left = after.composite_alarms().len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0);
}
