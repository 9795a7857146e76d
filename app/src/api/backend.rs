//! The port between server functions and the server crate.
//!
//! The app crate cannot depend on the server crate (dependencies point from
//! server to app), so server functions reach AWS and SQLite through this
//! trait, which the server implements and provides as Leptos context.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;

use super::connection::{ConnectionCheck, ConsoleSettings};
use crate::error::AppError;

/// Everything server functions can ask of the server.
#[async_trait]
pub trait ConsoleBackend: Send + Sync + 'static {
    /// How the console is connected: mode, region, profile.
    fn settings(&self) -> ConsoleSettings;

    /// Asks STS who the console is, and records the outcome.
    async fn check_connection(&self) -> Result<ConnectionCheck, AppError>;

    /// The most recent recorded connection checks, newest first.
    async fn recent_connection_checks(&self, limit: u32) -> Result<Vec<ConnectionCheck>, AppError>;
}

/// The backend as Leptos context.
#[derive(Clone)]
pub struct Backend(pub Arc<dyn ConsoleBackend>);

/// The backend provided to this request. Missing context is a wiring bug,
/// reported as an internal error rather than a panic.
pub fn backend() -> Result<Arc<dyn ConsoleBackend>, AppError> {
    match use_context::<Backend>() {
        Some(Backend(backend)) => Ok(backend),
        None => {
            tracing::error!("server function called without a Backend in context");
            Err(AppError::Internal)
        }
    }
}
