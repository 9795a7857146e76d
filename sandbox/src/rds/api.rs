//! The RDS Query API for DB snapshots: `DescribeDBSnapshots` and
//! `DeleteDBSnapshot`, over the snapshots CloudFormation leaves when it
//! deletes a DB instance under the `Snapshot` deletion policy. That is all
//! Keywatch's teardown needs to find and remove a final snapshot; instances
//! and subnet groups are made by CloudFormation only.
//!
//! <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSnapshots.html>,
//! <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBSnapshot.html>

use http::StatusCode;

use super::{DbSnapshot, RdsState};
use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::{Audit, CallContext, Handled};

/// Dispatches one RDS call; `None` for operations the sandbox does not serve.
pub fn call(state: &mut RdsState, ctx: &CallContext, operation: &str, params: &[(String, String)]) -> Option<Handled> {
    let read_only = match operation {
        "DescribeDBSnapshots" => true,
        "DeleteDBSnapshot" => false,
        _ => return None,
    };
    let result = match operation {
        "DescribeDBSnapshots" => describe(state, ctx, params),
        _ => delete(state, ctx, params),
    };
    let audit = Audit {
        request_parameters: crate::service::query_request_parameters(params, &[]),
        response_elements: None,
        resources: Vec::new(),
        read_only,
    };
    let mutated = !read_only && result.is_ok();
    Some(Handled { result, audit: Some(audit), mutated })
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// RDS's error for a snapshot that does not exist (HTTP 404).
fn not_found(identifier: &str) -> AwsError {
    AwsError::sender("DBSnapshotNotFound", format!("DBSnapshot {identifier} not found."))
        .with_status(StatusCode::NOT_FOUND)
}

/// Snapshots are kept account-wide; each belongs to the Region in its ARN.
fn in_region(snapshot: &DbSnapshot, region: &str) -> bool {
    snapshot.arn.split(':').nth(3) == Some(region)
}

fn describe(state: &RdsState, ctx: &CallContext, params: &[(String, String)]) -> Result<Value, AwsError> {
    let wanted_snapshot = param(params, "DBSnapshotIdentifier");
    let wanted_instance = param(params, "DBInstanceIdentifier");
    // Final snapshots are manual snapshots; automated ones do not exist here.
    let wanted_type = param(params, "SnapshotType");
    let snapshots: Vec<&DbSnapshot> = state
        .db_snapshots
        .values()
        .filter(|s| in_region(s, &ctx.region))
        .filter(|s| wanted_snapshot.is_none_or(|id| s.identifier == id))
        .filter(|s| wanted_instance.is_none_or(|id| s.db_instance_identifier == id))
        .filter(|_| wanted_type.is_none_or(|kind| kind == "manual"))
        .collect();
    // Asking for one snapshot by name that does not exist is an error, not
    // an empty list (the API reference's DBSnapshotNotFound).
    if let (Some(id), true) = (wanted_snapshot, snapshots.is_empty()) {
        return Err(not_found(id));
    }
    // The list's members are named `DBSnapshot` (the model's xmlName), not `member`.
    let members = snapshots.into_iter().map(|s| ("DBSnapshot".to_owned(), snapshot_value(s, "available"))).collect();
    Ok(Value::Map(vec![("DBSnapshots".into(), Value::Map(members))]))
}

fn delete(state: &mut RdsState, ctx: &CallContext, params: &[(String, String)]) -> Result<Value, AwsError> {
    let Some(identifier) = param(params, "DBSnapshotIdentifier").filter(|id| !id.is_empty()) else {
        return Err(AwsError::sender(
            "MissingParameter",
            "The request must contain the parameter DBSnapshotIdentifier",
        ));
    };
    let exists = state.db_snapshots.get(identifier).is_some_and(|s| in_region(s, &ctx.region));
    if !exists {
        return Err(not_found(identifier));
    }
    let snapshot = state.db_snapshots.remove(identifier).ok_or_else(|| not_found(identifier))?;
    Ok(Value::Map(vec![("DBSnapshot".into(), snapshot_value(&snapshot, "deleted"))]))
}

fn snapshot_value(snapshot: &DbSnapshot, status: &str) -> Value {
    let storage = snapshot.allocated_storage.as_deref().and_then(|gb| gb.parse::<i64>().ok());
    Value::Map(vec![
        ("DBSnapshotIdentifier".into(), Value::String(snapshot.identifier.clone())),
        ("DBInstanceIdentifier".into(), Value::String(snapshot.db_instance_identifier.clone())),
        ("SnapshotCreateTime".into(), Value::Timestamp(snapshot.created_ms)),
        ("Engine".into(), Value::String(snapshot.engine.clone())),
        ("AllocatedStorage".into(), storage.map_or(Value::Null, Value::Integer)),
        ("Status".into(), Value::String(status.to_owned())),
        ("SnapshotType".into(), Value::String("manual".to_owned())),
        ("DBSnapshotArn".into(), Value::String(snapshot.arn.clone())),
        ("Encrypted".into(), Value::Bool(false)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with_final_snapshot() -> RdsState {
        let mut state = RdsState::default();
        state.db_snapshots.insert(
            "pattern1-app-db-final".into(),
            DbSnapshot {
                identifier: "pattern1-app-db-final".into(),
                arn: "arn:aws:rds:ap-southeast-2:111122223333:snapshot:pattern1-app-db-final".into(),
                db_instance_identifier: "pattern1-app-db".into(),
                engine: "mysql".into(),
                allocated_storage: Some("20".into()),
                created_ms: 0,
            },
        );
        state
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_final_snapshot_is_listed_for_its_instance_and_deleted_once() {
        let mut state = state_with_final_snapshot();
        let ctx = CallContext::for_tests(0);
        let listed =
            call(&mut state, &ctx, "DescribeDBSnapshots", &params(&[("DBInstanceIdentifier", "pattern1-app-db")]))
                .expect("served");
        let Ok(Value::Map(members)) = listed.result else { panic!("a list") };
        let Value::Map(snapshots) = &members[0].1 else { panic!("DBSnapshots") };
        assert_eq!(snapshots.len(), 1);
        assert_eq!(snapshots[0].0, "DBSnapshot");

        let deleted =
            call(&mut state, &ctx, "DeleteDBSnapshot", &params(&[("DBSnapshotIdentifier", "pattern1-app-db-final")]))
                .expect("served");
        assert!(deleted.result.is_ok() && deleted.mutated);
        assert!(state.db_snapshots.is_empty());

        // API_DeleteDBSnapshot.html: DBSnapshotNotFound, HTTP 404.
        let again =
            call(&mut state, &ctx, "DeleteDBSnapshot", &params(&[("DBSnapshotIdentifier", "pattern1-app-db-final")]))
                .expect("served");
        let error = again.result.expect_err("gone");
        assert_eq!((error.code.as_str(), error.status), ("DBSnapshotNotFound", StatusCode::NOT_FOUND));
        assert!(!again.mutated);
    }

    #[test]
    fn snapshots_belong_to_the_region_in_their_arn() {
        let mut state = state_with_final_snapshot();
        let mut ctx = CallContext::for_tests(0);
        ctx.region = "eu-west-1".into();
        let listed = call(&mut state, &ctx, "DescribeDBSnapshots", &[]).expect("served");
        assert_eq!(listed.result.expect("ok"), Value::Map(vec![("DBSnapshots".into(), Value::Map(vec![]))]));
        let deleted =
            call(&mut state, &ctx, "DeleteDBSnapshot", &params(&[("DBSnapshotIdentifier", "pattern1-app-db-final")]))
                .expect("served");
        assert!(deleted.result.is_err());
        assert_eq!(state.db_snapshots.len(), 1);
    }
}
