//! The caller.

use actix_web::{HttpResponse, web};
use orchestore_domain::{Permission, User};
use serde::Serialize;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::resource("/me", "GET").route(web::get().to(me)));
}

#[derive(Serialize)]
struct MeResponse {
    user: User,
    /// The permission codes the user's roles grant now (a token carries those of its issue).
    permissions: Vec<&'static str>,
}

/// `GET /api/v1/me`.
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn me(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let user = state.store.get_user(auth.ctx(), auth.user_id()?).await?;
    let permissions = state
        .store
        .user_permissions(auth.ctx(), auth.user_id()?)
        .await?;
    Ok(HttpResponse::Ok().json(MeResponse {
        user,
        permissions: permissions.into_iter().map(Permission::code).collect(),
    }))
}
