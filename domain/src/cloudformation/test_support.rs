//! A fake `StackContext` for tests: every resource exists with a predictable
//! physical id and attributes, unless listed as pending.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::intrinsics::StackContext;

pub(crate) struct FakeStack {
    pub(crate) pending: BTreeSet<String>,
    pub(crate) exports: BTreeMap<String, String>,
}

impl FakeStack {
    pub(crate) fn new() -> FakeStack {
        FakeStack { pending: BTreeSet::new(), exports: BTreeMap::new() }
    }
}

impl StackContext for FakeStack {
    fn pseudo_parameter(&self, name: &str) -> Option<Value> {
        match name {
            "AWS::Region" => Some(json!("ap-southeast-2")),
            "AWS::AccountId" => Some(json!("123456789012")),
            "AWS::StackName" => Some(json!("pattern1-base")),
            "AWS::StackId" => Some(json!(
                "arn:aws:cloudformation:ap-southeast-2:123456789012:stack/pattern1-base/00000000-0000-0000-0000-000000000000"
            )),
            "AWS::Partition" => Some(json!("aws")),
            "AWS::URLSuffix" => Some(json!("amazonaws.com")),
            "AWS::NotificationARNs" => Some(json!([])),
            _ => None,
        }
    }

    fn physical_id(&self, logical_id: &str) -> Option<String> {
        (!self.pending.contains(logical_id)).then(|| format!("{}-id", logical_id.to_lowercase()))
    }

    fn attribute(&self, logical_id: &str, attribute: &str) -> Option<Value> {
        (!self.pending.contains(logical_id)).then(|| json!(format!("{logical_id}.{attribute}")))
    }

    fn import_value(&self, export_name: &str) -> Option<String> {
        self.exports.get(export_name).cloned().or_else(|| Some(format!("imported:{export_name}")))
    }

    fn availability_zones(&self, region: &str) -> Vec<String> {
        vec![format!("{region}a"), format!("{region}b"), format!("{region}c")]
    }
}
