//! Amazon RDS: the final snapshot CloudFormation leaves when it deletes the
//! lab's database (its `DeletionPolicy` is `Snapshot`), which keeps billing
//! until someone deletes it. Teardown finds it and offers to delete it.

use aws_config::SdkConfig;

use super::AwsCallError;

/// RDS's error code for a snapshot that does not exist.
/// <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBSnapshot.html>
const SNAPSHOT_NOT_FOUND: &str = "DBSnapshotNotFound";

/// A manual DB snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSnapshot {
    pub identifier: String,
    pub status: String,
}

/// The RDS client, wrapped to take and return Keywatch's types.
#[derive(Debug, Clone)]
pub struct Rds {
    client: aws_sdk_rds::Client,
}

impl Rds {
    /// An RDS client for `config`.
    pub fn new(config: &SdkConfig) -> Rds {
        Rds { client: aws_sdk_rds::Client::new(config) }
    }

    /// The manual snapshots of DB instance `instance` (DescribeDBSnapshots, paged).
    pub async fn manual_snapshots(&self, instance: &str) -> Result<Vec<DbSnapshot>, AwsCallError> {
        let mut snapshots = Vec::new();
        let mut pages = self
            .client
            .describe_db_snapshots()
            .db_instance_identifier(instance)
            .snapshot_type("manual")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| AwsCallError::from_sdk("DescribeDBSnapshots", error))?;
            snapshots.extend(page.db_snapshots().iter().filter_map(|snapshot| {
                Some(DbSnapshot {
                    identifier: snapshot.db_snapshot_identifier()?.to_owned(),
                    status: snapshot.status().unwrap_or_default().to_owned(),
                })
            }));
        }
        Ok(snapshots)
    }

    /// Deletes a snapshot; `false` when there was no such snapshot.
    pub async fn delete_snapshot(&self, identifier: &str) -> Result<bool, AwsCallError> {
        match self.client.delete_db_snapshot().db_snapshot_identifier(identifier).send().await {
            Ok(_) => Ok(true),
            Err(error) => match AwsCallError::from_sdk("DeleteDBSnapshot", error) {
                error if error.code == SNAPSHOT_NOT_FOUND => Ok(false),
                error => Err(error),
            },
        }
    }
}
