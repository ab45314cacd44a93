//! `/api/v1/projects`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::projects::{CreateProjectBody, ListProjectsQuery, PatchProjectBody};
use orchestore_domain::{Permission, Project, ProjectId, TaskStats};
use orchestore_repo::{Page, ProjectSort, TaskStatsScope};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(create, list, get, update, delete, stats))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/projects", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        super::resource("/projects/{id}", "GET, PATCH, DELETE")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    )
    .service(super::resource("/projects/{id}/stats", "GET").route(web::get().to(stats)));
}

/// `POST /api/v1/projects` → 201 with `Location`.
#[utoipa::path(
    post,
    path = "/api/v1/projects",
    summary = "Create a project",
    tag = "projects",
    request_body = CreateProjectBody,
    responses(
        (status = 201, description = "The project, created", body = Project,
            headers(("Location" = String, description = "The project's URL"))),
        (status = 409, description = "A project of this name exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateProjectBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ProjectsWrite)?;
    let project = state
        .store
        .create_project(ctx, body.into_new_project()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/projects/{}", project.id)))
        .json(project))
}

/// `GET /api/v1/projects?limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/projects",
    summary = "List projects",
    tag = "projects",
    params(ListProjectsQuery),
    responses((status = 200, description = "A page of projects", body = Page<Project, ProjectSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListProjectsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ProjectsRead)?;
    let page = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(state.store.list_projects(ctx, page).await?))
}

/// `GET /api/v1/projects/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{id}",
    summary = "Get a project",
    tag = "projects",
    params(("id" = ProjectId, Path, description = "The project's id")),
    responses((status = 200, description = "The project", body = Project))
)]
#[tracing::instrument(skip_all, fields(project_id = %id))]
pub(crate) async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ProjectId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ProjectsRead)?;
    let project = state.store.get_project(ctx, id.into_inner()).await?;
    Ok(conditional::read(&req, project.revision, &project))
}

/// `PATCH /api/v1/projects/{id}`. An empty patch returns the project unchanged.
#[utoipa::path(
    patch,
    path = "/api/v1/projects/{id}",
    summary = "Change a project",
    tag = "projects",
    params(("id" = ProjectId, Path, description = "The project's id")),
    request_body = PatchProjectBody,
    responses(
        (status = 200, description = "The project, changed", body = Project),
        (status = 409, description = "A project of the new name exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(project_id = %id))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ProjectId>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchProjectBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ProjectsWrite)?;
    let id = id.into_inner();
    let patch = body.into_patch()?;
    let project = if patch.is_empty() {
        let project = state.store.get_project(ctx, id).await?;
        if_match.check("project", id, project.revision)?;
        project
    } else {
        state
            .store
            .update_project(ctx, id, patch, if_match.expected())
            .await?
    };
    Ok(conditional::tagged(project.revision, &project))
}

/// `DELETE /api/v1/projects/{id}` → 204; the project's tasks go with it.
#[utoipa::path(
    delete,
    path = "/api/v1/projects/{id}",
    summary = "Delete a project and its tasks",
    tag = "projects",
    params(("id" = ProjectId, Path, description = "The project's id")),
    responses((status = 204, description = "The project and its tasks are deleted"))
)]
#[tracing::instrument(skip_all, fields(project_id = %id))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ProjectId>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::ProjectsWrite)?;
    state
        .store
        .delete_project(ctx, id.into_inner(), if_match.expected())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/projects/{id}/stats`: the project's tasks by status and priority, and run
/// times.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{id}/stats",
    summary = "Read a project's task statistics",
    tag = "projects",
    params(("id" = ProjectId, Path, description = "The project's id")),
    responses((status = 200, description = "The project's task statistics", body = TaskStats))
)]
#[tracing::instrument(skip_all, fields(project_id = %id))]
pub(crate) async fn stats(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ProjectId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .task_stats(ctx, TaskStatsScope::Project(id.into_inner()))
            .await?,
    ))
}
