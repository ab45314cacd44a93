//! `/api/v1/learning-records`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    ContextFilter, DomainError, LearningOutcome, LearningRecord, LearningRecordId, Metadata,
    NewLearningRecord, Pattern, PatternPrefix, PatternQuery, Permission, Score,
};
use orchestore_repo::{LearningFilter, LearningSort, Page, PageRequest};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, list, get))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/learning-records", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(super::resource("/learning-records/{id}", "GET").route(web::get().to(get)));
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRecordBody {
    /// What the record is about, e.g. `deploy.rollback` or `review/rust/unsafe`.
    #[schema(min_length = 1, max_length = 200)]
    pattern: String,
    /// A JSON object: the circumstances, which lists can filter on.
    #[schema(value_type = Option<Object>)]
    context: Option<serde_json::Value>,
    #[schema(value_type = LearningOutcome)]
    outcome: String,
    #[schema(value_type = Score)]
    score: f64,
}

impl CreateRecordBody {
    fn into_new_record(self) -> Result<NewLearningRecord, ApiError> {
        let mut errors = FieldErrors::default();
        let pattern = errors.check(Pattern::parse(&self.pattern));
        let context = errors.check(
            self.context
                .map_or(Ok(Metadata::default()), |c| Metadata::parse("context", c)),
        );
        let outcome = errors.check(self.outcome.parse::<LearningOutcome>());
        let score = errors.check(Score::parse(self.score));
        let (Some(pattern), Some(context), Some(outcome), Some(score)) =
            (pattern, context, outcome, score)
        else {
            return Err(errors.into_error().into());
        };
        Ok(NewLearningRecord {
            pattern,
            context,
            outcome,
            score,
        })
    }
}

/// `context` is a JSON object in the query string, e.g. `context={"model":"m1"}` (URL-encoded).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListRecordsQuery {
    /// Only records of exactly this pattern.
    pattern: Option<String>,
    /// Only records whose pattern starts with this (not with `pattern`).
    pattern_prefix: Option<String>,
    /// A JSON object: only records whose context holds each of its fields.
    context: Option<String>,
    #[param(value_type = Option<LearningOutcome>)]
    outcome: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<LearningSort>)]
    sort: Option<String>,
}

impl ListRecordsQuery {
    fn into_filter_and_page(self) -> Result<(LearningFilter, PageRequest<LearningSort>), ApiError> {
        let mut errors = FieldErrors::default();
        let pattern = errors.check(match (self.pattern, self.pattern_prefix) {
            (None, None) => Ok(None),
            (Some(exact), None) => Pattern::parse(&exact).map(|p| Some(PatternQuery::Exact(p))),
            (None, Some(prefix)) => {
                PatternPrefix::parse(&prefix).map(|p| Some(PatternQuery::Prefix(p)))
            }
            (Some(_), Some(_)) => Err(DomainError::invalid(
                "pattern_prefix",
                "give pattern or pattern_prefix, not both",
            )),
        });
        let context = errors.check(
            self.context
                .map(|raw| {
                    serde_json::from_str(&raw)
                        .map_err(|_| DomainError::invalid("context", "must be a JSON object"))
                        .and_then(ContextFilter::parse)
                })
                .transpose(),
        );
        let outcome = errors.check(self.outcome.as_deref().map(str::parse).transpose());
        let page = super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(pattern), Some(context), Some(outcome), Some(page)) =
            (pattern, context, outcome, page)
        else {
            return Err(errors.into_error().into());
        };
        Ok((
            LearningFilter {
                pattern,
                context,
                outcome,
            },
            page,
        ))
    }
}

/// `POST /api/v1/learning-records` → 201 with `Location`.
#[utoipa::path(
    post,
    path = "/api/v1/learning-records",
    summary = "Record a learning",
    tag = "learning",
    request_body = CreateRecordBody,
    responses(
        (status = 201, description = "The record, created", body = LearningRecord,
            headers(("Location" = String, description = "The record's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateRecordBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::LearningWrite)?;
    let record = state
        .store
        .create_learning_record(ctx, body.into_new_record()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/learning-records/{}", record.id)))
        .json(record))
}

/// `GET /api/v1/learning-records?pattern=&pattern_prefix=&context=&outcome=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/learning-records",
    summary = "List learning records",
    tag = "learning",
    params(ListRecordsQuery),
    responses((status = 200, description = "A page of learning records",
        body = Page<LearningRecord, LearningSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListRecordsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::LearningRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_learning_records(ctx, filter, page).await?))
}

/// `GET /api/v1/learning-records/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/learning-records/{id}",
    summary = "Get a learning record",
    tag = "learning",
    params(("id" = LearningRecordId, Path, description = "The record's id")),
    responses((status = 200, description = "The learning record", body = LearningRecord))
)]
#[tracing::instrument(skip_all, fields(record_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<LearningRecordId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::LearningRead)?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .get_learning_record(ctx, id.into_inner())
            .await?,
    ))
}
