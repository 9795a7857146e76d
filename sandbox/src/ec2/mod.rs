//! Amazon EC2's networking, as far as the lab's stacks use it: VPCs,
//! subnets, internet gateways and their attachments, Elastic IPs, NAT
//! gateways, route tables with their routes and associations, security
//! groups and their rules.
//!
//! This module owns EC2's state and the rules EC2 itself enforces on it,
//! with EC2's id shapes and error codes: referenced ids exist, subnet CIDRs
//! sit inside their VPC and do not overlap, and nothing is deleted while
//! something in EC2 depends on it. No EC2 API is served: CloudFormation's
//! provisioner makes these resources from template properties, and checks
//! what other services (load balancers, databases, ECS tasks) still use.
//! <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html>

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::random;

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

    /// The route table `id`, or EC2's `InvalidRouteTableID.NotFound`.
    pub fn route_table(&self, id: &str) -> Result<&RouteTable, AwsError> {
        self.route_tables.get(id).ok_or_else(|| no_route_table(id))
    }

    /// Adds a VPC.
    pub fn add_vpc(&mut self, vpc: Vpc) {
        self.vpcs.insert(vpc.id.clone(), vpc);
    }

    /// Checks a new subnet of VPC `vpc_id`: its CIDR is /16 to /28, inside
    /// the VPC's and overlapping none of the VPC's other subnets. Returns
    /// the VPC.
    /// <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html>
    pub fn check_subnet(&self, vpc_id: &str, cidr: &str) -> Result<&Vpc, AwsError> {
        let vpc = self.vpc(vpc_id)?;
        let block = checked_cidr(cidr, 16, 28, "InvalidSubnet.Range")?;
        let vpc_block = parse_cidr(&vpc.cidr_block).unwrap_or((0, 0));
        if !inside(block, vpc_block) {
            return Err(AwsError::sender("InvalidSubnet.Range", format!("The CIDR '{cidr}' is invalid.")));
        }
        let conflict = self
            .subnets
            .values()
            .filter(|s| s.vpc_id == vpc_id)
            .any(|s| parse_cidr(&s.cidr_block).is_some_and(|other| overlaps(block, other)));
        if conflict {
            return Err(AwsError::sender(
                "InvalidSubnet.Conflict",
                format!("The CIDR '{cidr}' conflicts with another subnet"),
            ));
        }
        Ok(vpc)
    }

    /// Adds a subnet ([`Ec2State::check_subnet`] checked it).
    pub fn add_subnet(&mut self, subnet: Subnet) {
        self.subnets.insert(subnet.id.clone(), subnet);
    }

    /// Adds an internet gateway, detached.
    pub fn add_internet_gateway(&mut self, gateway: InternetGateway) {
        self.internet_gateways.insert(gateway.id.clone(), gateway);
    }

    /// AttachInternetGateway: a VPC has at most one internet gateway, and a
    /// gateway is attached to at most one VPC.
    /// <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AttachInternetGateway.html>
    pub fn attach_internet_gateway(&mut self, gateway_id: &str, vpc_id: &str) -> Result<(), AwsError> {
        self.vpc(vpc_id)?;
        if self.internet_gateways.values().any(|g| g.attached_vpc_id.as_deref() == Some(vpc_id)) {
            return Err(AwsError::sender(
                "Resource.AlreadyAssociated",
                format!("Network {vpc_id} already has an internet gateway attached"),
            ));
        }
        let gateway = self
            .internet_gateways
            .get_mut(gateway_id)
            .ok_or_else(|| not_found("InvalidInternetGatewayID.NotFound", "internetGateway", gateway_id))?;
        if let Some(attached) = &gateway.attached_vpc_id {
            return Err(AwsError::sender(
                "Resource.AlreadyAssociated",
                format!("resource {gateway_id} is already attached to network {attached}"),
            ));
        }
        gateway.attached_vpc_id = Some(vpc_id.to_owned());
        Ok(())
    }

    /// Adds an Elastic IP address, unassociated.
    pub fn add_address(&mut self, address: Address) {
        self.addresses.insert(address.allocation_id.clone(), address);
    }

    /// Checks the Elastic IP of a new NAT gateway: a public one needs an
    /// allocation that exists and is not associated yet.
    /// <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNatGateway.html>
    pub fn check_nat_address(&self, connectivity_type: &str, allocation_id: Option<&str>) -> Result<(), AwsError> {
        if connectivity_type != "public" {
            return Ok(());
        }
        let Some(allocation_id) = allocation_id else {
            return Err(AwsError::sender("MissingParameter", "The request must contain the parameter AllocationId"));
        };
        let address = self
            .addresses
            .get(allocation_id)
            .ok_or_else(|| not_found("InvalidAllocationID.NotFound", "allocation", allocation_id))?;
        if address.associated_with.is_some() {
            return Err(AwsError::sender(
                "Resource.AlreadyAssociated",
                format!("Elastic IP address [{allocation_id}] is already associated"),
            ));
        }
        Ok(())
    }

    /// Adds a NAT gateway ([`Ec2State::check_nat_address`] checked its
    /// address), which its Elastic IP is then associated with.
    pub fn add_nat_gateway(&mut self, gateway: NatGateway) {
        if let Some(address) = gateway.allocation_id.as_ref().and_then(|id| self.addresses.get_mut(id)) {
            address.associated_with = Some(gateway.id.clone());
        }
        self.nat_gateways.insert(gateway.id.clone(), gateway);
    }

    /// Adds a route table.
    pub fn add_route_table(&mut self, table: RouteTable) {
        self.route_tables.insert(table.id.clone(), table);
    }

    /// A route of table `table_id` to `destination` through exactly one
    /// target, checked: an internet gateway attached to the table's VPC, or
    /// a NAT gateway in it.
    /// <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateRoute.html>
    pub fn route(
        &self,
        table_id: &str,
        destination: &str,
        gateway_id: Option<String>,
        nat_gateway_id: Option<String>,
    ) -> Result<Route, AwsError> {
        let table = self.route_table(table_id)?;
        match (&gateway_id, &nat_gateway_id) {
            (Some(gateway_id), None) => {
                let gateway = self
                    .internet_gateways
                    .get(gateway_id)
                    .ok_or_else(|| not_found("InvalidInternetGatewayID.NotFound", "internetGateway", gateway_id))?;
                if gateway.attached_vpc_id.as_deref() != Some(table.vpc_id.as_str()) {
                    return Err(AwsError::sender(
                        "InvalidParameterValue",
                        format!("route table {table_id} and network gateway {gateway_id} belong to different networks"),
                    ));
                }
            }
            (None, Some(nat_id)) => {
                let nat = self
                    .nat_gateways
                    .get(nat_id)
                    .ok_or_else(|| not_found("InvalidNatGatewayID.NotFound", "natGateway", nat_id))?;
                if nat.vpc_id != table.vpc_id {
                    return Err(AwsError::sender(
                        "InvalidParameterValue",
                        format!("route table {table_id} and NAT gateway {nat_id} belong to different networks"),
                    ));
                }
            }
            _ => {
                // Exactly one target, as CreateRoute takes.
                return Err(AwsError::sender(
                    "InvalidParameterCombination",
                    "The Keywatch sandbox routes to exactly one of GatewayId or NatGatewayId",
                ));
            }
        }
        Ok(Route { destination_cidr_block: destination.to_owned(), gateway_id, nat_gateway_id })
    }

    /// CreateRoute: adds `route` ([`Ec2State::route`]) to table `table_id`,
    /// which must not route its destination yet.
    pub fn add_route(&mut self, table_id: &str, route: Route) -> Result<(), AwsError> {
        let table = self.route_tables.get_mut(table_id).ok_or_else(|| no_route_table(table_id))?;
        if table.routes.iter().any(|r| r.destination_cidr_block == route.destination_cidr_block) {
            return Err(AwsError::sender(
                "RouteAlreadyExists",
                format!("The route identified by {} already exists.", route.destination_cidr_block),
            ));
        }
        table.routes.push(route);
        Ok(())
    }

    /// ReplaceRoute: the route of table `table_id` to `route`'s destination
    /// becomes `route`; the one replaced is returned, `None` if there was none.
    pub fn replace_route(&mut self, table_id: &str, route: Route) -> Option<Route> {
        let table = self.route_tables.get_mut(table_id)?;
        let existing = table.routes.iter_mut().find(|r| r.destination_cidr_block == route.destination_cidr_block)?;
        Some(std::mem::replace(existing, route))
    }

    /// AssociateRouteTable: subnet `subnet_id` gets its routes from table
    /// `table_id` of the same VPC; a subnet has at most one association.
    /// Returns the association id.
    /// <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateRouteTable.html>
    pub fn associate_route_table(&mut self, table_id: &str, subnet_id: String) -> Result<String, AwsError> {
        let subnet = self.subnet(&subnet_id)?;
        let table = self.route_table(table_id)?;
        if table.vpc_id != subnet.vpc_id {
            return Err(AwsError::sender(
                "InvalidParameterValue",
                format!("route table {table_id} and subnet {subnet_id} belong to different networks"),
            ));
        }
        if self.route_tables.values().any(|t| t.associations.values().any(|s| *s == subnet_id)) {
            return Err(AwsError::sender(
                "Resource.AlreadyAssociated",
                format!("the specified association for route table {table_id} conflicts with an existing association"),
            ));
        }
        let id = ec2_id("rtbassoc");
        if let Some(table) = self.route_tables.get_mut(table_id) {
            table.associations.insert(id.clone(), subnet_id);
        }
        Ok(id)
    }

    /// Security group names are unique within a VPC.
    pub fn check_group_name(&self, vpc_id: &str, name: &str) -> Result<(), AwsError> {
        if self.security_groups.values().any(|g| g.vpc_id == vpc_id && g.name == name) {
            return Err(AwsError::sender(
                "InvalidGroup.Duplicate",
                format!("The security group '{name}' already exists for VPC '{vpc_id}'"),
            ));
        }
        Ok(())
    }

    /// The groups that `rules` allow traffic from or to exist.
    pub fn check_peers(&self, rules: &[Rule]) -> Result<(), AwsError> {
        for rule in rules {
            if let Some(peer) = &rule.peer_group_id {
                self.security_group(peer)?;
            }
        }
        Ok(())
    }

    /// Adds a security group ([`Ec2State::check_group_name`] and
    /// [`Ec2State::check_peers`] checked it).
    pub fn add_security_group(&mut self, group: SecurityGroup) {
        self.security_groups.insert(group.id.clone(), group);
    }

    /// AuthorizeSecurityGroupIngress (or Egress): adds `rule` to group
    /// `group_id`, once the group it names as peer is found.
    pub fn add_rule(&mut self, group_id: &str, ingress: bool, rule: Rule) -> Result<(), AwsError> {
        self.check_peers(std::slice::from_ref(&rule))?;
        if let Some(group) = self.security_groups.get_mut(group_id) {
            if ingress { group.ingress.push(rule) } else { group.egress.push(rule) }
        }
        Ok(())
    }

    /// Sets the description of the rule `rule_id`, in whichever group holds it.
    pub fn set_rule_description(&mut self, rule_id: &str, description: Option<String>) {
        for group in self.security_groups.values_mut() {
            for rule in group.ingress.iter_mut().chain(group.egress.iter_mut()).filter(|r| r.id == rule_id) {
                rule.description.clone_from(&description);
            }
        }
    }

    /// DeleteVpc: refused while subnets, route tables, security groups or
    /// an internet gateway are in it. `Ok(false)` when there is no such VPC.
    pub fn delete_vpc(&mut self, id: &str) -> Result<bool, AwsError> {
        if !self.vpcs.contains_key(id) {
            return Ok(false);
        }
        let used = self.subnets.values().any(|s| s.vpc_id == id)
            || self.route_tables.values().any(|t| t.vpc_id == id)
            || self.security_groups.values().any(|g| g.vpc_id == id)
            || self.internet_gateways.values().any(|g| g.attached_vpc_id.as_deref() == Some(id));
        if used {
            return Err(dependency_violation("vpc", id));
        }
        self.vpcs.remove(id);
        Ok(true)
    }

    /// DeleteSubnet: refused while a NAT gateway is in it; its route table
    /// association goes with it. `Ok(false)` when there is no such subnet.
    pub fn delete_subnet(&mut self, id: &str) -> Result<bool, AwsError> {
        if !self.subnets.contains_key(id) {
            return Ok(false);
        }
        if self.nat_gateways.values().any(|n| n.subnet_id == id) {
            return Err(dependency_violation("subnet", id));
        }
        self.subnets.remove(id);
        for table in self.route_tables.values_mut() {
            table.associations.retain(|_, subnet| subnet != id);
        }
        Ok(true)
    }

    /// DeleteInternetGateway: refused while attached. `Ok(false)` when
    /// there is no such gateway.
    pub fn delete_internet_gateway(&mut self, id: &str) -> Result<bool, AwsError> {
        let Some(gateway) = self.internet_gateways.get(id) else {
            return Ok(false);
        };
        if gateway.attached_vpc_id.is_some() {
            return Err(dependency_violation("internetGateway", id));
        }
        self.internet_gateways.remove(id);
        Ok(true)
    }

    /// DetachInternetGateway: detaches VPC `vpc_id`'s gateway, refused while
    /// the VPC has mapped public addresses (a public NAT gateway's). Routes
    /// to the gateway stay, as blackholes, as in EC2. `Ok(false)` when no
    /// gateway is attached to the VPC.
    /// <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DetachInternetGateway.html>
    pub fn detach_internet_gateway(&mut self, vpc_id: &str) -> Result<bool, AwsError> {
        if self.nat_gateways.values().any(|n| n.vpc_id == vpc_id && n.allocation_id.is_some()) {
            return Err(AwsError::sender(
                "DependencyViolation",
                format!(
                    "Network {vpc_id} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway."
                ),
            ));
        }
        let Some(gateway) = self.internet_gateways.values_mut().find(|g| g.attached_vpc_id.as_deref() == Some(vpc_id))
        else {
            return Ok(false);
        };
        gateway.attached_vpc_id = None;
        Ok(true)
    }

    /// ReleaseAddress: refused while a NAT gateway uses the address.
    /// `Ok(false)` when there is no such allocation.
    pub fn release_address(&mut self, allocation_id: &str) -> Result<bool, AwsError> {
        let Some(address) = self.addresses.get(allocation_id) else {
            return Ok(false);
        };
        if let Some(user) = &address.associated_with {
            return Err(AwsError::sender(
                "InvalidIPAddress.InUse",
                format!("Address {} is in use by {user}.", address.public_ip),
            ));
        }
        self.addresses.remove(allocation_id);
        Ok(true)
    }

    /// DeleteNatGateway: its Elastic IP is disassociated; routes through it
    /// become blackholes, as in EC2. `false` when there is no such gateway.
    pub fn delete_nat_gateway(&mut self, id: &str) -> bool {
        let Some(gateway) = self.nat_gateways.remove(id) else {
            return false;
        };
        if let Some(address) = gateway.allocation_id.and_then(|a| self.addresses.get_mut(&a)) {
            address.associated_with = None;
        }
        true
    }

    /// DeleteRouteTable: refused while it has subnet associations or routes
    /// besides the local one. `Ok(false)` when there is no such table.
    pub fn delete_route_table(&mut self, id: &str) -> Result<bool, AwsError> {
        let Some(table) = self.route_tables.get(id) else {
            return Ok(false);
        };
        let extra_routes = table.routes.iter().any(|r| r.gateway_id.as_deref() != Some("local"));
        if !table.associations.is_empty() || extra_routes {
            return Err(dependency_violation("routeTable", id));
        }
        self.route_tables.remove(id);
        Ok(true)
    }

    /// DeleteRoute. `false` when table `table_id` has no route to `destination`.
    pub fn delete_route(&mut self, table_id: &str, destination: &str) -> bool {
        let Some(table) = self.route_tables.get_mut(table_id) else {
            return false;
        };
        let before = table.routes.len();
        table.routes.retain(|r| r.destination_cidr_block != destination);
        table.routes.len() != before
    }

    /// DisassociateRouteTable. `false` when there is no such association.
    pub fn disassociate_route_table(&mut self, association_id: &str) -> bool {
        match self.route_tables.values_mut().find(|t| t.associations.contains_key(association_id)) {
            Some(table) => table.associations.remove(association_id).is_some(),
            None => false,
        }
    }

    /// DeleteSecurityGroup: refused while another group's rules name it.
    /// `Ok(false)` when there is no such group.
    pub fn delete_security_group(&mut self, id: &str) -> Result<bool, AwsError> {
        if !self.security_groups.contains_key(id) {
            return Ok(false);
        }
        let referenced = self
            .security_groups
            .values()
            .filter(|g| g.id != id)
            .flat_map(|g| g.ingress.iter().chain(&g.egress))
            .any(|rule| rule.peer_group_id.as_deref() == Some(id));
        if referenced {
            return Err(dependent_object(id));
        }
        self.security_groups.remove(id);
        Ok(true)
    }

    /// RevokeSecurityGroupIngress (or Egress) of the rule `rule_id`, in
    /// whichever group holds it. `false` when no group has it.
    pub fn revoke_rule(&mut self, rule_id: &str) -> bool {
        let mut found = false;
        for group in self.security_groups.values_mut() {
            let before = group.ingress.len() + group.egress.len();
            group.ingress.retain(|r| r.id != rule_id);
            group.egress.retain(|r| r.id != rule_id);
            found |= group.ingress.len() + group.egress.len() != before;
        }
        found
    }
}

/// An EC2 resource id: `<prefix>-0` and 16 more hex digits (17 in all), as
/// EC2's long ids are shaped (`vpc-0a1b2c3d4e5f67890`).
pub fn ec2_id(prefix: &str) -> String {
    format!("{prefix}-0{}", random::hex(16))
}

/// `The <kind> ID '<id>' does not exist`, EC2's NotFound wording.
/// <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html>
fn not_found(code: &str, kind: &str, id: &str) -> AwsError {
    AwsError::sender(code, format!("The {kind} ID '{id}' does not exist"))
}

fn no_route_table(id: &str) -> AwsError {
    not_found("InvalidRouteTableID.NotFound", "routeTable", id)
}

/// `The <kind> '<id>' has dependencies and cannot be deleted.`
pub fn dependency_violation(kind: &str, id: &str) -> AwsError {
    AwsError::sender("DependencyViolation", format!("The {kind} '{id}' has dependencies and cannot be deleted."))
}

/// The `DependencyViolation` of a security group something still uses.
/// <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html>
pub fn dependent_object(id: &str) -> AwsError {
    AwsError::sender("DependencyViolation", format!("resource {id} has a dependent object"))
}

/// A security group needs a VPC, and the sandbox has no default one.
pub fn no_default_vpc() -> AwsError {
    AwsError::sender("VPCIdNotSpecified", "No default VPC for this user")
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

/// A VPC's CIDR: /16 to /28.
/// <https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html>
pub fn check_vpc_cidr(cidr: &str) -> Result<(), AwsError> {
    checked_cidr(cidr, 16, 28, "InvalidVpc.Range").map(|_| ())
}

/// A route's destination: any IPv4 CIDR.
pub fn check_route_destination(destination: &str) -> Result<(), AwsError> {
    checked_cidr(destination, 0, 32, "InvalidParameterValue").map(|_| ())
}

/// A subnet's zone must be one of its VPC's region.
pub fn check_zone(zone: &str, region: &str) -> Result<(), AwsError> {
    if !zone.starts_with(region) || zone.len() != region.len() + 1 {
        return Err(AwsError::sender(
            "InvalidParameterValue",
            format!(
                "Value ({zone}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: {region}a, {region}b, {region}c."
            ),
        ));
    }
    Ok(())
}

/// An address inside `cidr` (for a NAT gateway's private IP).
pub fn address_in(cidr: &str) -> String {
    let (network, prefix) = parse_cidr(cidr).unwrap_or((0, 32));
    let hosts = if prefix >= 30 { 1 } else { (1u32 << (32 - prefix)) - 5 };
    let offset = 4 + u32::from_str_radix(&random::hex(4), 16).unwrap_or(0) % hosts.max(1);
    std::net::Ipv4Addr::from(network.wrapping_add(offset)).to_string()
}

/// An address from 203.0.113.0/24 (TEST-NET-3, RFC 5737), so a sandbox
/// Elastic IP is never a real one.
pub fn public_ip() -> String {
    let last = u8::from_str_radix(&random::hex(2), 16).unwrap_or(10).clamp(1, 254);
    format!("203.0.113.{last}")
}

/// The zone id AWS gives a region's zone (`apse2-az1` for ap-southeast-2a).
pub fn zone_id(zone: &str) -> String {
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

/// A security group rule's id (`sgr-...`).
pub fn rule_id() -> String {
    format!("sgr-0{}", random::hex(16))
}

/// The rule a new group gets when no egress is given: EC2 allows
/// everything out.
pub fn allow_all_egress() -> Rule {
    Rule {
        id: rule_id(),
        ip_protocol: "-1".into(),
        from_port: None,
        to_port: None,
        cidr_ip: Some("0.0.0.0/0".into()),
        cidr_ipv6: None,
        peer_group_id: None,
        description: None,
    }
}

/// Every route table routes its VPC's own CIDR locally.
pub fn local_route(vpc: &Vpc) -> Route {
    Route { destination_cidr_block: vpc.cidr_block.clone(), gateway_id: Some("local".into()), nat_gateway_id: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_ids_have_seventeen_hex_digits() {
        let id = ec2_id("vpc");
        assert_eq!(id.len(), "vpc-".len() + 17);
        assert!(id.starts_with("vpc-0"));
    }
}
