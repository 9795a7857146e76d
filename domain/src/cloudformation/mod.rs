//! The CloudFormation template language, pure: parsing JSON and YAML templates
//! (short-form tags included), validating them as `ValidateTemplate` does,
//! resolving parameters, evaluating conditions and intrinsic functions,
//! dynamic references, the resource dependency graph, the catalog of resource
//! types the lab uses and change-set planning.
//!
//! The sandbox's CloudFormation engine does the I/O (provisioning, exports,
//! secrets); everything it needs to know about what a template *means* lives
//! here so the console can show the same answers offline.

pub mod changes;
mod cidr;
pub mod dynamic;
mod error;
pub mod graph;
pub mod intrinsics;
pub mod parameters;
pub mod resource_types;
mod syntax;
mod template;

#[cfg(test)]
mod intrinsics_tests;
#[cfg(test)]
mod lab_templates_tests;
#[cfg(test)]
pub(crate) mod test_support;

pub use changes::{ChangeAction, ChangeDetail, DeployedResource, Replacement, ResourceChange, plan_changes};
pub use dynamic::{DynamicReference, dynamic_references, substitute_dynamic};
pub use error::TemplateError;
pub use graph::{creation_order, deletion_order, dependencies};
pub use intrinsics::{Evaluator, ResolvedOutput, StackContext};
pub use parameters::{
    ResolvedParameter, ResolvedParameters, SuppliedParameter, check_parameter_value, resolve_parameters,
};
pub use resource_types::{ResourceType, resource_type};
pub use template::{
    Capability, DeletionPolicy, OutputDecl, ParameterDecl, ResourceDecl, SummaryParameter, Template, TemplateSummary,
};
