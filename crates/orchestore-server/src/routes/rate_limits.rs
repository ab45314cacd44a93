//! `/api/v1/rate-limits`: named token buckets that tasks consume (`rate_limits` on a task).

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::rate_limits::{CreateRateLimitBody, ListRateLimitsQuery, PatchRateLimitBody};
use orchestore_domain::{Permission, RateLimit, RateLimitName};
use orchestore_repo::{Page, PageRequest, RateLimitSort, RepoError};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, FieldErrors, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(create, list, get, update, delete))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/rate-limits", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        super::resource("/rate-limits/{name}", "GET, PATCH, DELETE")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    );
}

/// The name in the path; one that cannot be a rate limit's names none: 404.
fn named(raw: &str) -> Result<RateLimitName, ApiError> {
    RateLimitName::parse("name", raw)
        .map_err(|_| ApiError::from(RepoError::not_found("rate_limit", raw)))
}

/// `POST /api/v1/rate-limits` with `{name, capacity, period_seconds}` → 201, the bucket, full.
#[utoipa::path(
    post,
    path = "/api/v1/rate-limits",
    summary = "Create a rate limit",
    tag = "rate_limits",
    request_body = CreateRateLimitBody,
    responses(
        (status = 201, description = "The bucket, full", body = RateLimit,
            headers(("Location" = String, description = "The bucket's URL"))),
        (status = 409, description = "A rate limit of this name exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateRateLimitBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let limit = state
        .store
        .create_rate_limit(ctx, body.into_new_rate_limit()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/rate-limits/{}", limit.name)))
        .json(limit))
}

/// `GET /api/v1/rate-limits?limit=&cursor=&sort=` (`created_at` or `-created_at`).
#[utoipa::path(
    get,
    path = "/api/v1/rate-limits",
    summary = "List rate limits",
    tag = "rate_limits",
    params(ListRateLimitsQuery),
    responses((status = 200, description = "A page of rate limits",
        body = Page<RateLimit, RateLimitSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListRateLimitsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    let mut errors = FieldErrors::default();
    let page: Option<PageRequest<RateLimitSort>> = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let page = page.ok_or_else(|| errors.into_error())?;
    Ok(HttpResponse::Ok().json(state.store.list_rate_limits(ctx, page).await?))
}

/// `GET /api/v1/rate-limits/{name}` → the bucket, its `tokens` as of now.
#[utoipa::path(
    get,
    path = "/api/v1/rate-limits/{name}",
    summary = "Get a rate limit",
    tag = "rate_limits",
    params(("name" = String, Path, description = "The rate limit's name")),
    responses((status = 200, description = "The bucket, its `tokens` as of now",
        body = RateLimit))
)]
#[tracing::instrument(skip_all, fields(rate_limit = %name))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksRead)?;
    let name = named(&name)?;
    let limit = state.store.get_rate_limit(ctx, &name).await?;
    // Its balance refills with time, which no revision counts: never a 304.
    Ok(conditional::tagged(limit.revision, &limit))
}

/// `PATCH /api/v1/rate-limits/{name}` with any of `{capacity, period_seconds}` → the bucket.
#[utoipa::path(
    patch,
    path = "/api/v1/rate-limits/{name}",
    summary = "Change a rate limit",
    tag = "rate_limits",
    params(("name" = String, Path, description = "The rate limit's name")),
    request_body = PatchRateLimitBody,
    responses((status = 200, description = "The bucket, changed", body = RateLimit))
)]
#[tracing::instrument(skip_all, fields(rate_limit = %name))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    name: web::Path<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchRateLimitBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let name = named(&name)?;
    let patch = body.into_patch()?;
    let written = state
        .store
        .update_rate_limit(ctx, &name, patch, if_match.expected())
        .await?;
    Ok(conditional::tagged(written.revision, &written))
}

/// `DELETE /api/v1/rate-limits/{name}` → 204; the tasks naming it are no longer held back.
#[utoipa::path(
    delete,
    path = "/api/v1/rate-limits/{name}",
    summary = "Delete a rate limit",
    tag = "rate_limits",
    params(("name" = String, Path, description = "The rate limit's name")),
    responses((status = 204, description = "The bucket is deleted"))
)]
#[tracing::instrument(skip_all, fields(rate_limit = %name))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    name: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::TasksWrite)?;
    let name = named(&name)?;
    state
        .store
        .delete_rate_limit(ctx, &name, if_match.expected())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
