//! `/api/v1/matches` and an agent's rating history.

use std::collections::BTreeMap;

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    AgentId, DomainError, Match, MatchId, MatchSubject, NewMatch, Permission, Placements,
    RatingChange, TaskId,
};
use orchestore_repo::{Page, PageRequest, RatingHistorySort};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors, Problem};
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

/// A match on a task (`task_id`) or a challenge (`challenge`), one of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateMatchBody {
    /// The agents who play: 2 to 32, none twice.
    #[schema(min_items = 2, max_items = 32)]
    agents: Vec<AgentId>,
    /// The task the match is played on; give this or `challenge`.
    task_id: Option<TaskId>,
    /// The challenge the match is played on (1 to 200 characters); give this or `task_id`.
    #[schema(min_length = 1, max_length = 200)]
    challenge: Option<String>,
}

impl CreateMatchBody {
    fn into_new_match(self) -> Result<NewMatch, ApiError> {
        let mut errors = FieldErrors::default();
        let subject = errors.check(match (self.task_id, self.challenge) {
            (Some(task), None) => Ok(MatchSubject::Task(task)),
            (None, Some(challenge)) => MatchSubject::challenge(&challenge),
            _ => Err(DomainError::invalid(
                "task_id",
                "give either task_id or challenge",
            )),
        });
        let agents = self.agents;
        let Some(subject) = subject else {
            // The agents are checked too, so that one answer names every bad field.
            errors.check(NewMatch::new(MatchSubject::Task(TaskId::new()), agents));
            return Err(errors.into_error().into());
        };
        errors
            .check(NewMatch::new(subject, agents))
            .ok_or_else(|| errors.into_error().into())
    }
}

/// `{"placements": {"<agent id>": place, …}}`, 1 the best, ties sharing a place.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MatchResultBody {
    /// Each agent's place, by agent id: from 1 to the number of agents.
    placements: BTreeMap<AgentId, u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<RatingHistorySort>)]
    sort: Option<String>,
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
    let placements = Placements::parse(body.placements)?;
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
    let mut errors = FieldErrors::default();
    let page: Option<PageRequest<RatingHistorySort>> = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let page = page.ok_or_else(|| errors.into_error())?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .rating_history(ctx, id.into_inner(), page)
            .await?,
    ))
}
