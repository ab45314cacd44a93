//! `/api/v1/users` and the roles each user holds.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::users::{
    AssignRoleBody, CreateUserBody, ListUsersQuery, LookupUserQuery, PatchUserBody, RoleList,
};
use orchestore_domain::{
    DomainError, Email, NewUser, PasswordHash, Permission, RoleCode, RoleId, User, UserId, Username,
};
use orchestore_repo::{Ctx, Page, RepoError, UserFilter, UserSort};

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, FieldErrors, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, list, lookup, get, update, roles, assign_role, remove_role))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/users", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    // Before `/users/{id}`, which would take `lookup` for an id.
    .service(super::resource("/users/lookup", "GET").route(web::get().to(lookup)))
    .service(
        super::resource("/users/{id}", "GET, PATCH")
            .route(web::get().to(get))
            .route(web::patch().to(update)),
    )
    .service(
        super::resource("/users/{id}/roles", "GET, POST")
            .route(web::get().to(roles))
            .route(web::post().to(assign_role)),
    )
    .service(
        super::resource("/users/{id}/roles/{role_id}", "DELETE")
            .route(web::delete().to(remove_role)),
    );
}

/// The id of the role `code` names in the caller's organization; an unknown code is a 422 on
/// `field`.
async fn role_named(
    state: &AppState,
    ctx: &Ctx,
    field: &'static str,
    code: RoleCode,
) -> Result<RoleId, ApiError> {
    match state.store.find_role_by_code(ctx, &code).await? {
        Some(role) => Ok(role.id),
        None => Err(RepoError::reference(field, "role", code).into()),
    }
}

/// A role named in a query string: by id or by code.
enum RoleRef {
    Id(RoleId),
    Code(RoleCode),
}

impl RoleRef {
    fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.parse::<RoleId>() {
            Ok(id) => Ok(Self::Id(id)),
            Err(_) => RoleCode::parse("role", raw).map(Self::Code),
        }
    }
}

/// `POST /api/v1/users` → 201 with `Location`. Granting roles at creation needs
/// `roles:write` too, as granting them later does.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    summary = "Create a user",
    tag = "users",
    request_body = CreateUserBody,
    responses(
        (status = 201, description = "The user, created", body = User,
            headers(("Location" = String, description = "The user's URL"))),
        (status = 409, description = "A user has this email or username", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::UsersWrite)?;
    let user = body.into_user_to_create()?;
    if !user.roles.is_empty() {
        auth.require(Permission::RolesWrite)?;
    }
    let cost = state.password_cost;
    let password = user.password;
    let password_hash = tokio::task::spawn_blocking(move || PasswordHash::hash(&password, cost))
        .await
        .map_err(|e| ApiError::internal(format!("hashing a password: {e}")))??;
    let new = NewUser {
        email: user.email,
        username: user.username,
        display_name: user.display_name,
        password_hash,
        roles: user.roles,
    };
    let user = state.store.create_user(ctx, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/users/{}", user.id)))
        .json(user))
}

/// `GET /api/v1/users?active=&role=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    summary = "List users",
    tag = "users",
    params(ListUsersQuery),
    responses((status = 200, description = "A page of users", body = Page<User, UserSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListUsersQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::UsersRead)?;
    let mut errors = FieldErrors::default();
    let role = errors.check(query.role.as_deref().map(RoleRef::parse).transpose());
    let page = super::page_request::<UserSort>(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let (Some(role), Some(page)) = (role, page) else {
        return Err(errors.into_error().into());
    };
    let role = match role {
        None => None,
        Some(RoleRef::Id(id)) => Some(id),
        Some(RoleRef::Code(code)) => Some(role_named(&state, ctx, "role", code).await?),
    };
    let filter = UserFilter {
        active: query.active,
        role,
    };
    Ok(HttpResponse::Ok().json(state.store.list_users(ctx, filter, page).await?))
}

/// `GET /api/v1/users/lookup?email=` or `?username=` → 200 with the user of the caller's
/// organization who has that address or handle (either compared without case, as stored),
/// or 404.
#[utoipa::path(
    get,
    path = "/api/v1/users/lookup",
    summary = "Find a user by e-mail address or username",
    tag = "users",
    params(LookupUserQuery),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 404, description = "No user of the organization has this address or \
            username", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn lookup(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<LookupUserQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::UsersRead)?;
    let user = match (query.email, query.username) {
        (Some(email), None) => {
            let email = Email::parse(&email)?;
            state.store.find_user_by_email(ctx, &email).await?
        }
        (None, Some(username)) => {
            let username = Username::parse(&username)?;
            state.store.find_user_by_username(ctx, &username).await?
        }
        _ => {
            return Err(DomainError::invalid(
                "email",
                "give either email or username (a user's handle), not both",
            )
            .into());
        }
    };
    match user {
        Some(user) => Ok(HttpResponse::Ok().json(user)),
        None => Err(ApiError::NotFound(
            "no user of this organization has it".to_owned(),
        )),
    }
}

/// `GET /api/v1/users/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    summary = "Get a user",
    tag = "users",
    params(("id" = UserId, Path, description = "The user's id")),
    responses((status = 200, description = "The user", body = User))
)]
#[tracing::instrument(skip_all, fields(target_user_id = %id))]
pub(crate) async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::UsersRead)?;
    let user = state.store.get_user(ctx, id.into_inner()).await?;
    Ok(conditional::read(&req, user.revision, &user))
}

/// `PATCH /api/v1/users/{id}` (`If-Match` honoured) → the user and its new `ETag`: the fields
/// and the activation change in one transaction, so a refused deactivation leaves the other
/// fields as they were.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    summary = "Change or deactivate a user",
    tag = "users",
    params(("id" = UserId, Path, description = "The user's id")),
    request_body = PatchUserBody,
    responses(
        (status = 200, description = "The user, changed", body = User),
        (status = 409, description = "Another user has this username, or the deactivation \
            would leave the organization without an active owner", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(target_user_id = %id))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<UserId>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchUserBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::UsersWrite)?;
    let (patch, active) = body.into_patch()?;
    let id = id.into_inner();
    let expected = if_match.expected();
    let user = orchestore_repo::transaction(state.store.as_ref(), async |tx| {
        // An expected revision is compared under the row's lock even when only the activation
        // changes: an empty patch takes the lock and compares, and writes nothing.
        let mut user = if patch.is_empty() && expected.is_none() {
            tx.get_user(ctx, id).await?
        } else {
            tx.update_user(ctx, id, patch, expected).await?
        };
        if let Some(active) = active {
            user = tx.set_user_active(ctx, id, active).await?;
        }
        Ok(user)
    })
    .await?;
    Ok(conditional::tagged(user.revision, &user))
}

/// `GET /api/v1/users/{id}/roles` → `{"items": [role, …]}`, sorted by code.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/roles",
    summary = "List a user's roles",
    tag = "users",
    params(("id" = UserId, Path, description = "The user's id")),
    responses((status = 200, description = "The roles the user holds", body = RoleList))
)]
#[tracing::instrument(skip_all, fields(target_user_id = %id))]
pub(crate) async fn roles(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::UsersRead)?;
    let items = state.store.user_roles(ctx, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(RoleList { items }))
}

/// `POST /api/v1/users/{id}/roles` `{"role_id": …}` or `{"role": "developer"}` → 200 with the
/// roles the user holds now. Granting a role held already changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/roles",
    summary = "Grant a user a role",
    tag = "users",
    params(("id" = UserId, Path, description = "The user's id")),
    request_body = AssignRoleBody,
    responses((status = 200, description = "The roles the user holds now", body = RoleList))
)]
#[tracing::instrument(skip_all, fields(target_user_id = %id))]
pub(crate) async fn assign_role(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<UserId>,
    ApiJson(body): ApiJson<AssignRoleBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::RolesWrite)?;
    let mut errors = FieldErrors::default();
    let role = match (body.role_id, body.role) {
        (Some(id), None) => id,
        (None, Some(code)) => match errors.check(RoleCode::parse("role", &code)) {
            Some(code) => role_named(&state, ctx, "role", code).await?,
            None => return Err(errors.into_error().into()),
        },
        _ => {
            return Err(DomainError::invalid(
                "role",
                "give either role_id or role (a role code), not both",
            )
            .into());
        }
    };
    let items = state.store.assign_role(ctx, id.into_inner(), role).await?;
    Ok(HttpResponse::Ok().json(RoleList { items }))
}

/// `DELETE /api/v1/users/{id}/roles/{role_id}` → 204.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/roles/{role_id}",
    summary = "Take a role from a user",
    tag = "users",
    params(
        ("id" = UserId, Path, description = "The user's id"),
        ("role_id" = RoleId, Path, description = "The role's id"),
    ),
    responses(
        (status = 204, description = "The user no longer holds the role"),
        (status = 409, description = "It is the owner role of the organization's last active \
            owner", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(target_user_id = %path.0, role_id = %path.1))]
pub(crate) async fn remove_role(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(UserId, RoleId)>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::RolesWrite)?;
    let (user, role) = path.into_inner();
    state.store.remove_role(ctx, user, role).await?;
    Ok(HttpResponse::NoContent().finish())
}
