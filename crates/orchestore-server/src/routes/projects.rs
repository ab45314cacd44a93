//! `/api/v1/projects`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_domain::{
    Description, Metadata, Name, NewProject, Permission, ProjectId, ProjectPatch, Tags,
    parse_repository_url,
};
use orchestore_repo::{PageRequest, ProjectSort, TaskStatsScope};
use serde::Deserialize;

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, FieldErrors};
use crate::extract::{ApiJson, ApiQuery, PatchField};
use crate::state::AppState;

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

#[derive(Debug, Deserialize)]
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchProjectBody {
    #[serde(default)]
    name: PatchField<String>,
    #[serde(default)]
    description: PatchField<String>,
    #[serde(default)]
    repository_url: PatchField<String>,
    #[serde(default)]
    tags: PatchField<Vec<String>>,
    #[serde(default)]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListProjectsQuery {
    limit: Option<u64>,
    cursor: Option<String>,
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
