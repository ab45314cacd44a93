//! `/api/v1/matches` and an agent's rating history.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::matches::{CreateMatchBody, HistoryQuery, MatchResultBody};
use orchestore_domain::{AgentId, Match, MatchId, Permission, RatingChange};
use orchestore_repo::{Page, RatingHistorySort};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(create, get, record_result, rating_history))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/matches", "POST").route(web::post().to(create)))
        .service(super::resource("/matches/{id}", "GET").route(web::get().to(get)))
        .service(
            super::resource("/matches/{id}/result", "POST").route(web::post().to(record_result)),
        )
        .service(
            super::resource("/agents/{id}/rating-history", "GET")
                .route(web::get().to(rating_history)),
        );
}

/// `POST /api/v1/matches` with `{agents, task_id | challenge}` → 201, the open match.
#[utoipa::path(
    post,
    path = "/api/v1/matches",
    summary = "Open a match",
    tag = "matches",
    request_body = CreateMatchBody,
    responses(
        (status = 201, description = "The match, open", body = Match,
            headers(("Location" = String, description = "The match's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateMatchBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let created = state
        .store
        .create_match(ctx, body.into_new_match()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/matches/{}", created.id)))
        .json(created))
}

/// `GET /api/v1/matches/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/matches/{id}",
    summary = "Get a match",
    tag = "matches",
    params(("id" = MatchId, Path, description = "The match's id")),
    responses((status = 200, description = "The match", body = Match))
)]
#[tracing::instrument(skip_all, fields(match_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MatchId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_match(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/matches/{id}/result` → the finished match with each rating change; 409
/// when it is finished already.
#[utoipa::path(
    post,
    path = "/api/v1/matches/{id}/result",
    summary = "Record a match's result",
    tag = "matches",
    params(("id" = MatchId, Path, description = "The match's id")),
    request_body = MatchResultBody,
    responses(
        (status = 200, description = "The match, finished, with each rating change",
            body = Match),
        (status = 409, description = "The match is finished already", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(match_id = %id))]
pub(crate) async fn record_result(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MatchId>,
    ApiJson(body): ApiJson<MatchResultBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let placements = body.into_placements()?;
    let finished = state
        .store
        .record_match_result(ctx, id.into_inner(), placements)
        .await?;
    Ok(HttpResponse::Ok().json(finished))
}

/// `GET /api/v1/agents/{id}/rating-history?limit=&cursor=&sort=` (`match_id` or `-match_id`).
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}/rating-history",
    summary = "List an agent's rating changes",
    tag = "matches",
    params(("id" = AgentId, Path, description = "The agent's id"), HistoryQuery),
    responses((status = 200, description = "A page of the agent's rating changes, one a match",
        body = Page<RatingChange, RatingHistorySort>))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn rating_history(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let page = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .rating_history(ctx, id.into_inner(), page)
            .await?,
    ))
}
