//! The caller.

use actix_web::{HttpResponse, web};
use orchestore_domain::{Password, PasswordHash, Permission, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
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

/// The caller and what they may do.
#[derive(Serialize, ToSchema)]
struct MeResponse {
    user: User,
    /// The permission codes the user's roles grant now (a token carries those of its issue);
    /// for an API key, what the key grants now.
    #[schema(value_type = Vec<String>)]
    permissions: Vec<&'static str>,
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
    Ok(HttpResponse::Ok().json(MeResponse {
        user,
        permissions: permissions.into_iter().map(Permission::code).collect(),
    }))
}

// No `Debug`: it holds passwords.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangePasswordBody {
    #[schema(format = Password)]
    current_password: String,
    /// Must meet the password policy.
    #[schema(format = Password)]
    new_password: String,
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
    let mut errors = FieldErrors::default();
    let new = errors.check(
        Password::for_account(&body.new_password, &user.email)
            .map_err(|e| e.for_field("new_password")),
    );
    let Some(new) = new else {
        return Err(errors.into_error().into());
    };
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
