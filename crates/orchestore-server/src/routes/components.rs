//! `/api/v1/components`: the registry of the system's components, each one's health
//! (`/components/{id}/health`, the latest of every component at `/components/health`), and
//! the communications between them (`/component-communications`).

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::components::{
    CommunicationBatchBody, CommunicationBody, CreateComponentBody, HealthCheckBody,
    HealthHistoryQuery, ListCommunicationsQuery, ListComponentsQuery, PatchComponentBody,
    RecordedCommunications,
};
use orchestore_domain::{
    Communication, CommunicationId, Component, ComponentHealth, ComponentId, HealthCheck,
    Permission,
};
use orchestore_repo::{CommunicationSort, ComponentSort, HealthSort, Page};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

use super::metrics::{one_of_two, schemas_of_two};
use super::telemetry::{BatchOf, one_or_batch, parse_records, refused};
use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, BATCH_BODY_LIMIT_BYTES, Problem, json_config_up_to};
use crate::extract::{ApiJson, ApiQuery};
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
    let component = state
        .store
        .create_component(ctx, body.into_new_component()?)
        .await?;
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
    let patch = body.into_patch()?;
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
    let check = body.into_new_health_check()?;
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
    let (filter, page) = query.into_filter_and_page()?;
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
