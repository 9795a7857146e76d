//! Issue 10's "done when": with the sandbox throttling CloudFormation and
//! CloudWatch (and failing some calls with 5xx), the wizard's backend still
//! deploys the lab's three stacks and the history poller still records every
//! state change of the lab's alarm, through the real SDK clients with the
//! console's retry settings.
//!
//! The SDKs retry throttling and 5xx errors with exponential backoff
//! (<https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>);
//! CloudFormation's and CloudWatch's throttling error is `Throttling`
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/CommonErrors.html>).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::StateValue;
use keywatch::aws::Aws;
use keywatch::db::alarm_history::HistoryQuery;
use keywatch::lab::ServerLab;
use keywatch::metrics;
use keywatch::pollers::stack_watcher::StackWatcher;
use keywatch::pollers::{PollerConfig, Pollers, history};
use keywatch_app::api::lab::port::LabBackend;
use keywatch_app::api::lab::{DeployRequest, PreviewOutcome, PreviewRequest};
use keywatch_domain::lab::LabSection;
use keywatch_sandbox::SandboxConfig;
use keywatch_sandbox::faults::FaultRule;
use support::{REGION, World};

mod support;

/// Every third call throttled, every fifth a 500: nearly half of all calls
/// fail, never more than two in a row for one caller.
fn faults() -> Vec<FaultRule> {
    ["cloudformation:throttle-every=3,error-every=5", "monitoring:throttle-every=3,error-every=5"]
        .iter()
        .map(|spec| FaultRule::parse(spec).expect("rule"))
        .collect()
}

/// The test's own calls (as a person at the AWS console would make them)
/// try again until AWS answers; the code under test gets no such help.
async fn until_ok<T, E: std::fmt::Debug, F: std::future::Future<Output = Result<T, E>>>(
    what: &str,
    mut call: impl FnMut() -> F,
) -> T {
    let mut last = None;
    for _ in 0..20 {
        match call().await {
            Ok(value) => return value,
            Err(error) => last = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what} never succeeded: {last:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_and_the_history_poller_complete_under_throttling_and_server_errors() {
    let world = World::with(SandboxConfig { faults: faults(), ..SandboxConfig::default() }).await;
    let (aws, db) = (world.aws.clone(), world.db.clone());
    let registry = metrics::global();
    let throttled_before = registry.aws_attempts("CloudFormation", "DescribeStacks", "throttled")
        + registry.aws_attempts("CloudFormation", "CreateChangeSet", "throttled")
        + registry.aws_attempts("CloudFormation", "DescribeChangeSet", "throttled");

    // The wizard: preview and deploy each section, the stack watcher (with
    // the pollers' retry settings, as `serve` runs it) following each.
    let lab = ServerLab::new(aws.clone(), db.clone(), REGION.into(), keywatch_app::api::connection::AwsMode::Sandbox);
    let watcher = StackWatcher::new(&aws.for_pollers(), db.clone());
    for section in [LabSection::BaseNetwork, LabSection::Application, LabSection::LoggingAndAlarm] {
        let preview = lab
            .preview(PreviewRequest { section, prefix: "pattern1".into(), parameters: Vec::new() })
            .await
            .unwrap_or_else(|error| panic!("{section:?} preview under throttling: {error:?}"));
        let PreviewOutcome::Changes { change_set_id, .. } = preview else { panic!("{section:?}: expected changes") };
        let deployment = lab
            .deploy(DeployRequest { section, prefix: "pattern1".into(), change_set_id })
            .await
            .unwrap_or_else(|error| panic!("{section:?} deploy under throttling: {error:?}"));
        let deadline = Instant::now() + Duration::from_secs(180);
        let done = loop {
            // A round that fails is the next round's to repeat, as in `serve`.
            let _ = watcher.poll_once().await;
            let row = db.deployments().get(deployment.id).await.expect("query").expect("recorded");
            if row.outcome.is_some() {
                break row;
            }
            assert!(Instant::now() < deadline, "{section:?} never finished: {row:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(done.final_status.as_deref(), Some("CREATE_COMPLETE"), "{section:?}: {done:?}");
        // Every event of the stack is stored despite the failed rounds.
        assert!(db.stack_events().count_for_deployment(deployment.id).await.expect("count") > 0, "{section:?}");
    }
    let throttled_after = registry.aws_attempts("CloudFormation", "DescribeStacks", "throttled")
        + registry.aws_attempts("CloudFormation", "CreateChangeSet", "throttled")
        + registry.aws_attempts("CloudFormation", "DescribeChangeSet", "throttled");
    assert!(throttled_after > throttled_before, "the faults were injected and retried");

    // The history poller, running as `serve` runs it, while the lab's alarm
    // changes state under the same faults.
    let cloudwatch_wrapper = aws.cloudwatch();
    let alarms = until_ok("DescribeAlarms", || cloudwatch_wrapper.describe_metric_alarms()).await;
    // Under the lab's own stack name the alarm keeps the lab template's name
    // (since 1946dfa), which does not start with the prefix.
    let alarm = alarms
        .iter()
        .find(|alarm| alarm.alarm_name == "Pattern1ApplicationKMSSecurityAlarm")
        .expect("the lab's alarm")
        .clone();
    let pollers = Pollers::start(
        aws.for_pollers(),
        db.clone(),
        PollerConfig { wait_seconds: 1, ..PollerConfig::new(Duration::from_millis(300)) },
    );
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&aws.sdk_config);
    for i in 0..6 {
        let state = if i % 2 == 0 { StateValue::Alarm } else { StateValue::Ok };
        until_ok("SetAlarmState", || {
            cloudwatch
                .set_alarm_state()
                .alarm_name(&alarm.alarm_name)
                .state_value(state.clone())
                .state_reason(format!("fault test flip {i}"))
                .send()
        })
        .await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // What AWS holds, read by the test with its own retries.
    let expected = aws_history(&aws, &alarm.alarm_name).await;
    assert!(expected.len() >= 6, "{expected:?}");

    let deadline = Instant::now() + Duration::from_secs(120);
    let stored = loop {
        let rows = db
            .alarm_history()
            .page(&HistoryQuery { alarm_name: Some(alarm.alarm_name.clone()), ..HistoryQuery::default() }, None, 1000)
            .await
            .expect("page");
        let stored: BTreeSet<(i64, String)> = rows.into_iter().map(|row| (row.timestamp_ms, row.summary)).collect();
        if expected.is_subset(&stored) {
            break stored;
        }
        assert!(
            Instant::now() < deadline,
            "the poller never caught up: missing {:?}",
            expected.difference(&stored).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    pollers.stop().await;
    // Nothing invented: every stored item is one AWS holds (the natural key
    // already makes a second copy impossible).
    let now_at_aws = aws_history(&aws, &alarm.alarm_name).await;
    assert!(stored.is_subset(&now_at_aws), "{:?}", stored.difference(&now_at_aws).collect::<Vec<_>>());
    let state = registry.pollers();
    assert!(state[history::POLLER].last_success_ms.is_some(), "{state:?}");
}

/// Every history item AWS holds for `alarm_name`, as (timestamp, summary).
async fn aws_history(aws: &Aws, alarm_name: &str) -> BTreeSet<(i64, String)> {
    let mut items = BTreeSet::new();
    let mut token: Option<String> = None;
    let cloudwatch = aws.cloudwatch();
    loop {
        let page =
            until_ok("DescribeAlarmHistory", || cloudwatch.describe_alarm_history(alarm_name, None, token.clone()))
                .await;
        items.extend(page.items.into_iter().map(|item| (item.timestamp_ms, item.history_summary)));
        match page.next_token {
            Some(next) => token = Some(next),
            None => return items,
        }
    }
}
