//! AWS CloudFormation in the sandbox: stacks, their resources and events,
//! change sets and exports, and the engine that moves a stack through
//! CloudFormation's status machine one resource at a time.
//!
//! Templates are read and evaluated by `keywatch_domain::cloudformation`
//! (pure); resources are created in the other sandbox services by
//! [`provision`]; [`stack`] holds what CloudFormation itself keeps.
//! Status names and reasons follow
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html>.
//!
//! The modules form a tree, each using only those below it: [`api`] (the
//! Query operations) uses [`change_sets`], which uses `request` (what both
//! read from a request), which uses [`engine`], which uses [`stack`] and
//! [`provision`].

pub mod api;
pub mod change_sets;
pub mod engine;
pub mod provision;
mod request;
pub mod stack;

pub use stack::{
    ChangeSet, ChangeSetStatus, CloudFormationState, Deployment, Operation, PlannedChange, PlannedDetail,
    ResourceStatus, Stack, StackEvent, StackOutput, StackParameter, StackResource, StackStatus, Step, Touched,
    shown_value,
};
