//! The queue: claims under a lease (the statements are in [`super::claim`]), and the ends of a
//! run fenced by the lease's token.
//!
//! Queue transitions write the task's history (`task_events`: actor, reason, time), not an
//! audit row: the history is the append-only record of every run, and an audit row per claim
//! would double the queue's writes. Operations people perform — cancel and retry — write both.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, Backoff, BatchTask, ClaimRequest, ClaimedTask, Completion, Completions, DomainError,
    Enqueued, LeaseDuration, LeaseToken, NewTask, OrganizationId, Payload, Progress, QueueDepth,
    QueueStats, Revision, Task, TaskId, TaskStatus,
};
use orchestore_repo::{
    CancelledDescendants, Ctx, ExpiredLeases, QueueRepo, RepoError, RepoResult, Retry,
    TaskCancellation,
};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use tokio::time::Instant;
use uuid::Uuid;

use super::enqueue::Recorded;
use super::entity::tasks;
use super::tasks::to_task;
use super::transitions::{CHUNK, Moved};
use crate::SeaStore;
use crate::conn::Conn;
use crate::error::db_err;
use crate::mutation::{Mutation, Verb, diff};
use crate::revision::{Revised, expect_revision, update_revised};
use crate::scoped::Lock;
use crate::work::wakeups::Wakeups;

/// The most expired leases one sweep of an organization handles.
const EXPIRE_BATCH: u64 = 1000;

pub(super) fn expires(at: DateTime<Utc>, lease: LeaseDuration) -> DateTime<Utc> {
    at + chrono::Duration::from_std(lease.get()).unwrap_or(chrono::Duration::MAX)
}

/// Why `token` cannot end a run of the task `row`: the run it belonged to is over.
fn stale(row: &tasks::Model, token: LeaseToken) -> RepoError {
    let reason = match row.status.as_str() {
        "cancelled" => "the task was cancelled".to_owned(),
        "running" if row.lease_token != Some(token.as_uuid()) => {
            "the lease token is not the task's: the lease expired and the task was claimed again"
                .to_owned()
        }
        status => format!("the run of this lease has ended: the task is {status}"),
    };
    RepoError::Stale {
        entity: "task",
        id: row.id.to_string(),
        reason,
    }
}

/// The milliseconds a run took, for its agent's counters.
fn run_millis(row: &tasks::Model, at: DateTime<Utc>) -> i64 {
    row.started_at
        .map(|started| (at - started).num_milliseconds())
        .unwrap_or(0)
}

impl SeaStore {
    /// The running task `id` whose lease is `token`, locked for the rest of the mutation; a
    /// `Stale` error when the lease is not the task's current one.
    pub(super) async fn leased(
        &self,
        m: &Mutation<'_>,
        id: TaskId,
        token: LeaseToken,
    ) -> RepoResult<tasks::Model> {
        let row = self
            .find_scoped::<tasks::Entity>(m.txn(), m.ctx(), id, Lock::ForUpdate)
            .await?;
        if row.status != TaskStatus::Running.as_str() || row.lease_token != Some(token.as_uuid()) {
            return Err(stale(&row, token));
        }
        Ok(row)
    }

    /// Ends the run of `row` (locked, running) in `to`: clears the lease, writes `set`,
    /// appends the event, counts the run for its agent and carries the tasks waiting for it.
    pub(super) async fn end_run(
        &self,
        m: &Mutation<'_>,
        row: tasks::Model,
        to: TaskStatus,
        reason: String,
        set: impl FnOnce(&mut tasks::ActiveModel),
    ) -> RepoResult<Task> {
        use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
        let millis = run_millis(&row, m.at());
        let agent = row.assigned_agent_id.map(AgentId::from_uuid);
        let id = row.id;
        let claim_assigned = row.claim_assigned;
        let revision = row.revision + 1;
        let mut update = row.into_active_model();
        update.revision = Set(revision);
        update.status = Set(to.as_str().to_owned());
        update.lease_token = Set(None);
        update.lease_expires_at = Set(None);
        update.updated_at = Set(m.at());
        update.finished_at = Set(to.ends_a_run().then_some(m.at()));
        if to == TaskStatus::Queued && claim_assigned {
            // Back in the queue, for any capable agent.
            update.assigned_agent_id = Set(None);
            update.claim_assigned = Set(false);
        }
        set(&mut update);
        let after = to_task(update.update(m.txn()).await.map_err(db_err)?)?;
        self.record_events(
            m,
            &[Moved {
                task: id,
                from: Some(TaskStatus::Running),
                to,
                reason,
            }],
        )
        .await?;
        if to == TaskStatus::Queued {
            m.queued_work(1);
        }
        self.follow(m, &[(id, to)]).await?;
        // Last, so that workers of one agent hold its row for as short a time as possible.
        if let Some(agent) = agent {
            self.count_run(m, agent, to, millis).await?;
        }
        Ok(after)
    }

    /// Moves the locked running tasks `rows`, whose lease expired, to `to`.
    async fn expire_to(
        &self,
        m: &Mutation<'_>,
        rows: &[tasks::Model],
        to: TaskStatus,
    ) -> RepoResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        for chunk in ids.chunks(CHUNK) {
            let mut update = tasks::Entity::update_many();
            if to == TaskStatus::Queued {
                // Back in the queue, for any capable agent, unless a person assigned it.
                update = update
                    .col_expr(
                        tasks::Column::AssignedAgentId,
                        Expr::case(
                            Expr::col(tasks::Column::ClaimAssigned).eq(true),
                            Expr::value(None::<Uuid>),
                        )
                        .finally(Expr::col(tasks::Column::AssignedAgentId))
                        .into(),
                    )
                    .col_expr(tasks::Column::ClaimAssigned, Expr::value(false));
            }
            update
                .col_expr(tasks::Column::Status, Expr::value(to.as_str()))
                .col_expr(tasks::Column::LeaseToken, Expr::value(None::<Uuid>))
                .col_expr(
                    tasks::Column::LeaseExpiresAt,
                    Expr::value(None::<DateTime<Utc>>),
                )
                .col_expr(
                    tasks::Column::FinishedAt,
                    Expr::value(to.ends_a_run().then_some(m.at())),
                )
                .col_expr(
                    tasks::Column::Error,
                    Expr::value(json!({ "message": "the lease expired" })),
                )
                .col_expr(tasks::Column::UpdatedAt, Expr::value(m.at()))
                .col_expr(tasks::Column::Revision, tasks::Entity::next_revision())
                .filter(tasks::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
                .filter(tasks::Column::Id.is_in(chunk.iter().copied()))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
        }
        let moves: Vec<Moved> = rows
            .iter()
            .map(|row| {
                let expired = row
                    .lease_expires_at
                    .map(|at| at.to_rfc3339())
                    .unwrap_or_default();
                let reason = if to == TaskStatus::Failed {
                    format!(
                        "the lease expired at {expired} on the last of {} attempts",
                        row.max_attempts
                    )
                } else {
                    format!("the lease expired at {expired}")
                };
                Moved {
                    task: row.id,
                    from: Some(TaskStatus::Running),
                    to,
                    reason,
                }
            })
            .collect();
        self.record_events(m, &moves).await?;
        if to == TaskStatus::Queued {
            m.queued_work(moves.len());
        }
        let changes: Vec<(Uuid, TaskStatus)> = rows.iter().map(|row| (row.id, to)).collect();
        self.follow(m, &changes).await?;
        // Last, as `end_run` does: its agent's row is held for as short a time as possible.
        for row in rows {
            if let Some(agent) = row.assigned_agent_id {
                self.count_run(m, AgentId::from_uuid(agent), to, run_millis(row, m.at()))
                    .await?;
            }
        }
        Ok(())
    }

    /// Whether calls run inside a store transaction, where a claim must not wait.
    pub(crate) fn inside_store_transaction(&self) -> bool {
        matches!(self.conn, Conn::Transaction(_))
    }
}

#[async_trait::async_trait]
impl QueueRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), project = %task.project_id))]
    async fn enqueue_task(&self, ctx: &Ctx, task: NewTask) -> RepoResult<Enqueued> {
        let task = match self.create_plain_task(ctx, task).await? {
            Ok(created) => return Ok(created),
            Err(task) => task,
        };
        let mut answer = self
            .enqueue(ctx, vec![task.into()], Recorded::Create)
            .await
            .map_err(|err| match err {
                // One task: its errors are the call's own.
                RepoError::InBatch { error, .. } => *error,
                other => other,
            })?;
        answer
            .pop()
            .ok_or_else(|| RepoError::internal("an enqueue of one task answered none"))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), count = tasks.len()))]
    async fn enqueue_tasks(&self, ctx: &Ctx, tasks: Vec<BatchTask>) -> RepoResult<Vec<Enqueued>> {
        self.enqueue(ctx, tasks, Recorded::Batch).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %request.agent))]
    async fn claim_tasks(&self, ctx: &Ctx, request: ClaimRequest) -> RepoResult<Vec<ClaimedTask>> {
        let wait = if self.inside_store_transaction() {
            Duration::ZERO
        } else {
            request.wait.get()
        };
        let deadline = Instant::now() + wait;
        let org = ctx.org().as_uuid();
        if self.is_postgres() && !wait.is_zero() {
            self.wakeups.listen(&self.pool).await;
        }
        let mut swept = false;
        let mut woken = None;
        loop {
            // Registered before looking, so that work queued after the look still wakes it.
            let waiting = (!wait.is_zero()).then(|| self.wakeups.wait(org, woken.take()));
            let claimed = self.claim_now(ctx, request, None).await?;
            if !claimed.is_empty() {
                if let Some(waiting) = waiting {
                    waiting.took(claimed.len());
                }
                return Ok(claimed);
            }
            if !swept {
                swept = true;
                if !self.expire_leases(ctx).await?.requeued.is_empty() {
                    continue;
                }
            }
            let now = Instant::now();
            let Some(waiting) = waiting.filter(|_| now < deadline) else {
                return Ok(Vec::new());
            };
            woken = waiting
                .woken_within((deadline - now).min(Wakeups::RECHECK))
                .await;
        }
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id, agent = %agent))]
    async fn claim_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        agent: AgentId,
        lease: LeaseDuration,
    ) -> RepoResult<ClaimedTask> {
        let request = ClaimRequest {
            lease,
            ..ClaimRequest::one(agent)
        };
        match self.claim_now(ctx, request, Some(id)).await?.pop() {
            Some(claimed) => Ok(claimed),
            None => Err(self.unclaimable(ctx, id, agent).await),
        }
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn heartbeat_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        token: LeaseToken,
        lease: LeaseDuration,
        progress: Option<Progress>,
    ) -> RepoResult<Task> {
        let at = crate::store::now();
        let mut update = tasks::Entity::update_many()
            .col_expr(
                tasks::Column::LeaseExpiresAt,
                Expr::value(expires(at, lease)),
            )
            .col_expr(tasks::Column::UpdatedAt, Expr::value(at))
            .col_expr(tasks::Column::Revision, tasks::Entity::next_revision());
        if let Some(progress) = progress {
            update = update.col_expr(
                tasks::Column::Progress,
                Expr::value(i16::from(progress.get())),
            );
        }
        let db = self.db().await;
        let rows = update
            .filter(tasks::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(tasks::Column::Id.eq(id.as_uuid()))
            .filter(tasks::Column::Status.eq(TaskStatus::Running.as_str()))
            .filter(tasks::Column::LeaseToken.eq(token.as_uuid()))
            .exec_with_returning(&db)
            .await
            .map_err(db_err)?;
        match rows.into_iter().next() {
            Some(row) => to_task(row),
            None => {
                let row = self
                    .find_scoped::<tasks::Entity>(&db, ctx, id, Lock::None)
                    .await?;
                Err(stale(&row, token))
            }
        }
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn complete_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        token: LeaseToken,
        result: Option<Payload>,
    ) -> RepoResult<Task> {
        let completion = Completion {
            task: id,
            lease_token: token,
            result,
        };
        self.complete(ctx, Completions::parse(vec![completion])?)
            .await?
            .pop()
            .unwrap_or_else(|| Err(RepoError::internal("a completion was answered by nothing")))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), count = completions.len()))]
    async fn complete_tasks(
        &self,
        ctx: &Ctx,
        completions: Completions,
    ) -> RepoResult<Vec<RepoResult<Task>>> {
        self.complete(ctx, completions).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn fail_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        token: LeaseToken,
        error: Option<Payload>,
        retry: Retry,
    ) -> RepoResult<Task> {
        self.mutate(ctx, async |m| {
            use sea_orm::Set;
            let row = self.leased(m, id, token).await?;
            let attempts = u32::try_from(row.attempts).unwrap_or(0);
            let max = u32::try_from(row.max_attempts).unwrap_or(1);
            let error = error.map(Payload::into_value);
            if retry == Retry::Never || attempts >= max {
                let reason = if retry == Retry::Never {
                    format!("attempt {attempts} failed and is not to be retried")
                } else {
                    format!("attempt {attempts} of {max} failed: no attempts left")
                };
                return self
                    .end_run(m, row, TaskStatus::Failed, reason, |update| {
                        update.error = Set(error);
                    })
                    .await;
            }
            let delay = Backoff::DEFAULT.delay(attempts, rand::random::<f64>());
            let run_after =
                m.at() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
            let reason = format!(
                "attempt {attempts} of {max} failed: retried after {} ms",
                delay.as_millis()
            );
            self.end_run(m, row, TaskStatus::Queued, reason, |update| {
                update.error = Set(error);
                update.run_after = Set(Some(run_after));
            })
            .await
        })
        .await
        .inspect(|task| super::queue_metrics::failed(task.status))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn release_task(&self, ctx: &Ctx, id: TaskId, token: LeaseToken) -> RepoResult<Task> {
        self.mutate(ctx, async |m| {
            use sea_orm::Set;
            let row = self.leased(m, id, token).await?;
            let attempts = Ord::max(row.attempts - 1, 0);
            self.end_run(
                m,
                row,
                TaskStatus::Queued,
                "released by its worker; the attempt is not counted".to_owned(),
                |update| update.attempts = Set(attempts),
            )
            .await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn cancel_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        reason: Option<String>,
        expected: Option<Revision>,
    ) -> RepoResult<TaskCancellation> {
        self.mutate(ctx, async |m| {
            use sea_orm::{IntoActiveModel, Set};
            let row = self
                .find_scoped::<tasks::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<tasks::Entity>(id, read, expected)?;
            let before = to_task(row.clone())?;
            before.status.check_transition(TaskStatus::Cancelled)?;
            let mut update = row.into_active_model();
            update.status = Set(TaskStatus::Cancelled.as_str().to_owned());
            update.lease_token = Set(None);
            update.lease_expires_at = Set(None);
            update.finished_at = Set(Some(m.at()));
            update.updated_at = Set(m.at());
            let after =
                to_task(update_revised(m.txn(), id, update, read, expected, db_err).await?)?;
            let reason = reason.unwrap_or_else(|| "cancelled".to_owned());
            self.record_events(
                m,
                &[Moved {
                    task: id.as_uuid(),
                    from: Some(before.status),
                    to: TaskStatus::Cancelled,
                    reason: reason.clone(),
                }],
            )
            .await?;
            let mut changes = diff(&before, &after);
            if let Some(object) = changes.as_object_mut() {
                object.insert("reason".to_owned(), json!(reason));
            }
            let root: BTreeSet<Uuid> = [id.as_uuid()].into();
            let cascade = self
                .cancel_descendants(m, &root, &root, &format!("cancellation of task {id}"))
                .await?;
            // The executions the cancelled tasks run steps of, that were not started from them.
            let mut ended = vec![(id.as_uuid(), TaskStatus::Cancelled)];
            ended.extend(cascade.tasks.iter().map(|&t| (t, TaskStatus::Cancelled)));
            self.follow_executions(m, &ended).await?;
            let descendants = CancelledDescendants {
                tasks: cascade.tasks.len() as u64,
                workflow_executions: cascade.executions.len() as u64,
            };
            cascade.annotate(&mut changes);
            m.audit::<tasks::Entity>(Verb::Status(TaskStatus::Cancelled.as_str()), id, changes)
                .await?;
            Ok(TaskCancellation {
                task: after,
                descendants,
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn retry_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<Task> {
        self.mutate(ctx, async |m| {
            use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
            let row = self
                .find_scoped::<tasks::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let before = to_task(row.clone())?;
            if before.status != TaskStatus::Failed {
                return Err(DomainError::invalid(
                    "status",
                    format!(
                        "the task is {}: only a failed task is retried",
                        before.status
                    ),
                )
                .into());
            }
            self.refuse_rerunning_a_step(m, id).await?;
            let claim_assigned = row.claim_assigned;
            let revision = row.revision + 1;
            let mut update = row.into_active_model();
            update.revision = Set(revision);
            update.status = Set(TaskStatus::Queued.as_str().to_owned());
            update.attempts = Set(0);
            if claim_assigned {
                update.assigned_agent_id = Set(None);
                update.claim_assigned = Set(false);
            }
            update.run_after = Set(None);
            update.finished_at = Set(None);
            update.updated_at = Set(m.at());
            let after = to_task(update.update(m.txn()).await.map_err(db_err)?)?;
            self.record_events(
                m,
                &[Moved {
                    task: id.as_uuid(),
                    from: Some(TaskStatus::Failed),
                    to: TaskStatus::Queued,
                    reason: format!(
                        "retried by hand after {} attempts: a fresh series of {}",
                        before.attempts,
                        before.max_attempts.get()
                    ),
                }],
            )
            .await?;
            m.queued_work(1);
            m.audit::<tasks::Entity>(Verb::Named("retry"), id, diff(&before, &after))
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn expire_leases(&self, ctx: &Ctx) -> RepoResult<ExpiredLeases> {
        self.mutate(ctx, async |m| {
            let mut query = tasks::Entity::find()
                .filter(tasks::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(tasks::Column::Status.eq(TaskStatus::Running.as_str()))
                .filter(tasks::Column::LeaseExpiresAt.lt(m.at()))
                .order_by_asc(tasks::Column::LeaseExpiresAt)
                .limit(EXPIRE_BATCH);
            if self.is_postgres() {
                // A run being ended right now is left to end.
                query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
            }
            let rows = query.all(m.txn()).await.map_err(db_err)?;
            let (failed, requeued): (Vec<_>, Vec<_>) = rows
                .into_iter()
                .partition(|row| row.attempts >= row.max_attempts);
            self.expire_to(m, &requeued, TaskStatus::Queued).await?;
            self.expire_to(m, &failed, TaskStatus::Failed).await?;
            let ids =
                |rows: &[tasks::Model]| rows.iter().map(|r| TaskId::from_uuid(r.id)).collect();
            Ok(ExpiredLeases {
                requeued: ids(&requeued),
                failed: ids(&failed),
            })
        })
        .await
        .inspect(|expired| {
            super::queue_metrics::leases_expired(expired.requeued.len(), expired.failed.len());
        })
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn queue_stats(&self, ctx: &Ctx) -> RepoResult<QueueStats> {
        self.read_queue_stats(ctx).await
    }

    async fn queue_depth(&self) -> RepoResult<QueueDepth> {
        self.read_queue_depth().await
    }

    async fn organizations_with_expired_leases(
        &self,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>> {
        let orgs: Vec<Uuid> = tasks::Entity::find()
            .select_only()
            .column(tasks::Column::OrganizationId)
            .distinct()
            .filter(tasks::Column::Status.eq(TaskStatus::Running.as_str()))
            .filter(tasks::Column::LeaseExpiresAt.lt(crate::store::now()))
            .limit(u64::from(limit))
            .into_tuple()
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let unique: BTreeSet<Uuid> = orgs.into_iter().collect();
        Ok(unique.into_iter().map(OrganizationId::from_uuid).collect())
    }
}
