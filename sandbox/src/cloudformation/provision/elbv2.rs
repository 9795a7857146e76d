//! Elastic Load Balancing v2: `LoadBalancer`, `TargetGroup` and `Listener`,
//! kept in a persisted store. No ELB API is served. A load balancer's
//! `DNSName` is a loopback `127.0.0.1:<port>` picked free when it is made,
//! where the sandbox's runtime serves what its listeners forward to.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancingv2-loadbalancer.html>

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::names::hex;
use super::{Change, Props, ProvisionError, Provisioned, ResourceRequest, name_or_generated};
use crate::error::AwsError;
use crate::service::CallContext;
use crate::state::SandboxState;

/// A load balancer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    /// `application` or `network`.
    pub kind: String,
    pub scheme: String,
    pub vpc_id: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    /// `127.0.0.1:<port>`: where the sandbox serves it.
    pub dns_name: String,
    /// The loopback port of [`LoadBalancer::dns_name`].
    pub loopback_port: u16,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

impl LoadBalancer {
    /// `app/<name>/<id>` (or `net/...`), the ARN's tail.
    pub fn full_name(&self) -> String {
        self.arn.split(":loadbalancer/").nth(1).unwrap_or_default().to_owned()
    }
}

/// A target group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub protocol: Option<String>,
    pub port: Option<i64>,
    pub vpc_id: Option<String>,
    pub target_type: String,
    pub health_check_path: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

/// A listener and the target group its default action forwards to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listener {
    pub arn: String,
    pub load_balancer_arn: String,
    pub port: i64,
    pub protocol: String,
    /// Target groups the default actions forward to.
    pub target_group_arns: Vec<String>,
    /// The default actions as given (forward, fixed-response, redirect).
    pub default_actions: serde_json::Value,
}

/// Everything ELBv2 keeps, by ARN.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ElbState {
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    pub target_groups: BTreeMap<String, TargetGroup>,
    pub listeners: BTreeMap<String, Listener>,
}

impl ElbState {
    /// Nothing left.
    pub fn is_empty(&self) -> bool {
        self.load_balancers.is_empty() && self.target_groups.is_empty() && self.listeners.is_empty()
    }

    /// The load balancers whose listeners forward to `target_group_arn`.
    pub fn load_balancers_of(&self, target_group_arn: &str) -> Vec<&LoadBalancer> {
        let mut arns: Vec<&str> = self
            .listeners
            .values()
            .filter(|l| l.target_group_arns.iter().any(|t| t == target_group_arn))
            .map(|l| l.load_balancer_arn.as_str())
            .collect();
        arns.sort_unstable();
        arns.dedup();
        arns.iter().filter_map(|arn| self.load_balancers.get(*arn)).collect()
    }
}

fn failed(error: AwsError) -> ProvisionError {
    ProvisionError::service("ElasticLoadBalancingV2", &error)
}

/// ELB names: 1 to 32 letters, digits and hyphens, not starting or ending
/// with a hyphen, not starting with `internal-`.
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html>
fn check_name(name: &str, what: &str) -> Result<(), AwsError> {
    let valid = (1..=32).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.starts_with("internal-");
    if valid {
        Ok(())
    } else {
        Err(AwsError::sender(
            "ValidationError",
            format!(
                "{what} name '{name}' cannot be longer than '32' characters, and can contain only alphanumeric characters and hyphens"
            ),
        ))
    }
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

/// The Route 53 zone id of application load balancers in a region.
/// <https://docs.aws.amazon.com/general/latest/gr/elb.html>
fn canonical_hosted_zone_id(region: &str) -> &'static str {
    match region {
        "us-east-1" => "Z35SXDOTRQ7X7K",
        "us-east-2" => "Z3AADJGX6KTTL2",
        "us-west-1" => "Z368ELLRRE2KJ0",
        "us-west-2" => "Z1H1FL5HABSF5",
        "eu-west-1" => "Z32O12XQLNTSW2",
        "eu-central-1" => "Z215JYRZR1TBD5",
        "ap-northeast-1" => "Z14GRHDCWA56QT",
        "ap-southeast-1" => "Z1LMS91P8CMLE5",
        "ap-southeast-2" => "Z1GM3OXH4ZPM65",
        _ => "Z1GM3OXH4ZPM65",
    }
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
        .with("CanonicalHostedZoneID", canonical_hosted_zone_id(region))
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

fn arn(ctx: &CallContext, resource: &str) -> String {
    format!("arn:{}:elasticloadbalancing:{}:{}:{resource}", ctx.partition, ctx.region, ctx.account())
}

pub(super) fn create(
    state: &mut SandboxState,
    ctx: &CallContext,
    request: &ResourceRequest,
) -> Result<Provisioned, ProvisionError> {
    let props = Props::of(request);
    match request.resource_type {
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
            let name = name_or_generated(&props, request, "Name", 32, false)?;
            check_name(&name, "Load balancer").map_err(failed)?;
            if state.elb.load_balancers.values().any(|lb| lb.name == name) {
                return Err(failed(AwsError::sender(
                    "DuplicateLoadBalancerName",
                    format!("A load balancer with the same name '{name}' exists, but with different settings"),
                )));
            }
            let kind = props.str("Type")?.unwrap_or_else(|| "application".into());
            let mut subnets = props.strings("Subnets")?;
            for mapping in props.objects("SubnetMappings")? {
                subnets.push(mapping.required_str("SubnetId")?);
            }
            let mut zones = Vec::new();
            let mut vpcs = Vec::new();
            for subnet in &subnets {
                let subnet = state.ec2.subnet(subnet).map_err(|_| {
                    failed(AwsError::sender("SubnetNotFound", format!("The subnet ID '{subnet}' is not valid")))
                })?;
                zones.push(subnet.availability_zone.clone());
                vpcs.push(subnet.vpc_id.clone());
            }
            zones.sort();
            zones.dedup();
            vpcs.dedup();
            // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#availability-zones
            if kind == "application" && zones.len() < 2 {
                return Err(failed(AwsError::sender(
                    "ValidationError",
                    "At least two subnets in two different Availability Zones must be specified",
                )));
            }
            if vpcs.len() > 1 {
                return Err(failed(AwsError::sender("InvalidConfigurationRequest", "Subnets must be in the same VPC")));
            }
            let security_groups = props.strings("SecurityGroups")?;
            for group in &security_groups {
                state.ec2.security_group(group).map_err(|_| {
                    failed(AwsError::sender("InvalidSecurityGroup", format!("Security group '{group}' does not exist")))
                })?;
            }
            let port = free_loopback_port()?;
            let prefix = if kind == "network" { "net" } else { "app" };
            let lb = LoadBalancer {
                arn: arn(ctx, &format!("loadbalancer/{prefix}/{name}/{}", hex(16))),
                name,
                kind,
                scheme: props.str("Scheme")?.unwrap_or_else(|| "internet-facing".into()),
                vpc_id: vpcs.into_iter().next().unwrap_or_default(),
                subnets,
                security_groups,
                dns_name: format!("127.0.0.1:{port}"),
                loopback_port: port,
                attributes: key_values(&props, "LoadBalancerAttributes")?,
                tags: props.tags()?,
            };
            let attributes = load_balancer_attributes(&lb, &ctx.region);
            state.elb.load_balancers.insert(lb.arn.clone(), lb);
            Ok(attributes)
        }
        "AWS::ElasticLoadBalancingV2::TargetGroup" => {
            let name = name_or_generated(&props, request, "Name", 32, false)?;
            check_name(&name, "Target group").map_err(failed)?;
            if state.elb.target_groups.values().any(|group| group.name == name) {
                return Err(failed(AwsError::sender(
                    "DuplicateTargetGroupName",
                    format!("A target group with the same name '{name}' exists, but with different settings"),
                )));
            }
            let target_type = props.str("TargetType")?.unwrap_or_else(|| "instance".into());
            let vpc_id = props.str("VpcId")?;
            match &vpc_id {
                Some(vpc) => {
                    state.ec2.vpc(vpc).map_err(failed)?;
                }
                None if target_type != "lambda" => {
                    return Err(failed(AwsError::sender(
                        "ValidationError",
                        "A VPC ID must be specified for target groups with a target type of 'instance', 'ip' or 'alb'",
                    )));
                }
                None => {}
            }
            let group = TargetGroup {
                arn: arn(ctx, &format!("targetgroup/{name}/{}", hex(16))),
                name,
                protocol: props.str("Protocol")?,
                port: props.int("Port")?,
                vpc_id,
                target_type,
                health_check_path: props.str("HealthCheckPath")?,
                attributes: key_values(&props, "TargetGroupAttributes")?,
                tags: props.tags()?,
            };
            let attributes = target_group_attributes(&state.elb, &group);
            state.elb.target_groups.insert(group.arn.clone(), group);
            Ok(attributes)
        }
        "AWS::ElasticLoadBalancingV2::Listener" => {
            let lb_arn = props.required_str("LoadBalancerArn")?;
            let groups = forwarded_groups(&props)?;
            let lb = state.elb.load_balancers.get(&lb_arn).ok_or_else(|| {
                failed(AwsError::sender("LoadBalancerNotFound", "One or more load balancers not found"))
            })?;
            check_groups(&state.elb, lb, &groups)?;
            let protocol = props.str("Protocol")?.unwrap_or_else(|| "HTTP".into());
            let port = props.int("Port")?.unwrap_or(if protocol == "HTTPS" { 443 } else { 80 });
            if state.elb.listeners.values().any(|l| l.load_balancer_arn == lb_arn && l.port == port) {
                return Err(failed(AwsError::sender(
                    "DuplicateListener",
                    "A listener already exists on this port for this load balancer",
                )));
            }
            let listener = Listener {
                arn: arn(ctx, &format!("listener/{}/{}", lb.full_name(), hex(16))),
                load_balancer_arn: lb_arn,
                port,
                protocol,
                target_group_arns: groups,
                default_actions: props.get("DefaultActions").cloned().unwrap_or_default(),
            };
            let id = listener.arn.clone();
            state.elb.listeners.insert(id.clone(), listener);
            Ok(Provisioned::new(id.clone()).with("ListenerArn", id))
        }
        other => Err(super::unsupported(other)),
    }
}

/// Forwarded target groups exist and sit in the load balancer's VPC.
fn check_groups(state: &ElbState, lb: &LoadBalancer, groups: &[String]) -> Result<(), ProvisionError> {
    for group in groups {
        let target = state
            .target_groups
            .get(group)
            .ok_or_else(|| failed(AwsError::sender("TargetGroupNotFound", "One or more target groups not found")))?;
        if target.vpc_id.as_ref().is_some_and(|vpc| *vpc != lb.vpc_id) {
            return Err(failed(AwsError::sender(
                "ValidationError",
                format!("The load balancer and target group '{group}' must be in the same VPC"),
            )));
        }
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
    let gone = || ProvisionError::not_found(change.request.resource_type, &id);
    match change.request.resource_type {
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
            let security_groups = props.strings("SecurityGroups")?;
            for group in &security_groups {
                state.ec2.security_group(group).map_err(failed)?;
            }
            let attributes = key_values(&props, "LoadBalancerAttributes")?;
            let tags = props.tags()?;
            let lb = state.elb.load_balancers.get_mut(&id).ok_or_else(gone)?;
            lb.security_groups = security_groups;
            lb.attributes = attributes;
            lb.tags = tags;
            Ok(load_balancer_attributes(lb, &ctx.region))
        }
        "AWS::ElasticLoadBalancingV2::TargetGroup" => {
            let attributes = key_values(&props, "TargetGroupAttributes")?;
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
            let groups = forwarded_groups(&props)?;
            let listener = state.elb.listeners.get(&id).ok_or_else(gone)?;
            let lb = state.elb.load_balancers.get(&listener.load_balancer_arn).ok_or_else(gone)?;
            check_groups(&state.elb, lb, &groups)?;
            let protocol = props.str("Protocol")?.unwrap_or_else(|| "HTTP".into());
            let port = props.int("Port")?.unwrap_or(if protocol == "HTTPS" { 443 } else { 80 });
            let lb_arn = lb.arn.clone();
            if state.elb.listeners.values().any(|l| l.arn != id && l.load_balancer_arn == lb_arn && l.port == port) {
                return Err(failed(AwsError::sender(
                    "DuplicateListener",
                    "A listener already exists on this port for this load balancer",
                )));
            }
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

pub(super) fn delete(
    state: &mut SandboxState,
    resource_type: &str,
    current: &Provisioned,
) -> Result<(), ProvisionError> {
    let id = current.physical_id.as_str();
    let gone = || ProvisionError::not_found(resource_type, id);
    match resource_type {
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
            state.elb.load_balancers.remove(id).ok_or_else(gone)?;
            // DeleteLoadBalancer deletes the load balancer's listeners too.
            // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteLoadBalancer.html
            state.elb.listeners.retain(|_, listener| listener.load_balancer_arn != id);
        }
        "AWS::ElasticLoadBalancingV2::TargetGroup" => {
            if !state.elb.target_groups.contains_key(id) {
                return Err(gone());
            }
            let in_use = state.elb.listeners.values().any(|l| l.target_group_arns.iter().any(|t| t == id));
            if in_use {
                // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTargetGroup.html
                return Err(failed(AwsError::sender(
                    "ResourceInUse",
                    format!("Target group '{id}' is currently in use by a listener or a rule"),
                )));
            }
            state.elb.target_groups.remove(id);
        }
        "AWS::ElasticLoadBalancingV2::Listener" => {
            state.elb.listeners.remove(id).ok_or_else(gone)?;
        }
        other => return Err(super::unsupported(other)),
    }
    Ok(())
}
