//! `/api/v1/audit-logs`: the organization's audit log, filtered and paged, and the
//! verification of its hash chain.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::Permission;
use orchestore_repo::{Actor, AuditEntry, AuditFilter, AuditSort, ChainReport, Page};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListAuditQuery {
    /// `user:<id>`, `agent:<id>` or `system`.
    actor: Option<String>,
    /// The kind of entity the rows are about, e.g. `task`.
    entity: Option<String>,
    /// The id of the entity the rows are about.
    entity_id: Option<String>,
    /// What was done, e.g. `task.create`.
    action: Option<String>,
    /// RFC 3339: rows created at or after it.
    since: Option<DateTime<Utc>>,
    /// RFC 3339: rows created before it.
    until: Option<DateTime<Utc>>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<AuditSort>)]
    sort: Option<String>,
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
    let mut errors = FieldErrors::default();
    let actor = errors.check(query.actor.as_deref().map(str::parse::<Actor>).transpose());
    let page = super::page_request::<AuditSort>(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let (Some(actor), Some(page)) = (actor, page) else {
        return Err(errors.into_error().into());
    };
    let filter = AuditFilter {
        actor,
        entity: query.entity,
        entity_id: query.entity_id,
        action: query.action,
        since: query.since,
        until: query.until,
    };
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
