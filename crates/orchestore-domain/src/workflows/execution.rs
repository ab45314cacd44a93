use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::definition::error_reason;
use super::{StepName, StepWait, WorkflowDefinition};
use crate::{
    BatchTask, DomainError, MaxAttempts, NewTask, OrganizationId, Payload, Priority, ProjectId,
    Revision, Task, TaskId, WorkflowExecutionId, WorkflowId, WorkflowVersionId,
};

/// Where a workflow execution is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    /// Recorded without its steps: an execution recorded before executions ran their steps as
    /// tasks (migration 000017). A new execution is running from the start.
    Pending,
    /// Its steps run as tasks: from its creation, which queues the steps that wait for no
    /// other, until one of them fails or is cancelled or all of them succeed.
    Running,
    /// Every step succeeded.
    Succeeded,
    /// A step failed with no attempts left.
    Failed,
    /// Cancelled by request, or because the task of one of its steps was cancelled.
    Cancelled,
}

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 5] = [
        Self::Pending,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Succeeded, failed and cancelled are final.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }

    /// The allowed changes, `(from, to)`: pending → cancelled, running → succeeded | failed |
    /// cancelled. There is no retry of a whole execution, nor of a step of one that ended: a
    /// new execution is started instead, so the old one keeps its record.
    pub const TRANSITIONS: &'static [(ExecutionStatus, ExecutionStatus)] = &[
        (Self::Pending, Self::Cancelled),
        (Self::Running, Self::Succeeded),
        (Self::Running, Self::Failed),
        (Self::Running, Self::Cancelled),
    ];

    /// Whether [`ExecutionStatus::TRANSITIONS`] allows going from `self` to `to`.
    pub fn can_become(self, to: ExecutionStatus) -> bool {
        Self::TRANSITIONS.contains(&(self, to))
    }

    /// Checks a transition against [`ExecutionStatus::TRANSITIONS`]. Staying in the same
    /// status is allowed (a repeated request changes nothing).
    pub fn check_transition(self, to: ExecutionStatus) -> Result<(), DomainError> {
        if self == to || self.can_become(to) {
            Ok(())
        } else {
            Err(DomainError::InvalidTransition {
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExecutionStatus {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "status",
                    format!("{s:?} is not one of pending, running, succeeded, failed, cancelled"),
                )
            })
    }
}

/// One run of one workflow version. `version` repeats the version's number so that listings
/// need no join. `started_at` is set when it starts running and `finished_at` when it reaches
/// a final status; both are `None` before. `output` is what its steps produced once all
/// succeeded, `error` why it failed or was cancelled. `parent_task_id` is the task it was
/// started from, if any: cancelling that task cancels it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkflowExecution {
    pub id: WorkflowExecutionId,
    pub organization_id: OrganizationId,
    pub workflow_id: WorkflowId,
    pub version_id: WorkflowVersionId,
    pub version: u32,
    pub status: ExecutionStatus,
    pub input: Payload,
    pub output: Option<Payload>,
    pub error: Option<Payload>,
    pub parent_task_id: Option<TaskId>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it has been written (1 when created); its HTTP `ETag`.
    pub revision: Revision,
}

/// A request to run a workflow: which version (the latest when `None`; there is no version 0,
/// so `Some(0)` finds nothing), the project its step tasks are created in, the input every
/// step is given, and the priority of its tasks.
#[derive(Debug, Clone)]
pub struct NewWorkflowExecution {
    pub workflow_id: WorkflowId,
    pub version: Option<u32>,
    pub project_id: ProjectId,
    pub input: Payload,
    pub priority: Priority,
}

/// The tasks an execution runs its steps as, in the order they are created: every step after
/// the steps it depends on. `names[i]` is the step `tasks[i]` runs.
#[derive(Debug, Clone)]
pub struct StepTasks {
    pub names: Vec<StepName>,
    pub tasks: Vec<BatchTask>,
}

impl NewWorkflowExecution {
    /// The most bytes of JSON the payloads of one execution's tasks hold together: the input
    /// is copied into each of them, so a large input times many steps is refused rather than
    /// multiplied without end.
    pub const MAX_TASK_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;

    /// The tasks execution `execution` runs the steps of `definition` as, one per step,
    /// dependencies first: each waits for the tasks of the steps it depends on, so the steps
    /// that depend on none start queued and the others blocked. A task has its step's title,
    /// required capabilities and max attempts, this request's project and priority, and the
    /// payload `{"workflow_execution_id", "step", "input", "payload"}`: the execution's input
    /// and the step's own payload. The task of a waiting step is never claimable (its
    /// `run_after` is [`StepWait::task_run_after`]): its wait ends it.
    ///
    /// Refused on `input` when a task's payload would be over [`Payload::MAX_BYTES`] or all of
    /// them over [`Self::MAX_TASK_PAYLOAD_BYTES`], and on `version` when its steps have more
    /// dependencies than one batch of tasks takes ([`BatchTask::MAX_DEPENDENCIES`]).
    pub fn step_tasks(
        &self,
        execution: WorkflowExecutionId,
        definition: &WorkflowDefinition,
    ) -> Result<StepTasks, DomainError> {
        let order = definition.execution_order();
        let position: HashMap<&str, usize> = order
            .iter()
            .enumerate()
            .map(|(index, step)| (step.name.as_str(), index))
            .collect();
        let mut budget = Self::MAX_TASK_PAYLOAD_BYTES;
        let mut names = Vec::with_capacity(order.len());
        let mut tasks = Vec::with_capacity(order.len());
        for step in &order {
            let payload = Payload::parse(json!({
                "workflow_execution_id": execution,
                "step": step.name.as_str(),
                "input": self.input.as_value(),
                "payload": step.payload.as_value(),
            }))
            .map_err(|error| {
                DomainError::invalid(
                    "input",
                    format!(
                        "with the payload of step {:?}, the payload of its task {}",
                        step.name.as_str(),
                        error_reason(error)
                    ),
                )
            })?;
            let size = serde_json::to_vec(payload.as_value()).map_or(usize::MAX, |b| b.len());
            budget = budget.checked_sub(size).ok_or_else(|| {
                DomainError::invalid(
                    "input",
                    format!(
                        "copied into the tasks of the {} steps with their payloads, it makes \
                         more than {} bytes of JSON",
                        order.len(),
                        Self::MAX_TASK_PAYLOAD_BYTES
                    ),
                )
            })?;
            let task = NewTask {
                priority: self.priority,
                payload,
                required_capabilities: step.required_capabilities.clone(),
                max_attempts: MaxAttempts::parse(i64::from(step.max_attempts))?,
                run_after: step.wait.as_ref().map(|_| StepWait::task_run_after()),
                ..NewTask::titled(self.project_id, step.title.clone())
            };
            // A parsed definition's edges name its own steps, each earlier in this order.
            let depends_on_batch = step
                .depends_on
                .iter()
                .filter_map(|name| position.get(name.as_str()).copied())
                .collect();
            names.push(step.name.clone());
            tasks.push(BatchTask {
                task,
                depends_on_batch,
            });
        }
        // At most 1000 steps, each with fewer dependencies: only the batch's total of
        // dependencies can be over its bound.
        if let Some(fault) = BatchTask::check_batch(&tasks).into_iter().next() {
            return Err(DomainError::invalid(
                "version",
                format!("its steps cannot run as one batch of tasks: {fault}"),
            ));
        }
        Ok(StepTasks { names, tasks })
    }
}

/// A step of an execution and the task it runs as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExecutionTask {
    pub step_name: StepName,
    #[serde(flatten)]
    pub task: Task,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine() {
        use ExecutionStatus::*;
        let allowed = [
            (Pending, Cancelled),
            (Running, Succeeded),
            (Running, Failed),
            (Running, Cancelled),
        ];
        for from in ExecutionStatus::ALL {
            for to in ExecutionStatus::ALL {
                let expected = from == to || allowed.contains(&(from, to));
                assert_eq!(from.check_transition(to).is_ok(), expected, "{from} → {to}");
            }
        }
        assert_eq!(
            Succeeded.check_transition(Running),
            Err(DomainError::InvalidTransition {
                from: "succeeded",
                to: "running"
            })
        );
        assert!(Failed.is_final() && !Running.is_final());
        assert!(
            ExecutionStatus::TRANSITIONS
                .iter()
                .all(|(from, _)| !from.is_final())
        );
    }

    fn definition(steps: serde_json::Value) -> WorkflowDefinition {
        WorkflowDefinition::parse(json!({ "steps": steps })).unwrap_or_else(|e| panic!("{e}"))
    }

    fn run(input: serde_json::Value) -> NewWorkflowExecution {
        NewWorkflowExecution {
            workflow_id: WorkflowId::new(),
            version: None,
            project_id: ProjectId::new(),
            input: Payload::parse(input).unwrap_or_else(|e| panic!("{e}")),
            priority: Priority::parse(7).unwrap_or_else(|e| panic!("{e}")),
        }
    }

    #[test]
    fn each_step_becomes_a_task_after_the_steps_it_depends_on() {
        let steps = definition(json!([
            {"name": "report", "depends_on": ["test", "lint"], "title": "Write the report"},
            {"name": "test", "depends_on": ["build"], "required_capabilities": ["rust"],
             "max_attempts": 5, "payload": {"suite": "all"}},
            {"name": "lint"},
            {"name": "build"},
        ]));
        let new = run(json!({"tag": "v1"}));
        let execution = WorkflowExecutionId::new();
        let planned = new
            .step_tasks(execution, &steps)
            .unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = planned.names.iter().map(StepName::as_str).collect();
        assert_eq!(names, ["lint", "build", "test", "report"]);
        let waits: Vec<Vec<usize>> = planned
            .tasks
            .iter()
            .map(|t| t.depends_on_batch.iter().copied().collect())
            .collect();
        assert_eq!(waits, [vec![], vec![], vec![1], vec![0, 2]]);
        let test = &planned.tasks[2].task;
        assert_eq!(test.title.as_str(), "test");
        assert_eq!(test.project_id, new.project_id);
        assert_eq!(test.priority.get(), 7);
        assert_eq!(test.max_attempts.get(), 5);
        assert_eq!(test.required_capabilities.to_strings(), ["rust"]);
        assert!(test.depends_on.is_empty() && test.idempotency_key.is_none());
        assert_eq!(
            test.payload.as_value(),
            &json!({"workflow_execution_id": execution, "step": "test",
                    "input": {"tag": "v1"}, "payload": {"suite": "all"}})
        );
        assert_eq!(planned.tasks[3].task.title.as_str(), "Write the report");
        assert_eq!(planned.tasks[0].task.max_attempts.get(), 3);
    }

    #[test]
    fn the_input_copied_into_every_task_is_bounded() {
        let half = "x".repeat(Payload::MAX_BYTES / 2);
        let one = definition(json!([{"name": "a", "payload": half.clone()}]));
        let error = run(json!(half.clone()))
            .step_tasks(WorkflowExecutionId::new(), &one)
            .unwrap_err();
        assert_eq!(error.field(), Some("input"));
        assert!(error.to_string().contains("step \"a\""), "{error}");

        let quarter = "x".repeat(Payload::MAX_BYTES / 4);
        let many: Vec<serde_json::Value> =
            (0..70).map(|i| json!({"name": format!("s{i}")})).collect();
        let error = run(json!(quarter))
            .step_tasks(WorkflowExecutionId::new(), &definition(json!(many)))
            .unwrap_err();
        assert_eq!(error.field(), Some("input"));
        assert!(error.to_string().contains("70 steps"), "{error}");
    }

    #[test]
    fn names_round_trip() {
        for status in ExecutionStatus::ALL {
            assert_eq!(status.as_str().parse::<ExecutionStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::json!(status.to_string()))
            );
        }
        let error = "done".parse::<ExecutionStatus>().unwrap_err();
        assert_eq!(error.field(), Some("status"));
        assert!(error.to_string().contains("pending, running"));
    }
}
