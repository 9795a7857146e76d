//! Keywatch's pure logic: what AWS and the lab mean, with no I/O.
//!
//! Everything here is deterministic and builds for `wasm32-unknown-unknown`,
//! so the browser and the server evaluate the same rules. The sandbox reuses
//! it too, which is how the console and its offline stand-in agree.

pub mod alarm;
pub mod attack;
pub mod chart;
pub mod cloudformation;
pub mod connection;
pub mod filter_pattern;
pub mod iam_policy;
pub mod lab;
pub mod lab_adoption;
pub mod lab_alarms;
pub mod region;
pub mod response;
pub mod sns;
