//! Server functions and the types they exchange with the browser, one module
//! per area of the console.
//!
//! Each server function stays thin: it reads the [`backend::Backend`] from
//! context, calls it, and returns its typed result. The backend itself lives
//! in the server crate, which is the only place that touches AWS or SQLite.

pub mod audit;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod connection;
pub mod history;
pub mod lab;
pub mod operations;
pub mod session;
pub mod subscribers;
pub mod testing;
pub mod thresholds;
