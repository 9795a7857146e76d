//! The Testing page's backend (lab section 4) against the in-process sandbox
//! with the lab's three stacks deployed through CloudFormation and the
//! workload serving at the load balancer's loopback address: the round trip,
//! a simulated attack driving the alarm to ALARM with time-to-detect
//! measured and the notification taken from the SQS inbox, Stop, bad input
//! refused with nothing recorded, and runs cut by a restart marked
//! interrupted. Every AWS call goes through the official SDK clients.

mod support;

use std::time::Duration;

use axum::body::Body;
use http::{Method, header};
use keywatch::attack::ServerAttack;
use keywatch::aws::Aws;
use keywatch::db::attack_runs::NewAttackRun;
use keywatch::pollers::{self, PollerConfig};
use keywatch_app::api::attack::port::AttackBackend;
use keywatch_app::api::attack::{AttackRequest, AttackRunView, RoundTripRequest, StopRequest};
use keywatch_app::api::responses::PlaybookRequest;
use keywatch_app::error::AppError;
use keywatch_domain::lab::LabSection;
use keywatch_domain::response::{Playbook, ResponseMode};
use keywatch_sandbox::SandboxConfig;
use support::requests;
use support::{TempDb, World};

struct Lab {
    testing: ServerAttack,
    world: World,
}

/// A sandbox with the lab's three stacks deployed and its application
/// answering, and a Testing backend on a fresh database.
async fn deployed_lab() -> Lab {
    let world =
        World::lab(SandboxConfig { cloudtrail_delivery_delay: Duration::from_millis(200), ..SandboxConfig::default() })
            .await;
    support::lab::deploy(&world).await;
    let testing =
        ServerAttack::new(world.aws.clone(), world.db.clone(), keywatch_app::api::connection::AwsMode::Sandbox);
    Lab { testing, world }
}

fn attack(count: &str, rate: &str) -> AttackRequest {
    AttackRequest { count: count.into(), rate: rate.into() }
}

/// Polls the recorded run until `done` holds (at most `seconds`).
async fn wait_for(lab: &Lab, id: i64, seconds: u64, done: impl Fn(&AttackRunView) -> bool) -> AttackRunView {
    let mut run = None;
    for _ in 0..seconds * 10 {
        let now = lab.world.db.attack_runs().get(id).await.expect("query").expect("recorded");
        if done(&now) {
            return now;
        }
        run = Some(now);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("run {id} never got there: {run:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_round_trip_encrypts_and_decrypts_with_the_stacks_key() {
    let lab = deployed_lab().await;
    let overview = lab.testing.overview().await.expect("overview");
    assert!(overview.missing_prerequisites.is_empty(), "{overview:?}");
    let key_id = overview.key_id.clone().expect("the application stack's key id");
    let endpoint = overview.endpoint.clone().expect("endpoint");

    let result = lab
        .testing
        .round_trip(RoundTripRequest { name: "Bob".into(), text: "Run your own race".into() })
        .await
        .expect("round trip");
    // lab.md's HTTP contract: POST /encrypt answers 200 with the key id.
    assert_eq!(result.encrypt.method, "POST");
    assert_eq!(result.encrypt.url, format!("http://{endpoint}/encrypt"));
    assert_eq!(result.encrypt.request_body, r#"{"Name":"Bob","Text":"Run your own race"}"#);
    assert_eq!(result.encrypt.status, Some(200));
    let encrypted: serde_json::Value = serde_json::from_str(&result.encrypt.response_body).expect("json");
    assert_eq!(encrypted["Message"], "Data encrypted and stored, keep your key save");
    assert_eq!(encrypted["Key"].as_str(), Some(key_id.as_str()), "the stack's key is the one the app uses");
    let decrypt = result.decrypt.expect("decrypt sent");
    assert_eq!((decrypt.method.as_str(), decrypt.status), ("GET", Some(200)));
    assert_eq!(decrypt.request_body, format!(r#"{{"Name":"Bob","Key":"{key_id}"}}"#));
    assert_eq!(decrypt.response_body, r#"{"Text":"Run your own race"}"#);
    assert!(result.passed);

    let refused = lab.testing.round_trip(RoundTripRequest { name: " ".into(), text: "x".into() }).await;
    assert!(matches!(refused, Err(AppError::InvalidInput { field: Some(ref f), .. }) if f == "name"), "{refused:?}");

    // Both round trips are in the audit log (issue 15: the round trip writes
    // to the lab's database and calls KMS, and was not audited).
    let audit = lab.world.db.audit().page(None, 50).await.expect("audit");
    let round_trips: Vec<(&str, &str)> = audit
        .iter()
        .filter(|record| record.action == "attack.round-trip")
        .map(|record| (record.target.as_str(), record.outcome.as_str()))
        .collect();
    assert_eq!(round_trips, [("round trip as \" \"", "refused"), ("round trip as \"Bob\"", "succeeded")], "{audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_attack_drives_the_alarm_to_alarm_and_measures_time_to_detect() {
    let lab = deployed_lab().await;
    // The inbox as `keywatch serve` runs it: subscribed to the lab's topic, long-polling.
    let config = PollerConfig { interval: Duration::from_millis(500), ..PollerConfig::new(Duration::from_millis(500)) };
    pollers::inbox::ensure_subscribed(&lab.world.aws, &lab.world.db, &config, &mut None)
        .await
        .expect("inbox subscribed");
    let pollers = pollers::Pollers::start(lab.world.aws.clone(), lab.world.db.clone(), config);

    // The defaults come from the alarm DescribeAlarms returns: more than 1
    // failure in a 10 s period, 1 of 1, at the lab's one call a second.
    let overview = lab.testing.overview().await.expect("overview");
    let alarm = overview.alarm.clone().expect("the lab's alarm");
    assert_eq!((alarm.threshold, alarm.comparison_operator.as_str()), (1.0, "GreaterThanThreshold"));
    assert_eq!((alarm.period_seconds, alarm.evaluation_periods), (10, 1));
    assert_eq!((overview.default_count, overview.default_rate), (Some(3), 1));

    let started = lab.testing.start_attack(attack("3", "1")).await.expect("started");
    assert!(started.is_running());
    assert_eq!((started.requested_count, started.rate_per_second), (3, 1));
    let done = wait_for(&lab, started.id, 60, |run| !run.is_running()).await;
    assert_eq!(done.outcome, "alarm", "{done:?}");
    assert_eq!(done.sent, 3);
    // lab.md: a wrong key is answered 400 "Data decryption failed ...".
    assert_eq!(done.status_counts.len(), 1, "{:?}", done.status_counts);
    assert_eq!((done.status_counts[0].status, done.status_counts[0].count), (Some(400), 3));
    let responses = lab.world.db.attack_runs().responses(done.id, 10).await.expect("responses");
    assert!(
        responses
            .iter()
            .all(|r| r.body == r#"{"Message":"Data decryption failed, make sure you have the correct key"}"#)
    );
    let to_alarm = done.time_to_alarm_ms.expect("time to ALARM measured");
    assert!(to_alarm > 0 && to_alarm < 30_000, "{to_alarm} ms");
    let to_notification = done.time_to_notification_ms.expect("time to notification measured");
    assert!(to_notification >= to_alarm, "notified {to_notification} ms, alarm {to_alarm} ms");
    assert_eq!(done.notification_source.as_deref(), Some("inbox"));

    // The live view shows the same run, the alarm in ALARM, the breaching datapoint.
    let live = lab.testing.live().await.expect("live");
    assert_eq!(live.latest.as_ref().map(|run| run.id), Some(done.id));
    assert_eq!(live.alarm.as_ref().map(|a| a.state_value.as_str()), Some("ALARM"));
    assert!(live.datapoints.iter().any(|p| p.value > 1.0), "{:?}", live.datapoints);
    let notification = live.notification.expect("notification shown");
    assert!(notification.message.contains(r#""NewStateValue": "ALARM""#), "{}", notification.message);

    assert_eq!(done.time_to_contain_ms, None, "no playbook, nothing contained");

    // With a playbook on the alarm (issue 21), a run also measures the time
    // to contain: here an automatic key disable answers the next episode.
    let cloudformation = aws_sdk_cloudformation::Client::new(&lab.world.aws.sdk_config);
    let app = cloudformation.describe_stacks().stack_name("pattern1-app").send().await.expect("app stack");
    let key_arn = app.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some(keywatch_domain::lab::APP_KEY_ARN_OUTPUT))
        .and_then(|o| o.output_value())
        .expect("key arn")
        .to_owned();
    let playbook = PlaybookRequest {
        alarm_name: alarm.alarm_name.clone(),
        playbook: Playbook::DisableKey,
        mode: Some(ResponseMode::Automatic),
        role_arn: String::new(),
        key_arn,
    };
    lab.world.ports().responses.set_playbook(playbook).await.expect("playbook");

    // A second run starts from ALARM: SetAlarmState puts it back to OK so
    // the new transition can be timed.
    let again = lab.testing.start_attack(attack("3", "2")).await.expect("second run");
    assert!(again.alarm_reset);
    let again = wait_for(&lab, again.id, 60, |run| !run.is_running()).await;
    assert_eq!(again.outcome, "alarm", "{again:?}");
    let to_alarm = again.time_to_alarm_ms.expect("time to ALARM");
    let contained = wait_for(&lab, again.id, 30, |run| run.time_to_contain_ms.is_some()).await;
    let to_contain = contained.time_to_contain_ms.unwrap_or_default();
    assert!(to_contain >= to_alarm, "contained {to_contain} ms, alarm {to_alarm} ms");
    pollers.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_a_run_early_and_one_run_at_a_time() {
    let lab = deployed_lab().await;
    let started = lab.testing.start_attack(attack("200", "2")).await.expect("started");
    let second = lab.testing.start_attack(attack("3", "1")).await;
    assert!(matches!(second, Err(AppError::Conflict(_))), "{second:?}");
    wait_for(&lab, started.id, 10, |run| run.sent >= 2).await;
    let stopped = lab.testing.stop_attack(StopRequest { id: started.id }).await.expect("stopped");
    assert_ne!(stopped.outcome, "running");
    assert!(stopped.sent < 200, "{stopped:?}");
    let sent = stopped.sent;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let later = lab.world.db.attack_runs().get(started.id).await.expect("query").expect("run");
    assert_eq!(later.sent, sent, "nothing is sent after Stop");
    assert!(later.finished_at.is_some());
    let again = lab.testing.stop_attack(StopRequest { id: started.id }).await;
    assert!(matches!(again, Err(AppError::Conflict(_))), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_attack_parameters_are_refused_beside_their_field_and_record_nothing() {
    let lab = deployed_lab().await;
    for (count, rate, field) in [
        ("2.5", "1", "count"),
        ("0", "1", "count"),
        ("abc", "1", "count"),
        ("1001", "1", "count"),
        ("", "1", "count"),
        ("3", "0", "rate"),
        ("3", "21", "rate"),
        ("3", "1.5", "rate"),
        ("3", "-1", "rate"),
    ] {
        let refused = lab.testing.start_attack(attack(count, rate)).await;
        assert!(
            matches!(&refused, Err(AppError::InvalidInput { field: Some(f), .. }) if f == field),
            "{count}/{rate}: {refused:?}"
        );
    }
    assert_eq!(lab.world.db.attack_runs().count().await.expect("count"), 0);

    // The server function refuses them too, through the router.
    let router = lab.world.app(lab.world.auth().await);
    let response = requests::send(
        &router,
        requests::request(Method::POST, "/api/testing/attack")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .body(Body::from(r#"{"request":{"count":"ten","rate":"1"}}"#))
            .expect("request"),
    )
    .await;
    assert!(!response.status.is_success(), "{}", response.status);
    let error: AppError = serde_json::from_str(&response.body).expect("an AppError");
    assert_eq!(
        error,
        AppError::InvalidInput { field: Some("count".into()), message: "enter a whole number from 1 to 1000".into() }
    );
    assert_eq!(lab.world.db.attack_runs().count().await.expect("count"), 0);
}

#[tokio::test]
async fn without_the_labs_stacks_the_page_names_and_links_what_is_missing_and_nothing_is_sent() {
    let world = World::new().await;
    let (aws, db) = (&world.aws, &world.db);
    let testing = ServerAttack::new(aws.clone(), db.clone(), keywatch_app::api::connection::AwsMode::Sandbox);
    let overview = testing.overview().await.expect("overview");
    assert_eq!(
        overview.missing_prerequisites,
        vec![LabSection::BaseNetwork, LabSection::Application, LabSection::LoggingAndAlarm]
    );
    let refused = testing.round_trip(RoundTripRequest { name: "Bob".into(), text: "t".into() }).await;
    assert!(matches!(&refused, Err(AppError::Conflict(message)) if message.contains("Base network")), "{refused:?}");
    let refused = testing.start_attack(attack("3", "1")).await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    assert_eq!(db.attack_runs().count().await.expect("count"), 0);

    // The page itself, rendered on the server before hydration.
    let router = world.app(world.auth().await);
    let response = requests::get(&router, "/lab/testing").await;
    assert!(response.status.is_success(), "{}", response.status);
    let html = response.body;
    assert!(html.contains("4. Testing"), "{html}");
    assert!(
        html.contains("Deploy the lab&#x27;s stacks first") || html.contains("Deploy the lab's stacks first"),
        "{html}"
    );
    // The links are the panel's own, not the navigation's.
    let panel = html.split_once(r#"aria-label="Prerequisites""#).map(|(_, rest)| rest).expect("a Prerequisites panel");
    let panel = panel.split_once("</section>").map_or(panel, |(panel, _)| panel);
    for (href, title) in [
        ("/lab/base-network", "1. Base network"),
        ("/lab/application", "2. Application"),
        ("/lab/logging", "3. Logging and alarm"),
    ] {
        assert!(panel.contains(&format!(r#"<a href="{href}">{title}</a>"#)), "{href}: {panel}");
    }
}

#[tokio::test]
async fn a_run_cut_by_a_restart_is_marked_interrupted_at_start_up() {
    let temp = TempDb::new().await;
    let db = &temp.db;
    let id = db
        .attack_runs()
        .insert(&NewAttackRun {
            prefix: "pattern1".into(),
            endpoint: "127.0.0.1:9".into(),
            alarm_name: Some("pattern1-logging-alarm".into()),
            wrong_key: "some-random-false-key".into(),
            requested_count: 10,
            rate_per_second: 1,
            alarm_reset: false,
            started_at_ms: 1_000,
        })
        .await
        .expect("insert");
    db.attack_runs().record_response(id, 1, 1_100, Some(400), "{}").await.expect("response");
    db.close().await;

    // A new process over the same file.
    let db = temp.reopen().await;
    let aws = Aws::sandbox("http://127.0.0.1:9", "ap-southeast-2");
    let testing = ServerAttack::new(aws, db.clone(), keywatch_app::api::connection::AwsMode::Sandbox);
    assert_eq!(testing.interrupt_unfinished().await.expect("start-up"), 1);
    let run = db.attack_runs().get(id).await.expect("query").expect("kept");
    assert_eq!(run.outcome, "interrupted");
    assert_eq!((run.sent, run.first_failure_at.is_some()), (1, true), "what was recorded is kept");
    assert!(run.finished_at.is_some());
}

// Issue 17, J: a 210 KB round trip was sent, echoed whole, and the
// application's failure read "Data encryption failed". KMS Encrypt takes at
// most 4,096 bytes of plaintext:
// https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_input_is_bounded_by_what_kms_encrypts() {
    let lab = deployed_lab().await;
    let long = "x".repeat(4097);
    let refused = lab.testing.round_trip(RoundTripRequest { name: "Bob".into(), text: long }).await;
    match refused {
        Err(AppError::InvalidInput { field: Some(field), message }) => {
            assert_eq!(field, "text");
            assert!(message.contains("4096 bytes") && message.contains("4097"), "{message}");
        }
        other => panic!("expected a refusal of the text: {other:?}"),
    }
    let name = "n".repeat(257);
    let refused = lab.testing.round_trip(RoundTripRequest { name, text: "t".into() }).await;
    assert!(matches!(refused, Err(AppError::InvalidInput { field: Some(ref f), .. }) if f == "name"), "{refused:?}");
    let at_limit = lab.testing.round_trip(RoundTripRequest { name: "Bob".into(), text: "y".repeat(4096) }).await;
    assert!(at_limit.expect("4,096 bytes are accepted").passed);
}
