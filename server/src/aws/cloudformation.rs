//! AWS CloudFormation: the lab's stacks — their status, resources, events
//! and outputs, change sets to preview and run a deployment, and deletion.

use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter};

use super::AwsCallError;
use super::interceptor::CallMetrics;

/// A stack as the wizard shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StackDescription {
    pub stack_id: String,
    pub stack_name: String,
    pub status: String,
    pub status_reason: Option<String>,
    /// Epoch milliseconds of the last change (creation or update).
    pub last_changed_ms: i64,
    pub parameters: Vec<(String, String)>,
    pub outputs: Vec<StackOutput>,
}

/// One output of a stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackOutput {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
}

/// One stack event.
#[derive(Debug, Clone, PartialEq)]
pub struct StackEvent {
    pub event_id: String,
    pub timestamp_ms: i64,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// One resource of a stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// One change a change set would make.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    /// `Add`, `Modify`, `Remove`.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// `True`, `False`, `Conditional` for modifications.
    pub replacement: Option<String>,
}

/// A computed change set.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeSetOutcome {
    /// Ready to execute.
    Ready { change_set_id: String, changes: Vec<ResourceChange> },
    /// CloudFormation found nothing to change.
    NoChanges,
    /// CloudFormation could not compute it; the reason is its own.
    Failed { reason: String },
}

/// What to deploy: a template with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct StackRequest<'a> {
    pub stack_name: &'a str,
    pub template_body: &'a str,
    pub parameters: &'a [(String, String)],
    pub capabilities: &'a [&'a str],
    /// Whether the stack exists already (an update) or not (a creation).
    pub update: bool,
}

/// The CloudFormation client, wrapped to take and return Keywatch's types.
#[derive(Debug, Clone)]
pub struct CloudFormation {
    client: aws_sdk_cloudformation::Client,
}

/// A stack as DescribeStacks gives it, in Keywatch's terms.
fn description(stack: &aws_sdk_cloudformation::types::Stack) -> StackDescription {
    StackDescription {
        stack_id: stack.stack_id().unwrap_or_default().to_owned(),
        stack_name: stack.stack_name().unwrap_or_default().to_owned(),
        status: stack.stack_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        status_reason: stack.stack_status_reason().map(str::to_owned),
        last_changed_ms: millis(stack.last_updated_time().or(stack.creation_time())),
        parameters: stack
            .parameters()
            .iter()
            .map(|p| {
                (p.parameter_key().unwrap_or_default().to_owned(), p.parameter_value().unwrap_or_default().to_owned())
            })
            .collect(),
        outputs: stack
            .outputs()
            .iter()
            .map(|o| StackOutput {
                key: o.output_key().unwrap_or_default().to_owned(),
                value: o.output_value().unwrap_or_default().to_owned(),
                description: o.description().map(str::to_owned),
            })
            .collect(),
    }
}

fn millis(time: Option<&aws_sdk_cloudformation::primitives::DateTime>) -> i64 {
    time.and_then(|t| t.to_millis().ok()).unwrap_or_default()
}

impl CloudFormation {
    /// A CloudFormation client for `config`.
    pub fn new(config: &SdkConfig) -> CloudFormation {
        CloudFormation {
            client: aws_sdk_cloudformation::Client::from_conf(
                aws_sdk_cloudformation::config::Builder::from(config).interceptor(CallMetrics).build(),
            ),
        }
    }

    /// The live stack named `name`, or `None` if there is none.
    pub async fn describe_stack(&self, name: &str) -> Result<Option<StackDescription>, AwsCallError> {
        let output = match self.client.describe_stacks().stack_name(name).send().await {
            Ok(output) => output,
            Err(error) if is_missing_stack(&error) => return Ok(None),
            Err(error) => return Err(AwsCallError::from_sdk("DescribeStacks", error)),
        };
        Ok(output.stacks().first().map(description))
    }

    /// Every live stack in the Region (DescribeStacks without a name, page
    /// by page): what finding labs deployed by hand starts from.
    pub async fn describe_all_stacks(&self) -> Result<Vec<StackDescription>, AwsCallError> {
        let mut stacks = Vec::new();
        let mut pages = self.client.describe_stacks().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| AwsCallError::from_sdk("DescribeStacks", error))?;
            stacks.extend(page.stacks().iter().map(description));
        }
        Ok(stacks)
    }

    /// The template the stack runs now, as it was submitted (GetTemplate,
    /// stage `Original`).
    pub async fn template_body(&self, name: &str) -> Result<String, AwsCallError> {
        let output = self
            .client
            .get_template()
            .stack_name(name)
            .send()
            .await
            .map_err(|error| AwsCallError::from_sdk("GetTemplate", error))?;
        Ok(output.template_body().unwrap_or_default().to_owned())
    }

    /// Every event of the stack (`name` or stack id), oldest first.
    pub async fn stack_events(&self, name: &str) -> Result<Vec<StackEvent>, AwsCallError> {
        let mut events = Vec::new();
        let mut pages = self.client.describe_stack_events().stack_name(name).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| AwsCallError::from_sdk("DescribeStackEvents", error))?;
            events.extend(page.stack_events().iter().map(|e| StackEvent {
                event_id: e.event_id().unwrap_or_default().to_owned(),
                timestamp_ms: millis(e.timestamp()),
                logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: e.physical_resource_id().map(str::to_owned),
                resource_type: e.resource_type().unwrap_or_default().to_owned(),
                status: e.resource_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_owned),
            }));
        }
        events.reverse();
        Ok(events)
    }

    /// The stack's resources with their status; none once the stack is gone
    /// (it can be deleted between describing it and listing its resources).
    pub async fn stack_resources(&self, name: &str) -> Result<Vec<StackResource>, AwsCallError> {
        let mut resources = Vec::new();
        let mut pages = self.client.list_stack_resources().stack_name(name).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(error) if is_missing_stack(&error) => return Ok(Vec::new()),
                Err(error) => return Err(AwsCallError::from_sdk("ListStackResources", error)),
            };
            resources.extend(page.stack_resource_summaries().iter().map(|r| StackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: r.physical_resource_id().map(str::to_owned),
                resource_type: r.resource_type().unwrap_or_default().to_owned(),
                status: r.resource_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                reason: r.resource_status_reason().map(str::to_owned),
            }));
        }
        Ok(resources)
    }

    /// Creates a change set for `request` and waits until CloudFormation
    /// has computed it.
    pub async fn create_change_set(
        &self,
        request: &StackRequest<'_>,
        change_set_name: &str,
    ) -> Result<ChangeSetOutcome, AwsCallError> {
        let mut call = self
            .client
            .create_change_set()
            .stack_name(request.stack_name)
            .change_set_name(change_set_name)
            .change_set_type(if request.update { ChangeSetType::Update } else { ChangeSetType::Create })
            .template_body(request.template_body);
        for (key, value) in request.parameters {
            call = call.parameters(Parameter::builder().parameter_key(key).parameter_value(value).build());
        }
        for capability in request.capabilities {
            call = call.capabilities(Capability::from(*capability));
        }
        let created = call.send().await.map_err(|error| AwsCallError::from_sdk("CreateChangeSet", error))?;
        let id = created.id().unwrap_or_default().to_owned();
        // CloudFormation computes change sets in seconds; poll as its waiter does.
        for _ in 0..120 {
            let described = self
                .client
                .describe_change_set()
                .change_set_name(&id)
                .send()
                .await
                .map_err(|error| AwsCallError::from_sdk("DescribeChangeSet", error))?;
            match described.status() {
                Some(ChangeSetStatus::CreateComplete) => {
                    return Ok(ChangeSetOutcome::Ready { change_set_id: id, changes: resource_changes(&described) });
                }
                Some(ChangeSetStatus::Failed) => {
                    let reason = described.status_reason().unwrap_or_default().to_owned();
                    // The change set is useless either way; a failure to
                    // delete it changes nothing for the user.
                    let _ = self.client.delete_change_set().change_set_name(&id).send().await;
                    if reason.contains("didn't contain changes") || reason.contains("No updates are to be performed") {
                        return Ok(ChangeSetOutcome::NoChanges);
                    }
                    return Ok(ChangeSetOutcome::Failed { reason });
                }
                _ => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
            }
        }
        Ok(ChangeSetOutcome::Failed { reason: "CloudFormation did not finish computing the change set".to_owned() })
    }

    /// The resource changes of a computed change set (one page of
    /// DescribeChangeSet: the lab's stacks have far fewer than its 100).
    pub async fn change_set_changes(&self, change_set_id: &str) -> Result<Vec<ResourceChange>, AwsCallError> {
        let described = self
            .client
            .describe_change_set()
            .change_set_name(change_set_id)
            .send()
            .await
            .map_err(|error| AwsCallError::from_sdk("DescribeChangeSet", error))?;
        Ok(resource_changes(&described))
    }

    /// Runs a computed change set.
    pub async fn execute_change_set(&self, change_set_id: &str) -> Result<(), AwsCallError> {
        self.client
            .execute_change_set()
            .change_set_name(change_set_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| AwsCallError::from_sdk("ExecuteChangeSet", error))
    }

    /// Discards a change set.
    pub async fn delete_change_set(&self, change_set_id: &str) -> Result<(), AwsCallError> {
        self.client
            .delete_change_set()
            .change_set_name(change_set_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| AwsCallError::from_sdk("DeleteChangeSet", error))
    }

    /// Starts deleting a stack.
    pub async fn delete_stack(&self, name: &str) -> Result<(), AwsCallError> {
        self.client
            .delete_stack()
            .stack_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| AwsCallError::from_sdk("DeleteStack", error))
    }
}

fn resource_changes(
    described: &aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput,
) -> Vec<ResourceChange> {
    described
        .changes()
        .iter()
        .filter_map(|c| c.resource_change())
        .map(|c| ResourceChange {
            action: c.action().map(|a| a.as_str().to_owned()).unwrap_or_default(),
            logical_id: c.logical_resource_id().unwrap_or_default().to_owned(),
            resource_type: c.resource_type().unwrap_or_default().to_owned(),
            replacement: c.replacement().map(|r| r.as_str().to_owned()),
        })
        .collect()
}

/// CloudFormation reports a missing stack as a ValidationError "Stack with
/// id X does not exist".
fn is_missing_stack<E, R>(error: &aws_sdk_cloudformation::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata,
{
    error
        .as_service_error()
        .and_then(aws_sdk_cloudformation::error::ProvideErrorMetadata::message)
        .is_some_and(|message| message.ends_with("does not exist"))
}
