//! The Alarms page's backend against the in-process sandbox: the lab's alarm
//! listed with its condition in words, previewed against its recorded
//! history, changed through the logging stack's parameter with a change set
//! (stack parameter and alarm agree afterwards) and recorded; another alarm
//! changed with PutMetricAlarm; invalid values refused with nothing sent or
//! recorded.

mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::MetricDatum;
use keywatch::alarms::ServerAlarms;
use keywatch::lab::ServerLab;
use keywatch::pollers::stack_watcher::{self, StackWatcher};
use keywatch_app::api::alarms::port::AlarmsBackend;
use keywatch_app::api::alarms::{
    AlarmListQuery, AlarmRequest, ChangePath, DetectionRequest, ThresholdChange, ThresholdRequest,
};
use keywatch_app::api::lab::port::LabBackend;
use keywatch_app::api::lab::{DeployRequest, PreviewOutcome, PreviewRequest};
use keywatch_app::error::AppError;
use keywatch_domain::alarm::{ComparisonOperator, MetricAlarm, Statistic, ThresholdForm, TreatMissingData};
use keywatch_domain::lab::LabSection;
use keywatch_domain::lab_alarms::Detection;
use support::World;

// Under the lab's own stack name the alarm keeps the lab template's name.
const LAB_ALARM: &str = "Pattern1ApplicationKMSSecurityAlarm";

struct Harness {
    lab: Arc<ServerLab>,
    thresholds: ServerAlarms,
    world: World,
    /// Stops the stack watcher when the harness goes.
    _watching: tokio::sync::watch::Sender<bool>,
}

async fn harness() -> Harness {
    let world = World::new().await;
    let lab = world.lab_over(world.aws.clone());
    let thresholds = ServerAlarms::new(world.aws.clone(), world.db.clone(), lab.clone());
    // Change-set changes are finished by the stack watcher, as the console runs it.
    let (watching, stopped) = tokio::sync::watch::channel(false);
    StackWatcher::new(&world.aws, world.db.clone()).spawn(stack_watcher::INTERVAL, stopped);
    Harness { lab, thresholds, world, _watching: watching }
}

/// Deploys a section through the wizard's own path and waits for it.
async fn deploy(harness: &Harness, section: LabSection) {
    let request = PreviewRequest { section, prefix: "pattern1".into(), parameters: Vec::new() };
    let PreviewOutcome::Changes { change_set_id, .. } = harness.lab.preview(request).await.expect("preview") else {
        panic!("expected changes")
    };
    let deployment =
        harness.lab.deploy(DeployRequest { section, prefix: "pattern1".into(), change_set_id }).await.expect("deploy");
    let watcher = StackWatcher::new(&harness.world.aws, harness.world.db.clone());
    for _ in 0..300 {
        watcher.poll_once().await.expect("watcher round");
        let stored = harness.world.db.deployments().get(deployment.id).await.expect("query").expect("recorded");
        if let Some(outcome) = stored.outcome {
            assert_eq!(outcome, "succeeded", "{section:?}: {:?}", stored.status_reason);
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{section:?} never finished deploying")
}

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).expect("now")
}

/// Failed-call counts published to the lab's metric, `(ms ago, value)`.
async fn record(harness: &Harness, points: &[(i64, f64)]) {
    let client = aws_sdk_cloudwatch::Client::new(&harness.world.aws.sdk_config);
    // On the 10-second grid, so points meant for one period land in one.
    let now = now_ms() / 10_000 * 10_000;
    let data = points
        .iter()
        .map(|(ago, value)| {
            MetricDatum::builder()
                .metric_name("KMSSecurityError")
                .timestamp(DateTime::from_millis(now - ago))
                .value(*value)
                .build()
        })
        .collect();
    client
        .put_metric_data()
        .namespace("Pattern1Application/KMSSecurity")
        .set_metric_data(Some(data))
        .send()
        .await
        .expect("PutMetricData");
}

fn input_field(error: AppError) -> Option<String> {
    match error {
        AppError::InvalidInput { field, .. } => field,
        other => panic!("not an input error: {other:?}"),
    }
}

async fn stack_parameter(harness: &Harness, key: &str) -> String {
    let stack =
        harness.world.aws.cloudformation().describe_stack("pattern1-logging").await.expect("describe").expect("stack");
    stack.parameters.into_iter().find(|(k, _)| k == key).map(|(_, v)| v).expect("parameter")
}

async fn alarm_settings(harness: &Harness, name: &str) -> MetricAlarm {
    let details = harness.world.aws.cloudwatch().describe_metric_alarms().await.expect("DescribeAlarms");
    details.into_iter().find(|d| d.alarm_name == name).and_then(|d| d.settings).expect("the alarm")
}

#[tokio::test]
async fn the_lab_alarm_is_previewed_and_changed_through_its_stack() {
    let harness = harness().await;
    for section in [LabSection::BaseNetwork, LabSection::Application, LabSection::LoggingAndAlarm] {
        deploy(&harness, section).await;
    }
    // An hour ago two failed calls in one period, a quiet period, then a burst of five.
    record(&harness, &[(3_599_000, 1.0), (3_598_000, 1.0), (3_000_000, 0.0), (1_800_000, 5.0)]).await;

    let listed = harness.thresholds.alarms(AlarmListQuery { all: false }).await.expect("alarms");
    let lab_alarm = listed.iter().find(|a| a.alarm_name == LAB_ALARM).expect("the lab's alarm is managed");
    assert_eq!(
        lab_alarm.condition.as_deref(),
        Some("Sum of KMSSecurityError > 1 for 1 of 1 periods of 10 s; missing data: ignore")
    );
    assert_eq!(lab_alarm.metric, "Pattern1Application/KMSSecurity / KMSSecurityError");

    let view = harness.thresholds.alarm(AlarmRequest { alarm_name: LAB_ALARM.into() }).await.expect("alarm");
    let ChangePath::Stack { stack_name, logical_id, parameters } = &view.path else {
        panic!("the logging stack owns the lab's alarm: {:?}", view.path)
    };
    assert_eq!((stack_name.as_str(), logical_id.as_str()), ("pattern1-logging", "KMSSecurityAlarm"));
    assert_eq!(parameters.len(), 7);

    let current = ThresholdForm::of(&view.settings);
    let proposed = ThresholdForm { threshold: "3".into(), ..current.clone() };
    let preview = harness
        .thresholds
        .preview(ThresholdRequest { alarm_name: LAB_ALARM.into(), form: proposed.clone() })
        .await
        .expect("preview");
    assert_eq!(preview.current.alarm_count, 2, "{preview:?}");
    assert_eq!(preview.proposed.alarm_count, 1);
    assert!(preview.proposed.time_in_alarm_ms < preview.current.time_in_alarm_ms);
    assert!(preview.buckets.len() <= 600);
    assert_eq!(preview.to_ms - preview.from_ms, 15 * 86_400_000);

    // Invalid values: refused beside the field, nothing sent, nothing recorded.
    // PutMetricAlarm API reference: Period 10, 20, 30 or a multiple of 60; DatapointsToAlarm <= EvaluationPeriods.
    for (bad, field) in [
        (ThresholdForm { period: "15".into(), ..current.clone() }, "Period"),
        (ThresholdForm { threshold: "NaN".into(), ..current.clone() }, "Threshold"),
        (ThresholdForm { datapoints_to_alarm: "2".into(), ..current.clone() }, "DatapointsToAlarm"),
        (ThresholdForm { comparison_operator: "Above".into(), ..current.clone() }, "ComparisonOperator"),
        (ThresholdForm { statistic: "Median".into(), ..current.clone() }, "Statistic"),
        (ThresholdForm { treat_missing_data: "NotBreaching".into(), ..current.clone() }, "TreatMissingData"),
        (
            ThresholdForm { evaluation_periods: "8641".into(), datapoints_to_alarm: "1".into(), ..current.clone() },
            "EvaluationPeriods",
        ),
    ] {
        let request = ThresholdRequest { alarm_name: LAB_ALARM.into(), form: bad };
        let error = harness.thresholds.apply(request.clone()).await.expect_err(field);
        assert_eq!(input_field(error), Some(field.to_owned()));
        let error = harness.thresholds.preview(request).await.expect_err(field);
        assert_eq!(input_field(error), Some(field.to_owned()));
    }
    assert!(harness.world.db.threshold_changes().for_alarm(LAB_ALARM, 10).await.expect("changes").is_empty());
    assert_eq!(stack_parameter(&harness, "AlarmThreshold").await, "1");

    let change = harness
        .thresholds
        .apply(ThresholdRequest { alarm_name: LAB_ALARM.into(), form: proposed })
        .await
        .expect("apply");
    assert_eq!(change.path, "change set");
    assert_eq!(change.fields, [("Threshold".to_owned(), "1".to_owned(), "3".to_owned())]);
    let mut finished = None;
    for _ in 0..300 {
        let changes = harness.world.db.threshold_changes().for_alarm(LAB_ALARM, 10).await.expect("changes");
        if changes[0].outcome != "pending" {
            finished = Some(changes[0].clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let finished = finished.expect("the stack update finished");
    assert_eq!(finished.outcome, "succeeded", "{finished:?}");
    assert!(finished.change_set_id.is_some());
    // The stack's parameter changed and the alarm follows: no drift.
    assert_eq!(stack_parameter(&harness, "AlarmThreshold").await, "3");
    assert_eq!(alarm_settings(&harness, LAB_ALARM).await.threshold, 3.0);
    let view = harness.thresholds.alarm(AlarmRequest { alarm_name: LAB_ALARM.into() }).await.expect("alarm");
    assert_eq!(view.condition, "Sum of KMSSecurityError > 3 for 1 of 1 periods of 10 s; missing data: ignore");
    assert_eq!(view.changes.len(), 1);
    // Every other parameter kept its value.
    assert_eq!(stack_parameter(&harness, "AlarmPeriod").await, "10");
    assert_eq!(stack_parameter(&harness, "EnableHighVolumeDetection").await, "false");

    // The optional detections: refused values change nothing; a valid one goes through the stack.
    let detections = harness.thresholds.detections().await.expect("detections");
    assert_eq!(detections.stack_name.as_deref(), Some("pattern1-logging"));
    assert!(detections.detections.iter().all(|d| !d.enabled && d.alarm_name.is_none()));
    let values = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let error = harness
        .thresholds
        .set_detection(DetectionRequest {
            detection: Detection::KeyDisable,
            enabled: true,
            values: values(&[("KeyDisableThreshold", "1"), ("KeyDisablePeriod", "90")]),
        })
        .await
        .expect_err("a period of 90 s");
    assert_eq!(input_field(error), Some("KeyDisablePeriod".to_owned()));
    assert_eq!(stack_parameter(&harness, "EnableKeyDisableDetection").await, "false");
    let change = harness
        .thresholds
        .set_detection(DetectionRequest {
            detection: Detection::HighVolume,
            enabled: true,
            values: values(&[
                ("HighVolumeThreshold", "50"),
                ("HighVolumePeriod", "300"),
                ("HighVolumeEvaluationPeriods", "1"),
            ]),
        })
        .await
        .expect("switch the high-volume detection on");
    assert_eq!(change.alarm_name, "pattern1-logging-KMSHighVolumeAlarm");
    let switched = finished_change(&harness, "pattern1-logging-KMSHighVolumeAlarm").await;
    assert_eq!(switched.outcome, "succeeded", "{switched:?}");
    assert_eq!(stack_parameter(&harness, "EnableHighVolumeDetection").await, "true");
    assert_eq!(alarm_settings(&harness, "pattern1-logging-KMSHighVolumeAlarm").await.threshold, 50.0);
    let detections = harness.thresholds.detections().await.expect("detections");
    assert!(detections.detections.iter().any(|d| d.detection == Detection::HighVolume && d.enabled));
}

/// The alarm's newest change once it is no longer pending.
async fn finished_change(harness: &Harness, alarm_name: &str) -> ThresholdChange {
    for _ in 0..300 {
        let changes = harness.world.db.threshold_changes().for_alarm(alarm_name, 10).await.expect("changes");
        if changes[0].outcome != "pending" {
            return changes[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the change of {alarm_name} never finished")
}

#[tokio::test]
async fn other_alarms_change_with_put_metric_alarm() {
    let harness = harness().await;
    let alarm = MetricAlarm {
        alarm_name: "orders-latency".into(),
        alarm_description: None,
        namespace: "Shop".into(),
        metric_name: "Latency".into(),
        dimensions: Vec::new(),
        statistic: Some(Statistic::Average),
        extended_statistic: None,
        period: 60,
        evaluation_periods: 5,
        datapoints_to_alarm: Some(3),
        threshold: 250.0,
        comparison_operator: ComparisonOperator::GreaterThanThreshold,
        treat_missing_data: TreatMissingData::Missing,
        actions_enabled: true,
        alarm_actions: Vec::new(),
        ok_actions: Vec::new(),
        insufficient_data_actions: Vec::new(),
    };
    harness.world.aws.cloudwatch().put_metric_alarm(&alarm).await.expect("PutMetricAlarm");

    let managed = harness.thresholds.alarms(AlarmListQuery { all: false }).await.expect("alarms");
    assert!(managed.iter().all(|a| a.alarm_name != "orders-latency"));
    let all = harness.thresholds.alarms(AlarmListQuery { all: true }).await.expect("alarms");
    let listed = all.iter().find(|a| a.alarm_name == "orders-latency").expect("listed with all");
    assert_eq!(
        listed.condition.as_deref(),
        Some("Average of Latency > 250 for 3 of 5 periods of 1 min; missing data: missing")
    );

    let view = harness.thresholds.alarm(AlarmRequest { alarm_name: "orders-latency".into() }).await.expect("alarm");
    assert_eq!(view.path, ChangePath::PutMetricAlarm);
    let form = ThresholdForm::of(&view.settings);
    let bad = ThresholdForm { evaluation_periods: "0".into(), ..form.clone() };
    let error = harness
        .thresholds
        .apply(ThresholdRequest { alarm_name: "orders-latency".into(), form: bad })
        .await
        .expect_err("N = 0");
    assert_eq!(input_field(error), Some("EvaluationPeriods".to_owned()));
    assert_eq!(alarm_settings(&harness, "orders-latency").await, alarm);
    assert!(harness.world.db.threshold_changes().for_alarm("orders-latency", 10).await.expect("changes").is_empty());

    let change = harness
        .thresholds
        .apply(ThresholdRequest {
            alarm_name: "orders-latency".into(),
            form: ThresholdForm { threshold: "400".into(), treat_missing_data: "notBreaching".into(), ..form },
        })
        .await
        .expect("apply");
    assert_eq!((change.path.as_str(), change.outcome.as_str()), ("PutMetricAlarm", "succeeded"));
    let now = alarm_settings(&harness, "orders-latency").await;
    assert_eq!(now.threshold, 400.0);
    assert_eq!(now.treat_missing_data, TreatMissingData::NotBreaching);
    // Everything else is as it was: PutMetricAlarm replaces the whole configuration.
    assert_eq!(MetricAlarm { threshold: 250.0, treat_missing_data: TreatMissingData::Missing, ..now }, alarm);
    let recorded = harness.world.db.threshold_changes().for_alarm("orders-latency", 10).await.expect("changes");
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].fields.len(), 2);
}

// Issue 17, I: "Use recent events" loaded the oldest 50 events of the hour
// (FilterLogEvents answers oldest first), so the lab's pattern matched none
// of the failed decrypts just made. The tester now gets the newest KMS
// records: the trail also records every call of the console's own pollers.
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
#[tokio::test]
async fn the_pattern_testers_recent_events_are_the_newest_kms_records() {
    let world = support::World::new().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&world.aws.sdk_config);
    logs.create_log_group().log_group_name("trail").send().await.expect("CreateLogGroup");
    logs.create_log_stream().log_group_name("trail").log_stream_name("s").send().await.expect("CreateLogStream");
    let now = i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).expect("now");
    // 120 KMS records over the last 40 minutes, each followed by a record of
    // another service (the console's pollers), a batch at a time, oldest first.
    for batch in 0..4 {
        let events: Vec<_> = (batch * 30..batch * 30 + 30)
            .flat_map(|n| {
                let at = now - 40 * 60_000 + n * 20_000;
                [
                    (at, format!(r#"{{"eventSource":"kms.amazonaws.com","eventName":"Decrypt","n":{n}}}"#)),
                    (
                        at + 1,
                        format!(r#"{{"eventSource":"monitoring.amazonaws.com","eventName":"DescribeAlarms","n":{n}}}"#),
                    ),
                ]
            })
            .map(|(at, message)| {
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(at)
                    .message(message)
                    .build()
                    .expect("event")
            })
            .collect();
        logs.put_log_events()
            .log_group_name("trail")
            .log_stream_name("s")
            .set_log_events(Some(events))
            .send()
            .await
            .expect("PutLogEvents");
    }
    let kms = r#"{ $.eventSource = "kms.amazonaws.com" }"#;
    let recent = world.aws.logs().recent_messages("trail", kms, now - 3_600_000, now, 50).await.expect("recent");
    let expected: Vec<String> =
        (70..120).map(|n| format!(r#"{{"eventSource":"kms.amazonaws.com","eventName":"Decrypt","n":{n}}}"#)).collect();
    assert_eq!(recent, expected);
}

/// The console's services over clients that sign with `access_key`: the
/// sandbox's CloudTrail records each call with its key, so the calls these
/// services make can be told from every other.
fn signing_as(world: &World, access_key: &str) -> (Arc<ServerLab>, ServerAlarms) {
    let credentials = aws_credential_types::Credentials::new(access_key, "secret", None, None, "count");
    let sdk_config = world
        .aws
        .sdk_config
        .to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
        .build();
    let aws = keywatch::aws::Aws::new(sdk_config);
    let lab = world.lab_over(aws.clone());
    let alarms = ServerAlarms::new(aws, world.db.clone(), lab.clone());
    (lab, alarms)
}

/// The calls CloudTrail's event history holds for `access_key`, by event name.
async fn calls_by(world: &World, access_key: &str) -> std::collections::BTreeMap<String, usize> {
    use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&world.aws.sdk_config);
    let key = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::AccessKeyId)
        .attribute_value(access_key)
        .build()
        .expect("attribute");
    let mut pages = cloudtrail.lookup_events().lookup_attributes(key).into_paginator().send();
    let mut calls = std::collections::BTreeMap::new();
    while let Some(page) = pages.next().await {
        for event in page.expect("LookupEvents").events() {
            *calls.entry(event.event_name().unwrap_or_default().to_owned()).or_default() += 1;
        }
    }
    calls
}

// Issue 18, item 3: Apply reached the lab service through the page-facing
// port, about 10 DescribeStacks per Apply and 6 calls per 2-second refresh of
// the alarm's page. Counted through the sandbox's CloudTrail, which records
// read-only calls too.
#[tokio::test]
async fn a_threshold_apply_and_a_page_refresh_make_few_aws_calls() {
    let harness = harness().await;
    for section in [LabSection::BaseNetwork, LabSection::Application, LabSection::LoggingAndAlarm] {
        deploy(&harness, section).await;
    }
    let world = &harness.world;

    let (_, refreshing) = signing_as(world, "AKIACOUNTREFRESH0001");
    let view = refreshing.alarm(AlarmRequest { alarm_name: LAB_ALARM.into() }).await.expect("alarm");
    assert!(matches!(view.path, ChangePath::Stack { .. }), "{:?}", view.path);
    let refresh = calls_by(world, "AKIACOUNTREFRESH0001").await;
    let total: usize = refresh.values().sum();
    eprintln!("one refresh of the alarm's page: {total} calls {refresh:?}");
    assert!(refresh.get("DescribeStacks").copied().unwrap_or_default() <= 1, "{refresh:?}");
    // DescribeAlarms, DescribeStacks, ListStackResources. Before issue 18:
    // 6 calls, 4 of them DescribeStacks.
    assert!(total <= 3, "{refresh:?}");

    let (_, applying) = signing_as(world, "AKIACOUNTAPPLY000001");
    let form = ThresholdForm { threshold: "3".into(), ..ThresholdForm::of(&view.settings) };
    let change = applying.apply(ThresholdRequest { alarm_name: LAB_ALARM.into(), form }).await.expect("apply");
    let apply = calls_by(world, "AKIACOUNTAPPLY000001").await;
    let total: usize = apply.values().sum();
    eprintln!("one threshold Apply: {total} calls {apply:?}");
    assert!(apply.get("DescribeStacks").copied().unwrap_or_default() <= 3, "{apply:?}");
    // DescribeAlarms, DescribeStacks ×3, ListStackResources, CreateChangeSet,
    // ExecuteChangeSet, and DescribeChangeSet until the change set is
    // computed (once on the sandbox, which computes it at once; one more
    // allowed). Before issue 18: 16 calls, 10 of them DescribeStacks.
    assert!(total <= 9, "{apply:?}");
    assert_eq!(change.path, "change set");
}
