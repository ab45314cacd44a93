//! `/api/v1/me/api-keys` (the caller's own keys, e.g. a service account's or a personal access
//! token) and `/api/v1/users/{id}/api-keys` (an administrator's view of a user's keys); the
//! body that creates a key, shared with `/api/v1/agents/{id}/api-keys`.
//!
//! A key that creates a key creates no more than itself: it must name the new key's scopes,
//! each one it grants now, and when it expires, the new key must expire no later.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    ApiKey, ApiKeyId, DomainError, KeyExpiry, KeyOwner, KeyScopes, Name, NewApiKey, Permission,
    UserId,
};
use orchestore_repo::{ApiKeySort, Page, PageRequest};
use serde::{Deserialize, Serialize};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateApiKeyBody {
    /// What the key is for, e.g. the host its worker runs on or the service that uses it.
    name: String,
    /// Permission codes the key is limited to; absent for all of its owner's.
    scopes: Option<Vec<String>>,
    /// When the key stops working; absent for never.
    expires_at: Option<DateTime<Utc>>,
}

impl CreateApiKeyBody {
    /// The key to create for `owner`, within what the calling key grants when the caller
    /// presented one. Every bad field is reported.
    pub(crate) fn into_new_key(
        self,
        owner: KeyOwner,
        auth: &Authenticated,
    ) -> Result<NewApiKey, ApiError> {
        let calling = auth.presented_key();
        let mut errors = FieldErrors::default();
        let name = errors.check(Name::parse("name", &self.name));
        let scopes = errors.check(match (&self.scopes, calling) {
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
        let expires_at = errors.check(match (self.expires_at, latest) {
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
            return Err(errors.into_error());
        };
        Ok(NewApiKey {
            owner,
            name,
            scopes,
            expires_at,
        })
    }
}

/// A key in the caller's list, marked when it is the one the request presented.
#[derive(Serialize)]
struct MyKey {
    #[serde(flatten)]
    key: ApiKey,
    current: bool,
}

/// `POST /api/v1/me/api-keys` `{name, scopes?, expires_at?}` → 201 with the key and its
/// `secret` (`osk_…`), shown this once. The key acts as the caller, with its scopes that the
/// caller holds at each request; a scope the caller does not hold now is a 422.
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn create_mine(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateApiKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.user_id()?;
    let new = body.into_new_key(KeyOwner::User(user), &auth)?;
    let issued = state.store.create_api_key(auth.ctx(), new).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/me/api-keys/{}", issued.key.id)))
        .json(issued))
}

/// `GET /api/v1/me/api-keys?limit=&cursor=&sort=`: the caller's keys, revoked and expired ones
/// included, without secrets.
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
