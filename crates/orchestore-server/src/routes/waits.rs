//! `/api/v1/workflows/executions/{execution_id}/…`: the durable waits of an execution and the
//! signals that end them.

use actix_web::{HttpResponse, web};
use orchestore_api::waits::{SignalBody, Waits};
use orchestore_domain::{Permission, SignalName, WorkflowExecutionId, WorkflowWait};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(list, signal))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/workflows/executions/{execution_id}/waits", "GET")
            .route(web::get().to(list)),
    )
    .service(
        super::resource(
            "/workflows/executions/{execution_id}/signals/{name}",
            "POST",
        )
        .route(web::post().to(signal)),
    );
}

/// `GET /api/v1/workflows/executions/{execution_id}/waits` → the execution's waits, in the
/// order of their steps' tasks.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/executions/{execution_id}/waits",
    summary = "List an execution's waits",
    tag = "waits",
    params(("execution_id" = WorkflowExecutionId, Path, description = "The execution's id")),
    responses((status = 200, description = "The execution's waits, in the order of their \
        steps' tasks", body = Waits))
)]
#[tracing::instrument(skip_all, fields(execution_id = %path))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<WorkflowExecutionId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::WorkflowsRead)?;
    let waits = state
        .store
        .list_execution_waits(ctx, path.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(Waits { items: waits }))
}

/// `POST /api/v1/workflows/executions/{execution_id}/signals/{name}` `{payload?}` → 200 with
/// the wait, `signalled`: the step waiting for signal `name` succeeds with `payload` and its
/// dependents proceed (`workflows:write` and `tasks:write`). 404 when the execution has no
/// step waiting for `name`; 409 when the step is not reached yet, its wait has ended, or the
/// execution has.
#[utoipa::path(
    post,
    path = "/api/v1/workflows/executions/{execution_id}/signals/{name}",
    summary = "Signal a waiting workflow step",
    tag = "waits",
    params(
        ("execution_id" = WorkflowExecutionId, Path, description = "The execution's id"),
        ("name" = SignalName, Path, description = "The signal a step waits for"),
    ),
    request_body = Option<SignalBody>,
    responses(
        (status = 200, description = "The wait, `signalled`", body = WorkflowWait),
        (status = 409, description = "The step is not reached yet, its wait has ended, or the \
            execution has", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(execution_id = %path.0, signal = %path.1))]
pub(crate) async fn signal(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(WorkflowExecutionId, String)>,
    body: Option<ApiJson<SignalBody>>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::TasksWrite)?;
    let ctx = auth.require(Permission::WorkflowsWrite)?;
    let (execution, name) = path.into_inner();
    let signal = SignalName::parse(&name)?;
    let payload = body
        .map(|ApiJson(body)| body)
        .unwrap_or_default()
        .into_payload()?;
    let wait = state
        .store
        .signal_execution(ctx, execution, &signal, payload)
        .await?;
    Ok(HttpResponse::Ok().json(wait))
}
