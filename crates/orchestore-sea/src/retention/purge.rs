//! The purge: per target the policy names, the rows past its age, deleted batch after batch
//! (or counted, in a dry run), then one audit row with the counts.

use chrono::{DateTime, Utc};
use orchestore_domain::{PurgeBatch, RetentionTarget, TaskStatus};
use orchestore_repo::{Ctx, PurgedRows, RepoError, RepoResult, RetentionReport};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select,
};
use uuid::Uuid;

use super::entity::retention_policies;
use super::policies::{audited_report, policy_of};
use crate::SeaStore;
use crate::collaboration::entity::reputation_events;
use crate::error::db_err;
use crate::messaging::entity::messages;
use crate::mutation::Verb;
use crate::observability::entity::{events, metrics};
use crate::scoped::{Tenanted, scoped};
use crate::tenancy::entity::sessions;
use crate::work::entity::tasks;

/// The counter of rows a purge deleted, labelled with their `table`.
const DELETED_ROWS: &str = "orchestore_retention_deleted_rows_total";

/// What keeps a finished task that is past its age: another row that refers to it and that a
/// deletion would break or take with it, or an ending the reputation feeder has not read yet.
/// Its own history (`task_events`) and its edges to other finished tasks go with it; its
/// reputation events stay, detached from it (see `purge_task_batch`); a subtask, a dependent
/// not finished yet, a step of a workflow execution still pending or running, a message, a
/// match, or a success or final failure past the organization's feed watermark keep it (an
/// organization the feeder has never read has no watermark, and nothing waits for it).
/// Correlated on the candidate row, so that each check is one probe of an index that leads
/// with the organization.
const UNREFERENCED_TASK: &str = "\
    NOT EXISTS (SELECT 1 FROM tasks AS child \
        WHERE child.organization_id = tasks.organization_id AND child.parent_id = tasks.id) \
    AND NOT EXISTS (SELECT 1 FROM task_dependencies AS edge \
        JOIN tasks AS dependent \
            ON dependent.organization_id = edge.organization_id AND dependent.id = edge.task_id \
        WHERE edge.organization_id = tasks.organization_id AND edge.depends_on_id = tasks.id \
            AND dependent.status NOT IN ('succeeded', 'failed', 'cancelled')) \
    AND NOT EXISTS (SELECT 1 FROM workflow_execution_tasks AS step \
        JOIN workflow_executions AS execution \
            ON execution.organization_id = step.organization_id \
            AND execution.id = step.execution_id \
        WHERE step.organization_id = tasks.organization_id AND step.task_id = tasks.id \
            AND execution.status IN ('pending', 'running')) \
    AND NOT EXISTS (SELECT 1 FROM messages AS message \
        WHERE message.organization_id = tasks.organization_id AND message.task_id = tasks.id) \
    AND NOT EXISTS (SELECT 1 FROM task_events AS ending \
        JOIN reputation_feed_watermarks AS fed ON fed.organization_id = ending.organization_id \
        WHERE ending.organization_id = tasks.organization_id AND ending.task_id = tasks.id \
            AND ending.to_status IN ('succeeded', 'failed') AND ending.id > fed.last_event_id) \
    AND NOT EXISTS (SELECT 1 FROM matches AS rated \
        WHERE rated.organization_id = tasks.organization_id AND rated.task_id = tasks.id)";

fn finished_tasks(
    ctx: &Ctx,
    status: TaskStatus,
    older_than: DateTime<Utc>,
) -> Select<tasks::Entity> {
    scoped::<tasks::Entity>(ctx)
        .filter(tasks::Column::Status.eq(status.as_str()))
        .filter(tasks::Column::FinishedAt.lt(older_than))
        .filter(Expr::cust(UNREFERENCED_TASK))
        .order_by_asc(tasks::Column::FinishedAt)
}

impl SeaStore {
    pub(super) async fn purge(
        &self,
        ctx: &Ctx,
        now: DateTime<Utc>,
        batch: PurgeBatch,
        dry_run: bool,
    ) -> RepoResult<RetentionReport> {
        let policy = policy_of(&self.db().await, ctx).await?;
        let mut purged = Vec::new();
        // In `RetentionTarget::ALL`'s order: tasks before the messages that keep them, so
        // that a dry run counts the tasks a run deletes.
        for (target, max_age) in policy.rules.named() {
            let older_than = max_age.cutoff(now);
            let rows = self
                .purge_target(ctx, target, older_than, batch, dry_run)
                .await?;
            if rows > 0 {
                tracing::info!(org = %ctx.org(), %target, rows, dry_run, "retention purge");
            }
            purged.push(PurgedRows {
                target,
                table: target.table(),
                max_age,
                older_than,
                rows,
            });
        }
        let report = RetentionReport {
            organization_id: ctx.org(),
            dry_run,
            purged,
        };
        if !dry_run && report.total() > 0 {
            self.mutate(ctx, async |m| {
                m.audit::<retention_policies::Entity>(
                    Verb::Named("purge"),
                    ctx.org(),
                    audited_report(&report),
                )
                .await
            })
            .await?;
        }
        Ok(report)
    }

    async fn purge_target(
        &self,
        ctx: &Ctx,
        target: RetentionTarget,
        older_than: DateTime<Utc>,
        batch: PurgeBatch,
        dry_run: bool,
    ) -> RepoResult<u64> {
        let status = |status| finished_tasks(ctx, status, older_than);
        match target {
            RetentionTarget::SucceededTasks => {
                self.purge_tasks(ctx, target, status(TaskStatus::Succeeded), batch, dry_run)
                    .await
            }
            RetentionTarget::FailedTasks => {
                self.purge_tasks(ctx, target, status(TaskStatus::Failed), batch, dry_run)
                    .await
            }
            RetentionTarget::CancelledTasks => {
                self.purge_tasks(ctx, target, status(TaskStatus::Cancelled), batch, dry_run)
                    .await
            }
            RetentionTarget::Events => {
                let due = scoped::<events::Entity>(ctx)
                    .filter(events::Column::OccurredAt.lt(older_than))
                    .order_by_asc(events::Column::OccurredAt);
                self.purge_rows(ctx, target, due, batch, dry_run).await
            }
            RetentionTarget::Metrics => {
                let due = scoped::<metrics::Entity>(ctx)
                    .filter(metrics::Column::RecordedAt.lt(older_than))
                    .order_by_asc(metrics::Column::RecordedAt);
                self.purge_rows(ctx, target, due, batch, dry_run).await
            }
            RetentionTarget::Messages => {
                let due = scoped::<messages::Entity>(ctx)
                    .filter(messages::Column::CreatedAt.lt(older_than))
                    .order_by_asc(messages::Column::CreatedAt);
                self.purge_rows(ctx, target, due, batch, dry_run).await
            }
            RetentionTarget::Sessions => {
                // Ended: expired, or revoked, before the cutoff.
                let due = scoped::<sessions::Entity>(ctx).filter(
                    Condition::any()
                        .add(sessions::Column::ExpiresAt.lt(older_than))
                        .add(sessions::Column::RevokedAt.lt(older_than)),
                );
                self.purge_rows(ctx, target, due, batch, dry_run).await
            }
            RetentionTarget::AuditLogs => {
                let org = ctx.org().as_uuid();
                if dry_run {
                    return self.purgeable_audit(org, older_than).await;
                }
                let mut total = 0;
                loop {
                    let deleted = self
                        .purge_audit_batch(org, older_than, u64::from(batch.rows()))
                        .await?;
                    if deleted == 0 {
                        return Ok(total);
                    }
                    ::metrics::counter!(DELETED_ROWS, "table" => target.table()).increment(deleted);
                    total += deleted;
                }
            }
        }
    }

    /// Deletes the finished tasks `due` selects, batch after batch; with `dry_run`, counts them.
    async fn purge_tasks(
        &self,
        ctx: &Ctx,
        target: RetentionTarget,
        due: Select<tasks::Entity>,
        batch: PurgeBatch,
        dry_run: bool,
    ) -> RepoResult<u64> {
        if dry_run {
            return self.purge_rows(ctx, target, due, batch, true).await;
        }
        let mut total = 0;
        loop {
            let deleted = self.purge_task_batch(ctx, due.clone(), batch).await?;
            if deleted == 0 {
                return Ok(total);
            }
            ::metrics::counter!(DELETED_ROWS, "table" => target.table()).increment(deleted);
            total += deleted;
        }
    }

    /// One batch of finished tasks, in one transaction: the candidates locked (on PostgreSQL
    /// `FOR UPDATE`: a row written meanwhile that refers to one of them waits for the commit,
    /// then fails on its foreign key, instead of being taken by the cascade), their references
    /// read again under the lock, their reputation events detached from them (an agent's
    /// reputation keeps its events whatever becomes of the task), then the tasks deleted.
    async fn purge_task_batch(
        &self,
        ctx: &Ctx,
        due: Select<tasks::Entity>,
        batch: PurgeBatch,
    ) -> RepoResult<u64> {
        let org = ctx.org().as_uuid();
        self.mutate(ctx, async |m| {
            let mut candidates = due
                .select_only()
                .column(tasks::Column::Id)
                .limit(u64::from(batch.rows()));
            if self.is_postgres() {
                candidates = candidates.lock_exclusive();
            }
            let candidates: Vec<Uuid> =
                candidates.into_tuple().all(m.txn()).await.map_err(db_err)?;
            if candidates.is_empty() {
                return Ok(0);
            }
            // A statement of its own: on PostgreSQL it sees what committed while the locks
            // were awaited.
            let victims: Vec<Uuid> = scoped::<tasks::Entity>(ctx)
                .select_only()
                .column(tasks::Column::Id)
                .filter(tasks::Column::Id.is_in(candidates))
                .filter(Expr::cust(UNREFERENCED_TASK))
                .into_tuple()
                .all(m.txn())
                .await
                .map_err(db_err)?;
            if victims.is_empty() {
                return Ok(0);
            }
            reputation_events::Entity::update_many()
                .col_expr(
                    reputation_events::Column::TaskId,
                    Expr::value(Option::<Uuid>::None),
                )
                .filter(reputation_events::Column::OrganizationId.eq(org))
                .filter(reputation_events::Column::TaskId.is_in(victims.clone()))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
            Ok(tasks::Entity::delete_many()
                .filter(tasks::Column::OrganizationId.eq(org))
                .filter(tasks::Column::Id.is_in(victims))
                .exec(m.txn())
                .await
                .map_err(db_err)?
                .rows_affected)
        })
        .await
    }

    /// Deletes the rows `due` selects, at most `batch` per statement (each statement its own
    /// transaction), until none is left; with `dry_run`, counts them instead.
    async fn purge_rows<E: Tenanted>(
        &self,
        ctx: &Ctx,
        target: RetentionTarget,
        due: Select<E>,
        batch: PurgeBatch,
        dry_run: bool,
    ) -> RepoResult<u64> {
        let ids = due.select_only().column(E::id_column());
        if dry_run {
            let count = Query::select()
                .expr(Expr::cust("COUNT(*)"))
                .from_subquery(ids.into_query(), Alias::new("due"))
                .to_owned();
            let row = self
                .db()
                .await
                .query_one(&count)
                .await
                .map_err(db_err)?
                .ok_or_else(|| RepoError::internal("a count returned no row"))?;
            let rows = row.try_get_by_index::<i64>(0).map_err(db_err)?;
            return u64::try_from(rows).map_err(|e| RepoError::internal(e.to_string()));
        }
        let mut total = 0;
        loop {
            let victims = ids.clone().limit(u64::from(batch.rows())).into_query();
            let deleted = E::delete_many()
                .filter(E::organization_column().eq(ctx.org().as_uuid()))
                .filter(E::id_column().in_subquery(victims))
                .exec(&self.db().await)
                .await
                .map_err(db_err)?
                .rows_affected;
            if deleted == 0 {
                return Ok(total);
            }
            ::metrics::counter!(DELETED_ROWS, "table" => target.table()).increment(deleted);
            total += deleted;
        }
    }
}
