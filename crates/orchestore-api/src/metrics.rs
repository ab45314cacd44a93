//! `/api/v1/metrics`: samples recorded one at a time or by the batch, and read back in
//! buckets (`/metrics/query`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use orchestore_domain::{
    Bucket, ComponentId, Measure, MetricBucket, MetricName, MetricQuery, MetricTags, MetricUnit,
    NewMetricSample,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid};

// `POST /api/v1/metrics`, one sample alone or in a batch.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleBody {
    /// The component the sample measures.
    pub component_id: ComponentId,
    /// The metric, e.g. `queue.depth`.
    pub name: String,
    /// A finite number.
    pub value: f64,
    /// The value's unit, e.g. `ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Labels that tell the samples of one metric apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// RFC 3339; now when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<DateTime<Utc>>,
}

impl SampleBody {
    /// The sample, or every bad field.
    pub fn parse(self) -> Result<NewMetricSample, FieldErrors> {
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
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleBatchBody {
    /// Up to 10,000 samples, written all or none.
    #[schema(min_items = 1, max_items = 10_000)]
    pub samples: Vec<SampleBody>,
}

/// How many records a telemetry `POST` wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Recorded {
    pub recorded: u64,
}

/// The buckets of one metric of one component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricSeries {
    pub component_id: ComponentId,
    pub name: String,
    pub bucket: Bucket,
    /// Oldest first; buckets without samples are left out.
    pub buckets: Vec<MetricBucket>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MetricQueryParams {
    pub component_id: ComponentId,
    /// The metric, e.g. `queue.depth`.
    pub name: String,
    /// RFC 3339: samples recorded at or after it.
    pub since: DateTime<Utc>,
    /// RFC 3339: samples recorded before it.
    pub until: DateTime<Utc>,
    /// `minute`, `hour` (the default) or `day`.
    #[param(value_type = Option<Bucket>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
}

impl MetricQueryParams {
    /// The samples the parameters ask for; the bucket is an hour when left out.
    pub fn into_query(self) -> Result<MetricQuery, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(MetricName::parse(&self.name));
        let bucket = errors.check(self.bucket.as_deref().map_or(Ok(Bucket::Hour), str::parse));
        let (Some(name), Some(bucket)) = (name, bucket) else {
            return Err(errors.into_error());
        };
        Ok(MetricQuery::new(
            self.component_id,
            name,
            self.since,
            self.until,
            bucket,
        )?)
    }
}
