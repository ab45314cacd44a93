//! The queue over HTTP: `POST /api/v1/queue/claim`, and the ends of a run under
//! `/api/v1/tasks/{id}/…`, each carrying the lease token the claim handed out.

use orchestore_domain::{AgentId, ClaimedTask, DomainError, LeaseToken, Task, TaskId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Invalid, Problem};

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// The agent the tasks run on; its capabilities decide which tasks it may take. An agent's
    /// API key implies its own agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// At most this many tasks (1–1000, default 1).
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// The lease of each task (1 s – 24 h, default 300 s).
    #[schema(minimum = 1, maximum = 86400)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<i64>,
    /// With nothing to claim, wait up to this long for work (0–60 s, default 0).
    #[schema(minimum = 0, maximum = 60)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_seconds: Option<i64>,
}

/// The tasks a claim handed out, each with its lease token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClaimedTasks {
    pub items: Vec<ClaimedTask>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimOneBody {
    /// The agent the task runs on; an agent's API key implies its own agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// The lease (1 s – 24 h, default 300 s).
    #[schema(minimum = 1, maximum = 86400)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatBody {
    pub lease_token: LeaseToken,
    /// The new lease from now (1 s – 24 h, default 300 s).
    #[schema(minimum = 1, maximum = 86400)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<i64>,
    /// Percent done.
    #[schema(minimum = 0, maximum = 100)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    pub lease_token: LeaseToken,
    /// Any JSON document the run produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionBody {
    pub task_id: TaskId,
    pub lease_token: LeaseToken,
    /// Any JSON document the run produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteManyBody {
    /// The runs to end in success: 1 to 1000, each task once.
    #[schema(min_items = 1, max_items = 1000)]
    pub completions: Vec<CompletionBody>,
}

/// One run's answer: the succeeded task, or the problem that kept it from ending.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CompletionOutcome {
    pub task_id: TaskId,
    /// 200 when the run ended; else the status of `problem` (404, 409).
    pub status: u16,
    /// The task, succeeded (with status 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub task: Option<Task>,
    /// Why the run did not end (with any other status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub problem: Option<Problem>,
}

/// The answer of each completion, in the order given.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CompletionOutcomes {
    pub items: Vec<CompletionOutcome>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailBody {
    pub lease_token: LeaseToken,
    /// Any JSON document saying what went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
    /// `false`: fail for good now, whatever attempts are left (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    pub lease_token: LeaseToken,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why, for the history.
    #[schema(max_length = 1000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl CancelBody {
    /// The reason, checked.
    pub fn into_reason(self) -> Result<Option<String>, Invalid> {
        cancel_reason(self.reason)
    }
}

/// Why something is cancelled, for its history: at most 1000 characters.
pub fn cancel_reason(reason: Option<String>) -> Result<Option<String>, Invalid> {
    if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        return Err(DomainError::invalid("reason", "at most 1000 characters").into());
    }
    Ok(reason)
}

/// A cancelled task, and how many of its descendants its cancellation ended.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CancelledTask {
    #[serde(flatten)]
    pub task: Task,
    pub cancelled_descendants: Descendants,
}

/// What a cancellation carried along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Descendants {
    /// Subtasks, tasks waiting for the task, and the tasks of the executions below.
    pub tasks: u64,
    /// Workflow executions started from the task or from a descendant.
    pub workflow_executions: u64,
}
