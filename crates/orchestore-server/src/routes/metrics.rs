//! `/api/v1/metrics`: samples recorded one at a time or by the batch, and read back in
//! buckets (`/metrics/query`).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    Bucket, ComponentId, Measure, MetricBucket, MetricName, MetricQuery, MetricTags, MetricUnit,
    NewMetricSample, Permission,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::telemetry::{BatchOf, one_or_batch, parse_records, refused};
use crate::auth::Authenticated;
use crate::error::{ApiError, BATCH_BODY_LIMIT_BYTES, FieldErrors, Problem, json_config_up_to};
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SampleBody {
    /// The component the sample measures.
    component_id: ComponentId,
    /// The metric, e.g. `queue.depth`.
    name: String,
    /// A finite number.
    value: f64,
    /// The value's unit, e.g. `ms`.
    unit: Option<String>,
    /// Labels that tell the samples of one metric apart.
    tags: Option<BTreeMap<String, String>>,
    /// RFC 3339; now when left out.
    recorded_at: Option<DateTime<Utc>>,
}

impl SampleBody {
    fn parse(self) -> Result<NewMetricSample, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check(MetricName::parse(&self.name));
        let value = errors.check(Measure::parse("value", self.value));
        let unit = errors.check(self.unit.as_deref().map(MetricUnit::parse).transpose());
        let tags = errors.check(MetricTags::parse(self.tags.unwrap_or_default()));
        let (Some(name), Some(value), Some(unit), Some(tags)) = (name, value, unit, tags) else {
            return Err(errors);
        };
        Ok(NewMetricSample {
            component_id: self.component_id,
            name,
            value,
            unit,
            tags,
            recorded_at: self.recorded_at,
        })
    }
}

/// `{"samples": [...]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SampleBatchBody {
    /// Up to 10,000 samples, written all or none.
    #[schema(min_items = 1, max_items = 10_000)]
    samples: Vec<SampleBody>,
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

/// How many records a telemetry `POST` wrote.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Recorded {
    pub(super) recorded: u64,
}

/// The buckets of one metric of one component.
#[derive(Debug, Serialize, ToSchema)]
struct MetricSeries {
    component_id: ComponentId,
    name: String,
    bucket: Bucket,
    /// Oldest first; buckets without samples are left out.
    buckets: Vec<MetricBucket>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct MetricQueryParams {
    component_id: ComponentId,
    /// The metric, e.g. `queue.depth`.
    name: String,
    /// RFC 3339: samples recorded at or after it.
    since: DateTime<Utc>,
    /// RFC 3339: samples recorded before it.
    until: DateTime<Utc>,
    /// `minute`, `hour` (the default) or `day`.
    #[param(value_type = Option<Bucket>)]
    bucket: Option<String>,
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
    let mut errors = FieldErrors::default();
    let name = errors.check(MetricName::parse(&params.name));
    let bucket = errors.check(
        params
            .bucket
            .as_deref()
            .map_or(Ok(Bucket::Hour), str::parse),
    );
    let (Some(name), Some(bucket)) = (name, bucket) else {
        return Err(errors.into_error().into());
    };
    let query = MetricQuery::new(
        params.component_id,
        name,
        params.since,
        params.until,
        bucket,
    )?;
    let buckets = state.store.query_metrics(ctx, query).await?;
    Ok(HttpResponse::Ok().json(MetricSeries {
        component_id: params.component_id,
        name: params.name.trim().to_owned(),
        bucket,
        buckets,
    }))
}
