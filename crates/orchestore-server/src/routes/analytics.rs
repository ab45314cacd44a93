//! `/api/v1/analytics/…`: reports over a window of at most 92 days (30 by default).

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{AnalyticsWindow, Permission, WorkflowId};
use serde::Deserialize;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/analytics/workflows", "GET").route(web::get().to(workflows)))
        .service(
            super::resource("/analytics/workflows/{id}/daily", "GET").route(web::get().to(daily)),
        )
        .service(super::resource("/analytics/task-kinds", "GET").route(web::get().to(task_kinds)))
        .service(super::resource("/analytics/templates", "GET").route(web::get().to(templates)));
}

/// `since` (included) and `until` (excluded), RFC 3339.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WindowQuery {
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl WindowQuery {
    fn into_window(self) -> Result<AnalyticsWindow, ApiError> {
        Ok(AnalyticsWindow::parse(self.since, self.until, Utc::now())?)
    }
}

/// `GET /api/v1/analytics/workflows?since=&until=`.
#[tracing::instrument(skip_all)]
pub(crate) async fn workflows(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AnalyticsRead)?;
    let window = query.into_window()?;
    Ok(HttpResponse::Ok().json(state.store.workflow_analytics(ctx, window).await?))
}

/// `GET /api/v1/analytics/workflows/{id}/daily?since=&until=`.
#[tracing::instrument(skip_all, fields(workflow_id = %id))]
pub(crate) async fn daily(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<WorkflowId>,
    ApiQuery(query): ApiQuery<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AnalyticsRead)?;
    let window = query.into_window()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .workflow_daily(ctx, id.into_inner(), window)
            .await?,
    ))
}

/// `GET /api/v1/analytics/task-kinds?since=&until=`.
#[tracing::instrument(skip_all)]
pub(crate) async fn task_kinds(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AnalyticsRead)?;
    let window = query.into_window()?;
    Ok(HttpResponse::Ok().json(state.store.task_kind_analytics(ctx, window).await?))
}

/// `GET /api/v1/analytics/templates?since=&until=`.
#[tracing::instrument(skip_all)]
pub(crate) async fn templates(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AnalyticsRead)?;
    let window = query.into_window()?;
    Ok(HttpResponse::Ok().json(state.store.template_analytics(ctx, window).await?))
}
