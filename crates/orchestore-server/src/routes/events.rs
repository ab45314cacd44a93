//! `/api/v1/events`: events recorded one at a time or by the batch, listed newest first.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::events::{EventBatchBody, EventBody, ListEventsQuery, RecordedEvents};
use orchestore_domain::{Event, EventId, Permission};
use orchestore_repo::{EventSort, Page};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

use super::metrics::{one_of_two, schemas_of_two};
use super::telemetry::{BatchOf, one_or_batch, parse_records, refused};
use crate::auth::Authenticated;
use crate::error::{ApiError, BATCH_BODY_LIMIT_BYTES, json_config_up_to};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(record, list, get))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/events", "GET, POST")
            .app_data(json_config_up_to(BATCH_BODY_LIMIT_BYTES))
            .route(web::get().to(list))
            .route(web::post().to(record)),
    )
    .service(super::resource("/events/{id}", "GET").route(web::get().to(get)));
}

impl BatchOf<EventBody> for EventBatchBody {
    const KEY: &'static str = "events";

    fn items(self) -> Vec<EventBody> {
        self.events
    }
}

/// The body of `POST /api/v1/events` as the document shows it: one event, or a batch. The
/// handler reads a JSON value and tells them apart by the `events` key, so only the schema of
/// this type is used.
pub(crate) enum EventOrBatch {}

impl PartialSchema for EventOrBatch {
    fn schema() -> RefOr<Schema> {
        one_of_two::<EventBody, EventBatchBody>()
    }
}

impl ToSchema for EventOrBatch {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas_of_two::<EventBody, EventBatchBody>(schemas);
    }
}

/// The answer of `POST /api/v1/events` as the document shows it: the event, or for a batch
/// what was recorded.
pub(crate) enum EventOrRecorded {}

impl PartialSchema for EventOrRecorded {
    fn schema() -> RefOr<Schema> {
        one_of_two::<Event, RecordedEvents>()
    }
}

impl ToSchema for EventOrRecorded {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas_of_two::<Event, RecordedEvents>(schemas);
    }
}

/// `POST /api/v1/events` with one event → 201 with `Location` and the event; with
/// `{"events": [...]}` (up to 10,000) → 201 `{"recorded": n, "ids": [...]}`, all or none.
#[utoipa::path(
    post,
    path = "/api/v1/events",
    summary = "Record events",
    tag = "events",
    request_body = EventOrBatch,
    responses(
        (status = 201, description = "One event: the event, with `Location`; a batch: how many \
            were recorded, and their ids", body = EventOrRecorded,
            headers(("Location" = String, description = "The event's URL, for one event"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn record(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::EventsWrite)?;
    let sent = one_or_batch::<EventBody, EventBatchBody>(body)?;
    let (events, batch) = parse_records(sent, EventBatchBody::KEY, EventBody::parse)?;
    let mut recorded = state
        .store
        .record_events(ctx, events)
        .await
        .map_err(|err| refused(err, EventBatchBody::KEY, batch))?;
    if batch {
        let ids: Vec<EventId> = recorded.iter().map(|e| e.id).collect();
        return Ok(HttpResponse::Created().json(RecordedEvents {
            recorded: ids.len(),
            ids,
        }));
    }
    let event = recorded
        .pop()
        .ok_or_else(|| ApiError::internal("recording one event answered none"))?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/events/{}", event.id)))
        .json(event))
}

/// `GET /api/v1/events?kind=&source=&correlation_id=&since=&until=&limit=&cursor=&sort=`:
/// newest first unless `sort` says otherwise.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    summary = "List events",
    tag = "events",
    params(ListEventsQuery),
    responses((status = 200, description = "A page of events", body = Page<Event, EventSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListEventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::EventsRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_events(ctx, filter, page).await?))
}

/// `GET /api/v1/events/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}",
    summary = "Get an event",
    tag = "events",
    params(("id" = EventId, Path, description = "The event's id")),
    responses((status = 200, description = "The event", body = Event))
)]
#[tracing::instrument(skip_all, fields(event_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<EventId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::EventsRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_event(ctx, id.into_inner()).await?))
}
