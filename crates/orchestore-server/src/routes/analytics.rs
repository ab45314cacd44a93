//! `/api/v1/analytics/…`: reports over a window of at most 92 days (30 by default).

use actix_web::{HttpResponse, web};
use chrono::Utc;
use orchestore_api::analytics::WindowQuery;
use orchestore_domain::{
    AnalyticsReport, Permission, TaskKindAnalytics, TemplateAnalytics, WorkflowAnalytics,
    WorkflowDaily, WorkflowId,
};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(workflows, daily, task_kinds, templates))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/analytics/workflows", "GET").route(web::get().to(workflows)))
        .service(
            super::resource("/analytics/workflows/{id}/daily", "GET").route(web::get().to(daily)),
        )
        .service(super::resource("/analytics/task-kinds", "GET").route(web::get().to(task_kinds)))
        .service(super::resource("/analytics/templates", "GET").route(web::get().to(templates)));
}

/// `GET /api/v1/analytics/workflows?since=&until=`.
#[utoipa::path(
    get,
    path = "/api/v1/analytics/workflows",
    summary = "Report on workflow executions",
    tag = "analytics",
    params(WindowQuery),
    responses((status = 200, description = "One item per workflow that ran in the window",
        body = AnalyticsReport<WorkflowAnalytics>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn workflows(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AnalyticsRead)?;
    let window = query.into_window(Utc::now())?;
    Ok(HttpResponse::Ok().json(state.store.workflow_analytics(ctx, window).await?))
}

/// `GET /api/v1/analytics/workflows/{id}/daily?since=&until=`.
#[utoipa::path(
    get,
    path = "/api/v1/analytics/workflows/{id}/daily",
    summary = "Report on a workflow's executions by day",
    tag = "analytics",
    params(("id" = WorkflowId, Path, description = "The workflow's id"), WindowQuery),
    responses((status = 200, description = "Every day of the window", body = WorkflowDaily))
)]
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn daily(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<WorkflowId>,
    ApiQuery(query): ApiQuery<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AnalyticsRead)?;
    let window = query.into_window(Utc::now())?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .workflow_daily(ctx, id.into_inner(), window)
            .await?,
    ))
}

/// `GET /api/v1/analytics/task-kinds?since=&until=`.
#[utoipa::path(
    get,
    path = "/api/v1/analytics/task-kinds",
    summary = "Report on tasks by kind",
    tag = "analytics",
    params(WindowQuery),
    responses((status = 200, description = "One item per kind of task that ended in the window",
        body = AnalyticsReport<TaskKindAnalytics>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn task_kinds(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AnalyticsRead)?;
    let window = query.into_window(Utc::now())?;
    Ok(HttpResponse::Ok().json(state.store.task_kind_analytics(ctx, window).await?))
}

/// `GET /api/v1/analytics/templates?since=&until=`.
#[utoipa::path(
    get,
    path = "/api/v1/analytics/templates",
    summary = "Report on template uses",
    tag = "analytics",
    params(WindowQuery),
    responses((status = 200, description = "One item per template used in the window",
        body = AnalyticsReport<TemplateAnalytics>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn templates(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AnalyticsRead)?;
    let window = query.into_window(Utc::now())?;
    Ok(HttpResponse::Ok().json(state.store.template_analytics(ctx, window).await?))
}
