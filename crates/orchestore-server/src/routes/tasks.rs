//! `/api/v1/tasks`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, BatchTask, Capabilities, Description, Effort, Enqueued, IdempotencyKey, MaxAttempts,
    Metadata, NewTask, Payload, Permission, Priority, Progress, ProjectId, RateLimitUses,
    RawRateLimitUse, Tags, Task, TaskEvent, TaskId, TaskPatch, TaskStats, TaskStatus, Title,
};
use orchestore_domain::{ConcurrencyKey, ConcurrencyLimit, ConcurrencyStrategy, TaskConcurrency};
use orchestore_domain::{FairnessKey, FairnessWeight, TaskFairness};
use orchestore_repo::{
    DependencySort, DependentSort, Page, PageRequest, TaskEventSort, TaskFilter, TaskSort,
    TaskStatsScope,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{
    ApiError, BATCH_BODY_LIMIT_BYTES, FieldError, FieldErrors, PAYLOAD_BODY_LIMIT_BYTES, Problem,
    json_config_up_to,
};
use crate::extract::{ApiJson, ApiQuery, PatchField};
use crate::state::AppState;

use super::PageQuery;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    create,
    create_batch,
    list,
    get,
    update,
    delete,
    list_dependencies,
    add_dependency,
    remove_dependency,
    list_dependents,
    list_events,
    stats
))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/tasks", "GET, POST")
            .app_data(json_config_up_to(PAYLOAD_BODY_LIMIT_BYTES))
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    // Before `/tasks/{id}`, which would take `stats` or `batch` for an id.
    .service(super::resource("/tasks/stats", "GET").route(web::get().to(stats)))
    .service(
        super::resource("/tasks/batch", "POST")
            .app_data(json_config_up_to(BATCH_BODY_LIMIT_BYTES))
            .route(web::post().to(create_batch)),
    )
    .service(
        super::resource("/tasks/{id}", "GET, PATCH, DELETE")
            .app_data(json_config_up_to(PAYLOAD_BODY_LIMIT_BYTES))
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    )
    .service(
        super::resource("/tasks/{id}/dependencies", "GET, POST")
            .route(web::get().to(list_dependencies))
            .route(web::post().to(add_dependency)),
    )
    .service(
        super::resource("/tasks/{id}/dependencies/{depends_on}", "DELETE")
            .route(web::delete().to(remove_dependency)),
    )
    .service(super::resource("/tasks/{id}/dependents", "GET").route(web::get().to(list_dependents)))
    .service(super::resource("/tasks/{id}/events", "GET").route(web::get().to(list_events)));
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTaskBody {
    project_id: ProjectId,
    title: String,
    description: Option<String>,
    /// Higher runs first.
    priority: Option<i64>,
    /// Any JSON document the worker is given.
    payload: Option<serde_json::Value>,
    /// Capabilities an agent must have to claim the task.
    required_capabilities: Option<Vec<String>>,
    metadata: Option<serde_json::Value>,
    /// The task this one is a subtask of, in the same project.
    parent_id: Option<TaskId>,
    /// The one agent that may claim the task.
    assigned_agent_id: Option<AgentId>,
    estimated_minutes: Option<i64>,
    /// Percent done.
    #[schema(minimum = 0, maximum = 100)]
    progress: Option<i64>,
    tags: Option<Vec<String>>,
    /// Runs before the task fails for good.
    max_attempts: Option<i64>,
    /// Not claimed before this instant.
    run_after: Option<DateTime<Utc>>,
    /// Unique in the organization: a second task with the key is not created, the first one
    /// is answered.
    idempotency_key: Option<String>,
    /// The rate limits each claim of the task consumes: `[{name, units}]`, units 1 when left
    /// out; each must exist.
    rate_limits: Option<Vec<RawRateLimitUse>>,
    /// Tasks this one waits for: it starts `blocked` while one of them has not succeeded.
    depends_on: Option<Vec<TaskId>>,
    /// In a batch only: positions of earlier tasks of the batch this one waits for.
    depends_on_batch: Option<Vec<usize>>,
    /// The key that limits how many tasks like this one run at once.
    concurrency: Option<ConcurrencyBody>,
    /// The key under which claims serve this task in turn with the organization's other keys.
    fairness: Option<FairnessBody>,
}

/// `{"key": "project:web", "weight": 3}`; the weight is 1 unless told.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FairnessBody {
    /// 1 to 128 of `A-Za-z0-9:/._-`.
    #[schema(min_length = 1, max_length = 128)]
    key: String,
    /// The key's share of the turns, 1 to 1,000; the latest enqueue naming the key sets it.
    #[schema(minimum = 1, maximum = 1000)]
    weight: Option<i64>,
}

impl FairnessBody {
    /// The fairness, or `None` with every bad field recorded in `errors`.
    fn parse(self, errors: &mut FieldErrors) -> Option<TaskFairness> {
        let key = errors.check(FairnessKey::parse(&self.key));
        let weight = errors.check(
            self.weight
                .map_or(Ok(FairnessWeight::default()), FairnessWeight::parse),
        );
        Some(TaskFairness {
            key: key?,
            weight: weight?,
        })
    }
}

/// `{"key": "repo:acme/web", "limit": 2, "strategy": "queue"}`; the strategy is `queue` unless
/// told.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConcurrencyBody {
    key: String,
    /// How many tasks with the key may run at once.
    limit: i64,
    #[schema(value_type = Option<ConcurrencyStrategy>)]
    strategy: Option<String>,
}

impl ConcurrencyBody {
    /// The concurrency, or `None` with every bad field recorded in `errors`.
    fn parse(self, errors: &mut FieldErrors) -> Option<TaskConcurrency> {
        let key = errors.check(ConcurrencyKey::parse(&self.key));
        let limit = errors.check(ConcurrencyLimit::parse(self.limit));
        let strategy = errors.check(
            self.strategy
                .map_or(Ok(ConcurrencyStrategy::default()), |s| s.parse()),
        );
        Some(TaskConcurrency {
            key: key?,
            limit: limit?,
            strategy: strategy?,
        })
    }
}

impl CreateTaskBody {
    /// The task of `POST /api/v1/tasks`, where there is no batch to wait for.
    fn into_new_task(self) -> Result<NewTask, ApiError> {
        if self.depends_on_batch.is_some() {
            return Err(ApiError::Invalid(vec![FieldError::new(
                "depends_on_batch",
                "names tasks of a batch: send it to POST /api/v1/tasks/batch",
            )]));
        }
        self.into_batch_task()
            .map(|item| item.task)
            .map_err(|errors| errors.into_error().into())
    }

    /// A task of a batch, every bad field recorded.
    fn into_batch_task(self) -> Result<BatchTask, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = errors.check(Title::parse(&self.title));
        let description = errors.check(self.description.map_or(Ok(Description::empty()), |d| {
            Description::parse("description", &d)
        }));
        let priority = errors.check(
            self.priority
                .map_or(Ok(Priority::default()), Priority::parse),
        );
        let required_capabilities = errors.check(
            self.required_capabilities
                .map_or(Ok(Capabilities::default()), |c| Capabilities::parse(&c)),
        );
        let metadata = errors.check(
            self.metadata
                .map_or(Ok(Metadata::default()), |m| Metadata::parse("metadata", m)),
        );
        let payload = errors.check(Payload::parse(
            self.payload.unwrap_or(serde_json::Value::Null),
        ));
        let estimated_minutes = errors.check(self.estimated_minutes.map(Effort::parse).transpose());
        let progress = errors.check(
            self.progress
                .map_or(Ok(Progress::default()), Progress::parse),
        );
        let tags = errors.check(self.tags.map_or(Ok(Tags::default()), |t| Tags::parse(&t)));
        let max_attempts = errors.check(
            self.max_attempts
                .map_or(Ok(MaxAttempts::default()), MaxAttempts::parse),
        );
        let idempotency_key = errors.check(
            self.idempotency_key
                .as_deref()
                .map(IdempotencyKey::parse)
                .transpose(),
        );
        let depends_on = errors.check(NewTask::parse_depends_on(
            self.depends_on.unwrap_or_default(),
        ));
        let rate_limits = errors.check(RateLimitUses::parse(
            self.rate_limits.as_deref().unwrap_or_default(),
        ));
        let concurrency = match self.concurrency {
            None => Some(None),
            Some(body) => body.parse(&mut errors).map(Some),
        };
        let fairness = match self.fairness {
            None => Some(None),
            Some(body) => body.parse(&mut errors).map(Some),
        };
        let (
            (Some(title), Some(description), Some(priority), Some(payload)),
            (Some(required_capabilities), Some(metadata), Some(estimated_minutes)),
            (Some(progress), Some(tags), Some(max_attempts), Some(idempotency_key)),
            (Some(depends_on), Some(rate_limits), Some(concurrency), Some(fairness)),
        ) = (
            (title, description, priority, payload),
            (required_capabilities, metadata, estimated_minutes),
            (progress, tags, max_attempts, idempotency_key),
            (depends_on, rate_limits, concurrency, fairness),
        )
        else {
            return Err(errors);
        };
        let task = NewTask {
            project_id: self.project_id,
            title,
            description,
            priority,
            payload,
            required_capabilities,
            metadata,
            parent_id: self.parent_id,
            assigned_agent_id: self.assigned_agent_id,
            estimated_minutes,
            progress,
            tags,
            max_attempts,
            run_after: self.run_after,
            idempotency_key,
            rate_limits,
            depends_on,
            concurrency,
            fairness,
        };
        Ok(BatchTask {
            task,
            depends_on_batch: self
                .depends_on_batch
                .unwrap_or_default()
                .into_iter()
                .collect(),
        })
    }
}

/// `{"tasks": [...]}`: the tasks of a batch, each as `POST /api/v1/tasks` takes it, with
/// `depends_on_batch` besides.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchBody {
    tasks: Vec<CreateTaskBody>,
}

impl BatchBody {
    /// The batch, or a 422 listing every bad field of every task (`tasks[3].title`), then the
    /// faults between the tasks (`tasks[5].depends_on_batch`, `tasks[7].idempotency_key`).
    fn into_batch(self) -> Result<Vec<BatchTask>, ApiError> {
        BatchTask::check_count(self.tasks.len())?;
        let mut errors = FieldErrors::default();
        let mut batch = Vec::with_capacity(self.tasks.len());
        for (index, body) in self.tasks.into_iter().enumerate() {
            match body.into_batch_task() {
                Ok(item) => batch.push(item),
                Err(bad) => errors.extend_within(&format!("tasks[{index}]"), bad),
            }
        }
        if !errors.is_empty() {
            return Err(errors.into_error().into());
        }
        for fault in BatchTask::check_batch(&batch) {
            let error = FieldError::from(fault.error);
            match fault.index {
                Some(index) => {
                    let mut one = FieldErrors::default();
                    one.push(error);
                    errors.extend_within(&format!("tasks[{index}]"), one);
                }
                None => errors.push(error),
            }
        }
        if errors.is_empty() {
            Ok(batch)
        } else {
            Err(errors.into_error().into())
        }
    }
}

/// What `POST /api/v1/tasks/batch` answers.
#[derive(Debug, Serialize, ToSchema)]
struct EnqueuedBatch {
    /// One per task sent, in the same order.
    items: Vec<Enqueued>,
}

/// Absent fields stay as they are; `payload` may be set to `null`, and `null` clears
/// `parent_id`, `assigned_agent_id`, `estimated_minutes` and `run_after`. A status change must
/// be a transition the task's state machine allows. Attempts, run timing, the result and the
/// error are the store's, and the idempotency key is set once, at creation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchTaskBody {
    #[serde(default)]
    #[schema(value_type = String)]
    title: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    description: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = TaskStatus)]
    status: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = i64)]
    priority: PatchField<i64>,
    #[serde(default)]
    #[schema(value_type = Value)]
    payload: PatchField<serde_json::Value>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    required_capabilities: PatchField<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: PatchField<serde_json::Value>,
    #[serde(default)]
    #[schema(value_type = Option<TaskId>)]
    parent_id: PatchField<TaskId>,
    #[serde(default)]
    #[schema(value_type = Option<AgentId>)]
    assigned_agent_id: PatchField<AgentId>,
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    estimated_minutes: PatchField<i64>,
    #[serde(default)]
    #[schema(value_type = i64, minimum = 0, maximum = 100)]
    progress: PatchField<i64>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    tags: PatchField<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = i64)]
    max_attempts: PatchField<i64>,
    #[serde(default)]
    #[schema(value_type = Option<DateTime<Utc>>)]
    run_after: PatchField<DateTime<Utc>>,
}

impl PatchTaskBody {
    fn into_patch(self) -> Result<TaskPatch, ApiError> {
        let mut errors = FieldErrors::default();
        let title = errors.check(self.title.parse_required("title", |t| Title::parse(&t)));
        let description = errors.check(
            self.description
                .parse_required("description", |d| Description::parse("description", &d)),
        );
        let status = errors.check(
            self.status
                .parse_required("status", |s| s.parse::<TaskStatus>()),
        );
        let priority = errors.check(self.priority.parse_required("priority", Priority::parse));
        let payload = errors.check(self.payload.parse_nullable(Payload::parse));
        let required_capabilities = errors.check(
            self.required_capabilities
                .parse_required("required_capabilities", |c| Capabilities::parse(&c)),
        );
        let metadata = errors.check(
            self.metadata
                .parse_required("metadata", |m| Metadata::parse("metadata", m)),
        );
        let parent_id = errors.check(self.parent_id.parse_nullable(Ok));
        let assigned_agent_id = errors.check(self.assigned_agent_id.parse_nullable(Ok));
        let estimated_minutes = errors.check(self.estimated_minutes.parse_nullable(Effort::parse));
        let progress = errors.check(self.progress.parse_required("progress", Progress::parse));
        let tags = errors.check(self.tags.parse_required("tags", |t| Tags::parse(&t)));
        let max_attempts = errors.check(
            self.max_attempts
                .parse_required("max_attempts", MaxAttempts::parse),
        );
        let run_after = errors.check(self.run_after.parse_nullable(Ok));
        let (
            (Some(title), Some(description), Some(status), Some(priority)),
            (Some(payload), Some(required_capabilities), Some(metadata)),
            (Some(parent_id), Some(assigned_agent_id), Some(estimated_minutes)),
            (Some(progress), Some(tags), Some(max_attempts), Some(run_after)),
        ) = (
            (title, description, status, priority),
            (payload, required_capabilities, metadata),
            (parent_id, assigned_agent_id, estimated_minutes),
            (progress, tags, max_attempts, run_after),
        )
        else {
            return Err(errors.into_error().into());
        };
        Ok(TaskPatch {
            title,
            description,
            status,
            priority,
            // `null` is a payload like any other.
            payload: payload.map(Option::unwrap_or_default),
            required_capabilities,
            metadata,
            parent_id,
            assigned_agent_id,
            estimated_minutes,
            progress,
            tags,
            max_attempts,
            run_after,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListTasksQuery {
    project_id: Option<ProjectId>,
    #[param(value_type = Option<TaskStatus>)]
    status: Option<String>,
    assigned_agent_id: Option<AgentId>,
    /// The subtasks of this task.
    parent_id: Option<TaskId>,
    /// One tag the tasks carry.
    tag: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<TaskSort>)]
    sort: Option<String>,
}

impl ListTasksQuery {
    fn into_filter_and_page(self) -> Result<(TaskFilter, PageRequest<TaskSort>), ApiError> {
        let mut errors = FieldErrors::default();
        let status = errors.check(self.status.map(|s| s.parse::<TaskStatus>()).transpose());
        let tags = errors.check(self.tag.map_or(Ok(Tags::default()), |t| Tags::parse(&[t])));
        let page = super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(status), Some(tags), Some(page)) = (status, tags, page) else {
            return Err(errors.into_error().into());
        };
        let filter = TaskFilter {
            project_id: self.project_id,
            status,
            assigned_agent_id: self.assigned_agent_id,
            parent_id: self.parent_id,
            tags,
        };
        Ok((filter, page))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddDependencyBody {
    /// The task to wait for.
    depends_on: TaskId,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DependencyPath {
    id: TaskId,
    depends_on: TaskId,
}

/// `POST /api/v1/tasks` → 201 with `Location` and the task; with an `idempotency_key` the
/// organization has used already, 200 with the first task with that key, as it is now, and
/// nothing written. A project, parent, agent or dependency of another organization is a 422
/// naming the field.
#[utoipa::path(
    post,
    path = "/api/v1/tasks",
    summary = "Create a task",
    tag = "tasks",
    request_body = CreateTaskBody,
    responses(
        (status = 201, description = "The task, created: `queued`, or `blocked` while a \
            dependency has not succeeded", body = Task,
            headers(("Location" = String, description = "The task's URL"))),
        (status = 200, description = "The first task with this `idempotency_key`, as it is \
            now; nothing was written", body = Task),
        (status = 409, description = "A dependency is cancelled: the task would wait forever",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateTaskBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let enqueued = state.store.enqueue_task(ctx, body.into_new_task()?).await?;
    if !enqueued.created {
        return Ok(HttpResponse::Ok().json(enqueued.task));
    }
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/tasks/{}", enqueued.task.id)))
        .json(enqueued.task))
}

/// `POST /api/v1/tasks/batch` `{"tasks": [...]}` → `{"items": [task + created]}` in the order
/// sent: 201 when the call created a task, 200 when every task existed already (by its
/// idempotency key). All or nothing: a task at fault is a problem naming it (`tasks[3].title`)
/// and nothing is written.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/batch",
    summary = "Create tasks in one batch",
    tag = "tasks",
    request_body = BatchBody,
    responses(
        (status = 201, description = "Each task sent, in order, at least one of them created",
            body = EnqueuedBatch),
        (status = 200, description = "Each task sent, in order, every one of them existing \
            already by its `idempotency_key`; nothing was written", body = EnqueuedBatch),
        (status = 409, description = "A dependency is cancelled: a task would wait forever",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create_batch(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<BatchBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let batch = body.into_batch()?;
    let items = state.store.enqueue_tasks(ctx, batch).await?;
    let mut response = if items.iter().any(|item| item.created) {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(EnqueuedBatch { items }))
}

/// `GET /api/v1/tasks?project_id=&status=&assigned_agent_id=&parent_id=&tag=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/tasks",
    summary = "List tasks",
    tag = "tasks",
    params(ListTasksQuery),
    responses((status = 200, description = "A page of tasks", body = Page<Task, TaskSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListTasksQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_tasks(ctx, filter, page).await?))
}

/// `GET /api/v1/tasks/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{id}",
    summary = "Get a task",
    tag = "tasks",
    params(("id" = TaskId, Path, description = "The task's id")),
    responses((status = 200, description = "The task", body = Task))
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    let task = state.store.get_task(ctx, id.into_inner()).await?;
    Ok(conditional::read(&req, task.revision, &task))
}

/// `PATCH /api/v1/tasks/{id}`. An empty patch returns the task unchanged.
#[utoipa::path(
    patch,
    path = "/api/v1/tasks/{id}",
    summary = "Change a task",
    tag = "tasks",
    params(("id" = TaskId, Path, description = "The task's id")),
    request_body = PatchTaskBody,
    responses(
        (status = 200, description = "The task, changed", body = Task),
        (status = 409, description = "The new status cannot be had now: a blocked task whose \
            dependencies have not all succeeded, or the failed task of a workflow step, \
            queued again", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchTaskBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let id = id.into_inner();
    let patch = body.into_patch()?;
    let task = if patch.is_empty() {
        let task = state.store.get_task(ctx, id).await?;
        if_match.check("task", id, task.revision)?;
        task
    } else {
        state
            .store
            .update_task(ctx, id, patch, if_match.expected())
            .await?
    };
    Ok(conditional::tagged(task.revision, &task))
}

/// `DELETE /api/v1/tasks/{id}` → 204.
#[utoipa::path(
    delete,
    path = "/api/v1/tasks/{id}",
    summary = "Delete a task",
    tag = "tasks",
    params(("id" = TaskId, Path, description = "The task's id")),
    responses(
        (status = 204, description = "The task, its dependency edges, history and messages \
            are deleted"),
        (status = 409, description = "The task has subtasks, or is a step of a running \
            workflow execution", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    state
        .store
        .delete_task(ctx, id.into_inner(), if_match.expected())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/tasks/{id}/dependencies?limit=&cursor=&sort=`: the tasks it waits for.
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{id}/dependencies",
    summary = "List the tasks a task waits for",
    tag = "tasks",
    params(
        ("id" = TaskId, Path, description = "The task's id"),
        ("limit" = Option<u64>, Query, description = "Rows per page", minimum = 1,
            maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<DependencySort>, Query),
    ),
    responses((status = 200, description = "A page of the task's dependencies",
        body = Page<Task, DependencySort>))
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn list_dependencies(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    let page = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_dependencies(ctx, id.into_inner(), page)
            .await?,
    ))
}

/// `POST /api/v1/tasks/{id}/dependencies` `{"depends_on"}` → 201 with `Location` and the task,
/// `blocked` when the dependency has not succeeded. An edge that closes a cycle is a 422 on
/// `depends_on` showing the cycle.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/dependencies",
    summary = "Make a task wait for another",
    tag = "tasks",
    params(("id" = TaskId, Path, description = "The task's id")),
    request_body = AddDependencyBody,
    responses(
        (status = 201, description = "The task, `blocked` when the dependency has not \
            succeeded", body = Task,
            headers(("Location" = String, description = "The dependency's URL"))),
        (status = 409, description = "The task is neither blocked nor queued, the dependency \
            is cancelled, or the edge exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn add_dependency(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    ApiJson(body): ApiJson<AddDependencyBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let id = id.into_inner();
    let task = state.store.add_dependency(ctx, id, body.depends_on).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("/api/v1/tasks/{id}/dependencies/{}", body.depends_on),
        ))
        .json(task))
}

/// `DELETE /api/v1/tasks/{id}/dependencies/{depends_on}` → 204; a blocked task whose remaining
/// dependencies have all succeeded is queued.
#[utoipa::path(
    delete,
    path = "/api/v1/tasks/{id}/dependencies/{depends_on}",
    summary = "Stop a task waiting for another",
    tag = "tasks",
    params(
        ("id" = TaskId, Path, description = "The task's id"),
        ("depends_on" = TaskId, Path, description = "The id of the task it waits for"),
    ),
    responses((status = 204, description = "The task no longer waits for the other"))
)]
#[tracing::instrument(skip_all, fields(task_id = %path.id))]
pub(crate) async fn remove_dependency(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<DependencyPath>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    state
        .store
        .remove_dependency(ctx, path.id, path.depends_on)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/tasks/{id}/dependents?limit=&cursor=&sort=`: the tasks waiting for it.
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{id}/dependents",
    summary = "List the tasks waiting for a task",
    tag = "tasks",
    params(
        ("id" = TaskId, Path, description = "The task's id"),
        ("limit" = Option<u64>, Query, description = "Rows per page", minimum = 1,
            maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<DependentSort>, Query),
    ),
    responses((status = 200, description = "A page of the task's dependents",
        body = Page<Task, DependentSort>))
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn list_dependents(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    let page = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_dependents(ctx, id.into_inner(), page)
            .await?,
    ))
}

/// `GET /api/v1/tasks/{id}/events?limit=&cursor=&sort=`: its status history, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{id}/events",
    summary = "List a task's status history",
    tag = "tasks",
    params(
        ("id" = TaskId, Path, description = "The task's id"),
        ("limit" = Option<u64>, Query, description = "Rows per page", minimum = 1,
            maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<TaskEventSort>, Query),
    ),
    responses((status = 200, description = "A page of the task's status changes",
        body = Page<TaskEvent, TaskEventSort>))
)]
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn list_events(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    let page = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_task_events(ctx, id.into_inner(), page)
            .await?,
    ))
}

/// `GET /api/v1/tasks/stats`: the organization's tasks by status and priority, and run times.
#[utoipa::path(
    get,
    path = "/api/v1/tasks/stats",
    summary = "Read the organization's task statistics",
    tag = "tasks",
    responses((status = 200, description = "The organization's task statistics",
        body = TaskStats))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn stats(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .task_stats(ctx, TaskStatsScope::Organization)
            .await?,
    ))
}
