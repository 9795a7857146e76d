//! The server's side of the audit log's port ([`AuditBackend`]): pages of
//! the audit records in SQLite.

use async_trait::async_trait;
use keywatch_app::api::audit::AuditPage;
use keywatch_app::api::audit::port::AuditBackend;
use keywatch_app::error::AppError;

use crate::db::Database;

/// The audit log's backend: SQLite only.
pub struct ServerAudit {
    db: Database,
}

impl ServerAudit {
    pub fn new(db: Database) -> ServerAudit {
        ServerAudit { db }
    }
}

#[async_trait]
impl AuditBackend for ServerAudit {
    async fn audit_page(&self, before: Option<i64>, limit: u32) -> Result<AuditPage, AppError> {
        let records = self.db.audit().page(before, limit).await?;
        let next_before = (records.len() == limit as usize).then(|| records.last().map(|record| record.id)).flatten();
        Ok(AuditPage { records, next_before })
    }
}
