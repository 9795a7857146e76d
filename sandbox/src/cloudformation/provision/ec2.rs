//! The EC2 networking resources of the lab's base and application stacks
//! (VPC, subnets, internet gateway and its attachment, Elastic IP, NAT
//! gateway, route tables, routes and associations, security groups and
//! their rules), made in the sandbox's EC2 state ([`crate::ec2`]), which
//! checks what EC2 checks. Deleting a subnet or security group is refused
//! here while another service's resource (a load balancer, database or ECS
//! service) still uses it: only the provisioner sees every service.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Create, Delete, Props, ProvisionError, Provisioned, ResourceType, Update, generated_name};
use crate::ec2::{
    self, Address, Ec2State, InternetGateway, NatGateway, Route, RouteTable, Rule, SecurityGroup, Subnet, Vpc, ec2_id,
};
use crate::error::AwsError;
use crate::state::SandboxState;

fn failed(error: AwsError) -> ProvisionError {
    ProvisionError::service("Ec2", &error)
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
        id: ec2::rule_id(),
        ip_protocol: rule.required_str("IpProtocol")?,
        from_port: rule.int("FromPort")?,
        to_port: rule.int("ToPort")?,
        cidr_ip: rule.str("CidrIp")?,
        cidr_ipv6: rule.str("CidrIpv6")?,
        peer_group_id: rule.str(peer_key)?,
        description: rule.str("Description")?,
    })
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

/// The types share one function per operation, matching on the type inside.
pub(super) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType { name: "AWS::EC2::VPC", create, update, delete },
    ResourceType { name: "AWS::EC2::Subnet", create, update, delete },
    ResourceType { name: "AWS::EC2::InternetGateway", create, update, delete },
    ResourceType { name: "AWS::EC2::VPCGatewayAttachment", create, update, delete },
    ResourceType { name: "AWS::EC2::EIP", create, update, delete },
    ResourceType { name: "AWS::EC2::NatGateway", create, update, delete },
    ResourceType { name: "AWS::EC2::RouteTable", create, update, delete },
    ResourceType { name: "AWS::EC2::Route", create, update, delete },
    ResourceType { name: "AWS::EC2::SubnetRouteTableAssociation", create, update, delete },
    ResourceType { name: "AWS::EC2::SecurityGroup", create, update, delete },
    ResourceType { name: "AWS::EC2::SecurityGroupIngress", create, update, delete },
    ResourceType { name: "AWS::EC2::SecurityGroupEgress", create, update, delete },
];

fn create(Create { state: sandbox, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let state = &mut sandbox.ec2;
    match request.resource_type {
        "AWS::EC2::VPC" => {
            let cidr = props.required_str("CidrBlock")?;
            ec2::check_vpc_cidr(&cidr).map_err(failed)?;
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
            state.add_vpc(vpc);
            Ok(attributes)
        }
        "AWS::EC2::Subnet" => {
            let vpc_id = props.required_str("VpcId")?;
            let cidr = props.required_str("CidrBlock")?;
            let region = state.check_subnet(&vpc_id, &cidr).map_err(failed)?.region.clone();
            let zone = props.str("AvailabilityZone")?.unwrap_or_else(|| format!("{region}a"));
            ec2::check_zone(&zone, &region).map_err(failed)?;
            let subnet = Subnet {
                id: ec2_id("subnet"),
                vpc_id,
                cidr_block: cidr,
                availability_zone_id: ec2::zone_id(&zone),
                availability_zone: zone,
                map_public_ip_on_launch: props.bool("MapPublicIpOnLaunch")?.unwrap_or(false),
                network_acl_association_id: ec2_id("aclassoc"),
                tags: props.tags()?,
            };
            let attributes = subnet_attributes(&subnet);
            state.add_subnet(subnet);
            Ok(attributes)
        }
        "AWS::EC2::InternetGateway" => {
            let gateway = InternetGateway { id: ec2_id("igw"), attached_vpc_id: None, tags: props.tags()? };
            let id = gateway.id.clone();
            state.add_internet_gateway(gateway);
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
            state.attach_internet_gateway(&gateway_id, &vpc_id).map_err(failed)?;
            Ok(Provisioned::new(format!("IGW|{vpc_id}")).with("AttachmentType", "IGW"))
        }
        "AWS::EC2::EIP" => {
            let address = Address {
                allocation_id: ec2_id("eipalloc"),
                public_ip: ec2::public_ip(),
                domain: props.str("Domain")?.unwrap_or_else(|| "vpc".into()),
                associated_with: None,
                tags: props.tags()?,
            };
            // Ref is the address itself; GetAtt gives both.
            let attributes = Provisioned::new(address.public_ip.clone())
                .with("AllocationId", address.allocation_id.clone())
                .with("PublicIp", address.public_ip.clone());
            state.add_address(address);
            Ok(attributes)
        }
        "AWS::EC2::NatGateway" => {
            let subnet_id = props.required_str("SubnetId")?;
            let subnet = state.subnet(&subnet_id).map_err(failed)?.clone();
            let connectivity = props.str("ConnectivityType")?.unwrap_or_else(|| "public".into());
            let allocation_id = props.str("AllocationId")?;
            state.check_nat_address(&connectivity, allocation_id.as_deref()).map_err(failed)?;
            let gateway = NatGateway {
                id: ec2_id("nat"),
                vpc_id: subnet.vpc_id.clone(),
                private_ip: props.str("PrivateIpAddress")?.unwrap_or_else(|| ec2::address_in(&subnet.cidr_block)),
                subnet_id,
                allocation_id,
                connectivity_type: connectivity,
                tags: props.tags()?,
            };
            let id = gateway.id.clone();
            state.add_nat_gateway(gateway);
            Ok(Provisioned::new(id.clone()).with("NatGatewayId", id))
        }
        "AWS::EC2::RouteTable" => {
            let vpc_id = props.required_str("VpcId")?;
            let vpc = state.vpc(&vpc_id).map_err(failed)?;
            let table = RouteTable {
                id: ec2_id("rtb"),
                routes: vec![ec2::local_route(vpc)],
                vpc_id,
                associations: BTreeMap::new(),
                tags: props.tags()?,
            };
            let id = table.id.clone();
            state.add_route_table(table);
            Ok(Provisioned::new(id.clone()).with("RouteTableId", id))
        }
        "AWS::EC2::Route" => {
            let table_id = props.required_str("RouteTableId")?;
            let destination = props.required_str("DestinationCidrBlock")?;
            let route = route_of(state, props, &table_id, &destination)?;
            state.add_route(&table_id, route).map_err(failed)?;
            Ok(Provisioned::new(format!("{table_id}|{destination}")).with("CidrBlock", destination))
        }
        "AWS::EC2::SubnetRouteTableAssociation" => {
            let table_id = props.required_str("RouteTableId")?;
            let subnet_id = props.required_str("SubnetId")?;
            let id = state.associate_route_table(&table_id, subnet_id).map_err(failed)?;
            Ok(Provisioned::new(id.clone()).with("Id", id))
        }
        "AWS::EC2::SecurityGroup" => {
            let description = props.required_str("GroupDescription")?;
            let Some(vpc_id) = props.str("VpcId")? else {
                return Err(failed(ec2::no_default_vpc()));
            };
            state.vpc(&vpc_id).map_err(failed)?;
            let name = props
                .str("GroupName")?
                .unwrap_or_else(|| generated_name(request.stack_name, request.logical_id, 255, false));
            state.check_group_name(&vpc_id, &name).map_err(failed)?;
            let ingress = rules(props, "SecurityGroupIngress", "SourceSecurityGroupId")?;
            let mut egress = rules(props, "SecurityGroupEgress", "DestinationSecurityGroupId")?;
            state.check_peers(&ingress).map_err(failed)?;
            state.check_peers(&egress).map_err(failed)?;
            if props.get("SecurityGroupEgress").is_none() {
                egress.push(ec2::allow_all_egress());
            }
            let group =
                SecurityGroup { id: ec2_id("sg"), name, description, vpc_id, ingress, egress, tags: props.tags()? };
            let attributes = group_attributes(&group);
            state.add_security_group(group);
            Ok(attributes)
        }
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => {
            let ingress = request.resource_type.ends_with("Ingress");
            let group_id = props.required_str("GroupId")?;
            state.security_group(&group_id).map_err(failed)?;
            let rule = rule_of(props, if ingress { "SourceSecurityGroupId" } else { "DestinationSecurityGroupId" })?;
            let id = rule.id.clone();
            state.add_rule(&group_id, ingress, rule).map_err(failed)?;
            Ok(Provisioned::new(id.clone()).with("Id", id))
        }
        other => Err(super::unsupported(other)),
    }
}

/// A route's target, read from the properties once the table and the
/// destination are known good, and checked by EC2.
fn route_of(state: &Ec2State, props: &Props, table_id: &str, destination: &str) -> Result<Route, ProvisionError> {
    state.route_table(table_id).map_err(failed)?;
    ec2::check_route_destination(destination).map_err(failed)?;
    let gateway_id = props.str("GatewayId")?;
    let nat_gateway_id = props.str("NatGatewayId")?;
    state.route(table_id, destination, gateway_id, nat_gateway_id).map_err(failed)
}

fn update(Update { state: sandbox, change, props, .. }: Update) -> Result<Provisioned, ProvisionError> {
    let state = &mut sandbox.ec2;
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
            let route = route_of(state, props, table_id, destination)?;
            state.replace_route(table_id, route).ok_or_else(gone)?;
            Ok(change.current.clone())
        }
        "AWS::EC2::SubnetRouteTableAssociation" => Ok(change.current.clone()),
        "AWS::EC2::VPCGatewayAttachment" => Ok(change.current.clone()),
        "AWS::EC2::SecurityGroup" => {
            let ingress = rules(props, "SecurityGroupIngress", "SourceSecurityGroupId")?;
            let mut egress = rules(props, "SecurityGroupEgress", "DestinationSecurityGroupId")?;
            state.check_peers(&ingress).map_err(failed)?;
            state.check_peers(&egress).map_err(failed)?;
            if props.get("SecurityGroupEgress").is_none() {
                egress.push(ec2::allow_all_egress());
            }
            let group = state.security_groups.get_mut(&id).ok_or_else(gone)?;
            group.ingress = ingress;
            group.egress = egress;
            group.tags = props.tags()?;
            Ok(group_attributes(group))
        }
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => {
            let description = props.str("Description")?;
            state.set_rule_description(&id, description);
            Ok(change.current.clone())
        }
        other => Err(super::unsupported(other)),
    }
}

/// Whether a load balancer, DB subnet group, DB instance or ECS service
/// outside EC2's own state still uses subnet or security group `id`.
fn used_elsewhere(sandbox: &SandboxState, id: &str) -> bool {
    let id = id.to_owned();
    sandbox.elb.load_balancers.values().any(|lb| lb.subnets.contains(&id) || lb.security_groups.contains(&id))
        || sandbox.rds.db_subnet_groups.values().any(|group| group.subnet_ids.contains(&id))
        || sandbox.rds.db_instances.values().any(|db| db.vpc_security_groups.contains(&id))
        || sandbox.ecs.services.values().any(|s| s.subnets.contains(&id) || s.security_groups.contains(&id))
}

fn delete(Delete { state: sandbox, resource_type, current, .. }: Delete) -> Result<(), ProvisionError> {
    let id = current.physical_id.as_str();
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSubnet.html and
    // API_DeleteSecurityGroup.html: not while network interfaces (load
    // balancers, databases, tasks) are in them.
    if used_elsewhere(sandbox, id) {
        return Err(failed(match resource_type {
            "AWS::EC2::SecurityGroup" => ec2::dependent_object(id),
            _ => ec2::dependency_violation("subnet", id),
        }));
    }
    let state = &mut sandbox.ec2;
    let gone = || ProvisionError::not_found(resource_type, id);
    let deleted = match resource_type {
        "AWS::EC2::VPC" => state.delete_vpc(id),
        "AWS::EC2::Subnet" => state.delete_subnet(id),
        "AWS::EC2::InternetGateway" => state.delete_internet_gateway(id),
        "AWS::EC2::VPCGatewayAttachment" => state.detach_internet_gateway(id.strip_prefix("IGW|").unwrap_or(id)),
        "AWS::EC2::EIP" => state.release_address(current.attribute("AllocationId").unwrap_or_default()),
        "AWS::EC2::NatGateway" => Ok(state.delete_nat_gateway(id)),
        "AWS::EC2::RouteTable" => state.delete_route_table(id),
        "AWS::EC2::Route" => {
            let (table_id, destination) = id.split_once('|').ok_or_else(gone)?;
            Ok(state.delete_route(table_id, destination))
        }
        "AWS::EC2::SubnetRouteTableAssociation" => Ok(state.disassociate_route_table(id)),
        "AWS::EC2::SecurityGroup" => state.delete_security_group(id),
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => Ok(state.revoke_rule(id)),
        other => return Err(super::unsupported(other)),
    };
    if deleted.map_err(failed)? { Ok(()) } else { Err(gone()) }
}
