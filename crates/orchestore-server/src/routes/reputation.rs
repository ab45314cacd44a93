//! Agents' reputation: `/api/v1/reputation-events` and `/api/v1/agents/{id}/reputation`.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, NewReputationEvent, Permission, Reputation, ReputationDelta, ReputationDimension,
    ReputationEvent, ReputationReason, TaskId,
};
use orchestore_repo::{Page, PageRequest, ReputationEventSort};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(record_event, task_outcome, reputation, events))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/reputation-events", "POST").route(web::post().to(record_event)))
        .service(super::resource("/agents/{id}/reputation", "GET").route(web::get().to(reputation)))
        .service(
            super::resource("/agents/{id}/reputation-events", "GET").route(web::get().to(events)),
        )
        .service(
            super::resource("/agents/{id}/task-outcomes", "POST")
                .route(web::post().to(task_outcome)),
        );
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReputationEventBody {
    agent_id: AgentId,
    #[schema(value_type = ReputationDimension)]
    dimension: String,
    /// How far the event moves the dimension: not 0.
    #[schema(minimum = -100, maximum = 100)]
    delta: i64,
    /// Why: 1 to 500 characters, trimmed.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
    /// The task the event is about, if any.
    task_id: Option<TaskId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskOutcomeBody {
    task_id: TaskId,
    /// Whether the agent carried the task out: it raises the agent's reliability, or lowers it.
    succeeded: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AsOfQuery {
    /// The instant the reputation is read at; now when left out.
    as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<ReputationEventSort>)]
    sort: Option<String>,
}

/// `POST /api/v1/reputation-events` with `{agent_id, dimension, delta, reason, task_id?}`
/// → 201.
#[utoipa::path(
    post,
    path = "/api/v1/reputation-events",
    summary = "Record a reputation event",
    tag = "reputation",
    request_body = ReputationEventBody,
    responses((status = 201, description = "The event, recorded", body = ReputationEvent))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn record_event(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<ReputationEventBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let mut errors = FieldErrors::default();
    let dimension = errors.check(body.dimension.parse::<ReputationDimension>());
    let delta = errors.check(ReputationDelta::parse(body.delta));
    let reason = errors.check(ReputationReason::parse(&body.reason));
    let (Some(dimension), Some(delta), Some(reason)) = (dimension, delta, reason) else {
        return Err(errors.into_error().into());
    };
    let new = NewReputationEvent {
        agent_id: body.agent_id,
        dimension,
        delta,
        reason,
        task_id: body.task_id,
    };
    let event = state.store.record_reputation_event(ctx, new).await?;
    Ok(HttpResponse::Created().json(event))
}

/// `POST /api/v1/agents/{id}/task-outcomes` with `{task_id, succeeded}` → 201, the
/// reliability event it recorded.
#[utoipa::path(
    post,
    path = "/api/v1/agents/{id}/task-outcomes",
    summary = "Record a task outcome of an agent",
    tag = "reputation",
    params(("id" = AgentId, Path, description = "The agent's id")),
    request_body = TaskOutcomeBody,
    responses((status = 201, description = "The reliability event the outcome recorded, or \
        the one recorded before for the same ending of the task", body = ReputationEvent))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn task_outcome(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
    ApiJson(body): ApiJson<TaskOutcomeBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let event = state
        .store
        .record_task_outcome(ctx, id.into_inner(), body.task_id, body.succeeded)
        .await?;
    Ok(HttpResponse::Created().json(event))
}

/// `GET /api/v1/agents/{id}/reputation?as_of=` → the four dimensions and their mean.
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}/reputation",
    summary = "Read an agent's reputation",
    tag = "reputation",
    params(("id" = AgentId, Path, description = "The agent's id"), AsOfQuery),
    responses((status = 200, description = "The agent's four dimensions and their mean",
        body = Reputation))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn reputation(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
    ApiQuery(query): ApiQuery<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let as_of = query.as_of.unwrap_or_else(Utc::now);
    Ok(HttpResponse::Ok().json(
        state
            .store
            .get_reputation(ctx, id.into_inner(), as_of)
            .await?,
    ))
}

/// `GET /api/v1/agents/{id}/reputation-events?limit=&cursor=&sort=` (`-occurred_at` or
/// `occurred_at`).
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}/reputation-events",
    summary = "List an agent's reputation events",
    tag = "reputation",
    params(("id" = AgentId, Path, description = "The agent's id"), EventsQuery),
    responses((status = 200, description = "A page of the agent's reputation events",
        body = Page<ReputationEvent, ReputationEventSort>))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn events(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let mut errors = FieldErrors::default();
    let page: Option<PageRequest<ReputationEventSort>> = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let page = page.ok_or_else(|| errors.into_error())?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_reputation_events(ctx, id.into_inner(), page)
            .await?,
    ))
}
