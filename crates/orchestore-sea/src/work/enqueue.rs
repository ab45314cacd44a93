//! Enqueueing: the one way tasks are created, one at a time or by the thousand.
//!
//! A call runs in one mutation, in a fixed number of statements whatever the batch holds:
//!
//! 1. the tasks already created with the batch's idempotency keys (one lookup per
//!    [`LOOKUP`] keys) — those are answered as they are, and nothing is written for them;
//! 2. the references of the new tasks, each kind for the whole batch at once: projects,
//!    parents, assigned agents (`FOR KEY SHARE` on PostgreSQL, so none goes before the
//!    commit), and the dependencies with their status (`FOR SHARE`: a dependency cannot
//!    change its status until the commit, so its success sees the new edges, or this
//!    transaction sees its success). The first task at fault, in batch order, fails the call;
//! 3. the new tasks, in multi-row `INSERT … RETURNING` statements of as many rows as the
//!    backend's limit on bound values allows ([`rows_per_statement`]: 2,259 tasks a statement
//!    on PostgreSQL, 1,129 on SQLite); their dependency edges and their history events the same
//!    way; one audit row.
//!
//! Two calls racing with one idempotency key (PostgreSQL; SQLite's writers take turns): the
//! second one's insert waits for the first at the unique index
//! `idx_tasks_organization_idempotency_key` and fails when the first commits; the mutation rolls
//! back and the call starts over (up to [`KEY_RACES`] times), finding the first task in step 1.
//! Keyed rows are inserted in key order, so that two such calls never wait for each other in a
//! cycle.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use orchestore_domain::{BatchTask, DomainError, Enqueued, NewTask, Revision, TaskId, TaskStatus};
use orchestore_repo::{Ctx, RepoError, RepoResult};
use sea_orm::sea_query::{Expr, LockType, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    IntoActiveModel, Iterable, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use serde_json::json;
use uuid::Uuid;

use super::bodies::Body;
use super::concurrency::set_task_concurrency;
use super::entity::{projects, task_dependencies, tasks};
use super::fairness_keys::set_task_fairness;
use super::task_records::{TaskRecord, insert_tasks_with_history, json_parameter};
use super::tasks::{tags_value, to_task};
use super::transitions::Moved;
use crate::SeaStore;
use crate::agents::entity::agents;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::mutation::{Mutation, Verb, snapshot};
use crate::scoped::{Tenanted, scoped};

/// The most values in the `IN` list of one lookup, under both backends' limits on bound values.
pub(super) const LOOKUP: usize = 5_000;

/// How many times a call tries, losing the race for an idempotency key to another call each
/// time but the last: a call loses at most once to each call running beside it.
const KEY_RACES: usize = 8;

/// How many ids of the created tasks a batch's audit row lists.
const AUDITED_IDS: usize = 1000;

/// The most bound values in one statement: PostgreSQL's protocol counts them in 16 bits, and
/// SQLite's `SQLITE_MAX_VARIABLE_NUMBER` is 32,766 (since 3.32).
const fn max_bound_values(postgres: bool) -> usize {
    if postgres { 65_535 } else { 32_766 }
}

/// How many rows of `columns` bound values each fit in one statement.
pub(crate) fn rows_per_statement(postgres: bool, columns: usize) -> usize {
    (max_bound_values(postgres) / columns.max(1)).max(1)
}

/// How many new tasks one `INSERT` takes on PostgreSQL (one JSON parameter).
const RECORDSET_ROWS: usize = 5_000;

/// Inserts new tasks on PostgreSQL, in order, with their creation events in their history, and
/// returns them as stored.
const INSERT_TASKS_POSTGRES: &str =
    concat!(insert_tasks_with_history!("$2"), "\nSELECT * FROM inserted");

/// How the call records itself in the audit log.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// One task, as a creation: `task.create` with the task's snapshot.
    Create,
    /// A batch: one `task.enqueue` row counting the tasks and naming the first.
    Batch,
}

/// A task of the batch: found by its idempotency key, or to be created with this id.
enum Slot {
    Existing(Box<tasks::Model>),
    New(TaskId),
}

impl Slot {
    fn id(&self) -> Uuid {
        match self {
            Self::Existing(row) => row.id,
            Self::New(id) => id.as_uuid(),
        }
    }
}

/// What the checks of a new task decided.
struct Checked {
    status: TaskStatus,
    /// How many of its dependencies have not succeeded.
    open: usize,
    /// Every task it waits for, in the batch or not.
    depends_on: BTreeSet<Uuid>,
}

/// Whether a call failed because another one created a task with one of its idempotency keys
/// between its lookup and its insert.
fn lost_key_race(err: &RepoError) -> bool {
    matches!(
        err,
        RepoError::Conflict {
            entity: "task",
            field: Some("idempotency_key"),
            ..
        }
    )
}

/// The reason in the creation event of a task that waits for nothing.
pub(super) const CREATED: &str = "created";

pub(super) fn creation_reason(open: usize) -> String {
    match open {
        0 => CREATED.to_owned(),
        1 => "created waiting for 1 open dependency".to_owned(),
        n => format!("created waiting for {n} open dependencies"),
    }
}

impl SeaStore {
    /// Enqueues `batch` (see [`orchestore_repo::QueueRepo::enqueue_tasks`]), recording it as
    /// `recorded` says; starts over when it loses the race for an idempotency key.
    pub(crate) async fn enqueue(
        &self,
        ctx: &orchestore_repo::Ctx,
        batch: Vec<BatchTask>,
        recorded: Recorded,
    ) -> RepoResult<Vec<Enqueued>> {
        if let Some(fault) = BatchTask::check_batch(&batch).into_iter().next() {
            return Err(fault.into());
        }
        let mut attempt = 1;
        loop {
            let result = self
                .mutate(ctx, async |m| self.enqueue_in(m, &batch, recorded).await)
                .await;
            match result {
                Err(err) if attempt < KEY_RACES && lost_key_race(&err) => {
                    tracing::debug!(
                        attempt,
                        "another call took an idempotency key: starting over"
                    );
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// The work of [`enqueue`](Self::enqueue) inside mutation `m`, for a batch that passed
    /// [`BatchTask::check_batch`].
    pub(crate) async fn enqueue_in(
        &self,
        m: &Mutation<'_>,
        batch: &[BatchTask],
        recorded: Recorded,
    ) -> RepoResult<Vec<Enqueued>> {
        let slots = self.find_keyed(m, batch).await?;
        let new: Vec<usize> = (0..batch.len())
            .filter(|&i| matches!(slots[i], Slot::New(_)))
            .collect();
        if new.is_empty() {
            return slots
                .into_iter()
                .map(|slot| match slot {
                    Slot::Existing(row) => Ok(Enqueued {
                        task: to_task(*row)?,
                        created: false,
                    }),
                    Slot::New(_) => unreachable!("no new task"),
                })
                .collect();
        }
        let mut checked = self.check_new(m, batch, &slots, &new).await?;
        let ids: Vec<Uuid> = slots.iter().map(Slot::id).collect();
        let admissions = self.admit_to_keys(m, batch, &new, &ids).await?;
        let fairness_keys = self.admit_to_fairness_keys(m, batch, &new).await?;
        let reasons: Vec<String> = checked
            .iter_mut()
            .zip(&admissions)
            .map(|(checked, admission)| match &admission.refused {
                Some(reason) => {
                    checked.status = TaskStatus::Cancelled;
                    reason.clone()
                }
                None => creation_reason(checked.open),
            })
            .collect();

        // The tasks, their ids time-ordered in batch order. The keyed rows go in in key order:
        // two calls inserting some of the same keys then wait for each other key after key in
        // one order, never in a cycle (a deadlock on PostgreSQL).
        let depended_on: HashSet<Uuid> = checked
            .iter()
            .flat_map(|c| c.depends_on.iter().copied())
            .collect();
        let mut keyed: Vec<(Option<&str>, tasks::Model, String)> = new
            .iter()
            .zip(&checked)
            .zip(admissions.iter().zip(&reasons))
            .map(|((&i, checked), (admission, reason))| {
                let key = batch[i].task.idempotency_key.as_ref().map(|k| k.as_str());
                let id = slots[i].id();
                let mut row = new_row(m.ctx(), m.at(), &batch[i].task, id, checked.status);
                row.has_dependents = depended_on.contains(&id);
                set_task_concurrency(&mut row, admission.concurrency.as_ref());
                let fairness = batch[i]
                    .task
                    .fairness
                    .as_ref()
                    .and_then(|f| fairness_keys.get(f.key.as_str()));
                set_task_fairness(&mut row, fairness);
                (key, row, reason.clone())
            })
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let bodies: Vec<Body> = keyed
            .iter_mut()
            .flat_map(|(_, row, _)| self.set_aside(row))
            .collect();
        let rows: Vec<(tasks::Model, String)> = keyed
            .into_iter()
            .map(|(_, row, reason)| (row, reason))
            .collect();
        let mut inserted: HashMap<Uuid, tasks::Model> = HashMap::with_capacity(rows.len());
        for returned in self.insert_tasks(m, rows).await? {
            inserted.insert(returned.id, returned);
        }
        let org = m.ctx().org().as_uuid();
        self.write_bodies(m.txn(), org, bodies).await?;

        // Their dependency edges.
        let edges: Vec<task_dependencies::ActiveModel> =
            new.iter()
                .zip(&checked)
                .flat_map(|(&i, checked)| {
                    let task = slots[i].id();
                    checked.depends_on.iter().map(move |&dependency| {
                        task_dependencies::ActiveModel {
                            organization_id: Set(org),
                            task_id: Set(task),
                            depends_on_id: Set(dependency),
                        }
                    })
                })
                .collect();
        let per_statement = rows_per_statement(
            self.is_postgres(),
            task_dependencies::Column::iter().count(),
        );
        for chunk in edges.chunks(per_statement) {
            task_dependencies::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(m.txn())
                .await
                .map_err(db_err)?;
        }

        // Their history: on PostgreSQL written with them.
        if !self.is_postgres() {
            let moves: Vec<Moved> = new
                .iter()
                .zip(checked.iter().zip(&reasons))
                .map(|(&i, (checked, reason))| Moved {
                    task: slots[i].id(),
                    from: None,
                    to: checked.status,
                    reason: reason.clone(),
                })
                .collect();
            self.record_events(m, &moves).await?;
        }
        let queued = checked
            .iter()
            .filter(|c| c.status == TaskStatus::Queued)
            .count();
        if queued > 0 {
            m.queued_work(queued);
        }

        // The answer, in batch order.
        let mut answer = Vec::with_capacity(batch.len());
        for slot in slots {
            answer.push(match slot {
                Slot::Existing(row) => Enqueued {
                    task: to_task(*row)?,
                    created: false,
                },
                Slot::New(id) => Enqueued {
                    task: to_task(
                        inserted
                            .remove(&id.as_uuid())
                            .ok_or_else(|| corrupt("task", format!("{id} was not returned")))?,
                    )?,
                    created: true,
                },
            });
        }

        // One audit row.
        let created: Vec<&Enqueued> = answer.iter().filter(|e| e.created).collect();
        match recorded {
            Recorded::Create => {
                for (&i, enqueued) in new.iter().zip(&created) {
                    let mut changes = snapshot(&enqueued.task);
                    let depends_on = &batch[i].task.depends_on;
                    if let Some(object) = changes.as_object_mut()
                        && !depends_on.is_empty()
                    {
                        object.insert("depends_on".into(), json!(depends_on));
                    }
                    m.audit::<tasks::Entity>(Verb::Create, enqueued.task.id, changes)
                        .await?;
                }
            }
            Recorded::Batch => {
                let count = |status| created.iter().filter(|e| e.task.status == status).count();
                let changes = json!({
                    "created_count": created.len(),
                    "existing_count": answer.len() - created.len(),
                    "queued_count": count(TaskStatus::Queued),
                    "blocked_count": count(TaskStatus::Blocked),
                    "task_ids": created
                        .iter()
                        .take(AUDITED_IDS)
                        .map(|e| e.task.id)
                        .collect::<Vec<_>>(),
                });
                m.audit::<tasks::Entity>(Verb::Named("enqueue"), created[0].task.id, changes)
                    .await?;
            }
        }
        // The answer carries the payloads stored apart as they were given; the audit row only
        // their size.
        for (enqueued, item) in answer.iter_mut().zip(batch) {
            if enqueued.created && enqueued.task.payload_bytes.take().is_some() {
                enqueued.task.payload = item.task.payload.clone();
            }
        }
        Ok(answer)
    }

    /// A slot per task of `batch`: the task the organization has with its idempotency key, or
    /// a new id.
    async fn find_keyed(&self, m: &Mutation<'_>, batch: &[BatchTask]) -> RepoResult<Vec<Slot>> {
        let keys: Vec<&str> = batch
            .iter()
            .filter_map(|item| item.task.idempotency_key.as_ref())
            .map(|key| key.as_str())
            .collect();
        let mut found: HashMap<String, tasks::Model> = HashMap::new();
        for chunk in keys.chunks(LOOKUP) {
            let rows = scoped::<tasks::Entity>(m.ctx())
                .filter(tasks::Column::IdempotencyKey.is_in(chunk.iter().copied()))
                .all(m.txn())
                .await
                .map_err(db_err)?;
            for row in rows {
                if let Some(key) = row.idempotency_key.clone() {
                    found.insert(key, row);
                }
            }
        }
        self.with_bodies(m.txn(), m.ctx().org().as_uuid(), found.values_mut())
            .await?;
        // The batch's keys are distinct (checked before): each row goes to one task.
        Ok(batch
            .iter()
            .map(|item| {
                match item
                    .task
                    .idempotency_key
                    .as_ref()
                    .and_then(|key| found.remove(key.as_str()))
                {
                    Some(row) => Slot::Existing(Box::new(row)),
                    None => Slot::New(TaskId::new()),
                }
            })
            .collect())
    }

    /// Checks the references of the new tasks (`new`, positions in `batch`), a query per kind
    /// for the whole batch, and decides each one's status; the first task at fault, in batch
    /// order, is the error.
    async fn check_new(
        &self,
        m: &Mutation<'_>,
        batch: &[BatchTask],
        slots: &[Slot],
        new: &[usize],
    ) -> RepoResult<Vec<Checked>> {
        // Each kind of reference, collected first: an iterator's closures held across an
        // `await` would not be `Send` for every lifetime.
        let project_ids: BTreeSet<Uuid> = new
            .iter()
            .map(|&i| batch[i].task.project_id.as_uuid())
            .collect();
        let parent_ids: BTreeSet<Uuid> = new
            .iter()
            .filter_map(|&i| batch[i].task.parent_id)
            .map(|p| p.as_uuid())
            .collect();
        let agent_ids: BTreeSet<Uuid> = new
            .iter()
            .filter_map(|&i| batch[i].task.assigned_agent_id)
            .map(|a| a.as_uuid())
            .collect();
        // The existing tasks the new ones wait for: named, or in the batch by their key.
        let mut dependency_ids = BTreeSet::new();
        for &i in new {
            let item = &batch[i];
            dependency_ids.extend(item.task.depends_on.iter().map(TaskId::as_uuid));
            for &j in &item.depends_on_batch {
                if let Slot::Existing(row) = &slots[j] {
                    dependency_ids.insert(row.id);
                }
            }
        }
        let projects = self.present::<projects::Entity>(m, &project_ids).await?;
        let parents = self.task_projects(m, &parent_ids).await?;
        let agents = self.present::<agents::Entity>(m, &agent_ids).await?;
        let rate_limit_names: BTreeSet<String> = new
            .iter()
            .flat_map(|&i| batch[i].task.rate_limits.iter())
            .map(|u| u.name.as_str().to_owned())
            .collect();
        let capacities = self.rate_limit_capacities(m, &rate_limit_names).await?;
        let statuses = self.mark_depended_on(m, &dependency_ids).await?;

        let mut checked = Vec::with_capacity(new.len());
        for &i in new {
            let task = &batch[i].task;
            let at = |error: RepoError| RepoError::in_batch(i, error);
            if !projects.contains(&task.project_id.as_uuid()) {
                return Err(at(RepoError::reference(
                    "project_id",
                    "project",
                    task.project_id,
                )));
            }
            if let Some(parent) = task.parent_id {
                match parents.get(&parent.as_uuid()) {
                    None => return Err(at(RepoError::reference("parent_id", "task", parent))),
                    Some(&project) if project != task.project_id.as_uuid() => {
                        return Err(at(DomainError::invalid(
                            "parent_id",
                            format!(
                                "task {parent} is in project {project}: a subtask belongs to its \
                                 parent's project"
                            ),
                        )
                        .into()));
                    }
                    Some(_) => {}
                }
            }
            if let Some(agent) = task.assigned_agent_id
                && !agents.contains(&agent.as_uuid())
            {
                return Err(at(RepoError::reference(
                    "assigned_agent_id",
                    "agent",
                    agent,
                )));
            }
            for u in task.rate_limits.iter() {
                match capacities.get(u.name.as_str()) {
                    None => {
                        return Err(at(RepoError::reference(
                            "rate_limits",
                            "rate_limit",
                            &u.name,
                        )));
                    }
                    Some(&capacity) if i64::from(u.units.get()) > capacity => {
                        return Err(at(DomainError::invalid(
                            "rate_limits",
                            format!(
                                "{} units of {}, which holds at most {capacity}: the task could \
                                 never be claimed",
                                u.units.get(),
                                u.name
                            ),
                        )
                        .into()));
                    }
                    Some(_) => {}
                }
            }
            let mut open = 0;
            let mut depends_on = BTreeSet::new();
            let named = task
                .depends_on
                .iter()
                .map(|d| ("depends_on", d.as_uuid(), false));
            let listed = batch[i].depends_on_batch.iter().map(|&j| {
                let is_new = matches!(slots[j], Slot::New(_));
                ("depends_on_batch", slots[j].id(), is_new)
            });
            for (field, dependency, is_new) in named.chain(listed) {
                if !depends_on.insert(dependency) {
                    continue;
                }
                if is_new {
                    // Created by this call: not succeeded yet.
                    open += 1;
                    continue;
                }
                match statuses.get(&dependency) {
                    None => return Err(at(RepoError::reference(field, "task", dependency))),
                    Some(TaskStatus::Succeeded) => {}
                    Some(TaskStatus::Cancelled) => {
                        return Err(at(RepoError::conflict(
                            "task",
                            format!("dependency {dependency} is cancelled: it will never succeed"),
                        )));
                    }
                    Some(_) => open += 1,
                }
            }
            checked.push(Checked {
                status: if open == 0 {
                    TaskStatus::Queued
                } else {
                    TaskStatus::Blocked
                },
                open,
                depends_on,
            });
        }
        Ok(checked)
    }

    /// Those of `ids` that are rows of `E` in the organization; on PostgreSQL, held against
    /// deletion until the commit (`FOR KEY SHARE`, as a foreign key check holds them).
    async fn present<E: Tenanted>(
        &self,
        m: &Mutation<'_>,
        ids: &BTreeSet<Uuid>,
    ) -> RepoResult<HashSet<Uuid>> {
        let ids: Vec<Uuid> = ids.iter().copied().collect();
        let mut found = HashSet::with_capacity(ids.len());
        for chunk in ids.chunks(LOOKUP) {
            let mut query = scoped::<E>(m.ctx())
                .select_only()
                .column(E::id_column())
                .filter(E::id_column().is_in(chunk.iter().copied()))
                .order_by_asc(E::id_column());
            if self.is_postgres() {
                query = query.lock(LockType::KeyShare);
            }
            let rows: Vec<Uuid> = query.into_tuple().all(m.txn()).await.map_err(db_err)?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// The project of each of the tasks `ids` the organization has, held as
    /// [`present`](Self::present) holds its rows.
    async fn task_projects(
        &self,
        m: &Mutation<'_>,
        ids: &BTreeSet<Uuid>,
    ) -> RepoResult<HashMap<Uuid, Uuid>> {
        let ids: Vec<Uuid> = ids.iter().copied().collect();
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(LOOKUP) {
            let mut query = scoped::<tasks::Entity>(m.ctx())
                .select_only()
                .columns([tasks::Column::Id, tasks::Column::ProjectId])
                .filter(tasks::Column::Id.is_in(chunk.iter().copied()))
                .order_by_asc(tasks::Column::Id);
            if self.is_postgres() {
                query = query.lock(LockType::KeyShare);
            }
            let rows: Vec<(Uuid, Uuid)> = query.into_tuple().all(m.txn()).await.map_err(db_err)?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// Inserts `rows` in order and answers them as stored. PostgreSQL takes them as one JSON
    /// parameter unpacked by `jsonb_to_recordset`, [`RECORDSET_ROWS`] a statement: a statement
    /// of thousands of rows then costs the server one value to parse and bind instead of tens
    /// of thousands. SQLite takes multi-row `INSERT`s sized to its limit on bound values.
    async fn insert_tasks(
        &self,
        m: &Mutation<'_>,
        rows: Vec<(tasks::Model, String)>,
    ) -> RepoResult<Vec<tasks::Model>> {
        let key_taken = |e: sea_orm::DbErr| {
            if is_unique_violation(&e) {
                // The one unique key a new task can break: see `lost_key_race`.
                RepoError::taken(
                    "task",
                    "idempotency_key",
                    "a task was created with the same idempotency key meanwhile",
                )
            } else {
                db_err(e)
            }
        };
        let mut inserted = Vec::with_capacity(rows.len());
        if self.is_postgres() {
            for chunk in rows.chunks(RECORDSET_ROWS) {
                let records: Vec<TaskRecord<'_>> = chunk
                    .iter()
                    .map(|(row, reason)| TaskRecord::new(row, reason, None))
                    .collect();
                let statement = Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    INSERT_TASKS_POSTGRES,
                    [
                        json_parameter(&records).map_err(RepoError::internal)?,
                        m.ctx().actor().to_string().into(),
                    ],
                );
                for row in m.txn().query_all_raw(statement).await.map_err(key_taken)? {
                    inserted.push(tasks::Model::from_query_result(&row, "").map_err(db_err)?);
                }
            }
        } else {
            let per_statement = rows_per_statement(false, tasks::Column::iter().count());
            for chunk in rows.chunks(per_statement) {
                let models = chunk
                    .iter()
                    .map(|(row, _)| row.clone().into_active_model().reset_all());
                let returned = tasks::Entity::insert_many(models)
                    .exec_with_returning(m.txn())
                    .await
                    .map_err(key_taken)?;
                inserted.extend(returned);
            }
        }
        Ok(inserted)
    }

    /// Marks the tasks `ids` the organization has as depended on (`has_dependents`) and
    /// answers each one's status. On PostgreSQL each is locked first, in id order, and its row
    /// rewritten: it cannot change its status before the commit, so its success sees the new
    /// edge or this transaction sees its success, and a completion that read the row before
    /// (the one-statement path of `work::complete`) finds it changed and takes the full path.
    pub(crate) async fn mark_depended_on(
        &self,
        m: &Mutation<'_>,
        ids: &BTreeSet<Uuid>,
    ) -> RepoResult<HashMap<Uuid, TaskStatus>> {
        let ids: Vec<Uuid> = ids.iter().copied().collect();
        let org = m.ctx().org().as_uuid();
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(LOOKUP) {
            let mut held = Query::select()
                .column(tasks::Column::Id)
                .from(tasks::Entity)
                .and_where(tasks::Column::OrganizationId.eq(org))
                .and_where(tasks::Column::Id.is_in(chunk.iter().copied()))
                .order_by(tasks::Column::Id, Order::Asc)
                .to_owned();
            if self.is_postgres() {
                held.lock(LockType::NoKeyUpdate);
            }
            let rows = tasks::Entity::update_many()
                .col_expr(tasks::Column::HasDependents, Expr::value(true))
                .filter(tasks::Column::OrganizationId.eq(org))
                .filter(tasks::Column::Id.in_subquery(held))
                .exec_with_returning(m.txn())
                .await
                .map_err(db_err)?;
            for row in rows {
                found.insert(row.id, row.status.parse().map_err(|e| corrupt("task", e))?);
            }
        }
        Ok(found)
    }
}

/// The row of a new task.
pub(super) fn new_row(
    ctx: &Ctx,
    at: DateTime<Utc>,
    new: &NewTask,
    id: Uuid,
    status: TaskStatus,
) -> tasks::Model {
    tasks::Model {
        id,
        organization_id: ctx.org().as_uuid(),
        project_id: new.project_id.as_uuid(),
        title: new.title.as_str().to_owned(),
        description: new.description.as_str().to_owned(),
        status: status.as_str().to_owned(),
        priority: new.priority.get(),
        payload: new.payload.clone().into_value(),
        required_capabilities: json!(new.required_capabilities.to_strings()),
        metadata: new.metadata.to_value(),
        created_at: at,
        updated_at: at,
        parent_id: new.parent_id.map(|p| p.as_uuid()),
        assigned_agent_id: new.assigned_agent_id.map(|a| a.as_uuid()),
        estimated_minutes: new.estimated_minutes.map(|e| e.minutes() as i32),
        progress: i16::from(new.progress.get()),
        tags: tags_value(&new.tags),
        attempts: 0,
        max_attempts: new.max_attempts.get() as i32,
        run_after: new.run_after.map(|t| t.trunc_subsecs(6)),
        idempotency_key: new.idempotency_key.as_ref().map(|k| k.as_str().to_owned()),
        result: None,
        error: None,
        started_at: None,
        finished_at: status.ends_a_run().then_some(at),
        claim_assigned: false,
        lease_token: None,
        lease_expires_at: None,
        has_dependents: false,
        rate_limits: json!(new.rate_limits.to_raw()),
        concurrency_key: None,
        concurrency_limit: None,
        concurrency_strategy: None,
        fairness_key: None,
        fairness_weight: None,
        payload_bytes: None,
        result_bytes: None,
        // The PostgreSQL insert leaves it to the column's default, the same 1.
        revision: Revision::FIRST.get(),
    }
}
