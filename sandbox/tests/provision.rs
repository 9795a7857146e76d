//! CloudFormation's provisioners seen through the official Rust SDK: the
//! logging stack's resources (lab.md, stack 3) made by the provisioners
//! are what KMS, CloudWatch Logs, CloudWatch, SNS and CloudTrail then list,
//! and the provisioned stores survive a restart.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html>

mod support;

use keywatch_sandbox::cloudformation::provision::{self, Provisioned, ResourceRequest, changed_parts};
use keywatch_sandbox::identity::Principal;
use keywatch_sandbox::service::CallContext;
use keywatch_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value as Json, json};

const REGION: &str = "ap-southeast-2";
const STACK: &str = "pattern1-logging";
const STACK_ID: &str =
    "arn:aws:cloudformation:ap-southeast-2:111122223333:stack/pattern1-logging/4b5a6978-8a9b-0c1d-2e3f-4a5b0f1e2d3c";

fn ctx() -> CallContext {
    CallContext {
        caller: Principal::default_user("aws", None),
        region: REGION.into(),
        partition: "aws".into(),
        now: keywatch_sandbox::clock::now_ms(),
        request_id: "cloudformation".into(),
    }
}

fn provision(sandbox: &Sandbox, resource_type: &str, logical_id: &str, properties: Json) -> Provisioned {
    sandbox.write_state(changed_parts(resource_type), |state| {
        let request = ResourceRequest {
            logical_id,
            resource_type,
            properties: &properties,
            stack_name: STACK,
            stack_id: STACK_ID,
        };
        provision::create(state, &ctx(), &request).unwrap_or_else(|error| panic!("{logical_id}: {error}"))
    })
}

#[tokio::test]
async fn provisioned_logging_stack_is_what_the_services_list() {
    let (sandbox, running) = support::start_sandbox_with(support::quick_config()).await;
    let config = support::sdk_config(&running.endpoint_url, REGION);

    let key = provision(
        &sandbox,
        "AWS::KMS::Key",
        "TrailKey",
        json!({"EnableKeyRotation": true, "PendingWindowInDays": 7,
        "KeyPolicy": {"Version": "2012-10-17", "Statement": [{"Sid": "EnableIAMPolicies", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}}),
    );
    let group = provision(
        &sandbox,
        "AWS::Logs::LogGroup",
        "TrailLogGroup",
        json!({"LogGroupName": "pattern1-logging-loggroup", "RetentionInDays": 7}),
    );
    let role = provision(
        &sandbox,
        "AWS::IAM::Role",
        "TrailToLogsRole",
        json!({"RoleName": "pattern1-logging-CloudTrailToLogsRole",
        "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}),
    );
    // The trail's bucket and the policy that lets CloudTrail write there
    // come first, as in logging.yaml (CreateTrail checks both).
    let bucket = "pattern1-logging-trail-111122223333-ap-southeast-2";
    provision(&sandbox, "AWS::S3::Bucket", "TrailBucket", json!({"BucketName": bucket}));
    provision(
        &sandbox,
        "AWS::S3::BucketPolicy",
        "TrailBucketPolicy",
        json!({"Bucket": bucket, "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": format!("arn:aws:s3:::{bucket}")},
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/111122223333/*"),
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]}}),
    );
    provision(
        &sandbox,
        "AWS::CloudTrail::Trail",
        "Trail",
        json!({"TrailName": "pattern1-logging-trail", "IsLogging": true,
        "S3BucketName": "pattern1-logging-trail-111122223333-ap-southeast-2", "KMSKeyId": key.attribute("Arn"),
        "EnableLogFileValidation": true, "CloudWatchLogsLogGroupArn": group.attribute("Arn"), "CloudWatchLogsRoleArn": role.attribute("Arn"),
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]}),
    );
    let topic = provision(&sandbox, "AWS::SNS::Topic", "AlarmTopic", json!({"TopicName": "pattern1-logging-topic"}));
    provision(
        &sandbox,
        "AWS::SNS::Subscription",
        "AlarmEmailSubscription",
        json!({"TopicArn": topic.physical_id, "Protocol": "email", "Endpoint": "ops@example.com"}),
    );
    provision(
        &sandbox,
        "AWS::Logs::MetricFilter",
        "KMSSecurityMetricFilter",
        json!({"FilterName": "pattern1-logging-metricfilter",
        "LogGroupName": "pattern1-logging-loggroup", "FilterPattern": "{ $.errorCode = \"*\" && $.eventSource= \"kms.amazonaws.com\" }",
        "MetricTransformations": [{"MetricName": "KMSSecurityError", "MetricNamespace": "Pattern1Application/KMSSecurity", "MetricValue": "1"}]}),
    );
    provision(
        &sandbox,
        "AWS::CloudWatch::Alarm",
        "KMSSecurityAlarm",
        json!({"AlarmName": "pattern1-logging-Pattern1ApplicationKMSSecurityAlarm",
        "Namespace": "Pattern1Application/KMSSecurity", "MetricName": "KMSSecurityError", "Statistic": "Sum", "Period": "10",
        "EvaluationPeriods": "1", "ComparisonOperator": "GreaterThanThreshold", "Threshold": "1", "TreatMissingData": "ignore",
        "AlarmActions": [topic.physical_id]}),
    );

    let kms = aws_sdk_kms::Client::new(&config);
    let keys = kms.list_keys().send().await.expect("ListKeys");
    assert!(keys.keys().iter().any(|k| k.key_id() == Some(key.physical_id.as_str())));
    let rotation = kms.get_key_rotation_status().key_id(&key.physical_id).send().await.expect("GetKeyRotationStatus");
    assert!(rotation.key_rotation_enabled());

    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let groups = logs.describe_log_groups().send().await.expect("DescribeLogGroups");
    let described =
        groups.log_groups().iter().find(|g| g.log_group_name() == Some("pattern1-logging-loggroup")).expect("group");
    assert_eq!(described.retention_in_days(), Some(7));
    let filters =
        logs.describe_metric_filters().log_group_name("pattern1-logging-loggroup").send().await.expect("filters");
    assert_eq!(filters.metric_filters().len(), 1);

    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    let alarms = cloudwatch.describe_alarms().send().await.expect("DescribeAlarms");
    assert_eq!(alarms.metric_alarms().len(), 1);
    assert_eq!(alarms.metric_alarms()[0].period(), Some(10));

    let sns = aws_sdk_sns::Client::new(&config);
    let topics = sns.list_topics().send().await.expect("ListTopics");
    assert!(topics.topics().iter().any(|t| t.topic_arn() == Some(topic.physical_id.as_str())));
    let subscriptions =
        sns.list_subscriptions_by_topic().topic_arn(&topic.physical_id).send().await.expect("subscriptions");
    // Listed subscriptions awaiting confirmation read "PendingConfirmation"
    // (Subscribe itself answers "pending confirmation").
    assert_eq!(subscriptions.subscriptions()[0].subscription_arn(), Some("PendingConfirmation"));

    let cloudtrail = aws_sdk_cloudtrail::Client::new(&config);
    let status = cloudtrail.get_trail_status().name("pattern1-logging-trail").send().await.expect("GetTrailStatus");
    assert_eq!(status.is_logging(), Some(true));

    // The confirmation email links to this sandbox, as SNS's links point at SNS.
    let confirmation = sandbox.read_state(|state| state.sns.outbox[0].body.clone());
    assert!(confirmation.contains(&running.endpoint_url), "{confirmation}");
}

#[tokio::test]
async fn provisioned_stores_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SandboxConfig { state_dir: Some(dir.path().to_owned()), ..SandboxConfig::default() };
    let first = Sandbox::new(config.clone()).expect("sandbox");
    let vpc = provision(&first, "AWS::EC2::VPC", "VPC", json!({"CidrBlock": "172.31.0.0/16"}));
    let role = provision(
        &first,
        "AWS::IAM::Role",
        "Role",
        json!({"AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}),
    );
    drop(first);
    let second = Sandbox::new(config).expect("sandbox");
    second.read_state(|state| {
        assert!(state.ec2.vpcs.contains_key(&vpc.physical_id));
        assert!(state.iam.roles.contains_key(&role.physical_id));
    });
}
