//! CloudFormation's stack lifecycle in the sandbox, through the Rust SDK:
//! update rollbacks, replacements, exports in use, change sets that create
//! stacks, NoEcho, DeletionPolicy and failed deletions — each as
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks.html>,
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html> and
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html>
//! describe them.

mod support;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{ChangeSetType, Parameter, StackStatus};

async fn settled(client: &Client, stack: &str) -> aws_sdk_cloudformation::types::Stack {
    for _ in 0..200 {
        let described = client.describe_stacks().stack_name(stack).send().await.expect("describe");
        let found = described.stacks().first().cloned().expect("one stack");
        if !found.stack_status().expect("status").as_str().ends_with("_IN_PROGRESS") {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("stack {stack} never settled");
}

async fn reasons(client: &Client, stack: &str) -> Vec<String> {
    let events = client.describe_stack_events().stack_name(stack).send().await.expect("events");
    events.stack_events().iter().filter_map(|e| e.resource_status_reason().map(str::to_owned)).collect()
}

struct Harness {
    _running: keywatch_sandbox::RunningSandbox,
    sdk: aws_config::SdkConfig,
    cfn: Client,
}

async fn harness() -> Harness {
    let running = support::start_sandbox().await;
    let sdk = support::sdk_config(&running.endpoint_url, "ap-southeast-2");
    let cfn = Client::new(&sdk);
    Harness { _running: running, sdk, cfn }
}

#[tokio::test]
async fn a_failed_update_rolls_back_to_the_previous_properties() {
    let h = harness().await;
    let v1 = r#"
Resources:
  Group:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: lifecycle-group
      RetentionInDays: 7
"#;
    let v2 = r#"
Resources:
  Group:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: lifecycle-group
      RetentionInDays: 14
  Added:
    Type: AWS::SNS::Topic
    DependsOn: Group
    Properties:
      TopicName: lifecycle-added
  Broken:
    Type: AWS::Lambda::Function
    DependsOn: Added
    Properties:
      Role: arn:aws:iam::111122223333:role/none
      Code: {ZipFile: "pass"}
      Handler: index.handler
      Runtime: python3.12
"#;
    h.cfn.create_stack().stack_name("lifecycle").template_body(v1).send().await.expect("created");
    assert_eq!(settled(&h.cfn, "lifecycle").await.stack_status(), Some(&StackStatus::CreateComplete));
    h.cfn.update_stack().stack_name("lifecycle").template_body(v2).send().await.expect("update accepted");
    let stack = settled(&h.cfn, "lifecycle").await;
    assert_eq!(stack.stack_status(), Some(&StackStatus::UpdateRollbackComplete));
    assert!(
        reasons(&h.cfn, "lifecycle")
            .await
            .iter()
            .any(|r| r == "The following resource(s) failed to create: [Broken]. ")
    );
    // The in-place change was undone and the added topic removed.
    let logs = aws_sdk_cloudwatchlogs::Client::new(&h.sdk);
    let groups = logs.describe_log_groups().log_group_name_prefix("lifecycle-group").send().await.expect("groups");
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(7));
    let sns = aws_sdk_sns::Client::new(&h.sdk);
    assert!(sns.list_topics().send().await.expect("topics").topics().is_empty());
    // The stack is back on its old template.
    let template = h.cfn.get_template().stack_name("lifecycle").send().await.expect("template");
    assert_eq!(template.template_body(), Some(v1));
}

#[tokio::test]
async fn a_create_only_property_change_replaces_the_resource() {
    let h = harness().await;
    let template = |name: &str| {
        format!("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: {name}\n")
    };
    h.cfn.create_stack().stack_name("replace").template_body(template("first-topic")).send().await.expect("created");
    settled(&h.cfn, "replace").await;
    let change_set = h
        .cfn
        .create_change_set()
        .stack_name("replace")
        .change_set_name("rename")
        .template_body(template("second-topic"))
        .send()
        .await
        .expect("change set");
    let described =
        h.cfn.describe_change_set().change_set_name(change_set.id().expect("id")).send().await.expect("described");
    let change = described.changes()[0].resource_change().expect("resource change");
    assert_eq!(change.action().map(|a| a.as_str()), Some("Modify"));
    assert_eq!(change.replacement().map(|r| r.as_str()), Some("True"));
    h.cfn.execute_change_set().change_set_name(change_set.id().expect("id")).send().await.expect("executed");
    assert_eq!(settled(&h.cfn, "replace").await.stack_status(), Some(&StackStatus::UpdateComplete));
    assert!(
        reasons(&h.cfn, "replace")
            .await
            .iter()
            .any(|r| { r == "Requested update requires the creation of a new physical resource; hence creating one." })
    );
    let sns = aws_sdk_sns::Client::new(&h.sdk);
    let topics = sns.list_topics().send().await.expect("topics");
    let arns: Vec<_> = topics.topics().iter().filter_map(|t| t.topic_arn()).collect();
    assert_eq!(arns, ["arn:aws:sns:ap-southeast-2:111122223333:second-topic"]);
    let listed = h.cfn.list_change_sets().stack_name("replace").send().await.expect("change sets");
    assert_eq!(listed.summaries()[0].execution_status().map(|s| s.as_str()), Some("EXECUTE_COMPLETE"));
}

#[tokio::test]
async fn an_export_in_use_cannot_be_removed_or_deleted() {
    let h = harness().await;
    let exporter = r#"
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  TopicArn:
    Value: !Ref Topic
    Export:
      Name: shared-topic-arn
"#;
    let importer = r#"
Resources:
  Subscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !ImportValue shared-topic-arn
      Protocol: email
      Endpoint: security@example.com
"#;
    let without_export = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n";
    h.cfn.create_stack().stack_name("exporter").template_body(exporter).send().await.expect("exporter");
    settled(&h.cfn, "exporter").await;
    h.cfn.create_stack().stack_name("importer").template_body(importer).send().await.expect("importer");
    assert_eq!(settled(&h.cfn, "importer").await.stack_status(), Some(&StackStatus::CreateComplete));
    let imports = h.cfn.list_imports().export_name("shared-topic-arn").send().await.expect("imports");
    assert_eq!(imports.imports(), ["importer"]);

    h.cfn.update_stack().stack_name("exporter").template_body(without_export).send().await.expect("accepted");
    let stack = settled(&h.cfn, "exporter").await;
    assert_eq!(stack.stack_status(), Some(&StackStatus::UpdateRollbackComplete));
    assert!(
        reasons(&h.cfn, "exporter")
            .await
            .iter()
            .any(|r| r == "Cannot delete export shared-topic-arn as it is in use by importer.")
    );
    assert_eq!(stack.outputs()[0].export_name(), Some("shared-topic-arn"));

    // Once the importer is gone, the exporter can go too.
    h.cfn.delete_stack().stack_name("importer").send().await.expect("delete importer");
    h.cfn.delete_stack().stack_name("exporter").send().await.expect("delete exporter");
    let missing = h.cfn.list_imports().export_name("shared-topic-arn").send().await.expect_err("no export left");
    assert!(missing.as_service_error().and_then(|e| e.meta().message()).is_some_and(|m| m.contains("is not imported")));
    assert!(h.cfn.describe_stacks().send().await.expect("stacks").stacks().is_empty());
}

#[tokio::test]
async fn a_create_change_set_reviews_a_new_stack_before_it_exists() {
    let h = harness().await;
    let template = r#"
Parameters:
  Secret:
    Type: String
    NoEcho: true
Resources:
  Queue:
    Type: AWS::SQS::Queue
"#;
    let created = h
        .cfn
        .create_change_set()
        .stack_name("reviewed")
        .change_set_name("initial")
        .change_set_type(ChangeSetType::Create)
        .template_body(template)
        .parameters(Parameter::builder().parameter_key("Secret").parameter_value("hunter2").build())
        .send()
        .await
        .expect("change set");
    let stack = h.cfn.describe_stacks().stack_name("reviewed").send().await.expect("stack");
    assert_eq!(stack.stacks()[0].stack_status(), Some(&StackStatus::ReviewInProgress));
    let described =
        h.cfn.describe_change_set().change_set_name(created.id().expect("id")).send().await.expect("described");
    let change = described.changes()[0].resource_change().expect("change");
    assert_eq!((change.action().map(|a| a.as_str()), change.logical_resource_id()), (Some("Add"), Some("Queue")));
    assert_eq!(described.parameters()[0].parameter_value(), Some("****"));
    h.cfn.execute_change_set().change_set_name(created.id().expect("id")).send().await.expect("executed");
    let stack = settled(&h.cfn, "reviewed").await;
    assert_eq!(stack.stack_status(), Some(&StackStatus::CreateComplete));
    // NoEcho values never come back.
    assert_eq!(stack.parameters()[0].parameter_value(), Some("****"));
    let sqs = aws_sdk_sqs::Client::new(&h.sdk);
    assert_eq!(sqs.list_queues().send().await.expect("queues").queue_urls().len(), 1);

    // A change set with nothing to change fails with CloudFormation's reason.
    let same = h
        .cfn
        .create_change_set()
        .stack_name("reviewed")
        .change_set_name("same")
        .use_previous_template(true)
        .parameters(Parameter::builder().parameter_key("Secret").use_previous_value(true).build())
        .send()
        .await
        .expect("change set");
    let described =
        h.cfn.describe_change_set().change_set_name(same.id().expect("id")).send().await.expect("described");
    assert_eq!(described.status().map(|s| s.as_str()), Some("FAILED"));
    assert_eq!(
        described.status_reason(),
        Some("The submitted information didn't contain changes. Submit different information to create a change set.")
    );
}

#[tokio::test]
async fn deletion_keeps_retained_resources_and_fails_on_a_bucket_with_objects() {
    let h = harness().await;
    let template = r#"
Resources:
  Kept:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    Properties:
      BucketName: lifecycle-kept
  Busy:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: lifecycle-busy
"#;
    h.cfn.create_stack().stack_name("buckets").template_body(template).send().await.expect("created");
    settled(&h.cfn, "buckets").await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&h.sdk).force_path_style(true).build());
    s3.put_object().bucket("lifecycle-busy").key("a.txt").body(b"a".to_vec().into()).send().await.expect("object");

    h.cfn.delete_stack().stack_name("buckets").send().await.expect("delete accepted");
    let stack = settled(&h.cfn, "buckets").await;
    assert_eq!(stack.stack_status(), Some(&StackStatus::DeleteFailed));
    assert_eq!(stack.stack_status_reason(), Some("The following resource(s) failed to delete: [Busy]. "));
    assert!(reasons(&h.cfn, "buckets").await.iter().any(|r| r.contains("BucketNotEmpty") || r.contains("not empty")));

    // Emptied, the bucket goes; the retained one stays (DELETE_SKIPPED).
    s3.delete_object().bucket("lifecycle-busy").key("a.txt").send().await.expect("emptied");
    let id = stack.stack_id().expect("id").to_owned();
    h.cfn.delete_stack().stack_name("buckets").send().await.expect("delete again");
    assert_eq!(settled(&h.cfn, &id).await.stack_status(), Some(&StackStatus::DeleteComplete));
    let events = h.cfn.describe_stack_events().stack_name(&id).send().await.expect("events");
    assert!(events.stack_events().iter().any(|e| {
        e.logical_resource_id() == Some("Kept") && e.resource_status().map(|s| s.as_str()) == Some("DELETE_SKIPPED")
    }));
    let buckets = s3.list_buckets().send().await.expect("buckets");
    let names: Vec<_> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["lifecycle-kept"]);
}
