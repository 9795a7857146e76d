//! Elastic Load Balancing v2: load balancers, target groups and listeners.
//!
//! This module owns ELB's state and the rules ELB enforces on it, with its
//! ARN shapes and error codes: names are valid and unique, a listener
//! forwards to target groups of its load balancer's VPC on a port no other
//! listener of it uses, and a target group is not deleted while a listener
//! forwards to it. No ELB API is served: CloudFormation's provisioner makes
//! these resources, checking their subnets and security groups against EC2,
//! and the sandbox's runtime serves each load balancer on the loopback port
//! its `DNSName` names.
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/Welcome.html>

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::random;
use crate::service::CallContext;

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

    /// The load balancer `arn`, or ELB's `LoadBalancerNotFound`.
    pub fn load_balancer(&self, arn: &str) -> Result<&LoadBalancer, AwsError> {
        self.load_balancers
            .get(arn)
            .ok_or_else(|| AwsError::sender("LoadBalancerNotFound", "One or more load balancers not found"))
    }

    /// Load balancer names are unique in the Region.
    pub fn check_load_balancer_name(&self, name: &str) -> Result<(), AwsError> {
        if self.load_balancers.values().any(|lb| lb.name == name) {
            return Err(AwsError::sender(
                "DuplicateLoadBalancerName",
                format!("A load balancer with the same name '{name}' exists, but with different settings"),
            ));
        }
        Ok(())
    }

    /// Adds a load balancer.
    pub fn add_load_balancer(&mut self, lb: LoadBalancer) {
        self.load_balancers.insert(lb.arn.clone(), lb);
    }

    /// Target group names are unique in the Region.
    pub fn check_target_group_name(&self, name: &str) -> Result<(), AwsError> {
        if self.target_groups.values().any(|group| group.name == name) {
            return Err(AwsError::sender(
                "DuplicateTargetGroupName",
                format!("A target group with the same name '{name}' exists, but with different settings"),
            ));
        }
        Ok(())
    }

    /// Adds a target group.
    pub fn add_target_group(&mut self, group: TargetGroup) {
        self.target_groups.insert(group.arn.clone(), group);
    }

    /// The target groups a listener of `lb` forwards to exist and sit in
    /// the load balancer's VPC.
    pub fn check_forwarding(&self, lb: &LoadBalancer, groups: &[String]) -> Result<(), AwsError> {
        for group in groups {
            let target = self
                .target_groups
                .get(group)
                .ok_or_else(|| AwsError::sender("TargetGroupNotFound", "One or more target groups not found"))?;
            if target.vpc_id.as_ref().is_some_and(|vpc| *vpc != lb.vpc_id) {
                return Err(AwsError::sender(
                    "ValidationError",
                    format!("The load balancer and target group '{group}' must be in the same VPC"),
                ));
            }
        }
        Ok(())
    }

    /// A load balancer has one listener per port; `listener_arn` is the
    /// listener being changed, which may keep its own port.
    pub fn check_listener_port(
        &self,
        load_balancer_arn: &str,
        port: i64,
        listener_arn: Option<&str>,
    ) -> Result<(), AwsError> {
        let taken = self
            .listeners
            .values()
            .filter(|l| Some(l.arn.as_str()) != listener_arn)
            .any(|l| l.load_balancer_arn == load_balancer_arn && l.port == port);
        if taken {
            return Err(AwsError::sender(
                "DuplicateListener",
                "A listener already exists on this port for this load balancer",
            ));
        }
        Ok(())
    }

    /// Adds a listener.
    pub fn add_listener(&mut self, listener: Listener) {
        self.listeners.insert(listener.arn.clone(), listener);
    }

    /// DeleteLoadBalancer, which deletes the load balancer's listeners too.
    /// `false` when there is no such load balancer.
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteLoadBalancer.html>
    pub fn delete_load_balancer(&mut self, arn: &str) -> bool {
        if self.load_balancers.remove(arn).is_none() {
            return false;
        }
        self.listeners.retain(|_, listener| listener.load_balancer_arn != arn);
        true
    }

    /// DeleteTargetGroup: refused while a listener forwards to it.
    /// `Ok(false)` when there is no such target group.
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTargetGroup.html>
    pub fn delete_target_group(&mut self, arn: &str) -> Result<bool, AwsError> {
        if !self.target_groups.contains_key(arn) {
            return Ok(false);
        }
        let in_use = self.listeners.values().any(|l| l.target_group_arns.iter().any(|t| t == arn));
        if in_use {
            return Err(AwsError::sender(
                "ResourceInUse",
                format!("Target group '{arn}' is currently in use by a listener or a rule"),
            ));
        }
        self.target_groups.remove(arn);
        Ok(true)
    }

    /// DeleteListener. `false` when there is no such listener.
    pub fn delete_listener(&mut self, arn: &str) -> bool {
        self.listeners.remove(arn).is_some()
    }
}

/// ELB names: 1 to 32 letters, digits and hyphens, not starting or ending
/// with a hyphen, not starting with `internal-`.
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html>
pub fn check_name(name: &str, what: &str) -> Result<(), AwsError> {
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

/// A load balancer's subnets, given as the zones and VPCs they are in: an
/// application load balancer spans two zones at least, and every load
/// balancer one VPC.
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#availability-zones>
pub fn check_subnets(kind: &str, zones: &[String], vpcs: &[String]) -> Result<(), AwsError> {
    if kind == "application" && zones.len() < 2 {
        return Err(AwsError::sender(
            "ValidationError",
            "At least two subnets in two different Availability Zones must be specified",
        ));
    }
    if vpcs.len() > 1 {
        return Err(AwsError::sender("InvalidConfigurationRequest", "Subnets must be in the same VPC"));
    }
    Ok(())
}

/// ELB's error for a subnet EC2 does not know.
pub fn subnet_not_found(id: &str) -> AwsError {
    AwsError::sender("SubnetNotFound", format!("The subnet ID '{id}' is not valid"))
}

/// ELB's error for a security group EC2 does not know.
pub fn invalid_security_group(id: &str) -> AwsError {
    AwsError::sender("InvalidSecurityGroup", format!("Security group '{id}' does not exist"))
}

/// Target groups of instances, IPs and load balancers are in a VPC.
pub fn vpc_id_required() -> AwsError {
    AwsError::sender(
        "ValidationError",
        "A VPC ID must be specified for target groups with a target type of 'instance', 'ip' or 'alb'",
    )
}

fn arn(ctx: &CallContext, resource: &str) -> String {
    format!("arn:{}:elasticloadbalancing:{}:{}:{resource}", ctx.partition, ctx.region, ctx.account())
}

/// A new load balancer's ARN: `loadbalancer/app/<name>/<id>` (`net/` for
/// a network load balancer).
pub fn load_balancer_arn(ctx: &CallContext, kind: &str, name: &str) -> String {
    let prefix = if kind == "network" { "net" } else { "app" };
    arn(ctx, &format!("loadbalancer/{prefix}/{name}/{}", random::hex(16)))
}

/// A new target group's ARN.
pub fn target_group_arn(ctx: &CallContext, name: &str) -> String {
    arn(ctx, &format!("targetgroup/{name}/{}", random::hex(16)))
}

/// A new listener's ARN, under its load balancer's.
pub fn listener_arn(ctx: &CallContext, lb: &LoadBalancer) -> String {
    arn(ctx, &format!("listener/{}/{}", lb.full_name(), random::hex(16)))
}

/// The Route 53 zone id of application load balancers in a region.
/// <https://docs.aws.amazon.com/general/latest/gr/elb.html>
pub fn canonical_hosted_zone_id(region: &str) -> &'static str {
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
