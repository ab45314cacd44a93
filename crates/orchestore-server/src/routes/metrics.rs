//! `/api/v1/metrics`: samples recorded one at a time or by the batch, and read back in
//! buckets (`/metrics/query`).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    Bucket, ComponentId, Measure, MetricName, MetricQuery, MetricTags, MetricUnit, NewMetricSample,
    Permission,
};
use serde::Deserialize;
use serde_json::json;

use super::telemetry::{BatchOf, one_or_batch, parse_records, refused};
use crate::auth::Authenticated;
use crate::error::{ApiError, BATCH_BODY_LIMIT_BYTES, FieldErrors, json_config_up_to};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/metrics", "POST")
            .app_data(json_config_up_to(BATCH_BODY_LIMIT_BYTES))
            .route(web::post().to(record)),
    )
    .service(super::resource("/metrics/query", "GET").route(web::get().to(query)));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SampleBody {
    component_id: ComponentId,
    name: String,
    value: f64,
    unit: Option<String>,
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SampleBatchBody {
    samples: Vec<SampleBody>,
}

impl BatchOf<SampleBody> for SampleBatchBody {
    const KEY: &'static str = "samples";

    fn items(self) -> Vec<SampleBody> {
        self.samples
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricQueryParams {
    component_id: ComponentId,
    name: String,
    /// RFC 3339: samples recorded at or after it.
    since: DateTime<Utc>,
    /// RFC 3339: samples recorded before it.
    until: DateTime<Utc>,
    /// `minute`, `hour` (the default) or `day`.
    bucket: Option<String>,
}

/// `POST /api/v1/metrics` with one sample or `{"samples": [...]}` (up to 10,000, written all
/// or none) → 201 `{"recorded": n}`.
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
    Ok(HttpResponse::Created().json(json!({ "recorded": recorded })))
}

/// `GET /api/v1/metrics/query?component_id=&name=&since=&until=&bucket=` →
/// `{"buckets": [{start, count, min, max, mean, p95}]}`, oldest first; buckets without samples
/// are left out. A range of more than 1,500 buckets is a 422 on `bucket`.
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
        return Err(errors.into_error());
    };
    let query = MetricQuery::new(
        params.component_id,
        name,
        params.since,
        params.until,
        bucket,
    )?;
    let buckets = state.store.query_metrics(ctx, query).await?;
    Ok(HttpResponse::Ok().json(json!({
        "component_id": params.component_id,
        "name": params.name.trim(),
        "bucket": bucket,
        "buckets": buckets,
    })))
}
