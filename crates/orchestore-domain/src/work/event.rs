use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{OrganizationId, TaskEventId, TaskId, TaskStatus};

/// One status change of a task, appended to its history in the transaction that made it and
/// never changed afterwards. The first event of a task is its creation (`from_status` is
/// `None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskEvent {
    pub id: TaskEventId,
    pub organization_id: OrganizationId,
    pub task_id: TaskId,
    pub from_status: Option<TaskStatus>,
    pub to_status: TaskStatus,
    /// Who made the change: `user:<id>` or `system`, as in the audit log. A change that
    /// follows from another (a dependency succeeded) is the other change's actor's.
    pub actor: String,
    /// Why, in words: `created`, `updated`, `started`, `dependency <id> succeeded`, …
    pub reason: String,
    pub created_at: DateTime<Utc>,
}
