//! Unit tests of the provisioners: each type created with the properties
//! the lab's templates give it, its `Ref` and `Fn::GetAtt` values, what the
//! owning service then shows, in-place updates, deletion, and AWS-shaped
//! failure reasons. Each test cites the page its rules come from.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::*;
use crate::protocol::value::Value;

const NOW: i64 = 1_764_194_400_000;
const STACK_ID: &str =
    "arn:aws:cloudformation:ap-southeast-2:111122223333:stack/pattern1-base/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";

fn ctx() -> CallContext {
    CallContext::for_tests(NOW)
}

fn request<'a>(
    logical_id: &'a str,
    resource_type: &'a str,
    properties: &'a Json,
    stack: &'a str,
) -> ResourceRequest<'a> {
    ResourceRequest { logical_id, resource_type, properties, stack_name: stack, stack_id: STACK_ID }
}

fn try_make(
    state: &mut SandboxState,
    resource_type: &str,
    logical_id: &str,
    properties: &Json,
) -> Result<Provisioned, ProvisionError> {
    create(state, &ctx(), &request(logical_id, resource_type, properties, "pattern1-app"))
}

fn make(state: &mut SandboxState, resource_type: &str, logical_id: &str, properties: Json) -> Provisioned {
    try_make(state, resource_type, logical_id, &properties).unwrap_or_else(|error| panic!("{logical_id}: {error}"))
}

fn change(
    state: &mut SandboxState,
    resource_type: &str,
    current: &Provisioned,
    old: &Json,
    new: &Json,
) -> Result<Provisioned, ProvisionError> {
    update(state, &ctx(), &request("R", resource_type, new, "pattern1-app"), current, old)
}

fn output<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |current, name| match current {
        Value::Map(members) => members.iter().find(|(key, _)| key == name).map(|(_, v)| v),
        _ => None,
    })
}

fn text(value: &Value, path: &[&str]) -> String {
    match output(value, path) {
        Some(Value::String(text)) => text.clone(),
        other => panic!("{path:?}: {other:?}"),
    }
}

fn list(value: &Value, path: &[&str]) -> Vec<Value> {
    match output(value, path) {
        Some(Value::List(items)) => items.clone(),
        other => panic!("{path:?}: {other:?}"),
    }
}

fn kms(state: &mut SandboxState, operation: &str, input: Json) -> Value {
    crate::kms::api::call(&mut state.kms, &ctx(), operation, &input).expect("known").result.expect("ok")
}

fn assert_reason(error: &ProvisionError, code: HandlerErrorCode, message_part: &str) {
    assert_eq!(error.code, code, "{}", error.reason);
    assert!(error.reason.starts_with("Resource handler returned message: \""), "{}", error.reason);
    assert!(error.reason.contains(message_part), "{}", error.reason);
    assert!(error.reason.ends_with(&format!("HandlerErrorCode: {})", code.as_str())), "{}", error.reason);
    assert!(error.reason.contains("(RequestToken: "), "{}", error.reason);
}

fn lab_key_policy() -> Json {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "EnableIAMPolicies", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]})
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html:
// Ref is the key id; GetAtt Arn and KeyId; KeyPolicy, EnableKeyRotation,
// and deletion schedules the key PendingWindowInDays ahead.
#[test]
fn kms_key_and_alias_live_in_kms() {
    let mut state = SandboxState::default();
    let props = json!({"Description": "Key the pattern1-app application encrypts user data with",
        "EnableKeyRotation": true, "PendingWindowInDays": 7, "KeyPolicy": lab_key_policy()});
    let key = make(&mut state, "AWS::KMS::Key", "Pattern1AppKey", props.clone());
    let arn = format!("arn:aws:kms:ap-southeast-2:111122223333:key/{}", key.physical_id);
    assert_eq!(key.attribute("KeyId"), Some(key.physical_id.as_str()));
    assert_eq!(key.attribute("Arn"), Some(arn.as_str()));
    let keys = kms(&mut state, "ListKeys", json!({}));
    assert_eq!(list(&keys, &["Keys"]).len(), 1);
    let policy = kms(&mut state, "GetKeyPolicy", json!({"KeyId": key.physical_id, "PolicyName": "default"}));
    let stored: Json = serde_json::from_str(&text(&policy, &["Policy"])).expect("json");
    assert_eq!(stored, lab_key_policy());
    let rotation = kms(&mut state, "GetKeyRotationStatus", json!({"KeyId": key.physical_id}));
    assert_eq!(output(&rotation, &["KeyRotationEnabled"]), Some(&Value::Bool(true)));

    let alias_props = json!({"AliasName": "alias/pattern1-app-key", "TargetKeyId": key.physical_id});
    let alias = make(&mut state, "AWS::KMS::Alias", "Pattern1AppKeyAlias", alias_props.clone());
    assert_eq!(alias.physical_id, "alias/pattern1-app-key");
    let duplicate = try_make(&mut state, "AWS::KMS::Alias", "Again", &alias_props).expect_err("duplicate");
    assert_reason(&duplicate, HandlerErrorCode::AlreadyExists, "already exists");

    // In place: description and rotation.
    let mut changed = props.clone();
    changed["Description"] = json!("new");
    changed["EnableKeyRotation"] = json!(false);
    let same = change(&mut state, "AWS::KMS::Key", &key, &props, &changed).expect("updated");
    assert_eq!(same, key);
    let described = kms(&mut state, "DescribeKey", json!({"KeyId": key.physical_id}));
    assert_eq!(text(&described, &["KeyMetadata", "Description"]), "new");
    let rotation = kms(&mut state, "GetKeyRotationStatus", json!({"KeyId": key.physical_id}));
    assert_eq!(output(&rotation, &["KeyRotationEnabled"]), Some(&Value::Bool(false)));
    let mut spec = changed.clone();
    spec["KeySpec"] = json!("RSA_2048");
    let refused = change(&mut state, "AWS::KMS::Key", &key, &changed, &spec).expect_err("replacement");
    assert_eq!(refused.code, HandlerErrorCode::NotUpdatable);

    delete(&mut state, &ctx(), "AWS::KMS::Alias", &alias, &alias_props).expect("alias deleted");
    delete(&mut state, &ctx(), "AWS::KMS::Key", &key, &changed).expect("key scheduled");
    let described = kms(&mut state, "DescribeKey", json!({"KeyId": key.physical_id}));
    assert_eq!(text(&described, &["KeyMetadata", "KeyState"]), "PendingDeletion");
    assert_eq!(output(&described, &["KeyMetadata", "PendingDeletionWindowInDays"]), Some(&Value::Integer(7)));
    assert_eq!(
        output(&described, &["KeyMetadata", "DeletionDate"]),
        Some(&Value::Timestamp(NOW + 7 * crate::clock::DAY_MS))
    );
    // Deleting what is already gone (or pending) succeeds, as in CloudFormation.
    delete(&mut state, &ctx(), "AWS::KMS::Key", &key, &changed).expect("again");
    delete(&mut state, &ctx(), "AWS::KMS::Alias", &alias, &alias_props).expect("again");
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-logs-loggroup.html:
// Ref is the name, GetAtt Arn ends in `:*`; a name already taken fails AlreadyExists.
#[test]
fn log_group_stream_and_metric_filter_live_in_logs() {
    let mut state = SandboxState::default();
    let props = json!({"LogGroupName": "pattern1-logging-loggroup", "RetentionInDays": "7"});
    let group = make(&mut state, "AWS::Logs::LogGroup", "TrailLogGroup", props.clone());
    assert_eq!(group.physical_id, "pattern1-logging-loggroup");
    assert_eq!(
        group.attribute("Arn"),
        Some("arn:aws:logs:ap-southeast-2:111122223333:log-group:pattern1-logging-loggroup:*")
    );
    assert_eq!(
        state.logs.group("ap-southeast-2", "pattern1-logging-loggroup").expect("group").retention_in_days,
        Some(7)
    );
    let taken = try_make(&mut state, "AWS::Logs::LogGroup", "Again", &props).expect_err("taken");
    assert_eq!(
        taken.reason.split(" (RequestToken").next(),
        Some(
            "Resource handler returned message: \"Resource of type 'AWS::Logs::LogGroup' with identifier '{\"/properties/LogGroupName\":\"pattern1-logging-loggroup\"}' already exists.\""
        )
    );
    // A retention CloudWatch Logs refuses leaves no group behind.
    let odd = try_make(&mut state, "AWS::Logs::LogGroup", "Odd", &json!({"LogGroupName": "odd", "RetentionInDays": 8}))
        .expect_err("invalid retention");
    assert_reason(&odd, HandlerErrorCode::InvalidRequest, "retentionInDays");
    assert!(state.logs.group("ap-southeast-2", "odd").is_err());

    let pattern = "{ $.errorCode = \"*\" && $.eventSource= \"kms.amazonaws.com\" && $.userIdentity.sessionContext.sessionIssuer.arn = \"arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole\" }";
    let filter_props = json!({"FilterName": "pattern1-logging-metricfilter", "LogGroupName": "pattern1-logging-loggroup",
        "FilterPattern": pattern, "MetricTransformations": [{"MetricName": "KMSSecurityError",
        "MetricNamespace": "Pattern1Application/KMSSecurity", "MetricValue": "1"}]});
    let filter = make(&mut state, "AWS::Logs::MetricFilter", "KMSSecurityMetricFilter", filter_props.clone());
    assert_eq!(filter.physical_id, "pattern1-logging-metricfilter");
    let described = crate::logs::api::call(
        &mut state.logs,
        &mut state.metrics,
        &ctx(),
        "DescribeMetricFilters",
        &json!({"logGroupName": "pattern1-logging-loggroup"}),
    )
    .expect("known")
    .result
    .expect("ok");
    let filters = list(&described, &["metricFilters"]);
    assert_eq!(filters.len(), 1);
    assert_eq!(text(&filters[0], &["filterPattern"]), pattern);

    let stream = make(
        &mut state,
        "AWS::Logs::LogStream",
        "Stream",
        json!({"LogGroupName": "pattern1-logging-loggroup", "LogStreamName": "s1"}),
    );
    assert_eq!(stream.physical_id, "s1");

    let longer = json!({"LogGroupName": "pattern1-logging-loggroup", "RetentionInDays": 14});
    change(&mut state, "AWS::Logs::LogGroup", &group, &props, &longer).expect("in place");
    assert_eq!(
        state.logs.group("ap-southeast-2", "pattern1-logging-loggroup").expect("group").retention_in_days,
        Some(14)
    );

    delete(&mut state, &ctx(), "AWS::Logs::LogStream", &stream, &json!({"LogGroupName": "pattern1-logging-loggroup"}))
        .expect("stream");
    delete(&mut state, &ctx(), "AWS::Logs::MetricFilter", &filter, &filter_props).expect("filter");
    delete(&mut state, &ctx(), "AWS::Logs::LogGroup", &group, &longer).expect("group");
    assert!(state.logs.groups("ap-southeast-2").next().is_none());
    delete(&mut state, &ctx(), "AWS::Logs::LogGroup", &group, &longer).expect("gone is fine");
}

fn lab_alarm_props() -> Json {
    // As the logging template resolves them: Number parameters arrive as strings.
    json!({"AlarmName": "pattern1-logging-Pattern1ApplicationKMSSecurityAlarm",
        "AlarmDescription": "Failed KMS calls made by the application's task role",
        "Namespace": "Pattern1Application/KMSSecurity", "MetricName": "KMSSecurityError",
        "Statistic": "Sum", "Period": "10", "EvaluationPeriods": "1", "DatapointsToAlarm": "1",
        "ComparisonOperator": "GreaterThanThreshold", "Threshold": "1", "TreatMissingData": "ignore",
        "ActionsEnabled": true, "AlarmActions": ["arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic"]})
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html:
// Ref is the alarm name, GetAtt Arn; the alarm is a PutMetricAlarm alarm,
// evaluated like any other.
#[test]
fn alarm_is_a_cloudwatch_alarm_the_evaluator_runs() {
    let mut state = SandboxState::default();
    let props = lab_alarm_props();
    let alarm = make(&mut state, "AWS::CloudWatch::Alarm", "KMSSecurityAlarm", props.clone());
    assert_eq!(alarm.physical_id, "pattern1-logging-Pattern1ApplicationKMSSecurityAlarm");
    assert_eq!(
        alarm.attribute("Arn"),
        Some(
            "arn:aws:cloudwatch:ap-southeast-2:111122223333:alarm:pattern1-logging-Pattern1ApplicationKMSSecurityAlarm"
        )
    );
    let described =
        crate::cloudwatch::api::call(&mut state.cloudwatch, &mut state.metrics, &ctx(), "DescribeAlarms", &json!({}))
            .expect("known")
            .0
            .result
            .expect("ok");
    assert_eq!(list(&described, &["MetricAlarms"]).len(), 1);
    let taken = try_make(&mut state, "AWS::CloudWatch::Alarm", "Again", &props).expect_err("taken");
    assert_eq!(taken.code, HandlerErrorCode::AlreadyExists);

    // Two failures in one 10 s period: the evaluator raises it.
    for at in [NOW + 11_000, NOW + 12_000] {
        state.metrics.put(
            crate::metrics::Datapoint {
                namespace: "Pattern1Application/KMSSecurity".into(),
                metric_name: "KMSSecurityError".into(),
                dimensions: vec![],
                timestamp: at,
                value: 1.0,
                unit: None,
            },
            at,
        );
    }
    let changes = state.cloudwatch.evaluate_due(&state.metrics, NOW + 20_500);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].actions(), vec!["arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic".to_owned()]);

    let mut higher = props.clone();
    higher["Threshold"] = json!(5);
    change(&mut state, "AWS::CloudWatch::Alarm", &alarm, &props, &higher).expect("in place");
    let record = state.cloudwatch.alarm("ap-southeast-2", &alarm.physical_id).expect("alarm");
    assert!((record.alarm.threshold - 5.0).abs() < f64::EPSILON);

    let mut missing = props.clone();
    missing.as_object_mut().expect("object").remove("EvaluationPeriods");
    missing["AlarmName"] = json!("other");
    let invalid = try_make(&mut state, "AWS::CloudWatch::Alarm", "KMSSecurityAlarm", &missing).expect_err("invalid");
    assert_eq!(
        invalid.reason,
        "Properties validation failed for resource KMSSecurityAlarm with message: #: required key [EvaluationPeriods] not found"
    );

    delete(&mut state, &ctx(), "AWS::CloudWatch::Alarm", &alarm, &higher).expect("deleted");
    assert!(state.cloudwatch.alarms.is_empty());
    delete(&mut state, &ctx(), "AWS::CloudWatch::Alarm", &alarm, &higher).expect("gone is fine");
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-compositealarm.html:
// Ref is the alarm name, GetAtt Arn; the alarm is a PutCompositeAlarm alarm
// that follows its rule once the evaluator settles it.
#[test]
fn composite_alarm_is_a_cloudwatch_composite_that_follows_its_rule() {
    use keywatch_domain::alarm::StateValue;
    let mut state = SandboxState::default();
    let child = make(&mut state, "AWS::CloudWatch::Alarm", "KMSSecurityAlarm", lab_alarm_props());
    let props = json!({"AlarmName": "pattern1-logging-KmsAttackInProgress",
        "AlarmRule": format!("ALARM(\"{}\")", child.physical_id),
        "AlarmActions": ["arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic"]});
    let composite = make(&mut state, "AWS::CloudWatch::CompositeAlarm", "AttackInProgress", props.clone());
    assert_eq!(composite.physical_id, "pattern1-logging-KmsAttackInProgress");
    assert_eq!(
        composite.attribute("Arn"),
        Some("arn:aws:cloudwatch:ap-southeast-2:111122223333:alarm:pattern1-logging-KmsAttackInProgress")
    );
    assert_eq!(state.cloudwatch.settle_composites(NOW).len(), 1, "INSUFFICIENT_DATA to OK");
    state.cloudwatch.set_state("ap-southeast-2", &child.physical_id, StateValue::Alarm, "test", None, NOW + 1);
    let changes = state.cloudwatch.settle_composites(NOW + 1);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].record.state.state_value, StateValue::Alarm);
    assert_eq!(changes[0].actions(), vec!["arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic".to_owned()]);

    let mut never = props.clone();
    never["AlarmRule"] = json!("FALSE");
    change(&mut state, "AWS::CloudWatch::CompositeAlarm", &composite, &props, &never).expect("in place");
    assert_eq!(state.cloudwatch.settle_composites(NOW + 2)[0].record.state.state_value, StateValue::Ok);

    let mut no_rule = props.clone();
    no_rule.as_object_mut().expect("object").remove("AlarmRule");
    no_rule["AlarmName"] = json!("other");
    let invalid =
        try_make(&mut state, "AWS::CloudWatch::CompositeAlarm", "AttackInProgress", &no_rule).expect_err("invalid");
    assert!(invalid.reason.contains("required key [AlarmRule] not found"), "{}", invalid.reason);

    delete(&mut state, &ctx(), "AWS::CloudWatch::CompositeAlarm", &composite, &never).expect("deleted");
    assert!(state.cloudwatch.composites.is_empty());
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sns-subscription.html:
// an email subscription waits for its confirmation (SNS sends the link).
#[test]
fn topic_email_subscription_and_policy_live_in_sns() {
    let mut state = SandboxState::default();
    let topic_props = json!({"TopicName": "pattern1-logging-topic", "DisplayName": "pattern1-logging KMS alarms"});
    let topic = make(&mut state, "AWS::SNS::Topic", "AlarmTopic", topic_props.clone());
    let arn = "arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic";
    assert_eq!(topic.physical_id, arn);
    assert_eq!(topic.attribute("TopicName"), Some("pattern1-logging-topic"));
    assert_eq!(
        state.sns.topics[arn].attributes.get("DisplayName").map(String::as_str),
        Some("pattern1-logging KMS alarms")
    );

    let sub_props = json!({"TopicArn": arn, "Protocol": "email", "Endpoint": "ops@example.com"});
    let subscription = make(&mut state, "AWS::SNS::Subscription", "AlarmEmailSubscription", sub_props.clone());
    assert!(subscription.physical_id.starts_with(&format!("{arn}:")), "{}", subscription.physical_id);
    let pending = &state.sns.subscriptions[&subscription.physical_id];
    assert!(pending.token.is_some(), "pending confirmation");
    assert_eq!(state.sns.outbox.len(), 1);
    assert_eq!(state.sns.outbox[0].kind, "SubscriptionConfirmation");
    assert_eq!(state.sns.outbox[0].to, "ops@example.com");

    let policy_props = json!({"Topics": [arn], "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish", "Resource": arn}]}});
    let policy = make(&mut state, "AWS::SNS::TopicPolicy", "AlarmTopicPolicy", policy_props.clone());
    assert_eq!(policy.attribute("Id"), Some(policy.physical_id.as_str()));
    assert!(state.sns.topics[arn].attributes["Policy"].contains("cloudwatch.amazonaws.com"));

    let renamed = json!({"TopicName": "pattern1-logging-topic", "DisplayName": "renamed"});
    change(&mut state, "AWS::SNS::Topic", &topic, &topic_props, &renamed).expect("in place");
    assert_eq!(state.sns.topics[arn].attributes["DisplayName"], "renamed");
    let taken = try_make(&mut state, "AWS::SNS::Topic", "Again", &topic_props).expect_err("taken");
    assert_eq!(taken.code, HandlerErrorCode::AlreadyExists);

    delete(&mut state, &ctx(), "AWS::SNS::TopicPolicy", &policy, &policy_props).expect("policy");
    assert!(!state.sns.topics[arn].attributes["Policy"].contains("cloudwatch.amazonaws.com"));
    delete(&mut state, &ctx(), "AWS::SNS::Subscription", &subscription, &sub_props).expect("subscription");
    delete(&mut state, &ctx(), "AWS::SNS::Topic", &topic, &renamed).expect("topic");
    assert!(state.sns.topics.is_empty() && state.sns.subscriptions.is_empty());
    delete(&mut state, &ctx(), "AWS::SNS::Subscription", &subscription, &sub_props).expect("gone is fine");
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html:
// Ref is the queue URL; GetAtt Arn, QueueName, QueueUrl; a name is generated when absent.
#[test]
fn queue_and_queue_policy_live_in_sqs() {
    let mut state = SandboxState { endpoint: "http://127.0.0.1:4566".into(), ..SandboxState::default() };
    let props = json!({"VisibilityTimeout": 60});
    let queue = make(&mut state, "AWS::SQS::Queue", "AlarmQueue", props.clone());
    let name = queue.attribute("QueueName").expect("name").to_owned();
    assert!(name.starts_with("pattern1-app-AlarmQueue-"), "{name}");
    assert_eq!(queue.physical_id, format!("http://127.0.0.1:4566/111122223333/{name}"));
    assert_eq!(queue.attribute("Arn"), Some(format!("arn:aws:sqs:ap-southeast-2:111122223333:{name}").as_str()));
    let key = format!("ap-southeast-2/{name}");
    assert_eq!(state.sqs.queues[&key].attributes["VisibilityTimeout"], "60");

    let policy_props = json!({"Queues": [queue.physical_id], "PolicyDocument": {"Statement": [{"Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "*"}]}});
    let policy = make(&mut state, "AWS::SQS::QueuePolicy", "AlarmQueuePolicy", policy_props.clone());
    assert!(state.sqs.queues[&key].attributes["Policy"].contains("sns.amazonaws.com"));

    let longer = json!({"VisibilityTimeout": "120"});
    change(&mut state, "AWS::SQS::Queue", &queue, &props, &longer).expect("in place");
    assert_eq!(state.sqs.queues[&key].attributes["VisibilityTimeout"], "120");

    delete(&mut state, &ctx(), "AWS::SQS::QueuePolicy", &policy, &policy_props).expect("policy");
    delete(&mut state, &ctx(), "AWS::SQS::Queue", &queue, &longer).expect("queue");
    assert!(state.sqs.queues.is_empty());
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html:
// Ref is the role name, GetAtt Arn and RoleId; the RoleId is the one STS
// puts in the role's sessions.
#[test]
fn roles_match_sts_and_policies_attach() {
    let mut state = SandboxState::default();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let props = json!({"RoleName": "pattern1-app-Pattern1ECSTaskRole", "Description": "Least privilege",
        "AssumeRolePolicyDocument": trust, "Policies": [{"PolicyName": "app-key-and-db-secret",
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt"], "Resource": "*"}]}}],
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]});
    let role = make(&mut state, "AWS::IAM::Role", "Pattern1ECSTaskRole", props.clone());
    let arn = "arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole";
    assert_eq!(role.physical_id, "pattern1-app-Pattern1ECSTaskRole");
    assert_eq!(role.attribute("Arn"), Some(arn));

    let params = vec![("RoleArn".to_owned(), arn.to_owned()), ("RoleSessionName".to_owned(), "task".to_owned())];
    let assumed = crate::sts::call(&mut state.sts, &ctx(), "AssumeRole", &params).expect("known").result.expect("ok");
    let assumed_id = text(&assumed, &["AssumedRoleUser", "AssumedRoleId"]);
    assert_eq!(assumed_id, format!("{}:task", role.attribute("RoleId").expect("RoleId")));

    let taken = try_make(&mut state, "AWS::IAM::Role", "Again", &props).expect_err("taken");
    assert_reason(
        &taken,
        HandlerErrorCode::AlreadyExists,
        "Role with name pattern1-app-Pattern1ECSTaskRole already exists.",
    );
    let unknown_policy =
        json!({"AssumeRolePolicyDocument": trust, "ManagedPolicyArns": ["arn:aws:iam::111122223333:policy/nope"]});
    let refused = try_make(&mut state, "AWS::IAM::Role", "Other", &unknown_policy).expect_err("no such policy");
    assert_reason(&refused, HandlerErrorCode::NotFound, "does not exist or is not attachable");

    let inline_props = json!({"PolicyName": "extra", "Roles": ["pattern1-app-Pattern1ECSTaskRole"],
        "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}});
    let inline = make(&mut state, "AWS::IAM::Policy", "ExtraPolicy", inline_props.clone());
    assert!(state.iam.roles["pattern1-app-Pattern1ECSTaskRole"].inline_policies.contains_key("extra"));
    let managed_props = json!({"Roles": ["pattern1-app-Pattern1ECSTaskRole"],
        "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}});
    let managed = make(&mut state, "AWS::IAM::ManagedPolicy", "Managed", managed_props.clone());
    assert!(managed.physical_id.starts_with("arn:aws:iam::111122223333:policy/pattern1-app-Managed-"));
    assert!(managed.attribute("PolicyId").expect("id").starts_with("ANPA"));
    let profile_props = json!({"Roles": ["pattern1-app-Pattern1ECSTaskRole"]});
    let profile = make(&mut state, "AWS::IAM::InstanceProfile", "Profile", profile_props.clone());
    assert!(profile.attribute("Arn").expect("arn").contains(":instance-profile/pattern1-app-Profile-"));

    // In place: the description changes, the name cannot.
    let mut described = props.clone();
    described["Description"] = json!("changed");
    change(&mut state, "AWS::IAM::Role", &role, &props, &described).expect("in place");
    assert_eq!(state.iam.roles["pattern1-app-Pattern1ECSTaskRole"].description.as_deref(), Some("changed"));
    assert!(state.iam.roles["pattern1-app-Pattern1ECSTaskRole"].inline_policies.contains_key("extra"), "kept");
    let mut renamed = described.clone();
    renamed["RoleName"] = json!("other");
    assert_eq!(
        change(&mut state, "AWS::IAM::Role", &role, &described, &renamed).expect_err("replace").code,
        HandlerErrorCode::NotUpdatable
    );

    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html: not while in an instance profile.
    let conflict = delete(&mut state, &ctx(), "AWS::IAM::Role", &role, &described).expect_err("in a profile");
    assert_reason(&conflict, HandlerErrorCode::ResourceConflict, "instance profile");
    delete(&mut state, &ctx(), "AWS::IAM::InstanceProfile", &profile, &profile_props).expect("profile");
    delete(&mut state, &ctx(), "AWS::IAM::Policy", &inline, &inline_props).expect("inline");
    delete(&mut state, &ctx(), "AWS::IAM::Role", &role, &described).expect("role");
    delete(&mut state, &ctx(), "AWS::IAM::ManagedPolicy", &managed, &managed_props).expect("managed");
    assert!(state.iam.is_empty());
    delete(&mut state, &ctx(), "AWS::IAM::Role", &role, &described).expect("gone is fine");
}

/// One resource of a stack, as the engine would keep it.
struct Made {
    resource_type: &'static str,
    properties: Json,
    provisioned: Provisioned,
}

fn made(
    state: &mut SandboxState,
    stack: &str,
    all: &mut Vec<Made>,
    resource_type: &'static str,
    logical_id: &str,
    properties: Json,
) -> Provisioned {
    let provisioned = create(state, &ctx(), &request(logical_id, resource_type, &properties, stack))
        .unwrap_or_else(|error| panic!("{logical_id}: {error}"));
    all.push(Made { resource_type, properties, provisioned: provisioned.clone() });
    provisioned
}

fn tags(name: &str) -> Json {
    json!([{"Key": "Name", "Value": name}])
}

/// Every resource of base.yaml but the ECR repository, with hand-resolved
/// properties, in dependency order.
fn base_stack(state: &mut SandboxState, all: &mut Vec<Made>) -> BTreeMap<&'static str, Provisioned> {
    let s = "pattern1-base";
    let mut r = BTreeMap::new();
    let vpc = made(
        state,
        s,
        all,
        "AWS::EC2::VPC",
        "VPC",
        json!({"CidrBlock": "172.31.0.0/16",
        "EnableDnsSupport": true, "EnableDnsHostnames": true, "Tags": tags("pattern1-base-vpc")}),
    );
    let igw =
        made(state, s, all, "AWS::EC2::InternetGateway", "InternetGateway", json!({"Tags": tags("pattern1-base-igw")}));
    made(
        state,
        s,
        all,
        "AWS::EC2::VPCGatewayAttachment",
        "InternetGatewayAttachment",
        json!({"VpcId": vpc.physical_id, "InternetGatewayId": igw.physical_id}),
    );
    let mut subnets = Vec::new();
    for (logical, cidr, zone) in [
        ("PublicSubnet1", "172.31.1.0/24", "ap-southeast-2a"),
        ("PrivateSubnet1", "172.31.2.0/24", "ap-southeast-2a"),
        ("PublicSubnet2", "172.31.3.0/24", "ap-southeast-2b"),
        ("PrivateSubnet2", "172.31.4.0/24", "ap-southeast-2b"),
    ] {
        let subnet = made(
            state,
            s,
            all,
            "AWS::EC2::Subnet",
            logical,
            json!({"VpcId": vpc.physical_id, "CidrBlock": cidr,
            "AvailabilityZone": zone, "Tags": tags(logical)}),
        );
        subnets.push(subnet.clone());
        r.insert(logical, subnet);
    }
    let eip = made(state, s, all, "AWS::EC2::EIP", "NatGatewayEIP", json!({"Domain": "vpc", "Tags": tags("nat-eip")}));
    let nat = made(
        state,
        s,
        all,
        "AWS::EC2::NatGateway",
        "NatGateway",
        json!({"AllocationId": eip.attribute("AllocationId"),
        "SubnetId": subnets[0].physical_id, "Tags": tags("nat")}),
    );
    for (i, (table, route, association, subnet, public)) in [
        ("PublicRouteTable1", "PublicDefaultRoute1", "PublicSubnet1RouteTableAssociation", "PublicSubnet1", true),
        ("PublicRouteTable2", "PublicDefaultRoute2", "PublicSubnet2RouteTableAssociation", "PublicSubnet2", true),
        ("PrivateRouteTable1", "PrivateDefaultRoute1", "PrivateSubnet1RouteTableAssociation", "PrivateSubnet1", false),
        ("PrivateRouteTable2", "PrivateDefaultRoute2", "PrivateSubnet2RouteTableAssociation", "PrivateSubnet2", false),
    ]
    .into_iter()
    .enumerate()
    {
        let rtb =
            made(state, s, all, "AWS::EC2::RouteTable", table, json!({"VpcId": vpc.physical_id, "Tags": tags(table)}));
        let target =
            if public { json!({"GatewayId": igw.physical_id}) } else { json!({"NatGatewayId": nat.physical_id}) };
        let mut route_props = json!({"RouteTableId": rtb.physical_id, "DestinationCidrBlock": "0.0.0.0/0"});
        route_props.as_object_mut().expect("object").extend(target.as_object().cloned().unwrap_or_default());
        made(state, s, all, "AWS::EC2::Route", route, route_props);
        made(
            state,
            s,
            all,
            "AWS::EC2::SubnetRouteTableAssociation",
            association,
            json!({"RouteTableId": rtb.physical_id, "SubnetId": r[subnet].physical_id}),
        );
        assert!(i < 4);
    }
    r.insert("VPC", vpc);
    r.insert("InternetGateway", igw);
    r.insert("NatGateway", nat);
    r
}

fn delete_all(state: &mut SandboxState, all: Vec<Made>) {
    for made in all.into_iter().rev() {
        delete(state, &ctx(), made.resource_type, &made.provisioned, &made.properties)
            .unwrap_or_else(|error| panic!("{}: {error}", made.resource_type));
    }
}

// The lab's base stack (lab.md, stack 1) with the Ref/GetAtt shapes of
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-vpc.html,
// ...-ec2-subnet.html, ...-ec2-eip.html and ...-ec2-natgateway.html; deleted in
// reverse order it leaves every store empty.
#[test]
fn base_stack_provisions_and_tears_down() {
    let mut state = SandboxState::default();
    let mut all = Vec::new();
    let r = base_stack(&mut state, &mut all);
    let vpc = &r["VPC"];
    assert!(vpc.physical_id.starts_with("vpc-0") && vpc.physical_id.len() == 21, "{}", vpc.physical_id);
    assert_eq!(vpc.attribute("CidrBlock"), Some("172.31.0.0/16"));
    assert!(vpc.attribute("DefaultSecurityGroup").expect("sg").starts_with("sg-0"));
    let subnet = &r["PrivateSubnet2"];
    assert!(subnet.physical_id.starts_with("subnet-0"));
    assert_eq!(subnet.attribute("AvailabilityZone"), Some("ap-southeast-2b"));
    assert_eq!(subnet.attribute("AvailabilityZoneId"), Some("apse2-az2"));
    assert_eq!(subnet.attribute("VpcId"), Some(vpc.physical_id.as_str()));
    assert!(r["InternetGateway"].physical_id.starts_with("igw-0"));
    assert!(r["NatGateway"].physical_id.starts_with("nat-0"));
    let eip = all.iter().find(|m| m.resource_type == "AWS::EC2::EIP").expect("eip");
    assert!(eip.provisioned.attribute("AllocationId").expect("id").starts_with("eipalloc-0"));
    assert_eq!(eip.provisioned.attribute("PublicIp"), Some(eip.provisioned.physical_id.as_str()));
    let route = all.iter().find(|m| m.resource_type == "AWS::EC2::Route").expect("route");
    assert!(
        route.provisioned.physical_id.starts_with("rtb-0") && route.provisioned.physical_id.ends_with("|0.0.0.0/0")
    );
    assert_eq!(state.ec2.route_tables.len(), 4);
    assert!(state.ec2.route_tables.values().all(|t| t.routes.len() == 2 && t.associations.len() == 1));

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpc.html: not while subnets exist.
    let early = delete(&mut state, &ctx(), "AWS::EC2::VPC", vpc, &json!({})).expect_err("dependencies");
    assert_reason(
        &early,
        HandlerErrorCode::ResourceConflict,
        &format!("The vpc '{}' has dependencies and cannot be deleted.", vpc.physical_id),
    );

    delete_all(&mut state, all);
    assert!(state.ec2.is_empty(), "{:?}", state.ec2);
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html: the CIDR
// must lie in the VPC's and not overlap a sibling; the VPC must exist.
#[test]
fn subnets_are_checked_as_ec2_checks_them() {
    let mut state = SandboxState::default();
    let vpc = make(&mut state, "AWS::EC2::VPC", "VPC", json!({"CidrBlock": "172.31.0.0/16"}));
    make(&mut state, "AWS::EC2::Subnet", "A", json!({"VpcId": vpc.physical_id, "CidrBlock": "172.31.1.0/24"}));
    let outside =
        try_make(&mut state, "AWS::EC2::Subnet", "B", &json!({"VpcId": vpc.physical_id, "CidrBlock": "10.0.1.0/24"}))
            .expect_err("outside");
    assert_reason(&outside, HandlerErrorCode::InvalidRequest, "The CIDR '10.0.1.0/24' is invalid.");
    let overlap = try_make(
        &mut state,
        "AWS::EC2::Subnet",
        "C",
        &json!({"VpcId": vpc.physical_id, "CidrBlock": "172.31.1.128/25"}),
    )
    .expect_err("overlap");
    assert!(overlap.reason.contains("conflicts with another subnet"), "{}", overlap.reason);
    let missing = try_make(
        &mut state,
        "AWS::EC2::Subnet",
        "D",
        &json!({"VpcId": "vpc-0123456789abcdef0", "CidrBlock": "172.31.9.0/24"}),
    )
    .expect_err("no vpc");
    assert_reason(
        &missing,
        HandlerErrorCode::NotFound,
        "The vpc ID 'vpc-0123456789abcdef0' does not exist (Service: Ec2, Status Code: 400",
    );
    let no_cidr = try_make(&mut state, "AWS::EC2::VPC", "VPC2", &json!({})).expect_err("schema");
    assert_eq!(
        no_cidr.reason,
        "Properties validation failed for resource VPC2 with message: #: required key [CidrBlock] not found"
    );
    let changed = change(
        &mut state,
        "AWS::EC2::VPC",
        &vpc,
        &json!({"CidrBlock": "172.31.0.0/16"}),
        &json!({"CidrBlock": "10.0.0.0/16"}),
    )
    .expect_err("replacement");
    assert_eq!(changed.code, HandlerErrorCode::NotUpdatable);
    let dns = change(
        &mut state,
        "AWS::EC2::VPC",
        &vpc,
        &json!({"CidrBlock": "172.31.0.0/16"}),
        &json!({"CidrBlock": "172.31.0.0/16", "EnableDnsHostnames": "true"}),
    )
    .expect("in place");
    assert_eq!(dns, vpc);
    assert!(state.ec2.vpcs[&vpc.physical_id].enable_dns_hostnames);
}

#[test]
fn unsupported_types_fail_clearly() {
    let mut state = SandboxState::default();
    assert!(!is_supported("AWS::Lambda::Function"));
    assert!(is_supported("AWS::S3::Bucket"));
    assert!(is_supported("AWS::EC2::VPC"));
    let error = try_make(&mut state, "AWS::Lambda::Function", "Fn", &json!({})).expect_err("unsupported");
    assert_reason(&error, HandlerErrorCode::InvalidRequest, "cannot provision resources of type AWS::Lambda::Function");
}

// The application stack (lab.md, stack 2) on top of the base stack:
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancingv2-loadbalancer.html,
// ...-ecs-service.html and ...-rds-dbinstance.html (Endpoint.Address, Endpoint.Port).
#[test]
fn application_stack_runs_behind_a_loopback_load_balancer() {
    let mut state = SandboxState::default();
    let mut base = Vec::new();
    let r = base_stack(&mut state, &mut base);
    let vpc = r["VPC"].physical_id.clone();
    let s = "pattern1-app";
    let mut all = Vec::new();
    let key = made(
        &mut state,
        s,
        &mut all,
        "AWS::KMS::Key",
        "Pattern1AppKey",
        json!({"EnableKeyRotation": true,
        "PendingWindowInDays": 7, "KeyPolicy": lab_key_policy()}),
    );
    let db_sg = made(
        &mut state,
        s,
        &mut all,
        "AWS::EC2::SecurityGroup",
        "DBSecurityGroup",
        json!({
        "GroupDescription": "MySQL from inside the lab VPC only", "VpcId": vpc, "SecurityGroupIngress": [{
        "Description": "MySQL from the VPC CIDR", "IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "CidrIp": "172.31.0.0/16"}]}),
    );
    assert_eq!(db_sg.attribute("VpcId"), Some(vpc.as_str()));
    let group = made(
        &mut state,
        s,
        &mut all,
        "AWS::RDS::DBSubnetGroup",
        "DBSubnetGroup",
        json!({
        "DBSubnetGroupDescription": "Private subnets of pattern1-base",
        "SubnetIds": [r["PrivateSubnet1"].physical_id, r["PrivateSubnet2"].physical_id]}),
    );
    assert!(group.physical_id.starts_with("pattern1-app-dbsubnetgroup-"), "{}", group.physical_id);
    let db_props = json!({"DBInstanceIdentifier": "pattern1-app-db", "Engine": "mysql", "DBInstanceClass": "db.t3.micro",
        "AllocatedStorage": "20", "StorageType": "gp2", "StorageEncrypted": true, "DBName": "pattern1",
        "MasterUsername": "admin", "MasterUserPassword": "secret", "DBSubnetGroupName": group.physical_id,
        "VPCSecurityGroups": [db_sg.physical_id], "PubliclyAccessible": false, "MultiAZ": false,
        "BackupRetentionPeriod": 1, "CopyTagsToSnapshot": true, "DeletionProtection": false});
    let db = create(&mut state, &ctx(), &request("Pattern1DB", "AWS::RDS::DBInstance", &db_props, s)).expect("db");
    let address = db.attribute("Endpoint.Address").expect("address");
    assert!(
        address.starts_with("pattern1-app-db.") && address.ends_with(".ap-southeast-2.rds.amazonaws.com"),
        "{address}"
    );
    assert_eq!(db.attribute("Endpoint.Port"), Some("3306"));
    let in_use = delete(&mut state, &ctx(), "AWS::RDS::DBSubnetGroup", &group, &json!({})).expect_err("in use");
    assert!(in_use.reason.contains("is still using it"), "{}", in_use.reason);

    let busy = delete(&mut state, &ctx(), "AWS::EC2::SecurityGroup", &db_sg, &json!({})).expect_err("used by the DB");
    assert_reason(&busy, HandlerErrorCode::ResourceConflict, "has a dependent object");
    let busy = delete(&mut state, &ctx(), "AWS::EC2::Subnet", &r["PrivateSubnet1"], &json!({}))
        .expect_err("in a DB subnet group");
    assert!(busy.reason.contains("has dependencies and cannot be deleted"), "{}", busy.reason);
    let lb_sg = made(
        &mut state,
        s,
        &mut all,
        "AWS::EC2::SecurityGroup",
        "LoadBalancerSecurityGroup",
        json!({
        "GroupDescription": "HTTP from the internet to the load balancer", "VpcId": vpc, "SecurityGroupIngress": [{
        "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"}]}),
    );
    let alb = made(
        &mut state,
        s,
        &mut all,
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "Pattern1ALB",
        json!({
        "Name": "pattern1-app-alb", "Type": "application", "Scheme": "internet-facing", "SecurityGroups": [lb_sg.physical_id],
        "Subnets": [r["PublicSubnet1"].physical_id, r["PublicSubnet2"].physical_id],
        "LoadBalancerAttributes": [{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}]}),
    );
    assert!(
        alb.physical_id
            .starts_with("arn:aws:elasticloadbalancing:ap-southeast-2:111122223333:loadbalancer/app/pattern1-app-alb/")
    );
    let dns = alb.attribute("DNSName").expect("dns").to_owned();
    let port: u16 = dns.strip_prefix("127.0.0.1:").and_then(|p| p.parse().ok()).expect("loopback port");
    assert!(port > 0);
    assert_eq!(alb.attribute("CanonicalHostedZoneID"), Some("Z1GM3OXH4ZPM65"));
    assert!(alb.attribute("LoadBalancerFullName").expect("full").starts_with("app/pattern1-app-alb/"));
    let one_zone = try_make(
        &mut state,
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "Other",
        &json!({"Name": "other", "Subnets": [r["PublicSubnet1"].physical_id]}),
    )
    .expect_err("one zone");
    assert!(one_zone.reason.contains("two different Availability Zones"), "{}", one_zone.reason);

    let tg = made(
        &mut state,
        s,
        &mut all,
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "Pattern1TargetGroup",
        json!({
        "Name": "pattern1-app-tg", "TargetType": "ip", "Protocol": "HTTP", "Port": 80, "VpcId": vpc,
        "HealthCheckProtocol": "HTTP", "HealthCheckPath": "/", "Matcher": {"HttpCode": "200"}}),
    );
    assert_eq!(tg.attribute("TargetGroupName"), Some("pattern1-app-tg"));
    let listener = made(
        &mut state,
        s,
        &mut all,
        "AWS::ElasticLoadBalancingV2::Listener",
        "Pattern1Listener",
        json!({
        "LoadBalancerArn": alb.physical_id, "Protocol": "HTTP", "Port": 80,
        "DefaultActions": [{"Type": "forward", "TargetGroupArn": tg.physical_id}]}),
    );
    assert!(listener.physical_id.contains(":listener/app/pattern1-app-alb/"));

    let trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let task_role = made(
        &mut state,
        s,
        &mut all,
        "AWS::IAM::Role",
        "Pattern1ECSTaskRole",
        json!({"RoleName": "pattern1-app-Pattern1ECSTaskRole", "AssumeRolePolicyDocument": trust}),
    );
    let execution_role = made(
        &mut state,
        s,
        &mut all,
        "AWS::IAM::Role",
        "Pattern1ECSExecutionRole",
        json!({"RoleName": "pattern1-app-Pattern1ECSExecutionRole", "AssumeRolePolicyDocument": trust,
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]}),
    );
    let log_group = made(
        &mut state,
        s,
        &mut all,
        "AWS::Logs::LogGroup",
        "Pattern1AppLogGroup",
        json!({"LogGroupName": "pattern1-app-loggroup", "RetentionInDays": 7}),
    );
    let cluster = made(
        &mut state,
        s,
        &mut all,
        "AWS::ECS::Cluster",
        "Pattern1ECSCluster",
        json!({
        "ClusterName": "pattern1-app-cluster", "CapacityProviders": ["FARGATE"],
        "ClusterSettings": [{"Name": "containerInsights", "Value": "disabled"}]}),
    );
    assert_eq!(cluster.physical_id, "pattern1-app-cluster");
    let task_props = json!({"Family": "pattern1-app-simple-app", "RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc",
        "Cpu": "256", "Memory": "512", "TaskRoleArn": task_role.attribute("Arn"), "ExecutionRoleArn": execution_role.attribute("Arn"),
        "ContainerDefinitions": [{"Name": "simple-app", "Image": "111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/pattern1-base-simple-app:latest",
            "Essential": true, "PortMappings": [{"ContainerPort": 80, "Protocol": "tcp"}],
            "Environment": [{"Name": "DBHOST", "Value": address}, {"Name": "DBNAME", "Value": "pattern1"},
                {"Name": "KeyId", "Value": key.physical_id}, {"Name": "AWS_REGION", "Value": "ap-southeast-2"}],
            "LogConfiguration": {"LogDriver": "awslogs", "Options": {"awslogs-group": log_group.physical_id,
                "awslogs-region": "ap-southeast-2", "awslogs-stream-prefix": "simple-app"}}}]});
    let task = made(&mut state, s, &mut all, "AWS::ECS::TaskDefinition", "Pattern1TaskDefinition", task_props.clone());
    assert_eq!(task.physical_id, "arn:aws:ecs:ap-southeast-2:111122223333:task-definition/pattern1-app-simple-app:1");
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html: awslogs needs an execution role.
    let mut no_role = task_props.clone();
    no_role.as_object_mut().expect("object").remove("ExecutionRoleArn");
    let refused = try_make(&mut state, "AWS::ECS::TaskDefinition", "T2", &no_role).expect_err("needs execution role");
    assert!(refused.reason.contains("execution role ARN"), "{}", refused.reason);
    // The lab's original template: `NAME:` in an Environment entry, which
    // CloudFormation's schema refuses (KeyValuePair has Name and Value only;
    // the message as CloudFormation words `additionalProperties` failures).
    let mut typo = task_props.clone();
    typo["ContainerDefinitions"][0]["Environment"][2] = json!({"NAME": "DBSecret", "Value": "s"});
    let refused = try_make(&mut state, "AWS::ECS::TaskDefinition", "T3", &typo).expect_err("NAME is not a key");
    assert_eq!(
        refused.reason,
        "Properties validation failed for resource T3 with message: #/ContainerDefinitions/0/Environment/2: extraneous key [NAME] is not permitted"
    );
    // The lab's `Memory: 0.5GB` and a task role by name, as ECS accepts them.
    let mut lab_forms = task_props.clone();
    lab_forms["Family"] = json!("lab-forms");
    lab_forms["Memory"] = json!("0.5GB");
    lab_forms["TaskRoleArn"] = json!("pattern1-app-Pattern1ECSTaskRole");
    let accepted = try_make(&mut state, "AWS::ECS::TaskDefinition", "T4", &lab_forms).expect("ECS accepts these");
    let definition = state.ecs.task_definition(&accepted.physical_id).expect("registered");
    assert_eq!(definition.memory.as_deref(), Some("512"));
    assert_eq!(
        definition.task_role_arn.as_deref(),
        Some("arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole")
    );
    state.ecs.delete_task_definition(&accepted.physical_id);

    let app_sg = made(
        &mut state,
        s,
        &mut all,
        "AWS::EC2::SecurityGroup",
        "AppSecurityGroup",
        json!({
        "GroupDescription": "HTTP from the load balancer", "VpcId": vpc, "SecurityGroupIngress": [{
        "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "SourceSecurityGroupId": lb_sg.physical_id}]}),
    );
    let service_props = json!({"ServiceName": "pattern1-app-service", "Cluster": cluster.physical_id, "LaunchType": "FARGATE",
        "DesiredCount": 1, "TaskDefinition": task.physical_id, "HealthCheckGracePeriodSeconds": 60,
        "NetworkConfiguration": {"AwsvpcConfiguration": {"AssignPublicIp": "DISABLED", "SecurityGroups": [app_sg.physical_id],
            "Subnets": [r["PrivateSubnet1"].physical_id, r["PrivateSubnet2"].physical_id]}},
        "LoadBalancers": [{"ContainerName": "simple-app", "ContainerPort": 80, "TargetGroupArn": tg.physical_id}]});
    let service = made(&mut state, s, &mut all, "AWS::ECS::Service", "Pattern1ECSService", service_props.clone());
    assert_eq!(
        service.physical_id,
        "arn:aws:ecs:ap-southeast-2:111122223333:service/pattern1-app-cluster/pattern1-app-service"
    );
    assert_eq!(service.attribute("Name"), Some("pattern1-app-service"));
    let wrong_port = {
        let mut p = service_props.clone();
        p["ServiceName"] = json!("other");
        p["LoadBalancers"][0]["ContainerPort"] = json!(8080);
        try_make(&mut state, "AWS::ECS::Service", "S2", &p).expect_err("port")
    };
    assert!(wrong_port.reason.contains("did not have a container port 8080 defined"), "{}", wrong_port.reason);

    let runnable = ecs_services(&state);
    assert_eq!(runnable.len(), 1);
    let app = &runnable[0];
    assert_eq!(app.cluster_name, "pattern1-app-cluster");
    assert_eq!(app.desired_count, 1);
    assert_eq!(app.task_definition.task_role_arn.as_deref(), task_role.attribute("Arn"));
    assert_eq!(app.task_definition.containers[0].environment["KeyId"], key.physical_id);
    assert_eq!(app.endpoints.len(), 1);
    assert_eq!(app.endpoints[0].loopback_port, port);
    assert_eq!(app.endpoints[0].listener_port, 80);
    assert_eq!(app.endpoints[0].container_port, 80);

    // In place: the desired count.
    let mut two = service_props.clone();
    two["DesiredCount"] = json!(2);
    change(&mut state, "AWS::ECS::Service", &service, &service_props, &two).expect("in place");
    assert_eq!(ecs_services(&state)[0].desired_count, 2);
    let in_use = delete(&mut state, &ctx(), "AWS::ECS::Cluster", &cluster, &json!({})).expect_err("services");
    assert!(in_use.reason.contains("while Services are active"), "{}", in_use.reason);

    // The DB instance goes first here, with the final snapshot its default deletion policy takes.
    let snapshot = delete_with_snapshot(&mut state, &ctx(), "AWS::RDS::DBInstance", &db, &db_props).expect("deleted");
    assert_eq!(snapshot.as_deref(), Some("pattern1-app-db-final"));
    assert!(state.rds.db_snapshots.contains_key("pattern1-app-db-final"));
    delete_all(&mut state, all);
    delete_all(&mut state, base);
    assert!(state.ec2.is_empty(), "{:?}", state.ec2);
    assert!(state.elb.is_empty() && state.ecs.is_empty() && state.rds.is_empty() && state.iam.is_empty());
    assert!(state.logs.groups("ap-southeast-2").next().is_none());
}

// The logging stack (lab.md, stack 3):
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudtrail-trail.html:
// Ref is the trail name, GetAtt Arn; IsLogging true starts logging.
#[test]
fn trail_logs_to_its_log_group_through_its_role() {
    let mut state = SandboxState::default();
    // CreateTrail needs its bucket (the logging stack creates it first).
    make(
        &mut state,
        "AWS::S3::Bucket",
        "TrailBucket",
        json!({"BucketName": "pattern1-logging-trail-111122223333-ap-southeast-2"}),
    );
    // ... and a policy that lets CloudTrail write there (logging.yaml's
    // TrailBucketPolicy without its aws:SourceArn condition, so that any
    // trail of the account may use the bucket).
    let bucket_arn = "arn:aws:s3:::pattern1-logging-trail-111122223333-ap-southeast-2";
    make(
        &mut state,
        "AWS::S3::BucketPolicy",
        "TrailBucketPolicy",
        json!({
            "Bucket": "pattern1-logging-trail-111122223333-ap-southeast-2",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
                 "Resource": bucket_arn},
                {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
                 "Resource": format!("{bucket_arn}/AWSLogs/111122223333/*"),
                 "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}
            ]}
        }),
    );
    let group = make(
        &mut state,
        "AWS::Logs::LogGroup",
        "TrailLogGroup",
        json!({"LogGroupName": "pattern1-logging-loggroup", "RetentionInDays": 7}),
    );
    let role = make(
        &mut state,
        "AWS::IAM::Role",
        "TrailToLogsRole",
        json!({"RoleName": "pattern1-logging-CloudTrailToLogsRole",
        "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}),
    );
    let key = make(&mut state, "AWS::KMS::Key", "TrailKey", json!({"KeyPolicy": lab_key_policy()}));
    let props = json!({"TrailName": "pattern1-logging-trail", "IsLogging": true, "S3BucketName": "pattern1-logging-trail-111122223333-ap-southeast-2",
        "KMSKeyId": key.attribute("Arn"), "EnableLogFileValidation": true, "IsMultiRegionTrail": false, "IncludeGlobalServiceEvents": true,
        "CloudWatchLogsLogGroupArn": group.attribute("Arn"), "CloudWatchLogsRoleArn": role.attribute("Arn"),
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]});
    let trail = make(&mut state, "AWS::CloudTrail::Trail", "Trail", props.clone());
    assert_eq!(trail.physical_id, "pattern1-logging-trail");
    assert_eq!(
        trail.attribute("Arn"),
        Some("arn:aws:cloudtrail:ap-southeast-2:111122223333:trail/pattern1-logging-trail")
    );
    let stored = state.cloudtrail.find(&ctx(), "pattern1-logging-trail").expect("trail");
    assert!(stored.is_logging && stored.log_file_validation_enabled);
    assert_eq!(stored.cloud_watch_logs_log_group_arn.as_deref(), group.attribute("Arn"));
    assert_eq!(stored.cloud_watch_logs_role_arn.as_deref(), role.attribute("Arn"));

    let mut stopped = props.clone();
    stopped["IsLogging"] = json!(false);
    change(&mut state, "AWS::CloudTrail::Trail", &trail, &props, &stopped).expect("in place");
    assert!(!state.cloudtrail.find(&ctx(), "pattern1-logging-trail").expect("trail").is_logging);

    let mut no_group = props.clone();
    no_group["TrailName"] = json!("other-trail");
    no_group["CloudWatchLogsLogGroupArn"] = json!("arn:aws:logs:ap-southeast-2:111122223333:log-group:missing:*");
    let refused = try_make(&mut state, "AWS::CloudTrail::Trail", "Other", &no_group).expect_err("no group");
    assert!(
        refused.reason.contains("InvalidCloudWatchLogsLogGroupArn") || refused.reason.contains("does not exist"),
        "{}",
        refused.reason
    );
    assert!(state.cloudtrail.find(&ctx(), "other-trail").is_err());

    delete(&mut state, &ctx(), "AWS::CloudTrail::Trail", &trail, &stopped).expect("trail");
    assert!(state.cloudtrail.find(&ctx(), "pattern1-logging-trail").is_err());
    delete(&mut state, &ctx(), "AWS::CloudTrail::Trail", &trail, &stopped).expect("gone is fine");
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html:
// changing a create-only property replaces the resource; task definition
// revisions are immutable (everything but Tags replaces them).
#[test]
fn replacement_is_decided_from_create_only_properties() {
    let old = json!({"CidrBlock": "172.31.0.0/16", "EnableDnsHostnames": true});
    assert!(requires_replacement("AWS::EC2::VPC", &old, &json!({"CidrBlock": "172.31.0.0/16"})).is_empty());
    assert_eq!(requires_replacement("AWS::EC2::VPC", &old, &json!({"CidrBlock": "10.0.0.0/16"})), vec!["CidrBlock"]);
    let task = json!({"Family": "f", "Cpu": "256", "Tags": []});
    assert!(requires_replacement("AWS::ECS::TaskDefinition", &task, &json!({"Family": "f", "Cpu": "256"})).is_empty());
    assert_eq!(
        requires_replacement("AWS::ECS::TaskDefinition", &task, &json!({"Family": "f", "Cpu": "512"})),
        vec!["Cpu"]
    );
    assert!(create_only_properties("AWS::SQS::Queue").contains(&"QueueName"));
    let mut state = SandboxState::default();
    let error = change(
        &mut state,
        "AWS::SQS::Queue",
        &Provisioned::new("u"),
        &json!({"QueueName": "a"}),
        &json!({"QueueName": "b"}),
    )
    .expect_err("replacement");
    assert_eq!(error.code, HandlerErrorCode::NotUpdatable);
    assert!(error.reason.contains("create-only property 'QueueName'"), "{}", error.reason);
}
