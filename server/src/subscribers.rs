//! The server's side of the Subscribers page's port ([`SubscribersBackend`]):
//! the alarm topics and their subscribers through SNS, subscription changes
//! recorded in the audit log, and the sandbox's email outbox.

use async_trait::async_trait;
use keywatch_app::api::connection::ConsoleSettings;
use keywatch_app::api::subscribers::port::SubscribersBackend;
use keywatch_app::api::subscribers::{AlarmTopic, OutboxEmail, Subscriber};
use keywatch_app::error::AppError;
use keywatch_domain::sns::{SubscriptionStatus, mask_endpoint};

use crate::aws::Aws;
use crate::clock::rfc3339;
use crate::db::Database;
use crate::db::audit::{AuditEntry, actions};
use crate::pollers::DEFAULT_LAB_PREFIX;

/// The Subscribers page's backend: SNS through the SDK, the audit log in SQLite.
pub struct ServerSubscribers {
    aws: Aws,
    db: Database,
    settings: ConsoleSettings,
    lab_prefix: String,
}

impl ServerSubscribers {
    pub fn new(aws: Aws, db: Database, settings: ConsoleSettings) -> ServerSubscribers {
        ServerSubscribers { aws, db, settings, lab_prefix: DEFAULT_LAB_PREFIX.to_owned() }
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
impl SubscribersBackend for ServerSubscribers {
    async fn alarm_topics(&self) -> Result<Vec<AlarmTopic>, AppError> {
        let discovered = crate::pollers::discover_managed(&self.aws, &self.db, &self.lab_prefix).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
