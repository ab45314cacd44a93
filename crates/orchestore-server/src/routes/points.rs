//! `/api/v1/points` (the ledger) and the standings of agents and users.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::points::{AwardPointsBody, ListPointsQuery};
use orchestore_domain::{
    AgentId, Participant, ParticipantKind, Permission, PointAward, PointAwardId, Standing, UserId,
};
use orchestore_repo::{Page, PointAwardSort};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(award, list, get, agent_standing, user_standing),
    // A filter's kind of participant, which no answer names.
    components(schemas(ParticipantKind))
)]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/points", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(award)),
    )
    .service(super::resource("/points/{id}", "GET").route(web::get().to(get)))
    .service(super::resource("/agents/{id}/standing", "GET").route(web::get().to(agent_standing)))
    .service(super::resource("/users/{id}/standing", "GET").route(web::get().to(user_standing)));
}

/// `POST /api/v1/points` with `{holder: {kind, id}, points, reason, source}` → 201.
#[utoipa::path(
    post,
    path = "/api/v1/points",
    summary = "Award points",
    tag = "points",
    request_body = AwardPointsBody,
    responses(
        (status = 201, description = "The ledger entry, recorded", body = PointAward,
            headers(("Location" = String, description = "The entry's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn award(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<AwardPointsBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let award = state
        .store
        .award_points(ctx, body.into_new_award()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/points/{}", award.id)))
        .json(award))
}

/// `GET /api/v1/points?holder_kind=&holder_id=&limit=&cursor=&sort=` (`-awarded_at` or
/// `awarded_at`).
#[utoipa::path(
    get,
    path = "/api/v1/points",
    summary = "List the points ledger",
    tag = "points",
    params(ListPointsQuery),
    responses((status = 200, description = "A page of ledger entries",
        body = Page<PointAward, PointAwardSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListPointsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_point_awards(ctx, filter, page).await?))
}

/// `GET /api/v1/points/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/points/{id}",
    summary = "Get a ledger entry",
    tag = "points",
    params(("id" = PointAwardId, Path, description = "The entry's id")),
    responses((status = 200, description = "The ledger entry", body = PointAward))
)]
#[tracing::instrument(skip_all, fields(award_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<PointAwardId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_point_award(ctx, id.into_inner()).await?))
}

/// `GET /api/v1/agents/{id}/standing` → points, experience, level, rating.
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}/standing",
    summary = "Read an agent's standing",
    tag = "points",
    params(("id" = AgentId, Path, description = "The agent's id")),
    responses((status = 200, description = "The agent's points, experience, level and rating",
        body = Standing))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn agent_standing(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let holder = Participant::Agent(id.into_inner());
    Ok(HttpResponse::Ok().json(state.store.get_standing(ctx, holder).await?))
}

/// `GET /api/v1/users/{id}/standing` → points, experience and level.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/standing",
    summary = "Read a user's standing",
    tag = "points",
    params(("id" = UserId, Path, description = "The user's id")),
    responses((status = 200, description = "The user's points, experience and level",
        body = Standing))
)]
#[tracing::instrument(skip_all, fields(user_id = %id))]
pub(crate) async fn user_standing(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let holder = Participant::User(id.into_inner());
    Ok(HttpResponse::Ok().json(state.store.get_standing(ctx, holder).await?))
}
