//! The EC2 networking resources of the lab's base and application stacks
//! (VPC, subnets, internet gateway and its attachment, Elastic IP, NAT
//! gateway, route tables, routes and associations, security groups and
//! their rules), kept in a persisted store with EC2's id shapes. No EC2 API
//! is served; what EC2 checks cheaply is checked with its error codes:
//! referenced ids exist, subnet CIDRs sit inside their VPC and do not
//! overlap, and nothing is deleted while something depends on it.
//! <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html>

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::names::{ec2_id, hex};
use super::{Change, Props, ProvisionError, Provisioned, ResourceRequest, generated_name};
use crate::error::AwsError;
use crate::service::CallContext;
use crate::state::SandboxState;

/// A VPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub region: String,
    pub cidr_block: String,
    pub cidr_block_association_id: String,
    pub enable_dns_support: bool,
    pub enable_dns_hostnames: bool,
    pub instance_tenancy: String,
    pub default_network_acl: String,
    pub default_security_group: String,
    pub tags: BTreeMap<String, String>,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub cidr_block: String,
    pub availability_zone: String,
    pub availability_zone_id: String,
    pub map_public_ip_on_launch: bool,
    pub network_acl_association_id: String,
    pub tags: BTreeMap<String, String>,
}

/// An internet gateway and the VPC it is attached to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InternetGateway {
    pub id: String,
    pub attached_vpc_id: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// An Elastic IP address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub allocation_id: String,
    pub public_ip: String,
    pub domain: String,
    /// The NAT gateway using it.
    pub associated_with: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// A NAT gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NatGateway {
    pub id: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub allocation_id: Option<String>,
    pub connectivity_type: String,
    pub private_ip: String,
    pub tags: BTreeMap<String, String>,
}

/// One route of a route table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub destination_cidr_block: String,
    /// `local`, or an internet gateway id.
    pub gateway_id: Option<String>,
    pub nat_gateway_id: Option<String>,
}

/// A route table with its routes and subnet associations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub routes: Vec<Route>,
    /// Association id to subnet id.
    pub associations: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

/// One security group rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// `sgr-...`.
    pub id: String,
    pub ip_protocol: String,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    pub cidr_ip: Option<String>,
    pub cidr_ipv6: Option<String>,
    /// The other group of a group-to-group rule.
    pub peer_group_id: Option<String>,
    pub description: Option<String>,
}

/// A security group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    pub vpc_id: String,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    pub tags: BTreeMap<String, String>,
}

/// Everything EC2 keeps for the sandbox's stacks, by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ec2State {
    pub vpcs: BTreeMap<String, Vpc>,
    pub subnets: BTreeMap<String, Subnet>,
    pub internet_gateways: BTreeMap<String, InternetGateway>,
    pub addresses: BTreeMap<String, Address>,
    pub nat_gateways: BTreeMap<String, NatGateway>,
    pub route_tables: BTreeMap<String, RouteTable>,
    pub security_groups: BTreeMap<String, SecurityGroup>,
}

impl Ec2State {
    /// Nothing left.
    pub fn is_empty(&self) -> bool {
        self.vpcs.is_empty()
            && self.subnets.is_empty()
            && self.internet_gateways.is_empty()
            && self.addresses.is_empty()
            && self.nat_gateways.is_empty()
            && self.route_tables.is_empty()
            && self.security_groups.is_empty()
    }

    /// The VPC `id`, or EC2's `InvalidVpcID.NotFound`.
    pub fn vpc(&self, id: &str) -> Result<&Vpc, AwsError> {
        self.vpcs.get(id).ok_or_else(|| not_found("InvalidVpcID.NotFound", "vpc", id))
    }

    /// The subnet `id`, or EC2's `InvalidSubnetID.NotFound`.
    pub fn subnet(&self, id: &str) -> Result<&Subnet, AwsError> {
        self.subnets.get(id).ok_or_else(|| not_found("InvalidSubnetID.NotFound", "subnet", id))
    }

    /// The security group `id`, or EC2's `InvalidGroup.NotFound`.
    pub fn security_group(&self, id: &str) -> Result<&SecurityGroup, AwsError> {
        self.security_groups.get(id).ok_or_else(|| {
            AwsError::sender("InvalidGroup.NotFound", format!("The security group '{id}' does not exist"))
        })
    }
}

/// `The <kind> ID '<id>' does not exist`, EC2's NotFound wording.
/// <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html>
fn not_found(code: &str, kind: &str, id: &str) -> AwsError {
    AwsError::sender(code, format!("The {kind} ID '{id}' does not exist"))
}

/// `The <kind> '<id>' has dependencies and cannot be deleted.`
fn dependency_violation(kind: &str, id: &str) -> AwsError {
    AwsError::sender("DependencyViolation", format!("The {kind} '{id}' has dependencies and cannot be deleted."))
}

fn failed(error: AwsError) -> ProvisionError {
    ProvisionError::service("Ec2", &error)
}

/// An IPv4 CIDR block as (network address, prefix length).
fn parse_cidr(text: &str) -> Option<(u32, u32)> {
    let (address, prefix) = text.split_once('/')?;
    let address: std::net::Ipv4Addr = address.parse().ok()?;
    let prefix: u32 = prefix.parse().ok()?;
    (prefix <= 32).then(|| (u32::from(address) & mask(prefix), prefix))
}

fn mask(prefix: u32) -> u32 {
    if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) }
}

fn checked_cidr(text: &str, min_prefix: u32, max_prefix: u32, code: &str) -> Result<(u32, u32), AwsError> {
    match parse_cidr(text) {
        Some((network, prefix)) if (min_prefix..=max_prefix).contains(&prefix) => Ok((network, prefix)),
        _ => Err(AwsError::sender(code, format!("The CIDR '{text}' is invalid."))),
    }
}

fn inside(inner: (u32, u32), outer: (u32, u32)) -> bool {
    inner.1 >= outer.1 && inner.0 & mask(outer.1) == outer.0
}

fn overlaps(a: (u32, u32), b: (u32, u32)) -> bool {
    inside(a, b) || inside(b, a)
}

/// An address inside `cidr` (for a NAT gateway's private IP).
fn address_in(cidr: &str) -> String {
    let (network, prefix) = parse_cidr(cidr).unwrap_or((0, 32));
    let hosts = if prefix >= 30 { 1 } else { (1u32 << (32 - prefix)) - 5 };
    let offset = 4 + u32::from_str_radix(&hex(4), 16).unwrap_or(0) % hosts.max(1);
    std::net::Ipv4Addr::from(network.wrapping_add(offset)).to_string()
}

/// An address from 203.0.113.0/24 (TEST-NET-3, RFC 5737), so a sandbox
/// Elastic IP is never a real one.
fn public_ip() -> String {
    let last = u8::from_str_radix(&hex(2), 16).unwrap_or(10).clamp(1, 254);
    format!("203.0.113.{last}")
}

/// The zone id AWS gives a region's zone (`apse2-az1` for ap-southeast-2a).
fn zone_id(zone: &str) -> String {
    let Some(letter) = zone.chars().last().filter(char::is_ascii_lowercase) else {
        return String::new();
    };
    let region = &zone[..zone.len() - 1];
    let mut parts = region.split('-');
    let (Some(area), Some(direction), Some(number)) = (parts.next(), parts.next(), parts.next()) else {
        return String::new();
    };
    let direction = direction
        .replace("north", "n")
        .replace("south", "s")
        .replace("east", "e")
        .replace("west", "w")
        .replace("central", "c");
    format!("{area}{direction}{number}-az{}", u32::from(letter) - u32::from('a') + 1)
}

fn rules(props: &Props, name: &str, peer_key: &str) -> Result<Vec<Rule>, ProvisionError> {
    let mut out = Vec::new();
    for rule in props.objects(name)? {
        out.push(rule_of(&rule, peer_key)?);
    }
    Ok(out)
}

fn rule_of(rule: &Props, peer_key: &str) -> Result<Rule, ProvisionError> {
    Ok(Rule {
        id: format!("sgr-0{}", hex(16)),
        ip_protocol: rule.required_str("IpProtocol")?,
        from_port: rule.int("FromPort")?,
        to_port: rule.int("ToPort")?,
        cidr_ip: rule.str("CidrIp")?,
        cidr_ipv6: rule.str("CidrIpv6")?,
        peer_group_id: rule.str(peer_key)?,
        description: rule.str("Description")?,
    })
}

/// EC2 allows everything out of a new group.
fn allow_all_egress() -> Rule {
    Rule {
        id: format!("sgr-0{}", hex(16)),
        ip_protocol: "-1".into(),
        from_port: None,
        to_port: None,
        cidr_ip: Some("0.0.0.0/0".into()),
        cidr_ipv6: None,
        peer_group_id: None,
        description: None,
    }
}

fn check_peers(state: &Ec2State, rules: &[Rule]) -> Result<(), ProvisionError> {
    for rule in rules {
        if let Some(peer) = &rule.peer_group_id {
            state.security_group(peer).map_err(failed)?;
        }
    }
    Ok(())
}

fn vpc_attributes(vpc: &Vpc) -> Provisioned {
    Provisioned::new(vpc.id.clone())
        .with("VpcId", vpc.id.clone())
        .with("CidrBlock", vpc.cidr_block.clone())
        .with("CidrBlockAssociations", json!([vpc.cidr_block_association_id]))
        .with("DefaultNetworkAcl", vpc.default_network_acl.clone())
        .with("DefaultSecurityGroup", vpc.default_security_group.clone())
        .with("Ipv6CidrBlocks", json!([]))
}

fn subnet_attributes(subnet: &Subnet) -> Provisioned {
    Provisioned::new(subnet.id.clone())
        .with("SubnetId", subnet.id.clone())
        .with("VpcId", subnet.vpc_id.clone())
        .with("CidrBlock", subnet.cidr_block.clone())
        .with("AvailabilityZone", subnet.availability_zone.clone())
        .with("AvailabilityZoneId", subnet.availability_zone_id.clone())
        .with("NetworkAclAssociationId", subnet.network_acl_association_id.clone())
        .with("Ipv6CidrBlocks", json!([]))
        .with("Ipv6Native", false)
        .with("OutpostArn", "")
}

fn group_attributes(group: &SecurityGroup) -> Provisioned {
    Provisioned::new(group.id.clone()).with("GroupId", group.id.clone()).with("VpcId", group.vpc_id.clone())
}

pub(super) fn create(
    state: &mut Ec2State,
    ctx: &CallContext,
    request: &ResourceRequest,
) -> Result<Provisioned, ProvisionError> {
    let props = Props::of(request);
    match request.resource_type {
        "AWS::EC2::VPC" => {
            let cidr = props.required_str("CidrBlock")?;
            // https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html: /16 to /28.
            checked_cidr(&cidr, 16, 28, "InvalidVpc.Range").map_err(failed)?;
            let vpc = Vpc {
                id: ec2_id("vpc"),
                region: ctx.region.clone(),
                cidr_block: cidr,
                cidr_block_association_id: ec2_id("vpc-cidr-assoc"),
                enable_dns_support: props.bool("EnableDnsSupport")?.unwrap_or(true),
                enable_dns_hostnames: props.bool("EnableDnsHostnames")?.unwrap_or(false),
                instance_tenancy: props.str("InstanceTenancy")?.unwrap_or_else(|| "default".into()),
                default_network_acl: ec2_id("acl"),
                default_security_group: ec2_id("sg"),
                tags: props.tags()?,
            };
            let attributes = vpc_attributes(&vpc);
            state.vpcs.insert(vpc.id.clone(), vpc);
            Ok(attributes)
        }
        "AWS::EC2::Subnet" => {
            let vpc_id = props.required_str("VpcId")?;
            let cidr = props.required_str("CidrBlock")?;
            let vpc = state.vpc(&vpc_id).map_err(failed)?;
            let block = checked_cidr(&cidr, 16, 28, "InvalidSubnet.Range").map_err(failed)?;
            let vpc_block = parse_cidr(&vpc.cidr_block).unwrap_or((0, 0));
            // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html
            if !inside(block, vpc_block) {
                return Err(failed(AwsError::sender("InvalidSubnet.Range", format!("The CIDR '{cidr}' is invalid."))));
            }
            let conflict = state
                .subnets
                .values()
                .filter(|s| s.vpc_id == vpc_id)
                .any(|s| parse_cidr(&s.cidr_block).is_some_and(|other| overlaps(block, other)));
            if conflict {
                return Err(failed(AwsError::sender(
                    "InvalidSubnet.Conflict",
                    format!("The CIDR '{cidr}' conflicts with another subnet"),
                )));
            }
            let zone = props.str("AvailabilityZone")?.unwrap_or_else(|| format!("{}a", vpc.region));
            if !zone.starts_with(vpc.region.as_str()) || zone.len() != vpc.region.len() + 1 {
                return Err(failed(AwsError::sender(
                    "InvalidParameterValue",
                    format!(
                        "Value ({zone}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: {0}a, {0}b, {0}c.",
                        vpc.region
                    ),
                )));
            }
            let subnet = Subnet {
                id: ec2_id("subnet"),
                vpc_id,
                cidr_block: cidr,
                availability_zone_id: zone_id(&zone),
                availability_zone: zone,
                map_public_ip_on_launch: props.bool("MapPublicIpOnLaunch")?.unwrap_or(false),
                network_acl_association_id: ec2_id("aclassoc"),
                tags: props.tags()?,
            };
            let attributes = subnet_attributes(&subnet);
            state.subnets.insert(subnet.id.clone(), subnet);
            Ok(attributes)
        }
        "AWS::EC2::InternetGateway" => {
            let gateway = InternetGateway { id: ec2_id("igw"), attached_vpc_id: None, tags: props.tags()? };
            let id = gateway.id.clone();
            state.internet_gateways.insert(id.clone(), gateway);
            Ok(Provisioned::new(id.clone()).with("InternetGatewayId", id))
        }
        "AWS::EC2::VPCGatewayAttachment" => {
            let vpc_id = props.required_str("VpcId")?;
            if props.get("VpnGatewayId").is_some() {
                return Err(failed(AwsError::sender(
                    "UnsupportedOperation",
                    "The Keywatch sandbox has no virtual private gateways",
                )));
            }
            let gateway_id = props.required_str("InternetGatewayId")?;
            state.vpc(&vpc_id).map_err(failed)?;
            if state.internet_gateways.values().any(|g| g.attached_vpc_id.as_deref() == Some(vpc_id.as_str())) {
                return Err(failed(AwsError::sender(
                    "Resource.AlreadyAssociated",
                    format!("Network {vpc_id} already has an internet gateway attached"),
                )));
            }
            let gateway = state.internet_gateways.get_mut(&gateway_id).ok_or_else(|| {
                failed(not_found("InvalidInternetGatewayID.NotFound", "internetGateway", &gateway_id))
            })?;
            if let Some(attached) = &gateway.attached_vpc_id {
                return Err(failed(AwsError::sender(
                    "Resource.AlreadyAssociated",
                    format!("resource {gateway_id} is already attached to network {attached}"),
                )));
            }
            gateway.attached_vpc_id = Some(vpc_id.clone());
            Ok(Provisioned::new(format!("IGW|{vpc_id}")).with("AttachmentType", "IGW"))
        }
        "AWS::EC2::EIP" => {
            let address = Address {
                allocation_id: ec2_id("eipalloc"),
                public_ip: public_ip(),
                domain: props.str("Domain")?.unwrap_or_else(|| "vpc".into()),
                associated_with: None,
                tags: props.tags()?,
            };
            // Ref is the address itself; GetAtt gives both.
            let attributes = Provisioned::new(address.public_ip.clone())
                .with("AllocationId", address.allocation_id.clone())
                .with("PublicIp", address.public_ip.clone());
            state.addresses.insert(address.allocation_id.clone(), address);
            Ok(attributes)
        }
        "AWS::EC2::NatGateway" => {
            let subnet_id = props.required_str("SubnetId")?;
            let subnet = state.subnet(&subnet_id).map_err(failed)?.clone();
            let connectivity = props.str("ConnectivityType")?.unwrap_or_else(|| "public".into());
            let allocation_id = props.str("AllocationId")?;
            if connectivity == "public" {
                let Some(allocation_id) = &allocation_id else {
                    return Err(failed(AwsError::sender(
                        "MissingParameter",
                        "The request must contain the parameter AllocationId",
                    )));
                };
                let address = state
                    .addresses
                    .get(allocation_id)
                    .ok_or_else(|| failed(not_found("InvalidAllocationID.NotFound", "allocation", allocation_id)))?;
                if address.associated_with.is_some() {
                    return Err(failed(AwsError::sender(
                        "Resource.AlreadyAssociated",
                        format!("Elastic IP address [{allocation_id}] is already associated"),
                    )));
                }
            }
            let gateway = NatGateway {
                id: ec2_id("nat"),
                vpc_id: subnet.vpc_id.clone(),
                private_ip: props.str("PrivateIpAddress")?.unwrap_or_else(|| address_in(&subnet.cidr_block)),
                subnet_id,
                allocation_id: allocation_id.clone(),
                connectivity_type: connectivity,
                tags: props.tags()?,
            };
            if let Some(address) = allocation_id.and_then(|id| state.addresses.get_mut(&id)) {
                address.associated_with = Some(gateway.id.clone());
            }
            let id = gateway.id.clone();
            state.nat_gateways.insert(id.clone(), gateway);
            Ok(Provisioned::new(id.clone()).with("NatGatewayId", id))
        }
        "AWS::EC2::RouteTable" => {
            let vpc_id = props.required_str("VpcId")?;
            let vpc = state.vpc(&vpc_id).map_err(failed)?;
            let table = RouteTable {
                id: ec2_id("rtb"),
                routes: vec![Route {
                    destination_cidr_block: vpc.cidr_block.clone(),
                    gateway_id: Some("local".into()),
                    nat_gateway_id: None,
                }],
                vpc_id,
                associations: BTreeMap::new(),
                tags: props.tags()?,
            };
            let id = table.id.clone();
            state.route_tables.insert(id.clone(), table);
            Ok(Provisioned::new(id.clone()).with("RouteTableId", id))
        }
        "AWS::EC2::Route" => {
            let table_id = props.required_str("RouteTableId")?;
            let destination = props.required_str("DestinationCidrBlock")?;
            let route = route_of(state, &props, &table_id, &destination)?;
            let table = state.route_tables.get_mut(&table_id).ok_or_else(|| failed(no_route_table(&table_id)))?;
            if table.routes.iter().any(|r| r.destination_cidr_block == destination) {
                return Err(failed(AwsError::sender(
                    "RouteAlreadyExists",
                    format!("The route identified by {destination} already exists."),
                )));
            }
            table.routes.push(route);
            Ok(Provisioned::new(format!("{table_id}|{destination}")).with("CidrBlock", destination))
        }
        "AWS::EC2::SubnetRouteTableAssociation" => {
            let table_id = props.required_str("RouteTableId")?;
            let subnet_id = props.required_str("SubnetId")?;
            let subnet = state.subnet(&subnet_id).map_err(failed)?;
            let table = state.route_tables.get(&table_id).ok_or_else(|| failed(no_route_table(&table_id)))?;
            if table.vpc_id != subnet.vpc_id {
                return Err(failed(AwsError::sender(
                    "InvalidParameterValue",
                    format!("route table {table_id} and subnet {subnet_id} belong to different networks"),
                )));
            }
            if state.route_tables.values().any(|t| t.associations.values().any(|s| *s == subnet_id)) {
                return Err(failed(AwsError::sender(
                    "Resource.AlreadyAssociated",
                    format!(
                        "the specified association for route table {table_id} conflicts with an existing association"
                    ),
                )));
            }
            let id = ec2_id("rtbassoc");
            if let Some(table) = state.route_tables.get_mut(&table_id) {
                table.associations.insert(id.clone(), subnet_id);
            }
            Ok(Provisioned::new(id.clone()).with("Id", id))
        }
        "AWS::EC2::SecurityGroup" => {
            let description = props.required_str("GroupDescription")?;
            let Some(vpc_id) = props.str("VpcId")? else {
                return Err(failed(AwsError::sender("VPCIdNotSpecified", "No default VPC for this user")));
            };
            state.vpc(&vpc_id).map_err(failed)?;
            let name = props
                .str("GroupName")?
                .unwrap_or_else(|| generated_name(request.stack_name, request.logical_id, 255, false));
            if state.security_groups.values().any(|g| g.vpc_id == vpc_id && g.name == name) {
                return Err(failed(AwsError::sender(
                    "InvalidGroup.Duplicate",
                    format!("The security group '{name}' already exists for VPC '{vpc_id}'"),
                )));
            }
            let ingress = rules(&props, "SecurityGroupIngress", "SourceSecurityGroupId")?;
            let mut egress = rules(&props, "SecurityGroupEgress", "DestinationSecurityGroupId")?;
            check_peers(state, &ingress)?;
            check_peers(state, &egress)?;
            if props.get("SecurityGroupEgress").is_none() {
                egress.push(allow_all_egress());
            }
            let group =
                SecurityGroup { id: ec2_id("sg"), name, description, vpc_id, ingress, egress, tags: props.tags()? };
            let attributes = group_attributes(&group);
            state.security_groups.insert(group.id.clone(), group);
            Ok(attributes)
        }
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => {
            let ingress = request.resource_type.ends_with("Ingress");
            let group_id = props.required_str("GroupId")?;
            state.security_group(&group_id).map_err(failed)?;
            let rule = rule_of(&props, if ingress { "SourceSecurityGroupId" } else { "DestinationSecurityGroupId" })?;
            check_peers(state, std::slice::from_ref(&rule))?;
            let id = rule.id.clone();
            if let Some(group) = state.security_groups.get_mut(&group_id) {
                if ingress { group.ingress.push(rule) } else { group.egress.push(rule) }
            }
            Ok(Provisioned::new(id.clone()).with("Id", id))
        }
        other => Err(super::unsupported(other)),
    }
}

fn no_route_table(id: &str) -> AwsError {
    not_found("InvalidRouteTableID.NotFound", "routeTable", id)
}

/// A route's target, checked: an internet gateway attached to the table's
/// VPC, or a NAT gateway in it.
fn route_of(state: &Ec2State, props: &Props, table_id: &str, destination: &str) -> Result<Route, ProvisionError> {
    let table = state.route_tables.get(table_id).ok_or_else(|| failed(no_route_table(table_id)))?;
    checked_cidr(destination, 0, 32, "InvalidParameterValue").map_err(failed)?;
    let gateway_id = props.str("GatewayId")?;
    let nat_gateway_id = props.str("NatGatewayId")?;
    match (&gateway_id, &nat_gateway_id) {
        (Some(gateway_id), None) => {
            let gateway = state
                .internet_gateways
                .get(gateway_id)
                .ok_or_else(|| failed(not_found("InvalidInternetGatewayID.NotFound", "internetGateway", gateway_id)))?;
            if gateway.attached_vpc_id.as_deref() != Some(table.vpc_id.as_str()) {
                return Err(failed(AwsError::sender(
                    "InvalidParameterValue",
                    format!("route table {table_id} and network gateway {gateway_id} belong to different networks"),
                )));
            }
        }
        (None, Some(nat_id)) => {
            let nat = state
                .nat_gateways
                .get(nat_id)
                .ok_or_else(|| failed(not_found("InvalidNatGatewayID.NotFound", "natGateway", nat_id)))?;
            if nat.vpc_id != table.vpc_id {
                return Err(failed(AwsError::sender(
                    "InvalidParameterValue",
                    format!("route table {table_id} and NAT gateway {nat_id} belong to different networks"),
                )));
            }
        }
        _ => {
            // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateRoute.html: exactly one target.
            return Err(failed(AwsError::sender(
                "InvalidParameterCombination",
                "The Keywatch sandbox routes to exactly one of GatewayId or NatGatewayId",
            )));
        }
    }
    Ok(Route { destination_cidr_block: destination.to_owned(), gateway_id, nat_gateway_id })
}

pub(super) fn update(state: &mut Ec2State, _ctx: &CallContext, change: &Change) -> Result<Provisioned, ProvisionError> {
    let props = change.props();
    let id = change.current.physical_id.clone();
    let gone = || ProvisionError::not_found(change.request.resource_type, &id);
    match change.request.resource_type {
        "AWS::EC2::VPC" => {
            let vpc = state.vpcs.get_mut(&id).ok_or_else(gone)?;
            vpc.enable_dns_support = props.bool("EnableDnsSupport")?.unwrap_or(true);
            vpc.enable_dns_hostnames = props.bool("EnableDnsHostnames")?.unwrap_or(false);
            vpc.tags = props.tags()?;
            Ok(vpc_attributes(vpc))
        }
        "AWS::EC2::Subnet" => {
            let subnet = state.subnets.get_mut(&id).ok_or_else(gone)?;
            subnet.map_public_ip_on_launch = props.bool("MapPublicIpOnLaunch")?.unwrap_or(false);
            subnet.tags = props.tags()?;
            Ok(subnet_attributes(subnet))
        }
        "AWS::EC2::InternetGateway" => {
            let gateway = state.internet_gateways.get_mut(&id).ok_or_else(gone)?;
            gateway.tags = props.tags()?;
            Ok(change.current.clone())
        }
        "AWS::EC2::EIP" => {
            let allocation = change.current.attribute("AllocationId").unwrap_or_default().to_owned();
            let address = state.addresses.get_mut(&allocation).ok_or_else(gone)?;
            address.tags = props.tags()?;
            Ok(change.current.clone())
        }
        "AWS::EC2::NatGateway" => {
            let gateway = state.nat_gateways.get_mut(&id).ok_or_else(gone)?;
            gateway.tags = props.tags()?;
            Ok(change.current.clone())
        }
        "AWS::EC2::RouteTable" => {
            let table = state.route_tables.get_mut(&id).ok_or_else(gone)?;
            table.tags = props.tags()?;
            Ok(change.current.clone())
        }
        "AWS::EC2::Route" => {
            let (table_id, destination) = id.split_once('|').ok_or_else(gone)?;
            // ReplaceRoute: the new target is checked like a new route's.
            let route = route_of(state, &props, table_id, destination)?;
            let table = state.route_tables.get_mut(table_id).ok_or_else(gone)?;
            let existing =
                table.routes.iter_mut().find(|r| r.destination_cidr_block == destination).ok_or_else(gone)?;
            *existing = route;
            Ok(change.current.clone())
        }
        "AWS::EC2::SubnetRouteTableAssociation" => Ok(change.current.clone()),
        "AWS::EC2::VPCGatewayAttachment" => Ok(change.current.clone()),
        "AWS::EC2::SecurityGroup" => {
            let ingress = rules(&props, "SecurityGroupIngress", "SourceSecurityGroupId")?;
            let mut egress = rules(&props, "SecurityGroupEgress", "DestinationSecurityGroupId")?;
            check_peers(state, &ingress)?;
            check_peers(state, &egress)?;
            if props.get("SecurityGroupEgress").is_none() {
                egress.push(allow_all_egress());
            }
            let group = state.security_groups.get_mut(&id).ok_or_else(gone)?;
            group.ingress = ingress;
            group.egress = egress;
            group.tags = props.tags()?;
            Ok(group_attributes(group))
        }
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => {
            let description = props.str("Description")?;
            for group in state.security_groups.values_mut() {
                for rule in group.ingress.iter_mut().chain(group.egress.iter_mut()).filter(|r| r.id == id) {
                    rule.description.clone_from(&description);
                }
            }
            Ok(change.current.clone())
        }
        other => Err(super::unsupported(other)),
    }
}

/// Whether a load balancer, DB subnet group, DB instance or ECS service
/// outside EC2's own store still uses subnet or security group `id`.
fn used_elsewhere(sandbox: &SandboxState, id: &str) -> bool {
    let id = id.to_owned();
    sandbox.elb.load_balancers.values().any(|lb| lb.subnets.contains(&id) || lb.security_groups.contains(&id))
        || sandbox.rds.db_subnet_groups.values().any(|group| group.subnet_ids.contains(&id))
        || sandbox.rds.db_instances.values().any(|db| db.vpc_security_groups.contains(&id))
        || sandbox.ecs.services.values().any(|s| s.subnets.contains(&id) || s.security_groups.contains(&id))
}

pub(super) fn delete(
    sandbox: &mut SandboxState,
    resource_type: &str,
    current: &Provisioned,
    _properties: &Json,
) -> Result<(), ProvisionError> {
    let id = current.physical_id.as_str();
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSubnet.html and
    // API_DeleteSecurityGroup.html: not while network interfaces (load
    // balancers, databases, tasks) are in them.
    if used_elsewhere(sandbox, id) {
        return Err(failed(match resource_type {
            "AWS::EC2::SecurityGroup" => {
                AwsError::sender("DependencyViolation", format!("resource {id} has a dependent object"))
            }
            _ => dependency_violation("subnet", id),
        }));
    }
    let state = &mut sandbox.ec2;
    let gone = || ProvisionError::not_found(resource_type, id);
    match resource_type {
        "AWS::EC2::VPC" => {
            if !state.vpcs.contains_key(id) {
                return Err(gone());
            }
            let used = state.subnets.values().any(|s| s.vpc_id == id)
                || state.route_tables.values().any(|t| t.vpc_id == id)
                || state.security_groups.values().any(|g| g.vpc_id == id)
                || state.internet_gateways.values().any(|g| g.attached_vpc_id.as_deref() == Some(id));
            if used {
                return Err(failed(dependency_violation("vpc", id)));
            }
            state.vpcs.remove(id);
        }
        "AWS::EC2::Subnet" => {
            if !state.subnets.contains_key(id) {
                return Err(gone());
            }
            if state.nat_gateways.values().any(|n| n.subnet_id == id) {
                return Err(failed(dependency_violation("subnet", id)));
            }
            state.subnets.remove(id);
            // A subnet's route table association goes with it.
            for table in state.route_tables.values_mut() {
                table.associations.retain(|_, subnet| subnet != id);
            }
        }
        "AWS::EC2::InternetGateway" => {
            let gateway = state.internet_gateways.get(id).ok_or_else(gone)?;
            if gateway.attached_vpc_id.is_some() {
                return Err(failed(dependency_violation("internetGateway", id)));
            }
            state.internet_gateways.remove(id);
        }
        "AWS::EC2::VPCGatewayAttachment" => {
            let vpc_id = id.strip_prefix("IGW|").unwrap_or(id);
            // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DetachInternetGateway.html:
            // the VPC must have no mapped public addresses (a public NAT gateway's).
            if state.nat_gateways.values().any(|n| n.vpc_id == vpc_id && n.allocation_id.is_some()) {
                return Err(failed(AwsError::sender(
                    "DependencyViolation",
                    format!(
                        "Network {vpc_id} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway."
                    ),
                )));
            }
            let gateway = state
                .internet_gateways
                .values_mut()
                .find(|g| g.attached_vpc_id.as_deref() == Some(vpc_id))
                .ok_or_else(gone)?;
            // Routes to it stay, as blackholes, as in EC2.
            gateway.attached_vpc_id = None;
        }
        "AWS::EC2::EIP" => {
            let allocation = current.attribute("AllocationId").unwrap_or_default();
            let address = state.addresses.get(allocation).ok_or_else(gone)?;
            if let Some(user) = &address.associated_with {
                return Err(failed(AwsError::sender(
                    "InvalidIPAddress.InUse",
                    format!("Address {} is in use by {user}.", address.public_ip),
                )));
            }
            state.addresses.remove(allocation);
        }
        "AWS::EC2::NatGateway" => {
            let gateway = state.nat_gateways.remove(id).ok_or_else(gone)?;
            if let Some(address) = gateway.allocation_id.and_then(|a| state.addresses.get_mut(&a)) {
                address.associated_with = None;
            }
            // Routes through it become blackholes, as in EC2.
        }
        "AWS::EC2::RouteTable" => {
            let table = state.route_tables.get(id).ok_or_else(gone)?;
            let extra_routes = table.routes.iter().any(|r| r.gateway_id.as_deref() != Some("local"));
            if !table.associations.is_empty() || extra_routes {
                return Err(failed(dependency_violation("routeTable", id)));
            }
            state.route_tables.remove(id);
        }
        "AWS::EC2::Route" => {
            let (table_id, destination) = id.split_once('|').ok_or_else(gone)?;
            let table = state.route_tables.get_mut(table_id).ok_or_else(gone)?;
            let before = table.routes.len();
            table.routes.retain(|r| r.destination_cidr_block != destination);
            if table.routes.len() == before {
                return Err(gone());
            }
        }
        "AWS::EC2::SubnetRouteTableAssociation" => {
            let table = state.route_tables.values_mut().find(|t| t.associations.contains_key(id)).ok_or_else(gone)?;
            table.associations.remove(id);
        }
        "AWS::EC2::SecurityGroup" => {
            if !state.security_groups.contains_key(id) {
                return Err(gone());
            }
            let referenced = state
                .security_groups
                .values()
                .filter(|g| g.id != id)
                .flat_map(|g| g.ingress.iter().chain(&g.egress))
                .any(|rule| rule.peer_group_id.as_deref() == Some(id));
            if referenced {
                return Err(failed(AwsError::sender(
                    "DependencyViolation",
                    format!("resource {id} has a dependent object"),
                )));
            }
            state.security_groups.remove(id);
        }
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => {
            let mut found = false;
            for group in state.security_groups.values_mut() {
                let before = group.ingress.len() + group.egress.len();
                group.ingress.retain(|r| r.id != id);
                group.egress.retain(|r| r.id != id);
                found |= group.ingress.len() + group.egress.len() != before;
            }
            if !found {
                return Err(gone());
            }
        }
        other => return Err(super::unsupported(other)),
    }
    Ok(())
}
