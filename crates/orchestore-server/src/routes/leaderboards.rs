//! `/api/v1/leaderboards` and `/api/v1/collaboration/settings`.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    EloSettings, LeaderboardKind, LeaderboardPeriod, LevelThreshold, LevelThresholds, Permission,
    RankSettings,
};
use orchestore_repo::{LeaderboardQuery, Limit};
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
    cfg.service(super::resource("/leaderboards", "GET").route(web::get().to(leaderboard)))
        .service(
            super::resource("/collaboration/settings", "GET, PUT")
                .route(web::get().to(get_settings))
                .route(web::put().to(put_settings)),
        );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeaderboardParams {
    /// `points` (the default), `rating`, `reputation` or `combined`.
    kind: Option<String>,
    /// `all_time` (the default), `month` or `week`.
    period: Option<String>,
    /// The instant whose week or month is read; now when left out.
    as_of: Option<DateTime<Utc>>,
    /// 1 to 200, 100 by default.
    limit: Option<u64>,
}

/// The whole of the settings, as `GET` shows them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsBody {
    level_thresholds: Vec<LevelThreshold>,
    k_factor: u32,
    provisional_k_factor: u32,
    provisional_matches: u32,
}

fn settings_json(settings: &RankSettings) -> serde_json::Value {
    json!({
        "level_thresholds": settings.level_thresholds,
        "k_factor": settings.elo.k_factor(),
        "provisional_k_factor": settings.elo.provisional_k_factor(),
        "provisional_matches": settings.elo.provisional_matches(),
    })
}

/// `GET /api/v1/leaderboards?kind=&period=&as_of=&limit=` → `{kind, period, as_of, items}`.
#[tracing::instrument(skip_all)]
pub(crate) async fn leaderboard(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<LeaderboardParams>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let mut errors = FieldErrors::default();
    let kind = errors.check(
        params
            .kind
            .as_deref()
            .map_or(Ok(LeaderboardKind::Points), str::parse),
    );
    let period = errors.check(
        params
            .period
            .as_deref()
            .map_or(Ok(LeaderboardPeriod::AllTime), str::parse),
    );
    let limit = errors.check(Limit::parse(params.limit.unwrap_or(100)));
    let (Some(kind), Some(period), Some(limit)) = (kind, period, limit) else {
        return Err(errors.into_error());
    };
    let as_of = params.as_of.unwrap_or_else(Utc::now);
    let query = LeaderboardQuery {
        kind,
        period,
        as_of,
        limit,
    };
    let items = state.store.leaderboard(ctx, query).await?;
    Ok(HttpResponse::Ok().json(json!({
        "kind": kind,
        "period": period,
        "as_of": as_of,
        "items": items,
    })))
}

/// `GET /api/v1/collaboration/settings`.
#[tracing::instrument(skip_all)]
pub(crate) async fn get_settings(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let settings = state.store.get_rank_settings(ctx).await?;
    Ok(HttpResponse::Ok().json(settings_json(&settings)))
}

/// `PUT /api/v1/collaboration/settings` with every field → the settings.
#[tracing::instrument(skip_all)]
pub(crate) async fn put_settings(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let mut errors = FieldErrors::default();
    let ladder = errors.check(LevelThresholds::parse(body.level_thresholds));
    let elo = errors.check(EloSettings::parse(
        body.k_factor,
        body.provisional_k_factor,
        body.provisional_matches,
    ));
    let (Some(level_thresholds), Some(elo)) = (ladder, elo) else {
        return Err(errors.into_error());
    };
    let settings = state
        .store
        .set_rank_settings(
            ctx,
            RankSettings {
                level_thresholds,
                elo,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(settings_json(&settings)))
}
