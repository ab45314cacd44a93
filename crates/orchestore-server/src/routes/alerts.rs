//! `/api/v1/alerts`: raised (and counted while unresolved), listed, acknowledged, resolved.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::alerts::{ListAlertsQuery, RaiseAlertBody};
use orchestore_domain::{Alert, AlertId, Permission};
use orchestore_repo::{AlertSort, Page};

use crate::auth::Authenticated;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(raise, list, get, acknowledge, resolve))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/alerts", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(raise)),
    )
    .service(super::resource("/alerts/{id}", "GET").route(web::get().to(get)))
    .service(super::resource("/alerts/{id}/acknowledge", "POST").route(web::post().to(acknowledge)))
    .service(super::resource("/alerts/{id}/resolve", "POST").route(web::post().to(resolve)));
}

/// `POST /api/v1/alerts` → 201 with `Location` and the new alert; 200 with the alert when it
/// was open (or acknowledged) already and this raise was counted on it.
#[utoipa::path(
    post,
    path = "/api/v1/alerts",
    summary = "Raise an alert",
    tag = "alerts",
    request_body = RaiseAlertBody,
    responses(
        (status = 201, description = "A new alert", body = Alert,
            headers(("Location" = String, description = "The alert's URL"))),
        (status = 200, description = "The unresolved alert of the same fingerprint, with this \
            raise counted", body = Alert),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn raise(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<RaiseAlertBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AlertsWrite)?;
    let raised = state.store.raise_alert(ctx, body.into_new_alert()?).await?;
    if raised.created {
        Ok(HttpResponse::Created()
            .insert_header((LOCATION, format!("/api/v1/alerts/{}", raised.alert.id)))
            .json(raised.alert))
    } else {
        Ok(HttpResponse::Ok().json(raised.alert))
    }
}

/// `GET /api/v1/alerts?status=&severity=&source=&limit=&cursor=&sort=`: newest first.
#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    summary = "List alerts",
    tag = "alerts",
    params(ListAlertsQuery),
    responses((status = 200, description = "A page of alerts", body = Page<Alert, AlertSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListAlertsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AlertsRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_alerts(ctx, filter, page).await?))
}

/// `GET /api/v1/alerts/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/alerts/{id}",
    summary = "Get an alert",
    tag = "alerts",
    params(("id" = AlertId, Path, description = "The alert's id")),
    responses((status = 200, description = "The alert", body = Alert))
)]
#[tracing::instrument(skip_all, fields(alert_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AlertId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AlertsRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_alert(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/alerts/{id}/acknowledge`: an open alert → acknowledged, by the caller; any
/// other status is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/alerts/{id}/acknowledge",
    summary = "Acknowledge an alert",
    tag = "alerts",
    params(("id" = AlertId, Path, description = "The alert's id")),
    responses(
        (status = 200, description = "The alert, acknowledged", body = Alert),
        (status = 409, description = "The alert is not open", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(alert_id = %id))]
pub(crate) async fn acknowledge(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AlertId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AlertsWrite)?;
    Ok(HttpResponse::Ok().json(state.store.acknowledge_alert(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/alerts/{id}/resolve`: an open or acknowledged alert → resolved, by the
/// caller; a resolved one is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/alerts/{id}/resolve",
    summary = "Resolve an alert",
    tag = "alerts",
    params(("id" = AlertId, Path, description = "The alert's id")),
    responses(
        (status = 200, description = "The alert, resolved", body = Alert),
        (status = 409, description = "The alert is resolved already", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(alert_id = %id))]
pub(crate) async fn resolve(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AlertId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AlertsWrite)?;
    Ok(HttpResponse::Ok().json(state.store.resolve_alert(ctx, id.into_inner()).await?))
}
