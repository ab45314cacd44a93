//! The tasks an execution runs its steps as (`workflow_execution_tasks`): written with the
//! execution, followed when they end, cancelled with it.
//!
//! An execution's status is decided under a lock on its row (PostgreSQL `FOR UPDATE`; SQLite's
//! writers take turns), taken after the tasks that changed: two steps that succeed at the same
//! time are then decided one after the other, and the second sees the first's success. Every
//! change takes its locks in one order — a task, the blocked tasks waiting for it, then the
//! executions — and cancelling an execution keeps to it: its tasks (those not blocked before
//! the blocked ones), then the execution.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use orchestore_domain::{ExecutionStatus, Payload, StepTasks, TaskId, TaskStatus};
use orchestore_repo::{RepoError, RepoResult};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, IntoActiveModel, Iterable, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Set,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::{workflow_execution_tasks as steps, workflow_executions};
use super::repo::to_execution;
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Mutation, Verb, diff};
use crate::revision::update_revised;
use crate::scoped::scoped;
use crate::work::entity::tasks;
use crate::work::{CHUNK, Followed, Recorded, rows_per_statement};

/// A step's row with its task's result: execution, step name, task, the result kept in the
/// task's row, and its size when it is stored apart instead.
type StepResult = (Uuid, String, Uuid, Option<Value>, Option<i64>);

/// What the ends of its steps' tasks in one change decide for a running execution; a
/// failure outranks a cancellation (the tasks a failure cancels end with it), which outranks
/// successes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict<'a> {
    /// Steps succeeded: the execution has, if every other step has too.
    StepsSucceeded,
    Cancelled {
        task: Uuid,
        step: &'a str,
    },
    Failed {
        task: Uuid,
        step: &'a str,
    },
}

impl Verdict<'_> {
    fn rank(&self) -> u8 {
        match self {
            Self::StepsSucceeded => 0,
            Self::Cancelled { .. } => 1,
            Self::Failed { .. } => 2,
        }
    }
}

/// `preferred` when it is a payload (at most 1 MiB), else `fallback`, which always is.
fn bounded(preferred: Value, fallback: Value) -> RepoResult<Payload> {
    Payload::parse(preferred)
        .or_else(|_| Payload::parse(fallback))
        .map_err(RepoError::internal)
}

/// The error of an execution whose step `step` failed in task `task` with `error`.
fn failure(step: &str, task: Uuid, error: Option<&Value>) -> RepoResult<Payload> {
    let message = format!("step {step:?} failed");
    bounded(
        json!({"step": step, "task_id": task, "message": message, "error": error}),
        json!({"step": step, "task_id": task, "error": null,
               "message": format!("{message}; its error is too large to repeat: read the task")}),
    )
}

/// The error of an execution whose step `step` was cancelled in task `task`.
fn cancellation(step: &str, task: Uuid) -> RepoResult<Payload> {
    Payload::parse(json!({
        "step": step,
        "task_id": task,
        "message": format!("the task of step {step:?} was cancelled"),
    }))
    .map_err(RepoError::internal)
}

impl SeaStore {
    /// Enqueues the tasks of `planned` as one batch (with their history and one `task.enqueue`
    /// audit row) and records which step each runs for `execution`; returns the task of each
    /// step, by name.
    pub(super) async fn start_steps(
        &self,
        m: &Mutation<'_>,
        execution: Uuid,
        planned: StepTasks,
    ) -> RepoResult<Map<String, Value>> {
        let enqueued = self
            .enqueue_in(m, &planned.tasks, Recorded::Batch)
            .await
            .map_err(|err| match err {
                // Every task is in the one project: its fault is the call's own.
                RepoError::InBatch { error, .. } => *error,
                other => other,
            })?;
        let org = m.ctx().org().as_uuid();
        let rows: Vec<steps::ActiveModel> = planned
            .names
            .iter()
            .zip(&enqueued)
            .map(|(name, step)| steps::ActiveModel {
                organization_id: Set(org),
                execution_id: Set(execution),
                step_name: Set(name.as_str().to_owned()),
                task_id: Set(step.task.id.as_uuid()),
                skipped: Set(false),
            })
            .collect();
        let per_statement = rows_per_statement(self.is_postgres(), steps::Column::iter().count());
        for chunk in rows.chunks(per_statement) {
            steps::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(m.txn())
                .await
                .map_err(db_err)?;
        }
        Ok(planned
            .names
            .iter()
            .zip(&enqueued)
            .map(|(name, step)| (name.as_str().to_owned(), json!(step.task.id)))
            .collect())
    }

    /// What the tasks of `changes` (each locked, with the status it became) make of the running
    /// executions whose steps they run: `failed` when one failed, its error naming the step and
    /// the task's error; else `cancelled` when one was cancelled; else, when they succeeded,
    /// `succeeded` if every step of the execution has, its output each step's result by name
    /// (`null` when they make more than a payload holds). Each execution that ends gets an
    /// audit row. A task of no step costs one query.
    pub(crate) async fn follow_executions(
        &self,
        m: &Mutation<'_>,
        changes: &[(Uuid, TaskStatus)],
    ) -> RepoResult<()> {
        let ended: BTreeSet<Uuid> = changes
            .iter()
            .filter(|(_, to)| to.ends_a_run())
            .map(|(task, _)| *task)
            .collect();
        if ended.is_empty() {
            return Ok(());
        }
        let steps = self.steps_of(m, &ended).await?;
        if steps.is_empty() {
            return Ok(());
        }
        let mut verdicts: BTreeMap<Uuid, Verdict<'_>> = BTreeMap::new();
        for &(task, to) in changes {
            let Some((execution, step)) = steps.get(&task) else {
                continue;
            };
            let verdict = match to {
                TaskStatus::Succeeded => Verdict::StepsSucceeded,
                TaskStatus::Failed => Verdict::Failed { task, step },
                TaskStatus::Cancelled => Verdict::Cancelled { task, step },
                _ => continue,
            };
            let decided = verdicts.entry(*execution).or_insert(verdict);
            if verdict.rank() > decided.rank() {
                *decided = verdict;
            }
        }
        let running = self.lock_running(m, verdicts.keys().copied()).await?;
        let failed_tasks: BTreeSet<Uuid> = verdicts
            .values()
            .filter_map(|verdict| match verdict {
                Verdict::Failed { task, .. } => Some(*task),
                _ => None,
            })
            .collect();
        let errors = self.task_errors(m, &failed_tasks).await?;
        let maybe_done: Vec<Uuid> = running
            .iter()
            .filter(|row| verdicts.get(&row.id) == Some(&Verdict::StepsSucceeded))
            .map(|row| row.id)
            .collect();
        let mut outputs = self.outputs_of_finished(m, &maybe_done).await?;
        for row in running {
            let ending = match verdicts.get(&row.id) {
                Some(Verdict::Failed { task, step }) => {
                    let error = errors.get(task).and_then(Option::as_ref);
                    let error = failure(step, *task, error)?;
                    (ExecutionStatus::Failed, None, Some(error))
                }
                Some(Verdict::Cancelled { task, step }) => (
                    ExecutionStatus::Cancelled,
                    None,
                    Some(cancellation(step, *task)?),
                ),
                Some(Verdict::StepsSucceeded) => match outputs.remove(&row.id) {
                    Some(output) => (ExecutionStatus::Succeeded, output, None),
                    None => continue,
                },
                None => continue,
            };
            let (status, output, error) = ending;
            self.end_execution(m, row, status, output, error, Value::Null)
                .await?;
        }
        Ok(())
    }

    /// The step each of `tasks` runs, by task: its execution and the step's name.
    async fn steps_of(
        &self,
        m: &Mutation<'_>,
        tasks: &BTreeSet<Uuid>,
    ) -> RepoResult<HashMap<Uuid, (Uuid, String)>> {
        let ids: Vec<Uuid> = tasks.iter().copied().collect();
        let mut found = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let rows = steps::Entity::find()
                .filter(steps::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
                .filter(steps::Column::TaskId.is_in(chunk.iter().copied()))
                .all(m.txn())
                .await
                .map_err(db_err)?;
            found.extend(
                rows.into_iter()
                    .map(|row| (row.task_id, (row.execution_id, row.step_name))),
            );
        }
        Ok(found)
    }

    /// Those of the executions `ids` that are running, locked, in id order.
    pub(super) async fn lock_running(
        &self,
        m: &Mutation<'_>,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> RepoResult<Vec<workflow_executions::Model>> {
        let ids: Vec<Uuid> = ids.into_iter().collect();
        let mut found = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut query = scoped::<workflow_executions::Entity>(m.ctx())
                .filter(workflow_executions::Column::Id.is_in(chunk.iter().copied()))
                .filter(workflow_executions::Column::Status.eq(ExecutionStatus::Running.as_str()))
                .order_by_asc(workflow_executions::Column::Id);
            if self.is_postgres() {
                query = query.lock_exclusive();
            }
            found.extend(query.all(m.txn()).await.map_err(db_err)?);
        }
        Ok(found)
    }

    /// The error each of `tasks` ended with, by task.
    async fn task_errors(
        &self,
        m: &Mutation<'_>,
        tasks: &BTreeSet<Uuid>,
    ) -> RepoResult<HashMap<Uuid, Option<Value>>> {
        let ids: Vec<Uuid> = tasks.iter().copied().collect();
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<(Uuid, Option<Value>)> = scoped::<tasks::Entity>(m.ctx())
                .select_only()
                .columns([tasks::Column::Id, tasks::Column::Error])
                .filter(tasks::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(m.txn())
                .await
                .map_err(db_err)?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// Of the executions `ids`, those whose every step succeeded (or was skipped), with their output: each
    /// step's result by name, or `None` when together they are over a payload's bound (they
    /// stay on the tasks).
    async fn outputs_of_finished(
        &self,
        m: &Mutation<'_>,
        ids: &[Uuid],
    ) -> RepoResult<HashMap<Uuid, Option<Payload>>> {
        let org = m.ctx().org().as_uuid();
        let joined = || {
            steps::Entity::find()
                .join(JoinType::InnerJoin, steps::Relation::Task.def())
                .filter(steps::Column::OrganizationId.eq(org))
        };
        let mut finished = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let open: BTreeSet<Uuid> = joined()
                .select_only()
                .column(steps::Column::ExecutionId)
                .distinct()
                .filter(steps::Column::ExecutionId.is_in(chunk.iter().copied()))
                .filter(tasks::Column::Status.ne(TaskStatus::Succeeded.as_str()))
                .filter(steps::Column::Skipped.eq(false))
                .into_tuple::<Uuid>()
                .all(m.txn())
                .await
                .map_err(db_err)?
                .into_iter()
                .collect();
            finished.extend(chunk.iter().copied().filter(|id| !open.contains(id)));
        }
        let mut results: HashMap<Uuid, Map<String, Value>> = HashMap::new();
        for chunk in finished.chunks(CHUNK) {
            let rows: Vec<StepResult> = joined()
                .select_only()
                .columns([
                    steps::Column::ExecutionId,
                    steps::Column::StepName,
                    steps::Column::TaskId,
                ])
                .columns([tasks::Column::Result, tasks::Column::ResultBytes])
                .filter(steps::Column::ExecutionId.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(m.txn())
                .await
                .map_err(db_err)?;
            let apart: Vec<Uuid> = rows
                .iter()
                .filter(|row| row.4.is_some())
                .map(|row| row.2)
                .collect();
            let mut stored_apart = self.results_apart(m.txn(), org, &apart).await?;
            for (execution, step, task, result, _) in rows {
                let result = stored_apart.remove(&task).or(result);
                results
                    .entry(execution)
                    .or_default()
                    .insert(step, result.unwrap_or(Value::Null));
            }
        }
        Ok(results
            .into_iter()
            .map(|(execution, output)| (execution, Payload::parse(Value::Object(output)).ok()))
            .collect())
    }

    /// Ends execution `row` (locked, not ended) in `status` with its `output` or `error`,
    /// and records it in the audit log, with the fields of `note` (an object) beside the
    /// changes.
    pub(super) async fn end_execution(
        &self,
        m: &Mutation<'_>,
        row: workflow_executions::Model,
        status: ExecutionStatus,
        output: Option<Payload>,
        error: Option<Payload>,
        note: Value,
    ) -> RepoResult<orchestore_domain::WorkflowExecution> {
        let before = to_execution(row.clone())?;
        before.status.check_transition(status)?;
        let read = row.revision;
        let mut change = row.into_active_model();
        change.status = Set(status.as_str().to_owned());
        change.finished_at = Set(Some(m.at()));
        change.output = Set(output.map(Payload::into_value));
        change.error = Set(error.map(Payload::into_value));
        change.updated_at = Set(m.at());
        let after =
            to_execution(update_revised(m.txn(), before.id, change, read, None, db_err).await?)?;
        self.close_waits(m, after.id.as_uuid()).await?;
        let mut changes = diff(&before, &after);
        if let (Some(object), Value::Object(note)) = (changes.as_object_mut(), note) {
            object.extend(note);
        }
        m.audit::<workflow_executions::Entity>(Verb::Status(status.as_str()), after.id, changes)
            .await?;
        Ok(after)
    }

    /// The tasks of the steps of `execution` that have not ended, each locked and with its
    /// status once locked: first those that were not blocked, then the blocked ones, each in id
    /// order, as a change of one task takes the task before the blocked tasks waiting for it.
    pub(super) async fn lock_open_steps(
        &self,
        m: &Mutation<'_>,
        execution: Uuid,
    ) -> RepoResult<Vec<(Uuid, TaskStatus)>> {
        let rows: Vec<(Uuid, String)> = steps::Entity::find()
            .select_only()
            .column(steps::Column::TaskId)
            .column(tasks::Column::Status)
            .join(JoinType::InnerJoin, steps::Relation::Task.def())
            .filter(steps::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
            .filter(steps::Column::ExecutionId.eq(execution))
            .into_tuple()
            .all(m.txn())
            .await
            .map_err(db_err)?;
        let (mut unblocked, mut blocked) = (BTreeSet::new(), BTreeSet::new());
        for (task, status) in rows {
            let status: TaskStatus = status.parse().map_err(|e| corrupt("task", e))?;
            if status == TaskStatus::Blocked {
                blocked.insert(task);
            } else if !status.is_terminal() {
                unblocked.insert(task);
            }
        }
        let mut open = Vec::new();
        for group in [unblocked, blocked] {
            let ids: Vec<Uuid> = group.into_iter().collect();
            for chunk in ids.chunks(CHUNK) {
                let mut query = scoped::<tasks::Entity>(m.ctx())
                    .select_only()
                    .columns([tasks::Column::Id, tasks::Column::Status])
                    .filter(tasks::Column::Id.is_in(chunk.iter().copied()))
                    .order_by_asc(tasks::Column::Id);
                if self.is_postgres() {
                    query = query.lock_exclusive();
                }
                let locked: Vec<(Uuid, String)> =
                    query.into_tuple().all(m.txn()).await.map_err(db_err)?;
                for (task, status) in locked {
                    let status: TaskStatus = status.parse().map_err(|e| corrupt("task", e))?;
                    // It may have ended while this call waited for it.
                    if !status.is_terminal() {
                        open.push((task, status));
                    }
                }
            }
        }
        Ok(open)
    }

    /// Cancels the tasks of `open` (locked, each in its status) for `reason`, and the blocked
    /// tasks waiting for them (outside the execution, since the execution's own are among
    /// them); returns both, the latter apart as well, for the executions they are steps of.
    pub(super) async fn cancel_steps(
        &self,
        m: &Mutation<'_>,
        open: Vec<(Uuid, TaskStatus)>,
        reason: &str,
    ) -> RepoResult<(Followed, Vec<Uuid>)> {
        let roots: BTreeSet<Uuid> = open.iter().map(|(task, _)| *task).collect();
        let mut by_status: BTreeMap<TaskStatus, Vec<(Uuid, String)>> = BTreeMap::new();
        for (task, status) in open {
            by_status
                .entry(status)
                .or_default()
                .push((task, reason.to_owned()));
        }
        for (from, reasons) in by_status {
            self.move_tasks(m, from, TaskStatus::Cancelled, reasons)
                .await?;
        }
        let beyond = self
            .cancel_dependents(m, &roots, TaskStatus::Cancelled)
            .await?;
        let mut cancelled: Vec<Uuid> = roots.into_iter().collect();
        cancelled.extend(beyond.iter().copied());
        let followed = Followed {
            released: Vec::new(),
            cancelled,
        };
        Ok((followed, beyond))
    }

    /// Refuses, with a `Conflict`, to queue the task `task` again when it runs a step of an
    /// execution that ended: its end ended the execution, which is not run again.
    pub(crate) async fn refuse_rerunning_a_step(
        &self,
        m: &Mutation<'_>,
        task: TaskId,
    ) -> RepoResult<()> {
        let found: Option<(Uuid, String, String)> = steps::Entity::find()
            .select_only()
            .columns([steps::Column::ExecutionId, steps::Column::StepName])
            .column(workflow_executions::Column::Status)
            .join(JoinType::InnerJoin, steps::Relation::Execution.def())
            .filter(steps::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
            .filter(steps::Column::TaskId.eq(task.as_uuid()))
            .into_tuple()
            .one(m.txn())
            .await
            .map_err(db_err)?;
        let Some((execution, step, status)) = found else {
            return Ok(());
        };
        let status: ExecutionStatus = status
            .parse()
            .map_err(|e| corrupt("workflow_execution", e))?;
        if status.is_final() {
            return Err(RepoError::conflict(
                "task",
                format!(
                    "task {task} runs step {step:?} of workflow execution {execution}, which has \
                     ended ({status}): an execution is not run again, start a new one"
                ),
            ));
        }
        Ok(())
    }

    /// Refuses, with a `Conflict` on `entity`, to delete the tasks `tasks` selects (a
    /// condition on `tasks`) when one of them runs a step of a running execution, which keeps
    /// every step until it ends.
    pub(crate) async fn refuse_deleting_running_steps(
        &self,
        m: &Mutation<'_>,
        entity: &'static str,
        tasks: Condition,
    ) -> RepoResult<()> {
        let found: Option<(Uuid, String, Uuid)> = steps::Entity::find()
            .select_only()
            .columns([
                steps::Column::ExecutionId,
                steps::Column::StepName,
                steps::Column::TaskId,
            ])
            .join(JoinType::InnerJoin, steps::Relation::Task.def())
            .join(JoinType::InnerJoin, steps::Relation::Execution.def())
            .filter(steps::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
            .filter(workflow_executions::Column::Status.eq(ExecutionStatus::Running.as_str()))
            .filter(tasks)
            .into_tuple()
            .one(m.txn())
            .await
            .map_err(db_err)?;
        match found {
            Some((execution, step, task)) => Err(RepoError::conflict(
                entity,
                format!(
                    "task {task} runs step {step:?} of workflow execution {execution}, which is \
                     running: cancel the execution first"
                ),
            )),
            None => Ok(()),
        }
    }
}
