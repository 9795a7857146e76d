//! `AWS::SNS::Topic`, `AWS::SNS::Subscription` and `AWS::SNS::TopicPolicy`,
//! made by the sandbox's SNS (CreateTopic, Subscribe, SetTopicAttributes,
//! DeleteTopic, Unsubscribe). An email subscription goes through SNS's
//! normal path: it stays pending until its confirmation link is visited.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sns-topic.html>

use serde_json::Value as Json;

use super::{
    Create, Delete, Props, ProvisionError, Provisioned, ResourceType, Update, endpoint, name_or_generated, outcome,
    output_str,
};
use crate::protocol::value::Value;
use crate::service::CallContext;
use crate::state::SandboxState;

/// Topic attributes the resource sets from properties of the same name.
const TOPIC_ATTRIBUTES: &[&str] =
    &["DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication", "SignatureVersion", "TracingConfig"];

/// Subscription attributes the resource sets from properties.
const SUBSCRIPTION_ATTRIBUTES: &[&str] =
    &["DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy"];

fn call(
    state: &mut SandboxState,
    ctx: &CallContext,
    operation: &str,
    params: Vec<(String, String)>,
) -> Result<Value, ProvisionError> {
    let url = endpoint(state);
    let handled = crate::sns::api::call(&mut state.sns, &mut state.sqs, ctx, &url, operation, &params);
    outcome("Sns", operation, handled)
}

fn param(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_owned(), value.into())
}

/// A property as an attribute value: objects (filter policies) as JSON.
fn attribute_value(props: &Props, name: &str) -> Result<Option<String>, ProvisionError> {
    match props.get(name) {
        Some(Json::Object(_)) => props.document(name),
        _ => props.str(name),
    }
}

fn topic_attributes(arn: &str) -> Provisioned {
    let name = arn.rsplit(':').next().unwrap_or_default().to_owned();
    Provisioned::new(arn).with("TopicArn", arn).with("TopicName", name)
}

fn subscribe(
    state: &mut SandboxState,
    ctx: &CallContext,
    topic_arn: &str,
    props: &Props,
) -> Result<String, ProvisionError> {
    let protocol = props.required_str("Protocol")?;
    let mut params = vec![
        param("TopicArn", topic_arn),
        param("Protocol", protocol),
        param("Endpoint", props.str("Endpoint")?.unwrap_or_default()),
        // CloudFormation's Ref is the subscription's ARN even while pending.
        param("ReturnSubscriptionArn", "true"),
    ];
    let mut n = 0;
    for name in SUBSCRIPTION_ATTRIBUTES {
        if let Some(value) = attribute_value(props, name)? {
            n += 1;
            params.push(param(&format!("Attributes.entry.{n}.key"), *name));
            params.push(param(&format!("Attributes.entry.{n}.value"), value));
        }
    }
    let output = call(state, ctx, "Subscribe", params)?;
    Ok(output_str(&output, &["SubscriptionArn"]).unwrap_or_default())
}

pub(super) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType { name: "AWS::SNS::Topic", create: create_topic, update: update_topic, delete: delete_topic },
    ResourceType {
        name: "AWS::SNS::Subscription",
        create: create_subscription,
        update: update_subscription,
        delete: delete_subscription,
    },
    ResourceType { name: "AWS::SNS::TopicPolicy", create: create_policy, update: update_policy, delete: delete_policy },
];

fn create_topic(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let fifo = props.bool("FifoTopic")? == Some(true);
    let mut name = name_or_generated(props, request, "TopicName", if fifo { 251 } else { 256 }, false)?;
    if fifo && !name.ends_with(".fifo") {
        name.push_str(".fifo");
    }
    let arn = format!("arn:{}:sns:{}:{}:{name}", ctx.partition, ctx.region, ctx.account());
    if state.sns.topics.contains_key(&arn) {
        return Err(ProvisionError::already_exists(request.resource_type, &arn));
    }
    let mut params = vec![param("Name", name)];
    let mut n = 0;
    for attribute in TOPIC_ATTRIBUTES {
        if let Some(value) = props.str(attribute)? {
            n += 1;
            params.push(param(&format!("Attributes.entry.{n}.key"), *attribute));
            params.push(param(&format!("Attributes.entry.{n}.value"), value));
        }
    }
    for (i, (key, value)) in props.tags()?.into_iter().enumerate() {
        params.push(param(&format!("Tags.member.{}.Key", i + 1), key));
        params.push(param(&format!("Tags.member.{}.Value", i + 1), value));
    }
    let output = call(state, ctx, "CreateTopic", params)?;
    let arn = output_str(&output, &["TopicArn"]).unwrap_or(arn);
    // The topic's inline `Subscription` list.
    for subscription in props.objects("Subscription")? {
        if let Err(error) = subscribe(state, ctx, &arn, &subscription) {
            // A failed create leaves nothing behind.
            let _ = call(state, ctx, "DeleteTopic", vec![param("TopicArn", arn.as_str())]);
            return Err(error);
        }
    }
    Ok(topic_attributes(&arn))
}

fn update_topic(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let id = &change.current.physical_id;
    for attribute in TOPIC_ATTRIBUTES.iter().filter(|name| **name != "FifoTopic") {
        if change.changed(attribute) {
            let value = props.str(attribute)?.unwrap_or_default();
            set_attribute(state, ctx, "SetTopicAttributes", param("TopicArn", id.as_str()), attribute, value)?;
        }
    }
    Ok(topic_attributes(id))
}

fn delete_topic(Delete { state, ctx, current, .. }: Delete) -> Result<(), ProvisionError> {
    call(state, ctx, "DeleteTopic", vec![param("TopicArn", current.physical_id.as_str())]).map(drop)
}

fn create_subscription(Create { state, ctx, props, .. }: Create) -> Result<Provisioned, ProvisionError> {
    let topic_arn = props.required_str("TopicArn")?;
    props.required_str("Protocol")?;
    let arn = subscribe(state, ctx, &topic_arn, props)?;
    Ok(Provisioned::new(arn.clone()).with("Arn", arn))
}

fn update_subscription(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let id = &change.current.physical_id;
    for attribute in SUBSCRIPTION_ATTRIBUTES {
        if change.changed(attribute) {
            let value = attribute_value(props, attribute)?.unwrap_or_default();
            set_attribute(
                state,
                ctx,
                "SetSubscriptionAttributes",
                param("SubscriptionArn", id.as_str()),
                attribute,
                value,
            )?;
        }
    }
    Ok(Provisioned::new(id.clone()).with("Arn", id.clone()))
}

fn delete_subscription(Delete { state, ctx, current, .. }: Delete) -> Result<(), ProvisionError> {
    call(state, ctx, "Unsubscribe", vec![param("SubscriptionArn", current.physical_id.as_str())]).map(drop)
}

/// SetTopicAttributes or SetSubscriptionAttributes of one attribute.
fn set_attribute(
    state: &mut SandboxState,
    ctx: &CallContext,
    operation: &str,
    target: (String, String),
    name: &str,
    value: String,
) -> Result<(), ProvisionError> {
    call(state, ctx, operation, vec![target, param("AttributeName", name), param("AttributeValue", value)]).map(drop)
}

fn create_policy(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let (document, topics) = super::policy_targets(props, "Topics")?;
    set_policies(state, ctx, &topics, &document)?;
    Ok(super::policy_resource(request))
}

fn update_policy(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let document = props.required_document("PolicyDocument")?;
    let topics = props.strings("Topics")?;
    let old = Props { logical_id: "", value: change.previous }.strings("Topics")?;
    for dropped in old.iter().filter(|topic| !topics.contains(topic)) {
        let policy = default_policy(ctx, dropped);
        // A topic deleted meanwhile has no policy to reset.
        if state.sns.topics.contains_key(dropped) {
            set_policies(state, ctx, std::slice::from_ref(dropped), &policy)?;
        }
    }
    set_policies(state, ctx, &topics, &document)?;
    Ok(super::policy_attributes(&change.current.physical_id))
}

/// Deleting the policy resource gives the topics SNS's default policy back.
fn delete_policy(Delete { state, ctx, props, .. }: Delete) -> Result<(), ProvisionError> {
    let topics = props.strings("Topics")?;
    let live: Vec<String> = topics.into_iter().filter(|topic| state.sns.topics.contains_key(topic)).collect();
    for topic in &live {
        let policy = default_policy(ctx, topic);
        set_policies(state, ctx, std::slice::from_ref(topic), &policy)?;
    }
    Ok(())
}

fn set_policies(
    state: &mut SandboxState,
    ctx: &CallContext,
    topics: &[String],
    policy: &str,
) -> Result<(), ProvisionError> {
    for topic in topics {
        set_attribute(
            state,
            ctx,
            "SetTopicAttributes",
            param("TopicArn", topic.as_str()),
            "Policy",
            policy.to_owned(),
        )?;
    }
    Ok(())
}

/// The policy SNS gives a topic: its owner may do everything.
/// <https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html>
fn default_policy(ctx: &CallContext, topic_arn: &str) -> String {
    serde_json::json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                       "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                       "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": ctx.account()}}
        }]
    })
    .to_string()
}
