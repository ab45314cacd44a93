//! Agents' reputation: `/api/v1/reputation-events` and `/api/v1/agents/{id}/reputation`.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use orchestore_api::reputation::{AsOfQuery, EventsQuery, ReputationEventBody, TaskOutcomeBody};
use orchestore_domain::{AgentId, Permission, Reputation, ReputationEvent};
use orchestore_repo::{Page, ReputationEventSort};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::error::ApiError;
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
    let event = state
        .store
        .record_reputation_event(ctx, body.into_new_event()?)
        .await?;
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
    let page = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_reputation_events(ctx, id.into_inner(), page)
            .await?,
    ))
}
