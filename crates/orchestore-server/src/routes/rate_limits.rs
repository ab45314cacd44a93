//! `/api/v1/rate-limits`: named token buckets that tasks consume (`rate_limits` on a task).

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    NewRateLimit, Permission, RateLimit, RateLimitName, RateLimitPatch, RefillPeriod, TokenCount,
};
use orchestore_repo::{Page, PageRequest, RateLimitSort, RepoError};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, FieldErrors, Problem};
use crate::extract::{ApiJson, ApiQuery, PatchField};
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRateLimitBody {
    /// Unique in the organization; tasks name the bucket by it (case counts).
    #[schema(pattern = "^[A-Za-z0-9_.:/-]{1,100}$", examples("openai:requests"))]
    name: String,
    /// The most tokens the bucket holds.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    capacity: i64,
    /// How long the bucket takes to refill from empty to full (at most 30 days).
    #[schema(minimum = 1, maximum = 2_592_000)]
    period_seconds: i64,
}

impl CreateRateLimitBody {
    fn into_new_rate_limit(self) -> Result<NewRateLimit, ApiError> {
        let mut errors = FieldErrors::default();
        let name = errors.check(RateLimitName::parse("name", &self.name));
        let capacity = errors.check(TokenCount::parse("capacity", self.capacity));
        let period = errors.check(RefillPeriod::parse("period_seconds", self.period_seconds));
        let (Some(name), Some(capacity), Some(period)) = (name, capacity, period) else {
            return Err(errors.into_error().into());
        };
        Ok(NewRateLimit {
            name,
            capacity,
            period,
        })
    }
}

/// Absent fields stay as they are; the balance earned under the old terms is kept, at most the
/// new capacity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchRateLimitBody {
    /// The most tokens the bucket holds.
    #[serde(default)]
    #[schema(value_type = i64, minimum = 1, maximum = 1_000_000_000)]
    capacity: PatchField<i64>,
    /// How long the bucket takes to refill from empty to full (at most 30 days).
    #[serde(default)]
    #[schema(value_type = i64, minimum = 1, maximum = 2_592_000)]
    period_seconds: PatchField<i64>,
}

impl PatchRateLimitBody {
    fn into_patch(self) -> Result<RateLimitPatch, ApiError> {
        let mut errors = FieldErrors::default();
        let capacity = errors.check(
            self.capacity
                .parse_required("capacity", |c| TokenCount::parse("capacity", c)),
        );
        let period = errors.check(self.period_seconds.parse_required("period_seconds", |p| {
            RefillPeriod::parse("period_seconds", p)
        }));
        let (Some(capacity), Some(period)) = (capacity, period) else {
            return Err(errors.into_error().into());
        };
        Ok(RateLimitPatch { capacity, period })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListRateLimitsQuery {
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<RateLimitSort>)]
    sort: Option<String>,
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
