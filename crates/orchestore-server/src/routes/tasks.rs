//! `/api/v1/tasks`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::PageQuery;
use orchestore_api::tasks::{
    AddDependencyBody, BatchBody, CreateTaskBody, DependencyPath, EnqueuedBatch, ListTasksQuery,
    PatchTaskBody,
};
use orchestore_domain::{Permission, Task, TaskEvent, TaskId, TaskStats};
use orchestore_repo::{
    DependencySort, DependentSort, Page, TaskEventSort, TaskSort, TaskStatsScope,
};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{
    ApiError, BATCH_BODY_LIMIT_BYTES, PAYLOAD_BODY_LIMIT_BYTES, Problem, json_config_up_to,
};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

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
