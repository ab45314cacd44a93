//! `/api/v1/components`: the registry of the system's components, each one's health
//! (`/components/{id}/health`, the latest of every component at `/components/health`), and
//! the communications between them (`/component-communications`).

use std::collections::BTreeMap;

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    Communication, CommunicationId, CommunicationKind, Component, ComponentHealth, ComponentId,
    ComponentKind, ComponentPatch, ComponentStatus, ComponentVersion, Endpoint, HealthCheck,
    HealthStatus, Measure, Metadata, Name, NewCommunication, NewComponent, NewHealthCheck, Outcome,
    Permission, ResourceUse,
};
use orchestore_repo::{
    CommunicationFilter, CommunicationSort, ComponentFilter, ComponentSort, HealthFilter,
    HealthSort, Page, PageRequest,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::metrics::{one_of_two, schemas_of_two};
use super::telemetry::{BatchOf, one_or_batch, parse_records, refused};
use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, BATCH_BODY_LIMIT_BYTES, FieldErrors, Problem, json_config_up_to};
use crate::extract::{ApiJson, ApiQuery, PatchField};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create,
    list,
    get,
    update,
    record_health,
    health_history,
    latest_health,
    record_communications,
    list_communications
))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    // Before `/components/{id}`, which would take `health` for an id.
    cfg.service(super::resource("/components/health", "GET").route(web::get().to(latest_health)))
        .service(
            super::resource("/components", "GET, POST")
                .route(web::get().to(list))
                .route(web::post().to(create)),
        )
        .service(
            super::resource("/components/{id}", "GET, PATCH")
                .route(web::get().to(get))
                .route(web::patch().to(update)),
        )
        .service(
            super::resource("/components/{id}/health", "GET, POST")
                .route(web::get().to(health_history))
                .route(web::post().to(record_health)),
        )
        .service(
            super::resource("/component-communications", "GET, POST")
                .app_data(json_config_up_to(BATCH_BODY_LIMIT_BYTES))
                .route(web::get().to(list_communications))
                .route(web::post().to(record_communications)),
        );
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateComponentBody {
    /// Unique in the organization, ignoring case.
    name: String,
    /// What the component is, e.g. `worker` or `api`.
    kind: String,
    version: Option<String>,
    /// Where the component answers, e.g. a URL.
    endpoint: Option<String>,
    /// `active` when left out.
    #[schema(value_type = Option<ComponentStatus>)]
    status: Option<String>,
    /// A JSON object.
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
}

impl CreateComponentBody {
    fn parse(self) -> Result<NewComponent, ApiError> {
        let mut errors = FieldErrors::default();
        let name = errors.check(Name::parse("name", &self.name));
        let kind = errors.check(ComponentKind::parse(&self.kind));
        let version = errors.check(
            self.version
                .as_deref()
                .map(ComponentVersion::parse)
                .transpose(),
        );
        let endpoint = errors.check(self.endpoint.as_deref().map(Endpoint::parse).transpose());
        let status = errors.check(
            self.status
                .as_deref()
                .map_or(Ok(ComponentStatus::Active), str::parse),
        );
        let metadata = errors.check(
            self.metadata
                .map_or(Ok(Metadata::default()), |m| Metadata::parse("metadata", m)),
        );
        let (Some(name), Some(kind), Some(version), Some(endpoint), Some(status), Some(metadata)) =
            (name, kind, version, endpoint, status, metadata)
        else {
            return Err(errors.into_error().into());
        };
        Ok(NewComponent {
            name,
            kind,
            version,
            endpoint,
            status,
            metadata,
        })
    }
}

/// Absent fields stay as they are; `version: null` and `endpoint: null` clear them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchComponentBody {
    #[serde(default)]
    #[schema(value_type = String)]
    name: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    kind: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    version: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    endpoint: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = ComponentStatus)]
    status: PatchField<String>,
    /// A JSON object.
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: PatchField<serde_json::Value>,
}

impl PatchComponentBody {
    fn parse(self) -> Result<ComponentPatch, ApiError> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            self.name
                .parse_required("name", |n| Name::parse("name", &n)),
        );
        let kind = errors.check(
            self.kind
                .parse_required("kind", |k| ComponentKind::parse(&k)),
        );
        let version = errors.check(self.version.parse_nullable(|v| ComponentVersion::parse(&v)));
        let endpoint = errors.check(self.endpoint.parse_nullable(|e| Endpoint::parse(&e)));
        let status = errors.check(
            self.status
                .parse_required("status", |s| s.parse::<ComponentStatus>()),
        );
        let metadata = errors.check(
            self.metadata
                .parse_required("metadata", |m| Metadata::parse("metadata", m)),
        );
        let (Some(name), Some(kind), Some(version), Some(endpoint), Some(status), Some(metadata)) =
            (name, kind, version, endpoint, status, metadata)
        else {
            return Err(errors.into_error().into());
        };
        Ok(ComponentPatch {
            name,
            kind,
            version,
            endpoint,
            status,
            metadata,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListComponentsQuery {
    /// Only components of this kind.
    kind: Option<String>,
    #[param(value_type = Option<ComponentStatus>)]
    status: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<ComponentSort>)]
    sort: Option<String>,
}

impl ListComponentsQuery {
    fn into_filter_and_page(
        self,
    ) -> Result<(ComponentFilter, PageRequest<ComponentSort>), ApiError> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(self.kind.as_deref().map(ComponentKind::parse).transpose());
        let status = errors.check(self.status.as_deref().map(str::parse).transpose());
        let page = super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(kind), Some(status), Some(page)) = (kind, status, page) else {
            return Err(errors.into_error().into());
        };
        Ok((ComponentFilter { kind, status }, page))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HealthCheckBody {
    #[schema(value_type = HealthStatus)]
    status: String,
    /// A JSON object: what the check saw.
    #[schema(value_type = Option<Object>)]
    details: Option<serde_json::Value>,
    /// Figures by name, e.g. `{"cpu_percent": 12.5, "memory_bytes": 104857600}`.
    resources: Option<BTreeMap<String, f64>>,
    /// RFC 3339; now when left out.
    checked_at: Option<DateTime<Utc>>,
}

impl HealthCheckBody {
    fn parse(self) -> Result<NewHealthCheck, ApiError> {
        let mut errors = FieldErrors::default();
        let status = errors.check(self.status.parse::<HealthStatus>());
        let details = errors.check(
            self.details
                .map_or(Ok(Metadata::default()), |d| Metadata::parse("details", d)),
        );
        let resources = errors.check(ResourceUse::parse(self.resources.unwrap_or_default()));
        let (Some(status), Some(details), Some(resources)) = (status, details, resources) else {
            return Err(errors.into_error().into());
        };
        Ok(NewHealthCheck {
            status,
            details,
            resources,
            checked_at: self.checked_at,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct HealthHistoryQuery {
    /// RFC 3339: checks made at or after it.
    since: Option<DateTime<Utc>>,
    /// RFC 3339: checks made before it.
    until: Option<DateTime<Utc>>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<HealthSort>)]
    sort: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommunicationBody {
    from_component_id: ComponentId,
    to_component_id: ComponentId,
    /// What passed between them, e.g. `http` or `queue`.
    kind: String,
    payload_bytes: u64,
    /// Not negative.
    #[schema(minimum = 0)]
    latency_ms: f64,
    #[schema(value_type = Outcome)]
    outcome: String,
    /// RFC 3339; now when left out.
    occurred_at: Option<DateTime<Utc>>,
}

impl CommunicationBody {
    fn parse(self) -> Result<NewCommunication, FieldErrors> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(CommunicationKind::parse(&self.kind));
        let payload_bytes = errors.check(NewCommunication::payload_bytes(self.payload_bytes));
        let latency_ms = errors.check(Measure::parse_non_negative("latency_ms", self.latency_ms));
        let outcome = errors.check(self.outcome.parse::<Outcome>());
        let (Some(kind), Some(payload_bytes), Some(latency_ms), Some(outcome)) =
            (kind, payload_bytes, latency_ms, outcome)
        else {
            return Err(errors);
        };
        Ok(NewCommunication {
            from_component_id: self.from_component_id,
            to_component_id: self.to_component_id,
            kind,
            payload_bytes,
            latency_ms,
            outcome,
            occurred_at: self.occurred_at,
        })
    }
}

/// `{"communications": [...]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommunicationBatchBody {
    /// Up to 10,000 communications, recorded all or none.
    #[schema(min_items = 1, max_items = 10_000)]
    communications: Vec<CommunicationBody>,
}

impl BatchOf<CommunicationBody> for CommunicationBatchBody {
    const KEY: &'static str = "communications";

    fn items(self) -> Vec<CommunicationBody> {
        self.communications
    }
}

/// The body of `POST /api/v1/component-communications` as the document shows it: one
/// communication, or a batch. The handler reads a JSON value and tells them apart by the
/// `communications` key, so only the schema of this type is used.
pub(crate) enum CommunicationOrBatch {}

impl PartialSchema for CommunicationOrBatch {
    fn schema() -> RefOr<Schema> {
        one_of_two::<CommunicationBody, CommunicationBatchBody>()
    }
}

impl ToSchema for CommunicationOrBatch {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas_of_two::<CommunicationBody, CommunicationBatchBody>(schemas);
    }
}

/// The answer to a batch of communications.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecordedCommunications {
    /// How many communications were recorded.
    recorded: usize,
    /// Their ids, in the order of the batch.
    ids: Vec<CommunicationId>,
}

/// The answer of `POST /api/v1/component-communications` as the document shows it: the
/// communication, or for a batch what was recorded.
pub(crate) enum CommunicationOrRecorded {}

impl PartialSchema for CommunicationOrRecorded {
    fn schema() -> RefOr<Schema> {
        one_of_two::<Communication, RecordedCommunications>()
    }
}

impl ToSchema for CommunicationOrRecorded {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas_of_two::<Communication, RecordedCommunications>(schemas);
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListCommunicationsQuery {
    /// Communications from or to this component.
    component_id: Option<ComponentId>,
    /// Communications from this component.
    from_component_id: Option<ComponentId>,
    /// Communications to this component.
    to_component_id: Option<ComponentId>,
    /// Only communications of this kind.
    kind: Option<String>,
    #[param(value_type = Option<Outcome>)]
    outcome: Option<String>,
    /// RFC 3339: communications that happened at or after it.
    since: Option<DateTime<Utc>>,
    /// RFC 3339: communications that happened before it.
    until: Option<DateTime<Utc>>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<CommunicationSort>)]
    sort: Option<String>,
}

impl ListCommunicationsQuery {
    fn into_filter_and_page(
        self,
    ) -> Result<(CommunicationFilter, PageRequest<CommunicationSort>), ApiError> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(
            self.kind
                .as_deref()
                .map(CommunicationKind::parse)
                .transpose(),
        );
        let outcome = errors.check(self.outcome.as_deref().map(str::parse).transpose());
        let page = super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(kind), Some(outcome), Some(page)) = (kind, outcome, page) else {
            return Err(errors.into_error().into());
        };
        Ok((
            CommunicationFilter {
                component_id: self.component_id,
                from_component_id: self.from_component_id,
                to_component_id: self.to_component_id,
                kind,
                outcome,
                since: self.since,
                until: self.until,
            },
            page,
        ))
    }
}

/// `POST /api/v1/components` → 201 with `Location`.
#[utoipa::path(
    post,
    path = "/api/v1/components",
    summary = "Register a component",
    tag = "components",
    request_body = CreateComponentBody,
    responses(
        (status = 201, description = "The component, registered", body = Component,
            headers(("Location" = String, description = "The component's URL"))),
        (status = 409, description = "A component has this name", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateComponentBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ComponentsWrite)?;
    let component = state.store.create_component(ctx, body.parse()?).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/components/{}", component.id)))
        .json(component))
}

/// `GET /api/v1/components?kind=&status=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/components",
    summary = "List components",
    tag = "components",
    params(ListComponentsQuery),
    responses((status = 200, description = "A page of components",
        body = Page<Component, ComponentSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListComponentsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ComponentsRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_components(ctx, filter, page).await?))
}

/// `GET /api/v1/components/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/components/{id}",
    summary = "Get a component",
    tag = "components",
    params(("id" = ComponentId, Path, description = "The component's id")),
    responses((status = 200, description = "The component", body = Component))
)]
#[tracing::instrument(skip_all, fields(component_id = %id))]
pub(crate) async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ComponentId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ComponentsRead)?;
    let component = state.store.get_component(ctx, id.into_inner()).await?;
    Ok(conditional::read(&req, component.revision, &component))
}

/// `PATCH /api/v1/components/{id}`. Absent fields stay as they are; an empty patch changes
/// nothing.
#[utoipa::path(
    patch,
    path = "/api/v1/components/{id}",
    summary = "Change a component",
    tag = "components",
    params(("id" = ComponentId, Path, description = "The component's id")),
    request_body = PatchComponentBody,
    responses(
        (status = 200, description = "The component, changed", body = Component),
        (status = 409, description = "Another component has the new name", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(component_id = %id))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ComponentId>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchComponentBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ComponentsWrite)?;
    let patch = body.parse()?;
    let written = state
        .store
        .update_component(ctx, id.into_inner(), patch, if_match.expected())
        .await?;
    Ok(conditional::tagged(written.revision, &written))
}

/// `POST /api/v1/components/{id}/health` → 201 with the check.
#[utoipa::path(
    post,
    path = "/api/v1/components/{id}/health",
    summary = "Record a component's health check",
    tag = "components",
    params(("id" = ComponentId, Path, description = "The component's id")),
    request_body = HealthCheckBody,
    responses((status = 201, description = "The check, recorded", body = HealthCheck))
)]
#[tracing::instrument(skip_all, fields(component_id = %id))]
pub(crate) async fn record_health(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ComponentId>,
    ApiJson(body): ApiJson<HealthCheckBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ComponentsReport)?;
    let check = body.parse()?;
    let recorded = state
        .store
        .record_health(ctx, id.into_inner(), check)
        .await?;
    Ok(HttpResponse::Created().json(recorded))
}

/// `GET /api/v1/components/{id}/health?since=&until=&limit=&cursor=&sort=`: the history,
/// newest check first.
#[utoipa::path(
    get,
    path = "/api/v1/components/{id}/health",
    summary = "List a component's health checks",
    tag = "components",
    params(("id" = ComponentId, Path, description = "The component's id"), HealthHistoryQuery),
    responses((status = 200, description = "A page of the component's checks",
        body = Page<HealthCheck, HealthSort>))
)]
#[tracing::instrument(skip_all, fields(component_id = %id))]
pub(crate) async fn health_history(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ComponentId>,
    ApiQuery(query): ApiQuery<HealthHistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ComponentsRead)?;
    let mut errors = FieldErrors::default();
    let page: Option<PageRequest<HealthSort>> = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let page = page.ok_or_else(|| errors.into_error())?;
    let filter = HealthFilter {
        since: query.since,
        until: query.until,
    };
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_health(ctx, id.into_inner(), filter, page)
            .await?,
    ))
}

/// `GET /api/v1/components/health?kind=&status=&limit=&cursor=&sort=`: each component with
/// its latest check (`latest: null` before the first).
#[utoipa::path(
    get,
    path = "/api/v1/components/health",
    summary = "List components with their latest health",
    tag = "components",
    params(ListComponentsQuery),
    responses((status = 200, description = "A page of components, each with its latest check",
        body = Page<ComponentHealth, ComponentSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn latest_health(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListComponentsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ComponentsRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.latest_health(ctx, filter, page).await?))
}

/// `POST /api/v1/component-communications` with one communication → 201 with it; with
/// `{"communications": [...]}` (up to 10,000) → 201 `{"recorded": n, "ids": [...]}`.
#[utoipa::path(
    post,
    path = "/api/v1/component-communications",
    summary = "Record communications between components",
    tag = "components",
    request_body = CommunicationOrBatch,
    responses(
        (status = 201, description = "One communication: the communication; a batch: how many \
            were recorded, and their ids", body = CommunicationOrRecorded),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn record_communications(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ComponentsReport)?;
    let sent = one_or_batch::<CommunicationBody, CommunicationBatchBody>(body)?;
    let key = CommunicationBatchBody::KEY;
    let (communications, batch) = parse_records(sent, key, CommunicationBody::parse)?;
    let mut recorded = state
        .store
        .record_communications(ctx, communications)
        .await
        .map_err(|err| refused(err, key, batch))?;
    if batch {
        let ids: Vec<CommunicationId> = recorded.iter().map(|c| c.id).collect();
        return Ok(HttpResponse::Created().json(RecordedCommunications {
            recorded: ids.len(),
            ids,
        }));
    }
    let communication = recorded
        .pop()
        .ok_or_else(|| ApiError::internal("recording one communication answered none"))?;
    Ok(HttpResponse::Created().json(communication))
}

/// `GET /api/v1/component-communications?component_id=&from_component_id=&to_component_id=
/// &kind=&outcome=&since=&until=&limit=&cursor=&sort=`: newest first.
#[utoipa::path(
    get,
    path = "/api/v1/component-communications",
    summary = "List communications between components",
    tag = "components",
    params(ListCommunicationsQuery),
    responses((status = 200, description = "A page of communications",
        body = Page<Communication, CommunicationSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list_communications(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListCommunicationsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ComponentsRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_communications(ctx, filter, page).await?))
}
