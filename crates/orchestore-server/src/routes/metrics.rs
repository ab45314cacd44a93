//! `/api/v1/metrics`: samples recorded one at a time or by the batch, and read back in
//! buckets (`/metrics/query`).

use actix_web::{HttpResponse, web};
use orchestore_api::metrics::{
    MetricQueryParams, MetricSeries, Recorded, SampleBatchBody, SampleBody,
};
use orchestore_domain::Permission;
use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::telemetry::{BatchOf, one_or_batch, parse_records, refused};
use crate::auth::Authenticated;
use crate::error::{ApiError, BATCH_BODY_LIMIT_BYTES, Problem, json_config_up_to};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(record, query))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/metrics", "POST")
            .app_data(json_config_up_to(BATCH_BODY_LIMIT_BYTES))
            .route(web::post().to(record)),
    )
    .service(super::resource("/metrics/query", "GET").route(web::get().to(query)));
}

impl BatchOf<SampleBody> for SampleBatchBody {
    const KEY: &'static str = "samples";

    fn items(self) -> Vec<SampleBody> {
        self.samples
    }
}

/// The body of `POST /api/v1/metrics` as the document shows it: one sample, or a batch. The
/// handler reads a JSON value and tells them apart by the `samples` key, so only the schema of
/// this type is used.
pub(crate) enum SampleOrBatch {}

impl PartialSchema for SampleOrBatch {
    fn schema() -> RefOr<Schema> {
        one_of_two::<SampleBody, SampleBatchBody>()
    }
}

impl ToSchema for SampleOrBatch {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas_of_two::<SampleBody, SampleBatchBody>(schemas);
    }
}

/// The schema of a body that is either `A` or `B`, each by reference.
pub(super) fn one_of_two<A: ToSchema, B: ToSchema>() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(Ref::from_schema_name(A::name()))
        .item(Ref::from_schema_name(B::name()))
        .into()
}

/// The schemas [`one_of_two`] refers to, for the document's components.
pub(super) fn schemas_of_two<A: ToSchema, B: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((A::name().into_owned(), A::schema()));
    A::schemas(schemas);
    schemas.push((B::name().into_owned(), B::schema()));
    B::schemas(schemas);
}

/// `POST /api/v1/metrics` with one sample or `{"samples": [...]}` (up to 10,000, written all
/// or none) → 201 `{"recorded": n}`.
#[utoipa::path(
    post,
    path = "/api/v1/metrics",
    summary = "Record metric samples",
    tag = "metrics",
    request_body = SampleOrBatch,
    responses((status = 201, description = "How many samples were recorded", body = Recorded))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn record(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MetricsWrite)?;
    let sent = one_or_batch::<SampleBody, SampleBatchBody>(body)?;
    let key = SampleBatchBody::KEY;
    let (samples, batch) = parse_records(sent, key, SampleBody::parse)?;
    let recorded = state
        .store
        .record_metrics(ctx, samples)
        .await
        .map_err(|err| refused(err, key, batch))?;
    Ok(HttpResponse::Created().json(Recorded { recorded }))
}

/// `GET /api/v1/metrics/query?component_id=&name=&since=&until=&bucket=` →
/// `{"buckets": [{start, count, min, max, mean, p95}]}`, oldest first; buckets without samples
/// are left out. A range of more than 1,500 buckets is a 422 on `bucket`.
#[utoipa::path(
    get,
    path = "/api/v1/metrics/query",
    summary = "Query a metric in time buckets",
    tag = "metrics",
    params(MetricQueryParams),
    responses(
        (status = 200, description = "The metric's buckets", body = MetricSeries),
        (status = 404, description = "No component has the `component_id`", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn query(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<MetricQueryParams>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MetricsRead)?;
    let query = params.into_query()?;
    let (component_id, name, bucket) = (
        query.component_id(),
        query.name().as_str().to_owned(),
        query.bucket(),
    );
    let buckets = state.store.query_metrics(ctx, query).await?;
    Ok(HttpResponse::Ok().json(MetricSeries {
        component_id,
        name,
        bucket,
        buckets,
    }))
}
