//! `/api/v1/admin/…`: the instance itself, for the organization that operates it.

use actix_web::{HttpResponse, web};
use orchestore_domain::Permission;
use orchestore_repo::DatabaseStatus;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(database))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/admin/database", "GET").route(web::get().to(database)));
}

/// `GET /api/v1/admin/database` → the backend and its version, the pool, the slowest
/// statements of this server process and the tables' sizes.
///
/// Instance-wide: the figures cover every organization of the instance (table sizes, the
/// pool), so beyond `system:read` the caller must belong to the operating organization
/// (`bootstrap.organization`). Anyone else is refused, as an organization signed up on a
/// shared instance has no business seeing its neighbours' volume or the server's version.
#[utoipa::path(
    get,
    path = "/api/v1/admin/database",
    summary = "Inspect the instance's database",
    tag = "admin",
    responses((status = 200, description = "The database's backend, pool, slowest statements \
        and table sizes", body = DatabaseStatus))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn database(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::SystemRead)?;
    let organization = state.store.get_organization(ctx).await?;
    if organization.slug.as_str() != state.operating_organization {
        return Err(ApiError::NotAllowed(
            "the database is shown only to the organization that operates the instance".to_owned(),
        ));
    }
    Ok(HttpResponse::Ok().json(state.store.database_status().await?))
}
