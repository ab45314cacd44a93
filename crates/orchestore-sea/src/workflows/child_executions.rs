//! Executions started from a task (`workflow_executions.parent_task_id`), cancelled with it:
//! see `crate::work::cancellation`, which walks the tasks and calls this for each generation.

use std::collections::{BTreeMap, BTreeSet};

use orchestore_domain::{ExecutionStatus, Payload, TaskStatus};
use orchestore_repo::{RepoError, RepoResult};
use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationTrait};
use serde_json::json;
use uuid::Uuid;

use super::entity::{workflow_execution_tasks as steps, workflow_executions};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::Mutation;
use crate::scoped::scoped;
use crate::work::CHUNK;
use crate::work::entity::tasks;

/// What cancelling one generation of child executions did.
#[derive(Default)]
pub(crate) struct CancelledChildren {
    /// The executions cancelled.
    pub(crate) executions: Vec<Uuid>,
    /// Their tasks that were open, now cancelled.
    pub(crate) cancelled_steps: Vec<Uuid>,
    /// All their tasks, ended or not: the executions started from them are theirs too.
    pub(crate) steps: BTreeSet<Uuid>,
}

impl SeaStore {
    /// The task of every step of `executions`, each with its execution and its status.
    pub(crate) async fn tasks_of_executions(
        &self,
        m: &Mutation<'_>,
        executions: &[Uuid],
    ) -> RepoResult<Vec<(Uuid, Uuid, TaskStatus)>> {
        let mut found = Vec::new();
        for chunk in executions.chunks(CHUNK) {
            let rows: Vec<(Uuid, Uuid, String)> = steps::Entity::find()
                .select_only()
                .columns([steps::Column::ExecutionId, steps::Column::TaskId])
                .column(tasks::Column::Status)
                .join(JoinType::InnerJoin, steps::Relation::Task.def())
                .filter(steps::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
                .filter(steps::Column::ExecutionId.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(m.txn())
                .await
                .map_err(db_err)?;
            for (execution, task, status) in rows {
                let status: TaskStatus = status.parse().map_err(|e| corrupt("task", e))?;
                found.push((execution, task, status));
            }
        }
        Ok(found)
    }

    /// Cancels the running executions started from one of `parents` (locked or ended tasks),
    /// and their open tasks: the tasks first (not blocked before blocked, in id order), then
    /// the executions, as every change takes them. Each execution's `error` and audit row name
    /// its parent task and `origin`.
    pub(crate) async fn cancel_child_executions(
        &self,
        m: &Mutation<'_>,
        parents: &BTreeSet<Uuid>,
        origin: &str,
    ) -> RepoResult<CancelledChildren> {
        let listed: Vec<Uuid> = parents.iter().copied().collect();
        let mut children: BTreeMap<Uuid, Uuid> = BTreeMap::new();
        for chunk in listed.chunks(CHUNK) {
            let rows: Vec<(Uuid, Option<Uuid>)> = scoped::<workflow_executions::Entity>(m.ctx())
                .select_only()
                .columns([
                    workflow_executions::Column::Id,
                    workflow_executions::Column::ParentTaskId,
                ])
                .filter(workflow_executions::Column::ParentTaskId.is_in(chunk.iter().copied()))
                .filter(workflow_executions::Column::Status.eq(ExecutionStatus::Running.as_str()))
                .into_tuple()
                .all(m.txn())
                .await
                .map_err(db_err)?;
            children.extend(
                rows.into_iter()
                    .filter_map(|(execution, parent)| Some((execution, parent?))),
            );
        }
        if children.is_empty() {
            return Ok(CancelledChildren::default());
        }
        let ids: Vec<Uuid> = children.keys().copied().collect();
        let step_tasks = self.tasks_of_executions(m, &ids).await?;
        let open_seen: Vec<(Uuid, TaskStatus)> = step_tasks
            .iter()
            .filter(|(_, _, status)| !status.is_terminal())
            .map(|&(_, task, status)| (task, status))
            .collect();
        let open = self.lock_open_tasks(m, &open_seen).await?;
        let running = self.lock_running(m, ids).await?;
        let execution_of: BTreeMap<Uuid, Uuid> = step_tasks
            .iter()
            .map(|&(execution, task, _)| (task, execution))
            .collect();
        let still_running: BTreeSet<Uuid> = running.iter().map(|row| row.id).collect();
        let reasons = open.into_iter().filter_map(|(task, status)| {
            let execution = *execution_of.get(&task)?;
            if !still_running.contains(&execution) {
                return None;
            }
            let parent = children.get(&execution)?;
            let reason = format!(
                "workflow execution {execution} was cancelled with its parent task {parent} \
                 ({origin})"
            );
            Some((task, status, reason))
        });
        let cancelled_steps = self.cancel_open_tasks(m, reasons).await?;
        let mut executions = Vec::with_capacity(running.len());
        for row in running {
            let Some(&parent) = children.get(&row.id) else {
                continue;
            };
            let error = Payload::parse(json!({
                "message": format!("parent task {parent} was cancelled"),
                "parent_task_id": parent,
                "reason": origin,
            }))
            .map_err(RepoError::internal)?;
            let note = json!({ "parent_task_id": parent, "reason": origin });
            executions.push(row.id);
            self.end_execution(m, row, ExecutionStatus::Cancelled, None, Some(error), note)
                .await?;
        }
        let steps = step_tasks
            .into_iter()
            .filter(|(execution, _, _)| still_running.contains(execution))
            .map(|(_, task, _)| task)
            .collect();
        Ok(CancelledChildren {
            executions,
            cancelled_steps,
            steps,
        })
    }
}
