//! The history poller and the notification inbox against an in-process
//! sandbox and a temporary SQLite database, through the real SDK clients.
//!
//! DescribeAlarmHistory paging and item types:
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html>
//! SNS to SQS, the envelope and at-least-once delivery:
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html>

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use keywatch::aws::Aws;
use keywatch::db::Database;
use keywatch::db::alarm_history::HistoryQuery;
use keywatch::pollers::{PollerConfig, Pollers, history, inbox};
use support::World;

/// A world and the SDK clients these tests change AWS with.
struct Harness {
    aws: Aws,
    cloudwatch: aws_sdk_cloudwatch::Client,
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    world: World,
}

async fn world() -> Harness {
    let world = World::new().await;
    let aws = world.aws.clone();
    Harness {
        cloudwatch: aws_sdk_cloudwatch::Client::new(&aws.sdk_config),
        sns: aws_sdk_sns::Client::new(&aws.sdk_config),
        sqs: aws_sdk_sqs::Client::new(&aws.sdk_config),
        aws,
        world,
    }
}

impl Harness {
    /// A new pool on the world's database, as a (re)started console opens it.
    async fn db(&self) -> Database {
        self.world.reopen().await
    }

    /// A lab topic and a lab alarm alerting it on ALARM and on OK. The period is long and
    /// missing data ignored so that only the test changes the alarm's state.
    async fn lab_alarm(&self, name: &str) -> String {
        let topic_arn = self
            .sns
            .create_topic()
            .name("pattern1-logging-topic")
            .send()
            .await
            .expect("CreateTopic")
            .topic_arn
            .expect("arn");
        self.cloudwatch
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("Pattern1Application/KMSSecurity")
            .metric_name("KMSSecurityError")
            .statistic(Statistic::Sum)
            .period(3600)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .treat_missing_data("ignore")
            .alarm_actions(&topic_arn)
            .ok_actions(&topic_arn)
            .send()
            .await
            .expect("PutMetricAlarm");
        topic_arn
    }

    /// Flips the alarm between ALARM and OK `times` times. The pause keeps
    /// two transitions out of one millisecond, which real alarms never share.
    async fn flip(&self, name: &str, times: usize) {
        for i in 0..times {
            let state = if i % 2 == 0 { StateValue::Alarm } else { StateValue::Ok };
            self.cloudwatch
                .set_alarm_state()
                .alarm_name(name)
                .state_value(state)
                .state_reason(format!("flip {i}"))
                .send()
                .await
                .expect("SetAlarmState");
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    }

    /// Every history item AWS holds for `name`, as (timestamp, type, summary).
    async fn aws_history(&self, name: &str) -> BTreeSet<(i64, String, String)> {
        let mut items = BTreeSet::new();
        let mut token = None;
        loop {
            let page = self.aws.cloudwatch().describe_alarm_history(name, None, token).await.expect("history");
            items.extend(page.items.into_iter().map(|i| (i.timestamp_ms, i.history_item_type, i.history_summary)));
            match page.next_token {
                Some(next) => token = Some(next),
                None => return items,
            }
        }
    }
}

async fn stored_history(db: &Database) -> Vec<(i64, String, String)> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = db.alarm_history().page(&HistoryQuery::default(), after, 500).await.expect("page");
        let Some(last) = page.last() else { return all };
        after = Some(keywatch_app::api::history::HistoryCursor { timestamp_ms: last.timestamp_ms, id: last.id });
        all.extend(page.into_iter().map(|e| (e.timestamp_ms, e.item_type, e.summary)));
    }
}

fn config() -> PollerConfig {
    PollerConfig { wait_seconds: 1, ..PollerConfig::new(Duration::from_millis(200)) }
}

#[tokio::test]
async fn re_polling_stores_nothing_twice_and_pages_through_more_than_100_items() {
    let world = world().await;
    world.lab_alarm("pattern1-logging-alarm").await;
    // 60 transitions give 120 StateUpdate and Action items plus the
    // creation: more than one page of 100.
    world.flip("pattern1-logging-alarm", 60).await;
    let db = world.db().await;

    let first = history::poll_once(&world.aws, &db, &config()).await.expect("first round");
    let second = history::poll_once(&world.aws, &db, &config()).await.expect("second round");

    let expected = world.aws_history("pattern1-logging-alarm").await;
    assert!(expected.len() > 100, "{}", expected.len());
    assert_eq!(first.stored as usize, expected.len());
    assert_eq!(second.stored, 0, "the overlap re-fetches but stores nothing again");
    let stored = stored_history(&db).await;
    assert_eq!(stored.len(), expected.len());
    assert_eq!(stored.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn a_poller_stopped_during_activity_and_restarted_stores_every_item_exactly_once() {
    let world = world().await;
    world.lab_alarm("pattern1-logging-alarm").await;
    let db = world.db().await;

    let pollers = Pollers::start(world.aws.clone(), db.clone(), config());
    world.flip("pattern1-logging-alarm", 20).await;
    pollers.stop().await;
    // Downtime: the alarm keeps changing while nothing polls.
    world.flip("pattern1-logging-alarm", 21).await;
    db.close().await;

    // A restart: a new pool on the same file, new pollers.
    let db = world.db().await;
    let pollers = Pollers::start(world.aws.clone(), db.clone(), config());
    world.flip("pattern1-logging-alarm", 10).await;
    let expected = world.aws_history("pattern1-logging-alarm").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while db.alarm_history().count().await.expect("count") < expected.len() as i64
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pollers.stop().await;

    // Creation plus a StateUpdate and an Action for each of the 50 transitions.
    assert!(expected.len() > 60, "{}", expected.len());
    let stored = stored_history(&db).await;
    assert_eq!(stored.len(), expected.len(), "every item exactly once");
    assert_eq!(stored.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn a_notification_is_stored_then_deleted_and_a_redelivery_is_stored_once() {
    let world = world().await;
    let topic_arn = world.lab_alarm("pattern1-logging-alarm").await;
    let db = world.db().await;
    let queue = inbox::ensure_subscribed(&world.aws, &db, &config(), &mut None)
        .await
        .expect("inbox")
        .expect("an alarm topic, a queue");
    assert_eq!(queue.queue_arn, "arn:aws:sqs:ap-southeast-2:111122223333:keywatch-inbox-pattern1");
    // Subscribed once, with the envelope kept (raw delivery off).
    // https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html
    let listed = world.sns.list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.expect("List");
    let inbox_subscriptions: Vec<_> =
        listed.subscriptions().iter().filter(|s| s.endpoint() == Some(queue.queue_arn.as_str())).collect();
    assert_eq!(inbox_subscriptions.len(), 1);
    // A second round changes nothing.
    inbox::ensure_subscribed(&world.aws, &db, &config(), &mut None).await.expect("inbox again");
    let listed = world.sns.list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.expect("List");
    assert_eq!(listed.subscriptions().iter().filter(|s| s.endpoint() == Some(queue.queue_arn.as_str())).count(), 1);

    world.flip("pattern1-logging-alarm", 1).await;
    let stats = inbox::receive_once(&world.aws, &db, &queue.queue_url, 5).await.expect("receive");
    assert_eq!((stats.received, stats.stored, stats.duplicates), (1, 1, 0));
    assert_eq!(db.notifications().count().await.expect("count"), 1);
    // Deleted after the row was committed: the queue is empty now.
    let left =
        world.sqs.receive_message().queue_url(&queue.queue_url).wait_time_seconds(1).send().await.expect("Receive");
    assert!(left.messages().is_empty());

    // SNS may deliver the same message again; the MessageId recognises it.
    // https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html
    world
        .cloudwatch
        .set_alarm_state()
        .alarm_name("pattern1-logging-alarm")
        .state_value(StateValue::Ok)
        .state_reason("back to normal")
        .send()
        .await
        .expect("SetAlarmState");
    let received =
        world.sqs.receive_message().queue_url(&queue.queue_url).wait_time_seconds(5).send().await.expect("Receive");
    let envelope = received.messages()[0].body().expect("body").to_owned();
    world
        .sqs
        .change_message_visibility()
        .queue_url(&queue.queue_url)
        .receipt_handle(received.messages()[0].receipt_handle().expect("handle"))
        .visibility_timeout(0)
        .send()
        .await
        .expect("ChangeMessageVisibility");
    world.sqs.send_message().queue_url(&queue.queue_url).message_body(&envelope).send().await.expect("SendMessage");
    let mut total = inbox::ReceiveStats::default();
    for _ in 0..3 {
        let stats = inbox::receive_once(&world.aws, &db, &queue.queue_url, 1).await.expect("receive");
        total.stored += stats.stored;
        total.duplicates += stats.duplicates;
    }
    assert_eq!((total.stored, total.duplicates), (1, 1));
    assert_eq!(db.notifications().count().await.expect("count"), 2);

    // Once the history is polled, each state change links to its notification.
    history::poll_once(&world.aws, &db, &config()).await.expect("history");
    let query = HistoryQuery { item_type: Some("StateUpdate".into()), ..HistoryQuery::default() };
    let changes = db.alarm_history().page(&query, None, 10).await.expect("page");
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().all(|c| c.notification_count == 1), "{changes:?}");
    let delivered = db.notifications().for_state_update(changes[0].id).await.expect("notifications");
    assert!(delivered[0].message.contains("\"NewStateValue\": \"OK\""), "{}", delivered[0].message);
}

#[tokio::test]
async fn retention_deletes_what_is_older_and_the_cursor_keeps_it_from_coming_back() {
    let world = world().await;
    world.lab_alarm("pattern1-logging-alarm").await;
    world.flip("pattern1-logging-alarm", 2).await;
    let db = world.db().await;
    history::poll_once(&world.aws, &db, &config()).await.expect("poll");
    assert_eq!(db.alarm_history().count().await.expect("count"), 5);
    // Nothing is older than a day yet: a one-day retention keeps it all.
    db.history_retention().set_keep_days(Some(1)).await.expect("retention");
    let round = history::poll_once(&world.aws, &db, &config()).await.expect("poll");
    assert_eq!(round.deleted_by_retention, 0);
    assert_eq!(db.alarm_history().count().await.expect("count"), 5);
    assert_eq!(db.alarm_history().delete_older_than(i64::MAX).await.expect("delete"), 5);
    let round = history::poll_once(&world.aws, &db, &config()).await.expect("poll");
    // The overlap window re-fetches recent items; older ones would stay gone.
    assert_eq!(round.stored, 5);
}

/// Whether the inbox queue is among `topic_arn`'s subscribers.
async fn inbox_subscribed(world: &Harness, topic_arn: &str, queue_arn: &str) -> bool {
    let listed = world.sns.list_subscriptions_by_topic().topic_arn(topic_arn).send().await.expect("List");
    listed.subscriptions().iter().any(|s| s.protocol() == Some("sqs") && s.endpoint() == Some(queue_arn))
}

// Issue 17, D: after the alarm topic was deleted and created again (same
// ARN, no subscriptions), the inbox never subscribed again, and it called
// CreateQueue every round (260 calls seen). Subscriptions are checked
// against SNS each round; the queue is created once, and not at all while
// there is no alarm topic (so a torn-down lab leaves no queue).
// SNS: deleting a topic deletes its subscriptions,
// https://docs.aws.amazon.com/sns/latest/api/API_DeleteTopic.html
#[tokio::test]
async fn the_inbox_follows_a_re_created_topic_and_creates_its_queue_once() {
    let world = world().await;
    let db = world.db().await;
    let config = config();
    let mut queue = None;
    let none = inbox::ensure_subscribed(&world.aws, &db, &config, &mut queue).await.expect("round");
    assert!(none.is_none(), "no alarm topic, no queue");
    assert!(world.sqs.list_queues().send().await.expect("ListQueues").queue_urls().is_empty());

    let topic_arn = world.lab_alarm("pattern1-logging-alarm").await;
    let inbox = inbox::ensure_subscribed(&world.aws, &db, &config, &mut queue).await.expect("round").expect("a queue");
    assert!(inbox_subscribed(&world, &topic_arn, &inbox.queue_arn).await);

    world.sns.delete_topic().topic_arn(&topic_arn).send().await.expect("DeleteTopic");
    let again = world.sns.create_topic().name("pattern1-logging-topic").send().await.expect("CreateTopic");
    assert_eq!(again.topic_arn(), Some(topic_arn.as_str()), "SNS gives the same ARN back");
    assert!(!inbox_subscribed(&world, &topic_arn, &inbox.queue_arn).await, "the old subscription went with it");
    for _ in 0..3 {
        inbox::ensure_subscribed(&world.aws, &db, &config, &mut queue).await.expect("round");
    }
    assert!(inbox_subscribed(&world, &topic_arn, &inbox.queue_arn).await, "subscribed again");
    let listed = world.sns.list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.expect("List");
    assert_eq!(listed.subscriptions().len(), 1, "subscribed once, not once per round");

    // CloudTrail's event history counts the CreateQueue calls (all rounds above).
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&world.aws.sdk_config);
    let events = cloudtrail
        .lookup_events()
        .lookup_attributes(
            aws_sdk_cloudtrail::types::LookupAttribute::builder()
                .attribute_key(aws_sdk_cloudtrail::types::LookupAttributeKey::EventName)
                .attribute_value("CreateQueue")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("LookupEvents");
    assert_eq!(events.events().len(), 1, "CreateQueue once in five rounds");
}

// Issue 17, D, as the end-to-end run found it: a teardown deleted the inbox
// queue; the receive half failed and backed off (1, 2, 4 ... 32 s) and, the
// lab deployed again, received the new alarm's first notification only a
// minute later, after the Testing page had stopped waiting for it. A queue
// announced again is polled at once.
#[tokio::test]
async fn after_a_teardown_the_inbox_receives_from_its_new_queue_without_waiting_out_its_back_off() {
    let world = world().await;
    let db = world.db().await;
    let topic_arn = world.lab_alarm("pattern1-logging-alarm").await;
    let queue_arn = "arn:aws:sqs:ap-southeast-2:111122223333:keywatch-inbox-pattern1";
    // Another alarm topic outlives the lab (one made by hand, as
    // history.spec.ts makes), so the inbox always has a topic to listen to.
    let other_topic = world.sns.create_topic().name("pattern1-e2e-topic").send().await.expect("CreateTopic");
    let other_topic = other_topic.topic_arn().expect("arn").to_owned();
    world
        .cloudwatch
        .put_metric_alarm()
        .alarm_name("pattern1-e2e-alarm")
        .namespace("Keywatch/EndToEnd")
        .metric_name("Breaches")
        .statistic(Statistic::Sum)
        .period(3600)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .alarm_actions(&other_topic)
        .send()
        .await
        .expect("PutMetricAlarm");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(inbox::run(world.aws.clone(), db.clone(), config(), stopped));
    let subscribed = async || {
        for _ in 0..100 {
            if inbox_subscribed(&world, &topic_arn, queue_arn).await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    assert!(subscribed().await, "subscribed at first");

    // The teardown: the alarm and its topic with the logging stack, then the queue.
    world.cloudwatch.delete_alarms().alarm_names("pattern1-logging-alarm").send().await.expect("DeleteAlarms");
    world.sns.delete_topic().topic_arn(&topic_arn).send().await.expect("DeleteTopic");
    let url = world.sqs.get_queue_url().queue_name("keywatch-inbox-pattern1").send().await.expect("GetQueueUrl");
    world.sqs.delete_queue().queue_url(url.queue_url().expect("url")).send().await.expect("DeleteQueue");
    // Long enough for a back-off of several seconds to build up.
    tokio::time::sleep(Duration::from_secs(8)).await;

    // Deployed again: the inbox subscribes a new queue, and the first notification arrives promptly.
    assert_eq!(world.lab_alarm("pattern1-logging-alarm").await, topic_arn);
    assert!(subscribed().await, "subscribed again");
    world.flip("pattern1-logging-alarm", 1).await;
    let mut stored = false;
    for _ in 0..30 {
        if db.notifications().count().await.expect("count") == 1 {
            stored = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(stored, "the notification was stored within 3 s of the alarm");
    // The other topic delivers to the queue made anew too.
    world.flip("pattern1-e2e-alarm", 1).await;
    let mut both = false;
    for _ in 0..30 {
        if db.notifications().count().await.expect("count") == 2 {
            both = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(both, "the other topic's notification was stored too");
    stop.send(true).expect("stop");
    poller.await.expect("poller stopped");
}
