//! Amazon ECS: clusters, task definition revisions and services.
//!
//! This module owns ECS's state and the rules ECS enforces on it, with its
//! ARN shapes and error codes: Fargate's task sizes and network mode, a
//! service's containers and ports, revisions never reused, and a cluster
//! not deleted while it has services. CloudFormation's provisioner makes
//! these resources, checking their subnets, security groups and target
//! groups against EC2 and ELB; [`api`] serves ECS's own API for reading,
//! scaling and deleting them; the sandbox's runtime reads [`services_of`]
//! to start each service's container behind its load balancer's loopback
//! port.
//! <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/Welcome.html>

pub mod api;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::elbv2::ElbState;
use crate::error::AwsError;
use crate::service::CallContext;
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

    /// Adds a cluster.
    pub fn add_cluster(&mut self, cluster: Cluster) {
        self.clusters.insert(cluster.arn.clone(), cluster);
    }

    /// The ARN of the cluster a name or ARN names (`default` when absent),
    /// or ECS's `ClusterNotFoundException`.
    pub fn find_cluster(&self, ctx: &CallContext, cluster: Option<String>) -> Result<String, AwsError> {
        let arn = cluster_arn_of(ctx, cluster.as_deref().unwrap_or("default"));
        if self.clusters.contains_key(&arn) {
            Ok(arn)
        } else {
            Err(AwsError::sender("ClusterNotFoundException", "Cluster not found."))
        }
    }

    /// The next revision of task definition family `family`, counted from
    /// now on whether or not its registration completes: ECS never reuses one.
    pub fn next_revision(&mut self, family: &str) -> u32 {
        let revision = self.revisions.get(family).copied().unwrap_or(0) + 1;
        self.revisions.insert(family.to_owned(), revision);
        revision
    }

    /// Adds a task definition revision ([`check_containers`] and
    /// [`check_fargate`] checked it).
    pub fn add_task_definition(&mut self, definition: TaskDefinition) {
        self.task_definitions.insert(definition.arn.clone(), definition);
    }

    /// A task definition by ARN, `family:revision` or `family` (latest).
    pub fn task_definition(&self, reference: &str) -> Result<&TaskDefinition, AwsError> {
        let found = if reference.starts_with("arn:") {
            self.task_definitions.get(reference)
        } else if reference.contains(':') {
            self.task_definitions.values().find(|t| format!("{}:{}", t.family, t.revision) == reference)
        } else {
            self.task_definitions.values().filter(|t| t.family == reference).max_by_key(|t| t.revision)
        };
        found.ok_or_else(|| client_exception("TaskDefinition not found."))
    }

    /// A service ARN is created once.
    pub fn check_new_service(&self, service_arn: &str) -> Result<(), AwsError> {
        if self.services.contains_key(service_arn) {
            return Err(invalid_parameter("Creation of service was not idempotent."));
        }
        Ok(())
    }

    /// Adds a service.
    pub fn add_service(&mut self, service: Service) {
        self.services.insert(service.arn.clone(), service);
    }

    /// DeleteCluster: refused while services are in it. `Ok(false)` when
    /// there is no such cluster.
    /// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteCluster.html>
    pub fn delete_cluster(&mut self, arn: &str) -> Result<bool, AwsError> {
        if !self.clusters.contains_key(arn) {
            return Ok(false);
        }
        if self.services.values().any(|s| s.cluster_arn == arn) {
            return Err(AwsError::sender(
                "ClusterContainsServicesException",
                "The Cluster cannot be deleted while Services are active.",
            ));
        }
        self.clusters.remove(arn);
        Ok(true)
    }

    /// DeregisterTaskDefinition. `false` when there is no such revision.
    pub fn delete_task_definition(&mut self, arn: &str) -> bool {
        self.task_definitions.remove(arn).is_some()
    }

    /// DeleteService. `false` when there is no such service.
    pub fn delete_service(&mut self, arn: &str) -> bool {
        self.services.remove(arn).is_some()
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
pub fn services_of(ecs: &EcsState, elb: &ElbState) -> Vec<RunnableService> {
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

/// ECS's `ClientException`.
pub fn client_exception(message: impl Into<String>) -> AwsError {
    AwsError::sender("ClientException", message)
}

/// ECS's `InvalidParameterException`.
pub fn invalid_parameter(message: impl Into<String>) -> AwsError {
    AwsError::sender("InvalidParameterException", message)
}

fn arn(ctx: &CallContext, resource: &str) -> String {
    format!("arn:{}:ecs:{}:{}:{resource}", ctx.partition, ctx.region, ctx.account())
}

/// Cluster `name`'s ARN.
pub fn cluster_arn(ctx: &CallContext, name: &str) -> String {
    arn(ctx, &format!("cluster/{name}"))
}

/// The ARN of revision `revision` of task definition family `family`.
pub fn task_definition_arn(ctx: &CallContext, family: &str, revision: u32) -> String {
    arn(ctx, &format!("task-definition/{family}:{revision}"))
}

/// A cluster named or given by ARN, as its ARN (ECS takes either).
pub fn cluster_arn_of(ctx: &CallContext, reference: &str) -> String {
    if reference.starts_with("arn:") { reference.to_owned() } else { cluster_arn(ctx, reference) }
}

/// The ARN of service `name` in cluster `cluster_name`.
pub fn service_arn(ctx: &CallContext, cluster_name: &str, name: &str) -> String {
    arn(ctx, &format!("service/{cluster_name}/{name}"))
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

/// A task's CPU in CPU units: an integer (`256`), or vCPUs as a string
/// (`1 vCPU`, `0.25 vcpu`), as TaskDefinition's `cpu` accepts.
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinition.html>
pub fn cpu_units(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(units) = text.parse::<i64>() {
        return (units > 0).then_some(units);
    }
    let lower = text.to_ascii_lowercase();
    let number = lower.strip_suffix("vcpu")?.trim_end();
    scaled(number, 1024)
}

/// A task's memory in MiB: an integer (`512`), or GB as a string (`0.5GB`,
/// `1 GB`), as TaskDefinition's `memory` accepts.
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinition.html>
pub fn memory_mib(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(mib) = text.parse::<i64>() {
        return (mib > 0).then_some(mib);
    }
    let lower = text.to_ascii_lowercase();
    let number = lower.strip_suffix("gb")?.trim_end();
    scaled(number, 1024)
}

/// `number` (decimal) times `factor`, when that is a whole, positive amount.
fn scaled(number: &str, factor: i64) -> Option<i64> {
    let value: f64 = number.parse().ok()?;
    let amount = value * factor as f64;
    (amount > 0.0 && amount.fract() == 0.0 && amount <= i64::MAX as f64).then_some(amount as i64)
}

/// A role given by name or by ARN, as ECS takes `taskRoleArn` and
/// `executionRoleArn`, as the ARN ECS keeps and tasks assume.
pub fn role_arn(ctx: &CallContext, role: &str) -> String {
    if role.starts_with("arn:") {
        role.to_owned()
    } else {
        format!("arn:{}:iam::{}:role/{role}", ctx.partition, ctx.account())
    }
}

/// A task definition has containers.
pub fn check_containers(containers: &[ContainerDefinition]) -> Result<(), AwsError> {
    if containers.is_empty() {
        return Err(client_exception("Container list cannot be empty."));
    }
    Ok(())
}

/// What a task definition requiring Fargate must be: `awsvpc` networking,
/// a task size Fargate offers, and an execution role when a container logs
/// with `awslogs`.
/// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html>
pub fn check_fargate(
    requires_compatibilities: &[String],
    network_mode: &str,
    cpu: Option<&str>,
    memory: Option<&str>,
    containers: &[ContainerDefinition],
    execution_role_arn: Option<&str>,
) -> Result<(), AwsError> {
    if !requires_compatibilities.iter().any(|c| c == "FARGATE") {
        return Ok(());
    }
    if network_mode != "awsvpc" {
        return Err(client_exception("Fargate only supports network mode 'awsvpc'."));
    }
    let Some(cpu) = cpu else {
        return Err(client_exception("Fargate requires that 'cpu' be defined at the task level."));
    };
    let Some(memory) = memory else {
        return Err(client_exception("Fargate requires that 'memory' be defined at the task level."));
    };
    match (cpu_units(cpu), memory_mib(memory)) {
        (Some(cpu), Some(memory)) if fargate_memory_ok(cpu, memory) => {}
        (Some(_), Some(_)) => return Err(client_exception("No Fargate configuration exists for given values.")),
        (None, _) => return Err(client_exception(format!("Invalid 'cpu' setting for task: {cpu}"))),
        (_, None) => return Err(client_exception(format!("Invalid 'memory' setting for task: {memory}"))),
    }
    let awslogs = containers.iter().any(|c| {
        c.log_configuration.as_ref().and_then(|l| l.get("LogDriver")).and_then(|d| d.as_str()) == Some("awslogs")
    });
    if awslogs && execution_role_arn.is_none() {
        return Err(client_exception(
            "Fargate requires task definition to have execution role ARN to support log driver awslogs.",
        ));
    }
    Ok(())
}

/// A service of an `awsvpc` task definition is given subnets.
pub fn check_network(definition: Option<&TaskDefinition>, subnets: &[String]) -> Result<(), AwsError> {
    if definition.is_some_and(|d| d.network_mode == "awsvpc") && subnets.is_empty() {
        return Err(invalid_parameter(
            "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
        ));
    }
    Ok(())
}

/// A service joins only target groups that a load balancer forwards to.
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html> (loadBalancers)
pub fn no_load_balancer(target_group_arn: &str) -> AwsError {
    invalid_parameter(format!(
        "The target group with targetGroupArn {target_group_arn} does not have an associated load balancer."
    ))
}

/// A service's target group forwards to a container port its task
/// definition declares.
pub fn check_container_port(
    definition: Option<&TaskDefinition>,
    attachment: &ServiceLoadBalancer,
) -> Result<(), AwsError> {
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinition.html
    // (cpu: "an integer using CPU units ... or as a string using vCPUs";
    // memory: "an integer using MiB ... or as a string using GB").
    #[test]
    fn task_sizes_are_read_as_ecs_reads_them() {
        assert_eq!(cpu_units("256"), Some(256));
        assert_eq!(cpu_units("1 vCPU"), Some(1024));
        assert_eq!(cpu_units("0.25 vcpu"), Some(256));
        assert_eq!(cpu_units("a lot"), None);
        assert_eq!(memory_mib("512"), Some(512));
        assert_eq!(memory_mib("0.5GB"), Some(512));
        assert_eq!(memory_mib("1 GB"), Some(1024));
        assert_eq!(memory_mib("0GB"), None);
        assert_eq!(memory_mib("-512"), None);
    }

    // The lab's app template: `Cpu: 256`, `Memory: 0.5GB` on Fargate.
    #[test]
    fn the_labs_fargate_size_is_accepted_and_missing_sizes_named() {
        let fargate = ["FARGATE".to_owned()];
        assert!(check_fargate(&fargate, "awsvpc", Some("256"), Some("0.5GB"), &[], None).is_ok());
        let no_cpu = check_fargate(&fargate, "awsvpc", None, Some("512"), &[], None).expect_err("no cpu");
        assert!(no_cpu.message.contains("'cpu'"), "{}", no_cpu.message);
        let no_memory = check_fargate(&fargate, "awsvpc", Some("256"), None, &[], None).expect_err("no memory");
        assert!(no_memory.message.contains("'memory'"), "{}", no_memory.message);
        let odd = check_fargate(&fargate, "awsvpc", Some("256"), Some("3GB"), &[], None).expect_err("no such size");
        assert_eq!(odd.message, "No Fargate configuration exists for given values.");
    }

    // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinition.html
    // (taskRoleArn: "The short name or full Amazon Resource Name (ARN) of the IAM role").
    #[test]
    fn roles_by_name_become_their_arns() {
        let ctx = CallContext::for_tests(0);
        assert_eq!(
            role_arn(&ctx, "pattern1-app-Pattern1ECSTaskRole"),
            format!("arn:aws:iam::{}:role/pattern1-app-Pattern1ECSTaskRole", ctx.account())
        );
        let arn = "arn:aws:iam::111122223333:role/given";
        assert_eq!(role_arn(&ctx, arn), arn);
    }
}
