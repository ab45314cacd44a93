//! `/api/v1/events`: events recorded one at a time or by the batch, listed newest first.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    CorrelationId, Event, EventId, EventKind, NewEvent, Permission, ProjectId, SourceName, TaskId,
    WorkflowId,
};
use orchestore_repo::{EventFilter, EventSort, Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::metrics::{one_of_two, schemas_of_two};
use super::telemetry::{BatchOf, one_or_batch, parse_records, refused};
use crate::auth::Authenticated;
use crate::error::{ApiError, BATCH_BODY_LIMIT_BYTES, FieldErrors, json_config_up_to};
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventBody {
    /// What happened, e.g. `task.completed`.
    kind: String,
    /// Who reports it, e.g. a component's name.
    source: String,
    /// Any JSON; null when left out.
    payload: Option<serde_json::Value>,
    /// Ties together the events of one flow across sources.
    correlation_id: Option<String>,
    project_id: Option<ProjectId>,
    workflow_id: Option<WorkflowId>,
    task_id: Option<TaskId>,
    /// RFC 3339; now when left out.
    occurred_at: Option<DateTime<Utc>>,
}

impl EventBody {
    fn parse(self) -> Result<NewEvent, FieldErrors> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(EventKind::parse(&self.kind));
        let source = errors.check(SourceName::parse(&self.source));
        let payload = errors.check(NewEvent::payload(
            self.payload.unwrap_or(serde_json::Value::Null),
        ));
        let correlation_id = errors.check(
            self.correlation_id
                .as_deref()
                .map(CorrelationId::parse)
                .transpose(),
        );
        let (Some(kind), Some(source), Some(payload), Some(correlation_id)) =
            (kind, source, payload, correlation_id)
        else {
            return Err(errors);
        };
        Ok(NewEvent {
            kind,
            source,
            payload,
            correlation_id,
            project_id: self.project_id,
            workflow_id: self.workflow_id,
            task_id: self.task_id,
            occurred_at: self.occurred_at,
        })
    }
}

/// `{"events": [...]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventBatchBody {
    /// Up to 10,000 events, recorded all or none.
    #[schema(min_items = 1, max_items = 10_000)]
    events: Vec<EventBody>,
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

/// The answer to a batch of events.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecordedEvents {
    /// How many events were recorded.
    recorded: usize,
    /// Their ids, in the order of the batch.
    ids: Vec<EventId>,
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListEventsQuery {
    /// Only events of this kind.
    kind: Option<String>,
    /// Only events from this source.
    source: Option<String>,
    /// Only events of this correlation id.
    correlation_id: Option<String>,
    /// RFC 3339: events that happened at or after it.
    since: Option<DateTime<Utc>>,
    /// RFC 3339: events that happened before it.
    until: Option<DateTime<Utc>>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<EventSort>)]
    sort: Option<String>,
}

impl ListEventsQuery {
    fn into_filter_and_page(self) -> Result<(EventFilter, PageRequest<EventSort>), ApiError> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(self.kind.as_deref().map(EventKind::parse).transpose());
        let source = errors.check(self.source.as_deref().map(SourceName::parse).transpose());
        let correlation_id = errors.check(
            self.correlation_id
                .as_deref()
                .map(CorrelationId::parse)
                .transpose(),
        );
        let page = super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(kind), Some(source), Some(correlation_id), Some(page)) =
            (kind, source, correlation_id, page)
        else {
            return Err(errors.into_error().into());
        };
        Ok((
            EventFilter {
                kind,
                source,
                correlation_id,
                since: self.since,
                until: self.until,
            },
            page,
        ))
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
