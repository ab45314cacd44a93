//! Raw SQL around the measurements: clearing the queue between modes, seeding tasks with
//! `generate_series`, the claim statement for EXPLAIN, and the pgbench scripts of the plain-SQL
//! ceiling.
//!
//! The claim and completion statements are not copied: they are orchestore-sea's own
//! (`orchestore::sea::queue_statements`), so EXPLAIN and the ceiling always run the statements
//! this checkout's queue runs.

use orchestore::domain::AgentId;
use orchestore::sea::queue_statements;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use uuid::Uuid;

use crate::Fixture;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The claim on PostgreSQL, as the store runs it for one agent (`CLAIM_POSTGRES`).
pub fn claim_statement() -> String {
    queue_statements::CLAIM.to_owned()
}

/// Replaces `$n` by the SQL text of each value, highest `n` first, so that `$1` never matches
/// the start of `$10`.
fn substitute(sql: &str, values: &[(u32, String)]) -> String {
    let mut values = values.to_vec();
    values.sort_by_key(|value| std::cmp::Reverse(value.0));
    let mut sql = sql.to_owned();
    for (n, value) in values {
        sql = sql.replace(&format!("${n}"), &value);
    }
    sql
}

/// The SQL text of each value a claim takes.
struct ClaimSql {
    org: String,
    now: String,
    agent: String,
    limit: u32,
    lease_seconds: u32,
    actor: String,
    reason: String,
    event_ids: String,
    heartbeat_before: String,
}

/// The claim with its values written in.
fn claim_sql(v: &ClaimSql) -> String {
    substitute(
        &claim_statement(),
        &[
            (1, v.org.clone()),
            (2, v.now.clone()),
            (3, v.agent.clone()),
            (4, v.limit.to_string()),
            (5, "NULL".to_owned()),
            (6, v.lease_seconds.to_string()),
            (7, v.actor.clone()),
            (8, v.reason.clone()),
            (9, v.event_ids.clone()),
            (10, v.heartbeat_before.clone()),
            (11, "NULL".to_owned()),
        ],
    )
}

/// The last line of the claim: what it returns.
const CLAIM_RETURNS: &str =
    "SELECT c.*, h.id AS claim_event_id, EXISTS (SELECT 1 FROM task_events p
    WHERE p.organization_id = c.organization_id AND p.task_id = c.id AND p.id > h.id)
    AS claim_event_early
FROM claimed c JOIN history h ON h.task_id = c.id
ORDER BY c.priority DESC, c.created_at, c.id";

pub async fn exec(db: &DatabaseConnection, sql: &str) -> Result<()> {
    db.execute_unprepared(sql).await?;
    Ok(())
}

pub async fn exec_with(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Result<u64> {
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?;
    Ok(result.rows_affected())
}

/// A single `bigint` (a count).
pub async fn count(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Result<i64> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?
        .ok_or("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// The server's WAL position in bytes: the difference over a mode is the WAL it wrote (the
/// whole server's, so the machine should have no other database work).
pub async fn wal_position(db: &DatabaseConnection) -> Result<i64> {
    count(
        db,
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint",
        Vec::new(),
    )
    .await
}

/// Empties the queue's tables (tasks, their history, edges and concurrency keys, the audit log)
/// so that each mode starts from an empty queue; organizations, projects and agents stay.
pub async fn reset(db: &DatabaseConnection) -> Result<()> {
    exec(
        db,
        "TRUNCATE tasks, task_events, task_dependencies, task_concurrency_keys, task_fairness_keys, \
         audit_logs, queue_shares CASCADE",
    )
    .await
}

/// Fresh statistics and a checkpoint, so that the measurement neither plans on stale
/// statistics nor writes the seeding's dirty pages.
pub async fn settle(db: &DatabaseConnection) -> Result<()> {
    exec(
        db,
        "VACUUM ANALYZE tasks, task_events, audit_logs, agents, task_dependencies",
    )
    .await?;
    exec(db, "CHECKPOINT").await
}

/// A time-ordered (version 7 layout) UUID for the timestamp `ts`, as Orchestore's ids are.
const UUID_V7_OF_TS: &str = "(lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') \
    || '7' || substr(md5(random()::text), 1, 3) || to_hex(8 + floor(random() * 4)::int) \
    || substr(md5(random()::text), 1, 15))::uuid";

/// Inserts `n` queued tasks as `create_task` writes them (`{"i": i}` payload, default priority,
/// 3 attempts), each with its `created` history event, created one microsecond apart after
/// every task already there.
pub async fn seed_queued(db: &DatabaseConnection, fx: &Fixture, n: u64) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO tasks (organization_id, id, project_id, title, description, status, priority,
             payload, required_capabilities, metadata, created_at, updated_at, progress, tags,
             attempts, max_attempts, claim_assigned)
         SELECT $1, {UUID_V7_OF_TS}, $2, 'job ' || i, '', 'queued', 0, jsonb_build_object('i', i),
             '[]', '{{}}', ts, ts, 0, '[]', 0, 3, false
         FROM (SELECT i, now() + i * interval '1 microsecond' AS ts
               FROM generate_series(1::bigint, $3) AS i) s"
    );
    exec_with(
        db,
        &sql,
        vec![
            fx.org_uuid().into(),
            fx.project_uuid().into(),
            (n as i64).into(),
        ],
    )
    .await?;
    exec_with(
        db,
        &format!(
            "INSERT INTO task_events (organization_id, id, task_id, from_status, to_status,
                 actor, reason, created_at)
             SELECT organization_id, {UUID_V7_OF_TS}, id, NULL, 'queued', 'system', 'created', ts
             FROM (SELECT organization_id, id, created_at AS ts FROM tasks
                   WHERE organization_id = $1 AND status = 'queued') s"
        ),
        vec![fx.org_uuid().into()],
    )
    .await?;
    Ok(())
}

/// Spreads the organization's queued tasks over `keys` concurrency keys of limit `limit`, as
/// enqueueing them with keys writes them: task `i` (its payload's `i`) gets `key-{i % keys}`.
/// Nothing when `keys` is 0.
pub async fn key_queued(
    db: &DatabaseConnection,
    fx: &Fixture,
    keys: u32,
    limit: u32,
) -> Result<()> {
    if keys == 0 {
        return Ok(());
    }
    let params = || -> Vec<Value> {
        vec![
            fx.org_uuid().into(),
            i64::from(keys).into(),
            i64::from(limit).into(),
        ]
    };
    exec_with(
        db,
        "INSERT INTO task_concurrency_keys
             (organization_id, key, max_running, strategy, created_at, updated_at)
         SELECT $1, 'key-' || k, $3, 'queue', now(), now()
         FROM generate_series(0::bigint, $2 - 1) AS k",
        params(),
    )
    .await?;
    exec_with(
        db,
        "UPDATE tasks SET concurrency_key = 'key-' || ((payload ->> 'i')::bigint % $2),
             concurrency_limit = $3, concurrency_strategy = 'queue'
         WHERE organization_id = $1 AND status = 'queued'",
        params(),
    )
    .await?;
    Ok(())
}

/// Spreads the organization's queued tasks over `keys` fairness keys of weight 1, as enqueueing
/// them with keys writes them: task `i` (its payload's `i`) gets `fair-{i % keys}`, and the
/// organization has the keys' rows and the row of its tasks without a key, all at pass 0.
/// Nothing when `keys` is 0.
pub async fn fair_key_queued(db: &DatabaseConnection, fx: &Fixture, keys: u32) -> Result<()> {
    if keys == 0 {
        return Ok(());
    }
    let params = || -> Vec<Value> { vec![fx.org_uuid().into(), i64::from(keys).into()] };
    exec_with(
        db,
        "INSERT INTO task_fairness_keys
             (organization_id, key, weight, pass, created_at, updated_at)
         SELECT $1, '', 1, 0, now(), now()
         UNION ALL
         SELECT $1, 'fair-' || k, 1, 0, now(), now()
         FROM generate_series(0::bigint, $2 - 1) AS k",
        params(),
    )
    .await?;
    exec_with(
        db,
        "UPDATE tasks SET fairness_key = 'fair-' || ((payload ->> 'i')::bigint % $2),
             fairness_weight = 1
         WHERE organization_id = $1 AND status = 'queued'",
        params(),
    )
    .await?;
    Ok(())
}

/// Inserts `n` succeeded tasks, finished a day ago, run once by the first agent (no history:
/// the claim reads the tasks' index, and appends to the history without reading it).
pub async fn seed_finished(db: &DatabaseConnection, fx: &Fixture, n: u64) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO tasks (organization_id, id, project_id, title, description, status, priority,
             payload, required_capabilities, metadata, created_at, updated_at, progress, tags,
             attempts, max_attempts, claim_assigned, assigned_agent_id, started_at, finished_at,
             result)
         SELECT $1, {UUID_V7_OF_TS}, $2, 'done ' || i, '', 'succeeded', 0,
             jsonb_build_object('i', i), '[]', '{{}}', ts, ts + interval '2 seconds', 100, '[]',
             1, 3, true, $4, ts + interval '1 second', ts + interval '2 seconds', NULL
         FROM (SELECT i, now() - interval '2 days' + i * interval '1 millisecond' AS ts
               FROM generate_series(1::bigint, $3) AS i) s"
    );
    exec_with(
        db,
        &sql,
        vec![
            fx.org_uuid().into(),
            fx.project_uuid().into(),
            (n as i64).into(),
            fx.agents[0].as_uuid().into(),
        ],
    )
    .await?;
    Ok(())
}

/// The claim's parameters, as `claim_postgres` binds them.
fn explained_claim(fx: &Fixture, agent: AgentId, limit: u32) -> String {
    let ids: Vec<String> = (0..limit).map(|_| Uuid::now_v7().to_string()).collect();
    claim_sql(&ClaimSql {
        org: format!("'{}'::uuid", fx.org_uuid()),
        now: "now()".to_owned(),
        agent: format!("'{agent}'::uuid"),
        limit,
        lease_seconds: 300,
        actor: "'system'".to_owned(),
        reason: format!("'claimed by agent {agent}'"),
        event_ids: format!("'{}'", serde_json::json!(ids)),
        heartbeat_before: "(now() - interval '5 seconds')".to_owned(),
    })
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of one claim of `limit` tasks, rolled back: the plan, and the
/// planning and execution times PostgreSQL reports (ms).
pub async fn explain_claim(
    db: &DatabaseConnection,
    fx: &Fixture,
    limit: u32,
) -> Result<(String, f64, f64)> {
    let txn = db.begin().await?;
    let sql = format!(
        "EXPLAIN (ANALYZE, BUFFERS) {}",
        explained_claim(fx, fx.agents[0], limit)
    );
    let rows = txn
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    txn.rollback().await?;
    let mut plan = String::new();
    for row in rows {
        plan.push_str(&row.try_get_by_index::<String>(0)?);
        plan.push('\n');
    }
    let time = |label: &str| {
        plan.lines()
            .find_map(|line| line.strip_prefix(label))
            .and_then(|rest| rest.trim().trim_end_matches(" ms").parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    let (planning, execution) = (time("Planning Time:"), time("Execution Time:"));
    Ok((plan, planning, execution))
}

/// How long single-row autocommitted inserts take right now (ms each): the disk's commit
/// latency, which every claim and completion pays on top of its work. The disk's speed drifts.
pub async fn commit_floor(db: &DatabaseConnection, n: u32) -> Result<Vec<f64>> {
    exec(
        db,
        "CREATE TABLE IF NOT EXISTS qbench_commit_probe (id bigserial PRIMARY KEY, v int)",
    )
    .await?;
    let mut times = Vec::new();
    for _ in 0..n {
        let t = std::time::Instant::now();
        exec(db, "INSERT INTO qbench_commit_probe (v) VALUES (1)").await?;
        times.push(crate::stats::ms(t.elapsed()));
    }
    exec(db, "DROP TABLE qbench_commit_probe").await?;
    Ok(times)
}

/// A server setting, as `SHOW` prints it.
pub async fn setting(db: &DatabaseConnection, name: &str) -> Result<String> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SHOW {name}"),
        ))
        .await?
        .ok_or("no row")?;
    Ok(row.try_get_by_index::<String>(0)?)
}

/// The agent id pgbench client `k` claims as: agents are given these ids for the ceiling.
pub fn ceiling_agent(k: u32) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | u128::from(k))
}

/// The same id, computed by PostgreSQL from pgbench's `:client_id`.
const CEILING_AGENT_SQL: &str =
    "('00000000-0000-4000-8000-' || lpad(to_hex(:client_id::int), 12, '0'))::uuid";

/// Gives the fixture's agents the ids pgbench's clients compute (they have no tasks yet).
pub async fn rekey_agents(db: &DatabaseConnection, fx: &mut Fixture) -> Result<()> {
    let org = fx.org_uuid();
    for (k, agent) in fx.agents.iter_mut().enumerate() {
        let id = ceiling_agent(k as u32);
        exec_with(
            db,
            "UPDATE agents SET id = $3 WHERE organization_id = $1 AND id = $2",
            vec![org.into(), agent.as_uuid().into(), id.into()],
        )
        .await?;
        *agent = AgentId::from_uuid(id);
    }
    Ok(())
}

/// What the pgbench ceiling of a mode runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CeilingKind {
    /// One statement: the task, its `created` event and its audit row (what `create_task`
    /// writes), C clients.
    EnqueueOne,
    /// One statement inserting BULK tasks with their events and one audit row for them (what
    /// `enqueue_tasks` writes), one client.
    EnqueueBulk,
    /// The claim (limit 1), then the completion statement (task, event, agent counters), C
    /// clients.
    DrainOne,
    /// The claim (limit BATCH), then one completion statement for the whole batch.
    DrainBatch,
    /// The claim (limit BATCH), then BATCH completion statements, each its own transaction.
    DrainBatchEach,
}

/// A pgbench script and how to run it.
pub struct Ceiling {
    pub script: String,
    pub clients: u32,
    pub transactions_per_client: u32,
    pub jobs_per_transaction: u32,
}

/// The claim with pgbench's values: the organization, `now()`, the client's agent, `limit`, a
/// 300 s lease, the `system` actor, and `limit` fresh event ids.
fn pgbench_claim(fx: &Fixture, limit: u32) -> String {
    claim_sql(&ClaimSql {
        org: format!("'{}'::uuid", fx.org_uuid()),
        now: "now()".to_owned(),
        agent: CEILING_AGENT_SQL.to_owned(),
        limit,
        lease_seconds: 300,
        actor: "'system'".to_owned(),
        reason: "'claimed by agent'".to_owned(),
        event_ids: format!(
            "(SELECT jsonb_agg(gen_random_uuid()) FROM generate_series(1, {limit}))"
        ),
        heartbeat_before: "(now() - interval '5 seconds')".to_owned(),
    })
}

/// Completes the running tasks `ids` (an SQL `uuid[]`) under the leases `tokens` with the
/// statement `complete_tasks` runs (`COMPLETE_POSTGRES`): the tasks succeeded with their
/// leases cleared, their `succeeded` events, their agents' counters.
fn pgbench_complete(fx: &Fixture, ids: &str, tokens: &str) -> String {
    let input = format!(
        "(SELECT jsonb_agg(jsonb_build_object('org', '{}'::uuid, 'id', u.id, 'token', u.token, \
         'event', gen_random_uuid(), 'actor', 'system', 'caller', 0)) \
         FROM unnest({ids}, {tokens}) AS u(id, token))",
        fx.org_uuid()
    );
    let statement = substitute(
        queue_statements::COMPLETE,
        &[(1, input), (2, "now()".to_owned())],
    );
    format!("{statement};\n")
}

/// How the ceiling of an enqueue audits its tasks, as the library does.
#[derive(Clone, Copy)]
enum Audited {
    /// One row a task with its snapshot (`create_task`: `task.create`).
    EachTask,
    /// One row for the statement's tasks, counting them and listing their ids
    /// (`enqueue_tasks`: `task.enqueue`).
    Batch,
}

/// Inserts `rows` tasks as the library writes them: the tasks, their `created` events and
/// their audit rows (`audited`).
fn pgbench_enqueue(fx: &Fixture, rows: u32, audited: Audited) -> String {
    let (org, project) = (fx.org_uuid(), fx.project_uuid());
    let audit = match audited {
        Audited::EachTask => "SELECT gen_random_uuid(), organization_id, 'system', 'task.create', \
             'task', id::text, to_jsonb(t), NULL, now()
FROM t"
            .to_owned(),
        Audited::Batch => "SELECT gen_random_uuid(), min(organization_id::text)::uuid, 'system', \
             'task.enqueue', 'task', min(id::text), jsonb_build_object('created_count', count(*), \
             'existing_count', 0, 'queued_count', count(*), 'blocked_count', 0, \
             'task_ids', jsonb_agg(id)), NULL, now()
FROM t"
            .to_owned(),
    };
    format!(
        "WITH t AS (
    INSERT INTO tasks (organization_id, id, project_id, title, description, status, priority,
        payload, required_capabilities, metadata, created_at, updated_at, progress, tags,
        attempts, max_attempts, claim_assigned)
    SELECT '{org}'::uuid, gen_random_uuid(), '{project}'::uuid, 'job ' || g, '', 'queued', 0,
        jsonb_build_object('i', g), '[]', '{{}}', now(), now(), 0, '[]', 0, 3, false
    FROM generate_series(1, {rows}) AS g
    RETURNING *
), history AS (
    INSERT INTO task_events
        (organization_id, id, task_id, from_status, to_status, actor, reason, created_at)
    SELECT organization_id, gen_random_uuid(), id, NULL, 'queued', 'system', 'created', now()
    FROM t
)
INSERT INTO audit_logs
    (id, organization_id, actor, action, entity, entity_id, changes, request_id, created_at)
{audit};
"
    )
}

pub fn ceiling(kind: CeilingKind, fx: &Fixture, n: u32, c: u32, batch: u32, bulk: u32) -> Ceiling {
    let per_client = |jobs_per_transaction: u32| (n / (c * jobs_per_transaction)).max(1);
    match kind {
        CeilingKind::EnqueueOne => Ceiling {
            script: pgbench_enqueue(fx, 1, Audited::EachTask),
            clients: c,
            transactions_per_client: per_client(1),
            jobs_per_transaction: 1,
        },
        CeilingKind::EnqueueBulk => Ceiling {
            script: pgbench_enqueue(fx, bulk, Audited::Batch),
            clients: 1,
            transactions_per_client: (n / bulk).max(1),
            jobs_per_transaction: bulk,
        },
        CeilingKind::DrainOne => Ceiling {
            script: format!(
                "-- the claim of orchestore-sea's CLAIM_POSTGRES, limit 1\n{}\n\\gset\n{}",
                pgbench_claim(fx, 1),
                pgbench_complete(fx, "ARRAY[:id::uuid]", "ARRAY[:lease_token::uuid]")
            ),
            clients: c,
            transactions_per_client: per_client(1),
            jobs_per_transaction: 1,
        },
        CeilingKind::DrainBatch | CeilingKind::DrainBatchEach => {
            let claim = pgbench_claim(fx, batch);
            assert!(
                claim.ends_with(CLAIM_RETURNS),
                "the claim no longer ends with `{CLAIM_RETURNS}`"
            );
            // The claim's rows, as two arrays pgbench can keep in variables.
            let claim = format!(
                "{}SELECT array_agg(id ORDER BY priority DESC, created_at, id)::text AS ids,
    array_agg(lease_token ORDER BY priority DESC, created_at, id)::text AS tokens FROM claimed",
                &claim[..claim.len() - CLAIM_RETURNS.len()]
            );
            let mut script = format!(
                "-- the claim of orchestore-sea's CLAIM_POSTGRES, limit {batch}, its rows as arrays\n{claim}\n\\gset\n"
            );
            if kind == CeilingKind::DrainBatch {
                script.push_str(&pgbench_complete(fx, ":ids::uuid[]", ":tokens::uuid[]"));
            } else {
                for k in 1..=batch {
                    script.push_str(&pgbench_complete(
                        fx,
                        &format!("ARRAY[(:ids::uuid[])[{k}]]"),
                        &format!("ARRAY[(:tokens::uuid[])[{k}]]"),
                    ));
                }
            }
            Ceiling {
                script,
                clients: c,
                transactions_per_client: per_client(batch),
                jobs_per_transaction: batch,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_is_the_queues_own_with_every_value_written_in() {
        let claim = claim_statement();
        assert!(claim.starts_with("WITH picked AS MATERIALIZED"));
        assert!(claim.contains("FOR NO KEY UPDATE SKIP LOCKED"));
        assert!(claim.contains("$11"));
        assert!(claim.ends_with(CLAIM_RETURNS));
        let agent = AgentId::from_uuid(Uuid::nil());
        let written = claim_sql(&ClaimSql {
            org: "'o'".into(),
            now: "now()".into(),
            agent: format!("'{agent}'"),
            limit: 3,
            lease_seconds: 300,
            actor: "'a'".into(),
            reason: "'r'".into(),
            event_ids: "'[]'".into(),
            heartbeat_before: "now()".into(),
        });
        assert!(
            !written.contains('$'),
            "every parameter is written in: {written}"
        );
        assert!(
            written.contains("NULL::jsonb IS NOT NULL"),
            "the plain claim takes no rate-limited task: {written}"
        );
        assert!(written.contains("FOR NO KEY UPDATE SKIP LOCKED"));
        assert!(written.ends_with(CLAIM_RETURNS));
    }

    #[test]
    fn ceiling_agents_match_their_sql() {
        assert_eq!(
            ceiling_agent(11).to_string(),
            "00000000-0000-4000-8000-00000000000b"
        );
    }
}
