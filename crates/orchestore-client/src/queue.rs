//! The queue: `/api/v1/queue/…` and the ends of a run under `/api/v1/tasks/{id}/…`, each
//! carrying the lease token the claim handed out.

use orchestore_api::queue::{
    CancelBody, CancelledTask, ClaimBody, ClaimOneBody, ClaimedTasks, CompleteBody,
    CompleteManyBody, CompletionOutcomes, FailBody, HeartbeatBody, ReleaseBody,
};
use orchestore_domain::{ClaimedTask, QueueStats, Revision, Task, TaskId};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /queue/claim`: up to `limit` tasks the agent may run, each with its lease token;
    /// with `wait_seconds`, the call waits that long for work when there is none.
    pub async fn claim_tasks(&self, body: &ClaimBody) -> Result<ClaimedTasks> {
        self.call(Method::POST, "/queue/claim")
            .json(body)
            .send()
            .await
    }

    /// `POST /tasks/{id}/claim`: this task, running, with its lease token.
    pub async fn claim_task(&self, id: TaskId, body: &ClaimOneBody) -> Result<ClaimedTask> {
        self.call(Method::POST, format!("/tasks/{id}/claim"))
            .json(body)
            .send()
            .await
    }

    /// `POST /tasks/{id}/heartbeat`: the lease, extended; a 409 problem when it is no longer
    /// the task's (claimed again, cancelled, or ended): stop working on it.
    pub async fn heartbeat_task(&self, id: TaskId, body: &HeartbeatBody) -> Result<Task> {
        self.call(Method::POST, format!("/tasks/{id}/heartbeat"))
            .json(body)
            .send()
            .await
    }

    /// `POST /tasks/{id}/complete`: the run, ended in success.
    pub async fn complete_task(&self, id: TaskId, body: &CompleteBody) -> Result<Task> {
        self.call(Method::POST, format!("/tasks/{id}/complete"))
            .json(body)
            .send()
            .await
    }

    /// `POST /queue/complete`: many runs ended in success, each answered on its own.
    pub async fn complete_tasks(&self, body: &CompleteManyBody) -> Result<CompletionOutcomes> {
        self.call(Method::POST, "/queue/complete")
            .json(body)
            .send()
            .await
    }

    /// `POST /tasks/{id}/fail`: the run, failed; queued again after a backoff while attempts
    /// are left, else `failed`.
    pub async fn fail_task(&self, id: TaskId, body: &FailBody) -> Result<Task> {
        self.call(Method::POST, format!("/tasks/{id}/fail"))
            .json(body)
            .send()
            .await
    }

    /// `POST /tasks/{id}/release`: the run given back unfinished, the task queued again.
    pub async fn release_task(&self, id: TaskId, body: &ReleaseBody) -> Result<Task> {
        self.call(Method::POST, format!("/tasks/{id}/release"))
            .json(body)
            .send()
            .await
    }

    /// `POST /tasks/{id}/cancel`: the task and its descendants, cancelled; with `if_match`,
    /// only when the task is still at that revision.
    pub async fn cancel_task(
        &self,
        id: TaskId,
        body: &CancelBody,
        if_match: Option<Revision>,
    ) -> Result<CancelledTask> {
        self.call(Method::POST, format!("/tasks/{id}/cancel"))
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }

    /// `POST /tasks/{id}/retry`: a failed task, queued again with a fresh series of attempts.
    pub async fn retry_task(&self, id: TaskId) -> Result<Task> {
        self.call(Method::POST, format!("/tasks/{id}/retry"))
            .send()
            .await
    }

    /// `GET /queue/stats`: the queue right now.
    pub async fn queue_stats(&self) -> Result<QueueStats> {
        self.call(Method::GET, "/queue/stats").send().await
    }
}
