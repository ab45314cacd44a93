//! `/api/v1/audit-logs`: the organization's audit log, filtered and paged, and the
//! verification of its hash chain.

use actix_web::{HttpResponse, web};
use orchestore_api::audit_logs::ListAuditQuery;
use orchestore_domain::Permission;
use orchestore_repo::{AuditEntry, AuditSort, ChainReport, Page};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, verify))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/audit-logs", "GET").route(web::get().to(list)))
        .service(super::resource("/audit-logs/verification", "GET").route(web::get().to(verify)));
}

/// `GET /api/v1/audit-logs?actor=&entity=&entity_id=&action=&since=&until=&limit=&cursor=&sort=`:
/// the rows of the caller's organization, oldest first unless `sort=-created_at`, each with
/// the address and credential it was written with and, once sealed, its `seq` and `hash`.
#[utoipa::path(
    get,
    path = "/api/v1/audit-logs",
    summary = "List audit log rows",
    tag = "audit_logs",
    params(ListAuditQuery),
    responses((status = 200, description = "A page of audit rows",
        body = Page<AuditEntry, AuditSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListAuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AuditRead)?;
    let (filter, page) = query.into_filter()?;
    Ok(HttpResponse::Ok().json(state.store.list_audit(ctx, filter, page).await?))
}

/// `GET /api/v1/audit-logs/verification` → 200 with the walk of the caller's organization's
/// chain: the head it checked against, the rows verified, the rows not sealed yet, and the
/// first break (`null` when the chain is intact). What `orchestore audit verify` prints, for
/// an organization that has no shell on the deployment: a chain is only as good as a head
/// kept somewhere else to compare with (docs/audit.md).
#[utoipa::path(
    get,
    path = "/api/v1/audit-logs/verification",
    summary = "Verify the audit log's hash chain",
    tag = "audit_logs",
    responses((status = 200, description = "What the walk of the chain found", body = ChainReport))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn verify(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AuditRead)?;
    Ok(HttpResponse::Ok().json(state.store.verify_audit(ctx).await?))
}
