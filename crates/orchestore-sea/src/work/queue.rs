//! The queue: claims under a lease, and the ends of a run fenced by the lease's token.
//!
//! A claim on PostgreSQL is one transaction of two statements: the first locks the head of the
//! claimable index with `FOR NO KEY UPDATE SKIP LOCKED`, so concurrent claimers skip each
//! other's rows instead of waiting; the second makes those rows running with a fresh token and
//! appends their history. The claim reads the clock and makes its history's ids between the
//! two, once it holds the rows: whatever it follows (a release, an expired lease, a creation)
//! has committed by then, so the run starts after it, its lease runs from then (not from before
//! a wait for a pooled connection), and the history lists the claim after it. SQLite runs the
//! same steps in one immediate write transaction, whose time is read once it holds the lock.
//!
//! Queue transitions write the task's history (`task_events`: actor, reason, time), not an
//! audit row: the history is the append-only record of every run, and an audit row per claim
//! would double the queue's writes. Operations people perform — cancel and retry — write both.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, Backoff, BatchTask, ClaimRequest, ClaimedTask, DomainError, Enqueued, LeaseDuration,
    LeaseToken, NewTask, OrganizationId, Payload, Progress, QueueStats, Task, TaskId, TaskStatus,
};
use orchestore_repo::{Ctx, ExpiredLeases, QueueRepo, RepoError, RepoResult, Retry};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Statement, Value,
};
use serde_json::json;
use tokio::time::Instant;
use uuid::Uuid;

use super::enqueue::Recorded;
use super::entity::tasks;
use super::tasks::to_task;
use super::transitions::{CHUNK, Moved};
use crate::SeaStore;
use crate::agents::entity::agents;
use crate::conn::Conn;
use crate::error::{corrupt, db_err};
use crate::mutation::{Mutation, Verb, diff};
use crate::scoped::{Lock, string_array};
use crate::work::wakeups::Wakeups;

/// The most expired leases one sweep of an organization handles.
const EXPIRE_BATCH: u64 = 1000;

/// A claim counts as its agent's heartbeat; `last_heartbeat_at` is written at most this often
/// (seconds), so that busy workers do not queue on their agent's row.
const HEARTBEAT_GRANULARITY: i64 = 5;

/// An inactive agent claims nothing: a `Conflict` saying so.
fn refuse_inactive(agent: &agents::Model) -> RepoResult<()> {
    if agent.status == orchestore_domain::AgentStatus::Inactive.as_str() {
        return Err(RepoError::conflict(
            "agent",
            format!("agent {} is inactive: it claims no task", agent.id),
        ));
    }
    Ok(())
}

/// The first statement of a claim on PostgreSQL: locks the tasks to claim, in claim order.
/// `$1` organization, `$2` now, `$3` agent, `$4` limit, `$5` one task id or NULL for any. An
/// agent the organization does not have, or an inactive one, matches nothing.
///
/// A task that requires nothing is tested apart (`= '[]'`, which the statistics estimate
/// well) rather than by `<@` alone, which the planner guesses matches a small share of the
/// rows: then it reads the claimable index in claim order and stops at the limit, instead of
/// sorting every queued task of the organization at each claim.
const PICK_POSTGRES: &str = "\
SELECT t.id FROM tasks t
WHERE t.organization_id = $1 AND t.status = 'queued'
  AND ($5::uuid IS NULL OR t.id = $5::uuid)
  AND (t.run_after IS NULL OR t.run_after <= $2)
  AND (t.assigned_agent_id IS NULL OR t.assigned_agent_id = $3)
  AND EXISTS (SELECT 1 FROM agents a
      WHERE a.organization_id = $1 AND a.id = $3 AND a.status <> 'inactive')
  AND (t.required_capabilities = '[]'::jsonb OR t.required_capabilities <@ (
      SELECT a.capabilities FROM agents a WHERE a.organization_id = $1 AND a.id = $3))
ORDER BY t.priority DESC, t.created_at, t.id
LIMIT $4
FOR NO KEY UPDATE SKIP LOCKED";

/// The second statement of a claim on PostgreSQL: the locked tasks become running and their
/// history is appended. `$1` organization, `$2` now, `$3` agent, `$4` lease end, `$5` actor,
/// `$6` reason, `$7` the tasks' ids (a JSON array), `$8` the history events' ids (a JSON array
/// of as many time-ordered UUIDs, so that the history lists in order), `$9` the time before
/// which the agent's last heartbeat is refreshed (a claim that takes work counts as one).
const CLAIM_POSTGRES: &str = "\
WITH claimed AS (
    UPDATE tasks t SET status = 'running', claim_assigned = (t.assigned_agent_id IS NULL),
        assigned_agent_id = $3, attempts = t.attempts + 1,
        lease_token = gen_random_uuid(), lease_expires_at = $4, started_at = $2,
        finished_at = NULL, updated_at = $2
    WHERE t.organization_id = $1
      AND t.id = ANY (ARRAY(SELECT p.id::uuid FROM jsonb_array_elements_text($7::jsonb) p(id)))
      AND t.status = 'queued'
    RETURNING t.*
), history AS (
    INSERT INTO task_events
        (organization_id, id, task_id, from_status, to_status, actor, reason, created_at)
    SELECT c.organization_id, e.id::uuid, c.id, 'queued', 'running', $5, $6, $2
    FROM (SELECT organization_id, id, row_number() OVER () AS n FROM claimed) c
    JOIN jsonb_array_elements_text($8::jsonb) WITH ORDINALITY AS e(id, n) ON e.n = c.n
), seen AS (
    UPDATE agents SET last_heartbeat_at = $2
    WHERE organization_id = $1 AND id = $3
      AND (last_heartbeat_at IS NULL OR last_heartbeat_at < $9)
)
SELECT * FROM claimed ORDER BY priority DESC, created_at, id";

/// The claim on SQLite, inside a write transaction. `?1` organization, `?2` now, `?3` agent,
/// `?4` limit, `?5` lease end, `?6` the agent's capabilities (a JSON array), `?7` one task id
/// or NULL. A lease token is 16 random bytes, which is how SQLite stores a UUID.
const CLAIM_SQLITE: &str = "\
UPDATE tasks SET status = 'running', claim_assigned = (assigned_agent_id IS NULL),
    assigned_agent_id = ?3, attempts = attempts + 1,
    lease_token = randomblob(16), lease_expires_at = ?5, started_at = ?2,
    finished_at = NULL, updated_at = ?2
WHERE organization_id = ?1 AND id IN (
    SELECT t.id FROM tasks t
    WHERE t.organization_id = ?1 AND t.status = 'queued'
      AND (?7 IS NULL OR t.id = ?7)
      AND (t.run_after IS NULL OR t.run_after <= ?2)
      AND (t.assigned_agent_id IS NULL OR t.assigned_agent_id = ?3)
      AND NOT EXISTS (
          SELECT 1 FROM json_each(t.required_capabilities) r
          WHERE r.value NOT IN (SELECT c.value FROM json_each(?6) c))
    ORDER BY t.priority DESC, t.created_at, t.id
    LIMIT ?4)
RETURNING *";

fn claimed_task(row: tasks::Model) -> RepoResult<ClaimedTask> {
    let token = row
        .lease_token
        .ok_or_else(|| corrupt("task", "a claimed task has no lease token"))?;
    Ok(ClaimedTask {
        task: to_task(row)?,
        lease_token: LeaseToken::from_uuid(token),
    })
}

/// `n` new history event ids, in time order, as a JSON array.
fn event_ids(n: u32) -> String {
    let ids: Vec<String> = (0..n)
        .map(|_| orchestore_domain::TaskEventId::new().to_string())
        .collect();
    json!(ids).to_string()
}

fn expires(at: DateTime<Utc>, lease: LeaseDuration) -> DateTime<Utc> {
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
    /// One attempt at claiming, without waiting.
    async fn claim_now(
        &self,
        ctx: &Ctx,
        request: ClaimRequest,
        only: Option<TaskId>,
    ) -> RepoResult<Vec<ClaimedTask>> {
        if self.is_postgres() {
            self.claim_postgres(ctx, request, only).await
        } else {
            self.claim_sqlite(ctx, request, only).await
        }
    }

    async fn claim_postgres(
        &self,
        ctx: &Ctx,
        request: ClaimRequest,
        only: Option<TaskId>,
    ) -> RepoResult<Vec<ClaimedTask>> {
        let agent = request.agent;
        self.mutate(ctx, async |m| {
            let pick = Statement::from_sql_and_values(
                DbBackend::Postgres,
                PICK_POSTGRES,
                [
                    ctx.org().as_uuid().into(),
                    m.at().into(),
                    agent.as_uuid().into(),
                    i64::from(request.limit.get()).into(),
                    only.map(|id| id.as_uuid()).into(),
                ],
            );
            let picked = m
                .txn()
                .query_all_raw(pick)
                .await
                .map_err(db_err)?
                .iter()
                .map(|row| row.try_get_by_index::<Uuid>(0).map_err(db_err))
                .collect::<RepoResult<Vec<Uuid>>>()?;
            if picked.is_empty() {
                // Say so if the agent is what is missing or inactive.
                let agent_row = self.agent_for(m, "agent_id", agent).await?;
                refuse_inactive(&agent_row)?;
                return Ok(Vec::new());
            }
            // Read once the tasks are held: see the module's documentation.
            let at = crate::store::now();
            let count = u32::try_from(picked.len()).unwrap_or(u32::MAX);
            let values: Vec<Value> = vec![
                ctx.org().as_uuid().into(),
                at.into(),
                agent.as_uuid().into(),
                expires(at, request.lease).into(),
                ctx.actor().to_string().into(),
                format!("claimed by agent {agent}").into(),
                json!(picked).to_string().into(),
                event_ids(count).into(),
                (at - chrono::Duration::seconds(HEARTBEAT_GRANULARITY)).into(),
            ];
            let claim = Statement::from_sql_and_values(DbBackend::Postgres, CLAIM_POSTGRES, values);
            m.txn()
                .query_all_raw(claim)
                .await
                .map_err(db_err)?
                .iter()
                .map(|row| tasks::Model::from_query_result(row, "").map_err(db_err))
                .map(|row| row.and_then(claimed_task))
                .collect::<RepoResult<Vec<_>>>()
        })
        .await
    }

    async fn claim_sqlite(
        &self,
        ctx: &Ctx,
        request: ClaimRequest,
        only: Option<TaskId>,
    ) -> RepoResult<Vec<ClaimedTask>> {
        let agent = request.agent;
        self.mutate(ctx, async |m| {
            let agent_row = self.agent_for(m, "agent_id", agent).await?;
            refuse_inactive(&agent_row)?;
            let stale_heartbeat = agent_row
                .last_heartbeat_at
                .is_none_or(|at| m.at() - at >= chrono::Duration::seconds(HEARTBEAT_GRANULARITY));
            if stale_heartbeat {
                agents::Entity::update_many()
                    .col_expr(agents::Column::LastHeartbeatAt, Expr::value(m.at()))
                    .filter(agents::Column::OrganizationId.eq(ctx.org().as_uuid()))
                    .filter(agents::Column::Id.eq(agent.as_uuid()))
                    .exec(m.txn())
                    .await
                    .map_err(db_err)?;
            }
            let values: Vec<Value> = vec![
                ctx.org().as_uuid().into(),
                m.at().into(),
                agent.as_uuid().into(),
                i64::from(request.limit.get()).into(),
                expires(m.at(), request.lease).into(),
                agent_row.capabilities.to_string().into(),
                only.map(|id| id.as_uuid()).into(),
            ];
            let statement = Statement::from_sql_and_values(DbBackend::Sqlite, CLAIM_SQLITE, values);
            let rows = m.txn().query_all_raw(statement).await.map_err(db_err)?;
            let mut claimed = rows
                .iter()
                .map(|row| tasks::Model::from_query_result(row, "").map_err(db_err))
                .map(|row| row.and_then(claimed_task))
                .collect::<RepoResult<Vec<_>>>()?;
            claimed.sort_by(|a, b| {
                (b.task.priority, a.task.created_at, a.task.id).cmp(&(
                    a.task.priority,
                    b.task.created_at,
                    b.task.id,
                ))
            });
            let moves: Vec<Moved> = claimed
                .iter()
                .map(|c| Moved {
                    task: c.task.id.as_uuid(),
                    from: Some(TaskStatus::Queued),
                    to: TaskStatus::Running,
                    reason: format!("claimed by agent {agent}"),
                })
                .collect();
            self.record_events(m, &moves).await?;
            Ok(claimed)
        })
        .await
    }

    /// Why the queued-task claim of `id` by `agent` took nothing.
    async fn unclaimable(&self, ctx: &Ctx, id: TaskId, agent: AgentId) -> RepoError {
        let db = self.db().await;
        let row = match self
            .find_scoped::<tasks::Entity>(&db, ctx, id, Lock::None)
            .await
        {
            Ok(row) => row,
            Err(e) => return e,
        };
        let agent_row = match self
            .find_scoped::<agents::Entity>(&db, ctx, agent, Lock::None)
            .await
        {
            Ok(row) => row,
            Err(_) => return RepoError::reference("agent_id", "agent", agent),
        };
        if let Err(inactive) = refuse_inactive(&agent_row) {
            return inactive;
        }
        let conflict = |reason: String| RepoError::conflict("task", reason);
        if row.status != TaskStatus::Queued.as_str() {
            return conflict(format!(
                "the task is {}: only a queued task is claimed",
                row.status
            ));
        }
        if let Some(run_after) = row.run_after
            && run_after > crate::store::now()
        {
            return conflict(format!(
                "the task is not to run before {}",
                run_after.to_rfc3339()
            ));
        }
        if let Some(assigned) = row.assigned_agent_id
            && assigned != agent.as_uuid()
        {
            return conflict(format!("the task is assigned to agent {assigned}"));
        }
        let offered = string_array(&agent_row.capabilities).unwrap_or_default();
        let missing: Vec<String> = string_array(&row.required_capabilities)
            .unwrap_or_default()
            .into_iter()
            .filter(|c| !offered.contains(c))
            .collect();
        if !missing.is_empty() {
            return conflict(format!(
                "agent {agent} lacks the capabilities the task requires: {}",
                missing.join(", ")
            ));
        }
        conflict("another worker claimed the task at the same moment".to_owned())
    }

    /// The running task `id` whose lease is `token`, locked for the rest of the mutation; a
    /// `Stale` error when the lease is not the task's current one.
    async fn leased(
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
    async fn end_run(
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
        let mut update = row.into_active_model();
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
            m.queued_work();
        }
        self.follow_status(m, id, to).await?;
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
            m.queued_work();
        }
        for row in rows {
            if let Some(agent) = row.assigned_agent_id {
                self.count_run(m, AgentId::from_uuid(agent), to, run_millis(row, m.at()))
                    .await?;
            }
            self.follow_status(m, row.id, to).await?;
        }
        Ok(())
    }

    /// Whether calls run inside a store transaction, where a claim must not wait.
    fn inside_store_transaction(&self) -> bool {
        matches!(self.conn, Conn::Transaction(_))
    }
}

#[async_trait::async_trait]
impl QueueRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), project = %task.project_id))]
    async fn enqueue_task(&self, ctx: &Ctx, task: NewTask) -> RepoResult<Enqueued> {
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
        loop {
            // Subscribed before looking, so that work queued after the look still wakes us.
            let notify = self.wakeups.subscribe(org);
            let woken = notify.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let claimed = self.claim_now(ctx, request, None).await?;
            if !claimed.is_empty() {
                return Ok(claimed);
            }
            if !swept {
                swept = true;
                if !self.expire_leases(ctx).await?.requeued.is_empty() {
                    continue;
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            let pause = (deadline - now).min(Wakeups::RECHECK);
            tokio::select! {
                () = &mut woken => {}
                () = tokio::time::sleep(pause) => {}
            }
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
            .col_expr(tasks::Column::UpdatedAt, Expr::value(at));
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
        self.mutate(ctx, async |m| {
            use sea_orm::Set;
            let row = self.leased(m, id, token).await?;
            let reason = match row.assigned_agent_id {
                Some(agent) => format!("completed by agent {agent}"),
                None => "completed".to_owned(),
            };
            self.end_run(m, row, TaskStatus::Succeeded, reason, |update| {
                update.result = Set(result.map(Payload::into_value));
                update.error = Set(None);
                update.progress = Set(i16::from(Progress::MAX));
            })
            .await
        })
        .await
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
    async fn cancel_task(&self, ctx: &Ctx, id: TaskId, reason: Option<String>) -> RepoResult<Task> {
        self.mutate(ctx, async |m| {
            use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
            let row = self
                .find_scoped::<tasks::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let before = to_task(row.clone())?;
            before.status.check_transition(TaskStatus::Cancelled)?;
            let mut update = row.into_active_model();
            update.status = Set(TaskStatus::Cancelled.as_str().to_owned());
            update.lease_token = Set(None);
            update.lease_expires_at = Set(None);
            update.finished_at = Set(Some(m.at()));
            update.updated_at = Set(m.at());
            let after = to_task(update.update(m.txn()).await.map_err(db_err)?)?;
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
            self.follow_status(m, id.as_uuid(), TaskStatus::Cancelled)
                .await?
                .annotate(&mut changes);
            m.audit::<tasks::Entity>(Verb::Status(TaskStatus::Cancelled.as_str()), id, changes)
                .await?;
            Ok(after)
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
            let claim_assigned = row.claim_assigned;
            let mut update = row.into_active_model();
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
            m.queued_work();
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
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn queue_stats(&self, ctx: &Ctx) -> RepoResult<QueueStats> {
        self.read_queue_stats(ctx).await
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
