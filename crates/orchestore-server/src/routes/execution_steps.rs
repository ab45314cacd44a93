//! `/api/v1/workflows/{id}/executions/{execution_id}/steps`: an execution's step log.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::execution_steps::{ListStepsQuery, RecordStepBody};
use orchestore_domain::{ExecutionStep, Permission, WorkflowExecutionId, WorkflowId};
use orchestore_repo::{ExecutionStepSort, Page};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document; `workflows` serves them.
#[derive(OpenApi)]
#[openapi(paths(record, list))]
pub(super) struct Api;

/// `POST …/executions/{execution_id}/steps` → 201 with the entry.
#[utoipa::path(
    post,
    path = "/api/v1/workflows/{id}/executions/{execution_id}/steps",
    summary = "Record an operation of an execution",
    tag = "execution_steps",
    params(
        ("id" = WorkflowId, Path, description = "The workflow's id"),
        ("execution_id" = WorkflowExecutionId, Path, description = "The execution's id"),
    ),
    request_body = RecordStepBody,
    responses((status = 201, description = "The entry, recorded", body = ExecutionStep,
        headers(("Location" = String, description = "The execution's step log"))))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %path.0, execution_id = %path.1))]
pub(crate) async fn record(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(WorkflowId, WorkflowExecutionId)>,
    ApiJson(body): ApiJson<RecordStepBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::StepsWrite)?;
    let (workflow, execution) = path.into_inner();
    let new = body.into_new_step(execution)?;
    super::workflows::execution_of(&state, ctx, workflow, execution).await?;
    let step = state.store.record_execution_step(ctx, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("/api/v1/workflows/{workflow}/executions/{execution}/steps"),
        ))
        .json(step))
}

/// `GET …/executions/{execution_id}/steps?step=&outcome=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{id}/executions/{execution_id}/steps",
    summary = "List an execution's step log",
    tag = "execution_steps",
    params(
        ("id" = WorkflowId, Path, description = "The workflow's id"),
        ("execution_id" = WorkflowExecutionId, Path, description = "The execution's id"),
        ListStepsQuery,
    ),
    responses((status = 200, description = "A page of the execution's step log",
        body = Page<ExecutionStep, ExecutionStepSort>))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %path.0, execution_id = %path.1))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(WorkflowId, WorkflowExecutionId)>,
    ApiQuery(query): ApiQuery<ListStepsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::WorkflowsRead)?;
    let (workflow, execution) = path.into_inner();
    let (filter, page) = query.into_filter_and_page()?;
    super::workflows::execution_of(&state, ctx, workflow, execution).await?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_execution_steps(ctx, execution, filter, page)
            .await?,
    ))
}
