use orchestore_domain::{AuditLogId, OrganizationId};
use orchestore_repo::{
    AuditEntry, AuditRepo, AuditSort, Ctx, Cursor, Page, PageRequest, RepoResult,
};

use super::entity::audit_logs;
use crate::SeaStore;
use crate::error::db_err;
use crate::scoped::{Keyset, keyset_page, scoped};

crate::scoped::entities! {
    tenanted: audit_logs::Entity => "audit_log";
    audited:
}

fn to_entry(row: audit_logs::Model) -> AuditEntry {
    AuditEntry {
        id: AuditLogId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        actor: row.actor,
        action: row.action,
        entity: row.entity,
        entity_id: row.entity_id,
        changes: row.changes,
        request_id: row.request_id,
        created_at: row.created_at,
    }
}

#[async_trait::async_trait]
impl AuditRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_audit(
        &self,
        ctx: &Ctx,
        page: PageRequest<AuditSort>,
    ) -> RepoResult<Page<AuditEntry, AuditSort>> {
        let query = scoped::<audit_logs::Entity>(ctx);
        let keyset = match page.sort() {
            AuditSort::CreatedAt => Keyset::OldestFirst,
            AuditSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let entries = rows.into_iter().map(to_entry).collect();
        Ok(Page::from_rows(entries, &page, |e| {
            Cursor::after(page.sort(), e.id)
        }))
    }
}
