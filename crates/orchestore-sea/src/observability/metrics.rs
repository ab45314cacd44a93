use std::collections::BTreeSet;

use chrono::DateTime;
use orchestore_domain::{
    MetricBucket, MetricQuery, MetricSampleId, NewMetricSample, Records, p95_between,
};
use orchestore_repo::{Ctx, MetricRepo, RepoError, RepoResult};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Set, Statement};
use uuid::Uuid;

use super::entity::{components, metrics};
use super::{first_missing, insert_rows, present, stored_time};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::Audited;
use crate::scoped::Lock;

/// The buckets of one series on PostgreSQL: an index-only range scan of `idx_metrics_series`
/// aggregated by bucket, the 95th percentile by `percentile_cont`. `{width}` is the bucket's
/// width in seconds.
const QUERY_POSTGRES: &str = "\
SELECT (floor(extract(epoch FROM recorded_at) / {width}) * {width})::bigint AS bucket, \
       count(*) AS count, min(value) AS min, max(value) AS max, avg(value) AS mean, \
       percentile_cont(0.95) WITHIN GROUP (ORDER BY value) AS p95 \
FROM metrics \
WHERE organization_id = $1 AND component_id = $2 AND name = $3 \
  AND recorded_at >= $4 AND recorded_at < $5 \
GROUP BY 1 ORDER BY 1";

/// The same on SQLite, which has no percentile function: each sample ranked within its
/// bucket by a window function, and the two values the percentile lies between
/// (`orchestore_domain::p95_ranks`, in integers) picked out, to be interpolated in Rust.
const QUERY_SQLITE: &str = "\
SELECT bucket, count(*) AS count, min(value) AS min, max(value) AS max, avg(value) AS mean, \
       max(CASE WHEN rank = 95 * (n - 1) / 100 THEN value END) AS p95_low, \
       max(CASE WHEN rank = 95 * (n - 1) / 100 + 1 THEN value END) AS p95_high \
FROM ( \
  SELECT bucket, value, \
         row_number() OVER (PARTITION BY bucket ORDER BY value) - 1 AS rank, \
         count(*) OVER (PARTITION BY bucket) AS n \
  FROM ( \
    SELECT CAST(strftime('%s', recorded_at) AS INTEGER) / {width} * {width} AS bucket, value \
    FROM metrics \
    WHERE organization_id = ? AND component_id = ? AND name = ? \
      AND recorded_at >= ? AND recorded_at < ? \
  ) \
) \
GROUP BY bucket ORDER BY bucket";

fn to_bucket(row: &QueryResult, postgres: bool) -> RepoResult<MetricBucket> {
    let bad = |e: String| corrupt("metric", e);
    let get_f64 = |column: &str| {
        row.try_get::<f64>("", column)
            .map_err(|e| bad(e.to_string()))
    };
    let start: i64 = row.try_get("", "bucket").map_err(|e| bad(e.to_string()))?;
    let count: i64 = row.try_get("", "count").map_err(|e| bad(e.to_string()))?;
    let count = u64::try_from(count).map_err(|e| bad(e.to_string()))?;
    let p95 = if postgres {
        get_f64("p95")?
    } else {
        let low = get_f64("p95_low")?;
        let high = row
            .try_get::<Option<f64>>("", "p95_high")
            .map_err(|e| bad(e.to_string()))?
            .unwrap_or(low);
        p95_between(count, low, high)
    };
    Ok(MetricBucket {
        start: DateTime::from_timestamp(start, 0)
            .ok_or_else(|| bad(format!("bucket {start} is not a time")))?,
        count,
        min: get_f64("min")?,
        max: get_f64("max")?,
        mean: get_f64("mean")?,
        p95,
    })
}

#[async_trait::async_trait]
impl MetricRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), samples = samples.len()))]
    async fn record_metrics(
        &self,
        ctx: &Ctx,
        samples: Records<NewMetricSample>,
    ) -> RepoResult<u64> {
        self.mutate(ctx, async |m| {
            let batch = samples.as_slice();
            let components: BTreeSet<Uuid> =
                batch.iter().map(|s| s.component_id.as_uuid()).collect();
            let found = present::<components::Entity>(m.txn(), ctx, &components).await?;
            first_missing(
                batch,
                &found,
                "component_id",
                components::Entity::NAME,
                |s| Some(s.component_id.as_uuid()),
            )?;
            let rows = batch
                .iter()
                .map(|sample| metrics::ActiveModel {
                    organization_id: Set(ctx.org().as_uuid()),
                    id: Set(MetricSampleId::new().as_uuid()),
                    component_id: Set(sample.component_id.as_uuid()),
                    name: Set(sample.name.as_str().to_owned()),
                    value: Set(sample.value.get()),
                    unit: Set(sample.unit.as_ref().map(|u| u.as_str().to_owned())),
                    tags: Set(sample.tags.to_value()),
                    recorded_at: Set(stored_time(sample.recorded_at, m.at())),
                })
                .collect();
            insert_rows::<metrics::Entity>(m.txn(), self.is_postgres(), rows).await?;
            u64::try_from(batch.len()).map_err(RepoError::internal)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), component = %query.component_id()))]
    async fn query_metrics(&self, ctx: &Ctx, query: MetricQuery) -> RepoResult<Vec<MetricBucket>> {
        let db = self.db().await;
        self.find_scoped::<components::Entity>(&db, ctx, query.component_id(), Lock::None)
            .await?;
        let postgres = self.is_postgres();
        db.query_all_raw(bucketed(postgres, ctx, &query))
            .await
            .map_err(db_err)?
            .iter()
            .map(|row| to_bucket(row, postgres))
            .collect()
    }
}

/// The statement of `query` on the backend.
fn bucketed(postgres: bool, ctx: &Ctx, query: &MetricQuery) -> Statement {
    let (backend, sql) = if postgres {
        (DbBackend::Postgres, QUERY_POSTGRES)
    } else {
        (DbBackend::Sqlite, QUERY_SQLITE)
    };
    // The width comes from a closed set of buckets, never from the caller's text.
    let sql = sql.replace("{width}", &query.bucket().seconds().to_string());
    Statement::from_sql_and_values(
        backend,
        sql,
        [
            ctx.org().as_uuid().into(),
            query.component_id().as_uuid().into(),
            query.name().as_str().into(),
            query.since().into(),
            query.until().into(),
        ],
    )
}

impl SeaStore {
    /// The plan of [`MetricRepo::query_metrics`]'s statement for `query` (PostgreSQL `EXPLAIN`,
    /// SQLite `EXPLAIN QUERY PLAN`), for tests and diagnostics.
    pub async fn explain_metric_query(&self, ctx: &Ctx, query: &MetricQuery) -> RepoResult<String> {
        let statement = bucketed(self.is_postgres(), ctx, query);
        self.explain_raw(statement).await
    }
}
