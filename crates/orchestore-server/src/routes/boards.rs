//! `/api/v1/leaderboards/settings`, `/api/v1/leaderboards/snapshots` and
//! `/api/v1/leaderboards/hall-of-fame`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::boards::{
    FameQuery, HallOfFame, LeaderboardSnapshotBody, LeaderboardWeightsBody,
    LeaderboardWeightsReply, SnapshotsQuery,
};
use orchestore_domain::{LeaderboardSnapshot, LeaderboardSnapshotId, Permission, SnapshotBoard};
use orchestore_repo::{Page, SnapshotSort};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    get_weights,
    put_weights,
    take_snapshot,
    list_snapshots,
    get_snapshot,
    hall_of_fame
))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/leaderboards/settings", "GET, PUT")
            .route(web::get().to(get_weights))
            .route(web::put().to(put_weights)),
    )
    .service(
        super::resource("/leaderboards/snapshots", "GET, POST")
            .route(web::get().to(list_snapshots))
            .route(web::post().to(take_snapshot)),
    )
    .service(
        super::resource("/leaderboards/snapshots/{id}", "GET").route(web::get().to(get_snapshot)),
    )
    .service(
        super::resource("/leaderboards/hall-of-fame", "GET").route(web::get().to(hall_of_fame)),
    );
}

/// `GET /api/v1/leaderboards/settings` → `{points, rating, reputation, revision}`.
#[utoipa::path(
    get,
    path = "/api/v1/leaderboards/settings",
    summary = "Read the weights of the combined ranking",
    tag = "boards",
    responses((status = 200, description = "The weights of the combined ranking",
        body = LeaderboardWeightsReply))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn get_weights(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let weights = state.store.get_leaderboard_weights(ctx).await?;
    Ok(conditional::read(
        &req,
        weights.revision,
        &LeaderboardWeightsReply::from(weights),
    ))
}

/// `PUT /api/v1/leaderboards/settings` with `{points, rating, reputation}` → the weights; with
/// `If-Match` (or the body's `revision`), only if they are still at that revision.
#[utoipa::path(
    put,
    path = "/api/v1/leaderboards/settings",
    summary = "Replace the weights of the combined ranking",
    tag = "boards",
    request_body = LeaderboardWeightsBody,
    responses((status = 200, description = "The weights, replaced", body = LeaderboardWeightsReply))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn put_weights(
    state: web::Data<AppState>,
    auth: Authenticated,
    if_match: IfMatch,
    ApiJson(body): ApiJson<LeaderboardWeightsBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let expected = if_match.with_body(body.revision)?;
    let weights = state
        .store
        .set_leaderboard_weights(ctx, body.into_weights()?, expected)
        .await?;
    Ok(conditional::tagged(
        weights.revision,
        &LeaderboardWeightsReply::from(weights),
    ))
}

/// `POST /api/v1/leaderboards/snapshots` with `{kind, period?}` → 201, the snapshot with its
/// rows.
#[utoipa::path(
    post,
    path = "/api/v1/leaderboards/snapshots",
    summary = "Take a snapshot of a leaderboard",
    tag = "boards",
    request_body = LeaderboardSnapshotBody,
    responses(
        (status = 201, description = "The snapshot with its rows", body = SnapshotBoard,
            headers(("Location" = String, description = "The snapshot's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn take_snapshot(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<LeaderboardSnapshotBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let (kind, period) = body.into_kind_and_period()?;
    let board = state
        .store
        .take_leaderboard_snapshot(ctx, kind, period)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("/api/v1/leaderboards/snapshots/{}", board.snapshot.id),
        ))
        .json(board))
}

/// `GET /api/v1/leaderboards/snapshots?kind=&period=&limit=&cursor=&sort=` (`-taken_at` or
/// `taken_at`), without their rows.
#[utoipa::path(
    get,
    path = "/api/v1/leaderboards/snapshots",
    summary = "List leaderboard snapshots",
    tag = "boards",
    params(SnapshotsQuery),
    responses((status = 200, description = "A page of snapshots, without their rows",
        body = Page<LeaderboardSnapshot, SnapshotSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list_snapshots(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<SnapshotsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_leaderboard_snapshots(ctx, filter, page)
            .await?,
    ))
}

/// `GET /api/v1/leaderboards/snapshots/{id}` → the snapshot with its rows.
#[utoipa::path(
    get,
    path = "/api/v1/leaderboards/snapshots/{id}",
    summary = "Get a leaderboard snapshot",
    tag = "boards",
    params(("id" = LeaderboardSnapshotId, Path, description = "The snapshot's id")),
    responses((status = 200, description = "The snapshot with its rows", body = SnapshotBoard))
)]
#[tracing::instrument(skip_all, fields(snapshot_id = %id))]
pub(crate) async fn get_snapshot(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<LeaderboardSnapshotId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .get_leaderboard_snapshot(ctx, id.into_inner())
            .await?,
    ))
}

/// `GET /api/v1/leaderboards/hall-of-fame?kind=&period=&top=&limit=` →
/// `{kind, period, top, items: [{holder, times, best_rank, first_at, last_at}]}`.
#[utoipa::path(
    get,
    path = "/api/v1/leaderboards/hall-of-fame",
    summary = "Read a hall of fame",
    tag = "boards",
    params(FameQuery),
    responses((status = 200, description = "The holders the leaderboard's snapshots ranked \
        within the top, most often first", body = HallOfFame))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn hall_of_fame(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<FameQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let query = query.into_hall_of_fame_query()?;
    let items = state.store.hall_of_fame(ctx, query).await?;
    Ok(HttpResponse::Ok().json(HallOfFame {
        kind: query.kind,
        period: query.period,
        top: query.top,
        items,
    }))
}
