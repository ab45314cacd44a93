//! The queue over HTTP: `POST /api/v1/queue/claim`, and the ends of a run under
//! `/api/v1/tasks/{id}/…`, each carrying the lease token the claim handed out.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use orchestore_domain::{
    AgentId, ClaimLimit, ClaimRequest, ClaimWait, ClaimedTask, Completion, Completions,
    LeaseDuration, LeaseToken, Payload, Permission, Progress, QueueStats, Task, TaskId,
};
use orchestore_repo::Retry;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{
    ApiError, BATCH_BODY_LIMIT_BYTES, FieldErrors, PAYLOAD_BODY_LIMIT_BYTES, Problem,
    json_config_up_to,
};
use crate::extract::ApiJson;
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClaimBody {
    /// The agent the tasks run on; its capabilities decide which tasks it may take. An agent's
    /// API key implies its own agent.
    agent_id: Option<AgentId>,
    /// At most this many tasks (1–1000, default 1).
    #[schema(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// The lease of each task (1 s – 24 h, default 300 s).
    #[schema(minimum = 1, maximum = 86400)]
    lease_seconds: Option<i64>,
    /// With nothing to claim, wait up to this long for work (0–60 s, default 0).
    #[schema(minimum = 0, maximum = 60)]
    wait_seconds: Option<i64>,
}

/// The tasks a claim handed out, each with its lease token.
#[derive(Debug, Serialize, ToSchema)]
struct ClaimedTasks {
    items: Vec<ClaimedTask>,
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
    let items = state.store.claim_tasks(ctx, request).await?;
    Ok(HttpResponse::Ok().json(ClaimedTasks { items }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClaimOneBody {
    /// The agent the task runs on; an agent's API key implies its own agent.
    agent_id: Option<AgentId>,
    /// The lease (1 s – 24 h, default 300 s).
    #[schema(minimum = 1, maximum = 86400)]
    lease_seconds: Option<i64>,
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeartbeatBody {
    lease_token: LeaseToken,
    /// The new lease from now (1 s – 24 h, default 300 s).
    #[schema(minimum = 1, maximum = 86400)]
    lease_seconds: Option<i64>,
    /// Percent done.
    #[schema(minimum = 0, maximum = 100)]
    progress: Option<i64>,
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompleteBody {
    lease_token: LeaseToken,
    /// Any JSON document the run produced.
    result: Option<serde_json::Value>,
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompletionBody {
    task_id: TaskId,
    lease_token: LeaseToken,
    /// Any JSON document the run produced.
    result: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompleteManyBody {
    /// The runs to end in success: 1 to 1000, each task once.
    #[schema(min_items = 1, max_items = 1000)]
    completions: Vec<CompletionBody>,
}

/// One run's answer: the succeeded task, or the problem that kept it from ending.
#[derive(Serialize, ToSchema)]
struct CompletionOutcome<'a> {
    task_id: TaskId,
    /// 200 when the run ended; else the status of `problem` (404, 409).
    status: u16,
    /// The task, succeeded (with status 200).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    task: Option<&'a Task>,
    /// Why the run did not end (with any other status).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    problem: Option<Problem>,
}

/// The answer of each completion, in the order given.
#[derive(Serialize, ToSchema)]
struct CompletionOutcomes<'a> {
    items: Vec<CompletionOutcome<'a>>,
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
    let outcomes: Vec<Result<Task, ApiError>> = state
        .store
        .complete_tasks(ctx, completions)
        .await?
        .into_iter()
        .map(|outcome| outcome.map_err(ApiError::from))
        .collect();
    let items: Vec<CompletionOutcome<'_>> = ids
        .into_iter()
        .zip(&outcomes)
        .map(|(task_id, outcome)| match outcome {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FailBody {
    lease_token: LeaseToken,
    /// Any JSON document saying what went wrong.
    error: Option<serde_json::Value>,
    /// `false`: fail for good now, whatever attempts are left (default `true`).
    retry: Option<bool>,
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReleaseBody {
    lease_token: LeaseToken,
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

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelBody {
    /// Why, for the history.
    #[schema(max_length = 1000)]
    reason: Option<String>,
}

impl CancelBody {
    /// The reason of an optional cancel body.
    pub(crate) fn reason_of(body: Option<ApiJson<Self>>) -> Result<Option<String>, ApiError> {
        cancel_reason(body.and_then(|ApiJson(body)| body.reason))
    }
}

/// Why something is cancelled, for its history: at most 1000 characters.
pub(crate) fn cancel_reason(reason: Option<String>) -> Result<Option<String>, ApiError> {
    if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        return Err(ApiError::Invalid(vec![
            orchestore_domain::DomainError::invalid("reason", "at most 1000 characters").into(),
        ]));
    }
    Ok(reason)
}

/// A cancelled task, and how many of its descendants its cancellation ended.
#[derive(Serialize, ToSchema)]
struct CancelledTask {
    #[serde(flatten)]
    task: orchestore_domain::Task,
    cancelled_descendants: Descendants,
}

/// What a cancellation carried along.
#[derive(Serialize, ToSchema)]
struct Descendants {
    /// Subtasks, tasks waiting for the task, and the tasks of the executions below.
    tasks: u64,
    /// Workflow executions started from the task or from a descendant.
    workflow_executions: u64,
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
    let reason = CancelBody::reason_of(body)?;
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
