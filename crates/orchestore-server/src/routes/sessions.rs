//! `/api/v1/sessions`: the caller's own logins, and revoking them.

use actix_web::{HttpResponse, web};
use orchestore_api::PageQuery;
use orchestore_api::sessions::{RevokeAllQuery, Revoked, SessionItem};
use orchestore_domain::SessionId;
use orchestore_repo::{Page, PageRequest, SessionSort};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, revoke, revoke_all))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/sessions", "GET, DELETE")
            .route(web::get().to(list))
            .route(web::delete().to(revoke_all)),
    )
    .service(super::resource("/sessions/{id}", "DELETE").route(web::delete().to(revoke)));
}

/// `GET /api/v1/sessions?limit=&cursor=&sort=`: the caller's live sessions, newest first
/// unless sorted otherwise.
#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    summary = "List the caller's sessions",
    tag = "sessions",
    params(
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200,
            description = "Rows per page (50 when absent)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<SessionSort>, Query),
    ),
    responses((status = 200, description = "A page of the caller's live sessions",
        body = Page<SessionItem, SessionSort>))
)]
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (user, current) = auth.user_session()?;
    let page: PageRequest<SessionSort> = query.into_page_request()?;
    let sessions = state.store.list_sessions(auth.ctx(), user, page).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: sessions
            .items
            .into_iter()
            .map(|session| SessionItem {
                current: session.id == current,
                session,
            })
            .collect(),
        next_cursor: sessions.next_cursor,
    }))
}

/// `DELETE /api/v1/sessions/{id}`: revokes one of the caller's sessions (another user's, or
/// one already revoked, is 404). Its access and refresh tokens stop at once.
#[utoipa::path(
    delete,
    path = "/api/v1/sessions/{id}",
    summary = "Revoke one of the caller's sessions",
    tag = "sessions",
    params(("id" = SessionId, Path, description = "The session's id")),
    responses((status = 204, description = "The session is revoked"))
)]
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn revoke(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<SessionId>,
) -> Result<HttpResponse, ApiError> {
    let (user, _) = auth.user_session()?;
    state
        .store
        .revoke_session(auth.ctx(), user, id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /api/v1/sessions[?except_current=true]`: logs the caller out everywhere.
#[utoipa::path(
    delete,
    path = "/api/v1/sessions",
    summary = "Revoke all of the caller's sessions",
    tag = "sessions",
    params(RevokeAllQuery),
    responses((status = 200, description = "How many sessions were revoked", body = Revoked))
)]
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn revoke_all(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<RevokeAllQuery>,
) -> Result<HttpResponse, ApiError> {
    let (user, current) = auth.user_session()?;
    let keep = query.except_current.then_some(current);
    let revoked = state
        .store
        .revoke_user_sessions(auth.ctx(), user, keep)
        .await?;
    Ok(HttpResponse::Ok().json(Revoked { revoked }))
}
