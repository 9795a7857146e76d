//! CloudFormation in the sandbox through the official Rust SDK: the lab's
//! three templates deployed in order with their exports and outputs wired,
//! an alarm threshold changed through a change set, teardown, and templates
//! that fail as CloudFormation fails them.

mod support;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, StackStatus};

const BASE: &str = include_str!("../../cloudformation/base.yaml");
const APPLICATION: &str = include_str!("../../cloudformation/application.yaml");
const LOGGING: &str = include_str!("../../cloudformation/logging.yaml");

fn parameter(key: &str, value: &str) -> Parameter {
    Parameter::builder().parameter_key(key).parameter_value(value).build()
}

/// Polls DescribeStacks until the stack leaves its `_IN_PROGRESS` status.
async fn settled(client: &Client, stack: &str) -> aws_sdk_cloudformation::types::Stack {
    for _ in 0..200 {
        let described = client.describe_stacks().stack_name(stack).send().await.expect("describe");
        let found = described.stacks().first().cloned().expect("one stack");
        let status = found.stack_status().expect("status").as_str().to_owned();
        if !status.ends_with("_IN_PROGRESS") {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("stack {stack} never settled");
}

fn output(stack: &aws_sdk_cloudformation::types::Stack, key: &str) -> String {
    stack
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some(key))
        .and_then(|o| o.output_value())
        .unwrap_or_else(|| panic!("output {key}"))
        .to_owned()
}

async fn all_resources_complete(client: &Client, stack: &str) -> usize {
    let resources = client.list_stack_resources().stack_name(stack).send().await.expect("resources");
    let summaries = resources.stack_resource_summaries();
    for resource in summaries {
        assert_eq!(
            resource.resource_status().map(|s| s.as_str()),
            Some("CREATE_COMPLETE"),
            "{:?} in {stack}",
            resource.logical_resource_id()
        );
        assert!(resource.physical_resource_id().is_some_and(|id| !id.is_empty()));
    }
    summaries.len()
}

#[tokio::test]
async fn the_lab_deploys_updates_through_a_change_set_and_tears_down() {
    let running = support::start_sandbox().await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let cfn = Client::new(&sdk);

    // Stack 1: base network, no parameters.
    cfn.create_stack().stack_name("pattern1-base").template_body(BASE).send().await.expect("base created");
    let base = settled(&cfn, "pattern1-base").await;
    assert_eq!(base.stack_status(), Some(&StackStatus::CreateComplete), "{:?}", base.stack_status_reason());
    assert!(all_resources_complete(&cfn, "pattern1-base").await >= 15);
    let events = cfn.describe_stack_events().stack_name("pattern1-base").send().await.expect("events");
    let events = events.stack_events();
    // Newest first: the stack's own CREATE_COMPLETE, and its User Initiated start last.
    assert_eq!(events.first().and_then(|e| e.resource_status()).map(|s| s.as_str()), Some("CREATE_COMPLETE"));
    assert_eq!(events.last().and_then(|e| e.resource_status_reason()), Some("User Initiated"));
    assert!(
        events.iter().any(|e| e.logical_resource_id() == Some("VPC")
            && e.resource_status_reason() == Some("Resource creation Initiated"))
    );
    let exports = cfn.list_exports().send().await.expect("exports");
    let repository_export = exports
        .exports()
        .iter()
        .find(|e| e.name() == Some("pattern1-base-Pattern1AppContainerRepository"))
        .expect("repository export");
    let repository = repository_export.value().expect("value").to_owned();

    // Stack 2: application, importing the base stack's exports; IAM names
    // need CAPABILITY_NAMED_IAM.
    let refused = cfn
        .create_stack()
        .stack_name("pattern1-app")
        .template_body(APPLICATION)
        .parameters(parameter("ECRImageURI", &format!("{repository}:latest")))
        .send()
        .await
        .expect_err("capability missing");
    assert_eq!(refused.as_service_error().and_then(|e| e.meta().code()), Some("InsufficientCapabilitiesException"));
    cfn.create_stack()
        .stack_name("pattern1-app")
        .template_body(APPLICATION)
        .capabilities(Capability::CapabilityNamedIam)
        .parameters(parameter("BaselineVpcStack", "pattern1-base"))
        .parameters(parameter(
            "ECRImageURI",
            &format!("111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/{repository}:latest"),
        ))
        .send()
        .await
        .expect("app created");
    let app = settled(&cfn, "pattern1-app").await;
    assert_eq!(app.stack_status(), Some(&StackStatus::CreateComplete), "{:?}", app.stack_status_reason());
    all_resources_complete(&cfn, "pattern1-app").await;
    let task_role = output(&app, "OutputPattern1ECSTaskRole");
    assert!(task_role.starts_with("arn:aws:iam::111122223333:role/"), "{task_role}");
    let imports = cfn.list_imports().export_name("pattern1-base-VpcId").send().await.expect("imports");
    assert_eq!(imports.imports(), ["pattern1-app"]);

    // The app's KMS key exists in KMS for real.
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key_id = output(&app, "OutputPattern1AppKeyId");
    let key = kms.describe_key().key_id(&key_id).send().await.expect("app key in KMS");
    assert_eq!(key.key_metadata().map(|m| m.enabled()), Some(true));

    // Stack 3: logging and alarm, given the task role ARN.
    cfn.create_stack()
        .stack_name("pattern1-logging")
        .template_body(LOGGING)
        .capabilities(Capability::CapabilityNamedIam)
        .parameters(parameter("AppECSTaskRoleArn", &task_role))
        .send()
        .await
        .expect("logging created");
    let logging = settled(&cfn, "pattern1-logging").await;
    assert_eq!(logging.stack_status(), Some(&StackStatus::CreateComplete), "{:?}", logging.stack_status_reason());
    all_resources_complete(&cfn, "pattern1-logging").await;

    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    let alarms = cloudwatch.describe_alarms().send().await.expect("alarms");
    let alarm = alarms.metric_alarms().first().cloned().expect("the lab's alarm");
    assert_eq!(alarm.threshold(), Some(1.0));
    let alarm_name = alarm.alarm_name().expect("name").to_owned();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let filters = logs.describe_metric_filters().send().await.expect("filters");
    let pattern = filters.metric_filters().first().and_then(|f| f.filter_pattern()).expect("pattern");
    assert!(pattern.contains(&task_role), "{pattern}");

    // Change the threshold through a change set: a Modify without replacement.
    let change_set = cfn
        .create_change_set()
        .stack_name("pattern1-logging")
        .change_set_name("threshold-5")
        .change_set_type(ChangeSetType::Update)
        .use_previous_template(true)
        .capabilities(Capability::CapabilityNamedIam)
        .parameters(Parameter::builder().parameter_key("AppECSTaskRoleArn").use_previous_value(true).build())
        .parameters(parameter("AlarmThreshold", "5"))
        .send()
        .await
        .expect("change set");
    let described =
        cfn.describe_change_set().change_set_name(change_set.id().expect("id")).send().await.expect("described");
    assert_eq!(described.status().map(|s| s.as_str()), Some("CREATE_COMPLETE"));
    let changes: Vec<_> = described.changes().iter().filter_map(|c| c.resource_change()).collect();
    let alarm_change =
        changes.iter().find(|c| c.logical_resource_id() == Some("KMSSecurityAlarm")).expect("the alarm changes");
    assert_eq!(alarm_change.action().map(|a| a.as_str()), Some("Modify"));
    assert_eq!(alarm_change.replacement().map(|r| r.as_str()), Some("False"));
    cfn.execute_change_set().change_set_name(change_set.id().expect("id")).send().await.expect("executed");
    let updated = settled(&cfn, "pattern1-logging").await;
    assert_eq!(updated.stack_status(), Some(&StackStatus::UpdateComplete), "{:?}", updated.stack_status_reason());
    let alarms = cloudwatch.describe_alarms().alarm_names(&alarm_name).send().await.expect("alarm");
    assert_eq!(alarms.metric_alarms().first().and_then(|a| a.threshold()), Some(5.0));

    // An update that changes nothing says so.
    let unchanged = cfn
        .update_stack()
        .stack_name("pattern1-logging")
        .use_previous_template(true)
        .capabilities(Capability::CapabilityNamedIam)
        .parameters(Parameter::builder().parameter_key("AppECSTaskRoleArn").use_previous_value(true).build())
        .parameters(Parameter::builder().parameter_key("AlarmThreshold").use_previous_value(true).build())
        .send()
        .await
        .expect_err("no changes");
    assert_eq!(unchanged.as_service_error().and_then(|e| e.meta().message()), Some("No updates are to be performed."));

    // The base stack cannot go while the app stack imports its exports.
    cfn.delete_stack().stack_name("pattern1-base").send().await.expect("accepted");
    let base = settled(&cfn, "pattern1-base").await;
    assert_eq!(base.stack_status(), Some(&StackStatus::CreateComplete));
    assert!(
        base.stack_status_reason().is_some_and(|r| r.contains("cannot be deleted as it is in use by pattern1-app"))
    );

    // Teardown in the lab's order.
    for stack in ["pattern1-logging", "pattern1-app", "pattern1-base"] {
        let id = cfn.describe_stacks().stack_name(stack).send().await.expect("stack").stacks()[0]
            .stack_id()
            .expect("id")
            .to_owned();
        cfn.delete_stack().stack_name(stack).send().await.expect("delete");
        let gone = settled(&cfn, &id).await;
        assert_eq!(
            gone.stack_status(),
            Some(&StackStatus::DeleteComplete),
            "{stack}: {:?}",
            gone.stack_status_reason()
        );
    }
    let listed = cfn.describe_stacks().send().await.expect("stacks");
    assert!(listed.stacks().is_empty());
    assert!(cloudwatch.describe_alarms().send().await.expect("alarms").metric_alarms().is_empty());
    assert!(logs.describe_log_groups().send().await.expect("groups").log_groups().is_empty());
    let sns = aws_sdk_sns::Client::new(&sdk);
    assert!(sns.list_topics().send().await.expect("topics").topics().is_empty());
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&sdk);
    assert!(cloudtrail.describe_trails().send().await.expect("trails").trail_list().is_empty());
    // Only the trail's bucket is left: its DeletionPolicy is Retain.
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let buckets = s3.list_buckets().send().await.expect("buckets");
    let names: Vec<_> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("pattern1-logging-trail-"), "{names:?}");
    let ecr = aws_sdk_ecr::Client::new(&sdk);
    assert!(ecr.describe_repositories().send().await.expect("repositories").repositories().is_empty());
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    assert!(secrets.list_secrets().send().await.expect("secrets").secret_list().is_empty());
    // KMS keeps deleted keys until their waiting period ends, as AWS does.
    let keys = kms.list_keys().send().await.expect("keys");
    for key in keys.keys() {
        let metadata = kms.describe_key().key_id(key.key_id().expect("id")).send().await.expect("key");
        assert_eq!(metadata.key_metadata().and_then(|m| m.key_state()).map(|s| s.as_str()), Some("PendingDeletion"));
    }
}

#[tokio::test]
async fn a_failing_resource_rolls_the_stack_back_leaving_nothing() {
    let running = support::start_sandbox().await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let cfn = Client::new(&sdk);
    let template = r#"
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: doomed-topic
  Group:
    Type: AWS::Logs::LogGroup
    DependsOn: Topic
    Properties:
      LogGroupName: doomed-group
  Broken:
    Type: AWS::Lambda::Function
    DependsOn: Group
    Properties:
      Role: arn:aws:iam::111122223333:role/none
      Code: {ZipFile: "def handler(event, context): pass"}
      Handler: index.handler
      Runtime: python3.12
"#;
    cfn.create_stack().stack_name("doomed").template_body(template).send().await.expect("accepted");
    let stack = settled(&cfn, "doomed").await;
    assert_eq!(stack.stack_status(), Some(&StackStatus::RollbackComplete));
    let events = cfn.describe_stack_events().stack_name("doomed").send().await.expect("events");
    let failed = events
        .stack_events()
        .iter()
        .find(|e| e.resource_status().map(|s| s.as_str()) == Some("CREATE_FAILED"))
        .expect("a failed resource");
    assert_eq!(failed.logical_resource_id(), Some("Broken"));
    assert!(
        failed
            .resource_status_reason()
            .is_some_and(|r| r.contains("cannot provision resources of type AWS::Lambda::Function")),
        "{:?}",
        failed.resource_status_reason()
    );
    assert!(events.stack_events().iter().any(|e| e.resource_status_reason()
        == Some("The following resource(s) failed to create: [Broken]. Rollback requested by user.")));
    let sns = aws_sdk_sns::Client::new(&sdk);
    assert!(sns.list_topics().send().await.expect("topics").topics().is_empty());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    assert!(logs.describe_log_groups().send().await.expect("groups").log_groups().is_empty());
}

#[tokio::test]
async fn template_errors_are_refused_as_cloudformation_words_them() {
    let running = support::start_sandbox().await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let cfn = Client::new(&sdk);
    let bad_getatt = r#"
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  Nope:
    Value: !GetAtt Topic.NoSuchAttribute
"#;
    let error = cfn.create_stack().stack_name("bad").template_body(bad_getatt).send().await.expect_err("refused");
    let meta = error.as_service_error().map(|e| e.meta().clone()).expect("service error");
    assert_eq!(meta.code(), Some("ValidationError"));
    assert!(meta.message().is_some_and(|m| m.contains("NoSuchAttribute")), "{:?}", meta.message());
    let error = cfn.create_stack().stack_name("bad").template_body("Resources: [").send().await.expect_err("refused");
    assert!(
        error
            .as_service_error()
            .and_then(|e| e.meta().message())
            .is_some_and(|m| m.starts_with("Template format error")),
        "{error:?}"
    );
    // Nothing was created.
    assert!(cfn.describe_stacks().send().await.expect("stacks").stacks().is_empty());

    // GetTemplateSummary tells what a template needs before it is deployed.
    let summary = cfn.get_template_summary().template_body(LOGGING).send().await.expect("summary");
    assert_eq!(summary.capabilities(), [Capability::CapabilityNamedIam]);
    assert!(summary.capabilities_reason().is_some_and(|r| r.contains("AWS::IAM::Role")));
    assert!(
        summary
            .parameters()
            .iter()
            .any(|p| p.parameter_key() == Some("AppECSTaskRoleArn") && p.default_value().is_none())
    );
    assert!(summary.resource_types().iter().any(|t| t == "AWS::CloudTrail::Trail"));
    let missing = cfn.describe_stacks().stack_name("bad").send().await.expect_err("no such stack");
    assert_eq!(missing.as_service_error().and_then(|e| e.meta().message()), Some("Stack with id bad does not exist"));
}

#[tokio::test]
async fn a_paced_stack_shows_progress_and_resumes_after_a_restart() {
    let dir = tempfile::tempdir().expect("state dir");
    let config = keywatch_sandbox::SandboxConfig {
        state_dir: Some(dir.path().to_owned()),
        stack_pace: std::time::Duration::from_millis(300),
        ..keywatch_sandbox::SandboxConfig::default()
    };
    let template = r#"
Resources:
  First:
    Type: AWS::SNS::Topic
  Second:
    Type: AWS::SNS::Topic
    DependsOn: First
  Third:
    Type: AWS::Logs::LogGroup
    DependsOn: Second
"#;
    let (_, running) = support::start_sandbox_with(config.clone()).await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let cfn = Client::new(&sdk);
    cfn.create_stack().stack_name("paced").template_body(template).send().await.expect("accepted");
    let described = cfn.describe_stacks().stack_name("paced").send().await.expect("described");
    assert_eq!(described.stacks()[0].stack_status(), Some(&StackStatus::CreateInProgress));
    // Stop the sandbox part-way, as a crash would.
    tokio::time::sleep(std::time::Duration::from_millis(450)).await;
    drop(running);
    let (_, running) = support::start_sandbox_with(config).await;
    let cfn = Client::new(&support::sdk_config(&running.endpoint_url, "ap-southeast-2"));
    let stack = settled(&cfn, "paced").await;
    assert_eq!(stack.stack_status(), Some(&StackStatus::CreateComplete));
    assert_eq!(all_resources_complete(&cfn, "paced").await, 3);
    let events = cfn.describe_stack_events().stack_name("paced").send().await.expect("events");
    let completed: Vec<_> = events
        .stack_events()
        .iter()
        .rev()
        .filter(|e| e.resource_status().map(|s| s.as_str()) == Some("CREATE_COMPLETE"))
        .filter_map(|e| e.logical_resource_id())
        .collect();
    assert_eq!(completed, ["First", "Second", "Third", "paced"]);
    // Each resource took its turn: the events are spread over the pace.
    let times: Vec<_> = events.stack_events().iter().filter_map(|e| e.timestamp()).map(|t| t.secs()).collect();
    assert!(times.first() >= times.last());
}
