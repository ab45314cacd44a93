//! `/api/v1/workflows`: the workflows, their immutable versions, their executions with the
//! executions' tasks, step logs, waits and signals.

use futures_util::Stream;
use orchestore_api::PageQuery;
use orchestore_api::execution_steps::{ListStepsQuery, RecordStepBody};
use orchestore_api::queue::CancelBody;
use orchestore_api::waits::{SignalBody, Waits};
use orchestore_api::workflows::{
    CreateExecutionBody, CreateVersionBody, CreateWorkflowBody, ListExecutionsQuery,
    PatchExecutionBody, PatchWorkflowBody,
};
use orchestore_domain::{
    ExecutionStep, ExecutionTask, Revision, SignalName, Workflow, WorkflowExecution,
    WorkflowExecutionId, WorkflowId, WorkflowVersion, WorkflowWait,
};
use orchestore_repo::{
    ExecutionSort, ExecutionStepSort, ExecutionTaskSort, Page, WorkflowSort, WorkflowVersionSort,
};
use reqwest::Method;

use crate::transport::segment;
use crate::{Client, Result};

impl Client {
    /// `POST /workflows`.
    pub async fn create_workflow(&self, body: &CreateWorkflowBody) -> Result<Workflow> {
        self.call(Method::POST, "/workflows")
            .json(body)
            .send()
            .await
    }

    /// `GET /workflows`: one page.
    pub async fn list_workflows(&self, query: &PageQuery) -> Result<Page<Workflow, WorkflowSort>> {
        self.call(Method::GET, "/workflows")
            .query(query)
            .send()
            .await
    }

    /// `GET /workflows`: every workflow from the page `query` names on.
    pub fn list_workflows_stream(
        &self,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<Workflow>> + Send + 'static {
        self.stream::<Workflow, WorkflowSort>("/workflows".to_owned(), query)
    }

    /// `GET /workflows/{id}`.
    pub async fn get_workflow(&self, id: WorkflowId) -> Result<Workflow> {
        self.call(Method::GET, format!("/workflows/{id}"))
            .send()
            .await
    }

    /// `PATCH /workflows/{id}`; with `if_match`, only when it is still at that revision.
    pub async fn update_workflow(
        &self,
        id: WorkflowId,
        body: &PatchWorkflowBody,
        if_match: Option<Revision>,
    ) -> Result<Workflow> {
        self.call(Method::PATCH, format!("/workflows/{id}"))
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }

    /// `DELETE /workflows/{id}`.
    pub async fn delete_workflow(&self, id: WorkflowId, if_match: Option<Revision>) -> Result<()> {
        self.call(Method::DELETE, format!("/workflows/{id}"))
            .if_match(if_match)
            .send_empty()
            .await
    }

    /// `POST /workflows/{id}/versions`: the next version, immutable from now on.
    pub async fn create_workflow_version(
        &self,
        id: WorkflowId,
        body: &CreateVersionBody,
    ) -> Result<WorkflowVersion> {
        self.call(Method::POST, format!("/workflows/{id}/versions"))
            .json(body)
            .send()
            .await
    }

    /// `GET /workflows/{id}/versions`: one page.
    pub async fn list_workflow_versions(
        &self,
        id: WorkflowId,
        query: &PageQuery,
    ) -> Result<Page<WorkflowVersion, WorkflowVersionSort>> {
        self.call(Method::GET, format!("/workflows/{id}/versions"))
            .query(query)
            .send()
            .await
    }

    /// `GET /workflows/{id}/versions`: every version.
    pub fn list_workflow_versions_stream(
        &self,
        id: WorkflowId,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<WorkflowVersion>> + Send + 'static {
        self.stream::<WorkflowVersion, WorkflowVersionSort>(
            format!("/workflows/{id}/versions"),
            query,
        )
    }

    /// `GET /workflows/{id}/versions/{version}`.
    pub async fn get_workflow_version(
        &self,
        id: WorkflowId,
        version: u32,
    ) -> Result<WorkflowVersion> {
        self.call(Method::GET, format!("/workflows/{id}/versions/{version}"))
            .send()
            .await
    }

    /// `POST /workflows/{id}/executions`: the execution, running with a task per step.
    pub async fn start_execution(
        &self,
        id: WorkflowId,
        body: &CreateExecutionBody,
    ) -> Result<WorkflowExecution> {
        self.call(Method::POST, format!("/workflows/{id}/executions"))
            .json(body)
            .send()
            .await
    }

    /// `GET /workflows/{id}/executions`: one page.
    pub async fn list_executions(
        &self,
        id: WorkflowId,
        query: &ListExecutionsQuery,
    ) -> Result<Page<WorkflowExecution, ExecutionSort>> {
        self.call(Method::GET, format!("/workflows/{id}/executions"))
            .query(query)
            .send()
            .await
    }

    /// `GET /workflows/{id}/executions`: every execution from the page `query` names on.
    pub fn list_executions_stream(
        &self,
        id: WorkflowId,
        query: &ListExecutionsQuery,
    ) -> impl Stream<Item = Result<WorkflowExecution>> + Send + 'static {
        self.stream::<WorkflowExecution, ExecutionSort>(
            format!("/workflows/{id}/executions"),
            query,
        )
    }

    /// `GET /workflows/{id}/executions/{execution_id}`.
    pub async fn get_execution(
        &self,
        id: WorkflowId,
        execution: WorkflowExecutionId,
    ) -> Result<WorkflowExecution> {
        self.call(
            Method::GET,
            format!("/workflows/{id}/executions/{execution}"),
        )
        .send()
        .await
    }

    /// `PATCH /workflows/{id}/executions/{execution_id}`: `{"status": "cancelled"}` cancels it.
    pub async fn update_execution(
        &self,
        id: WorkflowId,
        execution: WorkflowExecutionId,
        body: &PatchExecutionBody,
        if_match: Option<Revision>,
    ) -> Result<WorkflowExecution> {
        self.call(
            Method::PATCH,
            format!("/workflows/{id}/executions/{execution}"),
        )
        .if_match(if_match)
        .json(body)
        .send()
        .await
    }

    /// `POST /workflows/{id}/executions/{execution_id}/cancel`: the execution and its tasks,
    /// cancelled.
    pub async fn cancel_execution(
        &self,
        id: WorkflowId,
        execution: WorkflowExecutionId,
        body: &CancelBody,
        if_match: Option<Revision>,
    ) -> Result<WorkflowExecution> {
        self.call(
            Method::POST,
            format!("/workflows/{id}/executions/{execution}/cancel"),
        )
        .if_match(if_match)
        .json(body)
        .send()
        .await
    }

    /// `GET /workflows/{id}/executions/{execution_id}/tasks`: one page of the steps with their
    /// tasks.
    pub async fn list_execution_tasks(
        &self,
        id: WorkflowId,
        execution: WorkflowExecutionId,
        query: &PageQuery,
    ) -> Result<Page<ExecutionTask, ExecutionTaskSort>> {
        self.call(
            Method::GET,
            format!("/workflows/{id}/executions/{execution}/tasks"),
        )
        .query(query)
        .send()
        .await
    }

    /// `GET /workflows/{id}/executions/{execution_id}/tasks`: every step with its task.
    pub fn list_execution_tasks_stream(
        &self,
        id: WorkflowId,
        execution: WorkflowExecutionId,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<ExecutionTask>> + Send + 'static {
        self.stream::<ExecutionTask, ExecutionTaskSort>(
            format!("/workflows/{id}/executions/{execution}/tasks"),
            query,
        )
    }

    /// `POST /workflows/{id}/executions/{execution_id}/steps`: an entry of the step log.
    pub async fn record_execution_step(
        &self,
        id: WorkflowId,
        execution: WorkflowExecutionId,
        body: &RecordStepBody,
    ) -> Result<ExecutionStep> {
        self.call(
            Method::POST,
            format!("/workflows/{id}/executions/{execution}/steps"),
        )
        .json(body)
        .send()
        .await
    }

    /// `GET /workflows/{id}/executions/{execution_id}/steps`: one page of the step log.
    pub async fn list_execution_steps(
        &self,
        id: WorkflowId,
        execution: WorkflowExecutionId,
        query: &ListStepsQuery,
    ) -> Result<Page<ExecutionStep, ExecutionStepSort>> {
        self.call(
            Method::GET,
            format!("/workflows/{id}/executions/{execution}/steps"),
        )
        .query(query)
        .send()
        .await
    }

    /// `GET /workflows/{id}/executions/{execution_id}/steps`: the whole step log.
    pub fn list_execution_steps_stream(
        &self,
        id: WorkflowId,
        execution: WorkflowExecutionId,
        query: &ListStepsQuery,
    ) -> impl Stream<Item = Result<ExecutionStep>> + Send + 'static {
        self.stream::<ExecutionStep, ExecutionStepSort>(
            format!("/workflows/{id}/executions/{execution}/steps"),
            query,
        )
    }

    /// `GET /workflows/executions/{execution_id}/waits`: the execution's durable waits.
    pub async fn list_execution_waits(&self, execution: WorkflowExecutionId) -> Result<Waits> {
        self.call(
            Method::GET,
            format!("/workflows/executions/{execution}/waits"),
        )
        .send()
        .await
    }

    /// `POST /workflows/executions/{execution_id}/signals/{name}`: the step waiting for
    /// `name` proceeds, with the body's payload.
    pub async fn signal_execution(
        &self,
        execution: WorkflowExecutionId,
        name: &SignalName,
        body: &SignalBody,
    ) -> Result<WorkflowWait> {
        self.call(
            Method::POST,
            format!(
                "/workflows/executions/{execution}/signals/{}",
                segment(name.as_str())
            ),
        )
        .json(body)
        .send()
        .await
    }
}
