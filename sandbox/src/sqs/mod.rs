//! SQS over AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.<Operation>`): queues,
//! their attributes and messages with visibility timeouts, delays and
//! retention. Long polling is the dispatcher's: it retries an empty
//! ReceiveMessage without holding the SQS lock (see [`wait_seconds`]).
//!
//! Shapes: <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_Operations.html>.
//! SendMessage, ReceiveMessage, DeleteMessage and ChangeMessageVisibility
//! are data events, which CloudTrail does not record as management events:
//! <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-logging-using-cloudtrail.html>.

use std::collections::BTreeMap;

use md5::Digest as _;
use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::{self, Audit, CallContext, Handled, decode_json};
use crate::store::journal::{Change, Journal};

/// Attribute defaults: <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html>.
const DEFAULT_VISIBILITY_TIMEOUT: i64 = 30;
const DEFAULT_RETENTION_SECONDS: i64 = 345_600;

/// One message in a queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub message_id: String,
    pub body: String,
    pub sent_ms: i64,
    /// Hidden until then (delay or visibility timeout), epoch ms.
    pub visible_at_ms: i64,
    pub receive_count: u32,
    pub first_received_ms: Option<i64>,
    /// The handle of the latest receive; older handles no longer delete.
    pub receipt_handle: Option<String>,
    pub sender_id: String,
}

/// One queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    pub region: String,
    pub name: String,
    pub created_ms: i64,
    pub attributes: BTreeMap<String, String>,
    /// Kept by the store's database, one row each, never in `sqs.json`
    /// (a file written by an earlier release may still hold them: they are
    /// imported).
    #[serde(default, skip_serializing)]
    pub messages: Vec<Message>,
    pub tags: BTreeMap<String, String>,
    /// The messages sent, changed and deleted since the store last looked.
    #[serde(skip)]
    pub journal: Journal,
}

impl Queue {
    /// The queue's key in [`SqsState::queues`] and in the store.
    pub fn key(&self) -> String {
        key(&self.region, &self.name)
    }

    /// Notes that `message` (of this queue) was sent or changed.
    fn note(journal: &mut Journal, queue: &str, message: &Message) {
        journal.push(Change::SqsMessage { queue: queue.to_owned(), message: message.clone() });
    }

    fn number(&self, name: &str, default: i64) -> i64 {
        self.attributes.get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
    }

    /// Drops messages older than `MessageRetentionPeriod`.
    fn expire(&mut self, now: i64) -> bool {
        let keep_ms = self.number("MessageRetentionPeriod", DEFAULT_RETENTION_SECONDS) * 1_000;
        let before = self.messages.len();
        self.messages.retain(|m| m.sent_ms + keep_ms > now);
        let expired = before != self.messages.len();
        if expired {
            self.journal.push(Change::SqsMessagesExpired { queue: self.key(), sent_through: now - keep_ms });
        }
        expired
    }
}

/// Every queue, by `<region>/<name>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SqsState {
    pub queues: BTreeMap<String, Queue>,
}

fn key(region: &str, name: &str) -> String {
    format!("{region}/{name}")
}

/// The queue's ARN: `arn:aws:sqs:<region>:<account>:<name>`.
pub fn queue_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:sqs:{region}:{account}:{name}")
}

fn no_queue() -> AwsError {
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueUrl.html
    AwsError::sender("QueueDoesNotExist", "The specified queue does not exist.")
        .with_query_code("AWS.SimpleQueueService.NonExistentQueue")
}

fn md5_hex(text: &str) -> String {
    md5::Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl SqsState {
    /// Adds a message to the queue an SQS ARN names (SNS delivery); the
    /// message id it got.
    pub fn deliver(&mut self, queue_arn: &str, body: String, sender_id: &str, now: i64) -> Result<String, AwsError> {
        let mut parts = queue_arn.split(':');
        let (Some(region), Some(name)) = (parts.nth(3), parts.nth(1)) else { return Err(no_queue()) };
        let queue = self.queues.get_mut(&key(region, name)).ok_or_else(no_queue)?;
        Ok(send(queue, body, 0, sender_id, now))
    }

    /// Messages currently waiting in a queue (for tests and the console).
    pub fn messages(&self, region: &str, name: &str) -> &[Message] {
        self.queues.get(&key(region, name)).map_or(&[], |q| q.messages.as_slice())
    }
}

fn send(queue: &mut Queue, body: String, delay: i64, sender_id: &str, now: i64) -> String {
    let message_id = uuid::Uuid::new_v4().to_string();
    let delay = if delay > 0 { delay } else { queue.number("DelaySeconds", 0) };
    let message = Message {
        message_id: message_id.clone(),
        body,
        sent_ms: now,
        visible_at_ms: now + delay * 1_000,
        receive_count: 0,
        first_received_ms: None,
        receipt_handle: None,
        sender_id: sender_id.to_owned(),
    };
    let queue_key = queue.key();
    Queue::note(&mut queue.journal, &queue_key, &message);
    queue.messages.push(message);
    message_id
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateQueueInput {
    queue_name: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default, rename = "tags")]
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueueNameInput {
    queue_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListQueuesInput {
    queue_name_prefix: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueueUrlInput {
    queue_url: String,
    #[serde(default)]
    attribute_names: Vec<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendMessageInput {
    queue_url: String,
    message_body: String,
    delay_seconds: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiveMessageInput {
    queue_url: String,
    max_number_of_messages: Option<i64>,
    visibility_timeout: Option<i64>,
    #[serde(default)]
    attribute_names: Vec<String>,
    #[serde(default)]
    message_system_attribute_names: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiptInput {
    queue_url: String,
    receipt_handle: String,
    visibility_timeout: Option<i64>,
}

/// How long a ReceiveMessage may wait for messages: its `WaitTimeSeconds`,
/// else the queue's `ReceiveMessageWaitTimeSeconds`, at most 20.
pub fn wait_seconds(state: &SqsState, region: &str, input: &serde_json::Value) -> u64 {
    let asked = input.get("WaitTimeSeconds").and_then(serde_json::Value::as_i64);
    let queue_default = input
        .get("QueueUrl")
        .and_then(|url| url.as_str())
        .and_then(|url| state.queues.get(&key(region, name_of(url))))
        .map(|queue| queue.number("ReceiveMessageWaitTimeSeconds", 0));
    asked.or(queue_default).unwrap_or(0).clamp(0, 20) as u64
}

/// The queue name from a queue URL (`http://host/<account>/<name>`).
fn name_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// Whether a ReceiveMessage output holds no messages (long polling retries).
pub fn is_empty_receive(output: &Value) -> bool {
    match output {
        Value::Map(members) => {
            !members.iter().any(|(name, value)| name == "Messages" && matches!(value, Value::List(l) if !l.is_empty()))
        }
        _ => false,
    }
}

/// Runs an SQS call; `endpoint` is the sandbox URL queue URLs start with.
pub fn call(
    state: &mut SqsState,
    ctx: &CallContext,
    endpoint: &str,
    operation: &str,
    input: &serde_json::Value,
) -> Option<Handled> {
    let read_only = match operation {
        "SendMessage" | "ReceiveMessage" | "DeleteMessage" | "ChangeMessageVisibility" => None,
        "GetQueueUrl" | "ListQueues" | "GetQueueAttributes" => Some(true),
        "CreateQueue" | "DeleteQueue" | "SetQueueAttributes" => Some(false),
        _ => return None,
    };
    let mut expired = false;
    for queue in state.queues.values_mut() {
        expired |= queue.expire(ctx.now);
    }
    let result = run(state, ctx, endpoint, operation, input);
    let audit = read_only.map(|read_only| Audit {
        request_parameters: service::request_parameters(input),
        response_elements: result.as_ref().ok().filter(|_| !read_only).and_then(service::response_elements),
        resources: Vec::new(),
        read_only,
    });
    let mutated = expired || (read_only != Some(true) && result.is_ok());
    Some(Handled { result, audit, mutated })
}

fn run(
    state: &mut SqsState,
    ctx: &CallContext,
    endpoint: &str,
    operation: &str,
    input: &serde_json::Value,
) -> Result<Value, AwsError> {
    let region = ctx.region.as_str();
    let url = |name: &str| format!("{endpoint}/{}/{name}", ctx.account());
    let queue_of = |state: &mut SqsState, queue_url: &str| -> Result<String, AwsError> {
        let id = key(region, name_of(queue_url));
        if state.queues.contains_key(&id) { Ok(id) } else { Err(no_queue()) }
    };
    match operation {
        "CreateQueue" => {
            let input: CreateQueueInput = decode_json(input)?;
            let id = key(region, &input.queue_name);
            match state.queues.get(&id) {
                // Same attributes: the existing queue; different ones: an error.
                // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
                Some(existing) if input.attributes.iter().any(|(k, v)| existing.attributes.get(k) != Some(v)) => {
                    return Err(AwsError::sender(
                        "QueueNameExists",
                        "A queue already exists with the same name and a different value for attribute(s)",
                    )
                    .with_query_code("QueueAlreadyExists"));
                }
                Some(_) => {}
                None => {
                    state.queues.insert(
                        id,
                        Queue {
                            region: region.to_owned(),
                            name: input.queue_name.clone(),
                            created_ms: ctx.now,
                            attributes: input.attributes,
                            messages: Vec::new(),
                            tags: input.tags,
                            journal: Journal::default(),
                        },
                    );
                }
            }
            Ok(Value::structure().with("QueueUrl", url(&input.queue_name)))
        }
        "GetQueueUrl" => {
            let input: QueueNameInput = decode_json(input)?;
            queue_of(state, &input.queue_name)?;
            Ok(Value::structure().with("QueueUrl", url(&input.queue_name)))
        }
        "ListQueues" => {
            let input: ListQueuesInput = decode_json(input)?;
            let urls: Vec<Value> = state
                .queues
                .values()
                .filter(|q| q.region == region)
                .filter(|q| input.queue_name_prefix.as_ref().is_none_or(|p| q.name.starts_with(p.as_str())))
                .map(|q| Value::from(url(&q.name)))
                .collect();
            Ok(Value::structure().with("QueueUrls", Value::List(urls)))
        }
        "DeleteQueue" => {
            let input: QueueUrlInput = decode_json(input)?;
            let id = queue_of(state, &input.queue_url)?;
            state.queues.remove(&id);
            Ok(Value::structure())
        }
        "GetQueueAttributes" => {
            let input: QueueUrlInput = decode_json(input)?;
            let id = queue_of(state, &input.queue_url)?;
            let queue = state.queues.get(&id).ok_or_else(no_queue)?;
            let mut all: BTreeMap<String, String> = BTreeMap::new();
            all.insert("QueueArn".into(), queue_arn(&ctx.partition, region, ctx.account(), &queue.name));
            all.insert(
                "VisibilityTimeout".into(),
                queue.number("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT).to_string(),
            );
            all.insert(
                "MessageRetentionPeriod".into(),
                queue.number("MessageRetentionPeriod", DEFAULT_RETENTION_SECONDS).to_string(),
            );
            all.insert("DelaySeconds".into(), queue.number("DelaySeconds", 0).to_string());
            all.insert(
                "ReceiveMessageWaitTimeSeconds".into(),
                queue.number("ReceiveMessageWaitTimeSeconds", 0).to_string(),
            );
            all.insert("MaximumMessageSize".into(), queue.number("MaximumMessageSize", 262_144).to_string());
            all.insert("CreatedTimestamp".into(), (queue.created_ms / 1_000).to_string());
            all.insert("LastModifiedTimestamp".into(), (queue.created_ms / 1_000).to_string());
            let visible = queue.messages.iter().filter(|m| m.visible_at_ms <= ctx.now).count();
            all.insert("ApproximateNumberOfMessages".into(), visible.to_string());
            all.insert("ApproximateNumberOfMessagesNotVisible".into(), (queue.messages.len() - visible).to_string());
            all.insert("ApproximateNumberOfMessagesDelayed".into(), "0".into());
            for (name, value) in &queue.attributes {
                all.entry(name.clone()).or_insert_with(|| value.clone());
            }
            let wanted = |name: &str| input.attribute_names.iter().any(|n| n == "All" || n == name);
            let mut attributes = Value::structure();
            for (name, value) in all.iter().filter(|(name, _)| wanted(name)) {
                attributes = attributes.with(name, value.as_str());
            }
            Ok(Value::structure().with("Attributes", attributes))
        }
        "SetQueueAttributes" => {
            let input: QueueUrlInput = decode_json(input)?;
            let id = queue_of(state, &input.queue_url)?;
            let queue = state.queues.get_mut(&id).ok_or_else(no_queue)?;
            // Policy included: SNS topics need `sqs:SendMessage` granted here.
            queue.attributes.extend(input.attributes);
            Ok(Value::structure())
        }
        "SendMessage" => {
            let input: SendMessageInput = decode_json(input)?;
            let id = queue_of(state, &input.queue_url)?;
            let queue = state.queues.get_mut(&id).ok_or_else(no_queue)?;
            let md5 = md5_hex(&input.message_body);
            let message_id =
                send(queue, input.message_body, input.delay_seconds.unwrap_or(0), &ctx.caller.user_id, ctx.now);
            Ok(Value::structure().with("MD5OfMessageBody", md5).with("MessageId", message_id))
        }
        "ReceiveMessage" => {
            let input: ReceiveMessageInput = decode_json(input)?;
            let id = queue_of(state, &input.queue_url)?;
            let queue = state.queues.get_mut(&id).ok_or_else(no_queue)?;
            let max = input.max_number_of_messages.unwrap_or(1);
            if !(1..=10).contains(&max) {
                return Err(AwsError::sender(
                    "InvalidParameterValue",
                    format!(
                        "Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
                    ),
                ));
            }
            let timeout = input
                .visibility_timeout
                .unwrap_or_else(|| queue.number("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT));
            let names: Vec<&String> =
                input.attribute_names.iter().chain(&input.message_system_attribute_names).collect();
            let mut received = Vec::new();
            let queue_key = queue.key();
            for message in queue.messages.iter_mut().filter(|m| m.visible_at_ms <= ctx.now).take(max as usize) {
                // At-least-once: a received message returns when its
                // visibility timeout passes without a DeleteMessage.
                message.visible_at_ms = ctx.now + timeout * 1_000;
                message.receive_count += 1;
                message.first_received_ms.get_or_insert(ctx.now);
                let handle = uuid::Uuid::new_v4().to_string();
                message.receipt_handle = Some(handle.clone());
                Queue::note(&mut queue.journal, &queue_key, message);
                let mut attributes = Value::structure();
                let wanted = |n: &str| names.iter().any(|w| *w == "All" || *w == n);
                if wanted("SenderId") {
                    attributes = attributes.with("SenderId", message.sender_id.as_str());
                }
                if wanted("SentTimestamp") {
                    attributes = attributes.with("SentTimestamp", message.sent_ms.to_string());
                }
                if wanted("ApproximateReceiveCount") {
                    attributes = attributes.with("ApproximateReceiveCount", message.receive_count.to_string());
                }
                if wanted("ApproximateFirstReceiveTimestamp") {
                    attributes = attributes.with(
                        "ApproximateFirstReceiveTimestamp",
                        message.first_received_ms.unwrap_or(ctx.now).to_string(),
                    );
                }
                let mut item = Value::structure()
                    .with("MessageId", message.message_id.as_str())
                    .with("ReceiptHandle", handle)
                    .with("MD5OfBody", md5_hex(&message.body))
                    .with("Body", message.body.as_str());
                if !names.is_empty() {
                    item = item.with("Attributes", attributes);
                }
                received.push(item);
            }
            let mut output = Value::structure();
            if !received.is_empty() {
                output = output.with("Messages", Value::List(received));
            }
            Ok(output)
        }
        "DeleteMessage" | "ChangeMessageVisibility" => {
            let input: ReceiptInput = decode_json(input)?;
            let id = queue_of(state, &input.queue_url)?;
            let queue = state.queues.get_mut(&id).ok_or_else(no_queue)?;
            let position =
                queue.messages.iter().position(|m| m.receipt_handle.as_deref() == Some(&input.receipt_handle));
            match (operation, position) {
                // Deleting with a stale handle succeeds quietly, as AWS documents.
                ("DeleteMessage", None) => Ok(Value::structure()),
                ("DeleteMessage", Some(index)) => {
                    let message = queue.messages.remove(index);
                    queue
                        .journal
                        .push(Change::SqsMessageDeleted { queue: queue.key(), message_id: message.message_id });
                    Ok(Value::structure())
                }
                (_, Some(index)) => {
                    let timeout = input.visibility_timeout.unwrap_or(0);
                    let queue_key = queue.key();
                    let message = &mut queue.messages[index];
                    message.visible_at_ms = ctx.now + timeout * 1_000;
                    Queue::note(&mut queue.journal, &queue_key, message);
                    Ok(Value::structure())
                }
                (_, None) => Err(AwsError::sender(
                    "ReceiptHandleIsInvalid",
                    format!("The input receipt handle \"{}\" is not a valid receipt handle.", input.receipt_handle),
                )),
            }
        }
        _ => Err(AwsError::unknown_operation("sqs", operation)),
    }
}

#[cfg(test)]
mod tests;
