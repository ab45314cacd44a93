//! `/api/v1/me/api-keys` (the caller's own keys, e.g. a service account's or a personal access
//! token) and `/api/v1/users/{id}/api-keys` (an administrator's view of a user's keys); what
//! the body that creates a key may ask for, checked for `/api/v1/agents/{id}/api-keys` too.
//!
//! A key that creates a key creates no more than itself: it must name the new key's scopes,
//! each one it grants now, and when it expires, the new key must expire no later.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use orchestore_api::api_keys::{CreateApiKeyBody, MyKey};
use orchestore_domain::{
    ApiKey, ApiKeyId, DomainError, IssuedApiKey, KeyExpiry, KeyOwner, KeyScopes, Name, NewApiKey,
    Permission, UserId,
};
use orchestore_repo::{ApiKeySort, Page, PageRequest};
use serde::Deserialize;

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create_mine, list_mine, revoke_mine, list_users, revoke_users))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/me/api-keys", "GET, POST")
            .route(web::get().to(list_mine))
            .route(web::post().to(create_mine)),
    )
    .service(super::resource("/me/api-keys/{id}", "DELETE").route(web::delete().to(revoke_mine)))
    .service(super::resource("/users/{id}/api-keys", "GET").route(web::get().to(list_users)))
    .service(
        super::resource("/users/{id}/api-keys/{key_id}", "DELETE")
            .route(web::delete().to(revoke_users)),
    );
}

/// The key `body` asks for `owner`, within what the calling key grants when the caller
/// presented one. Every bad field is reported.
pub(crate) fn new_key(
    body: CreateApiKeyBody,
    owner: KeyOwner,
    auth: &Authenticated,
) -> Result<NewApiKey, ApiError> {
    let calling = auth.presented_key();
    let mut errors = FieldErrors::default();
    let name = errors.check(Name::parse("name", &body.name));
    let scopes = errors.check(match (&body.scopes, calling) {
        (None, None) => Ok(KeyScopes::owners()),
        (Some(codes), None) => KeyScopes::parse(codes),
        (None, Some(_)) => Err(DomainError::invalid(
            "scopes",
            "a key that creates a key must name its scopes",
        )),
        (Some(codes), Some(_)) => KeyScopes::parse(codes).and_then(|scopes| {
            scopes.within(auth.permissions(), "the calling key")?;
            Ok(scopes)
        }),
    });
    let latest = calling.and_then(|key| key.expires_at);
    let expires_at = errors.check(match (body.expires_at, latest) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(DomainError::invalid(
            "expires_at",
            "the calling key expires: so must the key it creates, no later",
        )),
        (Some(at), latest) => KeyExpiry::parse(at, Utc::now()).and_then(|expiry| {
            if latest.is_some_and(|latest| expiry.at() > latest) {
                Err(DomainError::invalid(
                    "expires_at",
                    "must be no later than the calling key's expiry",
                ))
            } else {
                Ok(Some(expiry))
            }
        }),
    });
    let (Some(name), Some(scopes), Some(expires_at)) = (name, scopes, expires_at) else {
        return Err(errors.into_error().into());
    };
    Ok(NewApiKey {
        owner,
        name,
        scopes,
        expires_at,
    })
}

/// `POST /api/v1/me/api-keys` `{name, scopes?, expires_at?}` → 201 with the key and its
/// `secret` (`osk_…`), shown this once. The key acts as the caller, with its scopes that the
/// caller holds at each request; a scope the caller does not hold now is a 422.
#[utoipa::path(
    post,
    path = "/api/v1/me/api-keys",
    summary = "Create an API key for the caller",
    tag = "api_keys",
    request_body = CreateApiKeyBody,
    responses(
        (status = 201, description = "The key, with its secret shown this once",
            body = IssuedApiKey, headers(("Location" = String, description = "The key's URL"))),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn create_mine(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateApiKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.user_id()?;
    let new = new_key(body, KeyOwner::User(user), &auth)?;
    let issued = state.store.create_api_key(auth.ctx(), new).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/me/api-keys/{}", issued.key.id)))
        .json(issued))
}

/// `GET /api/v1/me/api-keys?limit=&cursor=&sort=`: the caller's keys, revoked and expired ones
/// included, without secrets.
#[utoipa::path(
    get,
    path = "/api/v1/me/api-keys",
    summary = "List the caller's API keys",
    tag = "api_keys",
    params(
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200,
            description = "Rows per page (50 when absent)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<ApiKeySort>, Query),
    ),
    responses((status = 200, description = "A page of the caller's keys",
        body = Page<MyKey, ApiKeySort>))
)]
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn list_mine(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<super::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.user_id()?;
    let page: PageRequest<ApiKeySort> = query.into_page_request()?;
    let keys = state
        .store
        .list_api_keys(auth.ctx(), KeyOwner::User(user), page)
        .await?;
    let current = auth.presented_key().map(|key| key.id);
    Ok(HttpResponse::Ok().json(Page {
        items: keys
            .items
            .into_iter()
            .map(|key| MyKey {
                current: Some(key.id) == current,
                key,
            })
            .collect(),
        next_cursor: keys.next_cursor,
    }))
}

/// `DELETE /api/v1/me/api-keys/{id}` → 204: the key stops working at once (another user's key
/// is 404).
#[utoipa::path(
    delete,
    path = "/api/v1/me/api-keys/{id}",
    summary = "Revoke one of the caller's API keys",
    tag = "api_keys",
    params(("id" = ApiKeyId, Path, description = "The key's id")),
    responses((status = 204, description = "The key is revoked"))
)]
#[tracing::instrument(skip_all, fields(principal = %auth.principal(), key_id = %id))]
pub(crate) async fn revoke_mine(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ApiKeyId>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.user_id()?;
    state
        .store
        .revoke_api_key(auth.ctx(), KeyOwner::User(user), id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/users/{id}/api-keys?limit=&cursor=&sort=` (`users:write`): a user's keys,
/// without secrets.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/api-keys",
    summary = "List a user's API keys",
    tag = "api_keys",
    params(
        ("id" = UserId, Path, description = "The user's id"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200,
            description = "Rows per page (50 when absent)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<ApiKeySort>, Query),
    ),
    responses((status = 200, description = "A page of the user's keys",
        body = Page<ApiKey, ApiKeySort>))
)]
#[tracing::instrument(skip_all, fields(user_id = %id))]
pub(crate) async fn list_users(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<UserId>,
    ApiQuery(query): ApiQuery<super::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::UsersWrite)?;
    let page: PageRequest<ApiKeySort> = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_api_keys(ctx, KeyOwner::User(id.into_inner()), page)
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct UserKeyPath {
    id: UserId,
    key_id: ApiKeyId,
}

/// `DELETE /api/v1/users/{id}/api-keys/{key_id}` (`users:write`) → 204: the key stops working
/// at once.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/api-keys/{key_id}",
    summary = "Revoke a user's API key",
    tag = "api_keys",
    params(
        ("id" = UserId, Path, description = "The user's id"),
        ("key_id" = ApiKeyId, Path, description = "The key's id"),
    ),
    responses((status = 204, description = "The key is revoked"))
)]
#[tracing::instrument(skip_all, fields(user_id = %path.id, key_id = %path.key_id))]
pub(crate) async fn revoke_users(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<UserKeyPath>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::UsersWrite)?;
    state
        .store
        .revoke_api_key(ctx, KeyOwner::User(path.id), path.key_id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
