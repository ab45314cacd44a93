//! Plain claims that arrive together, served by one statement (PostgreSQL; see
//! `work::together`): while a claim statement runs, the claims that arrive wait and go in the
//! next, one statement per organization among them.
//!
//! A statement of one claim is the claim of `work::claim`. A statement of several picks, with
//! `SKIP LOCKED`, as many claimable tasks as they ask for together (tasks any of their agents
//! may take), in claim order, then hands them out in that order: each task to the first claim,
//! in order of arrival, whose agent may take it and that still has room, as if the claims had
//! run one after the other. A claim that comes back short of its limit although the statement
//! found as many tasks as all asked for (the tasks it could take lay beyond the others') claims
//! the rest alone, so that it misses nothing a claim of its own would have taken.

use std::collections::BTreeMap;

use orchestore_domain::{ClaimRequest, OrganizationId, TaskEventId};
use orchestore_repo::{Ctx, RepoResult};
use sea_orm::{QueryResult, Value};
use serde_json::json;

use super::claim::{
    HEARTBEAT_GRANULARITY, concurrency_room, fairness_key_waiting, rate_limited_waiting,
};
use super::together::{Joined, Together, Waiting};
use crate::SeaStore;
use crate::error::db_err;
use crate::lean_pool::Lent;

/// The claims of several agents of organization `$1` at `$2`, as the module says. `$3` the
/// claims, a JSON array of `{n, agent, lim, lease, actor, reason, events}` (`n` from 1 in order
/// of arrival, the limit, the lease in seconds, the history's actor and reason, and `lim` ids
/// for the history events), `$4` the time before which an agent's last heartbeat is refreshed,
/// `$5` the sum of the limits, `$6` the number of claims. It picks only tasks one of the
/// claims' agents may run, so nothing when none of them is an active agent. Each row is a claimed task with its
/// claim's `n` (`claim_n`), its history event (`claim_event_id`, `claim_event_early`: see
/// `claim_postgres` in `work::claim`), and whether the pick found `$5` tasks
/// (`claim_window_full`).
///
/// `handed` walks the picked tasks in claim order, carrying the room each claim has left
/// (`room[n]`), and gives each task to the first claim with room whose agent may take it. The
/// agents whose heartbeat is refreshed are locked in one order first, so that statements sharing
/// agents never deadlock.
const CLAIM_MANY_POSTGRES: &str = concat!(
    "\
WITH RECURSIVE asks AS MATERIALIZED (
    SELECT a.n, a.agent, a.lim, a.lease, a.actor, a.reason, a.events, g.capabilities
    FROM jsonb_to_recordset($3::jsonb) AS a(n int, agent uuid, lim int, lease float8,
        actor text, reason text, events jsonb)
    JOIN agents g ON g.organization_id = $1 AND g.id = a.agent AND g.status <> 'inactive'
), picked AS MATERIALIZED (
    SELECT t.id, t.priority, t.created_at, t.assigned_agent_id, t.required_capabilities
    FROM tasks t
    WHERE t.organization_id = $1 AND t.status = 'queued'
      AND (t.run_after IS NULL OR t.run_after <= $2)
      AND EXISTS (SELECT 1 FROM asks k
          WHERE (t.assigned_agent_id IS NULL OR t.assigned_agent_id = k.agent)
            AND (t.required_capabilities = '[]'::jsonb
                OR t.required_capabilities <@ k.capabilities))
      AND t.rate_limits = '[]'::jsonb
      AND NOT ",
    rate_limited_waiting!(),
    "
      AND NOT ",
    fairness_key_waiting!(),
    "
      AND ",
    concurrency_room!(),
    "
    ORDER BY t.priority DESC, t.created_at, t.id
    LIMIT $5
    FOR NO KEY UPDATE SKIP LOCKED
), ordered AS MATERIALIZED (
    SELECT p.*, row_number() OVER (ORDER BY p.priority DESC, p.created_at, p.id) AS rn
    FROM picked p
), handed (rn, room, n) AS (
    SELECT 0::bigint, ARRAY(SELECT coalesce(k.lim, 0) FROM generate_series(1, $6) AS s(n)
        LEFT JOIN asks k ON k.n = s.n ORDER BY s.n), NULL::int
    UNION ALL
    SELECT o.rn, CASE WHEN c.n IS NULL THEN h.room
        ELSE h.room[:c.n - 1] || (h.room[c.n] - 1) || h.room[c.n + 1:] END, c.n
    FROM handed h JOIN ordered o ON o.rn = h.rn + 1
    LEFT JOIN LATERAL (SELECT k.n FROM asks k
        WHERE h.room[k.n] > 0
          AND (o.assigned_agent_id IS NULL OR o.assigned_agent_id = k.agent)
          AND (o.required_capabilities = '[]'::jsonb OR o.required_capabilities <@ k.capabilities)
        ORDER BY k.n LIMIT 1) c ON true
), chosen AS MATERIALIZED (
    SELECT o.id, k.n, k.agent, k.lease, k.actor, k.reason,
        (k.events ->> (row_number() OVER (PARTITION BY k.n ORDER BY o.id) - 1)::int)::uuid
            AS event
    FROM handed h JOIN ordered o ON o.rn = h.rn JOIN asks k ON k.n = h.n
), claimed AS (
    UPDATE tasks t SET status = 'running', claim_assigned = (t.assigned_agent_id IS NULL),
        assigned_agent_id = c.agent, attempts = t.attempts + 1, lease_token = gen_random_uuid(),
        lease_expires_at = greatest($2, t.updated_at + interval '1 microsecond')
            + make_interval(secs => c.lease),
        started_at = greatest($2, t.updated_at + interval '1 microsecond'), finished_at = NULL,
        updated_at = greatest($2, t.updated_at + interval '1 microsecond'),
        revision = t.revision + 1
    FROM chosen c
    WHERE t.organization_id = $1 AND t.id = ANY (ARRAY(SELECT x.id FROM chosen x))
      AND t.id = c.id
    RETURNING t.*, c.n AS claim_n, c.event AS claim_event_id, c.actor AS claim_actor,
        c.reason AS claim_reason
), history AS (
    INSERT INTO task_events
        (organization_id, id, task_id, from_status, to_status, actor, reason, created_at)
    SELECT organization_id, claim_event_id, id, 'queued', 'running', claim_actor, claim_reason,
        started_at
    FROM claimed
), seen_locked AS (
    SELECT g.id FROM agents g
    WHERE g.organization_id = $1 AND g.id IN (SELECT c.assigned_agent_id FROM claimed c)
      AND (g.last_heartbeat_at IS NULL OR g.last_heartbeat_at < $4)
    ORDER BY g.id
    FOR NO KEY UPDATE
), seen AS (
    UPDATE agents g SET last_heartbeat_at = $2, revision = g.revision + 1
    FROM seen_locked l WHERE g.organization_id = $1 AND g.id = l.id
)
SELECT c.*, EXISTS (SELECT 1 FROM task_events p
    WHERE p.organization_id = c.organization_id AND p.task_id = c.id AND p.id > c.claim_event_id)
    AS claim_event_early, (SELECT count(*) FROM picked) = $5 AS claim_window_full
FROM claimed c
ORDER BY c.priority DESC, c.created_at, c.id"
);

/// A plain claim waiting to be served with others: of one task or more, outside any store
/// transaction, on PostgreSQL.
pub(crate) struct PlainClaim {
    pub(super) org: OrganizationId,
    pub(super) actor: String,
    pub(super) request: ClaimRequest,
}

/// What a statement gave one claim.
pub(crate) struct Served {
    /// The rows of the tasks it claimed, in claim order.
    pub(super) rows: Vec<QueryResult>,
    /// Whether it is to claim the rest of its limit alone (see the module).
    pub(super) claim_rest: bool,
}

impl Joined for PlainClaim {
    type Answer = Served;
    const WRITERS: usize = 2;
    /// Tasks asked for: claims of many tasks each gain little from sharing a statement and
    /// would make one claim wait on the others' work.
    const MOST: usize = 64;
    const WHAT: &'static str = "claim";

    fn weight(&self) -> usize {
        self.request.limit.get() as usize
    }

    fn queue(store: &SeaStore) -> &Together<Self> {
        &store.joins.claims
    }

    async fn run(store: &SeaStore, batch: Vec<Waiting<Self>>) {
        let mut conn = match store.shared_connection().await {
            Ok(conn) => conn,
            Err(failed) => return failed.answer_all(batch),
        };
        let mut by_org: BTreeMap<OrganizationId, Vec<Waiting<Self>>> = BTreeMap::new();
        for waiting in batch {
            by_org.entry(waiting.job.org).or_default().push(waiting);
        }
        for (org, claims) in by_org {
            store.serve_claims(&mut conn, org, claims).await;
        }
    }
}

impl SeaStore {
    /// Serves the claims of `org` by one statement, each answered with its own rows.
    async fn serve_claims(
        &self,
        conn: &mut Lent,
        org: OrganizationId,
        claims: Vec<Waiting<PlainClaim>>,
    ) {
        if claims.len() == 1 {
            // Alone: the claim of one agent, as `work::claim` runs it.
            for waiting in claims {
                let job = &waiting.job;
                let rows = self
                    .claim_alone(
                        conn,
                        org,
                        &job.actor,
                        &job.request,
                        job.request.limit.get(),
                        None,
                    )
                    .await;
                waiting.answer(rows.map(|rows| Served {
                    rows,
                    claim_rest: false,
                }));
            }
            return;
        }
        // The clock is read once a connection is held: a run's lease starts when the claim
        // runs, not before a wait for a connection.
        let at = self.now();
        let total: u32 = claims.iter().map(|w| w.job.request.limit.get()).sum();
        let asks: Vec<serde_json::Value> = claims
            .iter()
            .enumerate()
            .map(|(i, waiting)| {
                let request = &waiting.job.request;
                let events: Vec<TaskEventId> = (0..request.limit.get())
                    .map(|_| TaskEventId::new())
                    .collect();
                json!({
                    "n": i + 1,
                    "agent": request.agent,
                    "lim": request.limit.get(),
                    "lease": request.lease.get().as_secs_f64(),
                    "actor": waiting.job.actor,
                    "reason": format!("claimed by agent {}", request.agent),
                    "events": events,
                })
            })
            .collect();
        let values: Vec<Value> = vec![
            org.as_uuid().into(),
            at.into(),
            serde_json::Value::Array(asks).into(),
            (at - chrono::Duration::seconds(HEARTBEAT_GRANULARITY)).into(),
            i64::from(total).into(),
            i64::try_from(claims.len()).unwrap_or(i64::MAX).into(),
        ];
        let rows = match self
            .fetch_all_shared(conn, CLAIM_MANY_POSTGRES, values)
            .await
        {
            Ok(rows) => rows,
            Err(failed) => return failed.answer_all(claims),
        };
        let mut served: Vec<RepoResult<Vec<QueryResult>>> =
            claims.iter().map(|_| Ok(Vec::new())).collect();
        let mut window_full = false;
        for row in rows {
            let decoded = row
                .try_get::<i32>("", "claim_n")
                .and_then(|n| Ok((n, row.try_get::<bool>("", "claim_window_full")?)));
            match decoded {
                Ok((n, full)) => {
                    window_full |= full;
                    let slot = usize::try_from(n)
                        .ok()
                        .and_then(|n| n.checked_sub(1))
                        .and_then(|i| served.get_mut(i));
                    if let Some(Ok(rows)) = slot {
                        rows.push(row);
                    }
                }
                // A row that does not decode leaves every claim of the statement with the
                // error: whose it was is not known, and its task is running.
                Err(err) => {
                    for answer in &mut served {
                        *answer = Err(db_err(err.clone()));
                    }
                }
            }
        }
        for (waiting, rows) in claims.into_iter().zip(served) {
            let limit = waiting.job.request.limit.get() as usize;
            waiting.answer(rows.map(|rows| Served {
                claim_rest: window_full && rows.len() < limit,
                rows,
            }));
        }
    }

    /// Claims for `request` together with the plain claims waiting with it; the rows of the
    /// tasks it took.
    pub(super) async fn claim_together(
        &self,
        ctx: &Ctx,
        request: ClaimRequest,
    ) -> RepoResult<Vec<QueryResult>> {
        let served = self
            .together(PlainClaim {
                org: ctx.org(),
                actor: ctx.actor().to_string(),
                request,
            })
            .await?;
        let mut rows = served.rows;
        if served.claim_rest {
            let taken = u32::try_from(rows.len()).unwrap_or(u32::MAX);
            if let Some(rest) = request.limit.get().checked_sub(taken).filter(|&n| n > 0) {
                let mut conn = self.postgres_connection().await?;
                let actor = ctx.actor().to_string();
                rows.extend(
                    self.claim_alone(&mut conn, ctx.org(), &actor, &request, rest, None)
                        .await?,
                );
            }
        }
        Ok(rows)
    }
}
