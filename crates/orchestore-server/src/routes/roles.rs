//! `/api/v1/roles`: the system roles every organization shares and the organization's own.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_domain::{
    Description, DomainError, NewRole, Permission, RoleCode, RoleId, RolePatch,
};
use orchestore_repo::{PageRequest, RoleSort};
use serde::Deserialize;

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, FieldErrors};
use crate::extract::{ApiJson, ApiQuery, PatchField};
use crate::state::AppState;

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

/// Parses permission codes, naming the `permissions` field.
fn permissions(codes: &[String]) -> Result<Vec<Permission>, DomainError> {
    codes
        .iter()
        .map(|code| {
            code.parse::<Permission>().map_err(|_| {
                DomainError::invalid("permissions", format!("{code:?} is not a permission"))
            })
        })
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRoleBody {
    code: String,
    description: Option<String>,
    /// Permission codes such as `tasks:read`.
    permissions: Option<Vec<String>>,
}

impl CreateRoleBody {
    fn into_new_role(self) -> Result<NewRole, ApiError> {
        let mut errors = FieldErrors::default();
        let code = errors.check(RoleCode::parse("code", &self.code));
        let description = errors.check(self.description.map_or(Ok(Description::empty()), |d| {
            Description::parse("description", &d)
        }));
        let permissions =
            errors.check(self.permissions.map_or(Ok(Vec::new()), |p| permissions(&p)));
        let (Some(code), Some(description), Some(permissions)) = (code, description, permissions)
        else {
            return Err(errors.into_error());
        };
        Ok(NewRole {
            code,
            description,
            permissions,
        })
    }
}

/// Absent fields stay as they are; `permissions` replaces the whole set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchRoleBody {
    #[serde(default)]
    description: PatchField<String>,
    #[serde(default)]
    permissions: PatchField<Vec<String>>,
}

impl PatchRoleBody {
    fn into_patch(self) -> Result<RolePatch, ApiError> {
        let mut errors = FieldErrors::default();
        let description = errors.check(
            self.description
                .parse_required("description", |d| Description::parse("description", &d)),
        );
        let permissions = errors.check(
            self.permissions
                .parse_required("permissions", |p| permissions(&p)),
        );
        let (Some(description), Some(permissions)) = (description, permissions) else {
            return Err(errors.into_error());
        };
        Ok(RolePatch {
            description,
            permissions,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListRolesQuery {
    limit: Option<u64>,
    cursor: Option<String>,
    sort: Option<String>,
}

impl ListRolesQuery {
    fn into_page_request(self) -> Result<PageRequest<RoleSort>, ApiError> {
        let mut errors = FieldErrors::default();
        super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        )
        .ok_or_else(|| errors.into_error())
    }
}

/// `POST /api/v1/roles` → 201 with `Location`: a custom role of the caller's organization.
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
