//! `/api/v1/roles`: the system roles every organization shares and the organization's own.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::roles::{CreateRoleBody, ListRolesQuery, PatchRoleBody};
use orchestore_domain::{Permission, Role, RoleId};
use orchestore_repo::{Page, RoleSort};

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, list, get, update, delete))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/roles", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        super::resource("/roles/{id}", "GET, PATCH, DELETE")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    );
}

/// `POST /api/v1/roles` → 201 with `Location`: a custom role of the caller's organization.
#[utoipa::path(
    post,
    path = "/api/v1/roles",
    summary = "Create a role",
    tag = "roles",
    request_body = CreateRoleBody,
    responses(
        (status = 201, description = "The role, created", body = Role,
            headers(("Location" = String, description = "The role's URL"))),
        (status = 409, description = "A role has this code", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateRoleBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::RolesWrite)?;
    let role = state.store.create_role(ctx, body.into_new_role()?).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/roles/{}", role.id)))
        .json(role))
}

/// `GET /api/v1/roles?limit=&cursor=&sort=`: the system roles and the organization's own.
#[utoipa::path(
    get,
    path = "/api/v1/roles",
    summary = "List roles",
    tag = "roles",
    params(ListRolesQuery),
    responses((status = 200, description = "A page of roles", body = Page<Role, RoleSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListRolesQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::RolesRead)?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_roles(ctx, query.into_page_request()?)
            .await?,
    ))
}

/// `GET /api/v1/roles/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/roles/{id}",
    summary = "Get a role",
    tag = "roles",
    params(("id" = RoleId, Path, description = "The role's id")),
    responses((status = 200, description = "The role", body = Role))
)]
#[tracing::instrument(skip_all, fields(role_id = %id))]
pub(crate) async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<RoleId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::RolesRead)?;
    let role = state.store.get_role(ctx, id.into_inner()).await?;
    Ok(conditional::read(&req, role.revision, &role))
}

/// `PATCH /api/v1/roles/{id}` (`If-Match` honoured): a custom role's description or
/// permissions, answered with its new `ETag`; a system role is a 409.
#[utoipa::path(
    patch,
    path = "/api/v1/roles/{id}",
    summary = "Change a custom role",
    tag = "roles",
    params(("id" = RoleId, Path, description = "The role's id")),
    request_body = PatchRoleBody,
    responses(
        (status = 200, description = "The role, changed", body = Role),
        (status = 409, description = "The role is a system role", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(role_id = %id))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<RoleId>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchRoleBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::RolesWrite)?;
    let role = state
        .store
        .update_role(
            ctx,
            id.into_inner(),
            body.into_patch()?,
            if_match.expected(),
        )
        .await?;
    Ok(conditional::tagged(role.revision, &role))
}

/// `DELETE /api/v1/roles/{id}` → 204; a system role, or a role someone holds, is a 409.
#[utoipa::path(
    delete,
    path = "/api/v1/roles/{id}",
    summary = "Delete a custom role",
    tag = "roles",
    params(("id" = RoleId, Path, description = "The role's id")),
    responses(
        (status = 204, description = "The role is deleted"),
        (status = 409, description = "The role is a system role, or someone holds it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(role_id = %id))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<RoleId>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::RolesWrite)?;
    state
        .store
        .delete_role(ctx, id.into_inner(), if_match.expected())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
