//! `/api/v1/alerts`: raised (and counted while unresolved), listed, acknowledged, resolved.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    Alert, AlertId, AlertMessage, AlertSeverity, AlertStatus, Fingerprint, Metadata, NewAlert,
    Permission, SourceName,
};
use orchestore_repo::{AlertFilter, AlertSort, Page, PageRequest};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors, Problem};
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RaiseAlertBody {
    #[schema(value_type = AlertSeverity)]
    severity: String,
    /// Who raises it, e.g. a component's name.
    source: String,
    message: String,
    /// What makes two raises the same alert; the message when left out.
    fingerprint: Option<String>,
    /// A JSON object.
    #[schema(value_type = Option<Object>)]
    details: Option<serde_json::Value>,
}

impl RaiseAlertBody {
    fn parse(self) -> Result<NewAlert, ApiError> {
        let mut errors = FieldErrors::default();
        let severity = errors.check(self.severity.parse::<AlertSeverity>());
        let source = errors.check(SourceName::parse(&self.source));
        let message = errors.check(AlertMessage::parse(&self.message));
        let fingerprint = errors.check(
            self.fingerprint
                .as_deref()
                .map(Fingerprint::parse)
                .transpose(),
        );
        let details = errors.check(
            self.details
                .map_or(Ok(Metadata::default()), |d| Metadata::parse("details", d)),
        );
        let (Some(severity), Some(source), Some(message), Some(fingerprint), Some(details)) =
            (severity, source, message, fingerprint, details)
        else {
            return Err(errors.into_error().into());
        };
        Ok(NewAlert {
            fingerprint: fingerprint.unwrap_or_else(|| Fingerprint::of_message(&message)),
            severity,
            source,
            message,
            details,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListAlertsQuery {
    #[param(value_type = Option<AlertStatus>)]
    status: Option<String>,
    #[param(value_type = Option<AlertSeverity>)]
    severity: Option<String>,
    /// Only alerts from this source.
    source: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<AlertSort>)]
    sort: Option<String>,
}

impl ListAlertsQuery {
    fn into_filter_and_page(self) -> Result<(AlertFilter, PageRequest<AlertSort>), ApiError> {
        let mut errors = FieldErrors::default();
        let status = errors.check(self.status.as_deref().map(str::parse).transpose());
        let severity = errors.check(self.severity.as_deref().map(str::parse).transpose());
        let source = errors.check(self.source.as_deref().map(SourceName::parse).transpose());
        let page = super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(status), Some(severity), Some(source), Some(page)) =
            (status, severity, source, page)
        else {
            return Err(errors.into_error().into());
        };
        Ok((
            AlertFilter {
                status,
                severity,
                source,
            },
            page,
        ))
    }
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
    let raised = state.store.raise_alert(ctx, body.parse()?).await?;
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
