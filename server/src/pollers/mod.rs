//! Background work that keeps SQLite in step with AWS: the alarm history
//! poller and the notification inbox, which run as tasks started by `serve`,
//! back off on errors (logging once per failure streak), and stop when the
//! shutdown signal flips; and the stack watcher, which follows the wizard's
//! deployments.

pub mod history;
pub mod inbox;
pub mod stack_watcher;

use std::collections::BTreeMap;
use std::time::Duration;

use keywatch_app::api::subscribers::topic_name;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::aws::Aws;
use crate::aws::cloudwatch::AlarmSnapshot;
use crate::db::Database;
use crate::error::ServerError;

/// The lab's resource name prefix (its stacks' `pattern1-…` names).
pub const DEFAULT_LAB_PREFIX: &str = "pattern1";

/// How the pollers run.
#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// Names of the lab's alarms and topics start with this.
    pub lab_prefix: String,
    /// Time between DescribeAlarmHistory rounds, and between checks that the
    /// inbox is subscribed to every alarm topic.
    pub interval: Duration,
    /// `WaitTimeSeconds` of the inbox's long polls (0–20).
    pub wait_seconds: i32,
    /// Where the inbox publishes the alarm topics it listens to, for the
    /// SNS HTTP(S) endpoint to accept only those.
    pub alarm_topics: crate::sns_endpoint::AlarmTopicList,
    /// Where people reach the console: a response awaiting approval is
    /// announced on the alarm's topics with a link to it. `None`: not
    /// announced.
    pub console_url: Option<String>,
}

impl PollerConfig {
    /// Defaults: the lab's prefix, SQS's longest long poll, and a history
    /// round every `interval`.
    pub fn new(interval: Duration) -> PollerConfig {
        PollerConfig {
            lab_prefix: DEFAULT_LAB_PREFIX.to_owned(),
            interval,
            wait_seconds: 20,
            alarm_topics: crate::sns_endpoint::AlarmTopicList::default(),
            console_url: None,
        }
    }
}

/// Whether Keywatch manages `alarm`: one of its actions is one of the lab's
/// topics, or its name carries the lab's prefix. Kept in one place so the
/// definition is easy to change.
pub fn is_managed(alarm: &AlarmSnapshot, lab_topics: &[String], lab_prefix: &str) -> bool {
    alarm.alarm_name.starts_with(lab_prefix) || alarm.all_actions().any(|action| lab_topics.iter().any(|t| t == action))
}

/// The managed alarms and the SNS topics that alert for them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlarmTopics {
    pub managed_alarms: Vec<AlarmSnapshot>,
    /// Topic ARN → names of the managed alarms that name it as an action
    /// (empty for a lab topic no alarm uses yet).
    pub topics: BTreeMap<String, Vec<String>>,
}

/// Finds the managed alarms and their topics: SNS topics among their
/// actions, plus the lab's topics (by name prefix) from `ListTopics`.
pub async fn discover(aws: &Aws, lab_prefix: &str) -> Result<AlarmTopics, ServerError> {
    discover_with(aws, &[lab_prefix], Vec::new()).await
}

/// [`discover`], plus the lab the user works on (the prefix the wizard
/// deployed or adopted last, when it is not the lab's own: a lab deployed
/// under its own prefix is managed like the lab's) and the alarm topics of
/// the labs adopted into Keywatch (their topics carry whatever names
/// CloudFormation gave them). A round that cannot read an adopted stack
/// manages the others.
pub async fn discover_managed(aws: &Aws, db: &Database, lab_prefix: &str) -> Result<AlarmTopics, ServerError> {
    let adopted = crate::adoption::adopted_topics(aws, db).await.unwrap_or_else(|error| {
        tracing::warn!(%error, "the adopted labs' alarm topics could not be read");
        Vec::new()
    });
    let current = db.deployments().latest_prefix().await?;
    let prefixes: Vec<&str> =
        std::iter::once(lab_prefix).chain(current.as_deref().filter(|p| *p != lab_prefix)).collect();
    discover_with(aws, &prefixes, adopted).await
}

async fn discover_with(aws: &Aws, prefixes: &[&str], adopted: Vec<String>) -> Result<AlarmTopics, ServerError> {
    let mut lab_topics: Vec<String> = aws
        .sns()
        .list_topics()
        .await?
        .into_iter()
        .filter(|arn| prefixes.iter().any(|prefix| topic_name(arn).starts_with(prefix)))
        .collect();
    for topic in adopted {
        if !lab_topics.contains(&topic) {
            lab_topics.push(topic);
        }
    }
    let managed_alarms: Vec<AlarmSnapshot> = aws
        .cloudwatch()
        .describe_metric_alarms()
        .await?
        .into_iter()
        .filter(|alarm| prefixes.iter().any(|prefix| is_managed(alarm, &lab_topics, prefix)))
        .collect();
    let mut topics: BTreeMap<String, Vec<String>> = lab_topics.into_iter().map(|arn| (arn, Vec::new())).collect();
    for alarm in &managed_alarms {
        for action in alarm.all_actions().filter(|action| action.starts_with("arn:aws") && action.contains(":sns:")) {
            let names = topics.entry(action.to_owned()).or_default();
            if !names.contains(&alarm.alarm_name) {
                names.push(alarm.alarm_name.clone());
            }
        }
    }
    Ok(AlarmTopics { managed_alarms, topics })
}

/// How long the background tasks get, after a stop signal, to finish the
/// round they are in and commit it. A round cut off after this loses
/// nothing committed: each page of history is stored before its cursor
/// moves, and an inbox message is deleted only after its row is committed.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// The running pollers.
pub struct Pollers {
    /// `None` when the stop signal belongs to the caller.
    stop: Option<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Pollers {
    /// Starts the history poller and the inbox in the background; they stop
    /// at [`Pollers::stop`].
    pub fn start(aws: Aws, db: Database, config: PollerConfig) -> Pollers {
        let (stop, stopped) = watch::channel(false);
        let mut pollers = Pollers::start_until(aws, db, config, stopped);
        pollers.stop = Some(stop);
        pollers
    }

    /// Starts the history poller and the inbox; they stop when `stopped`
    /// flips (the console's one stop signal).
    pub fn start_until(aws: Aws, db: Database, config: PollerConfig, stopped: watch::Receiver<bool>) -> Pollers {
        let tasks = vec![
            tokio::spawn(history::run(aws.clone(), db.clone(), config.clone(), stopped.clone())),
            tokio::spawn(inbox::run(aws, db, config, stopped)),
        ];
        Pollers { stop: None, tasks }
    }

    /// Asks the pollers to stop (if the signal is ours) and waits, at most
    /// [`STOP_GRACE`], for them to finish what they are writing. A long poll
    /// in flight is abandoned: SQS returns its messages to the queue after
    /// the visibility timeout.
    pub async fn stop(self) {
        if let Some(stop) = &self.stop {
            let _ = stop.send(true);
        }
        let all = futures_util::future::join_all(self.tasks);
        if tokio::time::timeout(STOP_GRACE, all).await.is_err() {
            tracing::warn!(grace_seconds = STOP_GRACE.as_secs(), "a poller did not finish its round in time");
        }
    }
}

/// A poller's failure as the metrics registry keeps it: whether AWS
/// throttled the round, which operation failed, and what users may read.
pub fn fault(error: &ServerError) -> crate::metrics::PollerFault {
    match error {
        ServerError::Aws(aws) => crate::metrics::PollerFault {
            throttled: aws.kind == crate::aws::AwsErrorKind::Throttled,
            operation: Some(aws.operation),
            message: aws.user_message(),
        },
        other => crate::metrics::PollerFault { throttled: false, operation: None, message: other.to_string() },
    }
}

/// Tracks a poller's failure streak so each streak is logged once, and
/// gives the back-off before the next attempt.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    failures: u32,
}

impl Backoff {
    /// After a failure: logs it if it starts a streak, and returns how long to wait.
    pub(crate) fn failed(&mut self, poller: &str, error: &ServerError) -> Duration {
        if self.failures == 0 {
            tracing::warn!(poller, %error, "poller failed; retrying with back-off until it recovers");
        }
        self.failures = self.failures.saturating_add(1);
        // 1 s, 2 s, 4 s … then every 32 s while the failure lasts.
        Duration::from_secs(1u64 << self.failures.min(6).saturating_sub(1))
    }

    /// After a success: logs the recovery if there was a streak.
    pub(crate) fn succeeded(&mut self, poller: &str) {
        if self.failures > 0 {
            tracing::info!(poller, failures = self.failures, "poller recovered");
        }
        self.failures = 0;
    }
}

/// Sleeps `duration` unless the stop signal comes first; true if stopping.
pub(crate) async fn sleep_or_stop(duration: Duration, stopped: &mut watch::Receiver<bool>) -> bool {
    if *stopped.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(duration) => *stopped.borrow(),
        _ = stopped.changed() => true,
    }
}

/// Now, in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(name: &str, actions: &[&str]) -> AlarmSnapshot {
        AlarmSnapshot {
            alarm_name: name.into(),
            alarm_arn: format!("arn:aws:cloudwatch:ap-southeast-2:111122223333:alarm:{name}"),
            state_value: "OK".into(),
            state_reason: String::new(),
            state_transitioned_ms: None,
            alarm_actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            ok_actions: Vec::new(),
            insufficient_data_actions: Vec::new(),
            settings: None,
        }
    }

    #[test]
    fn a_throttled_call_is_a_throttled_fault_naming_its_operation() {
        let throttled = ServerError::Aws(crate::aws::AwsCallError {
            operation: "ReceiveMessage",
            kind: crate::aws::AwsErrorKind::Throttled,
            code: "ThrottlingException".into(),
            message: "Rate exceeded".into(),
        });
        let seen = fault(&throttled);
        assert_eq!((seen.throttled, seen.operation), (true, Some("ReceiveMessage")));
        let other = fault(&ServerError::Config("no".into()));
        assert_eq!((other.throttled, other.operation), (false, None));
        assert!(other.message.contains("no"), "{}", other.message);
    }

    #[test]
    fn managed_alarms_carry_the_prefix_or_alert_a_lab_topic() {
        let topic = "arn:aws:sns:ap-southeast-2:111122223333:pattern1-logging-topic".to_owned();
        assert!(is_managed(&alarm("pattern1-logging-alarm", &[]), &[], "pattern1"));
        assert!(is_managed(&alarm("kms-errors", &[&topic]), std::slice::from_ref(&topic), "pattern1"));
        assert!(!is_managed(
            &alarm("billing", &["arn:aws:sns:ap-southeast-2:111122223333:other"]),
            &[topic],
            "pattern1"
        ));
    }

    #[test]
    fn back_off_doubles_to_32_seconds_and_resets() {
        let mut backoff = Backoff::default();
        let error = ServerError::Config("x".into());
        let waits: Vec<u64> = (0..8).map(|_| backoff.failed("test", &error).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 32, 32]);
        backoff.succeeded("test");
        assert_eq!(backoff.failed("test", &error).as_secs(), 1);
    }
}
