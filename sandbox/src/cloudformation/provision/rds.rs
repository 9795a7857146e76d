//! Amazon RDS: `DBSubnetGroup` and `DBInstance`, made in the sandbox's RDS
//! state ([`crate::rds`]), their subnets and security groups checked
//! against EC2's. Deleting an instance under CloudFormation's default
//! `Snapshot` deletion policy leaves its final snapshot there.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html>

use super::{Create, Delete, Props, ProvisionError, Provisioned, ResourceType, Update, name_or_generated};
use crate::error::AwsError;
use crate::rds::{self, DbInstance, DbSubnetGroup};
use crate::service::CallContext;
use crate::state::SandboxState;

fn failed(error: AwsError) -> ProvisionError {
    ProvisionError::service("Rds", &error)
}

fn instance_attributes(instance: &DbInstance, region: &str) -> Provisioned {
    Provisioned::new(instance.identifier.clone())
        .with("Endpoint.Address", instance.endpoint_address.clone())
        // CloudFormation returns the port as a string.
        .with("Endpoint.Port", instance.port.to_string())
        .with("Endpoint.HostedZoneId", rds::hosted_zone_id(region))
        .with("DBInstanceArn", instance.arn.clone())
        .with("DbiResourceId", instance.resource_id.clone())
        .with("CertificateDetails.CAIdentifier", "rds-ca-rsa2048-g1")
        .with("CertificateDetails.ValidTill", "2061-05-21T22:54:39Z")
}

fn subnet_group_of(
    state: &SandboxState,
    ctx: &CallContext,
    props: &Props,
    name: String,
) -> Result<DbSubnetGroup, ProvisionError> {
    let description =
        props.str("DBSubnetGroupDescription")?.ok_or_else(|| props.missing("DBSubnetGroupDescription"))?;
    let subnet_ids = props.strings("SubnetIds")?;
    if props.get("SubnetIds").is_none() {
        return Err(props.missing("SubnetIds"));
    }
    let mut zones = Vec::new();
    let mut vpcs = Vec::new();
    for id in &subnet_ids {
        let subnet = state.ec2.subnet(id).map_err(|_| failed(rds::invalid_subnet(id)))?;
        zones.push(subnet.availability_zone.clone());
        vpcs.push(subnet.vpc_id.clone());
    }
    zones.sort();
    zones.dedup();
    vpcs.dedup();
    rds::check_subnet_coverage(&zones, &vpcs).map_err(failed)?;
    Ok(DbSubnetGroup {
        arn: rds::arn(ctx, "subgrp", &name),
        name,
        description,
        vpc_id: vpcs.into_iter().next().unwrap_or_default(),
        subnet_ids,
        tags: props.tags()?,
    })
}

fn security_groups(state: &SandboxState, props: &Props) -> Result<Vec<String>, ProvisionError> {
    let groups = props.strings("VPCSecurityGroups")?;
    for group in &groups {
        state.ec2.security_group(group).map_err(failed)?;
    }
    Ok(groups)
}

/// The types share one function per operation, matching on the type inside.
pub(super) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType { name: "AWS::RDS::DBSubnetGroup", create, update, delete },
    ResourceType { name: "AWS::RDS::DBInstance", create, update, delete },
];

fn create(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    match request.resource_type {
        "AWS::RDS::DBSubnetGroup" => {
            // RDS keeps subnet group names in lowercase.
            let name = name_or_generated(props, request, "DBSubnetGroupName", 255, true)?.to_lowercase();
            state.rds.check_new_subnet_group(&name).map_err(failed)?;
            let group = subnet_group_of(state, ctx, props, name.clone())?;
            state.rds.add_subnet_group(group);
            Ok(Provisioned::new(name))
        }
        "AWS::RDS::DBInstance" => {
            let identifier = name_or_generated(props, request, "DBInstanceIdentifier", 63, true)?.to_lowercase();
            rds::check_identifier(&identifier).map_err(failed)?;
            let engine = props.required_str("Engine")?;
            let instance_class = props.required_str("DBInstanceClass")?;
            state.rds.check_new_instance(&identifier).map_err(failed)?;
            let subnet_group_name = props.str("DBSubnetGroupName")?.map(|name| name.to_lowercase());
            if let Some(name) = &subnet_group_name {
                state.rds.check_subnet_group(name).map_err(failed)?;
            }
            let vpc_security_groups = security_groups(state, props)?;
            let port = props.int("Port")?.unwrap_or_else(|| rds::default_port(&engine));
            let instance = DbInstance {
                arn: rds::arn(ctx, "db", &identifier),
                resource_id: rds::resource_id(),
                endpoint_address: rds::endpoint_address(&identifier, &ctx.region),
                identifier,
                engine,
                engine_version: props.str("EngineVersion")?,
                instance_class,
                allocated_storage: props.str("AllocatedStorage")?,
                storage_encrypted: props.bool("StorageEncrypted")?.unwrap_or(false),
                db_name: props.str("DBName")?,
                master_username: props.str("MasterUsername")?,
                subnet_group_name,
                vpc_security_groups,
                port,
                multi_az: props.bool("MultiAZ")?.unwrap_or(false),
                publicly_accessible: props.bool("PubliclyAccessible")?.unwrap_or(false),
                backup_retention_period: props.int("BackupRetentionPeriod")?.unwrap_or(1),
                deletion_protection: props.bool("DeletionProtection")?.unwrap_or(false),
                tags: props.tags()?,
                created_ms: ctx.now,
            };
            let attributes = instance_attributes(&instance, &ctx.region);
            state.rds.add_instance(instance);
            Ok(attributes)
        }
        other => Err(super::unsupported(other)),
    }
}

fn update(Update { state, ctx, change, props }: Update) -> Result<Provisioned, ProvisionError> {
    let id = change.current.physical_id.clone();
    let gone = || ProvisionError::not_found(change.request.resource_type, &id);
    match change.request.resource_type {
        "AWS::RDS::DBSubnetGroup" => {
            let group = subnet_group_of(state, ctx, props, id.clone())?;
            let existing = state.rds.db_subnet_groups.get_mut(&id).ok_or_else(gone)?;
            *existing = group;
            Ok(change.current.clone())
        }
        "AWS::RDS::DBInstance" => {
            let vpc_security_groups = security_groups(state, props)?;
            let instance = state.rds.db_instances.get_mut(&id).ok_or_else(gone)?;
            instance.instance_class = props.required_str("DBInstanceClass")?;
            instance.engine_version = props.str("EngineVersion")?;
            instance.allocated_storage = props.str("AllocatedStorage")?;
            instance.vpc_security_groups = vpc_security_groups;
            instance.multi_az = props.bool("MultiAZ")?.unwrap_or(false);
            instance.publicly_accessible = props.bool("PubliclyAccessible")?.unwrap_or(false);
            instance.backup_retention_period = props.int("BackupRetentionPeriod")?.unwrap_or(1);
            instance.deletion_protection = props.bool("DeletionProtection")?.unwrap_or(false);
            instance.tags = props.tags()?;
            if let Some(port) = props.int("Port")? {
                instance.port = port;
            }
            Ok(instance_attributes(instance, &ctx.region))
        }
        other => Err(super::unsupported(other)),
    }
}

fn delete(Delete { state, ctx, resource_type, current, .. }: Delete) -> Result<(), ProvisionError> {
    delete_instance_or_group(state, ctx, resource_type, current, false).map(drop)
}

/// Deletes a subnet group or instance; an instance deleted with
/// `final_snapshot` leaves `<identifier>-final` among the DB snapshots, whose
/// identifier is returned.
pub(super) fn delete_instance_or_group(
    state: &mut SandboxState,
    ctx: &CallContext,
    resource_type: &str,
    current: &Provisioned,
    final_snapshot: bool,
) -> Result<Option<String>, ProvisionError> {
    let id = current.physical_id.as_str();
    let gone = || ProvisionError::not_found(resource_type, id);
    match resource_type {
        "AWS::RDS::DBSubnetGroup" => {
            if state.rds.delete_subnet_group(id).map_err(failed)? {
                Ok(None)
            } else {
                Err(gone())
            }
        }
        "AWS::RDS::DBInstance" => {
            let instance = state.rds.delete_instance(id).map_err(failed)?.ok_or_else(gone)?;
            if !final_snapshot {
                return Ok(None);
            }
            Ok(Some(state.rds.keep_final_snapshot(ctx, instance)))
        }
        other => Err(super::unsupported(other)),
    }
}
