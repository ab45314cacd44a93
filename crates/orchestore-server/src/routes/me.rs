//! The caller.

use actix_web::{HttpResponse, web};
use orchestore_api::me::{ChangePasswordBody, MeResponse};
use orchestore_domain::{Password, PasswordHash};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(me, change_password))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/me", "GET").route(web::get().to(me)))
        .service(super::resource("/me/password", "POST").route(web::post().to(change_password)));
}

/// `GET /api/v1/me`: the calling user (the owner, for a user's API key) and the permissions
/// the caller holds now.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    summary = "Get the caller",
    tag = "me",
    responses((status = 200, description = "The caller and their permissions", body = MeResponse))
)]
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn me(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let user = state.store.get_user(auth.ctx(), auth.user_id()?).await?;
    let permissions = match auth.presented_key() {
        Some(_) => auth.permissions().to_vec(),
        None => {
            state
                .store
                .user_permissions(auth.ctx(), auth.user_id()?)
                .await?
        }
    };
    Ok(HttpResponse::Ok().json(MeResponse { user, permissions }))
}

/// `POST /api/v1/me/password`: the caller's new password, given the current one. Their other
/// sessions are revoked; this one stays. A wrong current password, or a new one that breaks
/// the policy, is 422 and changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    summary = "Change the caller's password",
    tag = "me",
    request_body = ChangePasswordBody,
    responses((status = 204, description = "The password is changed; other sessions are revoked"))
)]
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn change_password(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, session) = auth.user_session()?;
    let user = state.store.get_user(auth.ctx(), user_id).await?;
    let new = body.new_password_for(&user.email)?;
    let cost = state.password_cost;
    let new_hash = tokio::task::spawn_blocking(move || PasswordHash::hash(&new, cost))
        .await
        .map_err(|e| ApiError::internal(format!("hashing a password: {e}")))??;
    state
        .store
        .change_password(
            auth.ctx(),
            user_id,
            &Password::offered(&body.current_password),
            new_hash,
            Some(session),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
