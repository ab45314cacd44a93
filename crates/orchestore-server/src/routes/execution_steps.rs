//! `/api/v1/workflows/{id}/executions/{execution_id}/steps`: an execution's step log.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    ByteCount, ExecutionStep, NewExecutionStep, OperationName, Permission, StepName, StepOutcome,
    StepTiming, WorkflowExecutionId, WorkflowId,
};
use orchestore_repo::{ExecutionStepFilter, ExecutionStepSort, Page, PageRequest};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document; `workflows` serves them.
#[derive(OpenApi)]
#[openapi(paths(record, list))]
pub(super) struct Api;

/// One operation a worker ran.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordStepBody {
    /// The name of the workflow step it ran in.
    step: String,
    /// What it was, as an identifier, e.g. `call_model` or `git.clone`.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,200}$")]
    operation: String,
    /// The size of what it read.
    input_bytes: u64,
    /// The size of what it produced.
    output_bytes: u64,
    #[schema(value_type = StepOutcome)]
    outcome: String,
    started_at: DateTime<Utc>,
    /// Not before `started_at`.
    finished_at: DateTime<Utc>,
}

impl RecordStepBody {
    fn into_new_step(
        self,
        execution_id: WorkflowExecutionId,
    ) -> Result<NewExecutionStep, ApiError> {
        let mut errors = FieldErrors::default();
        let step = errors.check(StepName::parse(&self.step).map_err(|e| e.for_field("step")));
        let operation = errors.check(OperationName::parse(&self.operation));
        let input_bytes = errors.check(ByteCount::parse("input_bytes", self.input_bytes));
        let output_bytes = errors.check(ByteCount::parse("output_bytes", self.output_bytes));
        let outcome = errors.check(self.outcome.parse::<StepOutcome>());
        let timing = errors.check(StepTiming::new(self.started_at, self.finished_at));
        let (
            Some(step),
            Some(operation),
            Some(input_bytes),
            Some(output_bytes),
            Some(outcome),
            Some(timing),
        ) = (step, operation, input_bytes, output_bytes, outcome, timing)
        else {
            return Err(errors.into_error().into());
        };
        Ok(NewExecutionStep {
            execution_id,
            step,
            operation,
            input_bytes,
            output_bytes,
            outcome,
            timing,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListStepsQuery {
    /// The entries of this workflow step.
    step: Option<String>,
    #[param(value_type = Option<StepOutcome>)]
    outcome: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<ExecutionStepSort>)]
    sort: Option<String>,
}

impl ListStepsQuery {
    fn into_filter_and_page(
        self,
    ) -> Result<(ExecutionStepFilter, PageRequest<ExecutionStepSort>), ApiError> {
        let mut errors = FieldErrors::default();
        let step = errors.check(
            self.step
                .as_deref()
                .map(|s| StepName::parse(s).map_err(|e| e.for_field("step")))
                .transpose(),
        );
        let outcome = errors.check(self.outcome.as_deref().map(str::parse).transpose());
        let page = super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(step), Some(outcome), Some(page)) = (step, outcome, page) else {
            return Err(errors.into_error().into());
        };
        Ok((ExecutionStepFilter { step, outcome }, page))
    }
}

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
