//! `/api/v1/schedules`: cron schedules that enqueue a task or start a workflow execution.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    Capabilities, CronSchedule, Description, DomainError, MAX_UPCOMING, MaxAttempts, MisfirePolicy,
    Name, NewSchedule, Payload, Permission, Priority, ProjectId, Schedule, ScheduleId,
    SchedulePatch, ScheduleTarget, ScheduledTask, ScheduledWorkflow, Tags, TimeZone, Title,
    WorkflowId,
};
use orchestore_repo::{Page, PageRequest, ScheduleFilter, ScheduleSort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, FieldErrors, Problem};
use crate::extract::{ApiJson, ApiQuery, PatchField};
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

/// A task to enqueue at each occurrence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskTargetBody {
    project_id: ProjectId,
    title: String,
    description: Option<String>,
    priority: Option<i64>,
    payload: Option<serde_json::Value>,
    #[serde(default)]
    required_capabilities: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    max_attempts: Option<i64>,
}

/// A workflow execution to start at each occurrence: of `version`, or the latest.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkflowTargetBody {
    workflow_id: WorkflowId,
    version: Option<u32>,
    project_id: ProjectId,
    input: Option<serde_json::Value>,
    priority: Option<i64>,
}

/// The target of a schedule: exactly one of `task` and `workflow`.
fn parse_target(
    errors: &mut FieldErrors,
    task: Option<TaskTargetBody>,
    workflow: Option<WorkflowTargetBody>,
) -> Option<ScheduleTarget> {
    match (task, workflow) {
        (Some(task), None) => {
            let title = errors.check(Title::parse(&task.title));
            let description = errors.check(
                task.description
                    .as_deref()
                    .map_or(Ok(Description::empty()), |d| {
                        Description::parse("description", d)
                    }),
            );
            let priority = errors.check(
                task.priority
                    .map_or(Ok(Priority::default()), Priority::parse),
            );
            let payload = errors.check(task.payload.map_or(Ok(Payload::default()), Payload::parse));
            let capabilities = errors.check(Capabilities::parse(&task.required_capabilities));
            let tags = errors.check(Tags::parse(&task.tags));
            let max_attempts = errors.check(
                task.max_attempts
                    .map_or(Ok(MaxAttempts::default()), MaxAttempts::parse),
            );
            Some(ScheduleTarget::Task(ScheduledTask {
                project_id: task.project_id,
                title: title?,
                description: description?,
                priority: priority?,
                payload: payload?,
                required_capabilities: capabilities?,
                tags: tags?,
                max_attempts: max_attempts?,
            }))
        }
        (None, Some(workflow)) => {
            let input = errors.check(
                workflow
                    .input
                    .map_or(Ok(Payload::default()), Payload::parse),
            );
            let priority = errors.check(
                workflow
                    .priority
                    .map_or(Ok(Priority::default()), Priority::parse),
            );
            Some(ScheduleTarget::Workflow(ScheduledWorkflow {
                workflow_id: workflow.workflow_id,
                version: workflow.version,
                project_id: workflow.project_id,
                input: input?,
                priority: priority?,
            }))
        }
        _ => errors.check(Err(DomainError::invalid(
            "target",
            "give exactly one of task and workflow",
        ))),
    }
}

fn parse_policy(raw: &str) -> Result<MisfirePolicy, DomainError> {
    raw.parse()
}

/// A schedule's target is exactly one of `task` and `workflow`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateScheduleBody {
    name: String,
    #[schema(value_type = CronSchedule)]
    cron: String,
    /// `UTC` when left out.
    #[schema(value_type = Option<TimeZone>)]
    time_zone: Option<String>,
    /// `skip` when left out.
    #[schema(value_type = Option<MisfirePolicy>)]
    misfire_policy: Option<String>,
    task: Option<TaskTargetBody>,
    workflow: Option<WorkflowTargetBody>,
    /// `true` when left out.
    enabled: Option<bool>,
    /// Now when left out; an earlier instant makes the occurrences since then missed ones.
    starts_at: Option<DateTime<Utc>>,
}

impl CreateScheduleBody {
    fn into_new_schedule(self) -> Result<NewSchedule, ApiError> {
        let mut errors = FieldErrors::default();
        let name = errors.check(Name::parse("name", &self.name));
        let cron = errors.check(CronSchedule::parse(&self.cron));
        let time_zone = errors.check(
            self.time_zone
                .as_deref()
                .map_or(Ok(TimeZone::utc()), TimeZone::parse),
        );
        let policy = errors.check(
            self.misfire_policy
                .as_deref()
                .map_or(Ok(MisfirePolicy::default()), parse_policy),
        );
        let target = parse_target(&mut errors, self.task, self.workflow);
        let (Some(name), Some(cron), Some(time_zone), Some(misfire_policy), Some(target)) =
            (name, cron, time_zone, policy, target)
        else {
            return Err(errors.into_error().into());
        };
        Ok(NewSchedule {
            name,
            cron,
            time_zone,
            misfire_policy,
            target,
            enabled: self.enabled.unwrap_or(true),
            starts_at: self.starts_at,
        })
    }
}

/// Absent fields stay as they are; a new target, `task` or `workflow`, replaces the old one
/// whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchScheduleBody {
    #[serde(default)]
    #[schema(value_type = String)]
    name: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = CronSchedule)]
    cron: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = TimeZone)]
    time_zone: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = MisfirePolicy)]
    misfire_policy: PatchField<String>,
    /// A new target replaces the old one whole.
    task: Option<TaskTargetBody>,
    workflow: Option<WorkflowTargetBody>,
    #[serde(default)]
    #[schema(value_type = bool)]
    enabled: PatchField<bool>,
}

impl PatchScheduleBody {
    fn into_patch(self) -> Result<SchedulePatch, ApiError> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            self.name
                .parse_required("name", |n| Name::parse("name", &n)),
        );
        let cron = errors.check(
            self.cron
                .parse_required("cron", |c| CronSchedule::parse(&c)),
        );
        let time_zone = errors.check(
            self.time_zone
                .parse_required("time_zone", |tz| TimeZone::parse(&tz)),
        );
        let policy = errors.check(
            self.misfire_policy
                .parse_required("misfire_policy", |p| parse_policy(&p)),
        );
        let enabled = errors.check(self.enabled.parse_required("enabled", Ok));
        let target = if self.task.is_none() && self.workflow.is_none() {
            Some(None)
        } else {
            parse_target(&mut errors, self.task, self.workflow).map(Some)
        };
        let (
            Some(name),
            Some(cron),
            Some(time_zone),
            Some(misfire_policy),
            Some(enabled),
            Some(target),
        ) = (name, cron, time_zone, policy, enabled, target)
        else {
            return Err(errors.into_error().into());
        };
        Ok(SchedulePatch {
            name,
            cron,
            time_zone,
            misfire_policy,
            target,
            enabled,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListSchedulesQuery {
    /// Only the enabled schedules (`true`) or only the paused ones (`false`).
    enabled: Option<bool>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<ScheduleSort>)]
    sort: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct NextQuery {
    /// How many occurrences.
    #[param(minimum = 1, maximum = 100, default = 5)]
    count: Option<u64>,
}

/// A schedule's next occurrences, for a person checking its pattern.
#[derive(Debug, Serialize, ToSchema)]
struct UpcomingOccurrences {
    /// The zone the pattern is read in.
    time_zone: TimeZone,
    /// The instants, earliest first.
    occurrences: Vec<DateTime<Utc>>,
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
