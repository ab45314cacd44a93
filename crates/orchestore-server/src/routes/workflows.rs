//! `/api/v1/workflows`, with each workflow's versions and executions beneath it.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::PageQuery;
use orchestore_api::queue::CancelBody;
use orchestore_api::workflows::{
    CreateExecutionBody, CreateVersionBody, CreateWorkflowBody, ListExecutionsQuery,
    PatchExecutionBody, PatchWorkflowBody,
};
use orchestore_domain::{
    ExecutionTask, Permission, Workflow, WorkflowExecution, WorkflowExecutionId, WorkflowId,
    WorkflowVersion,
};
use orchestore_repo::{
    Ctx, ExecutionSort, ExecutionTaskSort, Page, RepoError, WorkflowSort, WorkflowVersionSort,
};
use utoipa::OpenApi;

use super::queue::cancel_reason_of;
use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    create,
    list,
    get,
    update,
    delete,
    create_version,
    list_versions,
    get_version,
    create_execution,
    list_executions,
    get_execution,
    update_execution,
    cancel_execution,
    list_execution_tasks
))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/workflows", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        super::resource("/workflows/{id}", "GET, PATCH, DELETE")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    )
    .service(
        super::resource("/workflows/{id}/versions", "GET, POST")
            .route(web::get().to(list_versions))
            .route(web::post().to(create_version)),
    )
    .service(
        super::resource("/workflows/{id}/versions/{version}", "GET")
            .route(web::get().to(get_version)),
    )
    .service(
        super::resource("/workflows/{id}/executions", "GET, POST")
            .route(web::get().to(list_executions))
            .route(web::post().to(create_execution)),
    )
    .service(
        super::resource("/workflows/{id}/executions/{execution_id}", "GET, PATCH")
            .route(web::get().to(get_execution))
            .route(web::patch().to(update_execution)),
    )
    .service(
        super::resource("/workflows/{id}/executions/{execution_id}/cancel", "POST")
            .route(web::post().to(cancel_execution)),
    )
    .service(
        super::resource("/workflows/{id}/executions/{execution_id}/tasks", "GET")
            .route(web::get().to(list_execution_tasks)),
    )
    .service(
        super::resource(
            "/workflows/{id}/executions/{execution_id}/steps",
            "GET, POST",
        )
        .route(web::get().to(super::execution_steps::list))
        .route(web::post().to(super::execution_steps::record)),
    );
}

/// `POST /api/v1/workflows` → 201 with `Location`: a workflow with no version yet.
#[utoipa::path(
    post,
    path = "/api/v1/workflows",
    summary = "Create a workflow",
    tag = "workflows",
    request_body = CreateWorkflowBody,
    responses(
        (status = 201, description = "The workflow, created with no version yet",
            body = Workflow,
            headers(("Location" = String, description = "The workflow's URL"))),
        (status = 409, description = "A workflow of this name exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateWorkflowBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::WorkflowsWrite)?;
    let workflow = state
        .store
        .create_workflow(ctx, body.into_new_workflow()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/workflows/{}", workflow.id)))
        .json(workflow))
}

/// `GET /api/v1/workflows?limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/workflows",
    summary = "List workflows",
    tag = "workflows",
    params(
        ("limit" = Option<u64>, Query, description = "Rows per page", minimum = 1,
            maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<WorkflowSort>, Query),
    ),
    responses((status = 200, description = "A page of workflows",
        body = Page<Workflow, WorkflowSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::WorkflowsRead)?;
    let page = query.into_page_request::<WorkflowSort>()?;
    Ok(HttpResponse::Ok().json(state.store.list_workflows(ctx, page).await?))
}

/// `GET /api/v1/workflows/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{id}",
    summary = "Get a workflow",
    tag = "workflows",
    params(("id" = WorkflowId, Path, description = "The workflow's id")),
    responses((status = 200, description = "The workflow", body = Workflow))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<WorkflowId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::WorkflowsRead)?;
    let workflow = state.store.get_workflow(ctx, id.into_inner()).await?;
    Ok(conditional::read(&req, workflow.revision, &workflow))
}

/// `PATCH /api/v1/workflows/{id}`: name and description. An empty patch returns the workflow
/// unchanged.
#[utoipa::path(
    patch,
    path = "/api/v1/workflows/{id}",
    summary = "Rename or describe a workflow",
    tag = "workflows",
    params(("id" = WorkflowId, Path, description = "The workflow's id")),
    request_body = PatchWorkflowBody,
    responses(
        (status = 200, description = "The workflow, changed", body = Workflow),
        (status = 409, description = "A workflow of the new name exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<WorkflowId>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchWorkflowBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::WorkflowsWrite)?;
    let id = id.into_inner();
    let patch = body.into_patch()?;
    let workflow = if patch.is_empty() {
        let workflow = state.store.get_workflow(ctx, id).await?;
        if_match.check("workflow", id, workflow.revision)?;
        workflow
    } else {
        state
            .store
            .update_workflow(ctx, id, patch, if_match.expected())
            .await?
    };
    Ok(conditional::tagged(workflow.revision, &workflow))
}

/// `DELETE /api/v1/workflows/{id}` → 204, with its versions; 409 while it has executions.
#[utoipa::path(
    delete,
    path = "/api/v1/workflows/{id}",
    summary = "Delete a workflow and its versions",
    tag = "workflows",
    params(("id" = WorkflowId, Path, description = "The workflow's id")),
    responses(
        (status = 204, description = "The workflow and its versions are deleted"),
        (status = 409, description = "The workflow has executions, which record what ran",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<WorkflowId>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::WorkflowsWrite)?;
    state
        .store
        .delete_workflow(ctx, id.into_inner(), if_match.expected())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/workflows/{id}/versions` `{definition}` → 201, the next version.
#[utoipa::path(
    post,
    path = "/api/v1/workflows/{id}/versions",
    summary = "Write a workflow's next version",
    tag = "workflows",
    params(("id" = WorkflowId, Path, description = "The workflow's id")),
    request_body = CreateVersionBody,
    responses((status = 201, description = "The version, now the workflow's latest",
        body = WorkflowVersion,
        headers(("Location" = String, description = "The version's URL"))))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn create_version(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<WorkflowId>,
    ApiJson(body): ApiJson<CreateVersionBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::WorkflowsWrite)?;
    let definition = body.into_definition()?;
    let version = state
        .store
        .create_version(ctx, id.into_inner(), definition)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!(
                "/api/v1/workflows/{}/versions/{}",
                version.workflow_id, version.version
            ),
        ))
        .json(version))
}

/// `GET /api/v1/workflows/{id}/versions?limit=&cursor=&sort=` (`version` or `-version`).
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{id}/versions",
    summary = "List a workflow's versions",
    tag = "workflows",
    params(
        ("id" = WorkflowId, Path, description = "The workflow's id"),
        ("limit" = Option<u64>, Query, description = "Rows per page", minimum = 1,
            maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<WorkflowVersionSort>, Query),
    ),
    responses((status = 200, description = "A page of the workflow's versions",
        body = Page<WorkflowVersion, WorkflowVersionSort>))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn list_versions(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<WorkflowId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::WorkflowsRead)?;
    let page = query.into_page_request::<WorkflowVersionSort>()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_versions(ctx, id.into_inner(), page)
            .await?,
    ))
}

/// `GET /api/v1/workflows/{id}/versions/{version}`.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{id}/versions/{version}",
    summary = "Get a workflow version",
    tag = "workflows",
    params(
        ("id" = WorkflowId, Path, description = "The workflow's id"),
        ("version" = u32, Path, description = "The version's number", minimum = 1),
    ),
    responses((status = 200, description = "The version", body = WorkflowVersion))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %path.0, version = %path.1))]
pub(crate) async fn get_version(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(WorkflowId, String)>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::WorkflowsRead)?;
    let (workflow, version) = path.into_inner();
    let version = version.parse::<u32>().map_err(|_| ApiError::BadRequest {
        detail: "a path parameter is not a valid version number".to_owned(),
        errors: vec![FieldError::new("version", "must be a whole number from 1")],
    })?;
    Ok(HttpResponse::Ok().json(state.store.get_version(ctx, workflow, version).await?))
}

/// `POST /api/v1/workflows/{id}/executions` `{version?, project_id, input, priority?,
/// parent_task_id?}` → 201, the execution running with a task per step (`tasks:write` as well);
/// with `parent_task_id`, a child of that task, cancelled with it.
#[utoipa::path(
    post,
    path = "/api/v1/workflows/{id}/executions",
    summary = "Start a workflow execution",
    tag = "workflows",
    params(("id" = WorkflowId, Path, description = "The workflow's id")),
    request_body = CreateExecutionBody,
    responses(
        (status = 201, description = "The execution, running, with a task per step",
            body = WorkflowExecution,
            headers(("Location" = String, description = "The execution's URL"))),
        (status = 409, description = "The workflow has no version yet, or the parent task \
            succeeded or was cancelled", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn create_execution(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<WorkflowId>,
    ApiJson(body): ApiJson<CreateExecutionBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::TasksWrite)?;
    let ctx = auth.require(Permission::WorkflowsWrite)?;
    let (new, parent) = body.into_new_execution(id.into_inner())?;
    let execution = match parent {
        Some(parent) => state.store.create_child_execution(ctx, parent, new).await?,
        None => state.store.create_execution(ctx, new).await?,
    };
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, execution_location(&execution)))
        .json(execution))
}

/// Where an execution is read.
pub(crate) fn execution_location(execution: &WorkflowExecution) -> String {
    format!(
        "/api/v1/workflows/{}/executions/{}",
        execution.workflow_id, execution.id
    )
}

/// `GET /api/v1/workflows/{id}/executions?status=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{id}/executions",
    summary = "List a workflow's executions",
    tag = "workflows",
    params(("id" = WorkflowId, Path, description = "The workflow's id"), ListExecutionsQuery),
    responses((status = 200, description = "A page of the workflow's executions",
        body = Page<WorkflowExecution, ExecutionSort>))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn list_executions(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<WorkflowId>,
    ApiQuery(query): ApiQuery<ListExecutionsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::WorkflowsRead)?;
    let workflow = id.into_inner();
    let (filter, page) = query.into_filter_and_page(workflow)?;
    // An unknown workflow is a 404, not an empty list.
    state.store.get_workflow(ctx, workflow).await?;
    Ok(HttpResponse::Ok().json(state.store.list_executions(ctx, filter, page).await?))
}

/// The execution, when it belongs to `workflow`: another workflow's is not found here.
pub(super) async fn execution_of(
    state: &AppState,
    ctx: &Ctx,
    workflow: WorkflowId,
    id: WorkflowExecutionId,
) -> Result<WorkflowExecution, ApiError> {
    let execution = state.store.get_execution(ctx, id).await?;
    if execution.workflow_id != workflow {
        return Err(RepoError::not_found("workflow_execution", id).into());
    }
    Ok(execution)
}

/// `GET /api/v1/workflows/{id}/executions/{execution_id}`.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{id}/executions/{execution_id}",
    summary = "Get a workflow execution",
    tag = "workflows",
    params(
        ("id" = WorkflowId, Path, description = "The workflow's id"),
        ("execution_id" = WorkflowExecutionId, Path, description = "The execution's id"),
    ),
    responses((status = 200, description = "The execution", body = WorkflowExecution))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %path.0, execution_id = %path.1))]
pub(crate) async fn get_execution(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(WorkflowId, WorkflowExecutionId)>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::WorkflowsRead)?;
    let (workflow, id) = path.into_inner();
    let execution = execution_of(&state, ctx, workflow, id).await?;
    Ok(conditional::read(&req, execution.revision, &execution))
}

/// `PATCH /api/v1/workflows/{id}/executions/{execution_id}` `{status: "cancelled", reason?}`:
/// as `POST …/cancel`; any other status is a 422, since an execution's status follows its
/// tasks.
#[utoipa::path(
    patch,
    path = "/api/v1/workflows/{id}/executions/{execution_id}",
    summary = "Cancel a workflow execution by its status",
    tag = "workflows",
    params(
        ("id" = WorkflowId, Path, description = "The workflow's id"),
        ("execution_id" = WorkflowExecutionId, Path, description = "The execution's id"),
    ),
    request_body = PatchExecutionBody,
    responses((status = 200, description = "The execution, cancelled", body = WorkflowExecution))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %path.0, execution_id = %path.1))]
pub(crate) async fn update_execution(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(WorkflowId, WorkflowExecutionId)>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchExecutionBody>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.into_reason()?;
    cancel(&state, &auth, path.into_inner(), reason, if_match).await
}

/// `POST /api/v1/workflows/{id}/executions/{execution_id}/cancel` `{reason?}` → 200 with the
/// cancelled execution; its tasks that had not ended are cancelled with it (`tasks:write` as
/// well). A cancelled execution is answered as it is; a succeeded or failed one is a 422.
#[utoipa::path(
    post,
    path = "/api/v1/workflows/{id}/executions/{execution_id}/cancel",
    summary = "Cancel a workflow execution",
    tag = "workflows",
    params(
        ("id" = WorkflowId, Path, description = "The workflow's id"),
        ("execution_id" = WorkflowExecutionId, Path, description = "The execution's id"),
    ),
    request_body = Option<CancelBody>,
    responses((status = 200, description = "The execution, cancelled", body = WorkflowExecution))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %path.0, execution_id = %path.1))]
pub(crate) async fn cancel_execution(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(WorkflowId, WorkflowExecutionId)>,
    if_match: IfMatch,
    body: Option<ApiJson<CancelBody>>,
) -> Result<HttpResponse, ApiError> {
    let reason = cancel_reason_of(body)?;
    cancel(&state, &auth, path.into_inner(), reason, if_match).await
}

/// Cancels the execution (`If-Match` honoured) → 200 with it and its new `ETag`.
async fn cancel(
    state: &AppState,
    auth: &Authenticated,
    (workflow, id): (WorkflowId, WorkflowExecutionId),
    reason: Option<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::TasksWrite)?;
    let ctx = auth.require(Permission::WorkflowsWrite)?;
    // An execution never changes workflow, so checking it first is enough.
    execution_of(state, ctx, workflow, id).await?;
    let execution = state
        .store
        .cancel_execution(ctx, id, reason, if_match.expected())
        .await?;
    Ok(conditional::tagged(execution.revision, &execution))
}

/// `GET /api/v1/workflows/{id}/executions/{execution_id}/tasks?limit=&cursor=&sort=` → the
/// steps with their tasks (`step_name` and the task's fields), in the order they were created:
/// each step after those it depends on (`sort=-created_at` reverses it). `tasks:read` as well.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{id}/executions/{execution_id}/tasks",
    summary = "List an execution's step tasks",
    tag = "workflows",
    params(
        ("id" = WorkflowId, Path, description = "The workflow's id"),
        ("execution_id" = WorkflowExecutionId, Path, description = "The execution's id"),
        ("limit" = Option<u64>, Query, description = "Rows per page", minimum = 1,
            maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<ExecutionTaskSort>, Query),
    ),
    responses((status = 200, description = "A page of the execution's steps with their tasks",
        body = Page<ExecutionTask, ExecutionTaskSort>))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %path.0, execution_id = %path.1))]
pub(crate) async fn list_execution_tasks(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(WorkflowId, WorkflowExecutionId)>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::TasksRead)?;
    let ctx = auth.require(Permission::WorkflowsRead)?;
    let (workflow, id) = path.into_inner();
    let page = query.into_page_request::<ExecutionTaskSort>()?;
    execution_of(&state, ctx, workflow, id).await?;
    Ok(HttpResponse::Ok().json(state.store.list_execution_tasks(ctx, id, page).await?))
}
