//! Issue 21: Keywatch reacts. On the deployed lab in the sandbox: the lab's
//! alarm given the contain-the-role playbook; the attack fires it; the
//! history poller records one response awaiting approval; approving it puts
//! the deny on the task role, and the application's next decrypt with the
//! right key is refused (AccessDenied in CloudTrail too); reverting it lets
//! the decrypt through again. An episode is answered once, across rounds and
//! restarts. A disable-the-key playbook in automatic mode runs by itself,
//! and a maintenance window mutes the alarm's actions and its responses
//! while its history keeps recording.

mod support;

use std::time::Duration;

use keywatch::pollers::PollerConfig;
use keywatch_app::api::responses::{
    AlarmResponsesRequest, DecisionRequest, EndWindowRequest, PlaybookRequest, ResponseView, WindowRequest,
};
use keywatch_app::error::AppError;
use keywatch_domain::lab;
use keywatch_domain::response::{Decision, Playbook, ResponseMode, ResponseStatus};
use keywatch_sandbox::SandboxConfig;
use support::World;

/// Where the tests' console is reached, for the links it sends.
const CONSOLE: &str = "https://keywatch.example.net";

/// An SQS queue subscribed to the alarm's topic, to read what the topic
/// publishes; returns its URL.
async fn listen_to_topic(world: &World, alarm_name: &str) -> String {
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&world.aws.sdk_config);
    let alarms = cloudwatch.describe_alarms().alarm_names(alarm_name).send().await.expect("alarms");
    let topic = alarms.metric_alarms()[0].alarm_actions()[0].clone();
    let sqs = aws_sdk_sqs::Client::new(&world.aws.sdk_config);
    let url =
        sqs.create_queue().queue_name("approvals").send().await.expect("queue").queue_url().expect("url").to_owned();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("attributes");
    let arn =
        attributes.attributes().and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)).expect("arn");
    let sns = aws_sdk_sns::Client::new(&world.aws.sdk_config);
    sns.subscribe().topic_arn(topic).protocol("sqs").endpoint(arn).send().await.expect("subscribed");
    url
}

/// The SNS messages the queue holds (the envelopes' `Subject` and `Message`).
async fn topic_messages(world: &World, queue_url: &str) -> Vec<(String, String)> {
    let sqs = aws_sdk_sqs::Client::new(&world.aws.sdk_config);
    let received =
        sqs.receive_message().queue_url(queue_url).max_number_of_messages(10).send().await.expect("received");
    received
        .messages()
        .iter()
        .filter_map(|message| serde_json::from_str::<serde_json::Value>(message.body()?).ok())
        .map(|envelope| {
            (
                envelope["Subject"].as_str().unwrap_or_default().to_owned(),
                envelope["Message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn http(address: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let response =
        support::lab::call_application(address, method, path, body).await.expect("the load balancer answered");
    (response.status, response.text())
}

/// The lab's alarm's name, once the logging stack made it.
async fn lab_alarm(world: &World) -> String {
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&world.aws.sdk_config);
    let alarms = cloudwatch.describe_alarms().send().await.expect("alarms");
    alarms
        .metric_alarms()
        .iter()
        .find(|a| a.metric_name() == Some("KMSSecurityError"))
        .and_then(|a| a.alarm_name())
        .expect("the lab's alarm")
        .to_owned()
}

/// Sends the lab's three false-key decrypts, then runs history rounds until
/// the alarm's episode has its responses; returns them, newest first.
async fn attack_until_responded(world: &World, endpoint: &str, alarm_name: &str, count: usize) -> Vec<ResponseView> {
    for _ in 0..3 {
        let (status, _) = http(endpoint, "GET", "/decrypt", r#"{"Name":"Bob","Key":"some-random-false-key"}"#).await;
        assert_eq!(status, 400);
    }
    let config = PollerConfig { console_url: Some(CONSOLE.into()), ..PollerConfig::new(Duration::from_millis(200)) };
    let ports = world.ports();
    for _ in 0..120 {
        keywatch::pollers::history::poll_once(&world.aws, &world.db, &config).await.expect("history round");
        let found = ports
            .responses
            .alarm_responses(AlarmResponsesRequest { alarm_name: alarm_name.to_owned(), with_suggestions: false })
            .await
            .expect("responses");
        if found.responses.len() >= count {
            return found.responses;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the alarm never got {count} responses");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_containment_refuses_the_roles_kms_calls_until_it_is_reverted() {
    let world =
        World::lab(SandboxConfig { cloudtrail_delivery_delay: Duration::from_millis(100), ..SandboxConfig::default() })
            .await;
    let deployed = support::lab::deploy(&world).await;
    let role_arn = support::lab::output(&deployed.outputs[1], lab::APP_TASK_ROLE_OUTPUT).expect("task role");
    let key_arn = support::lab::output(&deployed.outputs[1], lab::APP_KEY_ARN_OUTPUT).expect("key arn");
    let endpoint = deployed.endpoint;
    let alarm_name = lab_alarm(&world).await;
    let ports = world.ports();

    // The form is filled with the lab's role and key.
    let before = ports
        .responses
        .alarm_responses(AlarmResponsesRequest { alarm_name: alarm_name.clone(), with_suggestions: true })
        .await
        .expect("view");
    assert_eq!(before.suggested_role_arn.as_deref(), Some(role_arn.as_str()));
    assert_eq!(before.suggested_key_arn.as_deref(), Some(key_arn.as_str()));
    // The panel's refreshes do not read the stacks again.
    let refresh = ports
        .responses
        .alarm_responses(AlarmResponsesRequest { alarm_name: alarm_name.clone(), with_suggestions: false })
        .await
        .expect("refresh");
    assert_eq!((refresh.suggested_role_arn, refresh.suggested_key_arn), (None, None));

    // Bad input is refused, and nothing is stored.
    let bad = PlaybookRequest {
        alarm_name: alarm_name.clone(),
        playbook: Playbook::ContainRole,
        mode: Some(ResponseMode::Approval),
        role_arn: "pattern1-app-Pattern1ECSTaskRole".into(),
        key_arn: key_arn.clone(),
    };
    match ports.responses.set_playbook(bad).await {
        Err(AppError::InvalidInput { field: Some(field), .. }) => assert_eq!(field, "roleArn"),
        other => panic!("a role name, not an ARN, was accepted: {other:?}"),
    }
    assert!(world.db.responses().playbooks(&alarm_name).await.expect("playbooks").is_empty());

    let playbook = PlaybookRequest {
        alarm_name: alarm_name.clone(),
        playbook: Playbook::ContainRole,
        mode: Some(ResponseMode::Approval),
        role_arn: role_arn.clone(),
        key_arn: key_arn.clone(),
    };
    ports.responses.set_playbook(playbook).await.expect("playbook set");
    let approvals = listen_to_topic(&world, &alarm_name).await;

    let (status, body) = http(&endpoint, "POST", "/encrypt", r#"{"Name":"Bob","Text":"Run your own race"}"#).await;
    assert_eq!(status, 200, "{body}");
    let key: serde_json::Value = serde_json::from_str(&body).expect("json");
    let key = key["Key"].as_str().expect("key").to_owned();
    let decrypt = format!(r#"{{"Name":"Bob","Key":"{key}"}}"#);
    assert_eq!(http(&endpoint, "GET", "/decrypt", &decrypt).await.0, 200);

    // The attack: one response, waiting for someone.
    let responses = attack_until_responded(&world, &endpoint, &alarm_name, 1).await;
    assert_eq!(responses.len(), 1);
    let response = &responses[0];
    assert_eq!(response.status, ResponseStatus::AwaitingApproval);
    assert_eq!(response.target, role_arn);
    // Nothing changed yet: the application still decrypts.
    assert_eq!(http(&endpoint, "GET", "/decrypt", &decrypt).await.0, 200);
    // The alarm's topic says so, with a link to where it is decided.
    let mut announced = Vec::new();
    for _ in 0..20 {
        announced.extend(topic_messages(&world, &approvals).await);
        if announced.iter().any(|(subject, _)| subject.starts_with("Keywatch: approve or refuse")) {
            break;
        }
    }
    let (_, message) = announced
        .iter()
        .find(|(subject, _)| subject.starts_with("Keywatch: approve or refuse"))
        .unwrap_or_else(|| panic!("no announcement among {announced:?}"));
    let link = format!("{CONSOLE}{}", keywatch::responses::approval_path(&alarm_name));
    assert!(message.contains(&link), "{message}");
    assert!(message.contains(&format!("response {}", response.id)), "{message}");

    // More rounds, and a console restarted on the same database, answer the episode no more.
    let config = PollerConfig::new(Duration::from_millis(200));
    keywatch::pollers::history::poll_once(&world.aws, &world.db, &config).await.expect("round");
    let reopened = world.reopen().await;
    keywatch::pollers::history::poll_once(&world.aws, &reopened, &config).await.expect("round after restart");
    assert_eq!(world.db.responses().newest(Some(&alarm_name), 10).await.expect("responses").len(), 1);

    // Refusing is no longer possible once approved; approving runs it.
    let approved = ports
        .responses
        .decide(DecisionRequest { id: response.id, decision: Decision::Approve })
        .await
        .expect("approve");
    assert_eq!(approved.status, ResponseStatus::Done, "{:?}", approved.detail);
    assert!(approved.time_to_contain_ms.is_some_and(|ms| ms >= 0));
    match ports.responses.decide(DecisionRequest { id: response.id, decision: Decision::Refuse }).await {
        Err(AppError::Conflict(message)) => assert_eq!(message, "a response that is done cannot be refused"),
        other => panic!("a done response was refused: {other:?}"),
    }

    // The role's policies are IAM's own, read back through IAM.
    let iam = aws_sdk_iam::Client::new(&world.aws.sdk_config);
    let role_name = keywatch_domain::response::role_name_of(&role_arn).expect("role name");
    let names = iam.list_role_policies().role_name(role_name).send().await.expect("policies");
    assert!(names.policy_names().iter().any(|n| n == "AWSRevokeOlderSessions"), "{names:?}");
    assert!(names.policy_names().iter().any(|n| n == "KeywatchContainKmsKey"), "{names:?}");

    // The application's next decrypt with the right key is refused.
    let (status, body) = http(&endpoint, "GET", "/decrypt", &decrypt).await;
    assert_eq!(status, 400, "{body}");
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&world.aws.sdk_config);
    let mut denied = false;
    for _ in 0..40 {
        let events = cloudtrail
            .lookup_events()
            .lookup_attributes(
                aws_sdk_cloudtrail::types::LookupAttribute::builder()
                    .attribute_key(aws_sdk_cloudtrail::types::LookupAttributeKey::EventName)
                    .attribute_value("Decrypt")
                    .build()
                    .expect("attribute"),
            )
            .send()
            .await
            .expect("lookup");
        denied = events.events().iter().filter_map(|e| e.cloud_trail_event()).any(|record| {
            let record: serde_json::Value = serde_json::from_str(record).unwrap_or_default();
            record["errorCode"] == "AccessDenied"
                && record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] == role_arn.as_str()
        });
        if denied {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(denied, "CloudTrail recorded no AccessDenied Decrypt by the task role");

    // Reverted: the policies go, and the application decrypts again.
    let reverted =
        ports.responses.decide(DecisionRequest { id: response.id, decision: Decision::Revert }).await.expect("revert");
    assert_eq!(reverted.status, ResponseStatus::Reverted);
    let names = iam.list_role_policies().role_name(role_name).send().await.expect("policies");
    assert!(!names.policy_names().iter().any(|n| n == "AWSRevokeOlderSessions" || n == "KeywatchContainKmsKey"));
    assert_eq!(http(&endpoint, "GET", "/decrypt", &decrypt).await, (200, r#"{"Text":"Run your own race"}"#.to_owned()));

    // Every step is in the audit log.
    let audit = world.db.audit().page(None, 50).await.expect("audit");
    let actions: Vec<&str> = audit.iter().map(|entry| entry.action.as_str()).collect();
    for action in ["response.playbook", "response.start", "response.decide", "response.run", "response.revert"] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
}

/// The lab deployed, its alarm given the disable-the-key playbook in automatic mode.
struct KeyDisableLab {
    world: World,
    endpoint: String,
    alarm_name: String,
    key_arn: String,
}

async fn key_disable_lab() -> KeyDisableLab {
    let world =
        World::lab(SandboxConfig { cloudtrail_delivery_delay: Duration::from_millis(100), ..SandboxConfig::default() })
            .await;
    let deployed = support::lab::deploy(&world).await;
    let key_arn = support::lab::output(&deployed.outputs[1], lab::APP_KEY_ARN_OUTPUT).expect("key arn");
    let alarm_name = lab_alarm(&world).await;
    let playbook = PlaybookRequest {
        alarm_name: alarm_name.clone(),
        playbook: Playbook::DisableKey,
        mode: Some(ResponseMode::Automatic),
        role_arn: String::new(),
        key_arn: key_arn.clone(),
    };
    world.ports().responses.set_playbook(playbook).await.expect("playbook set");
    KeyDisableLab { world, endpoint: deployed.endpoint, alarm_name, key_arn }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_automatic_key_disable_runs_by_itself_once_per_episode() {
    let KeyDisableLab { world, endpoint, alarm_name, key_arn } = key_disable_lab().await;
    let ports = world.ports();
    let (status, body) = http(&endpoint, "POST", "/encrypt", r#"{"Name":"Bob","Text":"Run your own race"}"#).await;
    assert_eq!(status, 200, "{body}");

    let responses = attack_until_responded(&world, &endpoint, &alarm_name, 1).await;
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].status, ResponseStatus::Done, "{:?}", responses[0].detail);
    assert_eq!(responses[0].decided_by, None, "nobody decided an automatic response");

    let kms = aws_sdk_kms::Client::new(&world.aws.sdk_config);
    let key = kms.describe_key().key_id(&key_arn).send().await.expect("key");
    assert_eq!(key.key_metadata().map(|k| k.enabled()), Some(false));
    // The application can no longer encrypt with it.
    assert_eq!(http(&endpoint, "POST", "/encrypt", r#"{"Name":"Eve","Text":"x"}"#).await.0, 400);

    let reverted = ports
        .responses
        .decide(DecisionRequest { id: responses[0].id, decision: Decision::Revert })
        .await
        .expect("revert");
    assert_eq!(reverted.status, ResponseStatus::Reverted);
    let key = kms.describe_key().key_id(&key_arn).send().await.expect("key");
    assert_eq!(key.key_metadata().map(|k| k.enabled()), Some(true));
    assert_eq!(http(&endpoint, "POST", "/encrypt", r#"{"Name":"Eve","Text":"x"}"#).await.0, 200);
    // Reverting twice is refused.
    assert!(matches!(
        ports.responses.decide(DecisionRequest { id: responses[0].id, decision: Decision::Revert }).await,
        Err(AppError::Conflict(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintenance_window_mutes_notifications_and_responses_while_history_records() {
    let KeyDisableLab { world, endpoint, alarm_name, key_arn } = key_disable_lab().await;
    let ports = world.ports();

    // Bad windows are refused beside their field, and nothing is muted.
    let window = |minutes: u32, reason: &str| WindowRequest {
        alarm_name: alarm_name.clone(),
        starts_at: String::new(),
        duration_minutes: minutes,
        reason: reason.to_owned(),
    };
    for (request, field) in [(window(0, "patching"), "durationMinutes"), (window(60, " "), "reason")] {
        match ports.responses.add_window(request).await {
            Err(AppError::InvalidInput { field: Some(got), .. }) => assert_eq!(got, field),
            other => panic!("a bad window was accepted: {other:?}"),
        }
    }
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&world.aws.sdk_config);
    let actions_enabled = || async {
        let alarms = cloudwatch.describe_alarms().alarm_names(&alarm_name).send().await.expect("alarms");
        alarms.metric_alarms()[0].actions_enabled()
    };
    assert_eq!(actions_enabled().await, Some(true));

    // Open now: the alarm's actions are disabled at once.
    let opened = ports.responses.add_window(window(60, "key rotation drill")).await.expect("window");
    assert_eq!(opened.windows.len(), 1);
    assert!(opened.windows[0].open);
    assert_eq!(actions_enabled().await, Some(false));

    // The attack fires the alarm: history records it, the response is muted.
    let (status, body) = http(&endpoint, "POST", "/encrypt", r#"{"Name":"Bob","Text":"Run your own race"}"#).await;
    assert_eq!(status, 200, "{body}");
    let responses = attack_until_responded(&world, &endpoint, &alarm_name, 1).await;
    assert_eq!(responses[0].status, ResponseStatus::Notified);
    assert_eq!(responses[0].detail.as_deref(), Some("muted: the alarm fired during a maintenance window"));
    let kms = aws_sdk_kms::Client::new(&world.aws.sdk_config);
    let key = kms.describe_key().key_id(&key_arn).send().await.expect("key");
    assert_eq!(key.key_metadata().map(|k| k.enabled()), Some(true), "a muted response changes nothing");
    // CloudWatch ran no action (no SNS publish): its history has the state change only.
    let history = cloudwatch.describe_alarm_history().alarm_name(&alarm_name).send().await.expect("history");
    let kinds: Vec<&str> =
        history.alarm_history_items().iter().filter_map(|item| item.history_item_type()).map(|t| t.as_str()).collect();
    assert!(kinds.contains(&"StateUpdate"), "{kinds:?}");
    assert!(!kinds.contains(&"Action"), "{kinds:?}");

    // Ended: the actions are enabled again, and every step is audited.
    let ended = ports.responses.end_window(EndWindowRequest { id: opened.windows[0].id }).await.expect("end");
    assert!(ended.windows.is_empty());
    assert_eq!(actions_enabled().await, Some(true));
    let audit = world.db.audit().page(None, 50).await.expect("audit");
    let actions: Vec<&str> = audit.iter().map(|entry| entry.action.as_str()).collect();
    for action in ["maintenance.window", "maintenance.mute", "maintenance.unmute"] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
}
