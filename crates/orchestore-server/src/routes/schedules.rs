//! `/api/v1/schedules`: cron schedules that enqueue a task or start a workflow execution.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use orchestore_api::schedules::{
    CreateScheduleBody, ListSchedulesQuery, NextQuery, PatchScheduleBody, UpcomingOccurrences,
};
use orchestore_domain::{DomainError, MAX_UPCOMING, Permission, Schedule, ScheduleId};
use orchestore_repo::{Page, PageRequest, ScheduleFilter, ScheduleSort};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, FieldErrors, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(create, list, get, update, delete, pause, resume, next))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/schedules", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        super::resource("/schedules/{id}", "GET, PATCH, DELETE")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    )
    .service(super::resource("/schedules/{id}/pause", "POST").route(web::post().to(pause)))
    .service(super::resource("/schedules/{id}/resume", "POST").route(web::post().to(resume)))
    .service(super::resource("/schedules/{id}/next", "GET").route(web::get().to(next)));
}

/// `POST /api/v1/schedules` with `{name, cron, time_zone?, misfire_policy?, task | workflow,
/// enabled?, starts_at?}` → 201, the schedule with its `next_run_at`.
#[utoipa::path(
    post,
    path = "/api/v1/schedules",
    summary = "Create a schedule",
    tag = "schedules",
    request_body = CreateScheduleBody,
    responses(
        (status = 201, description = "The schedule, with its `next_run_at`", body = Schedule,
            headers(("Location" = String, description = "The schedule's URL"))),
        (status = 409, description = "A schedule of this name exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateScheduleBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let schedule = state
        .store
        .create_schedule(ctx, body.into_new_schedule()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/schedules/{}", schedule.id)))
        .json(schedule))
}

/// `GET /api/v1/schedules?enabled=&limit=&cursor=&sort=` (`created_at` or `-created_at`).
#[utoipa::path(
    get,
    path = "/api/v1/schedules",
    summary = "List schedules",
    tag = "schedules",
    params(ListSchedulesQuery),
    responses((status = 200, description = "A page of schedules",
        body = Page<Schedule, ScheduleSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListSchedulesQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    let mut errors = FieldErrors::default();
    let page: Option<PageRequest<ScheduleSort>> = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let page = page.ok_or_else(|| errors.into_error())?;
    let filter = ScheduleFilter {
        enabled: query.enabled,
    };
    Ok(HttpResponse::Ok().json(state.store.list_schedules(ctx, filter, page).await?))
}

/// `GET /api/v1/schedules/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/schedules/{id}",
    summary = "Get a schedule",
    tag = "schedules",
    params(("id" = ScheduleId, Path, description = "The schedule's id")),
    responses((status = 200, description = "The schedule", body = Schedule))
)]
#[tracing::instrument(skip_all, fields(schedule_id = %id))]
pub(crate) async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ScheduleId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    let schedule = state.store.get_schedule(ctx, id.into_inner()).await?;
    Ok(conditional::read(&req, schedule.revision, &schedule))
}

/// `PATCH /api/v1/schedules/{id}` with any of `{name, cron, time_zone, misfire_policy, task |
/// workflow, enabled}` → the schedule. A new pattern or time zone, or enabling a paused schedule,
/// moves `next_run_at` to the first occurrence after now; disabling clears it.
#[utoipa::path(
    patch,
    path = "/api/v1/schedules/{id}",
    summary = "Change a schedule",
    tag = "schedules",
    params(("id" = ScheduleId, Path, description = "The schedule's id")),
    request_body = PatchScheduleBody,
    responses(
        (status = 200, description = "The schedule, changed", body = Schedule),
        (status = 409, description = "A schedule of the new name exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(schedule_id = %id))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ScheduleId>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchScheduleBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let patch = body.into_patch()?;
    let written = state
        .store
        .update_schedule(ctx, id.into_inner(), patch, if_match.expected())
        .await?;
    Ok(conditional::tagged(written.revision, &written))
}

/// `DELETE /api/v1/schedules/{id}` → 204.
#[utoipa::path(
    delete,
    path = "/api/v1/schedules/{id}",
    summary = "Delete a schedule",
    tag = "schedules",
    params(("id" = ScheduleId, Path, description = "The schedule's id")),
    responses((status = 204, description = "The schedule is deleted"))
)]
#[tracing::instrument(skip_all, fields(schedule_id = %id))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ScheduleId>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    state
        .store
        .delete_schedule(ctx, id.into_inner(), if_match.expected())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/schedules/{id}/pause` → the paused schedule.
#[utoipa::path(
    post,
    path = "/api/v1/schedules/{id}/pause",
    summary = "Pause a schedule",
    tag = "schedules",
    params(("id" = ScheduleId, Path, description = "The schedule's id")),
    responses((status = 200, description = "The schedule, paused: no `next_run_at`",
        body = Schedule))
)]
#[tracing::instrument(skip_all, fields(schedule_id = %id))]
pub(crate) async fn pause(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ScheduleId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    Ok(HttpResponse::Ok().json(state.store.pause_schedule(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/schedules/{id}/resume` → the schedule, due at its first occurrence after now.
#[utoipa::path(
    post,
    path = "/api/v1/schedules/{id}/resume",
    summary = "Resume a paused schedule",
    tag = "schedules",
    params(("id" = ScheduleId, Path, description = "The schedule's id")),
    responses((status = 200, description = "The schedule, due at its first occurrence after \
        now", body = Schedule))
)]
#[tracing::instrument(skip_all, fields(schedule_id = %id))]
pub(crate) async fn resume(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ScheduleId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    Ok(HttpResponse::Ok().json(state.store.resume_schedule(ctx, id.into_inner()).await?))
}

/// `GET /api/v1/schedules/{id}/next?count=N` → `{time_zone, occurrences}`: the next `N`
/// occurrences after now (5 by default, at most 100), computed from the pattern, for a person
/// checking it.
#[utoipa::path(
    get,
    path = "/api/v1/schedules/{id}/next",
    summary = "Preview a schedule's next occurrences",
    tag = "schedules",
    params(("id" = ScheduleId, Path, description = "The schedule's id"), NextQuery),
    responses((status = 200, description = "The next occurrences after now",
        body = UpcomingOccurrences))
)]
#[tracing::instrument(skip_all, fields(schedule_id = %id))]
pub(crate) async fn next(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ScheduleId>,
    ApiQuery(query): ApiQuery<NextQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    let count = match query.count.unwrap_or(5) {
        count @ 1..=100 => usize::try_from(count).unwrap_or(MAX_UPCOMING),
        _ => {
            return Err(ApiError::from(DomainError::invalid(
                "count",
                format!("must be 1 to {MAX_UPCOMING}"),
            )));
        }
    };
    let schedule = state.store.get_schedule(ctx, id.into_inner()).await?;
    let occurrences = schedule
        .cron
        .upcoming(Utc::now(), schedule.time_zone, count);
    Ok(HttpResponse::Ok().json(UpcomingOccurrences {
        time_zone: schedule.time_zone,
        occurrences,
    }))
}
