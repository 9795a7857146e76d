//! Unit tests of subscriptions and delivery, with time passed in.

use super::*;

fn state_with_topic() -> (SnsState, String) {
    let mut state = SnsState::default();
    let arn = "arn:aws:sns:ap-southeast-2:111122223333:t".to_owned();
    state.topics.insert(arn.clone(), Topic { arn: arn.clone(), attributes: BTreeMap::new(), tags: BTreeMap::new() });
    (state, arn)
}

#[test]
fn email_subscriptions_get_a_confirmation_link_and_then_notifications() {
    // https://docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html
    let (mut state, topic) = state_with_topic();
    let subscription = Subscription {
        arn: format!("{topic}:1"),
        topic_arn: topic.clone(),
        protocol: "email".into(),
        endpoint: "ops@example.com".into(),
        owner: "111122223333".into(),
        token: Some("tok".into()),
        attributes: BTreeMap::new(),
    };
    state.send_confirmation(&subscription, "http://sandbox", 0);
    state.subscriptions.insert(subscription.arn.clone(), subscription);
    assert_eq!(state.outbox.len(), 1);
    assert!(state.outbox[0].body.contains("http://sandbox/?Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns"));
    let mut sqs = SqsState::default();
    state
        .publish(
            &mut sqs,
            "http://sandbox",
            &topic,
            &Published { subject: Some("s"), message: "m", email_text: None, attributes: &BTreeMap::new() },
            1,
        )
        .expect("published");
    assert_eq!(state.outbox.len(), 1, "pending subscriptions get nothing");
    state.confirm(&topic, "tok").expect("confirmed");
    state
        .publish(
            &mut sqs,
            "http://sandbox",
            &topic,
            &Published { subject: Some("s"), message: "m", email_text: None, attributes: &BTreeMap::new() },
            2,
        )
        .expect("published");
    assert_eq!(state.outbox.len(), 2);
    assert_eq!(state.outbox[1].subject, "s");
    assert!(state.outbox[1].body.starts_with("m\n\n--\nIf you wish to stop receiving notifications"));
}

#[test]
fn http_deliveries_stay_queued_until_they_succeed() {
    let (mut state, topic) = state_with_topic();
    state.subscriptions.insert(
        "s".into(),
        Subscription {
            arn: format!("{topic}:s"),
            topic_arn: topic.clone(),
            protocol: "http".into(),
            endpoint: "http://127.0.0.1:9/".into(),
            owner: "111122223333".into(),
            token: None,
            attributes: BTreeMap::new(),
        },
    );
    let mut sqs = SqsState::default();
    state
        .publish(
            &mut sqs,
            "http://sandbox",
            &topic,
            &Published { subject: None, message: "m", email_text: None, attributes: &BTreeMap::new() },
            0,
        )
        .expect("published");
    let due = state.take_due_http(0);
    assert_eq!(due.len(), 1);
    assert!(state.take_due_http(1).is_empty(), "leased while being sent");
    assert_eq!(state.http_queue.len(), 1, "kept until it succeeds");
    state.complete_http(&due[0].id);
    assert!(state.http_queue.is_empty());
}

#[test]
fn failed_http_deliveries_back_off_then_stop() {
    let (mut state, _) = state_with_topic();
    let delivery = HttpDelivery {
        id: "d".into(),
        url: "http://127.0.0.1:9/".into(),
        message_type: "Notification".into(),
        message_id: "m".into(),
        topic_arn: "t".into(),
        subscription_arn: None,
        body: "{}".into(),
        attempts: 0,
        due_ms: 0,
    };
    state.retry_http(delivery, 0);
    assert_eq!(state.http_queue[0].due_ms, 2 * HTTP_FIRST_BACKOFF_MS);
    assert!(state.take_due_http(1).is_empty());
    let mut due = state.take_due_http(2_000);
    for _ in 1..HTTP_MAX_ATTEMPTS {
        let Some(delivery) = due.pop() else { break };
        state.retry_http(delivery, 0);
        due = state.take_due_http(i64::MAX);
    }
    assert!(state.http_queue.is_empty());
}

#[test]
fn sqs_subscribers_get_the_envelope_with_its_message_attributes() {
    // https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
    let (mut state, topic) = state_with_topic();
    state.subscriptions.insert(
        "s".into(),
        Subscription {
            arn: format!("{topic}:s"),
            topic_arn: topic.clone(),
            protocol: "sqs".into(),
            endpoint: "arn:aws:sqs:ap-southeast-2:111122223333:q".into(),
            owner: "111122223333".into(),
            token: None,
            attributes: BTreeMap::new(),
        },
    );
    let mut sqs = SqsState::default();
    sqs.queues.insert(
        "ap-southeast-2/q".into(),
        crate::sqs::Queue {
            region: "ap-southeast-2".into(),
            name: "q".into(),
            created_ms: 0,
            attributes: BTreeMap::new(),
            messages: Vec::new(),
            tags: BTreeMap::new(),
            journal: Default::default(),
        },
    );
    let attributes = BTreeMap::from([("event".to_owned(), ("String".to_owned(), "order".to_owned()))]);
    state
        .publish(
            &mut sqs,
            "http://sandbox",
            &topic,
            &Published { subject: Some("s"), message: "m", email_text: None, attributes: &attributes },
            0,
        )
        .expect("published");
    let body = &sqs.messages("ap-southeast-2", "q")[0].body;
    let envelope: serde_json::Value = serde_json::from_str(body).expect("json");
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["Message"], "m");
    assert_eq!(envelope["SignatureVersion"], "1");
    assert_eq!(envelope["MessageAttributes"]["event"], serde_json::json!({"Type": "String", "Value": "order"}));
}

#[test]
fn alarm_notifications_mail_their_text_to_email_and_json_to_email_json() {
    // CloudWatch's alarm e-mail is readable text for `email` (the samples in
    // keywatch_domain::alarm::email); `email-json` gets SNS's JSON envelope.
    // https://docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html
    let (mut state, topic) = state_with_topic();
    for protocol in ["email", "email-json"] {
        let arn = format!("{topic}:{protocol}");
        state.subscriptions.insert(
            arn.clone(),
            Subscription {
                arn,
                topic_arn: topic.clone(),
                protocol: protocol.into(),
                endpoint: "ops@example.com".into(),
                owner: "111122223333".into(),
                token: None,
                attributes: BTreeMap::new(),
            },
        );
    }
    let mut sqs = SqsState::default();
    let message = r#"{"AlarmName":"a","NewStateValue":"ALARM"}"#;
    let text = "You are receiving this email because your Amazon CloudWatch Alarm \"a\" ...";
    let published =
        Published { subject: Some("ALARM: \"a\" in x"), message, email_text: Some(text), attributes: &BTreeMap::new() };
    state.publish(&mut sqs, "http://sandbox", &topic, &published, 1).expect("published");
    let body = |protocol: &str| {
        state.outbox.iter().find(|e| e.protocol == protocol).map(|e| e.body.clone()).expect("an email")
    };
    assert!(body("email").starts_with(&format!("{text}\n\n--\nIf you wish to stop receiving notifications")));
    assert!(!body("email").contains(message));
    let envelope: serde_json::Value = serde_json::from_str(&body("email-json")).expect("json");
    assert_eq!(envelope["Message"], message);
}
