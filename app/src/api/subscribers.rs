//! The Subscribers page's data: the alarm topics, who is subscribed to each,
//! and, on the sandbox, the emails SNS sent.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use keywatch_domain::sns::SubscriptionStatus;

/// A subscription as the browser sees it: the endpoint is masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    /// The ARN once confirmed; `None` while pending.
    pub subscription_arn: Option<String>,
    pub protocol: String,
    /// Masked by [`keywatch_domain::sns::mask_endpoint`].
    pub endpoint: String,
    pub status: SubscriptionStatus,
}

/// An alarm topic and its subscribers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmTopic {
    pub topic_arn: String,
    /// Managed alarms with this topic among their actions.
    pub alarm_names: Vec<String>,
    pub subscribers: Vec<Subscriber>,
}

/// An email the sandbox's SNS sent instead of mailing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEmail {
    pub message_id: String,
    /// `SubscriptionConfirmation` or `Notification`.
    pub kind: String,
    pub topic_arn: String,
    pub protocol: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// RFC 3339, UTC.
    pub sent_at: String,
    /// Whether the body carries a confirmation link Keywatch can follow.
    pub confirmable: bool,
}

/// The alarm topics and their subscribers.
#[server(endpoint = "subscribers/topics")]
pub async fn list_alarm_topics() -> Result<Vec<AlarmTopic>, AppError> {
    crate::api::port::<port::Subscribers>()?.0.alarm_topics().await
}

/// `add_subscriber`'s input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddSubscriberInput {
    pub topic_arn: String,
    pub protocol: String,
    pub endpoint: String,
}

/// Subscribes an endpoint after checking it for its protocol; returns the
/// status SNS gave it.
#[server(endpoint = "subscribers/add")]
pub async fn add_subscriber(input: AddSubscriberInput) -> Result<SubscriptionStatus, AppError> {
    keywatch_domain::sns::validate_endpoint(&input.protocol, &input.endpoint)
        .map_err(|message| AppError::InvalidInput { field: Some("endpoint".into()), message })?;
    crate::api::port::<port::Subscribers>()?.0.subscribe(&input.topic_arn, &input.protocol, input.endpoint.trim()).await
}

/// `remove_subscriber`'s input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveSubscriberInput {
    pub subscription_arn: String,
}

/// Unsubscribes a confirmed subscription.
#[server(endpoint = "subscribers/remove")]
pub async fn remove_subscriber(input: RemoveSubscriberInput) -> Result<(), AppError> {
    crate::api::port::<port::Subscribers>()?.0.unsubscribe(&input.subscription_arn).await
}

/// `resend_confirmation`'s input: the pending subscription, named as the
/// page shows it (the unmasked endpoint never leaves the server).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResendConfirmationInput {
    pub topic_arn: String,
    pub protocol: String,
    pub masked_endpoint: String,
}

/// Subscribes a pending endpoint again, which makes SNS send a new
/// confirmation message.
#[server(endpoint = "subscribers/resend")]
pub async fn resend_confirmation(input: ResendConfirmationInput) -> Result<(), AppError> {
    crate::api::port::<port::Subscribers>()?
        .0
        .resend_confirmation(&input.topic_arn, &input.protocol, &input.masked_endpoint)
        .await
}

/// The sandbox's email outbox, newest first (empty on live AWS).
#[server(endpoint = "subscribers/outbox")]
pub async fn sandbox_outbox() -> Result<Vec<OutboxEmail>, AppError> {
    crate::api::port::<port::Subscribers>()?.0.sandbox_outbox().await
}

/// `confirm_from_outbox`'s input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmFromOutboxInput {
    pub message_id: String,
}

/// Follows the confirmation link of a sandbox email, as its recipient would.
#[server(endpoint = "subscribers/confirm")]
pub async fn confirm_from_outbox(input: ConfirmFromOutboxInput) -> Result<(), AppError> {
    crate::api::port::<port::Subscribers>()?.0.confirm_from_outbox(&input.message_id).await
}

/// The name part of a topic ARN (`arn:aws:sns:region:account:name`).
pub fn topic_name(topic_arn: &str) -> &str {
    topic_arn.rsplit(':').next().unwrap_or(topic_arn)
}

/// The port between the Subscribers page's server functions and the server crate.
#[cfg(feature = "ssr")]
pub mod port {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;

    /// What the Subscribers page's server functions ask of the server.
    #[async_trait]
    pub trait SubscribersBackend: Send + Sync + 'static {
        /// The alarm topics (from the managed alarms' actions and the lab's
        /// topics) with their subscribers, endpoints masked.
        async fn alarm_topics(&self) -> Result<Vec<AlarmTopic>, AppError>;

        /// SNS `Subscribe`; the endpoint has been validated for its protocol.
        async fn subscribe(
            &self,
            topic_arn: &str,
            protocol: &str,
            endpoint: &str,
        ) -> Result<SubscriptionStatus, AppError>;

        /// SNS `Unsubscribe`.
        async fn unsubscribe(&self, subscription_arn: &str) -> Result<(), AppError>;

        /// Subscribes the pending subscription shown as `masked_endpoint` again.
        async fn resend_confirmation(
            &self,
            topic_arn: &str,
            protocol: &str,
            masked_endpoint: &str,
        ) -> Result<(), AppError>;

        /// The sandbox's SNS email outbox, newest first; empty on live AWS.
        async fn sandbox_outbox(&self) -> Result<Vec<OutboxEmail>, AppError>;

        /// Follows the confirmation link in the sandbox email `message_id`.
        async fn confirm_from_outbox(&self, message_id: &str) -> Result<(), AppError>;
    }

    /// The subscribers backend as Leptos context.
    #[derive(Clone)]
    pub struct Subscribers(pub Arc<dyn SubscribersBackend>);
}
