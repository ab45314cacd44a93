//! `/api/v1/leaderboards/settings`, `/api/v1/leaderboards/snapshots` and
//! `/api/v1/leaderboards/hall-of-fame`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    HallOfFameTop, LeaderboardKind, LeaderboardPeriod, LeaderboardSnapshotId, LeaderboardWeights,
    Permission,
};
use orchestore_repo::{HallOfFameQuery, Limit, SnapshotFilter};
use serde::Deserialize;
use serde_json::json;

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

/// The weights of the combined ranking, as `GET` shows them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WeightsBody {
    points: f64,
    rating: f64,
    reputation: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotBody {
    kind: String,
    /// `all_time` when left out.
    period: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotsQuery {
    kind: Option<String>,
    period: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
    sort: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FameQuery {
    /// `points` (the default), `rating`, `reputation` or `combined`.
    kind: Option<String>,
    /// `all_time` (the default), `month` or `week` (points only).
    period: Option<String>,
    /// Count the ranks from 1 to `top`: 1 (the default) to 100.
    top: Option<u64>,
    /// 1 to 200, 50 by default.
    limit: Option<u64>,
}

fn weights_json(weights: LeaderboardWeights) -> serde_json::Value {
    json!({
        "points": weights.points(),
        "rating": weights.rating(),
        "reputation": weights.reputation(),
    })
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
#[tracing::instrument(skip_all)]
pub(crate) async fn get_weights(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let weights = state.store.get_leaderboard_weights(ctx).await?;
    Ok(HttpResponse::Ok().json(weights_json(weights)))
}

/// `PUT /api/v1/leaderboards/settings` with `{points, rating, reputation}` → the weights.
#[tracing::instrument(skip_all)]
pub(crate) async fn put_weights(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<WeightsBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let mut errors = FieldErrors::default();
    let Some(weights) = errors.check(LeaderboardWeights::parse(
        body.points,
        body.rating,
        body.reputation,
    )) else {
        return Err(errors.into_error());
    };
    let weights = state.store.set_leaderboard_weights(ctx, weights).await?;
    Ok(HttpResponse::Ok().json(weights_json(weights)))
}

/// `POST /api/v1/leaderboards/snapshots` with `{kind, period?}` → 201, the snapshot with its
/// rows.
#[tracing::instrument(skip_all)]
pub(crate) async fn take_snapshot(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<SnapshotBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let mut errors = FieldErrors::default();
    let (kind, period) = kind_and_period(&mut errors, Some(&body.kind), body.period.as_deref());
    let (Some(kind), Some(period)) = (kind, period) else {
        return Err(errors.into_error());
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
        return Err(errors.into_error());
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
        return Err(errors.into_error());
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
    Ok(HttpResponse::Ok().json(json!({
        "kind": kind,
        "period": period,
        "top": top,
        "items": items,
    })))
}
