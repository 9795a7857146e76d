//! The console's endpoint for direct SNS delivery, in the console as
//! `serve` builds and serves it, against an in-process sandbox that signs its messages as SNS does: the subscription is
//! confirmed, a genuine notification is stored once, and forged or altered
//! messages are refused without being stored.
//!
//! Verifying SNS message signatures (the rules under test):
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message-verify-message-signature.html>
//! HTTP/S subscriptions and their confirmation:
//! <https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html>

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use keywatch::sns_endpoint::{AlarmTopicList, PATH, SnsEndpoint};
use support::wire;
use support::{TempDb, World};

mod support;

/// A second subscriber on the same server that keeps every body SNS posts,
/// so the test holds genuine signed messages to alter; and a certificate
/// URL that counts its fetches.
#[derive(Default)]
struct Capture {
    bodies: Mutex<Vec<String>>,
    certificate_fetches: AtomicUsize,
}

async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(value) = probe().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// POSTs `body` to `url` as SNS's agent does over HTTP; the status.
async fn post_body(url: &str, body: &str) -> u16 {
    let uri: http::Uri = url.parse().expect("uri");
    let request = wire::Request::new("POST", uri.path())
        .header("Content-Type", "text/plain; charset=UTF-8")
        .header("x-amz-sns-message-type", "Notification")
        .body(body);
    wire::send_async(uri.authority().expect("authority").as_str(), request).await.expect("response").status
}

fn with(body: &str, member: &str, value: &str) -> String {
    let mut json: serde_json::Value = serde_json::from_str(body).expect("json");
    json[member] = serde_json::Value::from(value);
    json.to_string()
}

/// Serves the console as `serve` builds it (its SNS endpoint with it) and,
/// elsewhere, the capturing subscriber and a certificate URL that counts
/// its fetches; the console's base URL and the other server's.
async fn serve(world: &World, capture: Arc<Capture>) -> (String, String) {
    let console = support::world::serve(world.app(world.auth().await)).await;
    let capturing = Router::new()
        .route(
            "/capture",
            post(|State(capture): State<Arc<Capture>>, body: String| async move {
                capture.bodies.lock().expect("lock").push(body);
            }),
        )
        .route(
            "/elsewhere.pem",
            get(|State(capture): State<Arc<Capture>>| async move {
                capture.certificate_fetches.fetch_add(1, Ordering::SeqCst);
                "not a certificate"
            }),
        )
        .with_state(capture);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let other = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, capturing).await });
    (format!("http://{console}"), other)
}

#[tokio::test]
async fn confirms_stores_genuine_messages_and_refuses_forged_ones() {
    let world = World::new().await;
    let (sandbox, db) = (&world.sandbox, &world.db);
    let sns = aws_sdk_sns::Client::new(&world.aws.sdk_config);
    let capture = Arc::new(Capture::default());
    let alarm_topics = &world.alarm_topics;
    let (base, other) = serve(&world, capture.clone()).await;

    let topic_arn =
        sns.create_topic().name("pattern1-logging-topic").send().await.expect("CreateTopic").topic_arn.expect("arn");
    // What the inbox publishes once it has read the alarm topics.
    alarm_topics.replace([topic_arn.clone()]);
    let console_url = format!("{base}{PATH}");
    let capture_url = format!("{other}/capture");
    for url in [&console_url, &capture_url] {
        sns.subscribe().topic_arn(&topic_arn).protocol("http").endpoint(url).send().await.expect("Subscribe");
    }

    // The sandbox posts a signed SubscriptionConfirmation; the console
    // verifies it and visits its SubscribeURL.
    let confirmed = async || {
        let listed =
            sns.list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.expect("ListSubscriptionsByTopic");
        let subscription = listed.subscriptions().iter().find(|s| s.endpoint() == Some(console_url.as_str()))?;
        let arn = subscription.subscription_arn()?;
        (arn != "PendingConfirmation").then(|| arn.to_owned())
    };
    eventually("the console's subscription to be confirmed", confirmed).await;
    // The confirmation is audited (just after the SubscribeURL answered).
    let confirmations = eventually("the confirmation in the audit log", async || {
        let audit = db.audit().page(None, 100).await.expect("audit");
        let found: Vec<(String, String)> = audit
            .into_iter()
            .filter(|record| record.action == "sns-endpoint.confirm")
            .map(|record| (record.target, record.outcome))
            .collect();
        (!found.is_empty()).then_some(found)
    })
    .await;
    assert_eq!(confirmations, [(topic_arn.clone(), "succeeded".to_owned())]);
    // The capturing subscriber is confirmed by hand from its copy.
    let confirmation = eventually("the captured confirmation", async || {
        capture.bodies.lock().expect("lock").iter().find(|body| body.contains("SubscriptionConfirmation")).cloned()
    })
    .await;
    let subscribe_url: serde_json::Value = serde_json::from_str(&confirmation).expect("json");
    keywatch::sandbox_client::get(&sandbox.endpoint_url, subscribe_url["SubscribeURL"].as_str().expect("url"))
        .await
        .expect("confirmed");

    // A genuine notification is verified and stored.
    sns.publish()
        .topic_arn(&topic_arn)
        .subject("ALARM: \"pattern1-logging-alarm\"")
        .message("{\"AlarmName\":\"pattern1-logging-alarm\",\"NewStateValue\":\"ALARM\"}")
        .send()
        .await
        .expect("Publish");
    eventually("the notification to be stored", async || {
        (db.notifications().count().await.expect("count") == 1).then_some(())
    })
    .await;
    let genuine = eventually("the captured notification", async || {
        capture.bodies.lock().expect("lock").iter().find(|body| body.contains("\"Notification\"")).cloned()
    })
    .await;

    // The same genuine message again verifies and is stored once (MessageId).
    assert_eq!(post_body(&console_url, &genuine).await, 200);
    assert_eq!(db.notifications().count().await.expect("count"), 1);

    // Altered Message: the signature no longer matches.
    let mut altered = with(&genuine, "Message", "{\"AlarmName\":\"pattern1-logging-alarm\",\"NewStateValue\":\"OK\"}");
    altered = with(&altered, "MessageId", "00000000-0000-0000-0000-000000000001");
    assert_eq!(post_body(&console_url, &altered).await, 403);
    // A signature that is not even base64, and one for other bytes.
    assert_eq!(post_body(&console_url, &with(&altered, "Signature", "not base64!")).await, 403);
    // SigningCertURL on another host: refused before any fetch.
    let elsewhere = with(&altered, "SigningCertURL", &format!("{other}/elsewhere.pem"));
    assert_eq!(post_body(&console_url, &elsewhere).await, 403);
    assert_eq!(capture.certificate_fetches.load(Ordering::SeqCst), 0);
    // An unknown SignatureVersion.
    // Otherwise genuine, so only the version can be why it is refused.
    assert_eq!(post_body(&console_url, &with(&genuine, "SignatureVersion", "3")).await, 403);
    // Not JSON at all.
    assert_eq!(post_body(&console_url, "hello").await, 403);

    assert_eq!(db.notifications().count().await.expect("count"), 1, "nothing forged was stored");

    // SignatureVersion 2 (SHA256), a topic attribute:
    // https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
    sns.set_topic_attributes()
        .topic_arn(&topic_arn)
        .attribute_name("SignatureVersion")
        .attribute_value("2")
        .send()
        .await
        .expect("SetTopicAttributes");
    sns.publish().topic_arn(&topic_arn).message("signed with SHA256").send().await.expect("Publish");
    eventually("the SHA256-signed notification to be stored", async || {
        (db.notifications().count().await.expect("count") == 2).then_some(())
    })
    .await;
    let sha256 = eventually("the captured SHA256-signed notification", async || {
        capture.bodies.lock().expect("lock").iter().find(|body| body.contains("signed with SHA256")).cloned()
    })
    .await;
    let sha256_json: serde_json::Value = serde_json::from_str(&sha256).expect("json");
    assert_eq!(sha256_json["SignatureVersion"], "2");
    // A version 2 signature presented as version 1 does not verify (had it
    // verified, the duplicate would have answered 200).
    assert_eq!(post_body(&console_url, &with(&sha256, "SignatureVersion", "1")).await, 403);
    assert_eq!(db.notifications().count().await.expect("count"), 2);
}

// Issue 15, finding 2: any correctly signed confirmation was confirmed, and
// any account's notifications stored. Only the console's alarm topics count.
#[tokio::test]
async fn messages_from_topics_that_are_not_alarm_topics_are_refused() {
    let world = World::new().await;
    let (sandbox, db) = (&world.sandbox, &world.db);
    let sns = aws_sdk_sns::Client::new(&world.aws.sdk_config);
    let capture = Arc::new(Capture::default());
    // No alarm topic known: nothing is trusted.
    let endpoint = &world.sns_endpoint;
    let (base, other) = serve(&world, capture.clone()).await;

    let topic_arn =
        sns.create_topic().name("someone-elses-topic").send().await.expect("CreateTopic").topic_arn.expect("arn");
    let console_url = format!("{base}{PATH}");
    for url in [console_url.clone(), format!("{other}/capture")] {
        sns.subscribe().topic_arn(&topic_arn).protocol("http").endpoint(url).send().await.expect("Subscribe");
    }
    // The capturing subscriber's copy shows SNS has posted the confirmations.
    let confirmation = eventually("the captured confirmation", async || {
        capture.bodies.lock().expect("lock").iter().find(|body| body.contains("SubscriptionConfirmation")).cloned()
    })
    .await;
    // The genuine, correctly signed confirmation of a foreign topic is refused, and not acted on.
    assert_eq!(post_body(&console_url, &confirmation).await, 403);
    let listed = sns.list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.expect("List");
    let console = listed.subscriptions().iter().find(|s| s.endpoint() == Some(console_url.as_str())).expect("sub");
    assert_eq!(console.subscription_arn(), Some("PendingConfirmation"));
    assert!(db.audit().page(None, 10).await.expect("audit").is_empty(), "nothing confirmed, nothing audited");

    // A genuine notification of that topic, forwarded to the console: refused, not stored.
    let subscribe_url: serde_json::Value = serde_json::from_str(&confirmation).expect("json");
    keywatch::sandbox_client::get(&sandbox.endpoint_url, subscribe_url["SubscribeURL"].as_str().expect("url"))
        .await
        .expect("confirmed");
    sns.publish().topic_arn(&topic_arn).message("not an alarm of ours").send().await.expect("Publish");
    let notification = eventually("the captured notification", async || {
        capture.bodies.lock().expect("lock").iter().find(|body| body.contains("not an alarm of ours")).cloned()
    })
    .await;
    assert_eq!(post_body(&console_url, &notification).await, 403);
    assert_eq!(db.notifications().count().await.expect("count"), 0);
    assert_eq!(endpoint.certificate_fetches(), 0, "refused before any certificate was fetched");
}

// Issue 15, finding 6: 20 forgeries made 20 certificate fetches. A
// certificate that cannot be loaded is fetched once, then refused for a
// while without fetching.
#[tokio::test]
async fn forged_messages_do_not_make_the_console_fetch_again_and_again() {
    let temp = TempDb::new().await;
    let db = &temp.db;
    // A sandbox endpoint nobody listens on: every fetch fails at once.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let dead_url = format!("http://{}", dead.local_addr().expect("addr"));
    drop(dead);
    let topics = AlarmTopicList::default();
    let topic = "arn:aws:sns:ap-southeast-2:000000000000:pattern1-logging-topic".to_owned();
    topics.replace([topic.clone()]);
    let endpoint = Arc::new(SnsEndpoint::new(db.clone(), Some(dead_url.clone()), topics));
    let forged = serde_json::json!({
        "Type": "Notification",
        "MessageId": "m-1",
        "TopicArn": topic,
        "Message": "{}",
        "Timestamp": "2026-12-07T00:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "Zm9yZ2Vk",
        "SigningCertURL": format!("{dead_url}/_keywatch/sns/SimpleNotificationService.pem"),
    })
    .to_string();
    let attempts = (0..20).map(|_| {
        let endpoint = endpoint.clone();
        let forged = forged.clone();
        async move { endpoint.handle(&forged).await.is_err() }
    });
    let refused = futures_util::future::join_all(attempts).await;
    assert!(refused.iter().all(|refused| *refused));
    assert_eq!(endpoint.certificate_fetches(), 1, "one fetch for twenty forgeries");
    assert_eq!(db.notifications().count().await.expect("count"), 0);
}
