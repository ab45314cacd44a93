//! Status changes and what follows from them, inside a mutation: each change appends its
//! event; a task that succeeds queues the blocked tasks it was the last open dependency of; one
//! that fails or is cancelled cancels the blocked tasks waiting for it, and theirs; and the
//! workflow executions whose steps these tasks run follow them (`crate::workflows`).
//!
//! Rows are changed in sets (`IN` lists of at most [`CHUNK`] ids), so a task with thousands of
//! dependents costs a handful of statements, and a chain of any length is walked by one
//! recursive query.
//!
//! On PostgreSQL, the tasks about to change are locked first (`FOR UPDATE`, in id order) and
//! their dependencies read after the lock: two dependencies of one task that succeed at the
//! same time are then seen one after the other, so the second one queues it. SQLite's write
//! transactions run one at a time.

use std::collections::{BTreeMap, BTreeSet};

use orchestore_domain::TaskStatus;
use orchestore_repo::{Ctx, RepoResult};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Condition, Expr, ExprTrait, JoinType, Query, SelectStatement,
    UnionType, WithClause,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
    Iterable, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::entity::{task_dependencies, task_events, tasks};
use crate::SeaStore;
use crate::error::db_err;
use crate::mutation::Mutation;
use crate::revision::Revised;

/// The most ids in one `IN` list, well under every backend's limit on bound values.
pub(crate) const CHUNK: usize = 500;

/// How many ids of the tasks a change carried along its audit row lists.
pub(crate) const AUDITED_IDS: usize = 1000;

/// How many history events one `INSERT` takes on PostgreSQL.
const EVENT_RECORDS: usize = 10_000;

/// Appends history events on PostgreSQL: `$1` organization, `$2` actor, `$3` time, `$4` a JSON
/// array of `{id, task_id, from_status, to_status, reason}`.
const INSERT_EVENTS_POSTGRES: &str = "\
INSERT INTO task_events
    (organization_id, id, task_id, from_status, to_status, actor, reason, created_at)
SELECT $1, r.id, r.task_id, r.from_status, r.to_status, $2, r.reason, $3
FROM jsonb_to_recordset($4::jsonb)
    AS r(id uuid, task_id uuid, from_status text, to_status text, reason text)";

/// A status change to append to a task's history.
pub(crate) struct Moved {
    pub(crate) task: Uuid,
    pub(crate) from: Option<TaskStatus>,
    pub(crate) to: TaskStatus,
    pub(crate) reason: String,
}

/// The tasks a change carried along: queued because their last open dependency succeeded (or
/// went), or cancelled because a dependency failed or was cancelled (or their execution was).
#[derive(Default)]
pub(crate) struct Followed {
    pub(crate) released: Vec<Uuid>,
    pub(crate) cancelled: Vec<Uuid>,
}

impl Followed {
    /// Adds the carried tasks to an audit row's `changes`, counted, the first ones named.
    pub(crate) fn annotate(&self, changes: &mut Value) {
        let Some(object) = changes.as_object_mut() else {
            return;
        };
        for (key, ids) in [
            ("released_tasks", &self.released),
            ("cancelled_tasks", &self.cancelled),
        ] {
            if !ids.is_empty() {
                object.insert(format!("{key}_count"), ids.len().into());
                object.insert(
                    key.to_owned(),
                    json!(ids.iter().take(AUDITED_IDS).collect::<Vec<_>>()),
                );
            }
        }
    }
}

/// `d`: the edges table; `t`: a task joined on one end.
fn edges() -> Alias {
    Alias::new("d")
}

fn task_alias() -> Alias {
    Alias::new("t")
}

/// `t` joined as the task at the `end` column of edge `d`, in the same organization.
fn join_task(select: &mut SelectStatement, end: task_dependencies::Column) {
    select.join_as(
        JoinType::InnerJoin,
        tasks::Entity,
        task_alias(),
        Condition::all()
            .add(
                Expr::col((task_alias(), tasks::Column::OrganizationId))
                    .equals((edges(), task_dependencies::Column::OrganizationId)),
            )
            .add(Expr::col((task_alias(), tasks::Column::Id)).equals((edges(), end))),
    );
}

/// The organization's edges whose waiting task is blocked, for the caller to narrow:
/// `SELECT d.task_id, d.depends_on_id FROM task_dependencies d JOIN tasks t ON t.id =
/// d.task_id WHERE t.status = 'blocked'`.
fn blocked_dependents(ctx: &Ctx) -> SelectStatement {
    let mut select = Query::select()
        .column((edges(), task_dependencies::Column::TaskId))
        .column((edges(), task_dependencies::Column::DependsOnId))
        .from_as(task_dependencies::Entity, edges())
        .and_where(
            Expr::col((edges(), task_dependencies::Column::OrganizationId)).eq(ctx.org().as_uuid()),
        )
        .to_owned();
    join_task(&mut select, task_dependencies::Column::TaskId);
    select.and_where(
        Expr::col((task_alias(), tasks::Column::Status)).eq(TaskStatus::Blocked.as_str()),
    );
    select
}

/// Decodes a UUID column of a raw row.
fn uuid_at(row: &sea_orm::QueryResult, column: &str) -> RepoResult<Uuid> {
    row.try_get::<Uuid>("", column).map_err(db_err)
}

impl SeaStore {
    /// Appends the events of `moves`, at the mutation's time, by its actor. PostgreSQL takes
    /// them as one JSON parameter (see `INSERT_EVENTS_POSTGRES`), SQLite as multi-row inserts.
    pub(crate) async fn record_events(&self, m: &Mutation<'_>, moves: &[Moved]) -> RepoResult<()> {
        let actor = m.ctx().actor().to_string();
        let event = |moved: &Moved| task_events::Model {
            organization_id: m.ctx().org().as_uuid(),
            id: orchestore_domain::TaskEventId::new().as_uuid(),
            task_id: moved.task,
            from_status: moved.from.map(|s| s.as_str().to_owned()),
            to_status: moved.to.as_str().to_owned(),
            actor: actor.clone(),
            reason: moved.reason.clone(),
            created_at: m.at(),
        };
        if self.is_postgres() {
            for chunk in moves.chunks(EVENT_RECORDS) {
                let input: Vec<Value> = chunk
                    .iter()
                    .map(|moved| {
                        let e = event(moved);
                        json!({
                            "id": e.id,
                            "task_id": e.task_id,
                            "from_status": e.from_status,
                            "to_status": e.to_status,
                            "reason": e.reason,
                        })
                    })
                    .collect();
                let statement = Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    INSERT_EVENTS_POSTGRES,
                    [
                        m.ctx().org().as_uuid().into(),
                        actor.clone().into(),
                        m.at().into(),
                        Value::Array(input).into(),
                    ],
                );
                m.txn().execute_raw(statement).await.map_err(db_err)?;
            }
            return Ok(());
        }
        let per_statement =
            super::enqueue::rows_per_statement(false, task_events::Column::iter().count());
        for chunk in moves.chunks(per_statement) {
            let rows = chunk
                .iter()
                .map(|moved| event(moved).into_active_model().reset_all());
            task_events::Entity::insert_many(rows)
                .exec_without_returning(m.txn())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    /// Those of `ids` that are in `status` now, in id order; locked on PostgreSQL.
    pub(crate) async fn lock_in_status(
        &self,
        m: &Mutation<'_>,
        ids: &BTreeSet<Uuid>,
        status: TaskStatus,
    ) -> RepoResult<Vec<Uuid>> {
        let ids: Vec<Uuid> = ids.iter().copied().collect();
        let mut found = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut query = crate::scoped::scoped::<tasks::Entity>(m.ctx())
                .select_only()
                .column(tasks::Column::Id)
                .filter(tasks::Column::Id.is_in(chunk.iter().copied()))
                .filter(tasks::Column::Status.eq(status.as_str()))
                .order_by_asc(tasks::Column::Id);
            if self.is_postgres() {
                query = query.lock_exclusive();
            }
            let rows: Vec<Uuid> = query.into_tuple().all(m.txn()).await.map_err(db_err)?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// Moves the tasks of `reasons` (locked, each in `from`) to `to`, with the run timing
    /// `to` implies (a run that ends loses its lease), and appends their events.
    pub(crate) async fn move_tasks(
        &self,
        m: &Mutation<'_>,
        from: TaskStatus,
        to: TaskStatus,
        reasons: Vec<(Uuid, String)>,
    ) -> RepoResult<()> {
        let ids: Vec<Uuid> = reasons.iter().map(|(id, _)| *id).collect();
        if to == TaskStatus::Queued && !ids.is_empty() {
            m.queued_work(ids.len());
        }
        for chunk in ids.chunks(CHUNK) {
            let mut update = tasks::Entity::update_many()
                .col_expr(tasks::Column::Status, Expr::value(to.as_str()))
                .col_expr(tasks::Column::UpdatedAt, Expr::value(m.at()))
                .col_expr(tasks::Column::Revision, tasks::Entity::next_revision());
            if to.ends_a_run() {
                update = update.col_expr(tasks::Column::FinishedAt, Expr::value(Some(m.at())));
            }
            if from == TaskStatus::Running {
                // Its worker's token stops working: the run is over.
                update = update
                    .col_expr(tasks::Column::LeaseToken, Expr::value(None::<Uuid>))
                    .col_expr(
                        tasks::Column::LeaseExpiresAt,
                        Expr::value(None::<chrono::DateTime<chrono::Utc>>),
                    );
            }
            update
                .filter(tasks::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
                .filter(tasks::Column::Id.is_in(chunk.iter().copied()))
                .filter(tasks::Column::Status.eq(from.as_str()))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
        }
        let moves: Vec<Moved> = reasons
            .into_iter()
            .map(|(task, reason)| Moved {
                task,
                from: Some(from),
                to,
                reason,
            })
            .collect();
        self.record_events(m, &moves).await
    }

    /// Of `ids`, those with a dependency that has not succeeded.
    pub(crate) async fn still_waiting(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        ids: &[Uuid],
    ) -> RepoResult<BTreeSet<Uuid>> {
        let mut waiting = BTreeSet::new();
        for chunk in ids.chunks(CHUNK) {
            let mut select = Query::select()
                .distinct()
                .column((edges(), task_dependencies::Column::TaskId))
                .from_as(task_dependencies::Entity, edges())
                .and_where(
                    Expr::col((edges(), task_dependencies::Column::OrganizationId))
                        .eq(ctx.org().as_uuid()),
                )
                .and_where(
                    Expr::col((edges(), task_dependencies::Column::TaskId))
                        .is_in(chunk.iter().copied()),
                )
                .to_owned();
            join_task(&mut select, task_dependencies::Column::DependsOnId);
            select.and_where(
                Expr::col((task_alias(), tasks::Column::Status)).ne(TaskStatus::Succeeded.as_str()),
            );
            for row in db.query_all(&select).await.map_err(db_err)? {
                waiting.insert(uuid_at(&row, "task_id")?);
            }
        }
        Ok(waiting)
    }

    /// Queues those of `candidates` that are blocked with every dependency succeeded, each
    /// for `reason(task)`; returns them.
    pub(crate) async fn release_ready(
        &self,
        m: &Mutation<'_>,
        candidates: &BTreeSet<Uuid>,
        reason: impl Fn(Uuid) -> String,
    ) -> RepoResult<Vec<Uuid>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let blocked = self
            .lock_in_status(m, candidates, TaskStatus::Blocked)
            .await?;
        let waiting = self.still_waiting(m.txn(), m.ctx(), &blocked).await?;
        let ready: Vec<Uuid> = blocked
            .into_iter()
            .filter(|id| !waiting.contains(id))
            .collect();
        let reasons = ready.iter().map(|&id| (id, reason(id))).collect();
        self.move_tasks(m, TaskStatus::Blocked, TaskStatus::Queued, reasons)
            .await?;
        // A waiting step is reached when its task is queued.
        self.reach_waits(m, &ready).await?;
        Ok(ready)
    }

    /// The tasks waiting for `task`.
    pub(crate) async fn dependents_of(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        task: Uuid,
    ) -> RepoResult<BTreeSet<Uuid>> {
        let rows: Vec<Uuid> = task_dependencies::Entity::find()
            .select_only()
            .column(task_dependencies::Column::TaskId)
            .filter(task_dependencies::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(task_dependencies::Column::DependsOnId.eq(task))
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().collect())
    }

    /// What the tasks of `changes` (each locked, and the status it became) do to the tasks
    /// waiting for them and then to the workflow executions whose steps they and the tasks they
    /// cancelled run (see the module).
    pub(crate) async fn follow(
        &self,
        m: &Mutation<'_>,
        changes: &[(Uuid, TaskStatus)],
    ) -> RepoResult<Followed> {
        let mut followed = Followed::default();
        for &(task, to) in changes {
            let one = self.follow_status(m, task, to).await?;
            followed.released.extend(one.released);
            followed.cancelled.extend(one.cancelled);
        }
        let mut ended = changes.to_vec();
        ended.extend(
            followed
                .cancelled
                .iter()
                .map(|&task| (task, TaskStatus::Cancelled)),
        );
        self.follow_executions(m, &ended).await?;
        Ok(followed)
    }

    /// What `task` becoming `to` does to the tasks waiting for it.
    async fn follow_status(
        &self,
        m: &Mutation<'_>,
        task: Uuid,
        to: TaskStatus,
    ) -> RepoResult<Followed> {
        match to {
            TaskStatus::Succeeded => {
                let dependents = self.dependents_of(m.txn(), m.ctx(), task).await?;
                let released = self
                    .release_ready(m, &dependents, |_| format!("dependency {task} succeeded"))
                    .await?;
                Ok(Followed {
                    released,
                    cancelled: Vec::new(),
                })
            }
            TaskStatus::Failed | TaskStatus::Cancelled => {
                let cancelled = self.cancel_dependents(m, &[task].into(), to).await?;
                Ok(Followed {
                    released: Vec::new(),
                    cancelled,
                })
            }
            _ => Ok(Followed::default()),
        }
    }

    /// Cancels every blocked task that waits for one of `roots` (which became `root_status`),
    /// directly or through other blocked tasks, each with the dependency that doomed it as the
    /// reason; returns them.
    pub(crate) async fn cancel_dependents(
        &self,
        m: &Mutation<'_>,
        roots: &BTreeSet<Uuid>,
        root_status: TaskStatus,
    ) -> RepoResult<Vec<Uuid>> {
        // A task doomed by several dependencies names a root if one is, else the first.
        let mut causes: BTreeMap<Uuid, Uuid> = BTreeMap::new();
        let listed: Vec<Uuid> = roots.iter().copied().collect();
        for chunk in listed.chunks(CHUNK) {
            for (task, by) in self.doomed_by(m, chunk).await? {
                let entry = causes.entry(task).or_insert(by);
                let better = match (roots.contains(&by), roots.contains(entry)) {
                    (true, false) => true,
                    (false, true) => false,
                    _ => by < *entry,
                };
                if better {
                    *entry = by;
                }
            }
        }
        let candidates: BTreeSet<Uuid> = causes.keys().copied().collect();
        let locked = self
            .lock_in_status(m, &candidates, TaskStatus::Blocked)
            .await?;
        let reasons = locked
            .iter()
            .map(|task| {
                let by = causes.get(task).copied().unwrap_or_default();
                let what = if roots.contains(&by) && root_status == TaskStatus::Failed {
                    "failed"
                } else {
                    "was cancelled"
                };
                (*task, format!("dependency {by} {what}"))
            })
            .collect();
        self.move_tasks(m, TaskStatus::Blocked, TaskStatus::Cancelled, reasons)
            .await?;
        Ok(locked)
    }

    /// Every blocked task that waits for one of `roots`, directly or through other blocked
    /// tasks, with a dependency it waits for on that way (each pair once).
    async fn doomed_by(&self, m: &Mutation<'_>, roots: &[Uuid]) -> RepoResult<Vec<(Uuid, Uuid)>> {
        // WITH RECURSIVE doomed(id, cause) AS (the blocked dependents of the roots UNION the
        // blocked dependents of doomed) SELECT id, cause FROM doomed
        let doomed = Alias::new("doomed");
        let (id, cause) = (Alias::new("id"), Alias::new("cause"));
        let mut base = blocked_dependents(m.ctx())
            .and_where(
                Expr::col((edges(), task_dependencies::Column::DependsOnId))
                    .is_in(roots.iter().copied()),
            )
            .to_owned();
        let step = blocked_dependents(m.ctx())
            .join(
                JoinType::InnerJoin,
                doomed.clone(),
                Expr::col((doomed.clone(), id.clone()))
                    .equals((edges(), task_dependencies::Column::DependsOnId)),
            )
            .to_owned();
        let cte = CommonTableExpression::new()
            .query(base.union(UnionType::Distinct, step).to_owned())
            .columns([id.clone(), cause.clone()])
            .table_name(doomed.clone())
            .to_owned();
        let query = Query::select()
            .columns([id, cause])
            .from(doomed)
            .to_owned()
            .with(WithClause::new().recursive(true).cte(cte).to_owned());
        let mut pairs = Vec::new();
        for row in m.txn().query_all(&query).await.map_err(db_err)? {
            pairs.push((uuid_at(&row, "id")?, uuid_at(&row, "cause")?));
        }
        Ok(pairs)
    }
}
