//! Server functions and the types they exchange with the browser, one module
//! per area of the console.
//!
//! Each server function stays thin: it reads its area's port from context
//! with [`port`], calls it, and returns its typed result. The ports are
//! implemented in the server crate, which is the only place that touches AWS
//! or SQLite.

pub mod alarms;
pub mod attack;
pub mod audit;
pub mod connection;
pub mod history;
pub mod lab;
pub mod operations;
pub mod responses;
pub mod session;
pub mod subscribers;

/// The port `P` (an area's context newtype, such as
/// [`lab::port::Lab`]) provided to this request. Missing context is a wiring
/// bug, reported as an internal error rather than a panic.
#[cfg(feature = "ssr")]
pub fn port<P: Clone + Send + Sync + 'static>() -> Result<P, crate::error::AppError> {
    leptos::prelude::use_context::<P>().ok_or_else(|| {
        tracing::error!(port = std::any::type_name::<P>(), "server function called without its port in context");
        crate::error::AppError::Internal
    })
}
