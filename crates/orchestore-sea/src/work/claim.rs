//! Claims: hand queued tasks out under a lease.
//!
//! On PostgreSQL a claim is one statement outside any transaction (one round trip): it locks
//! the head of the claimable index with `FOR NO KEY UPDATE SKIP LOCKED`, makes those rows
//! running with a fresh token, appends their history and refreshes the agent's heartbeat; the
//! plain claims that arrive together share one such statement (`work::claim_together`). SQLite
//! runs the same steps in one immediate write transaction, whose time is read once it holds the
//! lock.

use orchestore_domain::{
    AgentId, ClaimRequest, ClaimedTask, LeaseToken, OrganizationId, TaskEventId, TaskId, TaskStatus,
};
use orchestore_repo::{Ctx, RepoError, RepoResult};
use sea_orm::sea_query::Expr;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryResult, Statement,
    Value,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::tasks;
use super::fairness_keys::KEYLESS;
use super::queue::expires;
use super::tasks::to_task;
use super::transitions::Moved;
use crate::SeaStore;
use crate::agents::entity::agents;
use crate::direct::Planned;
use crate::error::{corrupt, db_err};
use crate::lean_pool::Lent;
use crate::revision::Revised;
use crate::scoped::{Lock, string_array};

/// A claim counts as its agent's heartbeat; `last_heartbeat_at` is written at most this often
/// (seconds), so that busy workers do not queue on their agent's row.
pub(super) const HEARTBEAT_GRANULARITY: i64 = 5;

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

/// Whether a rate-limited task waits in organization `$1` at `$2` (PostgreSQL): one probe of
/// the partial index of such tasks. The plain claims take nothing then (see [`claim_postgres`]).
macro_rules! rate_limited_waiting {
    () => {
        "EXISTS (SELECT 1 FROM tasks r
          WHERE r.organization_id = $1 AND r.status = 'queued' AND r.rate_limits <> '[]'::jsonb
            AND (r.run_after IS NULL OR r.run_after <= $2))"
    };
}
pub(super) use rate_limited_waiting;

/// Whether a task with a fairness key waits in organization `$1` at `$2` (PostgreSQL): the
/// plain claims take nothing then (see [`claim_postgres`]).
macro_rules! fairness_key_waiting {
    () => {
        "EXISTS (SELECT 1 FROM tasks f
          WHERE f.organization_id = $1 AND f.status = 'queued' AND f.fairness_key IS NOT NULL
            AND (f.run_after IS NULL OR f.run_after <= $2))"
    };
}
pub(super) use fairness_key_waiting;

/// Whether task `t`'s concurrency key has room (PostgreSQL), as the statement's snapshot counts
/// it; the key's trigger makes the limit exact (see `work::concurrency`).
macro_rules! concurrency_room {
    () => {
        "(t.concurrency_key IS NULL OR (SELECT count(*) FROM tasks r
          WHERE r.organization_id = $1 AND r.concurrency_key = t.concurrency_key
            AND r.status = 'running') < (SELECT k.max_running FROM task_concurrency_keys k
          WHERE k.organization_id = $1 AND k.key = t.concurrency_key))"
    };
}
pub(super) use concurrency_room;

/// A claim on PostgreSQL: one statement, outside any transaction. `$1` organization, `$2` now,
/// `$3` agent, `$4` limit, `$5` one task id or NULL for any, `$6` the lease in seconds, `$7`
/// actor, `$8` reason, `$9` ids for the history events (a JSON array of `$4` time-ordered
/// UUIDs), `$10` the time before which the agent's last heartbeat is refreshed (a claim that
/// takes work counts as one), `$11` the rate-limited tasks it may take (a JSON array of ids
/// whose tokens the claim set aside, see `rate_limits.rs`) or NULL. An agent the organization
/// does not have, or an inactive one, matches nothing. With `$11` NULL, the plain claim, it
/// takes only tasks that consume no rate limit, and nothing at all while a rate-limited task
/// waits (one probe of the partial index of such tasks): the caller then claims through the
/// rate-limited path, so that both kinds are taken in one claim order.
///
/// `picked` locks the head of the claimable index with `FOR NO KEY UPDATE SKIP LOCKED`, so
/// concurrent claimers skip each other's rows instead of waiting (materialized, so that it runs
/// once); `claimed` finds them again by key (`= ANY` an array: a primary-key lookup whatever
/// the statistics say, where a join may be planned as a scan of the organization's tasks). A task that requires nothing is tested apart (`= '[]'`, which the statistics estimate
/// well) rather than by `<@` alone, which the planner guesses matches a small share of the rows:
/// then it reads the claimable index in claim order and stops at the limit, instead of sorting
/// every queued task of the organization.
///
/// A run starts at `$2`, or just after the task's last change if that is later: `$2` is read
/// before the statement, and whatever made the task claimable (a release, an expired lease, a
/// creation) may have committed after that read but before the statement's snapshot. The run
/// and its history event's time then still follow it, and its lease runs from the run's start.
/// A task of a concurrency key that has its limit running, as this statement's snapshot counts
/// it, is left out; the key's trigger (see `work::concurrency`) makes the limit exact.
/// Each row comes with its history event's id (`claim_event_id`), and whether the task already
/// had an event with a later id (`claim_event_early`: the id was made before the change that
/// freed the task made its own), so that the claim can give it a new one (see
/// `claim_postgres`).
///
/// `$group` narrows the tasks it takes: for the plain claim, to none at all while a task with a
/// fairness key waits (one probe of the partial index of such tasks, unless the claim is of one
/// task or through the rate-limited path): the caller then claims through the fair path, which
/// narrows the same statement to one group of the rotation and one priority (see
/// `work::fairness_keys`).
macro_rules! claim_postgres {
    ($group:expr) => {
        concat!(
            "\
WITH picked AS MATERIALIZED (
    SELECT t.id FROM tasks t
    WHERE t.organization_id = $1 AND t.status = 'queued'
      AND ($5::uuid IS NULL OR t.id = $5::uuid)
      AND (t.run_after IS NULL OR t.run_after <= $2)
      AND (t.assigned_agent_id IS NULL OR t.assigned_agent_id = $3)
      AND EXISTS (SELECT 1 FROM agents a
          WHERE a.organization_id = $1 AND a.id = $3 AND a.status <> 'inactive')
      AND (t.required_capabilities = '[]'::jsonb OR t.required_capabilities <@ (
          SELECT a.capabilities FROM agents a WHERE a.organization_id = $1 AND a.id = $3))
      AND (t.rate_limits = '[]'::jsonb
          OR t.id = ANY (ARRAY(SELECT jsonb_array_elements_text($11::jsonb)::uuid)))
      AND ($11::jsonb IS NOT NULL OR NOT ",
            rate_limited_waiting!(),
            ")
      AND ",
            concurrency_room!(),
            "
      ",
            $group,
            "
    ORDER BY t.priority DESC, t.created_at, t.id
    LIMIT $4
    FOR NO KEY UPDATE SKIP LOCKED
), claimed AS (
    UPDATE tasks t SET status = 'running', claim_assigned = (t.assigned_agent_id IS NULL),
        assigned_agent_id = $3, attempts = t.attempts + 1, lease_token = gen_random_uuid(),
        lease_expires_at = greatest($2, t.updated_at + interval '1 microsecond')
            + make_interval(secs => $6),
        started_at = greatest($2, t.updated_at + interval '1 microsecond'), finished_at = NULL,
        updated_at = greatest($2, t.updated_at + interval '1 microsecond'),
        revision = t.revision + 1
    WHERE t.organization_id = $1 AND t.id = ANY (ARRAY(SELECT p.id FROM picked p))
    RETURNING t.*
), history AS (
    INSERT INTO task_events
        (organization_id, id, task_id, from_status, to_status, actor, reason, created_at)
    SELECT c.organization_id, e.id::uuid, c.id, 'queued', 'running', $7, $8, c.started_at
    FROM (SELECT organization_id, id, started_at, row_number() OVER (ORDER BY id) AS n
          FROM claimed) c
    JOIN jsonb_array_elements_text($9::jsonb) WITH ORDINALITY AS e(id, n) ON e.n = c.n
    RETURNING task_id, id
), seen AS (
    UPDATE agents SET last_heartbeat_at = $2, revision = revision + 1
    WHERE organization_id = $1 AND id = $3
      AND (last_heartbeat_at IS NULL OR last_heartbeat_at < $10)
      AND EXISTS (SELECT 1 FROM claimed)
)
SELECT c.*, h.id AS claim_event_id, EXISTS (SELECT 1 FROM task_events p
    WHERE p.organization_id = c.organization_id AND p.task_id = c.id AND p.id > h.id)
    AS claim_event_early
FROM claimed c JOIN history h ON h.task_id = c.id
ORDER BY c.priority DESC, c.created_at, c.id"
        )
    };
}

/// The plain claim: see [`claim_postgres`].
pub const CLAIM_POSTGRES: &str = claim_postgres!(concat!(
    "AND ($5::uuid IS NOT NULL OR $11::jsonb IS NOT NULL OR NOT ",
    fairness_key_waiting!(),
    ")"
));

/// A fair claim's turn in a group with a key: its tasks of priority `$12` and key `$13`.
const CLAIM_KEY_POSTGRES: &str = claim_postgres!("AND t.priority = $12 AND t.fairness_key = $13");

/// A fair claim's turn in the group of the tasks without a key: those of priority `$12`.
const CLAIM_KEYLESS_POSTGRES: &str =
    claim_postgres!("AND t.priority = $12 AND t.fairness_key IS NULL");

/// Gives claim events new ids: `$1` organization, `$2` a JSON array of `[old id, new id]`.
const RENUMBER_POSTGRES: &str = "\
UPDATE task_events e SET id = (r.ids ->> 1)::uuid
FROM jsonb_array_elements($2::jsonb) AS r(ids)
WHERE e.organization_id = $1 AND e.id = (r.ids ->> 0)::uuid";

/// The claim on SQLite, inside a write transaction. `?1` organization, `?2` now, `?3` agent,
/// `?4` limit, `?5` lease end, `?6` the agent's capabilities (a JSON array), `?7` one task id
/// or NULL, `?8` the rate-limited tasks it may take (a JSON array of `hex(id)`) or NULL, as
/// `$11` of [`CLAIM_POSTGRES`]. A lease token is 16 random bytes, which is how SQLite stores a
/// UUID. `$group` narrows it as [`claim_postgres`]'s does: the plain claim takes nothing while
/// a task with a fairness key waits, unless it claims one task or rate-limited ones.
macro_rules! claim_sqlite {
    ($group:literal) => {
        concat!(
            "\
UPDATE tasks SET status = 'running', claim_assigned = (assigned_agent_id IS NULL),
    assigned_agent_id = ?3, attempts = attempts + 1,
    lease_token = randomblob(16), lease_expires_at = ?5, started_at = ?2,
    finished_at = NULL, updated_at = ?2, revision = revision + 1
WHERE organization_id = ?1 AND id IN (
    SELECT t.id FROM tasks t
    WHERE t.organization_id = ?1 AND t.status = 'queued'
      AND (?7 IS NULL OR t.id = ?7)
      AND (t.run_after IS NULL OR t.run_after <= ?2)
      AND (t.assigned_agent_id IS NULL OR t.assigned_agent_id = ?3)
      AND NOT EXISTS (
          SELECT 1 FROM json_each(t.required_capabilities) r
          WHERE r.value NOT IN (SELECT c.value FROM json_each(?6) c))
      AND (t.rate_limits = '[]' OR hex(t.id) IN (SELECT value FROM json_each(?8)))
      AND (?8 IS NOT NULL OR NOT EXISTS (SELECT 1 FROM tasks r
          WHERE r.organization_id = ?1 AND r.status = 'queued' AND r.rate_limits <> '[]'
            AND (r.run_after IS NULL OR r.run_after <= ?2)))
      AND (t.concurrency_key IS NULL OR (SELECT count(*) FROM tasks r
          WHERE r.organization_id = ?1 AND r.concurrency_key = t.concurrency_key
            AND r.status = 'running') < (SELECT k.max_running FROM task_concurrency_keys k
          WHERE k.organization_id = ?1 AND k.key = t.concurrency_key))
      ",
            $group,
            "
    ORDER BY t.priority DESC, t.created_at, t.id
    LIMIT ?4)
RETURNING *"
        )
    };
}

/// The plain claim on SQLite: see [`claim_sqlite`].
const CLAIM_SQLITE: &str = claim_sqlite!(
    "AND (?7 IS NOT NULL OR ?8 IS NOT NULL OR NOT EXISTS (SELECT 1 FROM tasks f
          WHERE f.organization_id = ?1 AND f.status = 'queued' AND f.fairness_key IS NOT NULL
            AND (f.run_after IS NULL OR f.run_after <= ?2)))"
);

/// [`CLAIM_KEY_POSTGRES`] on SQLite: `?9` priority, `?10` key.
const CLAIM_KEY_SQLITE: &str = claim_sqlite!("AND t.priority = ?9 AND t.fairness_key = ?10");

/// [`CLAIM_KEYLESS_POSTGRES`] on SQLite: `?9` priority.
const CLAIM_KEYLESS_SQLITE: &str = claim_sqlite!("AND t.priority = ?9 AND t.fairness_key IS NULL");

fn claimed_task(row: tasks::Model) -> RepoResult<ClaimedTask> {
    let token = row
        .lease_token
        .ok_or_else(|| corrupt("task", "a claimed task has no lease token"))?;
    Ok(ClaimedTask {
        task: to_task(row)?,
        lease_token: LeaseToken::from_uuid(token),
    })
}

/// Claim order: highest priority first, then oldest.
fn claim_order(a: &ClaimedTask, b: &ClaimedTask) -> std::cmp::Ordering {
    (b.task.priority, a.task.created_at, a.task.id).cmp(&(
        a.task.priority,
        b.task.created_at,
        b.task.id,
    ))
}

/// How many tasks a claim of `limit` that has `taken` still takes, if any.
fn rest(limit: u32, taken: usize) -> Option<u32> {
    u32::try_from(taken)
        .ok()
        .and_then(|taken| limit.checked_sub(taken))
        .filter(|&n| n > 0)
}

/// `n` new history event ids, in time order, as a JSON array.
fn event_ids(n: u32) -> String {
    let ids: Vec<String> = (0..n).map(|_| TaskEventId::new().to_string()).collect();
    json!(ids).to_string()
}

/// The values of [`CLAIM_POSTGRES`] for a claim in `ctx` of up to `limit` tasks at `at`, with
/// the rate-limited tasks it may take (`$11`).
fn postgres_values(
    ctx: &Ctx,
    request: &ClaimRequest,
    limit: u32,
    only: Option<TaskId>,
    at: DateTime<Utc>,
    rate_limited: Option<String>,
) -> Vec<Value> {
    claim_values(
        ctx.org(),
        &ctx.actor().to_string(),
        request,
        limit,
        only,
        at,
        rate_limited,
    )
}

/// The values of [`CLAIM_POSTGRES`] for a claim in `org` by `actor`: see [`postgres_values`].
pub(super) fn claim_values(
    org: OrganizationId,
    actor: &str,
    request: &ClaimRequest,
    limit: u32,
    only: Option<TaskId>,
    at: DateTime<Utc>,
    rate_limited: Option<String>,
) -> Vec<Value> {
    vec![
        org.as_uuid().into(),
        at.into(),
        request.agent.as_uuid().into(),
        i64::from(limit).into(),
        only.map(|id| id.as_uuid()).into(),
        request.lease.get().as_secs_f64().into(),
        actor.to_owned().into(),
        format!("claimed by agent {}", request.agent).into(),
        event_ids(limit).into(),
        (at - chrono::Duration::seconds(HEARTBEAT_GRANULARITY)).into(),
        rate_limited.into(),
    ]
}

impl SeaStore {
    /// The claim of one agent in `org` by `actor` of up to `limit` tasks (or of task `only`) on
    /// `conn`, outside any transaction: its rows. The clock is read here, once a connection is
    /// held: a run's lease starts when the claim runs, not before a wait for a connection.
    pub(super) async fn claim_alone(
        &self,
        conn: &mut Lent,
        org: OrganizationId,
        actor: &str,
        request: &ClaimRequest,
        limit: u32,
        only: Option<TaskId>,
    ) -> RepoResult<Vec<QueryResult>> {
        let values = claim_values(org, actor, request, limit, only, self.now(), None);
        self.fetch_all_direct(conn, CLAIM_POSTGRES, values, Planned::Cached)
            .await
    }

    /// One attempt at claiming, without waiting.
    pub(super) async fn claim_now(
        &self,
        ctx: &Ctx,
        request: ClaimRequest,
        only: Option<TaskId>,
    ) -> RepoResult<Vec<ClaimedTask>> {
        let claimed = if self.is_postgres() {
            self.claim_postgres(ctx, request, only).await
        } else {
            self.claim_sqlite(ctx, request, only).await
        }?;
        super::queue_metrics::claimed(claimed.len());
        Ok(claimed)
    }

    async fn claim_postgres(
        &self,
        ctx: &Ctx,
        request: ClaimRequest,
        only: Option<TaskId>,
    ) -> RepoResult<Vec<ClaimedTask>> {
        let agent = request.agent;
        let rows = if self.inside_store_transaction() {
            let claim = Statement::from_sql_and_values(
                DbBackend::Postgres,
                CLAIM_POSTGRES,
                postgres_values(ctx, &request, request.limit.get(), only, self.now(), None),
            );
            self.db().await.query_all_raw(claim).await.map_err(db_err)?
        } else if only.is_none() {
            self.claim_together(ctx, request).await?
        } else {
            let mut conn = self.postgres_connection().await?;
            self.claim_alone(
                &mut conn,
                ctx.org(),
                &ctx.actor().to_string(),
                &request,
                request.limit.get(),
                only,
            )
            .await?
        };
        let mut claimed = self.claimed_postgres(&self.db().await, ctx, &rows).await?;
        // Claimed together with others, then alone for the rest: in claim order again.
        claimed.sort_by(claim_order);
        if claimed.is_empty() {
            // Say so if the agent is what is missing or inactive.
            let agent_row = self
                .find_scoped::<agents::Entity>(&self.db().await, ctx, agent, Lock::None)
                .await
                .map_err(|e| match e {
                    RepoError::NotFound { .. } => RepoError::reference("agent_id", "agent", agent),
                    other => other,
                })?;
            refuse_inactive(&agent_row)?;
            if self
                .rate_limited_waiting(&self.db().await, ctx, self.now())
                .await?
            {
                return self.claim_rate_limited_postgres(ctx, request, only).await;
            }
            if only.is_none()
                && self
                    .fairness_keys_waiting(&self.db().await, ctx, self.now())
                    .await?
            {
                return self.claim_fairly_postgres(ctx, request).await;
            }
        }
        Ok(claimed)
    }

    /// The claim on PostgreSQL while a task with a fairness key waits: rounds of a read of the
    /// organization's groups, the turns of the groups at the highest priority (each one claim
    /// statement outside any transaction, as the plain claim), and each turn's pass update,
    /// until the claim has its `limit` or a round takes nothing (see `work::fairness_keys`).
    async fn claim_fairly_postgres(
        &self,
        ctx: &Ctx,
        request: ClaimRequest,
    ) -> RepoResult<Vec<ClaimedTask>> {
        let db = self.db().await;
        let (agent, limit) = (request.agent.as_uuid(), request.limit.get());
        let mut claimed: Vec<ClaimedTask> = Vec::new();
        let mut first = true;
        let mut passed: Vec<String> = Vec::new();
        while let Some(remaining) = rest(limit, claimed.len()) {
            let turns = self
                .fair_turns(
                    &db,
                    ctx,
                    agent,
                    limit,
                    remaining,
                    self.now(),
                    first,
                    &passed,
                )
                .await?;
            first = false;
            if turns.is_empty() {
                break;
            }
            for turn in turns {
                let mut values = postgres_values(ctx, &request, turn.quota, None, self.now(), None);
                values.push(turn.priority.into());
                let sql = if turn.key == KEYLESS {
                    CLAIM_KEYLESS_POSTGRES
                } else {
                    values.push(turn.key.clone().into());
                    CLAIM_KEY_POSTGRES
                };
                let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
                let rows = db.query_all_raw(statement).await.map_err(db_err)?;
                let taken = self.claimed_postgres(&db, ctx, &rows).await?;
                if taken.is_empty() {
                    passed.push(turn.key);
                } else {
                    self.serve_fairness_key(
                        &db,
                        ctx,
                        &turn.key,
                        turn.weight,
                        taken.len(),
                        self.now(),
                    )
                    .await?;
                }
                claimed.extend(taken);
            }
        }
        Ok(claimed)
    }

    /// The claim on PostgreSQL while a rate-limited task waits: one write transaction that
    /// locks the organization's buckets, sets tokens aside, claims and takes them (see
    /// `rate_limits.rs`).
    async fn claim_rate_limited_postgres(
        &self,
        ctx: &Ctx,
        request: ClaimRequest,
        only: Option<TaskId>,
    ) -> RepoResult<Vec<ClaimedTask>> {
        self.mutate(ctx, async |m| {
            let agent_row = self.agent_for(m, "agent_id", request.agent).await?;
            refuse_inactive(&agent_row)?;
            let reservation = self
                .reserve_rate_limits(
                    m,
                    &agent_row,
                    request.limit.get(),
                    only.map(|id| id.as_uuid()),
                )
                .await?;
            let values = postgres_values(
                ctx,
                &request,
                request.limit.get(),
                only,
                m.at(),
                Some(reservation.postgres_ids()),
            );
            let claim = Statement::from_sql_and_values(DbBackend::Postgres, CLAIM_POSTGRES, values);
            let rows = m.txn().query_all_raw(claim).await.map_err(db_err)?;
            let claimed = self.claimed_postgres(m.txn(), ctx, &rows).await?;
            self.settle_rate_limits(m, reservation, claimed.iter().map(|c| c.task.id.as_uuid()))
                .await?;
            Ok(claimed)
        })
        .await
    }

    /// The tasks of a PostgreSQL claim's rows, their history events renumbered where needed.
    async fn claimed_postgres(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        rows: &[QueryResult],
    ) -> RepoResult<Vec<ClaimedTask>> {
        let claimed = self
            .rows_with_bodies(db, ctx.org().as_uuid(), rows)
            .await?
            .into_iter()
            .map(claimed_task)
            .collect::<RepoResult<Vec<_>>>()?;
        // History lists in id order. A claim of a task freed by a change that made its event's
        // id after this claim made its ids gives its event an id made now, after that one.
        let mut early = Vec::new();
        for row in rows {
            if row
                .try_get::<bool>("", "claim_event_early")
                .map_err(db_err)?
            {
                let id: Uuid = row.try_get("", "claim_event_id").map_err(db_err)?;
                early.push(json!([id, TaskEventId::new()]));
            }
        }
        if !early.is_empty() {
            let renumber = Statement::from_sql_and_values(
                DbBackend::Postgres,
                RENUMBER_POSTGRES,
                [
                    ctx.org().as_uuid().into(),
                    serde_json::Value::Array(early).into(),
                ],
            );
            db.execute_raw(renumber).await.map_err(db_err)?;
        }
        Ok(claimed)
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
                    .col_expr(agents::Column::Revision, agents::Entity::next_revision())
                    .filter(agents::Column::OrganizationId.eq(ctx.org().as_uuid()))
                    .filter(agents::Column::Id.eq(agent.as_uuid()))
                    .exec(m.txn())
                    .await
                    .map_err(db_err)?;
            }
            // `group`: the values a fair claim's turn adds (see `claim_sqlite`).
            let claim =
                |sql: &'static str, limit: u32, rate_limited: Option<String>, group: Vec<Value>| {
                    let mut values: Vec<Value> = vec![
                        ctx.org().as_uuid().into(),
                        m.at().into(),
                        agent.as_uuid().into(),
                        i64::from(limit).into(),
                        expires(m.at(), request.lease).into(),
                        agent_row.capabilities.to_string().into(),
                        only.map(|id| id.as_uuid()).into(),
                        rate_limited.into(),
                    ];
                    values.extend(group);
                    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
                };
            let limit = request.limit.get();
            let mut rows = m
                .txn()
                .query_all_raw(claim(CLAIM_SQLITE, limit, None, Vec::new()))
                .await
                .map_err(db_err)?;
            let mut reservation = None;
            if rows.is_empty() && self.rate_limited_waiting(m.txn(), ctx, m.at()).await? {
                let reserved = self
                    .reserve_rate_limits(
                        m,
                        &agent_row,
                        request.limit.get(),
                        only.map(|id| id.as_uuid()),
                    )
                    .await?;
                rows = m
                    .txn()
                    .query_all_raw(claim(
                        CLAIM_SQLITE,
                        limit,
                        Some(reserved.sqlite_ids()),
                        Vec::new(),
                    ))
                    .await
                    .map_err(db_err)?;
                reservation = Some(reserved);
            } else if rows.is_empty()
                && only.is_none()
                && self.fairness_keys_waiting(m.txn(), ctx, m.at()).await?
            {
                // The fair path, as on PostgreSQL, inside this transaction.
                let mut first = true;
                let mut passed: Vec<String> = Vec::new();
                while let Some(remaining) = rest(limit, rows.len()) {
                    let turns = self
                        .fair_turns(
                            m.txn(),
                            ctx,
                            agent.as_uuid(),
                            limit,
                            remaining,
                            m.at(),
                            first,
                            &passed,
                        )
                        .await?;
                    first = false;
                    if turns.is_empty() {
                        break;
                    }
                    for turn in turns {
                        let mut group: Vec<Value> = vec![turn.priority.into()];
                        let sql = if turn.key == KEYLESS {
                            CLAIM_KEYLESS_SQLITE
                        } else {
                            group.push(turn.key.clone().into());
                            CLAIM_KEY_SQLITE
                        };
                        let taken = m
                            .txn()
                            .query_all_raw(claim(sql, turn.quota, None, group))
                            .await
                            .map_err(db_err)?;
                        if taken.is_empty() {
                            passed.push(turn.key.clone());
                        } else {
                            self.serve_fairness_key(
                                m.txn(),
                                ctx,
                                &turn.key,
                                turn.weight,
                                taken.len(),
                                m.at(),
                            )
                            .await?;
                        }
                        rows.extend(taken);
                    }
                }
            }
            let mut claimed = self
                .rows_with_bodies(m.txn(), ctx.org().as_uuid(), &rows)
                .await?
                .into_iter()
                .map(claimed_task)
                .collect::<RepoResult<Vec<_>>>()?;
            if let Some(reservation) = reservation {
                self.settle_rate_limits(
                    m,
                    reservation,
                    claimed.iter().map(|c| c.task.id.as_uuid()),
                )
                .await?;
            }
            claimed.sort_by(claim_order);
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
            && run_after > self.now()
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
        if let Some(full) = self.key_is_full(ctx, &row).await {
            return full;
        }
        match self.short_rate_limits(ctx, &row.rate_limits).await {
            Ok(short) if !short.is_empty() => {
                return conflict(format!(
                    "the task's rate limits lack the tokens it needs: {}",
                    short.join(", ")
                ));
            }
            Ok(_) => {}
            Err(e) => return e,
        }
        conflict("another worker claimed the task at the same moment".to_owned())
    }
}
