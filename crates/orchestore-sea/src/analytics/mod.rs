//! `AnalyticsRepo`: reports over a window, read from the history through indexes that lead
//! with the organization and the time (`workflows.rs`, `task_kinds.rs`, `templates.rs`).
//!
//! On PostgreSQL a report is one grouped statement, its 95th percentiles
//! `percentile_disc(0.95)`; on SQLite, which has no percentile, the window's rows are read and
//! grouped here. Both measure durations in whole milliseconds (floored, never below zero) and
//! take the mean from the sum and the count in [`DurationStats::from_parts`], so that every
//! figure is the same number on both backends.

mod task_kinds;
mod templates;
mod workflows;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AnalyticsReport, AnalyticsWindow, DurationStats, Outcomes, TaskKindAnalytics,
    TemplateAnalytics, WorkflowAnalytics, WorkflowDaily, WorkflowId,
};
use orchestore_repo::{AnalyticsRepo, Ctx, RepoResult};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};

use crate::SeaStore;
use crate::error::db_err;

/// Whole milliseconds from `from` to `to`, or `None` when either is missing; a negative span
/// (a clock that went back) is zero.
fn millis_between(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Option<i64> {
    let (from, to) = (from?, to?);
    let micros = (to - from).num_microseconds().unwrap_or(i64::MAX);
    Some(micros.max(0).div_euclid(1000))
}

/// Whole milliseconds from `from` to `to` in PostgreSQL, floored, zero when negative, `NULL`
/// when either is (not `GREATEST`, which would make a `NULL` zero).
fn pg_millis(from: &str, to: &str) -> String {
    format!(
        "(CASE WHEN {to} < {from} THEN 0 \
         ELSE FLOOR(EXTRACT(EPOCH FROM ({to} - {from})) * 1000) END)::bigint"
    )
}

/// The PostgreSQL aggregates of one duration column: `<name>_n`, `<name>_sum`, `<name>_p95`.
fn pg_duration_columns(name: &str, millis: &str) -> String {
    format!(
        "count({millis}) AS {name}_n, sum({millis})::bigint AS {name}_sum, \
         percentile_disc(0.95) WITHIN GROUP (ORDER BY {millis}) AS {name}_p95"
    )
}

/// The PostgreSQL counts by status: `total`, `succeeded`, `failed`, `cancelled`.
const PG_STATUS_COUNTS: &str = "count(*) AS total, \
     count(*) FILTER (WHERE status = 'succeeded') AS succeeded, \
     count(*) FILTER (WHERE status = 'failed') AS failed, \
     count(*) FILTER (WHERE status = 'cancelled') AS cancelled";

fn count(row: &QueryResult, column: &str) -> RepoResult<u64> {
    let value: Option<i64> = row.try_get("", column).map_err(db_err)?;
    Ok(value.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
}

fn outcomes_of(row: &QueryResult) -> RepoResult<Outcomes> {
    Ok(Outcomes::new(
        count(row, "total")?,
        count(row, "succeeded")?,
        count(row, "failed")?,
        count(row, "cancelled")?,
    ))
}

fn durations_of(row: &QueryResult, name: &str) -> RepoResult<DurationStats> {
    let measured = count(row, &format!("{name}_n"))?;
    let sum: Option<i64> = row.try_get("", &format!("{name}_sum")).map_err(db_err)?;
    let p95: Option<i64> = row.try_get("", &format!("{name}_p95")).map_err(db_err)?;
    Ok(DurationStats::from_parts(
        measured,
        i128::from(sum.unwrap_or(0)),
        p95,
    ))
}

/// What SQLite's rows of a window add up to, per group: statuses and durations.
#[derive(Debug, Default)]
struct Tally {
    total: u64,
    succeeded: u64,
    failed: u64,
    cancelled: u64,
    durations: BTreeMap<&'static str, Vec<i64>>,
}

impl Tally {
    fn status(&mut self, status: &str) {
        self.total += 1;
        match status {
            "succeeded" => self.succeeded += 1,
            "failed" => self.failed += 1,
            "cancelled" => self.cancelled += 1,
            _ => {}
        }
    }

    fn duration(&mut self, name: &'static str, millis: Option<i64>) {
        let durations = self.durations.entry(name).or_default();
        if let Some(millis) = millis {
            durations.push(millis);
        }
    }

    fn outcomes(&self) -> Outcomes {
        Outcomes::new(self.total, self.succeeded, self.failed, self.cancelled)
    }

    fn durations(&self, name: &str) -> DurationStats {
        DurationStats::from_millis(self.durations.get(name).into_iter().flatten().copied())
    }
}

impl SeaStore {
    async fn analytics_rows(&self, sql: &str, values: Vec<Value>) -> RepoResult<Vec<QueryResult>> {
        let backend = if self.is_postgres() {
            DbBackend::Postgres
        } else {
            DbBackend::Sqlite
        };
        self.db()
            .await
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(db_err)
    }
}

#[async_trait::async_trait]
impl AnalyticsRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn workflow_analytics(
        &self,
        ctx: &Ctx,
        window: AnalyticsWindow,
    ) -> RepoResult<AnalyticsReport<WorkflowAnalytics>> {
        self.analytics_by_workflow(ctx, window).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), workflow = %workflow))]
    async fn workflow_daily(
        &self,
        ctx: &Ctx,
        workflow: WorkflowId,
        window: AnalyticsWindow,
    ) -> RepoResult<WorkflowDaily> {
        self.analytics_by_day(ctx, workflow, window).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn task_kind_analytics(
        &self,
        ctx: &Ctx,
        window: AnalyticsWindow,
    ) -> RepoResult<AnalyticsReport<TaskKindAnalytics>> {
        self.analytics_by_task_kind(ctx, window).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn template_analytics(
        &self,
        ctx: &Ctx,
        window: AnalyticsWindow,
    ) -> RepoResult<AnalyticsReport<TemplateAnalytics>> {
        self.analytics_by_template(ctx, window).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_are_floored_and_never_negative() {
        let at =
            |micros: i64| Some(DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or_default());
        assert_eq!(millis_between(at(0), at(1_999)), Some(1));
        assert_eq!(millis_between(at(5_000), at(0)), Some(0));
        assert_eq!(millis_between(None, at(0)), None);
    }
}
