//! SNS over the Query protocol: topics, subscriptions and their
//! confirmation, filter policies, and delivery of published messages to SQS
//! queues, to an email outbox (`email`, `email-json`) and to a queue of HTTP
//! POSTs (`http`, `https`) that the sandbox's delivery task sends.
//! CloudWatch's alarm notifications carry a readable e-mail text for `email`
//! subscribers ([`Published::email_text`]); every other protocol gets the
//! JSON message.
//!
//! Shapes: <https://docs.aws.amazon.com/sns/latest/api/API_Operations.html>;
//! message formats: <https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html>.
//! Publish is a data event, which CloudTrail does not record as a management
//! event: <https://docs.aws.amazon.com/sns/latest/dg/sns-logging-using-cloudtrail.html>.

pub mod api;
pub mod filter;
pub mod signing;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::sqs::SqsState;
use crate::store::journal::{Change, Journal};

/// One topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub arn: String,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

/// One subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub arn: String,
    pub topic_arn: String,
    pub protocol: String,
    pub endpoint: String,
    pub owner: String,
    /// The confirmation token while pending; `None` once confirmed.
    pub token: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

impl Subscription {
    fn raw(&self) -> bool {
        self.attributes.get("RawMessageDelivery").is_some_and(|v| v == "true")
    }
}

/// An email SNS sent: the sandbox keeps it instead of mailing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEmail {
    pub message_id: String,
    /// `SubscriptionConfirmation` or `Notification`.
    pub kind: String,
    pub topic_arn: String,
    pub subscription_arn: String,
    pub protocol: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub timestamp_ms: i64,
}

/// A message to publish.
#[derive(Debug, Clone, Copy)]
pub struct Published<'a> {
    pub subject: Option<&'a str>,
    pub message: &'a str,
    /// Set by CloudWatch for its alarm notifications: the readable e-mail
    /// AWS sends `email` subscribers in place of the JSON `message`
    /// (`email-json`, SQS and HTTP(S) subscribers still get `message`).
    pub email_text: Option<&'a str>,
    /// Message attributes: name to (DataType, value).
    pub attributes: &'a BTreeMap<String, (String, String)>,
}

/// An HTTP(S) POST SNS owes a subscriber.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpDelivery {
    pub id: String,
    pub url: String,
    /// `x-amz-sns-message-type`.
    pub message_type: String,
    pub message_id: String,
    pub topic_arn: String,
    pub subscription_arn: Option<String>,
    pub body: String,
    pub attempts: u32,
    pub due_ms: i64,
}

/// Everything SNS keeps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SnsState {
    pub topics: BTreeMap<String, Topic>,
    pub subscriptions: BTreeMap<String, Subscription>,
    /// Kept by the store's database, one row per email, never in
    /// `sns.json` (a file written by an earlier release may still hold
    /// them: they are imported).
    #[serde(default, skip_serializing)]
    pub outbox: Vec<OutboxEmail>,
    pub http_queue: Vec<HttpDelivery>,
    /// The key and certificate messages are signed with; made once.
    #[serde(default)]
    pub signing: Option<signing::SigningIdentity>,
    /// The emails sent since the store last looked.
    #[serde(skip)]
    pub journal: Journal,
}

/// Puts `email` in the outbox and notes it for the store.
fn record_email(outbox: &mut Vec<OutboxEmail>, journal: &mut Journal, email: OutboxEmail) {
    journal.push(Change::SnsEmail(email.clone()));
    outbox.push(email);
}

/// Attempts before an HTTP delivery is dropped: the first and, like SNS's
/// default HTTP/S delivery policy, 3 retries.
/// <https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html>
pub const HTTP_MAX_ATTEMPTS: u32 = 4;
/// The back-off unit: retry n waits `2^n` of it. AWS's default waits 20 s
/// between retries; the sandbox is quicker so the loop stays interactive.
pub const HTTP_FIRST_BACKOFF_MS: i64 = 1_000;
/// How long a delivery being sent is held back from being taken again; if
/// the sandbox stops mid-send, the persisted queue still has it, so it is
/// sent again after a restart (at least once, as SNS delivers).
pub const HTTP_LEASE_MS: i64 = 60_000;

fn not_found(what: &str) -> AwsError {
    AwsError { status: http::StatusCode::NOT_FOUND, ..AwsError::sender("NotFound", format!("{what} does not exist")) }
}

/// JSON text of members in AWS's order (serde_json's map would sort them).
fn ordered(members: &[(&str, &str)]) -> String {
    let body: Vec<String> = members
        .iter()
        .map(|(name, value)| format!("{}:{}", serde_json::Value::from(*name), serde_json::Value::from(*value)))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// URLs a message links to, served by the sandbox itself.
struct Links<'a> {
    endpoint: &'a str,
}

impl Links<'_> {
    fn signing_cert(&self) -> String {
        format!("{}/_keywatch/sns/SimpleNotificationService.pem", self.endpoint)
    }

    fn subscribe(&self, topic_arn: &str, token: &str) -> String {
        format!("{}/?Action=ConfirmSubscription&TopicArn={}&Token={token}", self.endpoint, encode(topic_arn))
    }

    fn unsubscribe(&self, subscription_arn: &str) -> String {
        format!("{}/?Action=Unsubscribe&SubscriptionArn={}", self.endpoint, encode(subscription_arn))
    }
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

impl SnsState {
    /// Makes the signing key and certificate if there are none yet; true
    /// when it did (the state must then be saved).
    pub fn ensure_signing_identity(&mut self) -> bool {
        if self.signing.is_some() {
            return false;
        }
        match signing::SigningIdentity::generate() {
            Ok(identity) => {
                self.signing = Some(identity);
                true
            }
            Err(error) => {
                tracing::error!(%error, "the SNS signing certificate could not be made");
                false
            }
        }
    }

    /// A message document: `head` members, then the signature members
    /// (signed over the canonical string of all members), then `tail`.
    fn signed(&self, topic_arn: &str, head: &[(&str, &str)], tail: &[(&str, &str)], cert: &str) -> String {
        let version = self
            .topics
            .get(topic_arn)
            .and_then(|topic| topic.attributes.get("SignatureVersion"))
            .map_or("1", String::as_str);
        let version = if version == "2" { "2" } else { "1" };
        let all: Vec<(&str, &str)> = head.iter().chain(tail).copied().collect();
        let canonical = signing::canonical_string(&all);
        let signature =
            self.signing.as_ref().and_then(|identity| identity.sign(&canonical, version)).unwrap_or_default();
        let mut members: Vec<(&str, &str)> = head.to_vec();
        members.extend([("SignatureVersion", version), ("Signature", signature.as_str()), ("SigningCertURL", cert)]);
        members.extend_from_slice(tail);
        ordered(&members)
    }

    /// Starts confirming a new email or HTTP subscription: the message
    /// with its Token and SubscribeURL goes to the endpoint.
    fn send_confirmation(&mut self, subscription: &Subscription, endpoint: &str, now: i64) {
        let Some(token) = &subscription.token else { return };
        let links = Links { endpoint };
        let message_id = uuid::Uuid::new_v4().to_string();
        let subscribe_url = links.subscribe(&subscription.topic_arn, token);
        let text = format!(
            "You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
            subscription.topic_arn
        );
        let timestamp = crate::protocol::iso8601(now);
        let cert = links.signing_cert();
        let json = self.signed(
            &subscription.topic_arn,
            &[
                ("Type", "SubscriptionConfirmation"),
                ("MessageId", &message_id),
                ("Token", token),
                ("TopicArn", &subscription.topic_arn),
                ("Message", &text),
                ("SubscribeURL", &subscribe_url),
                ("Timestamp", &timestamp),
            ],
            &[],
            &cert,
        );
        match subscription.protocol.as_str() {
            "email" | "email-json" => {
                let body = if subscription.protocol == "email-json" {
                    json
                } else {
                    format!(
                        "You have chosen to subscribe to the topic: \n{}\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary): \nConfirm subscription:\n{subscribe_url}\n\nPlease do not reply directly to this email.",
                        subscription.topic_arn
                    )
                };
                record_email(
                    &mut self.outbox,
                    &mut self.journal,
                    OutboxEmail {
                        message_id,
                        kind: "SubscriptionConfirmation".into(),
                        topic_arn: subscription.topic_arn.clone(),
                        subscription_arn: subscription.arn.clone(),
                        protocol: subscription.protocol.clone(),
                        to: subscription.endpoint.clone(),
                        subject: "AWS Notification - Subscription Confirmation".into(),
                        body,
                        timestamp_ms: now,
                    },
                );
            }
            _ => self.http_queue.push(HttpDelivery {
                id: uuid::Uuid::new_v4().to_string(),
                url: subscription.endpoint.clone(),
                message_type: "SubscriptionConfirmation".into(),
                message_id,
                topic_arn: subscription.topic_arn.clone(),
                subscription_arn: None,
                body: json,
                attempts: 0,
                due_ms: now,
            }),
        }
    }

    /// Publishes to a topic: every confirmed subscription whose filter
    /// policy matches gets the message. Returns the MessageId.
    pub fn publish(
        &mut self,
        sqs: &mut SqsState,
        endpoint: &str,
        topic_arn: &str,
        published: &Published<'_>,
        now: i64,
    ) -> Result<String, AwsError> {
        let Published { subject, message, email_text, attributes } = *published;
        if !self.topics.contains_key(topic_arn) {
            return Err(not_found("Topic"));
        }
        let links = Links { endpoint };
        let message_id = uuid::Uuid::new_v4().to_string();
        let timestamp = crate::protocol::iso8601(now);
        let cert = links.signing_cert();
        let subscriptions: Vec<Subscription> = self
            .subscriptions
            .values()
            .filter(|s| s.topic_arn == topic_arn && s.token.is_none())
            .filter(|s| filter::matches(&s.attributes, message, attributes))
            .cloned()
            .collect();
        for subscription in subscriptions {
            let unsubscribe = links.unsubscribe(&subscription.arn);
            let mut members: Vec<(&str, &str)> =
                vec![("Type", "Notification"), ("MessageId", &message_id), ("TopicArn", topic_arn)];
            if let Some(subject) = subject {
                members.push(("Subject", subject));
            }
            members.extend([("Message", message), ("Timestamp", &timestamp)]);
            let mut envelope = self.signed(topic_arn, &members, &[("UnsubscribeURL", &unsubscribe)], &cert);
            if !attributes.is_empty() {
                // Attributes ride along unsigned, as `{"Name":{"Type":..,"Value":..}}`.
                let object: serde_json::Map<String, serde_json::Value> = attributes
                    .iter()
                    .map(|(name, (data_type, value))| {
                        (name.clone(), serde_json::json!({"Type": data_type, "Value": value}))
                    })
                    .collect();
                envelope.pop();
                envelope.push_str(&format!(",\"MessageAttributes\":{}}}", serde_json::Value::Object(object)));
            }
            let body = if subscription.raw() { message.to_owned() } else { envelope.clone() };
            match subscription.protocol.as_str() {
                "sqs" => {
                    if let Err(error) = sqs.deliver(&subscription.endpoint, body, "sns.amazonaws.com", now) {
                        tracing::warn!(subscription = %subscription.arn, %error, "SNS could not deliver to SQS");
                    }
                }
                "email" | "email-json" => {
                    let body = if subscription.protocol == "email-json" {
                        envelope
                    } else {
                        // CloudWatch writes its alarm e-mail as readable text;
                        // other publishers' messages are mailed as they are.
                        let text = email_text.unwrap_or(message);
                        format!(
                            "{text}\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n{unsubscribe}\n\nPlease do not reply directly to this email. If you have any questions or comments regarding this email, please contact us at https://aws.amazon.com/support"
                        )
                    };
                    record_email(
                        &mut self.outbox,
                        &mut self.journal,
                        OutboxEmail {
                            message_id: message_id.clone(),
                            kind: "Notification".into(),
                            topic_arn: topic_arn.to_owned(),
                            subscription_arn: subscription.arn.clone(),
                            protocol: subscription.protocol.clone(),
                            to: subscription.endpoint.clone(),
                            subject: subject.unwrap_or("AWS Notification Message").to_owned(),
                            body,
                            timestamp_ms: now,
                        },
                    );
                }
                _ => self.http_queue.push(HttpDelivery {
                    id: uuid::Uuid::new_v4().to_string(),
                    url: subscription.endpoint.clone(),
                    message_type: "Notification".into(),
                    message_id: message_id.clone(),
                    topic_arn: topic_arn.to_owned(),
                    subscription_arn: Some(subscription.arn.clone()),
                    body,
                    attempts: 0,
                    due_ms: now,
                }),
            }
        }
        Ok(message_id)
    }

    /// Confirms the subscription `token` belongs to; its ARN.
    pub fn confirm(&mut self, topic_arn: &str, token: &str) -> Result<String, AwsError> {
        if !self.topics.contains_key(topic_arn) {
            return Err(not_found("Topic"));
        }
        let subscription = self
            .subscriptions
            .values_mut()
            .find(|s| s.topic_arn == topic_arn && s.token.as_deref() == Some(token))
            .ok_or_else(|| AwsError::sender("InvalidParameter", "Invalid token"))?;
        subscription.token = None;
        Ok(subscription.arn.clone())
    }

    /// HTTP deliveries due at `now`, to send. They stay queued, leased for
    /// [`HTTP_LEASE_MS`], until [`SnsState::complete_http`] or
    /// [`SnsState::retry_http`] says how the attempt went.
    pub fn take_due_http(&mut self, now: i64) -> Vec<HttpDelivery> {
        let mut due = Vec::new();
        for delivery in self.http_queue.iter_mut().filter(|d| d.due_ms <= now) {
            due.push(delivery.clone());
            delivery.due_ms = now.saturating_add(HTTP_LEASE_MS);
        }
        due
    }

    /// Forgets a delivery the subscriber accepted.
    pub fn complete_http(&mut self, id: &str) {
        self.http_queue.retain(|d| d.id != id);
    }

    /// Puts a failed delivery back with exponential back-off, or drops it
    /// after [`HTTP_MAX_ATTEMPTS`].
    pub fn retry_http(&mut self, mut delivery: HttpDelivery, now: i64) {
        self.complete_http(&delivery.id);
        delivery.attempts += 1;
        if delivery.attempts >= HTTP_MAX_ATTEMPTS {
            tracing::warn!(url = %delivery.url, "SNS gave up delivering to an HTTP endpoint");
            return;
        }
        delivery.due_ms = now + HTTP_FIRST_BACKOFF_MS * (1 << delivery.attempts.min(10));
        self.http_queue.push(delivery);
    }
}

#[cfg(test)]
mod tests;
