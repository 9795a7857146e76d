//! A lab deployed by hand (issue 19, item 6) against the in-process
//! sandbox: the lab's original templates created through the SDK under
//! names no Keywatch prefix gives, recognised by what the stacks contain,
//! adopted (audited), its alarm's notifications delivered to the inbox, its
//! threshold changed through a change set over the stack's own template
//! (CloudTrail shows no PutMetricAlarm), and torn down in the lab's order
//! with the retained trail bucket, the final snapshot and the inbox queue,
//! leaving nothing.

mod support;

use std::time::Duration;

use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use keywatch::alarms::ServerAlarms;
use keywatch::lab::ServerLab;
use keywatch::pollers::stack_watcher::StackWatcher;
use keywatch::pollers::{PollerConfig, inbox};
use keywatch_app::api::alarms::port::AlarmsBackend;
use keywatch_app::api::alarms::{AlarmListQuery, AlarmRequest, ChangePath, ThresholdRequest};
use keywatch_app::api::lab::port::LabBackend;
use keywatch_app::api::lab::{
    AdoptRequest, FoundLab, PreviewRequest, RemoveLeftoverRequest, TeardownQuery, TeardownRequest, TeardownStatus,
};
use keywatch_app::error::AppError;
use keywatch_domain::alarm::ThresholdForm;
use keywatch_domain::cloudformation::Template;
use keywatch_domain::lab::LabSection;
use support::World;

// Names a user might give; nothing in them says "lab".
const BASE: &str = "network";
const APP: &str = "kms-application";
const LOGGING: &str = "monitoring";
// No common start: the adopted lab is filed under `adopted`.
const PREFIX: &str = "adopted";
// The original logging template's alarm and its logical id.
const ALARM: &str = "Pattern1ApplicationKMSSecurityAlarm";
const ALARM_RESOURCE: &str = "Pattern1CloudWatchLogGroupMetricFilterAlarm";

/// The lab's original templates (../shared/lab-original), or `None` where
/// this checkout has none beside it.
fn originals() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("KEYWATCH_LAB_ORIGINALS").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/lab-original"),
        std::path::PathBuf::from,
    );
    dir.join("pattern1-app.yml").is_file().then_some(dir)
}

fn parameter(key: &str, value: &str) -> Parameter {
    Parameter::builder().parameter_key(key).parameter_value(value).build()
}

/// `aws cloudformation create-stack` and its waiter: the stack's outputs.
async fn create_stack(
    cfn: &aws_sdk_cloudformation::Client,
    name: &str,
    body: &str,
    parameters: Vec<Parameter>,
) -> Vec<(String, String)> {
    let mut request = cfn.create_stack().stack_name(name).template_body(body).set_parameters(Some(parameters));
    if body.contains("AWS::IAM::Role") {
        request = request.capabilities(Capability::CapabilityNamedIam);
    }
    request.send().await.expect("CreateStack");
    for _ in 0..600 {
        let described = cfn.describe_stacks().stack_name(name).send().await.expect("DescribeStacks");
        let stack = &described.stacks()[0];
        match stack.stack_status() {
            Some(StackStatus::CreateComplete) => {
                return stack
                    .outputs()
                    .iter()
                    .map(|o| (o.output_key().unwrap_or_default().into(), o.output_value().unwrap_or_default().into()))
                    .collect();
            }
            Some(StackStatus::CreateInProgress) => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("{name} ended {other:?}: {:?}", stack.stack_status_reason()),
        }
    }
    panic!("{name} never completed")
}

fn output(outputs: &[(String, String)], key: &str) -> String {
    outputs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("no output {key}"))
}

/// The lab's three commands with the original templates (the app
/// template's `NAME:` typo corrected, as CloudFormation refuses it), and a
/// stack of the user's own that is not the lab.
async fn deploy_by_hand(world: &World, originals: &std::path::Path) {
    let read = |file: &str| std::fs::read_to_string(originals.join(file)).expect("an original template");
    let cfn = aws_sdk_cloudformation::Client::new(&world.aws.sdk_config);
    let base = create_stack(&cfn, BASE, &read("pattern1-base.yml"), Vec::new()).await;
    let repository = output(&base, "OutputPattern1AppContainerRepository");
    let app_body = read("pattern1-app.yml").replace("- NAME: DBSecret", "- Name: DBSecret");
    let app = create_stack(
        &cfn,
        APP,
        &app_body,
        vec![parameter("BaselineVpcStack", BASE), parameter("ECRImageURI", &format!("{repository}:latest"))],
    )
    .await;
    let role = output(&app, "OutputPattern1ECSTaskRole");
    create_stack(
        &cfn,
        LOGGING,
        &read("pattern1-logging.yml"),
        vec![parameter("AppECSTaskRoleArn", &role), parameter("EmailAddress", "secops@example.com")],
    )
    .await;
    let unrelated =
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\nOutputs:\n  OutputPattern1Topic:\n    Value: !Ref Topic\n";
    create_stack(&cfn, "website-alerts", unrelated, Vec::new()).await;
}

/// How many times CloudTrail recorded `event_name`.
async fn trail_events(world: &World, event_name: &str) -> usize {
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventName)
        .attribute_value(event_name)
        .build()
        .expect("attribute");
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&world.aws.sdk_config);
    let events = cloudtrail.lookup_events().lookup_attributes(attribute).send().await.expect("LookupEvents");
    events.events().len()
}

/// The teardown's status once it has finished and is recorded (what
/// Remove acts on).
async fn finished_teardown(world: &World, lab: &ServerLab) -> TeardownStatus {
    for _ in 0..600 {
        let status = lab.teardown_status(TeardownQuery { prefix: Some(PREFIX.into()) }).await.expect("status");
        let stored = world.db.teardowns().latest().await.expect("teardowns");
        if !status.running && stored.is_some_and(|stored| !stored.status.running) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the teardown never finished")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lab_deployed_by_hand_is_adopted_retuned_through_its_stack_and_torn_down() {
    let Some(originals) = originals() else {
        eprintln!("skipped: the lab's original templates are not beside this checkout");
        return;
    };
    let world = World::new().await;
    let lab = world.lab_over(world.aws.clone());
    let alarms = ServerAlarms::new(world.aws.clone(), world.db.clone(), lab.clone());
    deploy_by_hand(&world, &originals).await;

    // Found by what the stacks contain and how they are wired; the
    // unrelated stack with a lab-like output is not.
    let overview = lab.overview().await.expect("overview");
    let hand_made = FoundLab { base: Some(BASE.into()), application: Some(APP.into()), logging: Some(LOGGING.into()) };
    assert_eq!(overview.found, [hand_made], "{overview:?}");
    assert!(!overview.adopted);

    // Only a lab found now is adopted: not a stack named at will.
    let refused = lab
        .adopt(AdoptRequest { logging: "website-alerts".into(), ..AdoptRequest::default() })
        .await
        .expect_err("not the lab");
    assert!(matches!(refused, AppError::Conflict(_)), "{refused:?}");
    let request = AdoptRequest { base: BASE.into(), application: APP.into(), logging: LOGGING.into() };
    let overview = lab.adopt(request).await.expect("adopt");
    assert_eq!(overview.prefix, PREFIX);
    assert!(overview.adopted && overview.found.is_empty(), "{overview:?}");
    let shown: Vec<(&str, &str)> = overview
        .sections
        .iter()
        .map(|s| (s.stack.stack_name.as_str(), s.stack.status.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(shown, [(BASE, "CREATE_COMPLETE"), (APP, "CREATE_COMPLETE"), (LOGGING, "CREATE_COMPLETE")]);
    let audit = world.db.audit().page(None, 10).await.expect("audit");
    assert!(
        audit.iter().any(|r| r.action == "lab.adopt" && r.outcome == "succeeded" && r.target.contains(LOGGING)),
        "{audit:?}"
    );
    assert!(audit.iter().any(|r| r.action == "lab.adopt" && r.outcome == "refused"), "the refusal is audited too");

    // The wizard keeps its template off the adopted stacks.
    let preview = lab
        .preview(PreviewRequest { section: LabSection::LoggingAndAlarm, prefix: PREFIX.into(), parameters: Vec::new() })
        .await
        .expect_err("an adopted stack keeps its template");
    assert!(matches!(preview, AppError::Conflict(_)), "{preview:?}");

    // The inbox listens to the adopted topic: the alarm's notification arrives.
    let config = PollerConfig::new(Duration::from_secs(1));
    let queue = inbox::ensure_subscribed(&world.aws, &world.db, &config, &mut None)
        .await
        .expect("inbox round")
        .expect("the adopted topic gets the inbox a queue");
    let since_ms = keywatch::clock::now_ms() - 1_000;
    aws_sdk_cloudwatch::Client::new(&world.aws.sdk_config)
        .set_alarm_state()
        .alarm_name(ALARM)
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("adoption test")
        .send()
        .await
        .expect("SetAlarmState");
    let mut notified = None;
    for _ in 0..50 {
        inbox::receive_once(&world.aws, &world.db, &queue.queue_url, 1).await.expect("receive");
        notified = world.db.notifications().first_since(ALARM, "ALARM", since_ms).await.expect("query");
        if notified.is_some() {
            break;
        }
    }
    assert!(notified.is_some(), "the adopted alarm's notification never reached the inbox");

    // The alarm is managed, and the page says Apply goes through the stack.
    let listed = alarms.alarms(AlarmListQuery { all: false }).await.expect("alarms");
    assert!(listed.iter().any(|a| a.alarm_name == ALARM && a.managed), "{listed:?}");
    let view = alarms.alarm(AlarmRequest { alarm_name: ALARM.into() }).await.expect("alarm");
    assert_eq!(view.path, ChangePath::StackTemplate { stack_name: LOGGING.into(), logical_id: ALARM_RESOURCE.into() });

    // The stack keeps its own template: no detections to switch in it; the
    // pattern tester reads its trail log group (the lab's output key).
    let detections = alarms.detections().await.expect("detections");
    assert_eq!(detections.stack_name, None);
    alarms.recent_trail_events().await.expect("the trail's recent KMS events");

    // Threshold 1 → 4 through a change set over the stack's own template.
    let put_metric_alarm_before = trail_events(&world, "PutMetricAlarm").await;
    let form = ThresholdForm { threshold: "4".into(), ..ThresholdForm::of(&view.settings) };
    let change = alarms.apply(ThresholdRequest { alarm_name: ALARM.into(), form }).await.expect("apply");
    assert_eq!(change.path, "change set");
    assert_eq!(change.stack_name.as_deref(), Some(LOGGING));
    assert_eq!(change.fields, [("Threshold".to_owned(), "1".to_owned(), "4".to_owned())]);
    // The stack watcher finishes the change, as `serve` runs it.
    let watcher = StackWatcher::new(&world.aws, world.db.clone());
    let mut finished = None;
    for _ in 0..600 {
        watcher.poll_once().await.expect("watcher round");
        let changes = world.db.threshold_changes().for_alarm(ALARM, 10).await.expect("changes");
        if changes[0].outcome != "pending" {
            finished = Some(changes[0].clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let finished = finished.expect("the stack update finished");
    assert_eq!(finished.outcome, "succeeded", "{finished:?}");
    let change_set_id = finished.change_set_id.expect("a change set");
    let cfn = aws_sdk_cloudformation::Client::new(&world.aws.sdk_config);
    let change_set = cfn.describe_change_set().change_set_name(&change_set_id).send().await.expect("DescribeChangeSet");
    assert_eq!(change_set.stack_name(), Some(LOGGING));
    assert_eq!(change_set.execution_status().map(|s| s.as_str()), Some("EXECUTE_COMPLETE"));
    let changed: Vec<_> = change_set
        .changes()
        .iter()
        .filter_map(|c| c.resource_change())
        .map(|r| (r.logical_resource_id().unwrap_or_default(), r.action().map(|a| a.as_str()).unwrap_or_default()))
        .collect();
    assert_eq!(changed, [(ALARM_RESOURCE, "Modify")]);

    // The template holds the new threshold, every parameter kept its value,
    // and the alarm agrees: no drift.
    let body = world.aws.cloudformation().template_body(LOGGING).await.expect("GetTemplate");
    let template = Template::parse(&body).expect("a template");
    let resource = template.resource(ALARM_RESOURCE).expect("the alarm resource");
    assert_eq!(resource.properties["Threshold"].as_f64(), Some(4.0));
    assert_eq!(resource.properties["AlarmName"], serde_json::json!(ALARM));
    let stack = world.aws.cloudformation().describe_stack(LOGGING).await.expect("describe").expect("the stack");
    assert_eq!(stack.status, "UPDATE_COMPLETE");
    assert!(stack.parameters.iter().any(|(k, v)| k == "EmailAddress" && v == "secops@example.com"));
    let alarm = world.aws.cloudwatch().describe_alarm(ALARM).await.expect("DescribeAlarms").expect("the alarm");
    let settings = alarm.settings.expect("a metric alarm");
    assert_eq!(settings.threshold, 4.0);
    // CloudTrail: the change went through CloudFormation, never PutMetricAlarm.
    let mut executed = 0;
    for _ in 0..50 {
        executed = trail_events(&world, "ExecuteChangeSet").await;
        if executed > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(executed, 1, "one ExecuteChangeSet");
    assert!(trail_events(&world, "GetTemplate").await >= 1);
    assert_eq!(trail_events(&world, "PutMetricAlarm").await, put_metric_alarm_before);
    assert_eq!(put_metric_alarm_before, 0, "nothing ever called PutMetricAlarm");

    // Teardown: logging, application, base, then the retained trail bucket
    // and the inbox queue that was really created.
    let resources = world.aws.cloudformation().stack_resources(LOGGING).await.expect("resources");
    let bucket = resources
        .iter()
        .find(|r| r.logical_id == "Pattern1CloudTrailS3Bucket")
        .and_then(|r| r.physical_id.clone())
        .expect("the trail bucket");
    lab.teardown(TeardownRequest { prefix: PREFIX.into(), confirmation: PREFIX.into() }).await.expect("teardown");
    let status = finished_teardown(&world, &lab).await;
    let steps: Vec<(&str, &str)> = status.steps.iter().map(|s| (s.title.as_str(), s.state.as_str())).collect();
    assert_eq!(
        steps[1..],
        [
            ("Delete stack monitoring", "done"),
            ("Delete stack kms-application", "done"),
            ("Delete stack network", "done"),
            ("Empty and delete the retained CloudTrail bucket", "done"),
            ("Delete Keywatch's notification inbox queue", "done"),
        ],
        "{:?}",
        status.steps
    );
    assert!(status.steps[4].detail.as_deref().is_some_and(|d| d.starts_with(&bucket)), "{:?}", status.steps[4]);
    assert_eq!(status.steps[5].detail.as_deref(), Some("keywatch-inbox-pattern1 deleted"));
    // The original database has CloudFormation's default DeletionPolicy
    // (Snapshot): its final snapshot is reported and removed from here.
    assert_eq!(status.leftovers.len(), 1, "{:?}", status.leftovers);
    for leftover in status.leftovers.clone() {
        assert_eq!(leftover.what, "RDS final snapshot", "{leftover:?}");
        lab.remove_leftover(RemoveLeftoverRequest { prefix: PREFIX.into(), name: leftover.name })
            .await
            .expect("remove the snapshot");
    }

    // Nothing is left: no stack, no bucket, no queue, no adoption.
    let summaries = cfn.list_stacks().send().await.expect("ListStacks");
    let live: Vec<&str> = summaries
        .stack_summaries()
        .iter()
        .filter(|s| s.stack_status() != Some(&StackStatus::DeleteComplete))
        .filter_map(|s| s.stack_name())
        .collect();
    assert_eq!(live, ["website-alerts"]);
    let s3 = aws_sdk_s3::Client::new(&world.aws.sdk_config);
    let buckets = s3.list_buckets().send().await.expect("ListBuckets");
    assert!(buckets.buckets().iter().all(|b| b.name() != Some(bucket.as_str())), "{buckets:?}");
    let sqs = aws_sdk_sqs::Client::new(&world.aws.sdk_config);
    assert!(sqs.list_queues().send().await.expect("ListQueues").queue_urls().is_empty());
    assert!(world.db.adopted_labs().all().await.expect("adopted").is_empty());
    let overview = lab.overview().await.expect("overview");
    assert!(!overview.adopted && overview.found.is_empty(), "{overview:?}");
}
