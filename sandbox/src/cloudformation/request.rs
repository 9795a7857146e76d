//! What CreateStack and UpdateStack read from a request and CreateChangeSet
//! reads alike: Query parameters (`Parameters.member.N.ParameterKey`,
//! `Tags.member.N.Key`, ...), the template body, the template and its
//! parameters as a [`Deployment`], a new stack's settings; and the errors
//! and tag lists both answer with. The stack operations and the change set
//! operations use it, so that neither imports the other.

use std::collections::BTreeMap;

use keywatch_domain::cloudformation as cfn;

use super::engine::{self, template_error, validation};
use super::stack::{Deployment, Stack, StackParameter, StackStatus};
use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::CallContext;
use crate::state::SandboxState;

/// The largest template body CreateStack accepts inline (51,200 bytes).
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html>
const MAX_TEMPLATE_BODY: usize = 51_200;

pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

pub(crate) fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, AwsError> {
    param(params, name).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            crate::service::lower_first(name)
        ))
    })
}

/// `Name.member.1`, `Name.member.2`, ... in order.
pub(crate) fn members(params: &[(String, String)], name: &str) -> Vec<String> {
    (1..).map_while(|n| param(params, &format!("{name}.member.{n}")).map(str::to_owned)).collect()
}

pub(crate) fn flag(params: &[(String, String)], name: &str) -> bool {
    param(params, name).is_some_and(|value| value.eq_ignore_ascii_case("true"))
}

/// `Parameters.member.N.{ParameterKey,ParameterValue,UsePreviousValue}`.
pub(crate) fn supplied_parameters(params: &[(String, String)]) -> Vec<cfn::SuppliedParameter> {
    let mut supplied = Vec::new();
    for n in 1.. {
        let Some(key) = param(params, &format!("Parameters.member.{n}.ParameterKey")) else {
            break;
        };
        supplied.push(cfn::SuppliedParameter {
            key: key.to_owned(),
            value: param(params, &format!("Parameters.member.{n}.ParameterValue")).map(str::to_owned),
            use_previous_value: flag(params, &format!("Parameters.member.{n}.UsePreviousValue")),
        });
    }
    supplied
}

/// `Tags.member.N.{Key,Value}`.
pub(crate) fn tags(params: &[(String, String)]) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    for n in 1.. {
        let (Some(key), Some(value)) =
            (param(params, &format!("Tags.member.{n}.Key")), param(params, &format!("Tags.member.{n}.Value")))
        else {
            break;
        };
        tags.insert(key.to_owned(), value.to_owned());
    }
    tags
}

/// The template of a request: `TemplateBody`, or `TemplateURL` naming an
/// object in the sandbox's S3.
pub(crate) fn template_body(state: &SandboxState, params: &[(String, String)]) -> Result<Option<String>, AwsError> {
    if let Some(body) = param(params, "TemplateBody") {
        if body.len() > MAX_TEMPLATE_BODY {
            return Err(validation(format!(
                "1 validation error detected: Value '{}' at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to {MAX_TEMPLATE_BODY}",
                body.chars().take(20).collect::<String>()
            )));
        }
        return Ok(Some(body.to_owned()));
    }
    match param(params, "TemplateURL") {
        Some(url) => template_from_url(state, url).map(Some),
        None => Ok(None),
    }
}

/// Reads a template from an S3 URL (`https://bucket.s3.region.amazonaws.com/key`
/// or path style `https://s3.region.amazonaws.com/bucket/key`).
fn template_from_url(state: &SandboxState, url: &str) -> Result<String, AwsError> {
    let invalid = || validation("TemplateURL must be a supported URL.");
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).ok_or_else(invalid)?;
    let (host, path) = rest.split_once('/').ok_or_else(invalid)?;
    let (bucket, key) = if host.starts_with("s3.") || host.starts_with("s3-") || !host.contains(".s3") {
        path.split_once('/').ok_or_else(invalid)?
    } else {
        (host.split(".s3").next().ok_or_else(invalid)?, path)
    };
    let bytes: Option<Vec<u8>> = {
        let _ = (state, bucket, key);
        None
    };
    let bytes = bytes
        .ok_or_else(|| validation("S3 error: Access Denied\nFor more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html"))?;
    String::from_utf8(bytes).map_err(|_| validation("Template format error: unsupported structure."))
}

/// Checks the capabilities a template needs against those acknowledged.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html>
fn check_capabilities(template: &cfn::Template, acknowledged: &[String]) -> Result<(), AwsError> {
    let missing: Vec<&str> = template
        .required_capabilities()
        .iter()
        .map(|capability| capability.as_str())
        .filter(|name| !acknowledged.iter().any(|a| a == name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(AwsError::sender(
        "InsufficientCapabilitiesException",
        format!("Requires capabilities : [{}]", missing.join(", ")),
    ))
}

/// Builds a deployment from a request: the template parsed and checked, the
/// parameters resolved (with `UsePreviousValue` against `previous`), the
/// capabilities checked.
pub(crate) fn deployment(
    body: String,
    params: &[(String, String)],
    previous: Option<&Stack>,
) -> Result<(Deployment, cfn::Template), AwsError> {
    let template = cfn::Template::parse(&body).map_err(template_error)?;
    let supplied = supplied_parameters(params);
    let previous_values = previous.map(engine::previous_parameters);
    let resolved = cfn::resolve_parameters(&template, &supplied, previous_values.as_ref()).map_err(template_error)?;
    let capabilities = members(params, "Capabilities");
    check_capabilities(&template, &capabilities)?;
    let parameters = template
        .parameters
        .iter()
        .filter_map(|(key, _)| {
            resolved.get(key).map(|p| StackParameter { key: key.clone(), value: p.raw.clone(), no_echo: p.no_echo })
        })
        .collect();
    let mut stack_tags = previous.map(|s| s.deployment.tags.clone()).unwrap_or_default();
    let supplied_tags = tags(params);
    if !supplied_tags.is_empty() || previous.is_none() {
        stack_tags = supplied_tags;
    }
    Ok((Deployment { template_body: body, parameters, capabilities, tags: stack_tags }, template))
}

/// `arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`.
pub(crate) fn new_stack_id(ctx: &CallContext, name: &str) -> String {
    format!(
        "arn:{}:cloudformation:{}:{}:stack/{name}/{}",
        ctx.partition,
        ctx.region,
        ctx.account(),
        uuid::Uuid::new_v4()
    )
}

/// Stack names: 1-128 characters, a letter first, then letters, digits and hyphens.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html>
pub(crate) fn check_stack_name(name: &str) -> Result<(), AwsError> {
    let valid = name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
        )))
    }
}

pub(crate) fn no_such_stack(name: &str) -> AwsError {
    validation(format!("Stack with id {name} does not exist"))
}

/// A new stack record in `status`, before its operation starts.
pub(crate) fn new_stack(
    ctx: &CallContext,
    name: &str,
    description: Option<String>,
    deployment: Deployment,
    params: &[(String, String)],
) -> Stack {
    Stack {
        stack_id: new_stack_id(ctx, name),
        stack_name: name.to_owned(),
        region: ctx.region.clone(),
        description,
        status: StackStatus::CreateInProgress,
        status_reason: None,
        creation_time: ctx.now,
        last_updated_time: None,
        deletion_time: None,
        deployment,
        disable_rollback: flag(params, "DisableRollback") || param(params, "OnFailure") == Some("DO_NOTHING"),
        notification_arns: members(params, "NotificationARNs"),
        termination_protection: flag(params, "EnableTerminationProtection"),
        resources: Vec::new(),
        outputs: Vec::new(),
        events: Vec::new(),
        operation: None,
    }
}

pub(crate) fn tag_list(tags: &BTreeMap<String, String>) -> Value {
    Value::List(tags.iter().map(|(k, v)| Value::structure().with("Key", k.clone()).with("Value", v.clone())).collect())
}
