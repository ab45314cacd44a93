//! `/api/v1/projects`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_domain::{
    Description, Metadata, Name, NewProject, Permission, Project, ProjectId, ProjectPatch, Tags,
    TaskStats, parse_repository_url,
};
use orchestore_repo::{Page, PageRequest, ProjectSort, TaskStatsScope};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, FieldErrors, Problem};
use crate::extract::{ApiJson, ApiQuery, PatchField};
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateProjectBody {
    name: String,
    description: Option<String>,
    repository_url: Option<String>,
    tags: Option<Vec<String>>,
    settings: Option<serde_json::Value>,
}

impl CreateProjectBody {
    fn into_new_project(self) -> Result<NewProject, ApiError> {
        let mut errors = FieldErrors::default();
        let name = errors.check(Name::parse("name", &self.name));
        let description = errors.check(self.description.map_or(Ok(Description::empty()), |d| {
            Description::parse("description", &d)
        }));
        let repository_url = errors.check(
            self.repository_url
                .map(|url| parse_repository_url(&url))
                .transpose(),
        );
        let tags = errors.check(self.tags.map_or(Ok(Tags::default()), |t| Tags::parse(&t)));
        let settings = errors.check(
            self.settings
                .map_or(Ok(Metadata::default()), |s| Metadata::parse("settings", s)),
        );
        let (Some(name), Some(description), Some(repository_url), Some(tags), Some(settings)) =
            (name, description, repository_url, tags, settings)
        else {
            return Err(errors.into_error());
        };
        Ok(NewProject {
            name,
            description,
            repository_url,
            tags,
            settings,
        })
    }
}

/// Absent fields stay as they are; `repository_url: null` clears the URL.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchProjectBody {
    #[serde(default)]
    #[schema(value_type = String)]
    name: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    description: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    repository_url: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    tags: PatchField<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Object)]
    settings: PatchField<serde_json::Value>,
}

impl PatchProjectBody {
    fn into_patch(self) -> Result<ProjectPatch, ApiError> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            self.name
                .parse_required("name", |n| Name::parse("name", &n)),
        );
        let description = errors.check(
            self.description
                .parse_required("description", |d| Description::parse("description", &d)),
        );
        let repository_url = errors.check(
            self.repository_url
                .parse_nullable(|url| parse_repository_url(&url)),
        );
        let tags = errors.check(self.tags.parse_required("tags", |t| Tags::parse(&t)));
        let settings = errors.check(
            self.settings
                .parse_required("settings", |s| Metadata::parse("settings", s)),
        );
        let (Some(name), Some(description), Some(repository_url), Some(tags), Some(settings)) =
            (name, description, repository_url, tags, settings)
        else {
            return Err(errors.into_error());
        };
        Ok(ProjectPatch {
            name,
            description,
            repository_url,
            tags,
            settings,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListProjectsQuery {
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<ProjectSort>)]
    sort: Option<String>,
}

impl ListProjectsQuery {
    fn into_page_request(self) -> Result<PageRequest<ProjectSort>, ApiError> {
        let mut errors = FieldErrors::default();
        super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        )
        .ok_or_else(|| errors.into_error())
    }
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
