//! `/api/v1/templates`.

use std::cell::Cell;

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::PageQuery;
use orchestore_api::templates::{
    CreateTemplateBody, InstantiateBody, Instantiated, Instantiation, ListTemplatesQuery,
    PatchTemplateBody, WorkflowInstantiation,
};
use orchestore_api::workflows::{CreateWorkflowBody, RunBody};
use orchestore_domain::{
    Permission, ProjectId, Template, TemplateId, TemplateKind, TemplateUsage, WorkflowId,
};
use orchestore_repo::{
    Page, PageRequest, TemplateFilter, TemplateSort, TemplateUsageSort, WorkflowTarget,
};
use serde_json::{Map, Value};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, FieldError, FieldErrors, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(create, list, get, update, delete, instantiate, usages))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/templates", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        super::resource("/templates/{id}", "GET, PATCH, DELETE")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    )
    .service(
        super::resource("/templates/{id}/instantiate", "POST").route(web::post().to(instantiate)),
    )
    .service(super::resource("/templates/{id}/usages", "GET").route(web::get().to(usages)));
}

/// An instantiation as the body asks for it.
struct Asked {
    target: Target,
    arguments: Map<String, Value>,
    run: Option<RunBody>,
}

/// Where an instantiation goes, as the body names it. It picks the repository call; the
/// repository refuses a template of the other kind.
enum Target {
    Project(ProjectId),
    Workflow(WorkflowId),
    /// Not parsed yet: the permission is checked first.
    NewWorkflow(CreateWorkflowBody),
}

/// The fields that name an instantiation's target.
const TARGETS: [&str; 3] = ["project_id", "workflow_id", "workflow"];

/// The instantiation `body` asks for: exactly one target, and `run` only with a workflow one.
/// It stays in the server, beside the body's other checks in the api crate, for its refusals
/// are 400s (`ApiError::BadRequest`), not the 422 an `Invalid` is.
fn asked(body: InstantiateBody) -> Result<Asked, ApiError> {
    if body.project_id.is_some() && body.run.is_some() {
        let message = "a task template's tasks are queued as they are created: run goes \
                       with workflow_id or workflow";
        return Err(ApiError::BadRequest {
            detail: message.to_owned(),
            errors: vec![FieldError::new("run", message)],
        });
    }
    let target = match (body.project_id, body.workflow_id, body.workflow) {
        (Some(project), None, None) => Target::Project(project),
        (None, Some(workflow), None) => Target::Workflow(workflow),
        (None, None, Some(new)) => Target::NewWorkflow(new),
        (project, workflow_id, workflow) => {
            let given = [project.is_some(), workflow_id.is_some(), workflow.is_some()];
            let named: Vec<&str> = TARGETS
                .into_iter()
                .zip(given)
                .filter(|(_, given)| *given)
                .map(|(field, _)| field)
                .collect();
            let (fields, message) = if named.is_empty() {
                (
                    TARGETS.to_vec(),
                    "one of project_id, workflow_id, workflow is required",
                )
            } else {
                (named, "give only one of project_id, workflow_id, workflow")
            };
            return Err(ApiError::BadRequest {
                detail: format!(
                    "{message}: project_id for a task template, workflow_id (its next \
                     version) or workflow (a new workflow) for a workflow template"
                ),
                errors: fields
                    .into_iter()
                    .map(|field| FieldError::new(field, message))
                    .collect(),
            });
        }
    };
    Ok(Asked {
        target,
        arguments: body.arguments,
        run: body.run,
    })
}

/// `POST /api/v1/templates` → 201 with `Location`.
#[utoipa::path(
    post,
    path = "/api/v1/templates",
    summary = "Create a template",
    tag = "templates",
    request_body = CreateTemplateBody,
    responses(
        (status = 201, description = "The template, created", body = Template,
            headers(("Location" = String, description = "The template's URL"))),
        (status = 409, description = "A template of this name exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateTemplateBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TemplatesWrite)?;
    let template = state
        .store
        .create_template(ctx, body.into_new_template()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/templates/{}", template.id)))
        .json(template))
}

/// `GET /api/v1/templates?kind=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/templates",
    summary = "List templates",
    tag = "templates",
    params(ListTemplatesQuery),
    responses((status = 200, description = "A page of templates",
        body = Page<Template, TemplateSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListTemplatesQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TemplatesRead)?;
    let mut errors = FieldErrors::default();
    let kind = errors.check(query.kind.map(|k| k.parse::<TemplateKind>()).transpose());
    let page: Option<PageRequest<TemplateSort>> = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let (Some(kind), Some(page)) = (kind, page) else {
        return Err(errors.into_error().into());
    };
    let templates = state
        .store
        .list_templates(ctx, TemplateFilter { kind }, page)
        .await?;
    Ok(HttpResponse::Ok().json(templates))
}

/// `GET /api/v1/templates/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/templates/{id}",
    summary = "Get a template",
    tag = "templates",
    params(("id" = TemplateId, Path, description = "The template's id")),
    responses((status = 200, description = "The template", body = Template))
)]
#[tracing::instrument(skip_all, fields(template_id = %id))]
pub(crate) async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TemplateId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TemplatesRead)?;
    let template = state.store.get_template(ctx, id.into_inner()).await?;
    Ok(conditional::read(&req, template.revision, &template))
}

/// `PATCH /api/v1/templates/{id}`. A new body is checked against the template's kind and its
/// parameters as they will be; an empty patch returns the template unchanged.
#[utoipa::path(
    patch,
    path = "/api/v1/templates/{id}",
    summary = "Change a template",
    tag = "templates",
    params(("id" = TemplateId, Path, description = "The template's id")),
    request_body = PatchTemplateBody,
    responses(
        (status = 200, description = "The template, changed", body = Template),
        (status = 409, description = "A template of the new name exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(template_id = %id))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TemplateId>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchTemplateBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TemplatesWrite)?;
    let id = id.into_inner();
    let current = state.store.get_template(ctx, id).await?;
    let patch = body.into_patch(current.kind, &current.parameters)?;
    if patch.is_empty() {
        if_match.check("template", id, current.revision)?;
        return Ok(conditional::tagged(current.revision, &current));
    }
    let template = state
        .store
        .update_template(ctx, id, patch, if_match.expected())
        .await?;
    Ok(conditional::tagged(template.revision, &template))
}

/// `DELETE /api/v1/templates/{id}` → 204; its usage history goes with it.
#[utoipa::path(
    delete,
    path = "/api/v1/templates/{id}",
    summary = "Delete a template",
    tag = "templates",
    params(("id" = TemplateId, Path, description = "The template's id")),
    responses((status = 204, description = "The template and its usage history are deleted; \
        what it created stays"))
)]
#[tracing::instrument(skip_all, fields(template_id = %id))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TemplateId>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TemplatesWrite)?;
    state
        .store
        .delete_template(ctx, id.into_inner(), if_match.expected())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/templates/{id}/instantiate` → 201, all in one transaction:
/// - a task template, `{project_id, arguments}`: the usage and the tasks created (`tasks:write`
///   as well);
/// - a workflow template, `{workflow_id | workflow: {name, description?}, arguments}`: the usage
///   and the version written, with `Location` at the version (`workflows:write` as well);
///   with `run: {project_id, input, priority?}`, also an execution of that version, started as
///   `POST /workflows/{id}/executions` starts one, with `Location` at the execution
///   (`tasks:write` as well).
#[utoipa::path(
    post,
    path = "/api/v1/templates/{id}/instantiate",
    summary = "Instantiate a template",
    tag = "templates",
    params(("id" = TemplateId, Path, description = "The template's id")),
    request_body = InstantiateBody,
    responses(
        (status = 201, description = "What the instantiation wrote: the usage and the tasks \
            of a task template, or the usage, the version and the execution started of a \
            workflow template", body = Instantiated,
            headers(("Location" = String, description = "The template's usages, the version \
                written, or the execution started"))),
        (status = 409, description = "The new workflow's name is taken", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(template_id = %id))]
pub(crate) async fn instantiate(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TemplateId>,
    ApiJson(body): ApiJson<InstantiateBody>,
) -> Result<HttpResponse, ApiError> {
    let Asked {
        target,
        arguments,
        run,
    } = asked(body)?;
    auth.require(match target {
        Target::Project(_) => Permission::TasksWrite,
        Target::Workflow(_) | Target::NewWorkflow(_) => Permission::WorkflowsWrite,
    })?;
    if run.is_some() {
        auth.require(Permission::TasksWrite)?;
    }
    let ctx = auth.require(Permission::TemplatesWrite)?;
    let id = id.into_inner();
    let target = match target {
        Target::Project(project) => {
            let (usage, tasks) = state
                .store
                .instantiate_task_template(ctx, id, project, arguments)
                .await?;
            return Ok(HttpResponse::Created()
                .insert_header((LOCATION, format!("/api/v1/templates/{id}/usages")))
                .json(Instantiated::Tasks(Instantiation { usage, tasks })));
        }
        Target::Workflow(workflow) => WorkflowTarget::Existing(workflow),
        Target::NewWorkflow(new) => {
            WorkflowTarget::New(new.into_new_workflow_at("workflow.name", "workflow.description")?)
        }
    };
    let Some(run) = run else {
        let (usage, version) = state
            .store
            .instantiate_workflow_template(ctx, id, target, arguments)
            .await?;
        return Ok(HttpResponse::Created()
            .insert_header((
                LOCATION,
                format!(
                    "/api/v1/workflows/{}/versions/{}",
                    version.workflow_id, version.version
                ),
            ))
            .json(Instantiated::Workflow(Box::new(WorkflowInstantiation {
                usage,
                version,
                execution: None,
            }))));
    };
    let run = run.parse().map_err(|error| error.within("run"))?;
    // Whether a refusal came from starting the execution, whose fields are under `run`.
    let starting = Cell::new(false);
    let (usage, version, execution) =
        orchestore_repo::transaction(state.store.as_ref(), async |tx| {
            let (usage, version) = tx
                .instantiate_workflow_template(ctx, id, target, arguments)
                .await?;
            starting.set(true);
            let new = run.of(version.workflow_id, Some(version.version));
            let execution = tx.create_execution(ctx, new).await?;
            Ok((usage, version, execution))
        })
        .await
        .map_err(|error| {
            let error = ApiError::from(error);
            if starting.get() {
                error.within("run")
            } else {
                error
            }
        })?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, super::workflows::execution_location(&execution)))
        .json(Instantiated::Workflow(Box::new(WorkflowInstantiation {
            usage,
            version,
            execution: Some(execution),
        }))))
}

/// `GET /api/v1/templates/{id}/usages?limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/templates/{id}/usages",
    summary = "List a template's usages",
    tag = "templates",
    params(
        ("id" = TemplateId, Path, description = "The template's id"),
        ("limit" = Option<u64>, Query, description = "Rows per page", minimum = 1,
            maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<TemplateUsageSort>, Query),
    ),
    responses((status = 200, description = "A page of the template's usages",
        body = Page<TemplateUsage, TemplateUsageSort>))
)]
#[tracing::instrument(skip_all, fields(template_id = %id))]
pub(crate) async fn usages(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<TemplateId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TemplatesRead)?;
    let page: PageRequest<TemplateUsageSort> = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_template_usages(ctx, id.into_inner(), page)
            .await?,
    ))
}
