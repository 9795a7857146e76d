//! Amazon ECS: `Cluster`, `TaskDefinition` and `Service`, kept in a
//! persisted store. No ECS API is served and no task runs here: the
//! sandbox's runtime reads [`ecs_services`] to start each service's
//! container and serve it behind its load balancer's loopback port.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html>

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Change, Props, ProvisionError, Provisioned, ResourceRequest, generated_name, name_or_generated};
use crate::error::AwsError;
use crate::service::CallContext;
use crate::state::SandboxState;

/// A cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub arn: String,
    pub name: String,
    pub capacity_providers: Vec<String>,
    pub settings: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

/// One port a container listens on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortMapping {
    pub container_port: i64,
    pub host_port: Option<i64>,
    pub protocol: String,
}

/// One container of a task definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    pub essential: bool,
    pub port_mappings: Vec<PortMapping>,
    /// `Environment` as name to value.
    pub environment: BTreeMap<String, String>,
    /// `LogConfiguration` as given (driver and options).
    pub log_configuration: Option<serde_json::Value>,
}

/// A task definition revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDefinition {
    pub arn: String,
    pub family: String,
    pub revision: u32,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub network_mode: String,
    pub requires_compatibilities: Vec<String>,
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    pub containers: Vec<ContainerDefinition>,
}

/// A service's attachment to a target group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceLoadBalancer {
    pub container_name: String,
    pub container_port: i64,
    pub target_group_arn: String,
}

/// A service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub arn: String,
    pub name: String,
    pub cluster_arn: String,
    pub task_definition_arn: String,
    pub desired_count: i64,
    pub launch_type: Option<String>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
    pub load_balancers: Vec<ServiceLoadBalancer>,
}

/// Everything ECS keeps, by ARN; task definition revisions per family.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EcsState {
    pub clusters: BTreeMap<String, Cluster>,
    pub task_definitions: BTreeMap<String, TaskDefinition>,
    pub services: BTreeMap<String, Service>,
    /// The latest revision number each family reached (never reused).
    pub revisions: BTreeMap<String, u32>,
}

impl EcsState {
    /// Nothing left (revision counters do not count: ECS keeps them).
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty() && self.task_definitions.is_empty() && self.services.is_empty()
    }
}

/// Where a service is reached: a load balancer listener forwarding to the
/// service's target group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceEndpoint {
    pub load_balancer_arn: String,
    /// `127.0.0.1:<port>`, the load balancer's `DNSName`.
    pub dns_name: String,
    /// The loopback port the runtime serves the load balancer on.
    pub loopback_port: u16,
    /// The listener's own port (80 in the lab).
    pub listener_port: i64,
    pub target_group_arn: String,
    /// The container and port the target group forwards to.
    pub container_name: String,
    pub container_port: i64,
}

/// What the runtime needs to run one ECS service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunnableService {
    pub cluster_name: String,
    pub cluster_arn: String,
    pub service_name: String,
    pub service_arn: String,
    pub desired_count: i64,
    pub task_definition: TaskDefinition,
    pub endpoints: Vec<ServiceEndpoint>,
}

/// Every ECS service with its task definition and the loopback ports its
/// load balancers are served on (Listener -> TargetGroup -> Service).
pub fn ecs_services(state: &SandboxState) -> Vec<RunnableService> {
    services_of(&state.ecs, &state.elb)
}

/// [`ecs_services`] from the ECS and load balancer states alone.
pub fn services_of(ecs: &EcsState, elb: &super::elbv2::ElbState) -> Vec<RunnableService> {
    let mut out = Vec::new();
    for service in ecs.services.values() {
        let (Some(cluster), Some(task_definition)) =
            (ecs.clusters.get(&service.cluster_arn), ecs.task_definitions.get(&service.task_definition_arn))
        else {
            continue;
        };
        let mut endpoints = Vec::new();
        for attachment in &service.load_balancers {
            for listener in elb.listeners.values() {
                if !listener.target_group_arns.contains(&attachment.target_group_arn) {
                    continue;
                }
                if let Some(lb) = elb.load_balancers.get(&listener.load_balancer_arn) {
                    endpoints.push(ServiceEndpoint {
                        load_balancer_arn: lb.arn.clone(),
                        dns_name: lb.dns_name.clone(),
                        loopback_port: lb.loopback_port,
                        listener_port: listener.port,
                        target_group_arn: attachment.target_group_arn.clone(),
                        container_name: attachment.container_name.clone(),
                        container_port: attachment.container_port,
                    });
                }
            }
        }
        out.push(RunnableService {
            cluster_name: cluster.name.clone(),
            cluster_arn: cluster.arn.clone(),
            service_name: service.name.clone(),
            service_arn: service.arn.clone(),
            desired_count: service.desired_count,
            task_definition: task_definition.clone(),
            endpoints,
        });
    }
    out
}

fn client_exception(message: impl Into<String>) -> ProvisionError {
    ProvisionError::service("Ecs", &AwsError::sender("ClientException", message))
}

fn invalid_parameter(message: impl Into<String>) -> ProvisionError {
    ProvisionError::service("Ecs", &AwsError::sender("InvalidParameterException", message))
}

fn arn(ctx: &CallContext, resource: &str) -> String {
    format!("arn:{}:ecs:{}:{}:{resource}", ctx.partition, ctx.region, ctx.account())
}

/// CPU units Fargate accepts and the memory (MiB) each allows.
/// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size>
fn fargate_memory_ok(cpu: i64, memory: i64) -> bool {
    match cpu {
        256 => [512, 1024, 2048].contains(&memory),
        512 => (1024..=4096).contains(&memory) && memory % 1024 == 0,
        1024 => (2048..=8192).contains(&memory) && memory % 1024 == 0,
        2048 => (4096..=16_384).contains(&memory) && memory % 1024 == 0,
        4096 => (8192..=30_720).contains(&memory) && memory % 1024 == 0,
        _ => false,
    }
}

fn containers(props: &Props) -> Result<Vec<ContainerDefinition>, ProvisionError> {
    let mut out = Vec::new();
    for container in props.objects("ContainerDefinitions")? {
        let mut port_mappings = Vec::new();
        for mapping in container.objects("PortMappings")? {
            port_mappings.push(PortMapping {
                container_port: mapping.int("ContainerPort")?.ok_or_else(|| mapping.missing("ContainerPort"))?,
                host_port: mapping.int("HostPort")?,
                protocol: mapping.str("Protocol")?.unwrap_or_else(|| "tcp".into()),
            });
        }
        let mut environment = BTreeMap::new();
        for variable in container.objects("Environment")? {
            environment.insert(variable.required_str("Name")?, variable.str("Value")?.unwrap_or_default());
        }
        out.push(ContainerDefinition {
            name: container.required_str("Name")?,
            image: container.required_str("Image")?,
            essential: container.bool("Essential")?.unwrap_or(true),
            port_mappings,
            environment,
            log_configuration: container.get("LogConfiguration").cloned(),
        });
    }
    Ok(out)
}

fn register(
    state: &mut SandboxState,
    ctx: &CallContext,
    request: &ResourceRequest,
) -> Result<Provisioned, ProvisionError> {
    let props = Props::of(request);
    let family = match props.str("Family")? {
        Some(family) => family,
        None => generated_name(request.stack_name, request.logical_id, 255, false),
    };
    let containers = containers(&props)?;
    if containers.is_empty() {
        return Err(client_exception("Container list cannot be empty."));
    }
    let requires = props.strings("RequiresCompatibilities")?;
    let network_mode = props.str("NetworkMode")?.unwrap_or_else(|| "bridge".into());
    let cpu = props.str("Cpu")?;
    let memory = props.str("Memory")?;
    let execution_role_arn = props.str("ExecutionRoleArn")?;
    if requires.iter().any(|c| c == "FARGATE") {
        // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html
        if network_mode != "awsvpc" {
            return Err(client_exception("Fargate only supports network mode 'awsvpc'."));
        }
        let size = cpu.as_deref().and_then(|c| c.parse().ok()).zip(memory.as_deref().and_then(|m| m.parse().ok()));
        match size {
            Some((cpu, memory)) if fargate_memory_ok(cpu, memory) => {}
            Some(_) => return Err(client_exception("No Fargate configuration exists for given values.")),
            None => return Err(client_exception("Fargate requires that 'cpu' be defined at the task level.")),
        }
        let awslogs = containers.iter().any(|c| {
            c.log_configuration.as_ref().and_then(|l| l.get("LogDriver")).and_then(|d| d.as_str()) == Some("awslogs")
        });
        if awslogs && execution_role_arn.is_none() {
            return Err(client_exception(
                "Fargate requires task definition to have execution role ARN to support log driver awslogs.",
            ));
        }
    }
    let revision = state.ecs.revisions.get(&family).copied().unwrap_or(0) + 1;
    state.ecs.revisions.insert(family.clone(), revision);
    let definition = TaskDefinition {
        arn: arn(ctx, &format!("task-definition/{family}:{revision}")),
        family,
        revision,
        cpu,
        memory,
        network_mode,
        requires_compatibilities: requires,
        task_role_arn: props.str("TaskRoleArn")?,
        execution_role_arn,
        containers,
    };
    let id = definition.arn.clone();
    state.ecs.task_definitions.insert(id.clone(), definition);
    Ok(Provisioned::new(id.clone()).with("TaskDefinitionArn", id))
}

/// A cluster by name or ARN (`default` when absent).
fn cluster_arn(state: &SandboxState, ctx: &CallContext, cluster: Option<String>) -> Result<String, ProvisionError> {
    let cluster = cluster.unwrap_or_else(|| "default".into());
    let arn = if cluster.starts_with("arn:") { cluster } else { arn(ctx, &format!("cluster/{cluster}")) };
    if state.ecs.clusters.contains_key(&arn) {
        Ok(arn)
    } else {
        Err(ProvisionError::service("Ecs", &AwsError::sender("ClusterNotFoundException", "Cluster not found.")))
    }
}

/// A task definition by ARN, `family:revision` or `family` (latest).
fn task_definition_arn(state: &SandboxState, reference: &str) -> Result<String, ProvisionError> {
    let found = if reference.starts_with("arn:") {
        state.ecs.task_definitions.get(reference)
    } else if reference.contains(':') {
        state.ecs.task_definitions.values().find(|t| format!("{}:{}", t.family, t.revision) == reference)
    } else {
        state.ecs.task_definitions.values().filter(|t| t.family == reference).max_by_key(|t| t.revision)
    };
    found.map(|t| t.arn.clone()).ok_or_else(|| client_exception("TaskDefinition not found."))
}

/// Where a service's tasks run and which target groups they join.
struct ServiceSettings {
    subnets: Vec<String>,
    security_groups: Vec<String>,
    assign_public_ip: bool,
    load_balancers: Vec<ServiceLoadBalancer>,
}

/// The service's settings from its properties, checked against the other
/// stores: subnets, groups, task definition and target groups exist.
fn service_settings(
    state: &SandboxState,
    props: &Props,
    task_definition_arn: &str,
) -> Result<ServiceSettings, ProvisionError> {
    let (mut subnets, mut groups, mut public) = (Vec::new(), Vec::new(), false);
    if let Some(network) = props.object("NetworkConfiguration")?
        && let Some(awsvpc) = network.object("AwsvpcConfiguration")?
    {
        subnets = awsvpc.strings("Subnets")?;
        groups = awsvpc.strings("SecurityGroups")?;
        public = awsvpc.str("AssignPublicIp")?.as_deref() == Some("ENABLED");
    }
    for subnet in &subnets {
        state.ec2.subnet(subnet).map_err(|error| ProvisionError::service("Ecs", &error))?;
    }
    for group in &groups {
        state.ec2.security_group(group).map_err(|error| ProvisionError::service("Ecs", &error))?;
    }
    let definition = state.ecs.task_definitions.get(task_definition_arn);
    if definition.is_some_and(|d| d.network_mode == "awsvpc") && subnets.is_empty() {
        return Err(invalid_parameter(
            "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
        ));
    }
    let mut attachments = Vec::new();
    for item in props.objects("LoadBalancers")? {
        let attachment = ServiceLoadBalancer {
            container_name: item.required_str("ContainerName")?,
            container_port: item.int("ContainerPort")?.ok_or_else(|| item.missing("ContainerPort"))?,
            target_group_arn: item.required_str("TargetGroupArn")?,
        };
        // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html (loadBalancers)
        if state.elb.load_balancers_of(&attachment.target_group_arn).is_empty() {
            return Err(invalid_parameter(format!(
                "The target group with targetGroupArn {} does not have an associated load balancer.",
                attachment.target_group_arn
            )));
        }
        let declared = definition.is_some_and(|d| {
            d.containers.iter().any(|c| {
                c.name == attachment.container_name
                    && c.port_mappings.iter().any(|p| p.container_port == attachment.container_port)
            })
        });
        if !declared {
            return Err(invalid_parameter(format!(
                "The container {} did not have a container port {} defined.",
                attachment.container_name, attachment.container_port
            )));
        }
        attachments.push(attachment);
    }
    Ok(ServiceSettings { subnets, security_groups: groups, assign_public_ip: public, load_balancers: attachments })
}

fn service_attributes(service: &Service) -> Provisioned {
    Provisioned::new(service.arn.clone()).with("ServiceArn", service.arn.clone()).with("Name", service.name.clone())
}

pub(super) fn create(
    state: &mut SandboxState,
    ctx: &CallContext,
    request: &ResourceRequest,
) -> Result<Provisioned, ProvisionError> {
    let props = Props::of(request);
    match request.resource_type {
        "AWS::ECS::Cluster" => {
            let name = name_or_generated(&props, request, "ClusterName", 255, false)?;
            let cluster_arn = arn(ctx, &format!("cluster/{name}"));
            if state.ecs.clusters.contains_key(&cluster_arn) {
                return Err(ProvisionError::already_exists(request.resource_type, &name));
            }
            let mut settings = BTreeMap::new();
            for setting in props.objects("ClusterSettings")? {
                settings.insert(setting.required_str("Name")?, setting.str("Value")?.unwrap_or_default());
            }
            let cluster = Cluster {
                arn: cluster_arn.clone(),
                name: name.clone(),
                capacity_providers: props.strings("CapacityProviders")?,
                settings,
                tags: props.tags()?,
            };
            state.ecs.clusters.insert(cluster_arn.clone(), cluster);
            Ok(Provisioned::new(name).with("Arn", cluster_arn))
        }
        "AWS::ECS::TaskDefinition" => register(state, ctx, request),
        "AWS::ECS::Service" => {
            let cluster_arn = cluster_arn(state, ctx, props.str("Cluster")?)?;
            let task_definition = task_definition_arn(
                state,
                &props.str("TaskDefinition")?.ok_or_else(|| props.missing("TaskDefinition"))?,
            )?;
            let name = name_or_generated(&props, request, "ServiceName", 255, false)?;
            let cluster_name = cluster_arn.rsplit('/').next().unwrap_or_default().to_owned();
            let service_arn = arn(ctx, &format!("service/{cluster_name}/{name}"));
            if state.ecs.services.contains_key(&service_arn) {
                return Err(invalid_parameter("Creation of service was not idempotent."));
            }
            let settings = service_settings(state, &props, &task_definition)?;
            let service = Service {
                arn: service_arn.clone(),
                name,
                cluster_arn,
                task_definition_arn: task_definition,
                desired_count: props.int("DesiredCount")?.unwrap_or(1),
                launch_type: props.str("LaunchType")?,
                subnets: settings.subnets,
                security_groups: settings.security_groups,
                assign_public_ip: settings.assign_public_ip,
                load_balancers: settings.load_balancers,
            };
            let attributes = service_attributes(&service);
            state.ecs.services.insert(service_arn, service);
            Ok(attributes)
        }
        other => Err(super::unsupported(other)),
    }
}

pub(super) fn update(
    state: &mut SandboxState,
    _ctx: &CallContext,
    change: &Change,
) -> Result<Provisioned, ProvisionError> {
    let props = change.props();
    let id = change.current.physical_id.clone();
    let gone = || ProvisionError::not_found(change.request.resource_type, &id);
    match change.request.resource_type {
        "AWS::ECS::Cluster" => {
            let mut settings = BTreeMap::new();
            for setting in props.objects("ClusterSettings")? {
                settings.insert(setting.required_str("Name")?, setting.str("Value")?.unwrap_or_default());
            }
            let capacity_providers = props.strings("CapacityProviders")?;
            let tags = props.tags()?;
            let arn = change.current.attribute("Arn").unwrap_or_default().to_owned();
            let cluster = state.ecs.clusters.get_mut(&arn).ok_or_else(gone)?;
            cluster.settings = settings;
            cluster.capacity_providers = capacity_providers;
            cluster.tags = tags;
            Ok(change.current.clone())
        }
        // Revisions are immutable: every change but tags is a replacement,
        // which update() refused before getting here.
        "AWS::ECS::TaskDefinition" => Ok(change.current.clone()),
        "AWS::ECS::Service" => {
            let task_definition = task_definition_arn(
                state,
                &props.str("TaskDefinition")?.ok_or_else(|| props.missing("TaskDefinition"))?,
            )?;
            let settings = service_settings(state, &props, &task_definition)?;
            let desired_count = props.int("DesiredCount")?.unwrap_or(1);
            let service = state.ecs.services.get_mut(&id).ok_or_else(gone)?;
            service.task_definition_arn = task_definition;
            service.subnets = settings.subnets;
            service.security_groups = settings.security_groups;
            service.assign_public_ip = settings.assign_public_ip;
            service.load_balancers = settings.load_balancers;
            service.desired_count = desired_count;
            Ok(service_attributes(service))
        }
        other => Err(super::unsupported(other)),
    }
}

pub(super) fn delete(
    state: &mut SandboxState,
    resource_type: &str,
    current: &Provisioned,
) -> Result<(), ProvisionError> {
    let id = current.physical_id.as_str();
    let gone = || ProvisionError::not_found(resource_type, id);
    match resource_type {
        "AWS::ECS::Cluster" => {
            let arn = current.attribute("Arn").unwrap_or_default();
            if !state.ecs.clusters.contains_key(arn) {
                return Err(gone());
            }
            if state.ecs.services.values().any(|s| s.cluster_arn == arn) {
                // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteCluster.html
                return Err(ProvisionError::service(
                    "Ecs",
                    &AwsError::sender(
                        "ClusterContainsServicesException",
                        "The Cluster cannot be deleted while Services are active.",
                    ),
                ));
            }
            state.ecs.clusters.remove(arn);
        }
        "AWS::ECS::TaskDefinition" => {
            state.ecs.task_definitions.remove(id).ok_or_else(gone)?;
        }
        "AWS::ECS::Service" => {
            state.ecs.services.remove(id).ok_or_else(gone)?;
        }
        other => return Err(super::unsupported(other)),
    }
    Ok(())
}
