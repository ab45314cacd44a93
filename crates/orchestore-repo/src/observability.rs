//! The audit log.

use chrono::{DateTime, Utc};
use orchestore_domain::{AuditLogId, OrganizationId};
use serde::Serialize;

use crate::{Ctx, Page, PageRequest, RepoResult};

/// One row of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: AuditLogId,
    pub organization_id: OrganizationId,
    /// `user:<id>` or `system`.
    pub actor: String,
    /// `<entity>.<verb>`, e.g. `task.create`.
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub changes: serde_json::Value,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

crate::list_sort! {
    /// The orders of the audit log.
    pub enum AuditSort for "audit" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// Reads the audit log; rows are written by the mutations themselves.
#[async_trait::async_trait]
pub trait AuditRepo: Send + Sync {
    async fn list_audit(
        &self,
        ctx: &Ctx,
        page: PageRequest<AuditSort>,
    ) -> RepoResult<Page<AuditEntry, AuditSort>>;
}
