//! CloudFormation's resource provisioners: for each resource type the lab's
//! templates use, how a resource is created, updated in place and deleted
//! from resolved properties, what `Ref` returns and every `Fn::GetAtt`
//! attribute.
//!
//! Resources a sandboxed service owns (KMS, CloudWatch Logs, CloudWatch,
//! SNS, SQS, CloudTrail) are made by that service's own `api::call`, with
//! the input CloudFormation's handler would send, so validation and errors
//! are the service's; S3, Secrets Manager and ECR resources through those
//! services' own functions. IAM, EC2, ELBv2, ECS and RDS serve no API for
//! them; their resources are made through those services' own state
//! operations ([`crate::iam`], [`crate::ec2`], [`crate::elbv2`],
//! [`crate::ecs`], [`crate::rds`]), which check what AWS checks cheaply,
//! while the checks that span services (a subnet still used by a load
//! balancer) are made here. Failures carry the reason CloudFormation shows
//! as `ResourceStatusReason`.

pub mod cloudtrail;
pub mod cloudwatch;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod elbv2;
pub mod iam;
pub mod kms;
pub mod logs;
pub mod names;
pub mod rds;
pub mod s3;
pub mod secretsmanager;
pub mod sns;
pub mod sqs;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::{CallContext, Handled};
use crate::state::{Part, SandboxState};

pub use crate::ecs::RunnableService;
pub use ecs::ecs_services;
pub use names::generated_name;

/// One resource to create or update, its properties already resolved.
#[derive(Debug, Clone, Copy)]
pub struct ResourceRequest<'a> {
    pub logical_id: &'a str,
    /// e.g. `AWS::EC2::VPC`.
    pub resource_type: &'a str,
    /// Resolved (no intrinsic functions left); an object, possibly empty.
    pub properties: &'a Json,
    pub stack_name: &'a str,
    /// `arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`.
    pub stack_id: &'a str,
}

/// What a provisioned resource is to the rest of the stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provisioned {
    /// What `Ref` returns.
    pub physical_id: String,
    /// Every `Fn::GetAtt` attribute AWS documents for the type.
    pub attributes: BTreeMap<String, Json>,
}

impl Provisioned {
    fn new(physical_id: impl Into<String>) -> Provisioned {
        Provisioned { physical_id: physical_id.into(), attributes: BTreeMap::new() }
    }

    fn with(mut self, name: &str, value: impl Into<Json>) -> Provisioned {
        self.attributes.insert(name.to_owned(), value.into());
        self
    }

    /// A string attribute, if present.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).and_then(Json::as_str)
    }
}

/// CloudFormation's resource handler error codes.
/// <https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-test-contract-errors.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandlerErrorCode {
    NotUpdatable,
    InvalidRequest,
    AccessDenied,
    InvalidCredentials,
    AlreadyExists,
    NotFound,
    ResourceConflict,
    Throttling,
    ServiceLimitExceeded,
    NotStabilized,
    GeneralServiceException,
    ServiceInternalError,
    NetworkFailure,
    InternalFailure,
}

impl HandlerErrorCode {
    /// The code as CloudFormation prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            HandlerErrorCode::NotUpdatable => "NotUpdatable",
            HandlerErrorCode::InvalidRequest => "InvalidRequest",
            HandlerErrorCode::AccessDenied => "AccessDenied",
            HandlerErrorCode::InvalidCredentials => "InvalidCredentials",
            HandlerErrorCode::AlreadyExists => "AlreadyExists",
            HandlerErrorCode::NotFound => "NotFound",
            HandlerErrorCode::ResourceConflict => "ResourceConflict",
            HandlerErrorCode::Throttling => "Throttling",
            HandlerErrorCode::ServiceLimitExceeded => "ServiceLimitExceeded",
            HandlerErrorCode::NotStabilized => "NotStabilized",
            HandlerErrorCode::GeneralServiceException => "GeneralServiceException",
            HandlerErrorCode::ServiceInternalError => "ServiceInternalError",
            HandlerErrorCode::NetworkFailure => "NetworkFailure",
            HandlerErrorCode::InternalFailure => "InternalFailure",
        }
    }

    /// The handler code CloudFormation reports for a service error code.
    pub fn for_service_error(code: &str) -> HandlerErrorCode {
        match code {
            c if c.contains("NotFound") || c.starts_with("NoSuch") || c == "QueueDoesNotExist" => {
                HandlerErrorCode::NotFound
            }
            c if c.contains("AlreadyExists") || c.contains("Duplicate") || c == "QueueNameExists" => {
                HandlerErrorCode::AlreadyExists
            }
            "DependencyViolation" | "DeleteConflict" | "ResourceInUse" | "ResourceInUseException" => {
                HandlerErrorCode::ResourceConflict
            }
            "AccessDenied" | "AccessDeniedException" => HandlerErrorCode::AccessDenied,
            c if c.contains("LimitExceeded") => HandlerErrorCode::ServiceLimitExceeded,
            "InternalFailure" | "InternalError" | "KMSInternalException" => HandlerErrorCode::ServiceInternalError,
            c if c.contains("Validation") || c.contains("Invalid") || c.contains("Malformed") => {
                HandlerErrorCode::InvalidRequest
            }
            _ => HandlerErrorCode::GeneralServiceException,
        }
    }
}

/// Why a resource could not be provisioned; `reason` is what CloudFormation
/// shows as the resource's `ResourceStatusReason`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct ProvisionError {
    pub reason: String,
    pub code: HandlerErrorCode,
}

impl ProvisionError {
    /// A failure reported by a resource handler, in CloudFormation's words:
    /// `Resource handler returned message: "<message>" (RequestToken: <uuid>, HandlerErrorCode: <code>)`.
    pub fn handler(message: &str, code: HandlerErrorCode) -> ProvisionError {
        ProvisionError {
            reason: format!(
                "Resource handler returned message: \"{message}\" (RequestToken: {}, HandlerErrorCode: {})",
                uuid::Uuid::new_v4(),
                code.as_str()
            ),
            code,
        }
    }

    /// A service's error as the handler passes it on, naming the service
    /// and status as the AWS SDK does in the message.
    pub fn service(service: &str, error: &AwsError) -> ProvisionError {
        let message = format!(
            "{} (Service: {service}, Status Code: {}, Request ID: {})",
            error.message,
            error.status.as_u16(),
            uuid::Uuid::new_v4()
        );
        ProvisionError::handler(&message, HandlerErrorCode::for_service_error(&error.code))
    }

    /// The uniform message of a create whose resource already exists.
    /// <https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-test-contract.html>
    pub fn already_exists(resource_type: &str, identifier: &str) -> ProvisionError {
        ProvisionError::handler(
            &format!("Resource of type '{resource_type}' with identifier '{identifier}' already exists."),
            HandlerErrorCode::AlreadyExists,
        )
    }

    /// The uniform message of a resource that is not there.
    pub fn not_found(resource_type: &str, identifier: &str) -> ProvisionError {
        ProvisionError::handler(
            &format!("Resource of type '{resource_type}' with identifier '{identifier}' was not found."),
            HandlerErrorCode::NotFound,
        )
    }

    /// A schema violation, found before any handler runs:
    /// `Properties validation failed for resource X with message: #: required key [Y] not found`.
    pub fn validation(logical_id: &str, message: &str) -> ProvisionError {
        ProvisionError {
            reason: format!("Properties validation failed for resource {logical_id} with message: {message}"),
            code: HandlerErrorCode::InvalidRequest,
        }
    }

    /// A property whose change needs a replacement, asked of update.
    pub fn not_updatable(resource_type: &str, property: &str) -> ProvisionError {
        ProvisionError::handler(
            &format!("Resource of type '{resource_type}' cannot update the create-only property '{property}'."),
            HandlerErrorCode::NotUpdatable,
        )
    }
}

/// How CloudFormation's handler creates, updates in place and deletes one
/// resource type. Each service's provisioner lists the types it owns in a
/// `RESOURCE_TYPES` table; [`create`], [`update`] and [`delete`] look the
/// type up there, so the refusal of a type the sandbox does not know lives
/// in one place.
pub(crate) struct ResourceType {
    /// e.g. `AWS::SNS::Topic`.
    pub name: &'static str,
    pub create: fn(Create) -> Result<Provisioned, ProvisionError>,
    /// Given the new properties; replacements are decided before.
    pub update: fn(Update) -> Result<Provisioned, ProvisionError>,
    pub delete: fn(Delete) -> Result<(), ProvisionError>,
}

/// One resource's create, as a provisioner gets it: the state it changes,
/// the call's context, the request and its resolved properties.
pub(crate) struct Create<'a> {
    pub state: &'a mut SandboxState,
    pub ctx: &'a CallContext,
    pub request: &'a ResourceRequest<'a>,
    pub props: &'a Props<'a>,
}

/// One resource's in-place update: as [`Create`], with the resource as it
/// is and the properties it was made with; `props` are the new ones.
pub(crate) struct Update<'a> {
    pub state: &'a mut SandboxState,
    pub ctx: &'a CallContext,
    pub change: &'a Change<'a>,
    pub props: &'a Props<'a>,
}

/// One resource's delete: its type, what it is, and the properties it was
/// last made with.
pub(crate) struct Delete<'a> {
    pub state: &'a mut SandboxState,
    pub ctx: &'a CallContext,
    pub resource_type: &'a str,
    pub current: &'a Provisioned,
    pub props: &'a Props<'a>,
}

/// Every service's table of resource types.
const SERVICES: &[&[ResourceType]] = &[
    ec2::RESOURCE_TYPES,
    elbv2::RESOURCE_TYPES,
    ecs::RESOURCE_TYPES,
    iam::RESOURCE_TYPES,
    rds::RESOURCE_TYPES,
    kms::RESOURCE_TYPES,
    logs::RESOURCE_TYPES,
    cloudwatch::RESOURCE_TYPES,
    sns::RESOURCE_TYPES,
    sqs::RESOURCE_TYPES,
    cloudtrail::RESOURCE_TYPES,
    s3::RESOURCE_TYPES,
    secretsmanager::RESOURCE_TYPES,
    ecr::RESOURCE_TYPES,
];

/// The provisioner of `resource_type`, or CloudFormation's refusal.
fn resource_type(name: &str) -> Result<&'static ResourceType, ProvisionError> {
    SERVICES.iter().flat_map(|types| types.iter()).find(|known| known.name == name).ok_or_else(|| unsupported(name))
}

/// Whether the sandbox can provision `resource_type`.
pub fn is_supported(resource_type: &str) -> bool {
    self::resource_type(resource_type).is_ok()
}

fn unsupported(resource_type: &str) -> ProvisionError {
    ProvisionError::handler(
        &format!("The Keywatch sandbox cannot provision resources of type {resource_type}"),
        HandlerErrorCode::InvalidRequest,
    )
}

/// The properties of `resource_type` whose change needs a replacement
/// (the schema's create-only properties, "Update requires: Replacement").
/// `AWS::ECS::TaskDefinition` revisions are immutable: every property but
/// `Tags` is listed by [`requires_replacement`] rather than here.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html>
pub fn create_only_properties(resource_type: &str) -> &'static [&'static str] {
    match resource_type {
        "AWS::EC2::VPC" => &["CidrBlock", "InstanceTenancy", "Ipv4IpamPoolId", "Ipv4NetmaskLength"],
        "AWS::EC2::Subnet" => &["VpcId", "CidrBlock", "AvailabilityZone", "AvailabilityZoneId"],
        "AWS::EC2::VPCGatewayAttachment" => &["VpcId", "InternetGatewayId", "VpnGatewayId"],
        "AWS::EC2::EIP" => &["Domain", "PublicIpv4Pool", "NetworkBorderGroup"],
        "AWS::EC2::NatGateway" => &["SubnetId", "AllocationId", "ConnectivityType", "PrivateIpAddress"],
        "AWS::EC2::RouteTable" => &["VpcId"],
        "AWS::EC2::Route" => &["RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock"],
        "AWS::EC2::SubnetRouteTableAssociation" => &["SubnetId", "RouteTableId"],
        "AWS::EC2::SecurityGroup" => &["GroupName", "GroupDescription", "VpcId"],
        "AWS::EC2::SecurityGroupIngress" => &[
            "GroupId",
            "GroupName",
            "IpProtocol",
            "FromPort",
            "ToPort",
            "CidrIp",
            "CidrIpv6",
            "SourceSecurityGroupId",
            "SourceSecurityGroupName",
            "SourceSecurityGroupOwnerId",
            "SourcePrefixListId",
        ],
        "AWS::EC2::SecurityGroupEgress" => &[
            "GroupId",
            "IpProtocol",
            "FromPort",
            "ToPort",
            "CidrIp",
            "CidrIpv6",
            "DestinationSecurityGroupId",
            "DestinationPrefixListId",
        ],
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => &["Name", "Scheme", "Type"],
        "AWS::ElasticLoadBalancingV2::TargetGroup" => &["Name", "Port", "Protocol", "TargetType", "VpcId"],
        "AWS::ElasticLoadBalancingV2::Listener" => &["LoadBalancerArn"],
        "AWS::ECS::Cluster" => &["ClusterName"],
        "AWS::ECS::Service" => &["ServiceName", "Cluster", "LaunchType", "SchedulingStrategy", "Role"],
        "AWS::IAM::Role" => &["RoleName", "Path"],
        "AWS::IAM::ManagedPolicy" => &["ManagedPolicyName", "Path", "Description"],
        "AWS::IAM::InstanceProfile" => &["InstanceProfileName", "Path"],
        "AWS::RDS::DBSubnetGroup" => &["DBSubnetGroupName"],
        "AWS::RDS::DBInstance" => &[
            "DBInstanceIdentifier",
            "Engine",
            "DBName",
            "MasterUsername",
            "DBSubnetGroupName",
            "StorageEncrypted",
            "KmsKeyId",
            "AvailabilityZone",
        ],
        "AWS::KMS::Key" => &["KeyUsage", "KeySpec", "Origin", "MultiRegion"],
        "AWS::KMS::Alias" => &["AliasName"],
        "AWS::Logs::LogGroup" => &["LogGroupName"],
        "AWS::Logs::LogStream" => &["LogGroupName", "LogStreamName"],
        "AWS::Logs::MetricFilter" => &["LogGroupName", "FilterName"],
        "AWS::CloudWatch::Alarm" => &["AlarmName"],
        "AWS::CloudWatch::CompositeAlarm" => &["AlarmName"],
        "AWS::SNS::Topic" => &["TopicName", "FifoTopic"],
        "AWS::SNS::Subscription" => &["TopicArn", "Protocol", "Endpoint", "Region"],
        "AWS::SQS::Queue" => &["QueueName", "FifoQueue"],
        "AWS::CloudTrail::Trail" => &["TrailName"],
        "AWS::S3::Bucket" => &["BucketName", "ObjectLockEnabled"],
        "AWS::S3::BucketPolicy" => &["Bucket"],
        "AWS::SecretsManager::Secret" => &["Name"],
        "AWS::SecretsManager::SecretTargetAttachment" => &["SecretId"],
        "AWS::ECR::Repository" => &["RepositoryName", "EncryptionConfiguration"],
        _ => &[],
    }
}

/// The properties whose change from `previous` to `properties` means the
/// resource must be replaced; empty when an in-place [`update`] can do it.
pub fn requires_replacement(resource_type: &str, previous: &Json, properties: &Json) -> Vec<String> {
    let changed = |name: &str| previous.get(name) != properties.get(name);
    if resource_type == "AWS::ECS::TaskDefinition" {
        let mut names: Vec<String> = previous
            .as_object()
            .into_iter()
            .chain(properties.as_object())
            .flat_map(|members| members.keys().cloned())
            .filter(|name| name != "Tags" && changed(name))
            .collect();
        names.sort();
        names.dedup();
        return names;
    }
    create_only_properties(resource_type).iter().filter(|name| changed(name)).map(|name| (*name).to_owned()).collect()
}

/// The persisted parts of the state that creating, updating or deleting a
/// resource of `resource_type` can change: what to save afterwards.
pub fn changed_parts(resource_type: &str) -> &'static [Part] {
    match resource_type.split("::").nth(1).unwrap_or_default() {
        "EC2" => &[Part::Ec2],
        "ElasticLoadBalancingV2" => &[Part::Elb],
        "ECS" => &[Part::Ecs],
        "IAM" => &[Part::Iam],
        "RDS" => &[Part::Rds],
        "KMS" => &[Part::Kms],
        // CloudWatch Logs and CloudWatch calls also age out metric data.
        "Logs" => &[Part::Logs, Part::Metrics],
        "CloudWatch" => &[Part::CloudWatch, Part::Metrics],
        // SNS subscriptions to SQS queues touch the queues.
        "SNS" => &[Part::Sns, Part::Sqs],
        "SQS" => &[Part::Sqs],
        "CloudTrail" => &[Part::CloudTrail],
        "S3" => &[Part::S3],
        "SecretsManager" => &[Part::SecretsManager],
        "ECR" => &[Part::Ecr],
        _ => &[],
    }
}

/// Creates the resource `request` describes.
pub fn create(
    state: &mut SandboxState,
    ctx: &CallContext,
    request: &ResourceRequest,
) -> Result<Provisioned, ProvisionError> {
    if !request.properties.is_object() {
        return Err(ProvisionError::validation(request.logical_id, "#: expected type: JSONObject"));
    }
    let props = Props::of(request);
    (resource_type(request.resource_type)?.create)(Create { state, ctx, request, props: &props })
}

/// Updates a resource in place. The engine decides replacement itself
/// (create new, then delete old) with [`requires_replacement`]; a change
/// this type cannot make in place fails here with `NotUpdatable`.
pub fn update(
    state: &mut SandboxState,
    ctx: &CallContext,
    request: &ResourceRequest,
    current: &Provisioned,
    previous_properties: &Json,
) -> Result<Provisioned, ProvisionError> {
    if !request.properties.is_object() {
        return Err(ProvisionError::validation(request.logical_id, "#: expected type: JSONObject"));
    }
    if let Some(property) = requires_replacement(request.resource_type, previous_properties, request.properties).first()
    {
        return Err(ProvisionError::not_updatable(request.resource_type, property));
    }
    let change = Change { request, current, previous: previous_properties };
    let props = change.props();
    (resource_type(request.resource_type)?.update)(Update { state, ctx, change: &change, props: &props })
}

/// Deletes a resource. One that is already gone is deleted (CloudFormation
/// treats NotFound on delete as success).
pub fn delete(
    state: &mut SandboxState,
    ctx: &CallContext,
    resource_type: &str,
    current: &Provisioned,
    properties: &Json,
) -> Result<(), ProvisionError> {
    let props = Props { logical_id: "", value: properties };
    let result = self::resource_type(resource_type)
        .and_then(|known| (known.delete)(Delete { state, ctx, resource_type, current, props: &props }));
    match result {
        Err(error) if error.code == HandlerErrorCode::NotFound => Ok(()),
        other => other,
    }
}

/// Deletes a resource under the `Snapshot` deletion policy (the default
/// of `AWS::RDS::DBInstance`): a DB instance leaves a final snapshot
/// `<identifier>-final` in the RDS store, whose identifier is returned so
/// teardown can report it. Other types are deleted as by [`delete`].
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html>
pub fn delete_with_snapshot(
    state: &mut SandboxState,
    ctx: &CallContext,
    resource_type: &str,
    current: &Provisioned,
    properties: &Json,
) -> Result<Option<String>, ProvisionError> {
    if resource_type != "AWS::RDS::DBInstance" {
        return delete(state, ctx, resource_type, current, properties).map(|()| None);
    }
    match rds::delete_instance_or_group(state, ctx, resource_type, current, true) {
        Err(error) if error.code == HandlerErrorCode::NotFound => Ok(None),
        other => other,
    }
}

/// An in-place update: the new request, the resource as it is, and the
/// properties it was made with.
pub(crate) struct Change<'a> {
    pub request: &'a ResourceRequest<'a>,
    pub current: &'a Provisioned,
    pub previous: &'a Json,
}

impl Change<'_> {
    /// The new properties.
    pub fn props(&self) -> Props<'_> {
        Props::of(self.request)
    }

    /// Whether `name` differs between the old and new properties.
    pub fn changed(&self, name: &str) -> bool {
        self.request.properties.get(name) != self.previous.get(name)
    }
}

/// Typed reads of a resource's resolved properties, failing as
/// CloudFormation's schema validation does. Scalars may arrive as strings
/// (a `Number` parameter's `Ref` is a string): they are converted as the
/// schema's types say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Props<'a> {
    logical_id: &'a str,
    value: &'a Json,
}

impl<'a> Props<'a> {
    pub fn of(request: &'a ResourceRequest<'a>) -> Props<'a> {
        Props { logical_id: request.logical_id, value: request.properties }
    }

    pub fn get(&self, name: &str) -> Option<&'a Json> {
        self.value.get(name).filter(|value| !value.is_null())
    }

    /// The schema's `additionalProperties: false`: a key outside `allowed`
    /// is refused as CloudFormation words it, at `path` (a JSON pointer
    /// into the properties, e.g. `#/ContainerDefinitions/0/Environment/2`).
    pub fn only(&self, allowed: &[&str], path: &str) -> Result<(), ProvisionError> {
        let Some(members) = self.value.as_object() else { return Ok(()) };
        match members.keys().find(|key| !allowed.contains(&key.as_str())) {
            Some(key) => Err(ProvisionError::validation(
                self.logical_id,
                &format!("{path}: extraneous key [{key}] is not permitted"),
            )),
            None => Ok(()),
        }
    }

    fn type_error(&self, name: &str, expected: &str, found: &Json) -> ProvisionError {
        let found = match found {
            Json::String(_) => "String",
            Json::Number(_) => "Number",
            Json::Bool(_) => "Boolean",
            Json::Array(_) => "JSONArray",
            Json::Object(_) => "JSONObject",
            Json::Null => "Null",
        };
        ProvisionError::validation(self.logical_id, &format!("#/{name}: expected type: {expected}, found: {found}"))
    }

    /// A required string.
    pub fn required_str(&self, name: &str) -> Result<String, ProvisionError> {
        self.str(name)?.ok_or_else(|| self.missing(name))
    }

    /// A required JSON document (an object, or JSON text), as [`Props::document`] reads it.
    pub fn required_document(&self, name: &str) -> Result<String, ProvisionError> {
        self.document(name)?.ok_or_else(|| self.missing(name))
    }

    /// `#: required key [name] not found`.
    pub fn missing(&self, name: &str) -> ProvisionError {
        ProvisionError::validation(self.logical_id, &format!("#: required key [{name}] not found"))
    }

    /// An optional string (numbers and booleans are written out).
    pub fn str(&self, name: &str) -> Result<Option<String>, ProvisionError> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::String(text)) => Ok(Some(text.clone())),
            Some(Json::Number(number)) => Ok(Some(number.to_string())),
            Some(Json::Bool(flag)) => Ok(Some(flag.to_string())),
            Some(other) => Err(self.type_error(name, "String", other)),
        }
    }

    /// An optional boolean (`"true"`/`"false"` accepted).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ProvisionError> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::Bool(flag)) => Ok(Some(*flag)),
            Some(Json::String(text)) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Json::String(text)) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(self.type_error(name, "Boolean", other)),
        }
    }

    /// An optional integer (numeric strings accepted).
    pub fn int(&self, name: &str) -> Result<Option<i64>, ProvisionError> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::Number(number)) if number.as_i64().is_some() => Ok(number.as_i64()),
            Some(Json::String(text)) if text.trim().parse::<i64>().is_ok() => Ok(text.trim().parse().ok()),
            Some(other) => Err(self.type_error(name, "Integer", other)),
        }
    }

    /// An optional number (numeric strings accepted).
    pub fn number(&self, name: &str) -> Result<Option<f64>, ProvisionError> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::Number(number)) => Ok(number.as_f64()),
            Some(Json::String(text)) if text.trim().parse::<f64>().is_ok() => Ok(text.trim().parse().ok()),
            Some(other) => Err(self.type_error(name, "Number", other)),
        }
    }

    /// An optional list of strings.
    pub fn strings(&self, name: &str) -> Result<Vec<String>, ProvisionError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Json::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Json::String(text) => Ok(text.clone()),
                    Json::Number(number) => Ok(number.to_string()),
                    other => Err(self.type_error(name, "String", other)),
                })
                .collect(),
            Some(other) => Err(self.type_error(name, "JSONArray", other)),
        }
    }

    /// An optional list of objects.
    pub fn objects(&self, name: &str) -> Result<Vec<Props<'a>>, ProvisionError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Json::Array(items)) => items
                .iter()
                .map(|item| {
                    if item.is_object() {
                        Ok(Props { logical_id: self.logical_id, value: item })
                    } else {
                        Err(self.type_error(name, "JSONObject", item))
                    }
                })
                .collect(),
            Some(other) => Err(self.type_error(name, "JSONArray", other)),
        }
    }

    /// An optional nested object.
    pub fn object(&self, name: &str) -> Result<Option<Props<'a>>, ProvisionError> {
        match self.get(name) {
            None => Ok(None),
            Some(item) if item.is_object() => Ok(Some(Props { logical_id: self.logical_id, value: item })),
            Some(other) => Err(self.type_error(name, "JSONObject", other)),
        }
    }

    /// A policy document: JSON text as given, or an object written as JSON.
    pub fn document(&self, name: &str) -> Result<Option<String>, ProvisionError> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::String(text)) => Ok(Some(text.clone())),
            Some(object @ Json::Object(_)) => Ok(Some(object.to_string())),
            Some(other) => Err(self.type_error(name, "JSONObject", other)),
        }
    }

    /// `Tags: [{Key, Value}]` as a map.
    pub fn tags(&self) -> Result<BTreeMap<String, String>, ProvisionError> {
        let mut tags = BTreeMap::new();
        for tag in self.objects("Tags")? {
            tags.insert(tag.required_str("Key")?, tag.str("Value")?.unwrap_or_default());
        }
        Ok(tags)
    }
}

/// The name property's value, or a generated `<stack>-<logical>-<RANDOM>`.
pub(crate) fn name_or_generated(
    props: &Props,
    request: &ResourceRequest,
    property: &str,
    max_len: usize,
    lowercase: bool,
) -> Result<String, ProvisionError> {
    Ok(match props.str(property)? {
        Some(name) => name,
        None => generated_name(request.stack_name, request.logical_id, max_len, lowercase),
    })
}

/// A policy resource's (`AWS::SNS::TopicPolicy`, `AWS::SQS::QueuePolicy`)
/// `PolicyDocument` and the targets it is set on, a list that must not be
/// empty.
pub(crate) fn policy_targets(props: &Props, targets: &str) -> Result<(String, Vec<String>), ProvisionError> {
    let document = props.required_document("PolicyDocument")?;
    let names = props.strings(targets)?;
    if names.is_empty() {
        return Err(props.missing(targets));
    }
    Ok((document, names))
}

/// A new policy resource: it has no name of its own in AWS, so its `Ref`
/// and `Id` are a generated one.
pub(crate) fn policy_resource(request: &ResourceRequest) -> Provisioned {
    policy_attributes(&generated_name(request.stack_name, request.logical_id, 256, false))
}

/// A policy resource's `Ref` and `Id`.
pub(crate) fn policy_attributes(id: &str) -> Provisioned {
    Provisioned::new(id).with("Id", id)
}

/// The output of a service call, or its error as CloudFormation reports it.
pub(crate) fn outcome(service: &str, operation: &str, handled: Option<Handled>) -> Result<Value, ProvisionError> {
    match handled {
        Some(handled) => handled.result.map_err(|error| ProvisionError::service(service, &error)),
        None => Err(ProvisionError::handler(
            &format!("The Keywatch sandbox does not implement {service}:{operation}"),
            HandlerErrorCode::InternalFailure,
        )),
    }
}

/// A string member of a service output, by path.
pub(crate) fn output_str(value: &Value, path: &[&str]) -> Option<String> {
    let found = path.iter().try_fold(value, |current, name| match current {
        Value::Map(members) => members.iter().find(|(key, _)| key == name).map(|(_, v)| v),
        _ => None,
    })?;
    match found {
        Value::String(text) => Some(text.clone()),
        _ => None,
    }
}

/// The sandbox's URL for links and queue URLs (loopback when unknown).
pub(crate) fn endpoint(state: &SandboxState) -> String {
    if state.endpoint.is_empty() { "http://127.0.0.1".to_owned() } else { state.endpoint.clone() }
}
