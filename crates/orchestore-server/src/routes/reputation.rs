//! Agents' reputation: `/api/v1/reputation-events` and `/api/v1/agents/{id}/reputation`.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, NewReputationEvent, Permission, ReputationDelta, ReputationDimension,
    ReputationReason, TaskId,
};
use orchestore_repo::{PageRequest, ReputationEventSort};
use serde::Deserialize;

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventBody {
    agent_id: AgentId,
    dimension: String,
    delta: i64,
    reason: String,
    task_id: Option<TaskId>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutcomeBody {
    task_id: TaskId,
    succeeded: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AsOfQuery {
    /// Now when left out.
    as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    limit: Option<u64>,
    cursor: Option<String>,
    sort: Option<String>,
}

/// `POST /api/v1/reputation-events` with `{agent_id, dimension, delta, reason, task_id?}`
/// → 201.
#[tracing::instrument(skip_all)]
pub(crate) async fn record_event(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<EventBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let mut errors = FieldErrors::default();
    let dimension = errors.check(body.dimension.parse::<ReputationDimension>());
    let delta = errors.check(ReputationDelta::parse(body.delta));
    let reason = errors.check(ReputationReason::parse(&body.reason));
    let (Some(dimension), Some(delta), Some(reason)) = (dimension, delta, reason) else {
        return Err(errors.into_error());
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
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn task_outcome(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
    ApiJson(body): ApiJson<OutcomeBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let event = state
        .store
        .record_task_outcome(ctx, id.into_inner(), body.task_id, body.succeeded)
        .await?;
    Ok(HttpResponse::Created().json(event))
}

/// `GET /api/v1/agents/{id}/reputation?as_of=` → the four dimensions and their mean.
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
