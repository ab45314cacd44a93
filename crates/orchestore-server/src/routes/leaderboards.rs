//! `/api/v1/leaderboards` and `/api/v1/collaboration/settings`.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    EloSettings, LeaderboardEntry, LeaderboardKind, LeaderboardPeriod, LevelThreshold,
    LevelThresholds, Permission, RankSettings,
};
use orchestore_repo::{LeaderboardQuery, Limit};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct LeaderboardParams {
    /// `points` (the default), `rating`, `reputation` or `combined`.
    #[param(value_type = Option<LeaderboardKind>)]
    kind: Option<String>,
    /// `all_time` (the default), `month` or `week`.
    #[param(value_type = Option<LeaderboardPeriod>)]
    period: Option<String>,
    /// The instant whose week or month is read; now when left out.
    as_of: Option<DateTime<Utc>>,
    /// How many rows.
    #[param(minimum = 1, maximum = 200, default = 100)]
    limit: Option<u64>,
}

/// A leaderboard as read: what was asked for, and its rows, the first rank first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Leaderboard {
    kind: LeaderboardKind,
    period: LeaderboardPeriod,
    /// The instant the leaderboard was read at.
    as_of: DateTime<Utc>,
    items: Vec<LeaderboardEntry>,
}

/// The whole of the settings, as `GET` shows them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RankSettingsBody {
    /// The level ladder: 1 to 100 steps, the first at 0 experience, each needing more than the
    /// one before.
    #[schema(min_items = 1, max_items = 100)]
    level_thresholds: Vec<LevelThreshold>,
    /// How far a match moves a rating once the agent is past its provisional matches.
    #[schema(minimum = 1, maximum = 100)]
    k_factor: u32,
    /// How far a match moves a rating in the agent's provisional matches: from `k_factor` to
    /// 200.
    #[schema(minimum = 1, maximum = 200)]
    provisional_k_factor: u32,
    /// How many of an agent's first matches are provisional.
    #[schema(maximum = 1000)]
    provisional_matches: u32,
}

/// An organization's rules for ranks, as they read: the level ladder and the ELO settings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RankSettingsReply {
    level_thresholds: LevelThresholds,
    /// How far a match moves a rating once the agent is past its provisional matches.
    k_factor: u32,
    /// How far a match moves a rating in the agent's provisional matches.
    provisional_k_factor: u32,
    /// How many of an agent's first matches are provisional.
    provisional_matches: u32,
}

impl From<RankSettings> for RankSettingsReply {
    fn from(settings: RankSettings) -> Self {
        Self {
            k_factor: settings.elo.k_factor(),
            provisional_k_factor: settings.elo.provisional_k_factor(),
            provisional_matches: settings.elo.provisional_matches(),
            level_thresholds: settings.level_thresholds,
        }
    }
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
        return Err(errors.into_error().into());
    };
    let as_of = params.as_of.unwrap_or_else(Utc::now);
    let query = LeaderboardQuery {
        kind,
        period,
        as_of,
        limit,
    };
    let items = state.store.leaderboard(ctx, query).await?;
    Ok(HttpResponse::Ok().json(Leaderboard {
        kind,
        period,
        as_of,
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
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let settings = state.store.get_rank_settings(ctx).await?;
    Ok(HttpResponse::Ok().json(RankSettingsReply::from(settings)))
}

/// `PUT /api/v1/collaboration/settings` with every field → the settings.
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
    ApiJson(body): ApiJson<RankSettingsBody>,
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
        return Err(errors.into_error().into());
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
    Ok(HttpResponse::Ok().json(RankSettingsReply::from(settings)))
}
