//! `/api/v1/workflows`, with each workflow's versions and executions beneath it.

use orchestore_domain::{
    Description, DomainError, ExecutionStatus, Name, NewWorkflow, NewWorkflowExecution, Payload,
    Priority, ProjectId, TaskId, WorkflowDefinition, WorkflowId, WorkflowPatch,
};
use orchestore_repo::{ExecutionFilter, ExecutionSort, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::queue::cancel_reason;
use crate::{FieldErrors, Invalid, PatchField, page_request};

/// Any JSON document, reported under `field` when it is refused.
pub(crate) fn payload(
    field: &'static str,
    value: serde_json::Value,
) -> Result<Payload, DomainError> {
    Payload::parse(value).map_err(|error| match error {
        DomainError::Invalid { reason, .. } => DomainError::invalid(field, reason),
        other => other,
    })
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkflowBody {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl CreateWorkflowBody {
    pub fn into_new_workflow(self) -> Result<NewWorkflow, Invalid> {
        self.into_new_workflow_at("name", "description")
    }

    /// The new workflow, errors naming its fields as given: nested in another body, they are
    /// e.g. `workflow.name`.
    pub fn into_new_workflow_at(
        self,
        name_field: &'static str,
        description_field: &'static str,
    ) -> Result<NewWorkflow, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(Name::parse(name_field, &self.name));
        let description = errors.check(
            self.description
                .as_deref()
                .map_or(Ok(Description::empty()), |d| {
                    Description::parse(description_field, d)
                }),
        );
        let (Some(name), Some(description)) = (name, description) else {
            return Err(errors.into_error());
        };
        Ok(NewWorkflow { name, description })
    }
}

/// Absent fields stay as they are. Steps change by a new version, not here.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchWorkflowBody {
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub name: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub description: PatchField<String>,
}

impl PatchWorkflowBody {
    pub fn into_patch(self) -> Result<WorkflowPatch, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            self.name
                .parse_required("name", |n| Name::parse("name", &n)),
        );
        let description = errors.check(
            self.description
                .parse_required("description", |d| Description::parse("description", &d)),
        );
        let (Some(name), Some(description)) = (name, description) else {
            return Err(errors.into_error());
        };
        Ok(WorkflowPatch { name, description })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVersionBody {
    /// `{"steps": [...]}`, checked to be a DAG.
    #[schema(value_type = WorkflowDefinition)]
    pub definition: serde_json::Value,
}

impl CreateVersionBody {
    pub fn into_definition(self) -> Result<WorkflowDefinition, Invalid> {
        Ok(WorkflowDefinition::parse(self.definition)?)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateExecutionBody {
    /// The version to run; the latest when absent.
    #[schema(minimum = 1)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The project the step tasks are created in.
    pub project_id: ProjectId,
    /// Any JSON document, given to every step.
    pub input: serde_json::Value,
    /// The priority of the step tasks (0 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// The task the execution is started from: cancelling it cancels the execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_task_id: Option<TaskId>,
}

impl CreateExecutionBody {
    /// The execution of `workflow`, and the task it is started from, if any.
    pub fn into_new_execution(
        self,
        workflow: WorkflowId,
    ) -> Result<(NewWorkflowExecution, Option<TaskId>), Invalid> {
        let run = RunBody {
            project_id: self.project_id,
            input: self.input,
            priority: self.priority,
        }
        .parse()?;
        Ok((run.of(workflow, self.version), self.parent_task_id))
    }
}

/// What an execution runs with: the project its step tasks are created in, the input every
/// step is given, the priority of its tasks (0 when absent).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    pub project_id: ProjectId,
    pub input: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
}

impl RunBody {
    /// The run, every bad field reported.
    pub fn parse(self) -> Result<Run, Invalid> {
        let mut errors = FieldErrors::default();
        let input = errors.check(payload("input", self.input));
        let priority = errors.check(
            self.priority
                .map_or(Ok(Priority::default()), Priority::parse),
        );
        let (Some(input), Some(priority)) = (input, priority) else {
            return Err(errors.into_error());
        };
        Ok(Run {
            project_id: self.project_id,
            input,
            priority,
        })
    }
}

/// A [`RunBody`] parsed, before the version it runs is known (a template's run learns it
/// once the version is written).
#[derive(Debug, Clone)]
pub struct Run {
    project_id: ProjectId,
    input: Payload,
    priority: Priority,
}

impl Run {
    /// The execution of `version` (the latest when `None`) of `workflow`.
    pub fn of(self, workflow: WorkflowId, version: Option<u32>) -> NewWorkflowExecution {
        NewWorkflowExecution {
            workflow_id: workflow,
            version,
            project_id: self.project_id,
            input: self.input,
            priority: self.priority,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListExecutionsQuery {
    #[param(value_type = Option<ExecutionStatus>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<ExecutionSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListExecutionsQuery {
    pub fn into_filter_and_page(
        self,
        workflow: WorkflowId,
    ) -> Result<(ExecutionFilter, PageRequest<ExecutionSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let status = errors.check(
            self.status
                .map(|s| s.parse::<ExecutionStatus>())
                .transpose(),
        );
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(status), Some(page)) = (status, page) else {
            return Err(errors.into_error());
        };
        let filter = ExecutionFilter {
            workflow_id: Some(workflow),
            status,
        };
        Ok((filter, page))
    }
}

/// A change of an execution asked by a client: its status follows its tasks, so the one change
/// is `cancelled`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchExecutionBody {
    /// `cancelled`.
    #[schema(value_type = ExecutionStatus)]
    pub status: String,
    /// Why it is cancelled.
    #[schema(max_length = 1000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl PatchExecutionBody {
    pub fn into_reason(self) -> Result<Option<String>, Invalid> {
        match self.status.parse::<ExecutionStatus>() {
            Ok(ExecutionStatus::Cancelled) => cancel_reason(self.reason),
            Ok(_) => Err(DomainError::invalid(
                "status",
                "an execution's status follows its tasks: the one status to ask for is cancelled",
            )
            .into()),
            Err(error) => Err(error.into()),
        }
    }
}
