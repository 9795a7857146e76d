//! Amazon SQS: Keywatch's notification inbox queue.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::QueueAttributeName;

use super::interceptor::CallMetrics;
use super::{AwsCallError, AwsErrorKind};

/// The SQS client, wrapped to take and return Keywatch's own types.
#[derive(Debug, Clone)]
pub struct Sqs {
    client: aws_sdk_sqs::Client,
}

/// A queue: its URL (for calls) and ARN (for policies and subscriptions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    pub queue_url: String,
    pub queue_arn: String,
}

/// One received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// Needed to delete the message; valid for this receive only.
    pub receipt_handle: String,
    pub body: String,
}

/// The longest long poll SQS allows (`WaitTimeSeconds` 0–20).
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html>
pub const MAX_WAIT_TIME_SECONDS: i32 = 20;
/// The most messages one `ReceiveMessage` returns (1–10).
pub const MAX_NUMBER_OF_MESSAGES: i32 = 10;

impl Sqs {
    pub fn new(config: &SdkConfig) -> Sqs {
        Sqs {
            client: aws_sdk_sqs::Client::from_conf(
                aws_sdk_sqs::config::Builder::from(config).interceptor(CallMetrics).build(),
            ),
        }
    }

    /// `CreateQueue` then `GetQueueAttributes(QueueArn)`. Creating a queue
    /// that exists with the same attributes returns the existing queue, so
    /// this is idempotent; attributes are set separately with
    /// [`Sqs::set_policy`] so that a changed policy never makes CreateQueue
    /// fail with `QueueNameExists`.
    pub async fn create_queue(&self, queue_name: &str) -> Result<Queue, AwsCallError> {
        let created = self
            .client
            .create_queue()
            .queue_name(queue_name)
            .send()
            .await
            .map_err(|error| AwsCallError::from_sdk("CreateQueue", error))?;
        let queue_url = created.queue_url().unwrap_or_default().to_owned();
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|error| queue_error("GetQueueAttributes", error))?;
        let queue_arn = attributes
            .attributes()
            .and_then(|map: &HashMap<QueueAttributeName, String>| map.get(&QueueAttributeName::QueueArn))
            .cloned()
            .unwrap_or_default();
        Ok(Queue { queue_url, queue_arn })
    }

    /// `SetQueueAttributes(Policy)`.
    pub async fn set_policy(&self, queue_url: &str, policy: &str) -> Result<(), AwsCallError> {
        self.client
            .set_queue_attributes()
            .queue_url(queue_url)
            .attributes(QueueAttributeName::Policy, policy)
            .send()
            .await
            .map_err(|error| queue_error("SetQueueAttributes", error))?;
        Ok(())
    }

    /// `ReceiveMessage` with a long poll of `wait_seconds`.
    pub async fn receive_messages(
        &self,
        queue_url: &str,
        wait_seconds: i32,
    ) -> Result<Vec<ReceivedMessage>, AwsCallError> {
        let output = self
            .client
            .receive_message()
            .queue_url(queue_url)
            .wait_time_seconds(wait_seconds.clamp(0, MAX_WAIT_TIME_SECONDS))
            .max_number_of_messages(MAX_NUMBER_OF_MESSAGES)
            .send()
            .await
            .map_err(|error| queue_error("ReceiveMessage", error))?;
        Ok(output
            .messages()
            .iter()
            .map(|message| ReceivedMessage {
                message_id: message.message_id().unwrap_or_default().to_owned(),
                receipt_handle: message.receipt_handle().unwrap_or_default().to_owned(),
                body: message.body().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// `GetQueueAttributes(ApproximateNumberOfMessages)`: messages
    /// available for retrieval, which SQS says is approximate.
    /// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueAttributes.html>
    pub async fn approximate_messages(&self, queue_url: &str) -> Result<u64, AwsCallError> {
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|error| queue_error("GetQueueAttributes", error))?;
        Ok(attributes
            .attributes()
            .and_then(|map| map.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .and_then(|count| count.parse().ok())
            .unwrap_or(0))
    }

    /// Deletes the queue named `queue_name` (`GetQueueUrl`, `DeleteQueue`);
    /// false when there was none.
    pub async fn delete_queue_named(&self, queue_name: &str) -> Result<bool, AwsCallError> {
        let queue_url = match self.client.get_queue_url().queue_name(queue_name).send().await {
            Ok(found) => found.queue_url().unwrap_or_default().to_owned(),
            Err(error) => {
                let error = queue_error("GetQueueUrl", error);
                return if error.kind == AwsErrorKind::NotFound { Ok(false) } else { Err(error) };
            }
        };
        self.client
            .delete_queue()
            .queue_url(&queue_url)
            .send()
            .await
            .map_err(|error| queue_error("DeleteQueue", error))?;
        Ok(true)
    }

    /// `DeleteMessage`.
    pub async fn delete_message(&self, queue_url: &str, receipt_handle: &str) -> Result<(), AwsCallError> {
        self.client
            .delete_message()
            .queue_url(queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|error| queue_error("DeleteMessage", error))?;
        Ok(())
    }
}

/// The error codes SQS answers for a queue that does not exist: JSON
/// protocol, and the Query protocol's older name.
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueUrl.html>
const QUEUE_MISSING_CODES: [&str; 2] = ["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"];

/// An SQS call's error, of kind not-found when SQS says the queue does not
/// exist (whichever operation said it).
fn queue_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> AwsCallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let missing = error
        .as_service_error()
        .and_then(|service| service.code())
        .is_some_and(|code| QUEUE_MISSING_CODES.contains(&code));
    let error = AwsCallError::from_sdk(operation, error);
    if missing { error.not_found() } else { error }
}
