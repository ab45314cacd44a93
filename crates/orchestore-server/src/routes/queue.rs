//! The queue over HTTP: `POST /api/v1/queue/claim`, and the ends of a run under
//! `/api/v1/tasks/{id}/…`, each carrying the lease token the claim handed out.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use orchestore_api::queue::{
    CancelBody, CancelledTask, ClaimBody, ClaimOneBody, ClaimedTasks, CompleteBody,
    CompleteManyBody, CompletionOutcome, CompletionOutcomes, Descendants, FailBody, HeartbeatBody,
    ReleaseBody,
};
use orchestore_domain::{
    ClaimLimit, ClaimRequest, ClaimWait, ClaimedTask, Completion, Completions, LeaseDuration,
    Payload, Permission, Progress, QueueStats, Task, TaskId,
};
use orchestore_repo::Retry;
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{
    ApiError, BATCH_BODY_LIMIT_BYTES, FieldErrors, Invalid, PAYLOAD_BODY_LIMIT_BYTES, Problem,
    json_config_up_to,
};
use crate::extract::ApiJson;
use crate::in_flight::RequestsInFlight;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    claim,
    stats,
    complete_many,
    claim_one,
    heartbeat,
    complete,
    fail,
    release,
    cancel,
    retry
))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/queue/claim", "POST").route(web::post().to(claim)))
        .service(super::resource("/queue/stats", "GET").route(web::get().to(stats)))
        .service(
            super::resource("/queue/complete", "POST")
                .app_data(json_config_up_to(BATCH_BODY_LIMIT_BYTES))
                .route(web::post().to(complete_many)),
        )
        .service(super::resource("/tasks/{id}/claim", "POST").route(web::post().to(claim_one)))
        .service(super::resource("/tasks/{id}/heartbeat", "POST").route(web::post().to(heartbeat)))
        .service(
            super::resource("/tasks/{id}/complete", "POST")
                .app_data(json_config_up_to(PAYLOAD_BODY_LIMIT_BYTES))
                .route(web::post().to(complete)),
        )
        .service(super::resource("/tasks/{id}/fail", "POST").route(web::post().to(fail)))
        .service(super::resource("/tasks/{id}/release", "POST").route(web::post().to(release)))
        .service(super::resource("/tasks/{id}/cancel", "POST").route(web::post().to(cancel)))
        .service(super::resource("/tasks/{id}/retry", "POST").route(web::post().to(retry)));
}

fn lease(errors: &mut FieldErrors, seconds: Option<i64>) -> Option<LeaseDuration> {
    errors.check(seconds.map_or(Ok(LeaseDuration::default()), LeaseDuration::parse_seconds))
}

/// `POST /api/v1/queue/claim` → 200 `{items: [task + lease_token]}`, empty when there was
/// nothing to claim before the wait ended. With an agent's API key, `agent_id` may be left out.
#[utoipa::path(
    post,
    path = "/api/v1/queue/claim",
    summary = "Claim queued tasks",
    tag = "queue",
    request_body = ClaimBody,
    responses((status = 200, description = "The tasks claimed, highest priority first, each \
        with its lease token; none when there was nothing to claim", body = ClaimedTasks))
)]
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn claim(
    state: web::Data<AppState>,
    requests: web::Data<RequestsInFlight>,
    auth: Authenticated,
    ApiJson(body): ApiJson<ClaimBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let agent = auth.acting_agent(body.agent_id)?;
    let mut errors = FieldErrors::default();
    let limit = errors.check(body.limit.map_or(Ok(ClaimLimit::one()), ClaimLimit::parse));
    let lease = lease(&mut errors, body.lease_seconds);
    let wait = errors.check(
        body.wait_seconds
            .map_or(Ok(ClaimWait::default()), ClaimWait::parse_seconds),
    );
    let (Some(limit), Some(lease), Some(wait)) = (limit, lease, wait) else {
        return Err(errors.into_error().into());
    };
    let request = ClaimRequest {
        agent,
        limit,
        lease,
        wait,
    };
    // A long poll mostly waits: counted as waiting, it does not hold back the audit sealer.
    let _waiting = (!request.wait.get().is_zero()).then(|| requests.wait());
    let items = state.store.claim_tasks(ctx, request).await?;
    Ok(HttpResponse::Ok().json(ClaimedTasks { items }))
}

/// `POST /api/v1/tasks/{id}/claim` `{agent_id, lease_seconds?}` → 200 with the task and its
/// lease token; 409 saying why when the task cannot be claimed.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/claim",
    summary = "Claim one given task",
    tag = "queue",
    params(("id" = TaskId, Path, description = "The task's id")),
    request_body = ClaimOneBody,
    responses(
        (status = 200, description = "The task, running, with its lease token",
            body = ClaimedTask),
        (status = 409, description = "The task is not queued, its `run_after` is ahead, it is \
            assigned to another agent, or the agent lacks a required capability", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn claim_one(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    ApiJson(body): ApiJson<ClaimOneBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let agent = auth.acting_agent(body.agent_id)?;
    let mut errors = FieldErrors::default();
    let Some(lease) = lease(&mut errors, body.lease_seconds) else {
        return Err(errors.into_error().into());
    };
    let claimed = state
        .store
        .claim_task(ctx, id.into_inner(), agent, lease)
        .await?;
    Ok(HttpResponse::Ok().json(claimed))
}

/// `POST /api/v1/tasks/{id}/heartbeat` → 200 with the task and its new `lease_expires_at`;
/// 409 when the lease is no longer the task's (expired and claimed again, cancelled, ended).
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/heartbeat",
    summary = "Extend a running task's lease",
    tag = "queue",
    params(("id" = TaskId, Path, description = "The task's id")),
    request_body = HeartbeatBody,
    responses(
        (status = 200, description = "The task with its new `lease_expires_at`", body = Task),
        (status = 409, description = "The lease is no longer the task's: it expired and the \
            task was claimed again, or the task was cancelled or its run ended", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn heartbeat(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    ApiJson(body): ApiJson<HeartbeatBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let mut errors = FieldErrors::default();
    let lease = lease(&mut errors, body.lease_seconds);
    let progress = errors.check(body.progress.map(Progress::parse).transpose());
    let (Some(lease), Some(progress)) = (lease, progress) else {
        return Err(errors.into_error().into());
    };
    let task = state
        .store
        .heartbeat_task(ctx, id.into_inner(), body.lease_token, lease, progress)
        .await?;
    Ok(HttpResponse::Ok().json(task))
}

/// `POST /api/v1/tasks/{id}/complete` `{lease_token, result?}` → 200 with the succeeded task;
/// the blocked tasks for which it was the last open dependency are queued.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/complete",
    summary = "End a run in success",
    tag = "queue",
    params(("id" = TaskId, Path, description = "The task's id")),
    request_body = CompleteBody,
    responses(
        (status = 200, description = "The task, succeeded", body = Task),
        (status = 409, description = "The lease is no longer the task's", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn complete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    ApiJson(body): ApiJson<CompleteBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let mut errors = FieldErrors::default();
    let Some(result) = errors.check(body.result.map(Payload::parse).transpose()) else {
        return Err(errors.into_error().into());
    };
    let task = state
        .store
        .complete_task(ctx, id.into_inner(), body.lease_token, result)
        .await?;
    Ok(HttpResponse::Ok().json(task))
}

/// `POST /api/v1/queue/complete` `{completions: [{task_id, lease_token, result?}]}` → 200
/// `{items: [{task_id, status, task | problem}]}`, one per completion in the order given:
/// `status` 200 with the succeeded task, or 409 (the lease is no longer the task's) or 404
/// with the problem document. One refused completion does not hold up the others; a body at
/// fault is 422 and ends nothing.
#[utoipa::path(
    post,
    path = "/api/v1/queue/complete",
    summary = "End several runs in success",
    tag = "queue",
    request_body = CompleteManyBody,
    responses((status = 200, description = "Each completion's outcome, in the order given",
        body = CompletionOutcomes))
)]
#[tracing::instrument(skip_all, fields(principal = %auth.principal()))]
pub(crate) async fn complete_many(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CompleteManyBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let mut errors = FieldErrors::default();
    let mut completions = Vec::with_capacity(body.completions.len());
    for (index, item) in body.completions.into_iter().enumerate() {
        let mut one = FieldErrors::default();
        if let Some(result) = one.check(item.result.map(Payload::parse).transpose()) {
            completions.push(Completion {
                task: item.task_id,
                lease_token: item.lease_token,
                result,
            });
        }
        errors.extend_within(&format!("completions[{index}]"), one);
    }
    let completions = errors.check(Completions::parse(completions));
    let Some(completions) = completions.filter(|_| errors.is_empty()) else {
        return Err(errors.into_error().into());
    };
    let ids: Vec<TaskId> = completions.as_slice().iter().map(|c| c.task).collect();
    let outcomes = state.store.complete_tasks(ctx, completions).await?;
    let items: Vec<CompletionOutcome> = ids
        .into_iter()
        .zip(outcomes)
        .map(|(task_id, outcome)| match outcome.map_err(ApiError::from) {
            Ok(task) => CompletionOutcome {
                task_id,
                status: StatusCode::OK.as_u16(),
                task: Some(task),
                problem: None,
            },
            Err(error) => CompletionOutcome {
                task_id,
                status: error.status_code().as_u16(),
                task: None,
                problem: Some(error.problem()),
            },
        })
        .collect();
    Ok(HttpResponse::Ok().json(CompletionOutcomes { items }))
}

/// `POST /api/v1/tasks/{id}/fail` `{lease_token, error?, retry?}` → 200 with the task: queued
/// again after a backoff while attempts are left, else `failed`.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/fail",
    summary = "End a run in failure",
    tag = "queue",
    params(("id" = TaskId, Path, description = "The task's id")),
    request_body = FailBody,
    responses(
        (status = 200, description = "The task: queued again after a backoff while attempts \
            are left, else `failed`", body = Task),
        (status = 409, description = "The lease is no longer the task's", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn fail(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    ApiJson(body): ApiJson<FailBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let mut errors = FieldErrors::default();
    let Some(error) = errors.check(body.error.map(Payload::parse).transpose()) else {
        return Err(errors.into_error().into());
    };
    let retry = if body.retry == Some(false) {
        Retry::Never
    } else {
        Retry::IfAttemptsLeft
    };
    let task = state
        .store
        .fail_task(ctx, id.into_inner(), body.lease_token, error, retry)
        .await?;
    Ok(HttpResponse::Ok().json(task))
}

/// `POST /api/v1/tasks/{id}/release` `{lease_token}` → 200 with the task queued again, the
/// attempt not counted.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/release",
    summary = "Give a claimed task back",
    tag = "queue",
    params(("id" = TaskId, Path, description = "The task's id")),
    request_body = ReleaseBody,
    responses(
        (status = 200, description = "The task, queued again", body = Task),
        (status = 409, description = "The lease is no longer the task's", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn release(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    ApiJson(body): ApiJson<ReleaseBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let task = state
        .store
        .release_task(ctx, id.into_inner(), body.lease_token)
        .await?;
    Ok(HttpResponse::Ok().json(task))
}

/// The reason of a cancellation's body, which may be left out.
pub(crate) fn cancel_reason_of(
    body: Option<ApiJson<CancelBody>>,
) -> Result<Option<String>, Invalid> {
    body.map_or(Ok(None), |ApiJson(body)| body.into_reason())
}

/// `POST /api/v1/tasks/{id}/cancel` `{reason?}` (`If-Match` honoured) → 200 with the cancelled
/// task, its new `ETag`, and `cancelled_descendants` `{tasks, workflow_executions}`: what the
/// cancellation carried along.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/cancel",
    summary = "Cancel a task and its descendants",
    tag = "queue",
    params(("id" = TaskId, Path, description = "The task's id")),
    request_body = Option<CancelBody>,
    responses((status = 200, description = "The task, cancelled, and what the cancellation \
        carried along", body = CancelledTask))
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn cancel(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    if_match: IfMatch,
    body: Option<ApiJson<CancelBody>>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let reason = cancel_reason_of(body)?;
    let cancellation = state
        .store
        .cancel_task(ctx, id.into_inner(), reason, if_match.expected())
        .await?;
    Ok(conditional::tagged(
        cancellation.task.revision,
        &CancelledTask {
            task: cancellation.task,
            cancelled_descendants: Descendants {
                tasks: cancellation.descendants.tasks,
                workflow_executions: cancellation.descendants.workflow_executions,
            },
        },
    ))
}

/// `POST /api/v1/tasks/{id}/retry` → 200 with the failed task queued again, with a fresh series
/// of attempts; any other status is a 422.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/retry",
    summary = "Queue a failed task again",
    tag = "queue",
    params(("id" = TaskId, Path, description = "The task's id")),
    responses(
        (status = 200, description = "The task, queued again", body = Task),
        (status = 409, description = "The task is the step of a workflow execution that \
            ended: start a new execution", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn retry(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let task = state.store.retry_task(ctx, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(task))
}

/// `GET /api/v1/queue/stats` → the queue right now: `blocked`, `queued` (claimable),
/// `scheduled`, `running`, `expired_leases`, `by_capabilities`, `oldest_queued_at`, and
/// `last_minute` (`succeeded`, `failed`).
#[utoipa::path(
    get,
    path = "/api/v1/queue/stats",
    summary = "Read the queue's state",
    tag = "queue",
    responses((status = 200, description = "The queue right now", body = QueueStats))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn stats(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    Ok(HttpResponse::Ok().json(state.store.queue_stats(ctx).await?))
}
