//! Amazon RDS: DB subnet groups, DB instances, and the final snapshots that
//! deleting an instance under CloudFormation's default `Snapshot` deletion
//! policy leaves (Keywatch's teardown finds and removes them).
//!
//! This module owns RDS's state and the rules RDS enforces on it, with its
//! ARN shapes and error codes; [`api`] serves the Query API for snapshots.
//! No database runs here: CloudFormation's provisioner makes subnet groups
//! and instances, checking their subnets and security groups against EC2.
//! <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/Welcome.html>

pub mod api;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::random;
use crate::service::CallContext;

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

    /// Subnet group names are unique.
    pub fn check_new_subnet_group(&self, name: &str) -> Result<(), AwsError> {
        if self.db_subnet_groups.contains_key(name) {
            return Err(AwsError::sender(
                "DBSubnetGroupAlreadyExists",
                format!("The DB subnet group '{name}' already exists."),
            ));
        }
        Ok(())
    }

    /// Adds a subnet group.
    pub fn add_subnet_group(&mut self, group: DbSubnetGroup) {
        self.db_subnet_groups.insert(group.name.clone(), group);
    }

    /// Instance identifiers are unique.
    pub fn check_new_instance(&self, identifier: &str) -> Result<(), AwsError> {
        if self.db_instances.contains_key(identifier) {
            return Err(AwsError::sender("DBInstanceAlreadyExists", "DB instance already exists"));
        }
        Ok(())
    }

    /// The subnet group an instance is put in exists.
    pub fn check_subnet_group(&self, name: &str) -> Result<(), AwsError> {
        if !self.db_subnet_groups.contains_key(name) {
            return Err(AwsError::sender("DBSubnetGroupNotFoundFault", format!("DBSubnetGroup '{name}' not found.")));
        }
        Ok(())
    }

    /// Adds an instance.
    pub fn add_instance(&mut self, instance: DbInstance) {
        self.db_instances.insert(instance.identifier.clone(), instance);
    }

    /// DeleteDBSubnetGroup: refused while an instance uses it. `Ok(false)`
    /// when there is no such subnet group.
    pub fn delete_subnet_group(&mut self, name: &str) -> Result<bool, AwsError> {
        if !self.db_subnet_groups.contains_key(name) {
            return Ok(false);
        }
        if let Some(user) = self.db_instances.values().find(|i| i.subnet_group_name.as_deref() == Some(name)) {
            return Err(AwsError::sender(
                "InvalidDBSubnetGroupStateFault",
                format!(
                    "Cannot delete the subnet group '{name}' because at least one database instance: {} is still using it.",
                    user.identifier
                ),
            ));
        }
        self.db_subnet_groups.remove(name);
        Ok(true)
    }

    /// DeleteDBInstance: refused while deletion protection is on. Returns
    /// the instance deleted, `None` when there is no such instance.
    pub fn delete_instance(&mut self, identifier: &str) -> Result<Option<DbInstance>, AwsError> {
        let Some(instance) = self.db_instances.get(identifier) else {
            return Ok(None);
        };
        if instance.deletion_protection {
            return Err(AwsError::sender(
                "InvalidParameterCombination",
                "Cannot delete protected DB Instance, please disable deletion protection and try again.",
            ));
        }
        Ok(self.db_instances.remove(identifier))
    }

    /// Keeps `<identifier>-final`, the final snapshot of deleted `instance`
    /// (DeleteDBInstance's `FinalDBSnapshotIdentifier`), and returns its
    /// identifier.
    pub fn keep_final_snapshot(&mut self, ctx: &CallContext, instance: DbInstance) -> String {
        let identifier = format!("{}-final", instance.identifier);
        self.db_snapshots.insert(
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
        identifier
    }
}

/// `arn:<partition>:rds:<region>:<account>:<kind>:<name>`.
pub fn arn(ctx: &CallContext, kind: &str, name: &str) -> String {
    format!("arn:{}:rds:{}:{}:{kind}:{name}", ctx.partition, ctx.region, ctx.account())
}

/// DB instance identifiers: 1 to 63 letters, digits and hyphens, starting
/// with a letter, no double or trailing hyphen; RDS stores them lowercase.
/// <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html>
pub fn check_identifier(identifier: &str) -> Result<(), AwsError> {
    let valid = (1..=63).contains(&identifier.len())
        && identifier.starts_with(|c: char| c.is_ascii_alphabetic())
        && identifier.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !identifier.ends_with('-')
        && !identifier.contains("--");
    if valid {
        Ok(())
    } else {
        Err(AwsError::sender(
            "InvalidParameterValue",
            "The parameter DBInstanceIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.",
        ))
    }
}

/// A subnet group's subnets, given as the zones and VPCs they are in: one
/// VPC, two zones at least.
/// <https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html>
pub fn check_subnet_coverage(zones: &[String], vpcs: &[String]) -> Result<(), AwsError> {
    if vpcs.len() > 1 {
        return Err(AwsError::sender(
            "InvalidSubnet",
            "Some of the subnets to be added do not belong to the same VPC.",
        ));
    }
    if zones.len() < 2 {
        return Err(AwsError::sender(
            "DBSubnetGroupDoesNotCoverEnoughAZs",
            format!(
                "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: {}. Add subnets to cover at least 2 AZs.",
                zones.join(", ")
            ),
        ));
    }
    Ok(())
}

/// RDS's error for a subnet EC2 does not know.
pub fn invalid_subnet(id: &str) -> AwsError {
    AwsError::sender("InvalidSubnet", format!("The subnet ID '{id}' does not exist"))
}

/// The engine's default port. <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html> (Port)
pub fn default_port(engine: &str) -> i64 {
    match engine {
        e if e.starts_with("postgres") || e == "aurora-postgresql" => 5432,
        e if e.starts_with("oracle") => 1521,
        e if e.starts_with("sqlserver") => 1433,
        _ => 3306,
    }
}

/// Route 53 zone of RDS endpoints in a region. <https://docs.aws.amazon.com/general/latest/gr/rds-service.html>
pub fn hosted_zone_id(region: &str) -> &'static str {
    match region {
        "us-east-1" => "Z2R2ITUGPM61AM",
        "us-west-2" => "Z1PVIF0B656C1W",
        "eu-west-1" => "Z29XKXDKYMONMX",
        "ap-southeast-2" => "Z32T0VRHXEXS0V",
        _ => "Z32T0VRHXEXS0V",
    }
}

/// A new instance's `DbiResourceId` (`db-` and 26 upper alphanumerics).
pub fn resource_id() -> String {
    format!("db-{}", random::lower_alphanumeric(26).to_uppercase())
}

/// A new instance's endpoint host name in `region`.
pub fn endpoint_address(identifier: &str, region: &str) -> String {
    format!("{identifier}.{}.{region}.rds.amazonaws.com", random::lower_alphanumeric(12))
}
