//! Amazon ECS: `Cluster`, `TaskDefinition` and `Service`, made in the
//! sandbox's ECS state ([`crate::ecs`]), a service's subnets, security
//! groups and target groups checked against EC2's and ELB's.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html>

use std::collections::BTreeMap;

use super::{
    Create, Delete, Props, ProvisionError, Provisioned, ResourceRequest, ResourceType, Update, generated_name,
    name_or_generated,
};
use crate::ecs::{
    self, Cluster, ContainerDefinition, PortMapping, RunnableService, Service, ServiceLoadBalancer, TaskDefinition,
};
use crate::error::AwsError;
use crate::service::CallContext;
use crate::state::SandboxState;

/// Every ECS service with its task definition and the loopback ports its
/// load balancers are served on ([`ecs::services_of`] of the sandbox's state).
pub fn ecs_services(state: &SandboxState) -> Vec<RunnableService> {
    ecs::services_of(&state.ecs, &state.elb)
}

fn failed(error: AwsError) -> ProvisionError {
    ProvisionError::service("Ecs", &error)
}

fn containers(props: &Props) -> Result<Vec<ContainerDefinition>, ProvisionError> {
    let mut out = Vec::new();
    for (index, container) in props.objects("ContainerDefinitions")?.into_iter().enumerate() {
        let mut port_mappings = Vec::new();
        for mapping in container.objects("PortMappings")? {
            port_mappings.push(PortMapping {
                container_port: mapping.int("ContainerPort")?.ok_or_else(|| mapping.missing("ContainerPort"))?,
                host_port: mapping.int("HostPort")?,
                protocol: mapping.str("Protocol")?.unwrap_or_else(|| "tcp".into()),
            });
        }
        let mut environment = BTreeMap::new();
        for (entry, variable) in container.objects("Environment")?.into_iter().enumerate() {
            // A KeyValuePair: `Name` and `Value`, nothing else (the lab's
            // template has `NAME:`, which CloudFormation refuses so).
            // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-taskdefinition-keyvaluepair.html
            variable.only(&["Name", "Value"], &format!("#/ContainerDefinitions/{index}/Environment/{entry}"))?;
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
    ecs::check_containers(&containers).map_err(failed)?;
    let requires = props.strings("RequiresCompatibilities")?;
    let network_mode = props.str("NetworkMode")?.unwrap_or_else(|| "bridge".into());
    let cpu = props.str("Cpu")?;
    let memory = props.str("Memory")?;
    let execution_role_arn = props.str("ExecutionRoleArn")?;
    ecs::check_fargate(
        &requires,
        &network_mode,
        cpu.as_deref(),
        memory.as_deref(),
        &containers,
        execution_role_arn.as_deref(),
    )
    .map_err(failed)?;
    let revision = state.ecs.next_revision(&family);
    // ECS keeps sizes as units and MiB (`0.5GB` is `512`), and roles given
    // by name as their ARNs.
    let definition = TaskDefinition {
        arn: ecs::task_definition_arn(ctx, &family, revision),
        family,
        revision,
        cpu: cpu.map(|cpu| ecs::cpu_units(&cpu).map_or(cpu, |units| units.to_string())),
        memory: memory.map(|memory| ecs::memory_mib(&memory).map_or(memory, |mib| mib.to_string())),
        network_mode,
        requires_compatibilities: requires,
        task_role_arn: props.str("TaskRoleArn")?.map(|role| ecs::role_arn(ctx, &role)),
        execution_role_arn: execution_role_arn.map(|role| ecs::role_arn(ctx, &role)),
        containers,
    };
    let id = definition.arn.clone();
    state.ecs.add_task_definition(definition);
    Ok(Provisioned::new(id.clone()).with("TaskDefinitionArn", id))
}

/// Where a service's tasks run and which target groups they join.
struct ServiceSettings {
    subnets: Vec<String>,
    security_groups: Vec<String>,
    assign_public_ip: bool,
    load_balancers: Vec<ServiceLoadBalancer>,
}

/// The service's settings from its properties, checked against the other
/// services: subnets, groups, task definition and target groups exist.
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
        state.ec2.subnet(subnet).map_err(failed)?;
    }
    for group in &groups {
        state.ec2.security_group(group).map_err(failed)?;
    }
    let definition = state.ecs.task_definitions.get(task_definition_arn);
    ecs::check_network(definition, &subnets).map_err(failed)?;
    let mut attachments = Vec::new();
    for item in props.objects("LoadBalancers")? {
        let attachment = ServiceLoadBalancer {
            container_name: item.required_str("ContainerName")?,
            container_port: item.int("ContainerPort")?.ok_or_else(|| item.missing("ContainerPort"))?,
            target_group_arn: item.required_str("TargetGroupArn")?,
        };
        if state.elb.load_balancers_of(&attachment.target_group_arn).is_empty() {
            return Err(failed(ecs::no_load_balancer(&attachment.target_group_arn)));
        }
        ecs::check_container_port(definition, &attachment).map_err(failed)?;
        attachments.push(attachment);
    }
    Ok(ServiceSettings { subnets, security_groups: groups, assign_public_ip: public, load_balancers: attachments })
}

fn service_attributes(service: &Service) -> Provisioned {
    Provisioned::new(service.arn.clone()).with("ServiceArn", service.arn.clone()).with("Name", service.name.clone())
}

/// The ARN of the task definition the `TaskDefinition` property names.
fn task_definition_of(state: &SandboxState, props: &Props) -> Result<String, ProvisionError> {
    let reference = props.str("TaskDefinition")?.ok_or_else(|| props.missing("TaskDefinition"))?;
    Ok(state.ecs.task_definition(&reference).map_err(failed)?.arn.clone())
}

/// The types share one function per operation, matching on the type inside.
pub(super) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType { name: "AWS::ECS::Cluster", create, update, delete },
    ResourceType { name: "AWS::ECS::TaskDefinition", create, update, delete },
    ResourceType { name: "AWS::ECS::Service", create, update, delete },
];

fn create(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    match request.resource_type {
        "AWS::ECS::Cluster" => {
            let name = name_or_generated(props, request, "ClusterName", 255, false)?;
            let cluster_arn = ecs::cluster_arn(ctx, &name);
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
            state.ecs.add_cluster(cluster);
            Ok(Provisioned::new(name).with("Arn", cluster_arn))
        }
        "AWS::ECS::TaskDefinition" => register(state, ctx, request),
        "AWS::ECS::Service" => {
            let cluster_arn = state.ecs.find_cluster(ctx, props.str("Cluster")?).map_err(failed)?;
            let task_definition = task_definition_of(state, props)?;
            let name = name_or_generated(props, request, "ServiceName", 255, false)?;
            let cluster_name = cluster_arn.rsplit('/').next().unwrap_or_default().to_owned();
            let service_arn = ecs::service_arn(ctx, &cluster_name, &name);
            state.ecs.check_new_service(&service_arn).map_err(failed)?;
            let settings = service_settings(state, props, &task_definition)?;
            let service = Service {
                arn: service_arn,
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
            state.ecs.add_service(service);
            Ok(attributes)
        }
        other => Err(super::unsupported(other)),
    }
}

fn update(Update { state, change, props, .. }: Update) -> Result<Provisioned, ProvisionError> {
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
            let task_definition = task_definition_of(state, props)?;
            let settings = service_settings(state, props, &task_definition)?;
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

fn delete(Delete { state, resource_type, current, .. }: Delete) -> Result<(), ProvisionError> {
    let id = current.physical_id.as_str();
    let deleted = match resource_type {
        "AWS::ECS::Cluster" => {
            state.ecs.delete_cluster(current.attribute("Arn").unwrap_or_default()).map_err(failed)?
        }
        "AWS::ECS::TaskDefinition" => state.ecs.delete_task_definition(id),
        "AWS::ECS::Service" => state.ecs.delete_service(id),
        other => return Err(super::unsupported(other)),
    };
    if deleted { Ok(()) } else { Err(ProvisionError::not_found(resource_type, id)) }
}
