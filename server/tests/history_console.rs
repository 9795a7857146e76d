//! The Subscribers and History server functions and the CSV export, through
//! the console's router against an in-process sandbox and a temporary
//! database; and the history page's query speed at 100,000 stored rows.

mod support;

use std::time::{Duration, Instant};

use http::StatusCode;
use keywatch::aws::Aws;
use keywatch::aws::cloudwatch::AlarmHistoryItem;
use keywatch::db::Database;
use keywatch::db::alarm_history::HistoryQuery;
use keywatch_app::api::history::{HistoryCursor, HistoryPage};
use keywatch_app::api::subscribers::{AlarmTopic, OutboxEmail};
use keywatch_app::error::AppError;
use keywatch_domain::sns::SubscriptionStatus;
use support::requests::{self, form, post_form, post_json};
use support::{TempDb, World};

struct Harness {
    router: axum::Router,
    world: World,
}

async fn harness() -> Harness {
    let world = World::new().await;
    let router = world.app(world.auth().await);
    Harness { router, world }
}

/// A page or export (`GET`), or a server function posted a form: status and body.
async fn call(router: &axum::Router, method: &str, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let reply = match method {
        "GET" => requests::get(router, path).await,
        _ => post_form(router, path, &form(fields)).await,
    };
    (reply.status, reply.body)
}

/// A server function posted JSON: status and body.
async fn call_json(router: &axum::Router, path: &str, body: serde_json::Value) -> (StatusCode, String) {
    let reply = post_json(router, path, &body).await;
    (reply.status, reply.body)
}

async fn lab_topic(aws: &Aws) -> String {
    aws_sdk_sns::Client::new(&aws.sdk_config)
        .create_topic()
        .name("pattern1-logging-topic")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("arn")
}

// Subscribe, confirmation and statuses:
// https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html
// https://docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html
#[tokio::test]
async fn an_email_subscriber_is_validated_added_pending_and_confirmed_from_the_outbox() {
    let harness = harness().await;
    let topic_arn = lab_topic(&harness.world.aws).await;

    // Refused before anything reaches SNS.
    let (status, body) = call(
        &harness.router,
        "POST",
        "/api/subscribers/add",
        &[("input[topic_arn]", &topic_arn), ("input[protocol]", "email"), ("input[endpoint]", "not-an-address")],
    )
    .await;
    assert_ne!(status, StatusCode::OK);
    let error: AppError = serde_json::from_str(&body).expect("an AppError");
    assert!(matches!(error, AppError::InvalidInput { field: Some(ref f), .. } if f == "endpoint"), "{error:?}");
    let (_, body) = call(&harness.router, "POST", "/api/subscribers/topics", &[]).await;
    let topics: Vec<AlarmTopic> = serde_json::from_str(&body).expect("topics");
    assert_eq!(topics.len(), 1);
    assert!(topics[0].subscribers.is_empty());

    let (status, body) = call(
        &harness.router,
        "POST",
        "/api/subscribers/add",
        &[("input[topic_arn]", &topic_arn), ("input[protocol]", "email"), ("input[endpoint]", "ops@example.com")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<SubscriptionStatus>(&body).expect("status"),
        SubscriptionStatus::PendingConfirmation
    );
    let (_, body) = call(&harness.router, "POST", "/api/subscribers/topics", &[]).await;
    let topics: Vec<AlarmTopic> = serde_json::from_str(&body).expect("topics");
    let subscriber = &topics[0].subscribers[0];
    assert_eq!(
        (subscriber.endpoint.as_str(), subscriber.status),
        ("o***@example.com", SubscriptionStatus::PendingConfirmation)
    );
    assert!(!body.contains("ops@example.com"), "the full address never reaches the browser");

    let (status, body) = call(
        &harness.router,
        "POST",
        "/api/subscribers/resend",
        &[
            ("input[topic_arn]", &topic_arn),
            ("input[protocol]", "email"),
            ("input[masked_endpoint]", "o***@example.com"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = call(&harness.router, "POST", "/api/subscribers/outbox", &[]).await;
    let outbox: Vec<OutboxEmail> = serde_json::from_str(&body).expect("outbox");
    // AWS sends a new confirmation when a pending endpoint is subscribed
    // again; the sandbox does not yet (it answers `pending confirmation` and
    // sends nothing), so only the first is required here.
    assert!(!outbox.is_empty());
    assert!(outbox.iter().all(|email| email.confirmable && email.to == "ops@example.com"));

    let (status, body) =
        call(&harness.router, "POST", "/api/subscribers/confirm", &[("input[message_id]", &outbox[0].message_id)])
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The same link again: SNS's token is used up. That is a 400 the user can
    // act on (issue 17, F), not "AWS is unavailable".
    let (status, body) =
        call(&harness.router, "POST", "/api/subscribers/confirm", &[("input[message_id]", &outbox[0].message_id)])
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("InvalidParameter") && body.contains("Ask for a new confirmation"), "{body}");
    let (_, body) = call(&harness.router, "POST", "/api/subscribers/topics", &[]).await;
    let topics: Vec<AlarmTopic> = serde_json::from_str(&body).expect("topics");
    let subscriber = &topics[0].subscribers[0];
    assert_eq!(subscriber.status, SubscriptionStatus::Confirmed);
    let arn = subscriber.subscription_arn.clone().expect("an ARN once confirmed");

    let (status, body) =
        call(&harness.router, "POST", "/api/subscribers/remove", &[("input[subscription_arn]", &arn)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = call(&harness.router, "POST", "/api/subscribers/topics", &[]).await;
    let topics: Vec<AlarmTopic> = serde_json::from_str(&body).expect("topics");
    assert!(topics[0].subscribers.is_empty());
}

fn item(alarm: usize, i: i64) -> AlarmHistoryItem {
    let (old, new) = if i % 2 == 0 { ("OK", "ALARM") } else { ("ALARM", "OK") };
    AlarmHistoryItem {
        alarm_name: format!("pattern1-alarm-{alarm}"),
        alarm_type: "MetricAlarm".into(),
        timestamp_ms: 1_795_000_000_000 + i * 10_000,
        history_item_type: "StateUpdate".into(),
        history_summary: format!("Alarm updated from {old} to {new}"),
        history_data: format!(
            r#"{{"version":"1.0","oldState":{{"stateValue":"{old}"}},"newState":{{"stateValue":"{new}","stateReason":"r"}}}}"#
        ),
    }
}

async fn seed(db: &Database, rows: i64) {
    for alarm in 0..4usize {
        let items: Vec<AlarmHistoryItem> = (0..rows / 4).map(|i| item(alarm, i)).collect();
        db.alarm_history().insert_items(None, &items, 0).await.expect("insert");
    }
}

#[tokio::test]
async fn pages_filters_and_the_csv_export_work_through_the_router() {
    let harness = harness().await;
    seed(&harness.world.db, 400).await;

    let filter = serde_json::json!({"alarm": "pattern1-alarm-2", "state": "ALARM"});
    let (status, body) =
        call_json(&harness.router, "/api/history/page", serde_json::json!({"input": {"filter": filter}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: HistoryPage = serde_json::from_str(&body).expect("page");
    assert_eq!(page.entries.len(), 50);
    assert!(page.entries.iter().all(|e| e.alarm_name == "pattern1-alarm-2" && e.new_state.as_deref() == Some("ALARM")));
    let next = page.next.expect("an older page");
    let (_, body) = call_json(
        &harness.router,
        "/api/history/page",
        serde_json::json!({"input": {"filter": filter, "after": next.encode()}}),
    )
    .await;
    let older: HistoryPage = serde_json::from_str(&body).expect("page");
    assert_eq!(older.entries.len(), 0, "50 ALARM changes of alarm 2 fit on the first page");

    // An empty filter is a valid request; a bad time is refused.
    let (status, body) =
        call_json(&harness.router, "/api/history/page", serde_json::json!({"input": {"filter": {}}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call_json(
        &harness.router,
        "/api/history/page",
        serde_json::json!({"input": {"filter": {"from": "yesterday"}}}),
    )
    .await;
    assert_ne!(status, StatusCode::OK);
    assert!(body.contains("InvalidInput"), "{body}");

    let (status, csv) = call(&harness.router, "GET", "/history.csv?alarm=pattern1-alarm-1&state=OK", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "timestamp,alarm_name,item_type,old_state,new_state,summary,notifications");
    assert_eq!(lines.len(), 1 + 50);
    assert!(
        lines[1].contains(",pattern1-alarm-1,StateUpdate,ALARM,OK,Alarm updated from ALARM to OK,0"),
        "{}",
        lines[1]
    );
    let (status, _) = call(&harness.router, "GET", "/history.csv?from=nonsense", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, body) =
        call(&harness.router, "POST", "/api/history/set-retention", &[("input[keep_days]", "0")]).await;
    assert_ne!(status, StatusCode::OK, "{body}");
    let (status, body) =
        call(&harness.router, "POST", "/api/history/set-retention", &[("input[keep_days]", "30")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(harness.world.db.history_retention().keep_days().await.expect("retention"), Some(30));
}

/// The History page's queries stay quick at 100,000 stored rows: each
/// filtered page is served from an index (keyset pagination, no OFFSET).
#[tokio::test]
async fn a_filtered_page_over_100_000_rows_is_quick() {
    let temp = TempDb::new().await;
    let db = &temp.db;
    seed(db, 100_000).await;
    assert_eq!(db.alarm_history().count().await.expect("count"), 100_000);
    let deep = HistoryCursor { timestamp_ms: 1_795_000_000_000 + 12_000 * 10_000, id: i64::MAX };
    let queries = [
        (HistoryQuery::default(), None),
        (HistoryQuery { alarm_name: Some("pattern1-alarm-3".into()), ..HistoryQuery::default() }, Some(deep)),
        (HistoryQuery { new_state: Some("ALARM".into()), ..HistoryQuery::default() }, None),
        (
            HistoryQuery {
                alarm_name: Some("pattern1-alarm-1".into()),
                from_ms: Some(1_795_000_000_000),
                to_ms: Some(1_795_100_000_000),
                ..HistoryQuery::default()
            },
            None,
        ),
        (HistoryQuery { text: Some("from ALARM".into()), ..HistoryQuery::default() }, None),
    ];
    for (query, after) in queries {
        let started = Instant::now();
        let page = db.alarm_history().page(&query, after, 50).await.expect("page");
        let took = started.elapsed();
        assert_eq!(page.len(), 50, "{query:?}");
        // Generous for a debug build on a shared machine; indexed pages take a few ms.
        assert!(took < Duration::from_millis(250), "{query:?} took {took:?}");
    }
}

#[tokio::test]
async fn the_pages_render_on_the_server() {
    let harness = harness().await;
    lab_topic(&harness.world.aws).await;
    seed(&harness.world.db, 4).await;
    let (status, html) = call(&harness.router, "GET", "/subscribers", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Subscribers</h1>") && html.contains("pattern1-logging-topic"), "{html}");
    let (status, html) = call(&harness.router, "GET", "/history?alarm=pattern1-alarm-0", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>History</h1>") && html.contains("Alarm updated from OK to ALARM"), "{html}");
    assert!(html.contains("aria-label=\"Alarm states over time\""), "the timeline chart is inline SVG");
    let (_, html) = call(&harness.router, "GET", "/history/1", &[]).await;
    assert!(html.contains("Notifications delivered"), "{html}");
}

#[tokio::test]
async fn the_timeline_keeps_one_change_per_bucket_and_the_state_before_the_range() {
    let temp = TempDb::new().await;
    let db = &temp.db;
    seed(db, 40_000).await;
    let from = 1_795_000_000_000 + 5_000 * 10_000 + 5_000;
    let to = from + 8_000 * 10_000;
    let query = HistoryQuery::default();
    let started = Instant::now();
    let series = db.alarm_history().timeline(&query, from, to).await.expect("timeline");
    assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
    assert_eq!(series.len(), 4);
    for alarm in &series {
        // Item 5000 (even) moved to ALARM just before the range.
        assert_eq!(alarm.initial_state.as_deref(), Some("ALARM"), "{}", alarm.alarm_name);
        // 4,999 changes in range (items 5001 to 9999), 10 to a 100 s bucket.
        assert_eq!(alarm.changes.len(), 500, "{}", alarm.alarm_name);
    }
    let one = HistoryQuery { alarm_name: Some("pattern1-alarm-1".into()), ..HistoryQuery::default() };
    let series = db.alarm_history().timeline(&one, from, to).await.expect("timeline");
    assert_eq!(series.iter().map(|s| s.alarm_name.as_str()).collect::<Vec<_>>(), ["pattern1-alarm-1"]);
}
