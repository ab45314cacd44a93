//! `/api/v1/organization`: the caller's organization.

use actix_web::{HttpResponse, web};
use orchestore_domain::{Organization, Permission};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(organization))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/organization", "GET").route(web::get().to(organization)));
}

/// `GET /api/v1/organization`: the caller's organization.
#[utoipa::path(
    get,
    path = "/api/v1/organization",
    summary = "Get the caller's organization",
    tag = "organizations",
    responses((status = 200, description = "The caller's organization", body = Organization))
)]
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn organization(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::OrganizationsRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_organization(ctx).await?))
}
