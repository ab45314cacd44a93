//! Metric samples and their bucketed aggregates.

use orchestore_domain::{MetricBucket, MetricQuery, NewMetricSample, Records};

use crate::{Ctx, RepoResult};

/// The metric samples of the context's organization. Samples are appended and never changed,
/// and write no audit row (see `docs/observability.md`).
#[async_trait::async_trait]
pub trait MetricRepo: Send + Sync {
    /// Appends the samples in one transaction, all or none, in multi-row statements, and
    /// answers how many it wrote. Each sample's component must be the organization's: else
    /// `InBatch { index, Reference }` on `component_id` of the first sample at fault.
    async fn record_metrics(&self, ctx: &Ctx, samples: Records<NewMetricSample>)
    -> RepoResult<u64>;
    /// The query's samples aggregated by bucket, oldest bucket first; buckets without samples
    /// are left out. Count, min, max and mean are computed by the database, and so is the 95th
    /// percentile, by the same definition on both backends
    /// ([`percentile_95`](orchestore_domain::percentile_95)). `NotFound` when the
    /// organization has no such component.
    async fn query_metrics(&self, ctx: &Ctx, query: MetricQuery) -> RepoResult<Vec<MetricBucket>>;
}
