//! What the server's integration tests share, so that each builds its world
//! the one way the console itself does rather than a copy of it that drifts:
//! - [`world`]: an in-process sandbox, a temporary SQLite database, the
//!   console's services over SDK clients pointed at the sandbox, and the
//!   router `serve` runs, built by `web::app`;
//! - [`requests`]: requests to that router in-process;
//! - [`wire`]: a raw HTTP/1.1 client for servers on a socket;
//! - [`binary`]: the real `keywatch` binary in a child process, started on a
//!   free port and waited for until it is healthy;
//! - [`lab`]: the lab's stacks deployed on the sandbox;
//! - [`exposition`]: a checker for what `/metrics` serves.
//!
//! Each test file includes it with `mod support;`.
// Every test file is its own crate and uses only part of this module; the
// rest would be reported unused in each of them.
#![allow(dead_code)]

pub mod binary;
pub mod exposition;
pub mod lab;
pub mod requests;
pub mod wire;
pub mod world;

// The world's names at the top, as nearly every test starts from it; a
// test file that uses none of them would report the re-export unused.
#[allow(unused_imports)]
pub use world::{LISTEN, REGION, TempDb, World};
