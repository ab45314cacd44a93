//! `/api/v1/retention-policy`: how long the organization keeps each kind of row it is done
//! with.

use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::retention::{PolicyBody, PolicyView};
use orchestore_domain::Permission;

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(get_policy, put_policy))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/retention-policy", "GET, PUT")
            .route(web::get().to(get_policy))
            .route(web::put().to(put_policy)),
    );
}

/// `GET /api/v1/retention-policy` → the policy (every target and `updated_at` null until one
/// is set), tagged with its revision.
#[utoipa::path(
    get,
    path = "/api/v1/retention-policy",
    summary = "Get the retention policy",
    tag = "retention",
    responses((status = 200, description = "The organization's retention policy",
        body = PolicyView))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn get_policy(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::OrganizationsRead)?;
    let policy = state.store.retention_policy(ctx).await?;
    Ok(conditional::read(
        &req,
        policy.revision,
        &PolicyView::from(&policy),
    ))
}

/// `PUT /api/v1/retention-policy` with the whole policy → the policy; with `If-Match`, only if
/// it is still at that revision.
#[utoipa::path(
    put,
    path = "/api/v1/retention-policy",
    summary = "Replace the retention policy",
    tag = "retention",
    request_body = PolicyBody,
    responses((status = 200, description = "The organization's new retention policy",
        body = PolicyView))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn put_policy(
    state: web::Data<AppState>,
    auth: Authenticated,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PolicyBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::OrganizationsWrite)?;
    let rules = body.into_rules()?;
    let policy = state
        .store
        .set_retention_policy(ctx, rules, if_match.expected())
        .await?;
    Ok(conditional::tagged(
        policy.revision,
        &PolicyView::from(&policy),
    ))
}
