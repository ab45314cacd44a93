//! `WaitRepo`: the durable waits of executions (`workflow_waits`), and what ends them.
//!
//! A wait's step runs as a task that no claim takes (see [`StepWait::task_run_after`]); it is
//! reached when that task is queued (with the execution, or when its dependencies succeed:
//! [`SeaStore::reach_waits`] runs where blocked tasks are released). Ending a wait takes its
//! locks in the order every task change does — the step's task, then the execution, then the
//! wait row (a compare-and-set on its status) and the blocked tasks of the branch it skips — so
//! that it queues behind a cancellation or a failure of the same execution rather than
//! crossing it.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use orchestore_domain::{
    DomainError, ExecutionStatus, OrganizationId, Payload, SignalName, StepName, StepWait,
    TaskStatus, WaitStatus, WorkflowDefinition, WorkflowExecutionId, WorkflowWait, WorkflowWaitId,
};
use orchestore_repo::{Ctx, RepoError, RepoResult, WaitRepo};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::{workflow_execution_tasks as steps, workflow_executions, workflow_waits};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Mutation, Verb};
use crate::scoped::{Lock, scoped};
use crate::work::CHUNK;
use crate::work::entity::tasks;

fn to_wait(row: workflow_waits::Model) -> RepoResult<WorkflowWait> {
    let bad = |e: String| corrupt("workflow_wait", e);
    Ok(WorkflowWait {
        id: WorkflowWaitId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        execution_id: WorkflowExecutionId::from_uuid(row.execution_id),
        step: StepName::parse(&row.step_name).map_err(|e| bad(e.to_string()))?,
        signal: row
            .signal_name
            .as_deref()
            .map(SignalName::parse)
            .transpose()
            .map_err(|e| bad(e.to_string()))?,
        status: row
            .status
            .parse()
            .map_err(|e: DomainError| bad(e.to_string()))?,
        deadline: row.deadline,
        payload: row
            .payload
            .map(Payload::parse)
            .transpose()
            .map_err(|e| bad(e.to_string()))?,
        reached_at: row.reached_at,
        resolved_at: row.resolved_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn spec_of(row: &workflow_waits::Model) -> RepoResult<StepWait> {
    StepWait::parse(row.wait.clone()).map_err(|e| corrupt("workflow_wait", e))
}

/// How a wait ends.
enum Ending {
    Signalled(Payload),
    /// A signal's timeout passed.
    TimedOut,
    /// A wait for a time: the time came.
    Elapsed,
}

impl Ending {
    fn status(&self) -> WaitStatus {
        match self {
            Self::Signalled(_) => WaitStatus::Signalled,
            Self::TimedOut => WaitStatus::TimedOut,
            Self::Elapsed => WaitStatus::Elapsed,
        }
    }
}

impl SeaStore {
    /// Writes the waits of the waiting steps of `definition` for execution `execution`, whose
    /// steps' tasks are `step_tasks` (by step name): `waiting` from now for the steps that
    /// depend on none, `pending` for the others.
    pub(super) async fn record_waits(
        &self,
        m: &Mutation<'_>,
        execution: Uuid,
        definition: &WorkflowDefinition,
        step_tasks: &Map<String, Value>,
    ) -> RepoResult<()> {
        let mut rows = Vec::new();
        for step in definition.steps() {
            let Some(wait) = &step.wait else {
                continue;
            };
            let task = step_tasks
                .get(step.name.as_str())
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok())
                .ok_or_else(|| RepoError::internal("a waiting step has no task"))?;
            let reached = step.depends_on.is_empty().then(|| m.at());
            let status = match reached {
                Some(_) => WaitStatus::Waiting,
                None => WaitStatus::Pending,
            };
            rows.push(workflow_waits::ActiveModel {
                organization_id: Set(m.ctx().org().as_uuid()),
                id: Set(WorkflowWaitId::new().as_uuid()),
                execution_id: Set(execution),
                task_id: Set(task),
                step_name: Set(step.name.as_str().to_owned()),
                signal_name: Set(wait.signal().map(|s| s.as_str().to_owned())),
                wait: Set(wait.to_value()),
                status: Set(status.as_str().to_owned()),
                deadline: Set(reached.and_then(|at| wait.deadline(at))),
                payload: Set(None),
                reached_at: Set(reached),
                resolved_at: Set(None),
                created_at: Set(m.at()),
                updated_at: Set(m.at()),
            });
        }
        // At most one per step; a definition holds at most 1000 steps.
        for chunk in rows.chunks(CHUNK / 20) {
            workflow_waits::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(m.txn())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    /// Marks reached the pending waits whose step's task is among `released` (just queued):
    /// `waiting` from now, with their deadline.
    pub(crate) async fn reach_waits(&self, m: &Mutation<'_>, released: &[Uuid]) -> RepoResult<()> {
        for chunk in released.chunks(CHUNK) {
            let rows = scoped::<workflow_waits::Entity>(m.ctx())
                .filter(workflow_waits::Column::TaskId.is_in(chunk.iter().copied()))
                .filter(workflow_waits::Column::Status.eq(WaitStatus::Pending.as_str()))
                .all(m.txn())
                .await
                .map_err(db_err)?;
            for row in rows {
                let deadline = spec_of(&row)?.deadline(m.at());
                let mut change: workflow_waits::ActiveModel = row.into();
                change.status = Set(WaitStatus::Waiting.as_str().to_owned());
                change.reached_at = Set(Some(m.at()));
                change.deadline = Set(deadline);
                change.updated_at = Set(m.at());
                change.update(m.txn()).await.map_err(db_err)?;
            }
        }
        Ok(())
    }

    /// Closes the open waits of `execution`, which is ending.
    pub(super) async fn close_waits(&self, m: &Mutation<'_>, execution: Uuid) -> RepoResult<()> {
        workflow_waits::Entity::update_many()
            .col_expr(
                workflow_waits::Column::Status,
                Expr::value(WaitStatus::Closed.as_str()),
            )
            .col_expr(
                workflow_waits::Column::ResolvedAt,
                Expr::value(Some(m.at())),
            )
            .col_expr(workflow_waits::Column::UpdatedAt, Expr::value(m.at()))
            .filter(workflow_waits::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
            .filter(workflow_waits::Column::ExecutionId.eq(execution))
            .filter(
                workflow_waits::Column::Status
                    .is_in([WaitStatus::Pending.as_str(), WaitStatus::Waiting.as_str()]),
            )
            .exec(m.txn())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Ends wait `row` (read in this transaction) as `ending` says, with its audit row (see
    /// [`WaitRepo`] and the module for the order of the locks). `Ok(None)` when it is not
    /// `waiting` any more, its task is not waiting, or its execution is not running: what ended
    /// those ended the wait too, or will.
    async fn end_wait(
        &self,
        m: &Mutation<'_>,
        row: workflow_waits::Model,
        ending: Ending,
    ) -> RepoResult<Option<WorkflowWait>> {
        let ctx = m.ctx();
        let task = row.task_id;
        let held = self
            .lock_in_status(m, &BTreeSet::from([task]), TaskStatus::Queued)
            .await?;
        if held.is_empty() {
            return Ok(None);
        }
        let execution = self
            .find_scoped::<workflow_executions::Entity>(
                m.txn(),
                ctx,
                WorkflowExecutionId::from_uuid(row.execution_id),
                Lock::ForUpdate,
            )
            .await?;
        if execution.status != ExecutionStatus::Running.as_str() {
            return Ok(None);
        }
        let status = ending.status();
        let payload = match &ending {
            Ending::Signalled(payload) => Some(payload.as_value().clone()),
            _ => None,
        };
        let moved = workflow_waits::Entity::update_many()
            .col_expr(workflow_waits::Column::Status, Expr::value(status.as_str()))
            .col_expr(workflow_waits::Column::Payload, Expr::value(payload))
            .col_expr(
                workflow_waits::Column::ResolvedAt,
                Expr::value(Some(m.at())),
            )
            .col_expr(workflow_waits::Column::UpdatedAt, Expr::value(m.at()))
            .filter(workflow_waits::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(workflow_waits::Column::Id.eq(row.id))
            .filter(workflow_waits::Column::Status.eq(WaitStatus::Waiting.as_str()))
            .exec(m.txn())
            .await
            .map_err(db_err)?;
        if moved.rows_affected == 0 {
            return Ok(None);
        }
        let spec = spec_of(&row)?;
        let branch: &[StepName] = match &spec {
            StepWait::Signal { on_timeout, .. } => on_timeout,
            _ => &[],
        };
        let step = row.step_name.clone();
        let skipped = match &ending {
            Ending::Signalled(_) => {
                self.skip_branch(m, &row, |name| branch.iter().any(|b| b.as_str() == name))
                    .await?
            }
            Ending::TimedOut if !branch.is_empty() => {
                self.skip_branch(m, &row, |name| branch.iter().all(|b| b.as_str() != name))
                    .await?
            }
            Ending::TimedOut | Ending::Elapsed => Vec::new(),
        };
        let (to, reason, result, error) = match &ending {
            Ending::Signalled(payload) => (
                TaskStatus::Succeeded,
                format!("signal {:?} came", row.signal_name.as_deref().unwrap_or("")),
                Some(payload.as_value().clone()),
                None,
            ),
            Ending::Elapsed => (
                TaskStatus::Succeeded,
                "its time came".to_owned(),
                Some(json!({ "elapsed_at": m.at() })),
                None,
            ),
            Ending::TimedOut if !branch.is_empty() => (
                TaskStatus::Succeeded,
                "no signal came in time: the timeout branch runs".to_owned(),
                Some(json!({ "timed_out": true })),
                None,
            ),
            Ending::TimedOut => {
                let message = format!(
                    "no signal {:?} came in time",
                    row.signal_name.as_deref().unwrap_or("")
                );
                (
                    TaskStatus::Failed,
                    message.clone(),
                    None,
                    Some(json!({ "message": message, "timed_out": true })),
                )
            }
        };
        self.move_tasks(m, TaskStatus::Queued, to, vec![(task, reason)])
            .await?;
        // Part of the move just made, in its transaction: its revision counts both as one write.
        tasks::Entity::update_many()
            .col_expr(tasks::Column::Result, Expr::value(result))
            .col_expr(tasks::Column::Error, Expr::value(error))
            .filter(tasks::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(tasks::Column::Id.eq(task))
            .exec(m.txn())
            .await
            .map_err(db_err)?;
        let followed = self.follow(m, &[(task, to)]).await?;
        let after = to_wait(
            scoped::<workflow_waits::Entity>(ctx)
                .filter(workflow_waits::Column::Id.eq(row.id))
                .one(m.txn())
                .await
                .map_err(db_err)?
                .ok_or_else(|| RepoError::internal("a wait went while it ended"))?,
        )?;
        let mut changes = json!({
            "execution_id": after.execution_id,
            "step": step,
            "signal": after.signal,
            "status": {"from": WaitStatus::Waiting.as_str(), "to": status.as_str()},
            "task_id": task,
            "task_status": to.as_str(),
        });
        if let Some(object) = changes.as_object_mut()
            && !skipped.is_empty()
        {
            object.insert("skipped_steps".into(), json!(skipped));
        }
        followed.annotate(&mut changes);
        m.audit::<workflow_waits::Entity>(Verb::Status(status.as_str()), after.id, changes)
            .await?;
        Ok(Some(after))
    }

    /// Skips the steps that depend on the waiting step of `wait` and whose name `skip` takes,
    /// and every step of the execution waiting for them: their tasks (blocked) are cancelled and
    /// marked skipped, and tasks of other executions that waited for them are cancelled, with
    /// what that does to those executions. Returns the names of the skipped steps.
    async fn skip_branch(
        &self,
        m: &Mutation<'_>,
        wait: &workflow_waits::Model,
        skip: impl Fn(&str) -> bool,
    ) -> RepoResult<Vec<String>> {
        let ctx = m.ctx();
        let dependents = self.dependents_of(m.txn(), ctx, wait.task_id).await?;
        let of_execution = |ids: Vec<Uuid>| async move {
            let mut found: Vec<(String, Uuid)> = Vec::new();
            for chunk in ids.chunks(CHUNK) {
                let rows: Vec<(String, Uuid)> = steps::Entity::find()
                    .select_only()
                    .columns([steps::Column::StepName, steps::Column::TaskId])
                    .filter(steps::Column::OrganizationId.eq(ctx.org().as_uuid()))
                    .filter(steps::Column::ExecutionId.eq(wait.execution_id))
                    .filter(steps::Column::TaskId.is_in(chunk.iter().copied()))
                    .into_tuple()
                    .all(m.txn())
                    .await
                    .map_err(db_err)?;
                found.extend(rows);
            }
            RepoResult::Ok(found)
        };
        let roots: BTreeSet<Uuid> = of_execution(dependents.into_iter().collect())
            .await?
            .into_iter()
            .filter(|(name, _)| skip(name))
            .map(|(_, task)| task)
            .collect();
        let roots: BTreeSet<Uuid> = self
            .lock_in_status(m, &roots, TaskStatus::Blocked)
            .await?
            .into_iter()
            .collect();
        if roots.is_empty() {
            return Ok(Vec::new());
        }
        let reason = format!(
            "skipped: the wait of step {:?} ended the other way",
            wait.step_name
        );
        let reasons = roots.iter().map(|&task| (task, reason.clone())).collect();
        self.move_tasks(m, TaskStatus::Blocked, TaskStatus::Cancelled, reasons)
            .await?;
        let doomed = self
            .cancel_dependents(m, &roots, TaskStatus::Cancelled)
            .await?;
        let mut candidates: Vec<Uuid> = roots.iter().copied().collect();
        candidates.extend(doomed.iter().copied());
        let skipped = of_execution(candidates).await?;
        let own: BTreeSet<Uuid> = skipped.iter().map(|(_, task)| *task).collect();
        let ids: Vec<Uuid> = own.iter().copied().collect();
        for chunk in ids.chunks(CHUNK) {
            steps::Entity::update_many()
                .col_expr(steps::Column::Skipped, Expr::value(true))
                .filter(steps::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(steps::Column::ExecutionId.eq(wait.execution_id))
                .filter(steps::Column::TaskId.is_in(chunk.iter().copied()))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
        }
        // Tasks of other executions that waited for a skipped step end those as a cancelled
        // step does.
        let beyond: Vec<(Uuid, TaskStatus)> = doomed
            .into_iter()
            .filter(|task| !own.contains(task))
            .map(|task| (task, TaskStatus::Cancelled))
            .collect();
        self.follow_executions(m, &beyond).await?;
        let mut names: Vec<String> = skipped.into_iter().map(|(name, _)| name).collect();
        names.sort();
        Ok(names)
    }

    /// Ends due wait `id` if it still is, in its own transaction.
    async fn fire_wait(
        &self,
        ctx: &Ctx,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<WorkflowWait>> {
        self.mutate(ctx, async |m| {
            let row = scoped::<workflow_waits::Entity>(ctx)
                .filter(workflow_waits::Column::Id.eq(id))
                .filter(workflow_waits::Column::Status.eq(WaitStatus::Waiting.as_str()))
                .filter(workflow_waits::Column::Deadline.lte(now))
                .one(m.txn())
                .await
                .map_err(db_err)?;
            let Some(row) = row else {
                return Ok(None);
            };
            let ending = match row.signal_name {
                Some(_) => Ending::TimedOut,
                None => Ending::Elapsed,
            };
            self.end_wait(m, row, ending).await
        })
        .await
    }
}

#[async_trait::async_trait]
impl WaitRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), execution = %execution))]
    async fn list_execution_waits(
        &self,
        ctx: &Ctx,
        execution: WorkflowExecutionId,
    ) -> RepoResult<Vec<WorkflowWait>> {
        let db = self.db().await;
        self.find_scoped::<workflow_executions::Entity>(&db, ctx, execution, Lock::None)
            .await?;
        scoped::<workflow_waits::Entity>(ctx)
            .filter(workflow_waits::Column::ExecutionId.eq(execution.as_uuid()))
            .order_by_asc(workflow_waits::Column::TaskId)
            .all(&db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(to_wait)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), execution = %execution, signal = %signal))]
    async fn signal_execution(
        &self,
        ctx: &Ctx,
        execution: WorkflowExecutionId,
        signal: &SignalName,
        payload: Payload,
    ) -> RepoResult<WorkflowWait> {
        self.mutate(ctx, async |m| {
            let run = self
                .find_scoped::<workflow_executions::Entity>(m.txn(), ctx, execution, Lock::None)
                .await?;
            let status: ExecutionStatus = run
                .status
                .parse()
                .map_err(|e| corrupt("workflow_execution", e))?;
            if status.is_final() {
                return Err(RepoError::conflict(
                    "workflow_execution",
                    format!(
                        "workflow execution {execution} has ended ({status}): it takes no signal"
                    ),
                ));
            }
            let row = scoped::<workflow_waits::Entity>(ctx)
                .filter(workflow_waits::Column::ExecutionId.eq(execution.as_uuid()))
                .filter(workflow_waits::Column::SignalName.eq(signal.as_str()))
                .one(m.txn())
                .await
                .map_err(db_err)?
                .ok_or_else(|| {
                    RepoError::not_found(
                        "workflow_wait",
                        format!("for signal {signal:?} in workflow execution {execution}"),
                    )
                })?;
            let wait = to_wait(row.clone())?;
            match wait.status {
                WaitStatus::Waiting => {}
                WaitStatus::Pending => {
                    return Err(RepoError::conflict(
                        "workflow_wait",
                        format!(
                            "step {:?} has not been reached yet: signal {signal:?} is not kept \
                             for later, send it once the step waits",
                            wait.step.as_str()
                        ),
                    ));
                }
                ended => {
                    return Err(RepoError::conflict(
                        "workflow_wait",
                        format!(
                            "the wait of step {:?} for signal {signal:?} has ended ({ended})",
                            wait.step.as_str()
                        ),
                    ));
                }
            }
            self.end_wait(m, row, Ending::Signalled(payload))
                .await?
                .ok_or_else(|| {
                    RepoError::conflict(
                        "workflow_wait",
                        format!(
                            "the wait of step {:?} for signal {signal:?} ended meanwhile",
                            wait.step.as_str()
                        ),
                    )
                })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn fire_due_waits(
        &self,
        ctx: &Ctx,
        now: DateTime<Utc>,
        limit: u32,
    ) -> RepoResult<Vec<WorkflowWait>> {
        let due: Vec<Uuid> = scoped::<workflow_waits::Entity>(ctx)
            .select_only()
            .column(workflow_waits::Column::Id)
            .filter(workflow_waits::Column::Status.eq(WaitStatus::Waiting.as_str()))
            .filter(workflow_waits::Column::Deadline.lte(now))
            .order_by_asc(workflow_waits::Column::Deadline)
            .limit(u64::from(limit))
            .into_tuple()
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        // One wait that cannot be ended must not hold back the others: each ends on its own,
        // and the call fails only when none could.
        let mut fired = Vec::with_capacity(due.len());
        let mut first_error = None;
        for id in due {
            match self.fire_wait(ctx, id, now).await {
                Ok(Some(wait)) => fired.push(wait),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(org = %ctx.org(), wait = %id, %error, "wait not ended");
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) if fired.is_empty() => Err(error),
            _ => Ok(fired),
        }
    }

    async fn organizations_with_due_waits(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>> {
        let orgs: Vec<Uuid> = workflow_waits::Entity::find()
            .select_only()
            .column(workflow_waits::Column::OrganizationId)
            .distinct()
            .filter(workflow_waits::Column::Status.eq(WaitStatus::Waiting.as_str()))
            .filter(workflow_waits::Column::Deadline.lte(now))
            .limit(u64::from(limit))
            .into_tuple()
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let unique: BTreeSet<Uuid> = orgs.into_iter().collect();
        Ok(unique.into_iter().map(OrganizationId::from_uuid).collect())
    }
}
