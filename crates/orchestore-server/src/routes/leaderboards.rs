//! `/api/v1/leaderboards` and `/api/v1/collaboration/settings`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use orchestore_api::leaderboards::{
    Leaderboard, LeaderboardParams, RankSettingsBody, RankSettingsReply,
};
use orchestore_domain::Permission;
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(leaderboard, get_settings, put_settings))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/leaderboards", "GET").route(web::get().to(leaderboard)))
        .service(
            super::resource("/collaboration/settings", "GET, PUT")
                .route(web::get().to(get_settings))
                .route(web::put().to(put_settings)),
        );
}

/// `GET /api/v1/leaderboards?kind=&period=&as_of=&limit=` → `{kind, period, as_of, items}`.
#[utoipa::path(
    get,
    path = "/api/v1/leaderboards",
    summary = "Read a leaderboard",
    tag = "leaderboards",
    params(LeaderboardParams),
    responses((status = 200, description = "The leaderboard's rows, the first rank first",
        body = Leaderboard))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn leaderboard(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<LeaderboardParams>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let query = params.into_query(Utc::now())?;
    let items = state.store.leaderboard(ctx, query).await?;
    Ok(HttpResponse::Ok().json(Leaderboard {
        kind: query.kind,
        period: query.period,
        as_of: query.as_of,
        items,
    }))
}

/// `GET /api/v1/collaboration/settings`.
#[utoipa::path(
    get,
    path = "/api/v1/collaboration/settings",
    summary = "Read the rank settings",
    tag = "leaderboards",
    responses((status = 200, description = "The level ladder and the ELO settings",
        body = RankSettingsReply))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn get_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let settings = state.store.get_rank_settings(ctx).await?;
    Ok(conditional::read(
        &req,
        settings.revision,
        &RankSettingsReply::from(settings),
    ))
}

/// `PUT /api/v1/collaboration/settings` with every field → the settings; with `If-Match` (or
/// the body's `revision`), only if they are still at that revision.
#[utoipa::path(
    put,
    path = "/api/v1/collaboration/settings",
    summary = "Replace the rank settings",
    tag = "leaderboards",
    request_body = RankSettingsBody,
    responses((status = 200, description = "The settings, replaced",
        body = RankSettingsReply))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn put_settings(
    state: web::Data<AppState>,
    auth: Authenticated,
    if_match: IfMatch,
    ApiJson(body): ApiJson<RankSettingsBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let expected = if_match.with_body(body.revision)?;
    let settings = state
        .store
        .set_rank_settings(ctx, body.into_rank_settings()?, expected)
        .await?;
    Ok(conditional::tagged(
        settings.revision,
        &RankSettingsReply::from(settings),
    ))
}
