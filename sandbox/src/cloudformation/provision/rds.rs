//! Amazon RDS: `DBSubnetGroup` and `DBInstance`, kept in a persisted store,
//! with the final snapshots that deleting an instance under CloudFormation's
//! default `Snapshot` deletion policy leaves (teardown reports them). No RDS
//! API is served and no database runs here.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html>

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::names::lower_alphanumeric;
use super::{Change, Props, ProvisionError, Provisioned, ResourceRequest, name_or_generated};
use crate::error::AwsError;
use crate::service::CallContext;
use crate::state::SandboxState;

/// A DB subnet group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbSubnetGroup {
    pub name: String,
    pub arn: String,
    pub description: String,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// A DB instance (the master password is never kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbInstance {
    pub identifier: String,
    pub arn: String,
    pub resource_id: String,
    pub engine: String,
    pub engine_version: Option<String>,
    pub instance_class: String,
    pub allocated_storage: Option<String>,
    pub storage_encrypted: bool,
    pub db_name: Option<String>,
    pub master_username: Option<String>,
    pub subnet_group_name: Option<String>,
    pub vpc_security_groups: Vec<String>,
    pub endpoint_address: String,
    pub port: i64,
    pub multi_az: bool,
    pub publicly_accessible: bool,
    pub backup_retention_period: i64,
    pub deletion_protection: bool,
    pub tags: BTreeMap<String, String>,
    pub created_ms: i64,
}

/// A manual DB snapshot (a final snapshot left by stack deletion).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbSnapshot {
    pub identifier: String,
    pub arn: String,
    pub db_instance_identifier: String,
    pub engine: String,
    pub allocated_storage: Option<String>,
    pub created_ms: i64,
}

/// Everything RDS keeps: subnet groups and instances by name, snapshots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RdsState {
    pub db_subnet_groups: BTreeMap<String, DbSubnetGroup>,
    pub db_instances: BTreeMap<String, DbInstance>,
    pub db_snapshots: BTreeMap<String, DbSnapshot>,
}

impl RdsState {
    /// No subnet groups or instances (snapshots outlive stacks, as in RDS).
    pub fn is_empty(&self) -> bool {
        self.db_subnet_groups.is_empty() && self.db_instances.is_empty()
    }
}

fn failed(code: &str, message: impl Into<String>) -> ProvisionError {
    ProvisionError::service("Rds", &AwsError::sender(code, message))
}

fn arn(ctx: &CallContext, kind: &str, name: &str) -> String {
    format!("arn:{}:rds:{}:{}:{kind}:{name}", ctx.partition, ctx.region, ctx.account())
}

/// DB instance identifiers: 1 to 63 letters, digits and hyphens, starting
/// with a letter, no double or trailing hyphen; RDS stores them lowercase.
/// <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html>
fn check_identifier(identifier: &str) -> Result<(), ProvisionError> {
    let valid = (1..=63).contains(&identifier.len())
        && identifier.starts_with(|c: char| c.is_ascii_alphabetic())
        && identifier.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !identifier.ends_with('-')
        && !identifier.contains("--");
    if valid {
        Ok(())
    } else {
        Err(failed(
            "InvalidParameterValue",
            "The parameter DBInstanceIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.",
        ))
    }
}

/// The engine's default port. <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html> (Port)
fn default_port(engine: &str) -> i64 {
    match engine {
        e if e.starts_with("postgres") || e == "aurora-postgresql" => 5432,
        e if e.starts_with("oracle") => 1521,
        e if e.starts_with("sqlserver") => 1433,
        _ => 3306,
    }
}

/// Route 53 zone of RDS endpoints in a region. <https://docs.aws.amazon.com/general/latest/gr/rds-service.html>
fn hosted_zone_id(region: &str) -> &'static str {
    match region {
        "us-east-1" => "Z2R2ITUGPM61AM",
        "us-west-2" => "Z1PVIF0B656C1W",
        "eu-west-1" => "Z29XKXDKYMONMX",
        "ap-southeast-2" => "Z32T0VRHXEXS0V",
        _ => "Z32T0VRHXEXS0V",
    }
}

fn instance_attributes(instance: &DbInstance, region: &str) -> Provisioned {
    Provisioned::new(instance.identifier.clone())
        .with("Endpoint.Address", instance.endpoint_address.clone())
        // CloudFormation returns the port as a string.
        .with("Endpoint.Port", instance.port.to_string())
        .with("Endpoint.HostedZoneId", hosted_zone_id(region))
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
        let subnet = state
            .ec2
            .subnet(id)
            .map_err(|_| failed("InvalidSubnet", format!("The subnet ID '{id}' does not exist")))?;
        zones.push(subnet.availability_zone.clone());
        vpcs.push(subnet.vpc_id.clone());
    }
    zones.sort();
    zones.dedup();
    vpcs.dedup();
    if vpcs.len() > 1 {
        return Err(failed("InvalidSubnet", "Some of the subnets to be added do not belong to the same VPC."));
    }
    if zones.len() < 2 {
        // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html
        return Err(failed(
            "DBSubnetGroupDoesNotCoverEnoughAZs",
            format!(
                "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: {}. Add subnets to cover at least 2 AZs.",
                zones.join(", ")
            ),
        ));
    }
    Ok(DbSubnetGroup {
        arn: arn(ctx, "subgrp", &name),
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
        state.ec2.security_group(group).map_err(|error| ProvisionError::service("Rds", &error))?;
    }
    Ok(groups)
}

pub(super) fn create(
    state: &mut SandboxState,
    ctx: &CallContext,
    request: &ResourceRequest,
) -> Result<Provisioned, ProvisionError> {
    let props = Props::of(request);
    match request.resource_type {
        "AWS::RDS::DBSubnetGroup" => {
            // RDS keeps subnet group names in lowercase.
            let name = name_or_generated(&props, request, "DBSubnetGroupName", 255, true)?.to_lowercase();
            if state.rds.db_subnet_groups.contains_key(&name) {
                return Err(failed(
                    "DBSubnetGroupAlreadyExists",
                    format!("The DB subnet group '{name}' already exists."),
                ));
            }
            let group = subnet_group_of(state, ctx, &props, name.clone())?;
            state.rds.db_subnet_groups.insert(name.clone(), group);
            Ok(Provisioned::new(name))
        }
        "AWS::RDS::DBInstance" => {
            let identifier = name_or_generated(&props, request, "DBInstanceIdentifier", 63, true)?.to_lowercase();
            check_identifier(&identifier)?;
            let engine = props.required_str("Engine")?;
            let instance_class = props.required_str("DBInstanceClass")?;
            if state.rds.db_instances.contains_key(&identifier) {
                return Err(failed("DBInstanceAlreadyExists", "DB instance already exists"));
            }
            let subnet_group_name = props.str("DBSubnetGroupName")?.map(|name| name.to_lowercase());
            if let Some(name) = &subnet_group_name
                && !state.rds.db_subnet_groups.contains_key(name)
            {
                return Err(failed("DBSubnetGroupNotFoundFault", format!("DBSubnetGroup '{name}' not found.")));
            }
            let vpc_security_groups = security_groups(state, &props)?;
            let port = props.int("Port")?.unwrap_or_else(|| default_port(&engine));
            let instance = DbInstance {
                arn: arn(ctx, "db", &identifier),
                resource_id: format!("db-{}", lower_alphanumeric(26).to_uppercase()),
                endpoint_address: format!("{identifier}.{}.{}.rds.amazonaws.com", lower_alphanumeric(12), ctx.region),
                identifier: identifier.clone(),
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
            state.rds.db_instances.insert(identifier, instance);
            Ok(attributes)
        }
        other => Err(super::unsupported(other)),
    }
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
        "AWS::RDS::DBSubnetGroup" => {
            let group = subnet_group_of(state, ctx, &props, id.clone())?;
            let existing = state.rds.db_subnet_groups.get_mut(&id).ok_or_else(gone)?;
            *existing = group;
            Ok(change.current.clone())
        }
        "AWS::RDS::DBInstance" => {
            let vpc_security_groups = security_groups(state, &props)?;
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
            if !state.rds.db_subnet_groups.contains_key(id) {
                return Err(gone());
            }
            if let Some(user) = state.rds.db_instances.values().find(|i| i.subnet_group_name.as_deref() == Some(id)) {
                return Err(failed(
                    "InvalidDBSubnetGroupStateFault",
                    format!(
                        "Cannot delete the subnet group '{id}' because at least one database instance: {} is still using it.",
                        user.identifier
                    ),
                ));
            }
            state.rds.db_subnet_groups.remove(id);
            Ok(None)
        }
        "AWS::RDS::DBInstance" => {
            let instance = state.rds.db_instances.get(id).ok_or_else(gone)?;
            if instance.deletion_protection {
                return Err(failed(
                    "InvalidParameterCombination",
                    "Cannot delete protected DB Instance, please disable deletion protection and try again.",
                ));
            }
            let instance = state.rds.db_instances.remove(id).ok_or_else(gone)?;
            if !final_snapshot {
                return Ok(None);
            }
            let identifier = format!("{id}-final");
            state.rds.db_snapshots.insert(
                identifier.clone(),
                DbSnapshot {
                    arn: arn(ctx, "snapshot", &identifier),
                    identifier: identifier.clone(),
                    db_instance_identifier: instance.identifier,
                    engine: instance.engine,
                    allocated_storage: instance.allocated_storage,
                    created_ms: ctx.now,
                },
            );
            Ok(Some(identifier))
        }
        other => Err(super::unsupported(other)),
    }
}
