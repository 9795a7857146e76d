//! The audit log's data: every mutation made through the console, who made
//! it, when, on what and how it ended, newest first, a page at a time.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One recorded mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// The session's user, or "local (no password)".
    pub user: String,
    /// What was done, e.g. `lab.deploy`, `subscriber.add`, `auth.login`.
    pub action: String,
    /// What it was done to: a stack, a topic, a subscription, a setting.
    pub target: String,
    /// `succeeded`, `failed` or `refused`.
    pub outcome: String,
    pub detail: Option<String>,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// The id to pass as `before` for the next (older) page.
    pub next_before: Option<i64>,
}

/// `get_audit_page`'s input: records older than `before` (`None`: newest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPageInput {
    pub before: Option<i64>,
}

/// Records shown per page.
pub const AUDIT_PAGE_SIZE: u32 = 50;

/// A page of the audit log, newest first.
#[server(endpoint = "audit/page", input = leptos::server_fn::codec::Json)]
pub async fn get_audit_page(input: AuditPageInput) -> Result<AuditPage, AppError> {
    if input.before.is_some_and(|before| before < 1) {
        return Err(AppError::InvalidInput { field: Some("before".into()), message: "not a record id".into() });
    }
    crate::api::port::<port::Audit>()?.0.audit_page(input.before, AUDIT_PAGE_SIZE).await
}

/// The port between the audit log's server function and the server crate.
#[cfg(feature = "ssr")]
pub mod port {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;

    /// What the audit log's server function asks of the server.
    #[async_trait]
    pub trait AuditBackend: Send + Sync + 'static {
        /// Audit records older than `before` (`None`: the newest), newest first.
        async fn audit_page(&self, before: Option<i64>, limit: u32) -> Result<AuditPage, AppError>;
    }

    /// The audit backend as Leptos context.
    #[derive(Clone)]
    pub struct Audit(pub Arc<dyn AuditBackend>);
}
