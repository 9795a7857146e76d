//! Elastic Load Balancing v2: `LoadBalancer`, `TargetGroup` and `Listener`,
//! made in the sandbox's ELB state ([`crate::elbv2`]), their subnets,
//! security groups and VPCs checked against EC2's. A load balancer's
//! `DNSName` is a loopback `127.0.0.1:<port>` picked free when it is made,
//! where the sandbox's runtime serves what its listeners forward to.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancingv2-loadbalancer.html>

use std::collections::BTreeMap;

use serde_json::json;

use super::{Create, Delete, Props, ProvisionError, Provisioned, ResourceType, Update, name_or_generated};
use crate::elbv2::{self, ElbState, Listener, LoadBalancer, TargetGroup};
use crate::error::AwsError;

fn failed(error: AwsError) -> ProvisionError {
    ProvisionError::service("ElasticLoadBalancingV2", &error)
}

/// A port on 127.0.0.1 that is free now: bound, read, released.
fn free_loopback_port() -> Result<u16, ProvisionError> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|error| {
        ProvisionError::handler(
            &format!("No loopback port is free for the load balancer: {error}"),
            super::HandlerErrorCode::ServiceInternalError,
        )
    })?;
    let port = listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|error| ProvisionError::handler(&error.to_string(), super::HandlerErrorCode::ServiceInternalError))?;
    Ok(port)
}

fn key_values(props: &Props, name: &str) -> Result<BTreeMap<String, String>, ProvisionError> {
    let mut map = BTreeMap::new();
    for item in props.objects(name)? {
        map.insert(item.required_str("Key")?, item.str("Value")?.unwrap_or_default());
    }
    Ok(map)
}

fn load_balancer_attributes(lb: &LoadBalancer, region: &str) -> Provisioned {
    Provisioned::new(lb.arn.clone())
        .with("LoadBalancerArn", lb.arn.clone())
        .with("DNSName", lb.dns_name.clone())
        .with("CanonicalHostedZoneID", elbv2::canonical_hosted_zone_id(region))
        .with("LoadBalancerFullName", lb.full_name())
        .with("LoadBalancerName", lb.name.clone())
        .with("SecurityGroups", json!(lb.security_groups))
}

fn target_group_attributes(state: &ElbState, group: &TargetGroup) -> Provisioned {
    let load_balancers: Vec<String> = state.load_balancers_of(&group.arn).iter().map(|lb| lb.arn.clone()).collect();
    Provisioned::new(group.arn.clone())
        .with("TargetGroupArn", group.arn.clone())
        .with("TargetGroupName", group.name.clone())
        .with("TargetGroupFullName", group.arn.split(':').next_back().unwrap_or_default())
        .with("LoadBalancerArns", json!(load_balancers))
}

/// The target groups a listener's default actions forward to.
fn forwarded_groups(props: &Props) -> Result<Vec<String>, ProvisionError> {
    let actions = props.objects("DefaultActions")?;
    if actions.is_empty() {
        return Err(props.missing("DefaultActions"));
    }
    let mut groups = Vec::new();
    for action in actions {
        if action.required_str("Type")? != "forward" {
            continue;
        }
        if let Some(arn) = action.str("TargetGroupArn")? {
            groups.push(arn);
        }
        if let Some(config) = action.object("ForwardConfig")? {
            for group in config.objects("TargetGroups")? {
                groups.push(group.required_str("TargetGroupArn")?);
            }
        }
    }
    Ok(groups)
}

/// The types share one function per operation, matching on the type inside.
pub(super) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType { name: "AWS::ElasticLoadBalancingV2::LoadBalancer", create, update, delete },
    ResourceType { name: "AWS::ElasticLoadBalancingV2::TargetGroup", create, update, delete },
    ResourceType { name: "AWS::ElasticLoadBalancingV2::Listener", create, update, delete },
];

fn create(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    match request.resource_type {
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
            let name = name_or_generated(props, request, "Name", 32, false)?;
            elbv2::check_name(&name, "Load balancer").map_err(failed)?;
            state.elb.check_load_balancer_name(&name).map_err(failed)?;
            let kind = props.str("Type")?.unwrap_or_else(|| "application".into());
            let mut subnets = props.strings("Subnets")?;
            for mapping in props.objects("SubnetMappings")? {
                subnets.push(mapping.required_str("SubnetId")?);
            }
            let mut zones = Vec::new();
            let mut vpcs = Vec::new();
            for subnet in &subnets {
                let subnet = state.ec2.subnet(subnet).map_err(|_| failed(elbv2::subnet_not_found(subnet)))?;
                zones.push(subnet.availability_zone.clone());
                vpcs.push(subnet.vpc_id.clone());
            }
            zones.sort();
            zones.dedup();
            vpcs.dedup();
            elbv2::check_subnets(&kind, &zones, &vpcs).map_err(failed)?;
            let security_groups = props.strings("SecurityGroups")?;
            for group in &security_groups {
                state.ec2.security_group(group).map_err(|_| failed(elbv2::invalid_security_group(group)))?;
            }
            let port = free_loopback_port()?;
            let lb = LoadBalancer {
                arn: elbv2::load_balancer_arn(ctx, &kind, &name),
                name,
                kind,
                scheme: props.str("Scheme")?.unwrap_or_else(|| "internet-facing".into()),
                vpc_id: vpcs.into_iter().next().unwrap_or_default(),
                subnets,
                security_groups,
                dns_name: format!("127.0.0.1:{port}"),
                loopback_port: port,
                attributes: key_values(props, "LoadBalancerAttributes")?,
                tags: props.tags()?,
            };
            let attributes = load_balancer_attributes(&lb, &ctx.region);
            state.elb.add_load_balancer(lb);
            Ok(attributes)
        }
        "AWS::ElasticLoadBalancingV2::TargetGroup" => {
            let name = name_or_generated(props, request, "Name", 32, false)?;
            elbv2::check_name(&name, "Target group").map_err(failed)?;
            state.elb.check_target_group_name(&name).map_err(failed)?;
            let target_type = props.str("TargetType")?.unwrap_or_else(|| "instance".into());
            let vpc_id = props.str("VpcId")?;
            match &vpc_id {
                Some(vpc) => {
                    state.ec2.vpc(vpc).map_err(failed)?;
                }
                None if target_type != "lambda" => return Err(failed(elbv2::vpc_id_required())),
                None => {}
            }
            let group = TargetGroup {
                arn: elbv2::target_group_arn(ctx, &name),
                name,
                protocol: props.str("Protocol")?,
                port: props.int("Port")?,
                vpc_id,
                target_type,
                health_check_path: props.str("HealthCheckPath")?,
                attributes: key_values(props, "TargetGroupAttributes")?,
                tags: props.tags()?,
            };
            let attributes = target_group_attributes(&state.elb, &group);
            state.elb.add_target_group(group);
            Ok(attributes)
        }
        "AWS::ElasticLoadBalancingV2::Listener" => {
            let lb_arn = props.required_str("LoadBalancerArn")?;
            let groups = forwarded_groups(props)?;
            let lb = state.elb.load_balancer(&lb_arn).map_err(failed)?;
            state.elb.check_forwarding(lb, &groups).map_err(failed)?;
            let protocol = props.str("Protocol")?.unwrap_or_else(|| "HTTP".into());
            let port = props.int("Port")?.unwrap_or(if protocol == "HTTPS" { 443 } else { 80 });
            state.elb.check_listener_port(&lb_arn, port, None).map_err(failed)?;
            let listener = Listener {
                arn: elbv2::listener_arn(ctx, lb),
                load_balancer_arn: lb_arn,
                port,
                protocol,
                target_group_arns: groups,
                default_actions: props.get("DefaultActions").cloned().unwrap_or_default(),
            };
            let id = listener.arn.clone();
            state.elb.add_listener(listener);
            Ok(Provisioned::new(id.clone()).with("ListenerArn", id))
        }
        other => Err(super::unsupported(other)),
    }
}

fn update(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let id = change.current.physical_id.clone();
    let gone = || ProvisionError::not_found(change.request.resource_type, &id);
    match change.request.resource_type {
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
            let security_groups = props.strings("SecurityGroups")?;
            for group in &security_groups {
                state.ec2.security_group(group).map_err(failed)?;
            }
            let attributes = key_values(props, "LoadBalancerAttributes")?;
            let tags = props.tags()?;
            let lb = state.elb.load_balancers.get_mut(&id).ok_or_else(gone)?;
            lb.security_groups = security_groups;
            lb.attributes = attributes;
            lb.tags = tags;
            Ok(load_balancer_attributes(lb, &ctx.region))
        }
        "AWS::ElasticLoadBalancingV2::TargetGroup" => {
            let attributes = key_values(props, "TargetGroupAttributes")?;
            let tags = props.tags()?;
            let health_check_path = props.str("HealthCheckPath")?;
            let group = state.elb.target_groups.get_mut(&id).ok_or_else(gone)?;
            group.attributes = attributes;
            group.tags = tags;
            group.health_check_path = health_check_path;
            let group = group.clone();
            Ok(target_group_attributes(&state.elb, &group))
        }
        "AWS::ElasticLoadBalancingV2::Listener" => {
            let groups = forwarded_groups(props)?;
            let listener = state.elb.listeners.get(&id).ok_or_else(gone)?;
            let lb = state.elb.load_balancers.get(&listener.load_balancer_arn).ok_or_else(gone)?;
            state.elb.check_forwarding(lb, &groups).map_err(failed)?;
            let protocol = props.str("Protocol")?.unwrap_or_else(|| "HTTP".into());
            let port = props.int("Port")?.unwrap_or(if protocol == "HTTPS" { 443 } else { 80 });
            state.elb.check_listener_port(&lb.arn, port, Some(&id)).map_err(failed)?;
            let listener = state.elb.listeners.get_mut(&id).ok_or_else(gone)?;
            listener.port = port;
            listener.protocol = protocol;
            listener.target_group_arns = groups;
            listener.default_actions = props.get("DefaultActions").cloned().unwrap_or_default();
            Ok(change.current.clone())
        }
        other => Err(super::unsupported(other)),
    }
}

fn delete(Delete { state, resource_type, current, .. }: Delete) -> Result<(), ProvisionError> {
    let id = current.physical_id.as_str();
    let deleted = match resource_type {
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => state.elb.delete_load_balancer(id),
        "AWS::ElasticLoadBalancingV2::TargetGroup" => state.elb.delete_target_group(id).map_err(failed)?,
        "AWS::ElasticLoadBalancingV2::Listener" => state.elb.delete_listener(id),
        other => return Err(super::unsupported(other)),
    };
    if deleted { Ok(()) } else { Err(ProvisionError::not_found(resource_type, id)) }
}
