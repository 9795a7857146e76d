//! The notification inbox: an SQS queue Keywatch owns, subscribed to every
//! alarm topic, long-polled, each notification stored in `notifications`
//! before its message is deleted.
//!
//! - Queue policy letting each topic send, scoped by `aws:SourceArn`:
//!   <https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html>
//! - Raw delivery off, so the SNS envelope (with its `MessageId`) arrives:
//!   <https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html>
//! - SNS delivers at least once, so the same `MessageId` can arrive twice:
//!   <https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html>

use tokio::sync::watch;

use super::{Backoff, PollerConfig, now_ms, sleep_or_stop};
use crate::aws::sqs::Queue;
use crate::aws::{Aws, AwsErrorKind};
use crate::db::Database;
use crate::db::notifications::NewNotification;
use crate::error::ServerError;

/// The long-polling half's name in metrics and `/healthz`.
pub const RECEIVE_POLLER: &str = "inbox";

/// The half that keeps the queue subscribed, in metrics and `/healthz`.
pub const SUBSCRIBE_POLLER: &str = "inbox-subscriptions";

/// The inbox queue's name for a lab prefix.
pub fn queue_name(lab_prefix: &str) -> String {
    format!("keywatch-inbox-{lab_prefix}")
}

/// The queue policy letting exactly `topic_arns` send to the queue.
pub fn queue_policy(queue_arn: &str, topic_arns: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "KeywatchAlarmTopics",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic_arns}}
        }]
    })
    .to_string()
}

/// Keeps the queue subscribed to every alarm topic; returns the queue, or
/// `None` while there is no alarm topic (no queue is created for nothing to
/// listen to, so a torn-down lab leaves none behind).
///
/// `queue` caches the queue between rounds: it is created once (CreateQueue
/// returns an existing queue, so a restart finds it again) and forgotten
/// when a call fails, so a deleted queue is made anew. Each round asks every
/// topic whether the queue is among its subscribers: a topic deleted and
/// re-created under the same ARN has lost its subscriptions, and the inbox
/// subscribes again.
pub async fn ensure_subscribed(
    aws: &Aws,
    db: &Database,
    config: &PollerConfig,
    queue: &mut Option<Queue>,
) -> Result<Option<Queue>, ServerError> {
    // An adopted lab's topic carries no prefix (CloudFormation named it):
    // the adopted stacks say which it is.
    let topics = super::discover_managed(aws, db, &config.lab_prefix).await?.topics;
    // The SNS endpoint trusts exactly the topics the queue policy names.
    config.alarm_topics.replace(topics.keys().cloned());
    if topics.is_empty() {
        // A teardown deletes the queue with the topics: the next topic gets
        // it made anew (CreateQueue returns one that still exists).
        *queue = None;
        return Ok(None);
    }
    let (current, created) = match queue.as_ref() {
        Some(current) => (current.clone(), false),
        None => {
            let created = aws.sqs().create_queue(&queue_name(&config.lab_prefix)).await?;
            *queue = Some(created.clone());
            (created, true)
        }
    };
    let sns = aws.sns();
    let mut missing = Vec::new();
    for topic in topics.keys() {
        let subscriptions = sns.list_subscriptions_by_topic(topic).await?;
        if !subscriptions.iter().any(|s| s.protocol == "sqs" && s.endpoint == current.queue_arn) {
            missing.push(topic);
        }
    }
    // A queue made anew (its predecessor deleted by a teardown while other
    // topics kept their subscriptions to its ARN) has no policy yet.
    if missing.is_empty() && !created {
        return Ok(Some(current));
    }
    // The policy names every topic, so it is written before subscribing
    // the new ones: SNS's first delivery must already be allowed.
    let all: Vec<&str> = topics.keys().map(String::as_str).collect();
    aws.sqs().set_policy(&current.queue_url, &queue_policy(&current.queue_arn, &all)).await?;
    for topic in missing {
        sns.subscribe(topic, "sqs", &current.queue_arn, &[("RawMessageDelivery", "false")]).await?;
        tracing::info!(topic, queue = %current.queue_arn, "inbox subscribed to alarm topic");
    }
    Ok(Some(current))
}

/// What one receive did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiveStats {
    pub received: usize,
    pub stored: usize,
    pub duplicates: usize,
    pub unreadable: usize,
}

/// One long poll: stores each notification, then deletes its message.
pub async fn receive_once(
    aws: &Aws,
    db: &Database,
    queue_url: &str,
    wait_seconds: i32,
) -> Result<ReceiveStats, ServerError> {
    let messages = aws.sqs().receive_messages(queue_url, wait_seconds).await?;
    store_and_delete(aws, db, queue_url, messages).await
}

/// Stores each received notification, then deletes its message. Runs to the
/// end even when a stop arrives meanwhile: cutting it short would leave
/// stored messages undeleted (redelivered, then recognised by `MessageId`).
pub async fn store_and_delete(
    aws: &Aws,
    db: &Database,
    queue_url: &str,
    messages: Vec<crate::aws::sqs::ReceivedMessage>,
) -> Result<ReceiveStats, ServerError> {
    let sqs = aws.sqs();
    let mut stats = ReceiveStats { received: messages.len(), ..ReceiveStats::default() };
    for message in messages {
        match parse_notification(&message.body, now_ms()) {
            Ok(notification) => {
                // Committed when insert returns; only then is the message deleted,
                // so a crash in between means a redelivery, which the MessageId
                // key turns into a no-op.
                if db.notifications().insert(&notification).await? {
                    stats.stored += 1;
                } else {
                    stats.duplicates += 1;
                }
            }
            Err(reason) => {
                // Kept messages would come back forever; the log keeps the trace.
                tracing::warn!(message_id = %message.message_id, reason, "inbox message is not an SNS notification; deleted");
                stats.unreadable += 1;
            }
        }
        sqs.delete_message(queue_url, &message.receipt_handle).await?;
    }
    Ok(stats)
}

/// Reads SNS's envelope and, inside it, CloudWatch's alarm message.
/// <https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html>
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-sns-notification-format.html>
pub fn parse_notification(body: &str, received_at_ms: i64) -> Result<NewNotification, &'static str> {
    let envelope: serde_json::Value = serde_json::from_str(body).map_err(|_| "the body is not JSON")?;
    if envelope["Type"] != "Notification" {
        return Err("the envelope's Type is not Notification");
    }
    let text = |key: &str| envelope[key].as_str().map(str::to_owned);
    let message_id = text("MessageId").ok_or("the envelope has no MessageId")?;
    let topic_arn = text("TopicArn").ok_or("the envelope has no TopicArn")?;
    let message = text("Message").ok_or("the envelope has no Message")?;
    let sns_timestamp_ms = text("Timestamp").and_then(|t| parse_rfc3339_ms(&t)).unwrap_or(received_at_ms);
    // A topic can carry other messages than CloudWatch's; those are kept
    // but link to no state change.
    let alarm: serde_json::Value = serde_json::from_str(&message).unwrap_or_default();
    Ok(NewNotification {
        message_id,
        topic_arn,
        subject: text("Subject"),
        sns_timestamp_ms,
        received_at_ms,
        alarm_name: alarm["AlarmName"].as_str().map(str::to_owned),
        new_state: alarm["NewStateValue"].as_str().map(str::to_owned),
        state_change_time_ms: alarm["StateChangeTime"].as_str().and_then(parse_aws_timestamp_ms),
        message,
    })
}

fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// CloudWatch's `StateChangeTime`: `2026-11-27T03:49:38.123+0000`.
fn parse_aws_timestamp_ms(text: &str) -> Option<i64> {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory][offset_minute]"
    );
    let at = time::OffsetDateTime::parse(text, &format).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Keeps the inbox subscribed to every alarm topic and drains it, until
/// `stopped` flips.
pub async fn run(aws: Aws, db: Database, config: PollerConfig, stopped: watch::Receiver<bool>) {
    let (queue_url_sender, queue_url) = watch::channel::<Option<String>>(None);
    tokio::join!(
        subscribe_loop(&aws, &db, &config, queue_url_sender, stopped.clone()),
        receive_loop(&aws, &db, &config, queue_url, stopped),
    );
}

async fn subscribe_loop(
    aws: &Aws,
    db: &Database,
    config: &PollerConfig,
    queue_url: watch::Sender<Option<String>>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut queue = None;
    let mut backoff = Backoff::default();
    let metrics = crate::metrics::global();
    metrics.poller_started(SUBSCRIBE_POLLER);
    loop {
        let had_queue = queue.is_some();
        let wait = match ensure_subscribed(aws, db, config, &mut queue).await {
            Ok(current) => {
                backoff.succeeded("inbox-subscriptions");
                metrics.poller_succeeded(SUBSCRIBE_POLLER);
                if let Some(current) = &current {
                    // The queue's depth for /metrics; a miss only leaves the
                    // last value in place.
                    match aws.sqs().approximate_messages(&current.queue_url).await {
                        Ok(messages) => metrics.set_inbox_queue_messages(messages),
                        // Deleted (by a teardown) while other topics remain:
                        // made anew next round.
                        Err(error) if error.kind == AwsErrorKind::NotFound => queue = None,
                        Err(error) => tracing::debug!(%error, "inbox queue depth unavailable"),
                    }
                }
                let url = current.map(|current| current.queue_url);
                // A queue made anew has its predecessor's URL: the receive
                // half is told all the same, so it stops backing off.
                let fresh = !had_queue && url.is_some();
                queue_url.send_if_modified(|shown| {
                    let changed = fresh || *shown != url;
                    shown.clone_from(&url);
                    changed
                });
                config.interval
            }
            Err(error) => {
                // The queue may be gone (a teardown deletes it): ask again next round.
                queue = None;
                metrics.poller_failed(SUBSCRIBE_POLLER, super::fault(&error));
                backoff.failed("inbox-subscriptions", &error)
            }
        };
        if sleep_or_stop(wait, &mut stopped).await {
            return;
        }
    }
}

async fn receive_loop(
    aws: &Aws,
    db: &Database,
    config: &PollerConfig,
    mut queue_url: watch::Receiver<Option<String>>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    let metrics = crate::metrics::global();
    metrics.poller_started(RECEIVE_POLLER);
    loop {
        let current = queue_url.borrow_and_update().clone();
        let Some(url) = current else {
            tokio::select! {
                changed = queue_url.changed() => if changed.is_err() { return },
                _ = stopped.changed() => return,
            }
            continue;
        };
        // A stop abandons the long poll in flight (SQS keeps its messages);
        // messages already received are stored and deleted first.
        let sqs = aws.sqs();
        let received = tokio::select! {
            received = sqs.receive_messages(&url, config.wait_seconds) => received,
            _ = stopped.changed() => return,
        };
        let outcome = match received {
            Ok(messages) => store_and_delete(aws, db, &url, messages).await,
            Err(error) => Err(error.into()),
        };
        match outcome {
            Ok(_) => {
                backoff.succeeded("inbox");
                metrics.poller_succeeded(RECEIVE_POLLER);
            }
            Err(error) => {
                metrics.poller_failed(RECEIVE_POLLER, super::fault(&error));
                let wait = backoff.failed("inbox", &error);
                // A queue announced again (made anew after a teardown
                // deleted it) is polled at once, not after the back-off its
                // predecessor's failures built up: the new alarm's first
                // notification would otherwise wait up to a minute.
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    changed = queue_url.changed() => if changed.is_err() { return },
                    _ = stopped.changed() => return,
                }
            }
        }
        if *stopped.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Envelope and alarm message formats:
    // https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-sns-notification-format.html
    #[test]
    fn reads_the_envelope_and_cloudwatchs_message() {
        let alarm = serde_json::json!({
            "AlarmName": "pattern1-logging-alarm", "NewStateValue": "ALARM", "OldStateValue": "OK",
            "StateChangeTime": "2026-11-27T03:49:38.123+0000"
        });
        let body = serde_json::json!({
            "Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic",
            "Subject": "ALARM: \"pattern1-logging-alarm\" in Asia Pacific (Sydney)",
            "Message": alarm.to_string(), "Timestamp": "2026-11-27T03:49:38.456Z"
        });
        let parsed = parse_notification(&body.to_string(), 7).expect("a notification");
        assert_eq!(parsed.message_id, "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324");
        assert_eq!(parsed.alarm_name.as_deref(), Some("pattern1-logging-alarm"));
        assert_eq!(parsed.new_state.as_deref(), Some("ALARM"));
        assert_eq!(parsed.state_change_time_ms, Some(1_795_751_378_123));
        assert_eq!(parsed.sns_timestamp_ms, 1_795_751_378_456);
        assert!(parse_notification("{\"Type\":\"SubscriptionConfirmation\"}", 7).is_err());
        assert!(parse_notification("not json", 7).is_err());
    }

    // The policy SNS needs: https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html
    #[test]
    fn the_queue_policy_lets_only_the_alarm_topics_send() {
        let policy: serde_json::Value = serde_json::from_str(&queue_policy(
            "arn:aws:sqs:ap-southeast-2:111122223333:keywatch-inbox-pattern1",
            &["arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic"],
        ))
        .expect("json");
        let statement = &policy["Statement"][0];
        assert_eq!(statement["Principal"]["Service"], "sns.amazonaws.com");
        assert_eq!(statement["Action"], "sqs:SendMessage");
        assert_eq!(
            statement["Condition"]["ArnEquals"]["aws:SourceArn"][0],
            "arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic"
        );
    }
}
