//! SNS's operations read from Query parameters (`Attributes.entry.N.key`,
//! `MessageAttributes.entry.N.Value.StringValue`, ...) and their outputs as
//! [`Value`]s for the Query XML encoder.
//!
//! Shapes: <https://docs.aws.amazon.com/sns/latest/api/API_Operations.html>.

use std::collections::BTreeMap;

use super::{SnsState, Subscription, Topic, not_found};
use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::{Audit, CallContext, Handled};
use crate::sqs::SqsState;

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// SetTopicAttributes' and SetSubscriptionAttributes' input: the ARN named
/// by `target`, the attribute's name and its new value (empty when absent).
fn attribute_change<'a>(params: &'a [(String, String)], target: &str) -> Result<(&'a str, String, String), AwsError> {
    let arn = required(params, target)?;
    let name = required(params, "AttributeName")?.to_owned();
    let value = param(params, "AttributeValue").unwrap_or_default().to_owned();
    Ok((arn, name, value))
}

fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, AwsError> {
    param(params, name).ok_or_else(|| {
        AwsError::sender("InvalidParameter", format!("Invalid parameter: {name} Reason: The parameter is required"))
    })
}

/// `<prefix>.entry.N.<key>` / `.<value>` pairs as a map.
fn entries(params: &[(String, String)], prefix: &str, key: &str, value: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for n in 1.. {
        let (Some(k), Some(v)) = (
            param(params, &format!("{prefix}.entry.{n}.{key}")),
            param(params, &format!("{prefix}.entry.{n}.{value}")),
        ) else {
            break;
        };
        map.insert(k.to_owned(), v.to_owned());
    }
    map
}

/// `Tags.member.N.Key` / `.Value` pairs.
fn tags(params: &[(String, String)]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for n in 1.. {
        let (Some(k), Some(v)) =
            (param(params, &format!("Tags.member.{n}.Key")), param(params, &format!("Tags.member.{n}.Value")))
        else {
            break;
        };
        map.insert(k.to_owned(), v.to_owned());
    }
    map
}

/// A Query map: `<entry><key>..</key><value>..</value></entry>` per member.
fn attribute_map(map: &BTreeMap<String, String>) -> Value {
    Value::Map(
        map.iter()
            .map(|(k, v)| ("entry".to_owned(), Value::structure().with("key", k.as_str()).with("value", v.as_str())))
            .collect(),
    )
}

/// What `Subscribe` answers for a subscription awaiting confirmation.
const PENDING: &str = "pending confirmation";
/// What `ListSubscriptions` and `ListSubscriptionsByTopic` show for one:
/// <https://docs.aws.amazon.com/sns/latest/dg/sns-create-subscribe-endpoint-to-topic.html>
/// (the console and the list APIs show "PendingConfirmation").
const PENDING_LISTED: &str = "PendingConfirmation";

/// Runs an SNS call; `endpoint` is the sandbox's URL, which confirmation
/// and unsubscribe links point at.
pub fn call(
    state: &mut SnsState,
    sqs: &mut SqsState,
    ctx: &CallContext,
    endpoint: &str,
    operation: &str,
    params: &[(String, String)],
) -> Option<Handled> {
    let read_only = match operation {
        "Publish" => None,
        "ListTopics"
        | "GetTopicAttributes"
        | "ListSubscriptions"
        | "ListSubscriptionsByTopic"
        | "GetSubscriptionAttributes" => Some(true),
        "CreateTopic"
        | "DeleteTopic"
        | "SetTopicAttributes"
        | "Subscribe"
        | "ConfirmSubscription"
        | "Unsubscribe"
        | "SetSubscriptionAttributes" => Some(false),
        _ => return None,
    };
    let result = run(state, sqs, ctx, endpoint, operation, params);
    let audit = read_only.map(|read_only| Audit {
        request_parameters: crate::service::query_request_parameters(params, &["Message", "Token"]),
        response_elements: result.as_ref().ok().filter(|_| !read_only).and_then(crate::service::response_elements),
        resources: Vec::new(),
        read_only,
    });
    let mutated = read_only != Some(true) && result.is_ok();
    Some(Handled { result, audit, mutated })
}

fn run(
    state: &mut SnsState,
    sqs: &mut SqsState,
    ctx: &CallContext,
    endpoint: &str,
    operation: &str,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    match operation {
        "CreateTopic" => {
            let name = required(params, "Name")?;
            let valid = !name.is_empty()
                && name.len() <= 256
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
            if !valid {
                return Err(AwsError::sender(
                    "InvalidParameter",
                    "Invalid parameter: Topic Name must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
                ));
            }
            let arn = format!("arn:{}:sns:{}:{}:{name}", ctx.partition, ctx.region, ctx.account());
            // Creating an existing topic returns it (CreateTopic is idempotent).
            state.topics.entry(arn.clone()).or_insert_with(|| Topic {
                arn: arn.clone(),
                attributes: entries(params, "Attributes", "key", "value"),
                tags: tags(params),
            });
            Ok(Value::structure().with("TopicArn", arn))
        }
        "DeleteTopic" => {
            let arn = required(params, "TopicArn")?;
            state.topics.remove(arn);
            state.subscriptions.retain(|_, s| s.topic_arn != arn);
            Ok(Value::structure())
        }
        "ListTopics" => {
            let topics: Vec<Value> = state
                .topics
                .keys()
                .filter(|arn| arn.split(':').nth(3) == Some(ctx.region.as_str()))
                .map(|arn| Value::structure().with("TopicArn", arn.as_str()))
                .collect();
            Ok(Value::structure().with("Topics", Value::List(topics)))
        }
        "GetTopicAttributes" => {
            let arn = required(params, "TopicArn")?;
            let topic = state.topics.get(arn).ok_or_else(|| not_found("Topic"))?;
            let subscriptions: Vec<&Subscription> =
                state.subscriptions.values().filter(|s| s.topic_arn == arn).collect();
            let confirmed = subscriptions.iter().filter(|s| s.token.is_none()).count();
            let mut attributes = BTreeMap::from([
                ("TopicArn".to_owned(), arn.to_owned()),
                ("Owner".to_owned(), ctx.account().to_owned()),
                ("DisplayName".to_owned(), String::new()),
                ("SubscriptionsConfirmed".to_owned(), confirmed.to_string()),
                ("SubscriptionsPending".to_owned(), (subscriptions.len() - confirmed).to_string()),
                ("SubscriptionsDeleted".to_owned(), "0".to_owned()),
            ]);
            attributes.extend(topic.attributes.clone());
            Ok(Value::structure().with("Attributes", attribute_map(&attributes)))
        }
        "SetTopicAttributes" => {
            let (arn, name, value) = attribute_change(params, "TopicArn")?;
            let topic = state.topics.get_mut(arn).ok_or_else(|| not_found("Topic"))?;
            topic.attributes.insert(name, value);
            Ok(Value::structure())
        }
        "Subscribe" => {
            let topic_arn = required(params, "TopicArn")?;
            let protocol = required(params, "Protocol")?;
            let endpoint_param = param(params, "Endpoint").unwrap_or_default();
            if !state.topics.contains_key(topic_arn) {
                return Err(not_found("Topic"));
            }
            let valid = match protocol {
                "email" | "email-json" => endpoint_param.contains('@'),
                "http" => endpoint_param.starts_with("http://"),
                "https" => endpoint_param.starts_with("https://"),
                "sqs" => endpoint_param.starts_with("arn:") && endpoint_param.contains(":sqs:"),
                _ => false,
            };
            if !valid {
                return Err(AwsError::sender("InvalidParameter", "Invalid parameter: Endpoint"));
            }
            if let Some(existing) = state
                .subscriptions
                .values()
                .find(|s| s.topic_arn == topic_arn && s.protocol == protocol && s.endpoint == endpoint_param)
            {
                let shown = if existing.token.is_some() { PENDING.to_owned() } else { existing.arn.clone() };
                return Ok(Value::structure().with("SubscriptionArn", shown));
            }
            // Same-account SQS subscriptions need no confirmation.
            // https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html
            let token = (protocol != "sqs")
                .then(|| format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()));
            let subscription = Subscription {
                arn: format!("{topic_arn}:{}", uuid::Uuid::new_v4()),
                topic_arn: topic_arn.to_owned(),
                protocol: protocol.to_owned(),
                endpoint: endpoint_param.to_owned(),
                owner: ctx.account().to_owned(),
                token,
                attributes: entries(params, "Attributes", "key", "value"),
            };
            state.send_confirmation(&subscription, endpoint, ctx.now);
            let return_arn = param(params, "ReturnSubscriptionArn") == Some("true");
            let shown =
                if subscription.token.is_some() && !return_arn { PENDING.to_owned() } else { subscription.arn.clone() };
            state.subscriptions.insert(subscription.arn.clone(), subscription);
            Ok(Value::structure().with("SubscriptionArn", shown))
        }
        "ConfirmSubscription" => {
            let arn = state.confirm(required(params, "TopicArn")?, required(params, "Token")?)?;
            Ok(Value::structure().with("SubscriptionArn", arn))
        }
        "Unsubscribe" => {
            let arn = required(params, "SubscriptionArn")?;
            state.subscriptions.remove(arn).ok_or_else(|| not_found("Subscription"))?;
            Ok(Value::structure())
        }
        "ListSubscriptions" | "ListSubscriptionsByTopic" => {
            let topic = if operation == "ListSubscriptionsByTopic" {
                let arn = required(params, "TopicArn")?;
                if !state.topics.contains_key(arn) {
                    return Err(not_found("Topic"));
                }
                Some(arn)
            } else {
                None
            };
            let listed: Vec<Value> = state
                .subscriptions
                .values()
                .filter(|s| topic.is_none_or(|arn| s.topic_arn == arn))
                .map(|s| {
                    Value::structure()
                        .with("SubscriptionArn", if s.token.is_some() { PENDING_LISTED } else { s.arn.as_str() })
                        .with("Owner", s.owner.as_str())
                        .with("Protocol", s.protocol.as_str())
                        .with("Endpoint", s.endpoint.as_str())
                        .with("TopicArn", s.topic_arn.as_str())
                })
                .collect();
            Ok(Value::structure().with("Subscriptions", Value::List(listed)))
        }
        "GetSubscriptionAttributes" => {
            let arn = required(params, "SubscriptionArn")?;
            let s = state.subscriptions.get(arn).ok_or_else(|| not_found("Subscription"))?;
            let mut attributes = BTreeMap::from([
                ("SubscriptionArn".to_owned(), s.arn.clone()),
                ("TopicArn".to_owned(), s.topic_arn.clone()),
                ("Owner".to_owned(), s.owner.clone()),
                ("Protocol".to_owned(), s.protocol.clone()),
                ("Endpoint".to_owned(), s.endpoint.clone()),
                ("PendingConfirmation".to_owned(), s.token.is_some().to_string()),
                ("ConfirmationWasAuthenticated".to_owned(), (s.protocol == "sqs").to_string()),
                ("RawMessageDelivery".to_owned(), s.raw().to_string()),
            ]);
            attributes.extend(s.attributes.clone());
            Ok(Value::structure().with("Attributes", attribute_map(&attributes)))
        }
        "SetSubscriptionAttributes" => {
            let (arn, name, value) = attribute_change(params, "SubscriptionArn")?;
            let subscription = state.subscriptions.get_mut(arn).ok_or_else(|| not_found("Subscription"))?;
            subscription.attributes.insert(name, value);
            Ok(Value::structure())
        }
        "Publish" => {
            let topic_arn = param(params, "TopicArn").or(param(params, "TargetArn"));
            let topic_arn = topic_arn.ok_or_else(|| {
                AwsError::sender(
                    "InvalidParameter",
                    "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
                )
            })?;
            let message = required(params, "Message")?;
            let mut attributes = BTreeMap::new();
            for n in 1.. {
                let prefix = format!("MessageAttributes.entry.{n}");
                let Some(name) = param(params, &format!("{prefix}.Name")) else { break };
                let data_type = param(params, &format!("{prefix}.Value.DataType")).unwrap_or("String");
                let value = param(params, &format!("{prefix}.Value.StringValue")).unwrap_or_default();
                attributes.insert(name.to_owned(), (data_type.to_owned(), value.to_owned()));
            }
            let published = super::Published {
                subject: param(params, "Subject"),
                message,
                email_text: None,
                attributes: &attributes,
            };
            let message_id = state.publish(sqs, endpoint, topic_arn, &published, ctx.now)?;
            Ok(Value::structure().with("MessageId", message_id))
        }
        _ => Err(AwsError::unknown_operation("sns", operation)),
    }
}
