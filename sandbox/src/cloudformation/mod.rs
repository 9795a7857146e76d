//! AWS CloudFormation in the sandbox: the resource provisioners that create,
//! update and delete each resource type a stack declares, on the sandbox's
//! own services and stores. The stack engine (stack API, status machine,
//! template evaluation) lives beside this module and calls [`provision`]
//! with properties it has already resolved.

pub mod provision;
