//! Amazon SNS: the alarm topics, their subscriptions, and subscribing.

use aws_config::SdkConfig;

use super::AwsCallError;
use super::interceptor::CallMetrics;

/// The SNS client, wrapped to take and return Keywatch's own types.
#[derive(Debug, Clone)]
pub struct Sns {
    client: aws_sdk_sns::Client,
}

/// One `Subscription` as `ListSubscriptionsByTopic` returns it.
/// <https://docs.aws.amazon.com/sns/latest/api/API_Subscription.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The ARN, or `PendingConfirmation` while the endpoint has not confirmed.
    pub subscription_arn: String,
    pub owner: String,
    pub protocol: String,
    /// The full endpoint: never sent to the browser unmasked.
    pub endpoint: String,
    pub topic_arn: String,
}

impl Sns {
    pub fn new(config: &SdkConfig) -> Sns {
        Sns {
            client: aws_sdk_sns::Client::from_conf(
                aws_sdk_sns::config::Builder::from(config).interceptor(CallMetrics).build(),
            ),
        }
    }

    /// `ListTopics`, every page: the ARNs of all topics in the Region.
    pub async fn list_topics(&self) -> Result<Vec<String>, AwsCallError> {
        let mut topics = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let output = self
                .client
                .list_topics()
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|error| AwsCallError::from_sdk("ListTopics", error))?;
            topics.extend(output.topics().iter().filter_map(|topic| topic.topic_arn().map(str::to_owned)));
            match output.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => return Ok(topics),
            }
        }
    }

    /// `ListSubscriptionsByTopic`, every page.
    pub async fn list_subscriptions_by_topic(&self, topic_arn: &str) -> Result<Vec<Subscription>, AwsCallError> {
        let mut subscriptions = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let output = self
                .client
                .list_subscriptions_by_topic()
                .topic_arn(topic_arn)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|error| {
                    let not_found = error.as_service_error().is_some_and(|e| e.is_not_found_exception());
                    let error = AwsCallError::from_sdk("ListSubscriptionsByTopic", error);
                    if not_found { error.not_found() } else { error }
                })?;
            subscriptions.extend(output.subscriptions().iter().map(|s| Subscription {
                subscription_arn: s.subscription_arn().unwrap_or_default().to_owned(),
                owner: s.owner().unwrap_or_default().to_owned(),
                protocol: s.protocol().unwrap_or_default().to_owned(),
                endpoint: s.endpoint().unwrap_or_default().to_owned(),
                topic_arn: s.topic_arn().unwrap_or_default().to_owned(),
            }));
            match output.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => return Ok(subscriptions),
            }
        }
    }

    /// `Subscribe`: returns the subscription ARN, or AWS's `pending
    /// confirmation` for endpoints that must confirm first. Subscribing an
    /// endpoint that is already pending makes SNS send a new confirmation.
    /// `attributes` are subscription attributes such as `RawMessageDelivery`.
    pub async fn subscribe(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
        attributes: &[(&str, &str)],
    ) -> Result<String, AwsCallError> {
        let mut request = self.client.subscribe().topic_arn(topic_arn).protocol(protocol).endpoint(endpoint);
        for (name, value) in attributes {
            request = request.attributes(*name, *value);
        }
        let output = request.send().await.map_err(|error| {
            let not_found = error.as_service_error().is_some_and(|e| e.is_not_found_exception());
            let error = AwsCallError::from_sdk("Subscribe", error);
            if not_found { error.not_found() } else { error }
        })?;
        Ok(output.subscription_arn().unwrap_or_default().to_owned())
    }

    /// `Publish` of a plain message to a topic; returns its MessageId.
    /// <https://docs.aws.amazon.com/sns/latest/api/API_Publish.html>
    pub async fn publish(&self, topic_arn: &str, subject: &str, message: &str) -> Result<String, AwsCallError> {
        let output = self
            .client
            .publish()
            .topic_arn(topic_arn)
            .subject(subject)
            .message(message)
            .send()
            .await
            .map_err(|error| AwsCallError::from_sdk("Publish", error))?;
        Ok(output.message_id().unwrap_or_default().to_owned())
    }

    /// `Unsubscribe`.
    pub async fn unsubscribe(&self, subscription_arn: &str) -> Result<(), AwsCallError> {
        self.client.unsubscribe().subscription_arn(subscription_arn).send().await.map_err(|error| {
            let not_found = error.as_service_error().is_some_and(|e| e.is_not_found_exception());
            let error = AwsCallError::from_sdk("Unsubscribe", error);
            if not_found { error.not_found() } else { error }
        })?;
        Ok(())
    }
}
