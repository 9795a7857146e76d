//! ECS over AWS JSON 1.1 (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`),
//! as far as the lab's teardown steps and Keywatch need it: listing and
//! describing clusters, services, tasks and task definitions, scaling a
//! service, and deleting services and clusters. Members are camelCase.
//!
//! Shapes: <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Operations.html>.
//!
//! Tasks are what the sandbox runs for a service: one per desired count,
//! named from the service, so that ListTasks and DescribeTasks agree with
//! what answers at the load balancer.

use serde::Deserialize;

use super::{Cluster, EcsState, Service, TaskDefinition, client_exception, cluster_arn_of, invalid_parameter};
use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::{self, Audit, AuditResource, CallContext, Handled, decode_json};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClusterInput {
    cluster: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeClustersInput {
    clusters: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeServicesInput {
    cluster: Option<String>,
    services: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateServiceInput {
    cluster: Option<String>,
    service: String,
    desired_count: Option<i64>,
    task_definition: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteServiceInput {
    cluster: Option<String>,
    service: String,
    #[serde(default)]
    force: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListTasksInput {
    cluster: Option<String>,
    service_name: Option<String>,
    desired_status: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeTasksInput {
    cluster: Option<String>,
    tasks: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeTaskDefinitionInput {
    task_definition: String,
}

/// Runs an ECS call; `None` for an operation the sandbox lacks.
pub fn call(state: &mut EcsState, ctx: &CallContext, operation: &str, input: &serde_json::Value) -> Option<Handled> {
    let read_only = match operation {
        "ListClusters"
        | "DescribeClusters"
        | "ListServices"
        | "DescribeServices"
        | "ListTasks"
        | "DescribeTasks"
        | "DescribeTaskDefinition" => true,
        "UpdateService" | "DeleteService" | "DeleteCluster" => false,
        _ => return None,
    };
    let result = run(state, ctx, operation, input);
    let response_elements = match &result {
        Ok(output) if !read_only => service::response_elements(output),
        _ => None,
    };
    let resources = match input.get("cluster").and_then(|c| c.as_str()) {
        Some(cluster) => {
            vec![AuditResource { resource_type: "AWS::ECS::Cluster".into(), arn: cluster_arn_of(ctx, cluster) }]
        }
        None => Vec::new(),
    };
    Some(Handled {
        mutated: !read_only && result.is_ok(),
        result,
        audit: Some(Audit {
            request_parameters: service::request_parameters(input),
            response_elements,
            resources,
            read_only,
        }),
    })
}

fn run(state: &mut EcsState, ctx: &CallContext, operation: &str, input: &serde_json::Value) -> Result<Value, AwsError> {
    Ok(match operation {
        "ListClusters" => Value::structure().with("clusterArns", state.clusters.keys().cloned().collect::<Vec<_>>()),
        "DescribeClusters" => {
            let input: DescribeClustersInput = decode_json(input)?;
            let wanted = input.clusters.filter(|c| !c.is_empty()).unwrap_or_else(|| vec!["default".into()]);
            let (mut clusters, mut failures) = (Vec::new(), Vec::new());
            for reference in wanted {
                match state.find_cluster(ctx, Some(reference.clone())) {
                    Ok(arn) => clusters.push(cluster_value(state, &state.clusters[&arn], "ACTIVE")),
                    Err(_) => failures.push(failure(cluster_arn_of(ctx, &reference))),
                }
            }
            Value::structure().with("clusters", clusters).with("failures", failures)
        }
        "ListServices" => {
            let input: ClusterInput = decode_json(input)?;
            let cluster = state.find_cluster(ctx, input.cluster)?;
            let arns: Vec<String> =
                state.services.values().filter(|s| s.cluster_arn == cluster).map(|s| s.arn.clone()).collect();
            Value::structure().with("serviceArns", arns)
        }
        "DescribeServices" => {
            let input: DescribeServicesInput = decode_json(input)?;
            let cluster = state.find_cluster(ctx, input.cluster)?;
            let (mut services, mut failures) = (Vec::new(), Vec::new());
            for reference in input.services {
                match find_service(state, &cluster, &reference) {
                    Some(service) => services.push(service_value(service, "ACTIVE")),
                    None => failures.push(failure(reference)),
                }
            }
            Value::structure().with("services", services).with("failures", failures)
        }
        "UpdateService" => {
            let input: UpdateServiceInput = decode_json(input)?;
            let cluster = state.find_cluster(ctx, input.cluster)?;
            let arn = find_service(state, &cluster, &input.service).map(|s| s.arn.clone()).ok_or_else(not_found)?;
            if input.desired_count.is_some_and(|count| count < 0) {
                return Err(invalid_parameter("Invalid desiredCount: must be 0 or more."));
            }
            let definition = match &input.task_definition {
                Some(reference) => Some(state.task_definition(reference)?.arn.clone()),
                None => None,
            };
            let service = state.services.get_mut(&arn).ok_or_else(not_found)?;
            if let Some(count) = input.desired_count {
                service.desired_count = count;
            }
            if let Some(definition) = definition {
                // The runtime rolls the service's task onto the new revision.
                service.task_definition_arn = definition;
            }
            Value::structure().with("service", service_value(service, "ACTIVE"))
        }
        "DeleteService" => {
            let input: DeleteServiceInput = decode_json(input)?;
            let cluster = state.find_cluster(ctx, input.cluster)?;
            let service = find_service(state, &cluster, &input.service).cloned().ok_or_else(not_found)?;
            // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html
            if service.desired_count > 0 && !input.force {
                return Err(invalid_parameter("The service cannot be stopped while it is scaled above 0."));
            }
            state.delete_service(&service.arn);
            Value::structure().with("service", service_value(&Service { desired_count: 0, ..service }, "DRAINING"))
        }
        "DeleteCluster" => {
            let input: ClusterInput = decode_json(input)?;
            let arn = state.find_cluster(ctx, input.cluster)?;
            let cluster = state.clusters[&arn].clone();
            state.delete_cluster(&arn)?;
            Value::structure().with("cluster", cluster_value(state, &cluster, "INACTIVE"))
        }
        "ListTasks" => {
            let input: ListTasksInput = decode_json(input)?;
            let cluster = state.find_cluster(ctx, input.cluster)?;
            // Stopped tasks are not kept: asking for them lists none.
            let arns: Vec<String> = if input.desired_status.as_deref() == Some("STOPPED") {
                Vec::new()
            } else {
                tasks(ctx, state, &cluster)
                    .into_iter()
                    .filter(|(service, _)| {
                        input.service_name.as_deref().is_none_or(|name| service_matches(service, name))
                    })
                    .map(|(_, arn)| arn)
                    .collect()
            };
            Value::structure().with("taskArns", arns)
        }
        "DescribeTasks" => {
            let input: DescribeTasksInput = decode_json(input)?;
            let cluster = state.find_cluster(ctx, input.cluster)?;
            let running = tasks(ctx, state, &cluster);
            let (mut found, mut failures) = (Vec::new(), Vec::new());
            for reference in input.tasks {
                match running.iter().find(|(_, arn)| *arn == reference || arn.ends_with(&format!("/{reference}"))) {
                    Some((service, arn)) => found.push(task_value(service, arn)),
                    None => failures.push(failure(reference)),
                }
            }
            Value::structure().with("tasks", found).with("failures", failures)
        }
        "DescribeTaskDefinition" => {
            let input: DescribeTaskDefinitionInput = decode_json(input)?;
            let definition = state.task_definition(&input.task_definition)?;
            Value::structure().with("taskDefinition", task_definition_value(definition))
        }
        _ => return Err(client_exception(format!("Unsupported operation {operation}"))),
    })
}

/// ECS's answer for a service it does not have.
fn not_found() -> AwsError {
    AwsError::sender("ServiceNotFoundException", "Service not found.")
}

fn find_service<'s>(state: &'s EcsState, cluster_arn: &str, reference: &str) -> Option<&'s Service> {
    state.services.values().find(|s| s.cluster_arn == cluster_arn && service_matches(s, reference))
}

fn service_matches(service: &Service, reference: &str) -> bool {
    service.arn == reference || service.name == reference
}

/// The tasks the sandbox runs in `cluster_arn`: one per desired count of
/// each service, by service.
fn tasks<'s>(ctx: &CallContext, state: &'s EcsState, cluster_arn: &str) -> Vec<(&'s Service, String)> {
    let cluster_name = cluster_arn.rsplit('/').next().unwrap_or_default();
    let mut out = Vec::new();
    for service in state.services.values().filter(|s| s.cluster_arn == cluster_arn) {
        for index in 0..service.desired_count.max(0) {
            let id = task_id(&service.arn, &service.task_definition_arn, index);
            let arn = format!("arn:{}:ecs:{}:{}:task/{cluster_name}/{id}", ctx.partition, ctx.region, ctx.account());
            out.push((service, arn));
        }
    }
    out
}

/// A task id (32 hex digits, as ECS's), the same for as long as the
/// service runs that revision.
fn task_id(service_arn: &str, task_definition_arn: &str, index: i64) -> String {
    use md5::Digest as _;
    let digest = md5::Md5::digest(format!("{service_arn}|{task_definition_arn}|{index}").as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn failure(arn: String) -> Value {
    Value::structure().with("arn", arn).with("reason", "MISSING")
}

fn cluster_value(state: &EcsState, cluster: &Cluster, status: &str) -> Value {
    let services: Vec<&Service> = state.services.values().filter(|s| s.cluster_arn == cluster.arn).collect();
    let running: i64 = services.iter().map(|s| s.desired_count.max(0)).sum();
    let settings: Vec<Value> = cluster
        .settings
        .iter()
        .map(|(name, value)| Value::structure().with("name", name.as_str()).with("value", value.as_str()))
        .collect();
    let tags: Vec<Value> = cluster
        .tags
        .iter()
        .map(|(key, value)| Value::structure().with("key", key.as_str()).with("value", value.as_str()))
        .collect();
    Value::structure()
        .with("clusterArn", cluster.arn.as_str())
        .with("clusterName", cluster.name.as_str())
        .with("status", status)
        .with("registeredContainerInstancesCount", 0_i64)
        .with("runningTasksCount", running)
        .with("pendingTasksCount", 0_i64)
        .with("activeServicesCount", services.len() as i64)
        .with("capacityProviders", cluster.capacity_providers.clone())
        .with("settings", settings)
        .with("tags", tags)
}

fn service_value(service: &Service, status: &str) -> Value {
    let load_balancers: Vec<Value> = service
        .load_balancers
        .iter()
        .map(|lb| {
            Value::structure()
                .with("targetGroupArn", lb.target_group_arn.as_str())
                .with("containerName", lb.container_name.as_str())
                .with("containerPort", lb.container_port)
        })
        .collect();
    let network = Value::structure().with(
        "awsvpcConfiguration",
        Value::structure()
            .with("subnets", service.subnets.clone())
            .with("securityGroups", service.security_groups.clone())
            .with("assignPublicIp", if service.assign_public_ip { "ENABLED" } else { "DISABLED" }),
    );
    let mut value = Value::structure()
        .with("serviceArn", service.arn.as_str())
        .with("serviceName", service.name.as_str())
        .with("clusterArn", service.cluster_arn.as_str())
        .with("status", status)
        .with("desiredCount", service.desired_count)
        .with("runningCount", service.desired_count.max(0))
        .with("pendingCount", 0_i64)
        .with("taskDefinition", service.task_definition_arn.as_str())
        .with("loadBalancers", load_balancers)
        .with("networkConfiguration", network);
    if let Some(launch_type) = &service.launch_type {
        value = value.with("launchType", launch_type.as_str());
    }
    value
}

fn task_value(service: &Service, arn: &str) -> Value {
    Value::structure()
        .with("taskArn", arn)
        .with("clusterArn", service.cluster_arn.as_str())
        .with("taskDefinitionArn", service.task_definition_arn.as_str())
        .with("group", format!("service:{}", service.name))
        .with("lastStatus", "RUNNING")
        .with("desiredStatus", "RUNNING")
        .with("launchType", service.launch_type.clone().unwrap_or_else(|| "FARGATE".into()))
}

fn task_definition_value(definition: &TaskDefinition) -> Value {
    let containers: Vec<Value> = definition
        .containers
        .iter()
        .map(|container| {
            let ports: Vec<Value> = container
                .port_mappings
                .iter()
                .map(|port| {
                    let mut mapping = Value::structure()
                        .with("containerPort", port.container_port)
                        .with("protocol", port.protocol.as_str());
                    if let Some(host) = port.host_port {
                        mapping = mapping.with("hostPort", host);
                    }
                    mapping
                })
                .collect();
            let environment: Vec<Value> = container
                .environment
                .iter()
                .map(|(name, value)| Value::structure().with("name", name.as_str()).with("value", value.as_str()))
                .collect();
            Value::structure()
                .with("name", container.name.as_str())
                .with("image", container.image.as_str())
                .with("essential", container.essential)
                .with("portMappings", ports)
                .with("environment", environment)
        })
        .collect();
    let mut value = Value::structure()
        .with("taskDefinitionArn", definition.arn.as_str())
        .with("family", definition.family.as_str())
        .with("revision", i64::from(definition.revision))
        .with("status", "ACTIVE")
        .with("networkMode", definition.network_mode.as_str())
        .with("requiresCompatibilities", definition.requires_compatibilities.clone())
        .with("containerDefinitions", containers);
    for (name, member) in [
        ("cpu", &definition.cpu),
        ("memory", &definition.memory),
        ("taskRoleArn", &definition.task_role_arn),
        ("executionRoleArn", &definition.execution_role_arn),
    ] {
        if let Some(text) = member {
            value = value.with(name, text.as_str());
        }
    }
    value
}
