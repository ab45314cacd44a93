//! `/api/v1/tasks`: the tasks, their dependencies and their history.

use futures_util::Stream;
use orchestore_api::PageQuery;
use orchestore_api::tasks::{
    AddDependencyBody, BatchBody, CreateTaskBody, EnqueuedBatch, ListTasksQuery, PatchTaskBody,
};
use orchestore_domain::{Enqueued, Revision, Task, TaskEvent, TaskId, TaskStats};
use orchestore_repo::{DependencySort, DependentSort, Page, TaskEventSort, TaskSort};
use reqwest::{Method, StatusCode};

use crate::{Client, Result};

impl Client {
    /// `POST /tasks`: the task, created (`created` is `true`), or the first task with the
    /// body's `idempotency_key` as it is now (`false`, nothing written).
    pub async fn create_task(&self, body: &CreateTaskBody) -> Result<Enqueued> {
        let (status, task) = self
            .call(Method::POST, "/tasks")
            .json(body)
            .send_with_status::<Task>()
            .await?;
        Ok(Enqueued {
            task,
            created: status == StatusCode::CREATED,
        })
    }

    /// `POST /tasks/batch`: each task sent, in order, created or found by its idempotency key.
    pub async fn create_tasks(&self, body: &BatchBody) -> Result<EnqueuedBatch> {
        self.call(Method::POST, "/tasks/batch")
            .json(body)
            .send()
            .await
    }

    /// `GET /tasks`: one page.
    pub async fn list_tasks(&self, query: &ListTasksQuery) -> Result<Page<Task, TaskSort>> {
        self.call(Method::GET, "/tasks").query(query).send().await
    }

    /// `GET /tasks`: every task from the page `query` names on.
    pub fn list_tasks_stream(
        &self,
        query: &ListTasksQuery,
    ) -> impl Stream<Item = Result<Task>> + Send + 'static {
        self.stream::<Task, TaskSort>("/tasks".to_owned(), query)
    }

    /// `GET /tasks/{id}`.
    pub async fn get_task(&self, id: TaskId) -> Result<Task> {
        self.call(Method::GET, format!("/tasks/{id}")).send().await
    }

    /// `PATCH /tasks/{id}`; with `if_match`, only when the task is still at that revision.
    pub async fn update_task(
        &self,
        id: TaskId,
        body: &PatchTaskBody,
        if_match: Option<Revision>,
    ) -> Result<Task> {
        self.call(Method::PATCH, format!("/tasks/{id}"))
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }

    /// `DELETE /tasks/{id}`: the task, its dependency edges, history and messages.
    pub async fn delete_task(&self, id: TaskId, if_match: Option<Revision>) -> Result<()> {
        self.call(Method::DELETE, format!("/tasks/{id}"))
            .if_match(if_match)
            .send_empty()
            .await
    }

    /// `GET /tasks/{id}/dependencies`: one page of the tasks `id` waits for.
    pub async fn list_dependencies(
        &self,
        id: TaskId,
        query: &PageQuery,
    ) -> Result<Page<Task, DependencySort>> {
        self.call(Method::GET, format!("/tasks/{id}/dependencies"))
            .query(query)
            .send()
            .await
    }

    /// `GET /tasks/{id}/dependencies`: every task `id` waits for.
    pub fn list_dependencies_stream(
        &self,
        id: TaskId,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<Task>> + Send + 'static {
        self.stream::<Task, DependencySort>(format!("/tasks/{id}/dependencies"), query)
    }

    /// `POST /tasks/{id}/dependencies`: `id` waits for `body.depends_on`; the task, `blocked`
    /// when that one has not succeeded.
    pub async fn add_dependency(&self, id: TaskId, body: &AddDependencyBody) -> Result<Task> {
        self.call(Method::POST, format!("/tasks/{id}/dependencies"))
            .json(body)
            .send()
            .await
    }

    /// `DELETE /tasks/{id}/dependencies/{depends_on}`.
    pub async fn remove_dependency(&self, id: TaskId, depends_on: TaskId) -> Result<()> {
        self.call(
            Method::DELETE,
            format!("/tasks/{id}/dependencies/{depends_on}"),
        )
        .send_empty()
        .await
    }

    /// `GET /tasks/{id}/dependents`: one page of the tasks waiting for `id`.
    pub async fn list_dependents(
        &self,
        id: TaskId,
        query: &PageQuery,
    ) -> Result<Page<Task, DependentSort>> {
        self.call(Method::GET, format!("/tasks/{id}/dependents"))
            .query(query)
            .send()
            .await
    }

    /// `GET /tasks/{id}/dependents`: every task waiting for `id`.
    pub fn list_dependents_stream(
        &self,
        id: TaskId,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<Task>> + Send + 'static {
        self.stream::<Task, DependentSort>(format!("/tasks/{id}/dependents"), query)
    }

    /// `GET /tasks/{id}/events`: one page of the task's status history.
    pub async fn list_task_events(
        &self,
        id: TaskId,
        query: &PageQuery,
    ) -> Result<Page<TaskEvent, TaskEventSort>> {
        self.call(Method::GET, format!("/tasks/{id}/events"))
            .query(query)
            .send()
            .await
    }

    /// `GET /tasks/{id}/events`: the task's whole status history.
    pub fn list_task_events_stream(
        &self,
        id: TaskId,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<TaskEvent>> + Send + 'static {
        self.stream::<TaskEvent, TaskEventSort>(format!("/tasks/{id}/events"), query)
    }

    /// `GET /tasks/stats`: the organization's task statistics.
    pub async fn task_stats(&self) -> Result<TaskStats> {
        self.call(Method::GET, "/tasks/stats").send().await
    }
}
