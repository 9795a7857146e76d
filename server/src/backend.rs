//! The server's side of the app's backend port: server functions land here,
//! and here they meet the AWS wrappers and the SQLite repositories.

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use keywatch_app::api::audit::AuditPage;
use keywatch_app::api::backend::ConsoleBackend;
use keywatch_app::api::connection::{ConnectionCheck, ConsoleSettings};
use keywatch_app::api::history::{
    HistoryCursor, HistoryFilter, HistoryPage, HistoryRetention, ReasonDatapoint, StateChangeDetail, Timeline,
};
use keywatch_app::api::subscribers::{AlarmTopic, OutboxEmail, Subscriber};
use keywatch_app::error::AppError;
use keywatch_domain::sns::{SubscriptionStatus, mask_endpoint};

use crate::aws::Aws;
use crate::clock::now_ms;
use crate::clock::rfc3339;
use crate::db::Database;
use crate::db::alarm_history::HistoryQuery;
use crate::db::audit::{AuditEntry, actions};
use crate::db::connection_checks::NewConnectionCheck;
use crate::pollers::DEFAULT_LAB_PREFIX;

/// Switches the whole console to another Region or profile (the running
/// console implements it; see [`crate::console`]).
#[async_trait]
pub trait ConnectionSwitch: Send + Sync {
    async fn switch(
        self: Arc<Self>,
        region: &'static keywatch_domain::region::Region,
        profile: Option<String>,
    ) -> Result<ConsoleSettings, AppError>;
}

/// The console's backend: AWS through the SDK, state in SQLite.
pub struct ServerBackend {
    aws: Aws,
    db: Database,
    settings: ConsoleSettings,
    lab_prefix: String,
    /// Weak: the console owns this backend.
    switch: Option<Weak<dyn ConnectionSwitch>>,
}

/// How far back the timeline reaches when the filter sets no start.
const DEFAULT_TIMELINE_MS: i64 = 24 * 60 * 60 * 1000;

impl ServerBackend {
    pub fn new(aws: Aws, db: Database, settings: ConsoleSettings) -> ServerBackend {
        ServerBackend { aws, db, settings, lab_prefix: DEFAULT_LAB_PREFIX.to_owned(), switch: None }
    }

    /// Lets `change_connection` switch the console through `switch`.
    pub fn with_switch(mut self, switch: Weak<dyn ConnectionSwitch>) -> ServerBackend {
        self.switch = Some(switch);
        self
    }

    /// The sandbox endpoint, or the error pages show on live AWS.
    fn sandbox_endpoint(&self) -> Result<&str, AppError> {
        self.settings
            .sandbox_endpoint
            .as_deref()
            .ok_or_else(|| AppError::NotFound("The outbox (it exists only on the sandbox)".into()))
    }

    /// Subscribes the single pending subscription shown as `masked_endpoint` again.
    async fn resubscribe_pending(
        &self,
        topic_arn: &str,
        protocol: &str,
        masked_endpoint: &str,
    ) -> Result<(), AppError> {
        let listed = self.aws.sns().list_subscriptions_by_topic(topic_arn).await?;
        let mut pending = listed.iter().filter(|s| {
            s.protocol == protocol
                && SubscriptionStatus::from_subscription_arn(&s.subscription_arn)
                    == SubscriptionStatus::PendingConfirmation
                && mask_endpoint(&s.protocol, &s.endpoint) == masked_endpoint
        });
        let (Some(subscription), None) = (pending.next(), pending.next()) else {
            return Err(AppError::Conflict(
                "No single pending subscription matches; remove it and add the endpoint again".into(),
            ));
        };
        self.aws.sns().subscribe(topic_arn, protocol, &subscription.endpoint, &[]).await?;
        Ok(())
    }

    /// Follows the confirmation link in the sandbox email `message_id`.
    async fn follow_confirmation_link(&self, message_id: &str) -> Result<(), AppError> {
        let endpoint = self.sandbox_endpoint()?.to_owned();
        let outbox = self.raw_outbox().await?;
        let link = outbox
            .iter()
            .find(|m| m["messageId"] == message_id)
            .and_then(confirmation_link)
            .ok_or_else(|| AppError::NotFound("A confirmation email with that id".into()))?;
        crate::sandbox_client::get(&endpoint, &link).await.map_err(crate::error::ServerError::from)?;
        Ok(())
    }

    async fn raw_outbox(&self) -> Result<Vec<serde_json::Value>, AppError> {
        let endpoint = self.sandbox_endpoint()?;
        let text = crate::sandbox_client::get(endpoint, &format!("{endpoint}/_keywatch/sns/outbox"))
            .await
            .map_err(crate::error::ServerError::from)?;
        let outbox: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
            tracing::error!(%error, "the sandbox's outbox is not JSON");
            AppError::Internal
        })?;
        Ok(outbox["messages"].as_array().cloned().unwrap_or_default())
    }
}

#[async_trait]
impl ConsoleBackend for ServerBackend {
    fn settings(&self) -> ConsoleSettings {
        self.settings.clone()
    }

    async fn check_connection(&self) -> Result<ConnectionCheck, AppError> {
        let outcome = self.aws.sts().caller_identity().await.map_err(|error| {
            tracing::warn!(%error, "connection check failed");
            AppError::from(error)
        });
        let check = NewConnectionCheck {
            checked_at_ms: now_ms(),
            mode: self.settings.mode,
            region: self.settings.region.clone(),
            profile: self.settings.profile.clone(),
            outcome,
        };
        Ok(self.db.connection_checks().insert(check).await?)
    }

    async fn change_connection(&self, region: &str, profile: Option<String>) -> Result<ConsoleSettings, AppError> {
        let region = keywatch_domain::region::parse(region)
            .map_err(|error| AppError::InvalidInput { field: Some("region".into()), message: error.to_string() })?;
        let target = match &profile {
            Some(profile) => format!("{} (profile {profile})", region.code),
            None => region.code.to_owned(),
        };
        let result = match self.switch.as_ref().and_then(Weak::upgrade) {
            Some(switch) => switch.switch(region, profile).await,
            None => Err(AppError::Conflict("This console cannot change its connection while running".into())),
        };
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::CONNECTION_CHANGE, target, &result))
            .await;
        result
    }

    async fn recent_connection_checks(&self, limit: u32) -> Result<Vec<ConnectionCheck>, AppError> {
        Ok(self.db.connection_checks().recent(limit).await?)
    }

    async fn alarm_topics(&self) -> Result<Vec<AlarmTopic>, AppError> {
        let discovered = crate::pollers::discover(&self.aws, &self.lab_prefix).await?;
        let sns = self.aws.sns();
        let mut topics = Vec::with_capacity(discovered.topics.len());
        for (topic_arn, alarm_names) in discovered.topics {
            let subscribers = sns
                .list_subscriptions_by_topic(&topic_arn)
                .await?
                .into_iter()
                .map(|s| {
                    let status = SubscriptionStatus::from_subscription_arn(&s.subscription_arn);
                    Subscriber {
                        subscription_arn: (status == SubscriptionStatus::Confirmed).then_some(s.subscription_arn),
                        endpoint: mask_endpoint(&s.protocol, &s.endpoint),
                        protocol: s.protocol,
                        status,
                    }
                })
                .collect();
            topics.push(AlarmTopic { topic_arn, alarm_names, subscribers });
        }
        Ok(topics)
    }

    async fn subscribe(&self, topic_arn: &str, protocol: &str, endpoint: &str) -> Result<SubscriptionStatus, AppError> {
        let result = self
            .aws
            .sns()
            .subscribe(topic_arn, protocol, endpoint, &[])
            .await
            .map(|arn| SubscriptionStatus::from_subscription_arn(&arn))
            .map_err(AppError::from);
        // The endpoint is recorded masked, as the Subscribers page shows it.
        let target = format!("{topic_arn} {protocol}:{}", mask_endpoint(protocol, endpoint));
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::SUBSCRIBER_ADD, target, &result))
            .await;
        result
    }

    async fn unsubscribe(&self, subscription_arn: &str) -> Result<(), AppError> {
        let result = self.aws.sns().unsubscribe(subscription_arn).await.map_err(AppError::from);
        self.db
            .audit()
            .record(AuditEntry::of_result(
                crate::auth::current_user(),
                actions::SUBSCRIBER_REMOVE,
                subscription_arn,
                &result,
            ))
            .await;
        result
    }

    async fn resend_confirmation(
        &self,
        topic_arn: &str,
        protocol: &str,
        masked_endpoint: &str,
    ) -> Result<(), AppError> {
        let result = self.resubscribe_pending(topic_arn, protocol, masked_endpoint).await;
        let target = format!("{topic_arn} {protocol}:{masked_endpoint}");
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::SUBSCRIBER_RESEND, target, &result))
            .await;
        result
    }

    async fn sandbox_outbox(&self) -> Result<Vec<OutboxEmail>, AppError> {
        if self.settings.sandbox_endpoint.is_none() {
            return Ok(Vec::new());
        }
        let mut emails: Vec<OutboxEmail> = self
            .raw_outbox()
            .await?
            .iter()
            .map(|m| {
                let text = |key: &str| m[key].as_str().unwrap_or_default().to_owned();
                OutboxEmail {
                    message_id: text("messageId"),
                    confirmable: confirmation_link(m).is_some(),
                    kind: text("kind"),
                    topic_arn: text("topicArn"),
                    protocol: text("protocol"),
                    to: text("to"),
                    subject: text("subject"),
                    body: text("body"),
                    sent_at: rfc3339(m["timestampMs"].as_i64().unwrap_or_default()),
                }
            })
            .collect();
        emails.reverse();
        Ok(emails)
    }

    async fn confirm_from_outbox(&self, message_id: &str) -> Result<(), AppError> {
        let result = self.follow_confirmation_link(message_id).await;
        self.db
            .audit()
            .record(AuditEntry::of_result(
                crate::auth::current_user(),
                actions::SUBSCRIBER_CONFIRM,
                message_id,
                &result,
            ))
            .await;
        result
    }

    async fn history_page(
        &self,
        filter: HistoryFilter,
        after: Option<HistoryCursor>,
        limit: u32,
    ) -> Result<HistoryPage, AppError> {
        let query = history_query(&filter)?;
        let entries = self.db.alarm_history().page(&query, after, limit).await?;
        let next = (entries.len() == limit as usize)
            .then(|| entries.last().map(|e| HistoryCursor { timestamp_ms: e.timestamp_ms, id: e.id }))
            .flatten();
        Ok(HistoryPage { entries, next })
    }

    async fn timeline(&self, filter: HistoryFilter) -> Result<Timeline, AppError> {
        let query = history_query(&filter)?;
        let to_ms = query.to_ms.unwrap_or_else(now_ms);
        let from_ms = query.from_ms.unwrap_or(to_ms - DEFAULT_TIMELINE_MS);
        let series = self.db.alarm_history().timeline(&query, from_ms, to_ms).await?;
        Ok(Timeline { from_ms, to_ms, series })
    }

    async fn state_change(&self, id: i64) -> Result<StateChangeDetail, AppError> {
        let stored =
            self.db.alarm_history().get(id).await?.ok_or_else(|| AppError::NotFound(format!("History item {id}")))?;
        let notifications = self.db.notifications().for_state_update(id).await?;
        Ok(state_change_detail(stored.entry, &stored.history_data, notifications))
    }

    async fn history_retention(&self) -> Result<HistoryRetention, AppError> {
        Ok(HistoryRetention { keep_days: self.db.history_retention().keep_days().await? })
    }

    async fn set_history_retention(&self, retention: HistoryRetention) -> Result<HistoryRetention, AppError> {
        let result = self.db.history_retention().set_keep_days(retention.keep_days).await.map_err(AppError::from);
        let target = match retention.keep_days {
            Some(days) => format!("keep {days} days"),
            None => "keep everything".to_owned(),
        };
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::HISTORY_RETENTION, target, &result))
            .await;
        result?;
        self.history_retention().await
    }

    async fn audit_page(&self, before: Option<i64>, limit: u32) -> Result<AuditPage, AppError> {
        let records = self.db.audit().page(before, limit).await?;
        let next_before = (records.len() == limit as usize).then(|| records.last().map(|record| record.id)).flatten();
        Ok(AuditPage { records, next_before })
    }
}

/// The confirmation link of an outbox email: the `SubscribeURL` of an
/// email-json message, or the link line of a plain email.
fn confirmation_link(message: &serde_json::Value) -> Option<String> {
    if message["kind"] != "SubscriptionConfirmation" {
        return None;
    }
    let body = message["body"].as_str()?;
    if message["protocol"] == "email-json" {
        let json: serde_json::Value = serde_json::from_str(body).ok()?;
        return json["SubscribeURL"].as_str().map(str::to_owned);
    }
    body.lines()
        .map(str::trim)
        .find(|line| line.starts_with("http://") || line.starts_with("https://"))
        .map(str::to_owned)
}

/// Resolves the page's filter: time range text to milliseconds.
pub fn history_query(filter: &HistoryFilter) -> Result<HistoryQuery, AppError> {
    let time = |field: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(|text| {
                parse_filter_time(text).ok_or_else(|| AppError::InvalidInput {
                    field: Some(field.to_owned()),
                    message: format!("{:?} is not a date and time such as 2026-11-27T03:50", clipped(text)),
                })
            })
            .transpose()
    };
    let (from_ms, to_ms) = (time("from", &filter.from)?, time("to", &filter.to)?);
    // An empty range is a mistake to point out, not "no history matches".
    if let (Some(from), Some(to)) = (from_ms, to_ms)
        && from > to
    {
        return Err(AppError::InvalidInput {
            field: Some("to".to_owned()),
            message: "To must be after From".to_owned(),
        });
    }
    Ok(HistoryQuery {
        alarm_name: filter.alarm.clone(),
        new_state: filter.state.clone(),
        item_type: filter.item_type.clone(),
        from_ms,
        to_ms,
        text: filter.text.clone(),
    })
}

/// The start of `text` for an error message: input is echoed so users see
/// what was refused, never whole (it could be megabytes).
fn clipped(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// `YYYY-MM-DDTHH:MM[:SS]` (UTC, as `<input type="datetime-local">` sends)
/// or RFC 3339, to epoch milliseconds.
fn parse_filter_time(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let at = time::OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| {
        let minutes = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
        let seconds = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        time::PrimitiveDateTime::parse(text, &seconds)
            .or_else(|_| time::PrimitiveDateTime::parse(text, &minutes))
            .ok()
            .map(time::PrimitiveDateTime::assume_utc)
    })?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Reads a StateUpdate's HistoryData: `newState.stateReason` and
/// `newState.stateReasonData` (an object in history, a JSON string in
/// DescribeAlarms; both are accepted).
fn state_change_detail(
    entry: keywatch_app::api::history::HistoryEntry,
    history_data: &str,
    notifications: Vec<keywatch_app::api::history::DeliveredNotification>,
) -> StateChangeDetail {
    let data: serde_json::Value = serde_json::from_str(history_data).unwrap_or_default();
    let new_state = &data["newState"];
    let reason_data = match &new_state["stateReasonData"] {
        serde_json::Value::String(text) => serde_json::from_str(text).unwrap_or_default(),
        other => other.clone(),
    };
    let evaluated: Vec<ReasonDatapoint> = reason_data["evaluatedDatapoints"]
        .as_array()
        .map(|points| {
            points
                .iter()
                .rev()
                .filter_map(|p| {
                    Some(ReasonDatapoint {
                        timestamp: p["timestamp"].as_str().map(str::to_owned),
                        value: p["value"].as_f64()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let datapoints = if evaluated.is_empty() {
        reason_data["recentDatapoints"]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .filter_map(|v| v.as_f64())
                    .map(|value| ReasonDatapoint { timestamp: None, value })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        evaluated
    };
    StateChangeDetail {
        entry,
        reason: new_state["stateReason"].as_str().map(str::to_owned),
        threshold: reason_data["threshold"].as_f64(),
        period_seconds: reason_data["period"].as_i64(),
        datapoints,
        notifications,
        history_data: serde_json::to_string_pretty(&data).unwrap_or_else(|_| history_data.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_times_are_utc_datetime_local_or_rfc3339() {
        assert_eq!(parse_filter_time("2026-11-27T03:49"), Some(1_795_751_340_000));
        assert_eq!(parse_filter_time("2026-11-27T03:49:38"), Some(1_795_751_378_000));
        assert_eq!(parse_filter_time("2026-11-27T03:49:38.123Z"), Some(1_795_751_378_123));
        assert_eq!(parse_filter_time("yesterday"), None);
    }

    // HistoryData of a StateUpdate:
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmHistoryItem.html
    #[test]
    fn the_detail_reads_reason_and_datapoints_from_history_data() {
        let data = serde_json::json!({
            "version": "1.0",
            "oldState": {"stateValue": "OK", "stateReason": "r"},
            "newState": {"stateValue": "ALARM", "stateReason": "Threshold Crossed: 1 datapoint [4.0 (27/11/26 03:49:00)] was greater than the threshold (1.0).",
                "stateReasonData": {"version": "1.0", "period": 10, "recentDatapoints": [4.0], "threshold": 1.0,
                    "evaluatedDatapoints": [{"timestamp": "2026-11-27T03:49:00.000+0000", "sampleCount": 4.0, "value": 4.0}]}}
        });
        let entry = keywatch_app::api::history::HistoryEntry {
            id: 1,
            alarm_name: "a".into(),
            item_type: "StateUpdate".into(),
            timestamp_ms: 0,
            timestamp: String::new(),
            summary: String::new(),
            old_state: None,
            new_state: None,
            notification_count: 0,
        };
        let detail = state_change_detail(entry, &data.to_string(), Vec::new());
        assert!(detail.reason.as_deref().is_some_and(|r| r.starts_with("Threshold Crossed")));
        assert_eq!(detail.threshold, Some(1.0));
        assert_eq!(detail.period_seconds, Some(10));
        assert_eq!(
            detail.datapoints,
            vec![ReasonDatapoint { timestamp: Some("2026-11-27T03:49:00.000+0000".into()), value: 4.0 }]
        );
    }

    // Issue 17, K: From after To answered "No history matches".
    #[test]
    fn a_range_that_ends_before_it_starts_is_refused() {
        let filter = HistoryFilter {
            from: Some("2026-11-27T10:00".into()),
            to: Some("2026-11-27T09:00".into()),
            ..HistoryFilter::default()
        };
        let error = history_query(&filter).expect_err("refused");
        assert_eq!(error, AppError::InvalidInput { field: Some("to".into()), message: "To must be after From".into() });
        let filter = HistoryFilter { to: Some("2026-11-27T11:00".into()), ..filter };
        assert!(history_query(&filter).is_ok());
    }

    #[test]
    fn confirmation_links_come_from_the_email_or_its_json() {
        let plain = serde_json::json!({"kind": "SubscriptionConfirmation", "protocol": "email",
            "body": "Confirm subscription:\nhttp://127.0.0.1:4566/?Action=ConfirmSubscription&Token=t\n\nPlease do not reply"});
        assert_eq!(
            confirmation_link(&plain).as_deref(),
            Some("http://127.0.0.1:4566/?Action=ConfirmSubscription&Token=t")
        );
        let json = serde_json::json!({"kind": "SubscriptionConfirmation", "protocol": "email-json",
            "body": "{\"SubscribeURL\":\"http://127.0.0.1:4566/?Action=ConfirmSubscription&Token=u\"}"});
        assert_eq!(
            confirmation_link(&json).as_deref(),
            Some("http://127.0.0.1:4566/?Action=ConfirmSubscription&Token=u")
        );
        assert_eq!(confirmation_link(&serde_json::json!({"kind": "Notification", "body": "http://x/"})), None);
    }
}
