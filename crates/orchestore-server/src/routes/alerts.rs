//! `/api/v1/alerts`: raised (and counted while unresolved), listed, acknowledged, resolved.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    AlertId, AlertMessage, AlertSeverity, Fingerprint, Metadata, NewAlert, Permission, SourceName,
};
use orchestore_repo::{AlertFilter, AlertSort, PageRequest};
use serde::Deserialize;

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RaiseAlertBody {
    severity: String,
    source: String,
    message: String,
    /// What makes two raises the same alert; the message when left out.
    fingerprint: Option<String>,
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
            return Err(errors.into_error());
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListAlertsQuery {
    status: Option<String>,
    severity: Option<String>,
    source: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
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
            return Err(errors.into_error());
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
#[tracing::instrument(skip_all, fields(alert_id = %id))]
pub(crate) async fn resolve(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AlertId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AlertsWrite)?;
    Ok(HttpResponse::Ok().json(state.store.resolve_alert(ctx, id.into_inner()).await?))
}
