use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    Capabilities, Description, DomainError, Metadata, OrganizationId, Payload, Priority, ProjectId,
    TaskId, Title,
};

/// Where a task is in its life. See DESIGN §3 "Tasks and the queue".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting on dependencies.
    Blocked,
    /// Claimable.
    Queued,
    /// Leased by one agent.
    Running,
    Succeeded,
    /// Attempts exhausted: the dead letter.
    Failed,
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 6] = [
        Self::Blocked,
        Self::Queued,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Checks a transition against the state machine. A failed task may be queued again (a
    /// manual retry); succeeded and cancelled are final.
    pub fn check_transition(self, to: TaskStatus) -> Result<(), DomainError> {
        use TaskStatus::*;
        let allowed = match self {
            Blocked => matches!(to, Queued | Cancelled),
            Queued => matches!(to, Running | Blocked | Cancelled),
            Running => matches!(to, Queued | Succeeded | Failed | Cancelled),
            Failed => matches!(to, Queued),
            Succeeded | Cancelled => false,
        };
        if allowed || self == to {
            Ok(())
        } else {
            Err(DomainError::InvalidTransition {
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskStatus {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "status",
                    format!(
                        "{s:?} is not one of blocked, queued, running, succeeded, failed, cancelled"
                    ),
                )
            })
    }
}

/// A unit of work in a project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    pub id: TaskId,
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    pub title: Title,
    pub description: Description,
    pub status: TaskStatus,
    pub priority: Priority,
    pub payload: Payload,
    pub required_capabilities: Capabilities,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewTask {
    pub project_id: ProjectId,
    pub title: Title,
    pub description: Description,
    pub priority: Priority,
    pub payload: Payload,
    pub required_capabilities: Capabilities,
    pub metadata: Metadata,
}

impl NewTask {
    /// A task with only a title; the rest takes its defaults.
    pub fn titled(project_id: ProjectId, title: Title) -> Self {
        Self {
            project_id,
            title,
            description: Description::empty(),
            priority: Priority::default(),
            payload: Payload::default(),
            required_capabilities: Capabilities::default(),
            metadata: Metadata::default(),
        }
    }
}

/// The fields a PATCH may change; `None` leaves a field as it is. A status change is checked
/// against [`TaskStatus::check_transition`]; `running` is reached only by claiming.
#[derive(Debug, Clone, Default)]
pub struct TaskPatch {
    pub title: Option<Title>,
    pub description: Option<Description>,
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    pub payload: Option<Payload>,
    pub required_capabilities: Option<Capabilities>,
    pub metadata: Option<Metadata>,
}

impl TaskPatch {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.status.is_none()
            && self.priority.is_none()
            && self.payload.is_none()
            && self.required_capabilities.is_none()
            && self.metadata.is_none()
    }

    /// Refuses a patch that asks for a transition the state machine forbids, or for `running`,
    /// which only a claim may set.
    pub fn check_against(&self, current: TaskStatus) -> Result<(), DomainError> {
        match self.status {
            Some(TaskStatus::Running) if current != TaskStatus::Running => {
                Err(DomainError::invalid(
                    "status",
                    "a task becomes running only when an agent claims it",
                ))
            }
            Some(to) => current.check_transition(to),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine() {
        use TaskStatus::*;
        assert!(Queued.check_transition(Cancelled).is_ok());
        assert!(Failed.check_transition(Queued).is_ok());
        assert!(Succeeded.check_transition(Queued).is_err());
        assert!(Cancelled.check_transition(Running).is_err());
        let to_running = TaskPatch {
            status: Some(Running),
            ..TaskPatch::default()
        };
        assert!(to_running.check_against(Queued).is_err());
        assert_eq!("queued".parse::<TaskStatus>(), Ok(Queued));
        assert!("done".parse::<TaskStatus>().is_err());
    }
}
