//! `AWS::SQS::Queue` and `AWS::SQS::QueuePolicy`, made by the sandbox's SQS
//! (CreateQueue, SetQueueAttributes, DeleteQueue).
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html>

use serde_json::{Value as Json, json};

use super::{
    Change, Props, ProvisionError, Provisioned, ResourceRequest, endpoint, name_or_generated, outcome, output_str,
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

pub(super) fn create(
    state: &mut SandboxState,
    ctx: &CallContext,
    request: &ResourceRequest,
) -> Result<Provisioned, ProvisionError> {
    let props = Props::of(request);
    match request.resource_type {
        "AWS::SQS::Queue" => {
            let fifo = props.bool("FifoQueue")? == Some(true);
            let mut name = name_or_generated(&props, request, "QueueName", if fifo { 75 } else { 80 }, false)?;
            if fifo && !name.ends_with(".fifo") {
                name.push_str(".fifo");
            }
            if state.sqs.queues.contains_key(&format!("{}/{name}", ctx.region)) {
                return Err(ProvisionError::already_exists(request.resource_type, &name));
            }
            let mut attributes = attributes_of(&props)?;
            if fifo {
                attributes.insert("FifoQueue".into(), json!("true"));
            }
            let tags: serde_json::Map<String, Json> = props.tags()?.into_iter().map(|(k, v)| (k, json!(v))).collect();
            let output =
                call(state, ctx, "CreateQueue", json!({"QueueName": name, "Attributes": attributes, "tags": tags}))?;
            let url = output_str(&output, &["QueueUrl"]).unwrap_or_default();
            Ok(queue_attributes(ctx, &url))
        }
        "AWS::SQS::QueuePolicy" => {
            let document = props.required_document("PolicyDocument")?;
            let queues = props.strings("Queues")?;
            if queues.is_empty() {
                return Err(props.missing("Queues"));
            }
            set_policy(state, ctx, &queues, &document)?;
            let id = super::generated_name(request.stack_name, request.logical_id, 256, false);
            Ok(Provisioned::new(id.clone()).with("Id", id))
        }
        other => Err(super::unsupported(other)),
    }
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

pub(super) fn update(
    state: &mut SandboxState,
    ctx: &CallContext,
    change: &Change,
) -> Result<Provisioned, ProvisionError> {
    let props = change.props();
    let id = change.current.physical_id.clone();
    match change.request.resource_type {
        "AWS::SQS::Queue" => {
            let attributes = attributes_of(&props)?;
            call(state, ctx, "SetQueueAttributes", json!({"QueueUrl": id, "Attributes": attributes}))?;
            Ok(queue_attributes(ctx, &id))
        }
        "AWS::SQS::QueuePolicy" => {
            let document = props.required_document("PolicyDocument")?;
            let queues = props.strings("Queues")?;
            let old = Props { logical_id: "", value: change.previous }.strings("Queues")?;
            let dropped: Vec<String> = old.into_iter().filter(|queue| !queues.contains(queue)).collect();
            set_policy(state, ctx, &dropped, "")?;
            set_policy(state, ctx, &queues, &document)?;
            Ok(Provisioned::new(id.clone()).with("Id", id))
        }
        other => Err(super::unsupported(other)),
    }
}

pub(super) fn delete(
    state: &mut SandboxState,
    ctx: &CallContext,
    resource_type: &str,
    current: &Provisioned,
    properties: &Json,
) -> Result<(), ProvisionError> {
    match resource_type {
        "AWS::SQS::Queue" => {
            call(state, ctx, "DeleteQueue", json!({"QueueUrl": current.physical_id}))?;
        }
        "AWS::SQS::QueuePolicy" => {
            // An empty Policy attribute removes the queue's policy.
            // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
            let queues = Props { logical_id: "", value: properties }.strings("Queues")?;
            for queue in queues {
                match set_policy(state, ctx, std::slice::from_ref(&queue), "") {
                    Err(error) if error.code == super::HandlerErrorCode::NotFound => {}
                    other => other?,
                }
            }
        }
        other => return Err(super::unsupported(other)),
    }
    Ok(())
}
