//! The queue's statistics: each statement reads the unfinished tasks through an index on
//! status, or the last minute's ends through the index on `finished_at` — never the finished
//! history as a whole.

use chrono::{DateTime, Duration, Utc};
use orchestore_domain::{
    Capabilities, CapabilityDepth, QueueDepth, QueueStats, TaskStatus, Throughput,
};
use orchestore_repo::{Ctx, RepoResult};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Order, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait};

use super::entity::tasks;
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::scoped::string_array;
use crate::tenancy::entity::organizations;

/// The statements of [`QueueStats`], at `now`: counts of the unfinished tasks by status
/// (`idx_tasks_organization_status_id`), the scheduled ones (`idx_tasks_claimable`), the expired
/// leases (`idx_tasks_lease_expiry`), the claimable ones by capabilities and the oldest of them
/// (`idx_tasks_claimable`), and the runs ended in the last minute
/// (`idx_tasks_organization_finished_at`).
fn statements(ctx: &Ctx, now: DateTime<Utc>) -> [SelectStatement; 6] {
    let org = tasks::Column::OrganizationId.eq(ctx.org().as_uuid());
    let count = || Expr::col(Asterisk).count();
    let n = || Alias::new("n");
    let claimable = tasks::Column::RunAfter
        .is_null()
        .or(tasks::Column::RunAfter.lte(now));
    let by_status = Query::select()
        .column(tasks::Column::Status)
        .expr_as(count(), n())
        .from(tasks::Entity)
        .and_where(org.clone())
        .and_where(tasks::Column::Status.is_in([
            TaskStatus::Blocked.as_str(),
            TaskStatus::Queued.as_str(),
            TaskStatus::Running.as_str(),
        ]))
        .group_by_col(tasks::Column::Status)
        .to_owned();
    let scheduled = Query::select()
        .expr_as(count(), n())
        .from(tasks::Entity)
        .and_where(org.clone())
        .and_where(tasks::Column::Status.eq(TaskStatus::Queued.as_str()))
        .and_where(tasks::Column::RunAfter.gt(now))
        .to_owned();
    let expired = Query::select()
        .expr_as(count(), n())
        .from(tasks::Entity)
        .and_where(org.clone())
        .and_where(tasks::Column::Status.eq(TaskStatus::Running.as_str()))
        .and_where(tasks::Column::LeaseExpiresAt.lt(now))
        .to_owned();
    let by_capabilities = Query::select()
        .column(tasks::Column::RequiredCapabilities)
        .expr_as(count(), n())
        .from(tasks::Entity)
        .and_where(org.clone())
        .and_where(tasks::Column::Status.eq(TaskStatus::Queued.as_str()))
        .and_where(claimable.clone())
        .group_by_col(tasks::Column::RequiredCapabilities)
        .order_by_expr(count(), Order::Desc)
        .limit(QueueStats::CAPABILITY_GROUPS)
        .to_owned();
    let oldest = Query::select()
        .column(tasks::Column::CreatedAt)
        .from(tasks::Entity)
        .and_where(org.clone())
        .and_where(tasks::Column::Status.eq(TaskStatus::Queued.as_str()))
        .and_where(claimable)
        .order_by(tasks::Column::CreatedAt, Order::Asc)
        .limit(1)
        .to_owned();
    let last_minute = Query::select()
        .column(tasks::Column::Status)
        .expr_as(count(), n())
        .from(tasks::Entity)
        .and_where(org)
        .and_where(tasks::Column::FinishedAt.gte(now - Duration::minutes(1)))
        .and_where(
            tasks::Column::Status
                .is_in([TaskStatus::Succeeded.as_str(), TaskStatus::Failed.as_str()]),
        )
        .group_by_col(tasks::Column::Status)
        .to_owned();
    [
        by_status,
        scheduled,
        expired,
        by_capabilities,
        oldest,
        last_minute,
    ]
}

/// The statements of [`QueueDepth`], at `now`, over every organization: the queued tasks, and
/// those of them scheduled later, through `idx_tasks_claimable` (partial: it holds only the
/// queued tasks); the running ones, and those of them whose lease expired, through
/// `idx_tasks_lease_expiry` (partial too); the blocked ones organization by organization
/// through `idx_tasks_organization_status_id`, which leads with the organization.
fn depth_statements(now: DateTime<Utc>) -> [SelectStatement; 5] {
    let count = || Expr::col(Asterisk).count();
    let n = || Alias::new("n");
    let queued = Query::select()
        .expr_as(count(), n())
        .from(tasks::Entity)
        .and_where(tasks::Column::Status.eq(TaskStatus::Queued.as_str()))
        .to_owned();
    let scheduled = queued
        .clone()
        .and_where(tasks::Column::RunAfter.gt(now))
        .to_owned();
    let running = Query::select()
        .expr_as(count(), n())
        .from(tasks::Entity)
        .and_where(tasks::Column::Status.eq(TaskStatus::Running.as_str()))
        .to_owned();
    let expired = running
        .clone()
        .and_where(tasks::Column::LeaseExpiresAt.lt(now))
        .to_owned();
    let blocked_in_organization = Query::select()
        .expr(count())
        .from(tasks::Entity)
        .and_where(
            Expr::col((tasks::Entity, tasks::Column::OrganizationId))
                .equals((organizations::Entity, organizations::Column::Id)),
        )
        .and_where(tasks::Column::Status.eq(TaskStatus::Blocked.as_str()))
        .to_owned();
    // SUM of a bigint is a numeric on PostgreSQL: cast back so both backends answer an integer.
    let blocked = Query::select()
        .expr_as(
            Func::cast_as(
                Func::if_null(
                    Func::sum(Expr::SubQuery(
                        None,
                        Box::new(blocked_in_organization.into()),
                    )),
                    0,
                ),
                Alias::new("BIGINT"),
            ),
            n(),
        )
        .from(organizations::Entity)
        .to_owned();
    [queued, scheduled, running, expired, blocked]
}

fn count_of(row: &sea_orm::QueryResult) -> RepoResult<u64> {
    let n: i64 = row.try_get("", "n").map_err(db_err)?;
    u64::try_from(n).map_err(|e| corrupt("task", e))
}

impl SeaStore {
    pub(crate) async fn read_queue_stats(&self, ctx: &Ctx) -> RepoResult<QueueStats> {
        let db = self.db().await;
        let [
            by_status,
            scheduled,
            expired,
            by_capabilities,
            oldest,
            last_minute,
        ] = statements(ctx, crate::store::now());
        let mut stats = QueueStats {
            blocked: 0,
            queued: 0,
            scheduled: 0,
            running: 0,
            expired_leases: 0,
            by_capabilities: Vec::new(),
            oldest_queued_at: None,
            last_minute: Throughput::default(),
        };
        for row in db.query_all(&by_status).await.map_err(db_err)? {
            let status: String = row.try_get("", "status").map_err(db_err)?;
            let n = count_of(&row)?;
            match status.parse().map_err(|e| corrupt("task", e))? {
                TaskStatus::Blocked => stats.blocked = n,
                TaskStatus::Queued => stats.queued = n,
                TaskStatus::Running => stats.running = n,
                _ => {}
            }
        }
        if let Some(row) = db.query_one(&scheduled).await.map_err(db_err)? {
            stats.scheduled = count_of(&row)?;
        }
        // `queued` above counts every queued task: the claimable ones are the rest.
        stats.queued = stats.queued.saturating_sub(stats.scheduled);
        if let Some(row) = db.query_one(&expired).await.map_err(db_err)? {
            stats.expired_leases = count_of(&row)?;
        }
        for row in db.query_all(&by_capabilities).await.map_err(db_err)? {
            let value: serde_json::Value =
                row.try_get("", "required_capabilities").map_err(db_err)?;
            let names = string_array(&value)
                .ok_or_else(|| corrupt("task", "required_capabilities is not an array"))?;
            stats.by_capabilities.push(CapabilityDepth {
                required_capabilities: Capabilities::parse(&names)
                    .map_err(|e| corrupt("task", e))?,
                queued: count_of(&row)?,
            });
        }
        if let Some(row) = db.query_one(&oldest).await.map_err(db_err)? {
            stats.oldest_queued_at = Some(row.try_get("", "created_at").map_err(db_err)?);
        }
        for row in db.query_all(&last_minute).await.map_err(db_err)? {
            let status: String = row.try_get("", "status").map_err(db_err)?;
            let n = count_of(&row)?;
            match status.parse().map_err(|e| corrupt("task", e))? {
                TaskStatus::Succeeded => stats.last_minute.succeeded = n,
                TaskStatus::Failed => stats.last_minute.failed = n,
                _ => {}
            }
        }
        Ok(stats)
    }

    pub(crate) async fn read_queue_depth(&self) -> RepoResult<QueueDepth> {
        let db = self.db().await;
        let mut counts = [0_u64; 5];
        for (count, statement) in counts.iter_mut().zip(depth_statements(crate::store::now())) {
            if let Some(row) = db.query_one(&statement).await.map_err(db_err)? {
                *count = count_of(&row)?;
            }
        }
        let [queued, scheduled, running, expired_leases, blocked] = counts;
        Ok(QueueDepth {
            blocked,
            // `queued` above counts every queued task: the claimable ones are the rest.
            queued: queued.saturating_sub(scheduled),
            scheduled,
            running,
            expired_leases,
        })
    }

    /// The plans of the statements of
    /// [`QueueRepo::queue_depth`](orchestore_repo::QueueRepo::queue_depth), one text each.
    pub async fn explain_queue_depth(&self) -> RepoResult<Vec<String>> {
        self.explain(depth_statements(crate::store::now())).await
    }

    /// The plans of the statements of [`QueueRepo::queue_stats`](orchestore_repo::QueueRepo),
    /// one text each: to check that they read indexes, not the whole table.
    pub async fn explain_queue_stats(&self, ctx: &Ctx) -> RepoResult<Vec<String>> {
        self.explain(statements(ctx, crate::store::now())).await
    }
}
