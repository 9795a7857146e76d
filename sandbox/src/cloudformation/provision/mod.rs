//! TEMPORARY compile shim; replaced by the provisioners branch.
use std::collections::BTreeMap;
use serde::{Deserialize, Serialize};
use crate::service::CallContext;
use crate::state::SandboxState;
pub struct ResourceRequest<'a> {
    pub logical_id: &'a str,
    pub resource_type: &'a str,
    pub properties: &'a serde_json::Value,
    pub stack_name: &'a str,
    pub stack_id: &'a str,
}
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provisioned {
    pub physical_id: String,
    pub attributes: BTreeMap<String, serde_json::Value>,
}
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}")]
pub struct ProvisionError { pub reason: String }
pub fn create(_: &mut SandboxState, _: &CallContext, r: &ResourceRequest) -> Result<Provisioned, ProvisionError> {
    let Some(catalog) = keywatch_domain::cloudformation::resource_type(r.resource_type) else {
        return Err(ProvisionError { reason: format!("unsupported type {}", r.resource_type) });
    };
    let physical_id = format!("{}-{}", r.stack_name, r.logical_id).to_lowercase();
    let attributes = catalog
        .attributes
        .iter()
        .map(|a| (a.to_string(), serde_json::Value::String(format!("{physical_id}-{a}"))))
        .collect();
    Ok(Provisioned { physical_id, attributes })
}
pub fn update(_: &mut SandboxState, _: &CallContext, _: &ResourceRequest, c: &Provisioned, _: &serde_json::Value) -> Result<Provisioned, ProvisionError> { Ok(c.clone()) }
pub fn delete(_: &mut SandboxState, _: &CallContext, _: &str, _: &Provisioned, _: &serde_json::Value) -> Result<(), ProvisionError> { Ok(()) }
impl ProvisionError { pub fn from_reason(reason: String) -> ProvisionError { ProvisionError { reason } } }
