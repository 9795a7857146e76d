//! `AWS::SQS::Queue` and `AWS::SQS::QueuePolicy`, made by the sandbox's SQS
//! (CreateQueue, SetQueueAttributes, DeleteQueue).
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html>

use serde_json::{Value as Json, json};

use super::{
    Create, Delete, Props, ProvisionError, Provisioned, ResourceType, Update, endpoint, name_or_generated, outcome,
    output_str,
};
use crate::protocol::value::Value;
use crate::service::CallContext;
use crate::state::SandboxState;

/// Queue attributes the resource sets from properties of the same name.
const QUEUE_ATTRIBUTES: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedrivePolicy",
    "RedriveAllowPolicy",
];

fn call(state: &mut SandboxState, ctx: &CallContext, operation: &str, input: Json) -> Result<Value, ProvisionError> {
    let url = endpoint(state);
    outcome("Sqs", operation, crate::sqs::call(&mut state.sqs, ctx, &url, operation, &input))
}

fn attributes_of(props: &Props) -> Result<serde_json::Map<String, Json>, ProvisionError> {
    let mut attributes = serde_json::Map::new();
    for name in QUEUE_ATTRIBUTES {
        let value = match props.get(name) {
            Some(Json::Object(_)) => props.document(name)?,
            _ => props.str(name)?,
        };
        if let Some(value) = value {
            attributes.insert((*name).to_owned(), json!(value));
        }
    }
    Ok(attributes)
}

fn queue_attributes(ctx: &CallContext, url: &str) -> Provisioned {
    let name = url.rsplit('/').next().unwrap_or_default().to_owned();
    Provisioned::new(url)
        .with("Arn", crate::sqs::queue_arn(&ctx.partition, &ctx.region, ctx.account(), &name))
        .with("QueueName", name)
        .with("QueueUrl", url)
}

pub(super) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType { name: "AWS::SQS::Queue", create: create_queue, update: update_queue, delete: delete_queue },
    ResourceType { name: "AWS::SQS::QueuePolicy", create: create_policy, update: update_policy, delete: delete_policy },
];

fn create_queue(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let fifo = props.bool("FifoQueue")? == Some(true);
    let mut name = name_or_generated(props, request, "QueueName", if fifo { 75 } else { 80 }, false)?;
    if fifo && !name.ends_with(".fifo") {
        name.push_str(".fifo");
    }
    if state.sqs.queues.contains_key(&format!("{}/{name}", ctx.region)) {
        return Err(ProvisionError::already_exists(request.resource_type, &name));
    }
    let mut attributes = attributes_of(props)?;
    if fifo {
        attributes.insert("FifoQueue".into(), json!("true"));
    }
    let tags: serde_json::Map<String, Json> = props.tags()?.into_iter().map(|(k, v)| (k, json!(v))).collect();
    let output = call(state, ctx, "CreateQueue", json!({"QueueName": name, "Attributes": attributes, "tags": tags}))?;
    let url = output_str(&output, &["QueueUrl"]).unwrap_or_default();
    Ok(queue_attributes(ctx, &url))
}

fn update_queue(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let id = &change.current.physical_id;
    let attributes = attributes_of(props)?;
    call(state, ctx, "SetQueueAttributes", json!({"QueueUrl": id, "Attributes": attributes}))?;
    Ok(queue_attributes(ctx, id))
}

fn delete_queue(Delete { state, ctx, current, .. }: Delete) -> Result<(), ProvisionError> {
    call(state, ctx, "DeleteQueue", json!({"QueueUrl": current.physical_id})).map(drop)
}

fn create_policy(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let (document, queues) = super::policy_targets(props, "Queues")?;
    set_policy(state, ctx, &queues, &document)?;
    Ok(super::policy_resource(request))
}

fn update_policy(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let document = props.required_document("PolicyDocument")?;
    let queues = props.strings("Queues")?;
    let old = Props { logical_id: "", value: change.previous }.strings("Queues")?;
    let dropped: Vec<String> = old.into_iter().filter(|queue| !queues.contains(queue)).collect();
    set_policy(state, ctx, &dropped, "")?;
    set_policy(state, ctx, &queues, &document)?;
    Ok(super::policy_attributes(&change.current.physical_id))
}

/// An empty Policy attribute removes the queue's policy.
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html>
fn delete_policy(Delete { state, ctx, props, .. }: Delete) -> Result<(), ProvisionError> {
    for queue in props.strings("Queues")? {
        match set_policy(state, ctx, std::slice::from_ref(&queue), "") {
            Err(error) if error.code == super::HandlerErrorCode::NotFound => {}
            other => other?,
        }
    }
    Ok(())
}

fn set_policy(
    state: &mut SandboxState,
    ctx: &CallContext,
    queues: &[String],
    policy: &str,
) -> Result<(), ProvisionError> {
    for queue in queues {
        call(state, ctx, "SetQueueAttributes", json!({"QueueUrl": queue, "Attributes": {"Policy": policy}}))?;
    }
    Ok(())
}
