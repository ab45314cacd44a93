use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    DomainError, OrganizationId, Payload, WorkflowExecutionId, WorkflowId, WorkflowVersionId,
};

/// Where a workflow execution is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    /// Created; no step has started.
    Pending,
    /// At least one step has started.
    Running,
    /// Every step succeeded.
    Succeeded,
    /// A step failed with no attempts left.
    Failed,
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

    /// Checks a transition: pending → running | cancelled, running → succeeded | failed |
    /// cancelled. Staying in the same status is allowed (a repeated request changes nothing).
    /// There is no retry of a whole execution: a new execution is started instead, so the old
    /// one keeps its record.
    pub fn check_transition(self, to: ExecutionStatus) -> Result<(), DomainError> {
        use ExecutionStatus::*;
        let allowed = match self {
            Pending => matches!(to, Running | Cancelled),
            Running => matches!(to, Succeeded | Failed | Cancelled),
            Succeeded | Failed | Cancelled => false,
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
/// need no join. `started_at` is set on entering `running` and `finished_at` on reaching a
/// final status; both are `None` before.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A request to run a workflow. `version: None` runs the latest version; a number names one
/// (there is no version 0, so `Some(0)` finds nothing).
#[derive(Debug, Clone)]
pub struct NewWorkflowExecution {
    pub workflow_id: WorkflowId,
    pub version: Option<u32>,
    pub input: Payload,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine() {
        use ExecutionStatus::*;
        let allowed = [
            (Pending, Running),
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
