//! `/api/v1/tasks`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    Capabilities, Description, Metadata, NewTask, Payload, Permission, Priority, ProjectId, TaskId,
    TaskPatch, TaskStatus, Title,
};
use orchestore_repo::{PageRequest, TaskFilter, TaskSort};
use serde::Deserialize;

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
use crate::extract::{ApiJson, ApiQuery, PatchField};
use crate::state::AppState;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/tasks", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        super::resource("/tasks/{id}", "GET, PATCH, DELETE")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTaskBody {
    project_id: ProjectId,
    title: String,
    description: Option<String>,
    /// Higher runs first.
    priority: Option<i64>,
    payload: Option<serde_json::Value>,
    required_capabilities: Option<Vec<String>>,
    metadata: Option<serde_json::Value>,
}

impl CreateTaskBody {
    fn into_new_task(self) -> Result<NewTask, ApiError> {
        let mut errors = FieldErrors::default();
        let title = errors.check(Title::parse(&self.title));
        let description = errors.check(self.description.map_or(Ok(Description::empty()), |d| {
            Description::parse("description", &d)
        }));
        let priority = errors.check(
            self.priority
                .map_or(Ok(Priority::default()), Priority::parse),
        );
        let required_capabilities = errors.check(
            self.required_capabilities
                .map_or(Ok(Capabilities::default()), |c| Capabilities::parse(&c)),
        );
        let metadata = errors.check(
            self.metadata
                .map_or(Ok(Metadata::default()), |m| Metadata::parse("metadata", m)),
        );
        let payload = errors.check(Payload::parse(
            self.payload.unwrap_or(serde_json::Value::Null),
        ));
        let (
            Some(title),
            Some(description),
            Some(priority),
            Some(payload),
            Some(required_capabilities),
            Some(metadata),
        ) = (
            title,
            description,
            priority,
            payload,
            required_capabilities,
            metadata,
        )
        else {
            return Err(errors.into_error());
        };
        Ok(NewTask {
            project_id: self.project_id,
            title,
            description,
            priority,
            payload,
            required_capabilities,
            metadata,
        })
    }
}

/// Absent fields stay as they are; `payload` may be set to `null`. A status change must be a
/// transition the task's state machine allows.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchTaskBody {
    #[serde(default)]
    title: PatchField<String>,
    #[serde(default)]
    description: PatchField<String>,
    #[serde(default)]
    status: PatchField<String>,
    #[serde(default)]
    priority: PatchField<i64>,
    #[serde(default)]
    payload: PatchField<serde_json::Value>,
    #[serde(default)]
    required_capabilities: PatchField<Vec<String>>,
    #[serde(default)]
    metadata: PatchField<serde_json::Value>,
}

impl PatchTaskBody {
    fn into_patch(self) -> Result<TaskPatch, ApiError> {
        let mut errors = FieldErrors::default();
        let title = errors.check(self.title.parse_required("title", |t| Title::parse(&t)));
        let description = errors.check(
            self.description
                .parse_required("description", |d| Description::parse("description", &d)),
        );
        let status = errors.check(
            self.status
                .parse_required("status", |s| s.parse::<TaskStatus>()),
        );
        let priority = errors.check(self.priority.parse_required("priority", Priority::parse));
        let payload = errors.check(self.payload.parse_nullable(Payload::parse));
        let required_capabilities = errors.check(
            self.required_capabilities
                .parse_required("required_capabilities", |c| Capabilities::parse(&c)),
        );
        let metadata = errors.check(
            self.metadata
                .parse_required("metadata", |m| Metadata::parse("metadata", m)),
        );
        let (
            Some(title),
            Some(description),
            Some(status),
            Some(priority),
            Some(payload),
            Some(required_capabilities),
            Some(metadata),
        ) = (
            title,
            description,
            status,
            priority,
            payload,
            required_capabilities,
            metadata,
        )
        else {
            return Err(errors.into_error());
        };
        Ok(TaskPatch {
            title,
            description,
            status,
            priority,
            // `null` is a payload like any other.
            payload: payload.map(Option::unwrap_or_default),
            required_capabilities,
            metadata,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListTasksQuery {
    project_id: Option<ProjectId>,
    status: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
    sort: Option<String>,
}

impl ListTasksQuery {
    fn into_filter_and_page(self) -> Result<(TaskFilter, PageRequest<TaskSort>), ApiError> {
        let mut errors = FieldErrors::default();
        let status = errors.check(self.status.map(|s| s.parse::<TaskStatus>()).transpose());
        let page = super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(status), Some(page)) = (status, page) else {
            return Err(errors.into_error());
        };
        let filter = TaskFilter {
            project_id: self.project_id,
            status,
        };
        Ok((filter, page))
    }
}

/// `POST /api/v1/tasks` → 201 with `Location`. A project this organization does not have
/// (missing, or another organization's) is a 422 naming `project_id`.
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateTaskBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let task = state.store.create_task(ctx, body.into_new_task()?).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/tasks/{}", task.id)))
        .json(task))
}

/// `GET /api/v1/tasks?project_id=&status=&limit=&cursor=&sort=`.
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListTasksQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_tasks(ctx, filter, page).await?))
}

/// `GET /api/v1/tasks/{id}`.
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_task(ctx, id.into_inner()).await?))
}

/// `PATCH /api/v1/tasks/{id}`. An empty patch returns the task unchanged.
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
    ApiJson(body): ApiJson<PatchTaskBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let patch = body.into_patch()?;
    let task = if patch.is_empty() {
        state.store.get_task(ctx, id.into_inner()).await?
    } else {
        state.store.update_task(ctx, id.into_inner(), patch).await?
    };
    Ok(HttpResponse::Ok().json(task))
}

/// `DELETE /api/v1/tasks/{id}` → 204.
#[tracing::instrument(skip_all, fields(task_id = %id))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TaskId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    state.store.delete_task(ctx, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
