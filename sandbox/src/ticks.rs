//! What time makes happen in the sandbox, each under the locks it needs
//! only: CloudTrail's deliveries to log groups and S3 log files, alarm
//! evaluations and their actions, and CloudFormation's steps.

use crate::dispatch::Changed;
use crate::services::{read, write};
use crate::state::{Part, SandboxState};
use crate::store::Commit;
use crate::{Shared, cloudformation, cloudtrail, cloudwatch, identity, logs, metrics, random, s3, sns, sqs};

impl Shared {
    /// Everything time makes happen at `now`, each under the locks it
    /// needs only: CloudTrail deliveries, then alarm evaluations (which see
    /// the datapoints those deliveries produced) and their actions, then
    /// the CloudFormation steps due. Returns when CloudTrail next has
    /// something due, and the commits of what changed.
    pub(crate) fn tick(&self, now: i64) -> (Option<i64>, Vec<Commit>) {
        let services = &self.services;
        let storage = &self.storage;
        let mut commits = Vec::new();
        let next_due = {
            let mut cloudtrail = services.cloudtrail();
            let mut changed = Changed::default();
            if cloudtrail.next_due().is_some_and(|due| due <= now) {
                let mut logs = write(&services.logs);
                let mut metrics = write(&services.metrics);
                let mut s3 = write(&services.s3);
                deliver_due(&mut cloudtrail, &mut logs, &mut metrics, &mut s3, now);
                changed
                    .note(storage, &mut *logs, true)
                    .note(storage, &mut *metrics, false)
                    .note(storage, &mut *s3, true);
                changed.note(storage, &mut *cloudtrail, true);
            } else {
                changed.note(storage, &mut *cloudtrail, false);
            }
            commits.push(changed.persist(storage));
            cloudtrail.next_due()
        };
        {
            let metrics = read(&services.metrics);
            let mut cloudwatch = write(&services.cloudwatch);
            let changes = cloudwatch.evaluate_due(&metrics, now);
            // Composites settle every tick too (SNS and SQS are locked only
            // for a change): one made by a stack, which calls
            // PutCompositeAlarm directly, is evaluated on the next tick.
            let composite_changes = cloudwatch.settle_composites(now);
            if !changes.is_empty() || !composite_changes.is_empty() {
                let mut sns = write(&services.sns);
                let mut sqs = write(&services.sqs);
                let endpoint = self.endpoint();
                let acted = run_alarm_actions(&mut cloudwatch, &mut sns, &mut sqs, &endpoint, &changes, now)
                    | run_composite_actions(&mut cloudwatch, &mut sns, &mut sqs, &endpoint, &composite_changes, now);
                let mut changed = Changed::default();
                changed.note(storage, &mut *sns, acted).note(storage, &mut *sqs, acted);
                changed.note(storage, &mut *cloudwatch, true);
                commits.push(changed.persist(storage));
            }
        }
        if read(&services.cloudformation).has_due(now) {
            let mut state = self.all();
            let parts = advance_stacks(&mut state, now, self.config.stack_pace_ms());
            commits.push(self.persist(&mut state, &parts));
        }
        (next_due, commits)
    }
}

/// Runs the CloudFormation steps due at `now`. A step may create or delete
/// resources in any service, so a step saves every part.
pub(crate) fn advance_stacks(state: &mut SandboxState, now: i64, stack_pace_ms: i64) -> Vec<Part> {
    let place_of = |region: &str| cloudformation::engine::Place {
        region: region.to_owned(),
        partition: keywatch_domain::region::find(region).map_or("aws", |r| r.partition.as_str()).to_owned(),
        account: identity::ACCOUNT_ID.to_owned(),
    };
    if cloudformation::engine::advance(state, place_of, now, stack_pace_ms) { Part::ALL.to_vec() } else { Vec::new() }
}

/// Runs the actions of alarm state changes: publishes CloudWatch's alarm
/// message to each SNS topic and records an `Action` history item with the
/// outcome. Returns whether any action ran.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>
pub(crate) fn run_alarm_actions(
    cloudwatch: &mut cloudwatch::CloudWatchState,
    sns: &mut sns::SnsState,
    sqs: &mut sqs::SqsState,
    endpoint: &str,
    changes: &[cloudwatch::StateChange],
    now: i64,
) -> bool {
    let mut acted = false;
    for change in changes {
        let actions = change.actions();
        if actions.is_empty() {
            continue;
        }
        let notification = cloudwatch::notification(change, identity::ACCOUNT_ID);
        for action in actions {
            let outcome = publish_alarm_action(sns, sqs, endpoint, &action, &notification, now);
            let result = outcome.as_ref().map(|()| notification.message.as_str()).map_err(String::as_str);
            cloudwatch.record_action(change, &action, result, now);
            acted = true;
        }
    }
    acted
}

/// Runs the actions of composite alarms' state changes (from
/// [`cloudwatch::CloudWatchState::settle_composites`]) as for metric alarms.
/// Returns whether any action ran.
pub(crate) fn run_composite_actions(
    cloudwatch: &mut cloudwatch::CloudWatchState,
    sns: &mut sns::SnsState,
    sqs: &mut sqs::SqsState,
    endpoint: &str,
    changes: &[cloudwatch::CompositeChange],
    now: i64,
) -> bool {
    let mut acted = false;
    for change in changes {
        let notification = cloudwatch::composite_notification(change, identity::ACCOUNT_ID);
        for action in change.actions() {
            let outcome = publish_alarm_action(sns, sqs, endpoint, &action, &notification, now);
            let result = outcome.as_ref().map(|()| notification.message.as_str()).map_err(String::as_str);
            cloudwatch.record_composite_action(change, &action, result, now);
            acted = true;
        }
    }
    acted
}

/// One alarm action: a publish to an SNS topic (the only kind the sandbox runs).
fn publish_alarm_action(
    sns: &mut sns::SnsState,
    sqs: &mut sqs::SqsState,
    endpoint: &str,
    action: &str,
    notification: &cloudwatch::AlarmNotification,
    now: i64,
) -> Result<(), String> {
    if action.split(':').nth(2) != Some("sns") {
        return Err(format!("The Keywatch sandbox cannot run the action {action}"));
    }
    let attributes = std::collections::BTreeMap::new();
    let published = sns::Published {
        subject: Some(&notification.subject),
        message: &notification.message,
        email_text: Some(&notification.email_text),
        attributes: &attributes,
    };
    sns.publish(sqs, endpoint, action, &published, now).map(|_| ()).map_err(|error| error.message)
}

/// Writes the CloudTrail records due at `now` to their log groups (stream
/// `<account>_CloudTrail_<region>`, as CloudTrail names it) and as log files
/// to their trails' S3 buckets.
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html>
fn deliver_due(
    cloudtrail: &mut cloudtrail::CloudTrailState,
    logs: &mut logs::LogsState,
    metrics: &mut metrics::MetricStore,
    s3: &mut s3::S3State,
    now: i64,
) {
    deliver_log_files(cloudtrail, s3, now);
    for delivery in cloudtrail.take_due(now) {
        let outcome = match cloudtrail::parse_log_group_arn(&delivery.log_group_arn) {
            Some((region, group)) => {
                let stream = format!("{}_CloudTrail_{region}", identity::ACCOUNT_ID);
                let event = logs::InputLogEvent { timestamp: delivery.event_time, message: delivery.message };
                let target =
                    logs::StreamTarget { region: &region, group: &group, stream: &stream, create_stream: true };
                logs.ingest(&target, vec![event], now, metrics).map(|_| ())
            }
            None => Err(logs::group_not_found()),
        };
        cloudtrail.note_delivery(&delivery.trail_arn, now, outcome.err().map(|error| error.code));
    }
}

/// Writes the CloudTrail log files due at `now` to their trails' buckets:
/// gzip JSON, one object per trail and region per delivery.
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html>
fn deliver_log_files(cloudtrail: &mut cloudtrail::CloudTrailState, s3: &mut s3::S3State, now: i64) {
    for file in cloudtrail.take_due_log_files(now) {
        let outcome =
            random::text(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 16).and_then(|unique| {
                let key = cloudtrail::log_file_key(&file, now, &unique);
                let body = cloudtrail::log_file_body(&file)?;
                // As CloudTrail stores them: JSON, gzip-compressed, named
                // `..._<16 random letters and digits>.json.gz`.
                let attributes = s3::ObjectAttributes {
                    content_type: Some("application/json".into()),
                    content_encoding: Some("gzip".into()),
                    ..s3::ObjectAttributes::default()
                };
                s3.put_object(&file.bucket, &key, body, attributes, now)
            });
        if let Err(error) = &outcome {
            tracing::warn!(trail = %file.trail_arn, bucket = %file.bucket, code = %error.code, "CloudTrail log file not delivered");
        }
        cloudtrail.note_log_file(&file.trail_arn, now, outcome.err().map(|error| error.code));
    }
}
