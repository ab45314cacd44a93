//! Fairness keys: within one organization, claims serve the keys with claimable work in turn
//! (weighted round robin), among the tasks of the highest claimable priority.
//!
//! Each key of an organization has a row in `task_fairness_keys` with its weight and its
//! `pass`: the tasks claims took from it divided by its weight. The organization's tasks without
//! a key are one more group, the row with key `''`, of weight 1. A plain claim takes nothing
//! while a queued task with a key waits (one probe of a partial index that holds only such
//! tasks, empty in an organization that never uses keys); the claim then reads the groups, each
//! with the priority of the head of its claimable tasks, hands the claim's `limit` out among the
//! groups at the highest priority by stride scheduling (lowest pass first, the least recently
//! served on a tie), claims each group's share with the claim statement narrowed to the group
//! and that priority, and adds what it took, divided by the weight, to the group's pass in one
//! `UPDATE` — so concurrent claimers (which `SKIP LOCKED` keeps off each other's tasks) account
//! every task once, whatever the number of processes. A group that came up short leaves the
//! rest of the claim to another round. A group with no work whose pass fell more than one full
//! claim behind the lowest pass of the groups with work is lifted to it, so that it cannot take
//! the organization's workers over to catch up once its work comes, and a new key starts at the
//! organization's lowest pass.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use orchestore_domain::{BatchTask, DomainError, FairnessKey, FairnessWeight, TaskFairness};
use orchestore_repo::{Ctx, RepoResult};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Iterable, QueryFilter,
    QuerySelect, Set, Statement, Value,
};

use super::enqueue::rows_per_statement;
use super::entity::{task_fairness_keys as keys, tasks};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::Mutation;

/// The key of the group of an organization's tasks without a fairness key (a key is never
/// empty).
pub(super) const KEYLESS: &str = "";

/// How long a claim that found the keyless group without work takes it to have none without
/// looking again. That look walks the claimable index past every queued task with a key, so an
/// organization whose tasks all have keys pays it once in this span rather than at every claim;
/// a task without a key that becomes claimable meanwhile joins the rotation within it.
const KEYLESS_IDLE: chrono::Duration = chrono::Duration::seconds(1);

/// Whether a queued task with a fairness key waits in organization `$1` at `$2`.
const WAITING_POSTGRES: &str = "\
SELECT 1 AS waiting FROM tasks
WHERE organization_id = $1 AND status = 'queued' AND fairness_key IS NOT NULL
  AND (run_after IS NULL OR run_after <= $2)
LIMIT 1";

/// [`WAITING_POSTGRES`] on SQLite.
const WAITING_SQLITE: &str = "\
SELECT 1 AS waiting FROM tasks
WHERE organization_id = ?1 AND status = 'queued' AND fairness_key IS NOT NULL
  AND (run_after IS NULL OR run_after <= ?2)
LIMIT 1";

/// What makes task `t` claimable by agent `$3` at `$2` in organization `$1`, as the fair claim
/// statement has it (without rate limits: a claim takes the rate-limited path while such a task
/// waits).
macro_rules! claimable_postgres {
    () => {
        "(t.run_after IS NULL OR t.run_after <= $2)
          AND (t.assigned_agent_id IS NULL OR t.assigned_agent_id = $3)
          AND EXISTS (SELECT 1 FROM agents a
              WHERE a.organization_id = $1 AND a.id = $3 AND a.status <> 'inactive')
          AND (t.required_capabilities = '[]'::jsonb OR t.required_capabilities <@ (
              SELECT a.capabilities FROM agents a WHERE a.organization_id = $1 AND a.id = $3))
          AND t.rate_limits = '[]'::jsonb
          AND (t.concurrency_key IS NULL OR (SELECT count(*) FROM tasks r
              WHERE r.organization_id = $1 AND r.concurrency_key = t.concurrency_key
                AND r.status = 'running') < (SELECT k.max_running FROM task_concurrency_keys k
              WHERE k.organization_id = $1 AND k.key = t.concurrency_key))"
    };
}

/// [`claimable_postgres`] on SQLite.
macro_rules! claimable_sqlite {
    () => {
        "(t.run_after IS NULL OR t.run_after <= ?2)
          AND (t.assigned_agent_id IS NULL OR t.assigned_agent_id = ?3)
          AND EXISTS (SELECT 1 FROM agents a
              WHERE a.organization_id = ?1 AND a.id = ?3 AND a.status <> 'inactive')
          AND NOT EXISTS (
              SELECT 1 FROM json_each(t.required_capabilities) c
              WHERE c.value NOT IN (SELECT o.value FROM agents a, json_each(a.capabilities) o
                  WHERE a.organization_id = ?1 AND a.id = ?3))
          AND t.rate_limits = '[]'
          AND (t.concurrency_key IS NULL OR (SELECT count(*) FROM tasks r
              WHERE r.organization_id = ?1 AND r.concurrency_key = t.concurrency_key
                AND r.status = 'running') < (SELECT k.max_running FROM task_concurrency_keys k
              WHERE k.organization_id = ?1 AND k.key = t.concurrency_key))"
    };
}

/// The groups of organization `$1` for agent `$3` at `$2`: each key's weight and place in the
/// rotation, with the priority of the head of its claimable tasks (`NULL`: none). A key's head is
/// read from the partial index of queued tasks with a key. The keyless group's is read from the
/// claimable index, walking past the tasks with a key ahead of it (all of them when it has
/// none), unless a claim found it without work less than [`KEYLESS_IDLE`] ago (`looked` false).
const GROUPS_POSTGRES: &str = concat!(
    "SELECT k.key, k.weight, k.pass, k.last_served_at, TRUE AS looked, (SELECT t.priority FROM tasks t
        WHERE t.organization_id = $1 AND t.status = 'queued' AND t.fairness_key = k.key AND ",
    claimable_postgres!(),
    "
        ORDER BY t.priority DESC LIMIT 1) AS head
FROM task_fairness_keys k WHERE k.organization_id = $1 AND k.key <> ''
UNION ALL
SELECT k.key, k.weight, k.pass, k.last_served_at,
    (k.idle_until IS NULL OR k.idle_until <= $2) AS looked,
    CASE WHEN k.idle_until IS NULL OR k.idle_until <= $2 THEN (SELECT t.priority FROM tasks t
        WHERE t.organization_id = $1 AND t.status = 'queued' AND t.fairness_key IS NULL AND ",
    claimable_postgres!(),
    "
        ORDER BY t.priority DESC, t.created_at, t.id LIMIT 1) END AS head
FROM task_fairness_keys k WHERE k.organization_id = $1 AND k.key = ''"
);

/// [`GROUPS_POSTGRES`] on SQLite.
const GROUPS_SQLITE: &str = concat!(
    "SELECT k.key, k.weight, k.pass, k.last_served_at, 1 AS looked, (SELECT t.priority FROM tasks t
        WHERE t.organization_id = ?1 AND t.status = 'queued' AND t.fairness_key = k.key AND ",
    claimable_sqlite!(),
    "
        ORDER BY t.priority DESC LIMIT 1) AS head
FROM task_fairness_keys k WHERE k.organization_id = ?1 AND k.key <> ''
UNION ALL
SELECT k.key, k.weight, k.pass, k.last_served_at,
    (k.idle_until IS NULL OR k.idle_until <= ?2) AS looked,
    CASE WHEN k.idle_until IS NULL OR k.idle_until <= ?2 THEN (SELECT t.priority FROM tasks t
        WHERE t.organization_id = ?1 AND t.status = 'queued' AND t.fairness_key IS NULL AND ",
    claimable_sqlite!(),
    "
        ORDER BY t.priority DESC, t.created_at, t.id LIMIT 1) END AS head
FROM task_fairness_keys k WHERE k.organization_id = ?1 AND k.key = ''"
);

/// A group of the rotation as a fair claim reads it.
#[derive(Debug, FromQueryResult)]
struct Group {
    key: String,
    weight: i32,
    pass: f64,
    last_served_at: Option<DateTime<Utc>>,
    /// Whether the read looked for the group's work (the keyless group's look may be skipped).
    looked: bool,
    /// The priority of the head of the group's claimable tasks, if it has any.
    head: Option<i32>,
}

/// One group's share of a claim: up to `quota` of its tasks of `priority`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Turn {
    /// The group's key, [`KEYLESS`] for the tasks without one.
    pub(super) key: String,
    pub(super) weight: i32,
    pub(super) priority: i32,
    pub(super) quota: u32,
}

/// How a round of a fair claim hands out `limit` tasks: the groups whose head has the highest
/// priority, in rotation order (lowest pass, then least recently served, then key), each task
/// to the group with the lowest pass counting what this claim already gave it (stride
/// scheduling: a group's pass grows by `1 / weight` a task). Answers the turns in rotation
/// order, without the groups given nothing.
fn plan(groups: &[Group], limit: u32) -> Vec<Turn> {
    let Some(top) = groups.iter().filter_map(|g| g.head).max() else {
        return Vec::new();
    };
    let mut candidates: Vec<&Group> = groups.iter().filter(|g| g.head == Some(top)).collect();
    candidates.sort_by(|a, b| {
        a.pass
            .total_cmp(&b.pass)
            .then_with(|| match (a.last_served_at, b.last_served_at) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (Some(x), Some(y)) => x.cmp(&y),
            })
            .then_with(|| a.key.cmp(&b.key))
    });
    let mut passes: Vec<f64> = candidates.iter().map(|g| g.pass).collect();
    let mut quotas = vec![0u32; candidates.len()];
    for _ in 0..limit {
        // The first lowest: a tie goes to the group earlier in rotation order.
        let mut next = 0;
        for (i, pass) in passes.iter().enumerate() {
            if *pass < passes[next] {
                next = i;
            }
        }
        quotas[next] += 1;
        passes[next] += 1.0 / f64::from(Ord::max(candidates[next].weight, 1));
    }
    candidates
        .into_iter()
        .zip(quotas)
        .filter(|(_, quota)| *quota > 0)
        .map(|(g, quota)| Turn {
            key: g.key.clone(),
            weight: g.weight,
            priority: top,
            quota,
        })
        .collect()
}

/// The groups with no work whose pass is more than one full claim (`limit` tasks at weight 1,
/// the largest step) behind the lowest pass of the groups with work, with that pass: each is
/// lifted to it. The lag keeps the write rare.
fn idle_to_lift(groups: &[Group], limit: u32) -> Vec<(String, f64)> {
    let Some(lowest) = groups
        .iter()
        .filter(|g| g.head.is_some())
        .map(|g| g.pass)
        .min_by(f64::total_cmp)
    else {
        return Vec::new();
    };
    groups
        .iter()
        .filter(|g| g.head.is_none() && g.pass < lowest - f64::from(limit))
        .map(|g| (g.key.clone(), lowest))
        .collect()
}

/// A task row's fairness key with the weight it was enqueued with.
pub(crate) fn task_fairness(row: &tasks::Model) -> RepoResult<Option<TaskFairness>> {
    let domain = |e: DomainError| corrupt("task", e);
    match (&row.fairness_key, row.fairness_weight) {
        (None, None) => Ok(None),
        (Some(key), Some(weight)) => Ok(Some(TaskFairness {
            key: FairnessKey::parse(key).map_err(domain)?,
            weight: FairnessWeight::parse(i64::from(weight)).map_err(domain)?,
        })),
        _ => Err(corrupt("task", "a fairness key comes with its weight")),
    }
}

/// Writes `fairness` into a task row's columns.
pub(crate) fn set_task_fairness(row: &mut tasks::Model, fairness: Option<&TaskFairness>) {
    row.fairness_key = fairness.map(|f| f.key.as_str().to_owned());
    row.fairness_weight = fairness.map(|f| i32::from(f.weight.get()));
}

impl SeaStore {
    /// Writes the fairness keys the new tasks of a batch name (`new`, positions in `batch`),
    /// inside the enqueue's mutation, and answers each key with the weight of the last task of
    /// the batch naming it (the latest enqueue wins), which every new task of the key then
    /// carries. A new key, and the group of the tasks without a key the first time any key is
    /// written, start at the organization's lowest pass, level with the groups already there
    /// rather than owed every task they took before. An existing key's row is written only when
    /// its weight changes, so that enqueues of a key do not hold its row against claims.
    pub(super) async fn admit_to_fairness_keys(
        &self,
        m: &Mutation<'_>,
        batch: &[BatchTask],
        new: &[usize],
    ) -> RepoResult<BTreeMap<String, TaskFairness>> {
        let mut latest: BTreeMap<String, TaskFairness> = BTreeMap::new();
        for &i in new {
            if let Some(fairness) = &batch[i].task.fairness {
                latest.insert(fairness.key.as_str().to_owned(), fairness.clone());
            }
        }
        if latest.is_empty() {
            return Ok(latest);
        }
        let org = m.ctx().org().as_uuid();
        let lowest = keys::Entity::find()
            .select_only()
            .column_as(
                Expr::from(Func::min(Expr::col(keys::Column::Pass))),
                "lowest",
            )
            .filter(keys::Column::OrganizationId.eq(org))
            .into_tuple::<Option<f64>>()
            .one(m.txn())
            .await
            .map_err(db_err)?
            .flatten()
            .unwrap_or(0.0);
        let row = |key: &str, weight: i32| keys::ActiveModel {
            organization_id: Set(org),
            key: Set(key.to_owned()),
            weight: Set(weight),
            pass: Set(lowest),
            last_served_at: Set(None),
            idle_until: Set(None),
            created_at: Set(m.at()),
            updated_at: Set(m.at()),
        };
        let rows: Vec<keys::ActiveModel> = std::iter::once(row(KEYLESS, 1))
            .chain(
                latest
                    .values()
                    .map(|f| row(f.key.as_str(), i32::from(f.weight.get()))),
            )
            .collect();
        let per_statement = rows_per_statement(self.is_postgres(), keys::Column::iter().count());
        for chunk in rows.chunks(per_statement) {
            keys::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([keys::Column::OrganizationId, keys::Column::Key])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(m.txn())
                .await
                .map_err(db_err)?;
        }
        let mut by_weight: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
        for fairness in latest.values() {
            by_weight
                .entry(i32::from(fairness.weight.get()))
                .or_default()
                .push(fairness.key.as_str());
        }
        for (weight, names) in by_weight {
            for chunk in names.chunks(super::enqueue::LOOKUP) {
                keys::Entity::update_many()
                    .col_expr(keys::Column::Weight, Expr::value(weight))
                    .col_expr(keys::Column::UpdatedAt, Expr::value(m.at()))
                    .filter(keys::Column::OrganizationId.eq(org))
                    .filter(keys::Column::Key.is_in(chunk.iter().copied()))
                    .filter(keys::Column::Weight.ne(weight))
                    .exec(m.txn())
                    .await
                    .map_err(db_err)?;
            }
        }
        Ok(latest)
    }

    /// Whether a queued task with a fairness key waits in the organization at `at`: then
    /// claims take the fair path.
    pub(super) async fn fairness_keys_waiting(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let (backend, sql) = if self.is_postgres() {
            (DbBackend::Postgres, WAITING_POSTGRES)
        } else {
            (DbBackend::Sqlite, WAITING_SQLITE)
        };
        let values: [Value; 2] = [ctx.org().as_uuid().into(), at.into()];
        let found = db
            .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(db_err)?;
        Ok(found.is_some())
    }

    /// The organization's groups, as agent `agent` may claim from them at `at`.
    async fn fairness_groups(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        agent: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> RepoResult<Vec<Group>> {
        let (backend, sql) = if self.is_postgres() {
            (DbBackend::Postgres, GROUPS_POSTGRES)
        } else {
            (DbBackend::Sqlite, GROUPS_SQLITE)
        };
        let values: [Value; 3] = [ctx.org().as_uuid().into(), at.into(), agent.into()];
        Group::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
            .all(db)
            .await
            .map_err(db_err)
    }

    /// Accounts `taken` tasks claimed from the group `key` of weight `weight` at `at`.
    pub(super) async fn serve_fairness_key(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        key: &str,
        weight: i32,
        taken: usize,
        at: DateTime<Utc>,
    ) -> RepoResult<()> {
        let added = taken as f64 / f64::from(Ord::max(weight, 1));
        keys::Entity::update_many()
            .col_expr(keys::Column::Pass, Expr::col(keys::Column::Pass).add(added))
            .col_expr(keys::Column::LastServedAt, Expr::value(at))
            .filter(keys::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(keys::Column::Key.eq(key))
            .exec(db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// The turns of a round of a fair claim of up to `limit` tasks by `agent`, `remaining` of
    /// them still to take, leaving out the groups in `passed`: the organization's groups are
    /// read, and the claim's first round (`first`) lifts the idle groups far behind. A claim
    /// repeats rounds, each claim of a turn followed by [`Self::serve_fairness_key`], until it
    /// has its `limit` or no turn is left; a group whose turn took nothing (other claimers hold
    /// its head) is passed over for the rest of the claim.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn fair_turns(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        agent: uuid::Uuid,
        limit: u32,
        remaining: u32,
        at: DateTime<Utc>,
        first: bool,
        passed: &[String],
    ) -> RepoResult<Vec<Turn>> {
        let mut groups = self.fairness_groups(db, ctx, agent, at).await?;
        if groups
            .iter()
            .any(|g| g.key == KEYLESS && g.looked && g.head.is_none())
        {
            keys::Entity::update_many()
                .col_expr(keys::Column::IdleUntil, Expr::value(at + KEYLESS_IDLE))
                .filter(keys::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(keys::Column::Key.eq(KEYLESS))
                .exec(db)
                .await
                .map_err(db_err)?;
        }
        if first {
            self.lift_idle_fairness_keys(db, ctx, idle_to_lift(&groups, limit))
                .await?;
        }
        groups.retain(|g| !passed.contains(&g.key));
        Ok(plan(&groups, remaining))
    }

    /// Lifts the idle groups [`idle_to_lift`] names. A group that has work again since the read
    /// is lifted all the same: it had none then.
    async fn lift_idle_fairness_keys(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        lifted: Vec<(String, f64)>,
    ) -> RepoResult<()> {
        for (key, pass) in lifted {
            keys::Entity::update_many()
                .col_expr(keys::Column::Pass, Expr::value(pass))
                .filter(keys::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(keys::Column::Key.eq(key))
                .filter(keys::Column::Pass.lt(pass))
                .exec(db)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(key: &str, weight: i32, pass: f64, head: Option<i32>) -> Group {
        Group {
            key: key.to_owned(),
            weight,
            pass,
            last_served_at: None,
            looked: true,
            head,
        }
    }

    #[test]
    fn a_claim_spreads_over_the_groups_of_the_top_priority() {
        let groups = [
            group("a", 1, 0.0, Some(5)),
            group("b", 1, 0.0, Some(5)),
            group("c", 1, 0.0, Some(1)),
            group(KEYLESS, 1, 0.0, None),
        ];
        let turns = plan(&groups, 5);
        let quotas: Vec<(&str, u32, i32)> = turns
            .iter()
            .map(|t| (t.key.as_str(), t.quota, t.priority))
            .collect();
        assert_eq!(quotas, [("a", 3, 5), ("b", 2, 5)]);
    }

    #[test]
    fn weights_and_passes_decide_the_shares() {
        let groups = [group("a", 3, 0.0, Some(0)), group("b", 1, 0.0, Some(0))];
        let quotas: Vec<u32> = plan(&groups, 8).iter().map(|t| t.quota).collect();
        assert_eq!(quotas, [6, 2]);
        // A group behind is served first, until it is level.
        let groups = [group("a", 1, 4.0, Some(0)), group("b", 1, 1.0, Some(0))];
        let turns = plan(&groups, 1);
        let quotas: Vec<(&str, u32)> = turns.iter().map(|t| (t.key.as_str(), t.quota)).collect();
        assert_eq!(quotas, [("b", 1)]);
        assert!(plan(&[group("a", 1, 0.0, None)], 3).is_empty());
    }

    #[test]
    fn only_idle_groups_far_behind_are_lifted() {
        let groups = [
            group("a", 1, 100.0, Some(0)),
            group("b", 1, 10.0, None),
            group("c", 1, 99.0, None),
        ];
        assert_eq!(idle_to_lift(&groups, 10), [("b".to_owned(), 100.0)]);
    }
}
