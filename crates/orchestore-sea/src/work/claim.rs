//! Claims: hand queued tasks out under a lease.
//!
//! On PostgreSQL a claim is one transaction of two statements: the first locks the head of the
//! claimable index with `FOR NO KEY UPDATE SKIP LOCKED`, so concurrent claimers skip each
//! other's rows instead of waiting; the second makes those rows running with a fresh token and
//! appends their history. The claim reads the clock and makes its history's ids between the
//! two, once it holds the rows: whatever it follows (a release, an expired lease, a creation)
//! has committed by then, so the run starts after it, its lease runs from then (not from before
//! a wait for a pooled connection), and the history lists the claim after it. SQLite runs the
//! same steps in one immediate write transaction, whose time is read once it holds the lock.

use orchestore_domain::{AgentId, ClaimRequest, ClaimedTask, LeaseToken, TaskId, TaskStatus};
use orchestore_repo::{Ctx, RepoError, RepoResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, Statement,
    Value,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::tasks;
use super::queue::expires;
use super::tasks::to_task;
use super::transitions::Moved;
use crate::SeaStore;
use crate::agents::entity::agents;
use crate::error::{corrupt, db_err};
use crate::scoped::{Lock, string_array};

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

impl SeaStore {
    /// One attempt at claiming, without waiting.
    pub(super) async fn claim_now(
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
    pub(super) async fn unclaimable(&self, ctx: &Ctx, id: TaskId, agent: AgentId) -> RepoError {
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
}
