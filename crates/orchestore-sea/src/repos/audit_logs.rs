use orchestore_domain::{AuditLogId, OrganizationId};
use orchestore_repo::{AuditEntry, AuditRepo, Ctx, Cursor, Page, PageRequest, RepoResult};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::keyset;
use crate::SeaStore;
use crate::entities::audit_logs;
use crate::error::db_err;

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
    async fn list_audit(&self, ctx: &Ctx, page: PageRequest) -> RepoResult<Page<AuditEntry>> {
        let query = audit_logs::Entity::find()
            .filter(audit_logs::Column::OrganizationId.eq(ctx.org().as_uuid()));
        let rows = keyset(query, audit_logs::Column::Id, page)?
            .all(self.db())
            .await
            .map_err(db_err)?;
        let entries = rows.into_iter().map(to_entry).collect();
        Ok(Page::from_rows(entries, page.limit, |e| {
            Cursor::after(page.order, e.id)
        }))
    }
}
