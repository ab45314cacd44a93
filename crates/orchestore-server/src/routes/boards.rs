//! `/api/v1/leaderboards/settings`, `/api/v1/leaderboards/snapshots` and
//! `/api/v1/leaderboards/hall-of-fame`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    HallOfFameEntry, HallOfFameTop, LeaderboardKind, LeaderboardPeriod, LeaderboardSnapshot,
    LeaderboardSnapshotId, LeaderboardWeights, Permission, SnapshotBoard,
};
use orchestore_repo::{HallOfFameQuery, Limit, Page, SnapshotFilter, SnapshotSort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
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

/// The weights of the combined ranking, as `GET` shows them: each from 0 to 1,000, not all
/// three 0.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeaderboardWeightsBody {
    /// The weight of a holder's points.
    #[schema(minimum = 0, maximum = 1000)]
    points: f64,
    /// The weight of an agent's rating above or below the initial 1,500.
    #[schema(minimum = 0, maximum = 1000)]
    rating: f64,
    /// The weight of an agent's overall reputation.
    #[schema(minimum = 0, maximum = 1000)]
    reputation: f64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeaderboardSnapshotBody {
    #[schema(value_type = LeaderboardKind)]
    kind: String,
    /// `all_time` when left out; `month` and `week` for points only.
    #[schema(value_type = Option<LeaderboardPeriod>)]
    period: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SnapshotsQuery {
    /// Only snapshots of this kind of leaderboard.
    #[param(value_type = Option<LeaderboardKind>)]
    kind: Option<String>,
    /// Only snapshots over this period.
    #[param(value_type = Option<LeaderboardPeriod>)]
    period: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<SnapshotSort>)]
    sort: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct FameQuery {
    /// `points` (the default), `rating`, `reputation` or `combined`.
    #[param(value_type = Option<LeaderboardKind>)]
    kind: Option<String>,
    /// `all_time` (the default), `month` or `week` (points only).
    #[param(value_type = Option<LeaderboardPeriod>)]
    period: Option<String>,
    /// Count the ranks from 1 to `top`.
    #[param(minimum = 1, maximum = 100, default = 1)]
    top: Option<u64>,
    /// How many holders.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
}

/// A hall of fame as read: what was asked for, and its holders.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HallOfFame {
    kind: LeaderboardKind,
    period: LeaderboardPeriod,
    top: HallOfFameTop,
    items: Vec<HallOfFameEntry>,
}

fn kind_and_period(
    errors: &mut FieldErrors,
    kind: Option<&str>,
    period: Option<&str>,
) -> (Option<LeaderboardKind>, Option<LeaderboardPeriod>) {
    let kind = errors.check(kind.map_or(Ok(LeaderboardKind::Points), str::parse));
    let period = errors.check(period.map_or(Ok(LeaderboardPeriod::AllTime), str::parse));
    (kind, period)
}

/// `GET /api/v1/leaderboards/settings` → `{points, rating, reputation}`.
#[utoipa::path(
    get,
    path = "/api/v1/leaderboards/settings",
    summary = "Read the weights of the combined ranking",
    tag = "boards",
    responses((status = 200, description = "The weights of the combined ranking",
        body = LeaderboardWeights))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn get_weights(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let weights = state.store.get_leaderboard_weights(ctx).await?;
    Ok(HttpResponse::Ok().json(weights))
}

/// `PUT /api/v1/leaderboards/settings` with `{points, rating, reputation}` → the weights.
#[utoipa::path(
    put,
    path = "/api/v1/leaderboards/settings",
    summary = "Replace the weights of the combined ranking",
    tag = "boards",
    request_body = LeaderboardWeightsBody,
    responses((status = 200, description = "The weights, replaced", body = LeaderboardWeights))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn put_weights(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<LeaderboardWeightsBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let mut errors = FieldErrors::default();
    let Some(weights) = errors.check(LeaderboardWeights::parse(
        body.points,
        body.rating,
        body.reputation,
    )) else {
        return Err(errors.into_error().into());
    };
    let weights = state.store.set_leaderboard_weights(ctx, weights).await?;
    Ok(HttpResponse::Ok().json(weights))
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
    let mut errors = FieldErrors::default();
    let (kind, period) = kind_and_period(&mut errors, Some(&body.kind), body.period.as_deref());
    let (Some(kind), Some(period)) = (kind, period) else {
        return Err(errors.into_error().into());
    };
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
    let mut errors = FieldErrors::default();
    let kind = errors.check(query.kind.as_deref().map(str::parse).transpose());
    let period = errors.check(query.period.as_deref().map(str::parse).transpose());
    let page = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let (Some(kind), Some(period), Some(page)) = (kind, period, page) else {
        return Err(errors.into_error().into());
    };
    let filter = SnapshotFilter { kind, period };
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
    let mut errors = FieldErrors::default();
    let (kind, period) =
        kind_and_period(&mut errors, query.kind.as_deref(), query.period.as_deref());
    let top = errors.check(
        query
            .top
            .map_or(Ok(HallOfFameTop::default()), HallOfFameTop::parse),
    );
    let limit = errors.check(query.limit.map_or(Ok(Limit::default()), Limit::parse));
    let (Some(kind), Some(period), Some(top), Some(limit)) = (kind, period, top, limit) else {
        return Err(errors.into_error().into());
    };
    let items = state
        .store
        .hall_of_fame(
            ctx,
            HallOfFameQuery {
                kind,
                period,
                top,
                limit,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(HallOfFame {
        kind,
        period,
        top,
        items,
    }))
}
