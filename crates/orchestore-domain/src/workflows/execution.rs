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

    /// The allowed changes, `(from, to)`: pending → running | cancelled, running → succeeded |
    /// failed | cancelled. There is no retry of a whole execution: a new execution is started
    /// instead, so the old one keeps its record.
    pub const TRANSITIONS: &'static [(ExecutionStatus, ExecutionStatus)] = &[
        (Self::Pending, Self::Running),
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
    pub updated_at: DateTime<Utc>,
}

/// A request to run a workflow. `version: None` runs the latest version; a number names one
/// (there is no version 0, so `Some(0)` finds nothing).
#[derive(Debug, Clone)]
pub struct NewWorkflowExecution {
    pub workflow_id: WorkflowId,
    pub version: Option<u32>,
    pub input: Payload,
}

/// A change of an execution's status, with what the execution produced. `output` and `error`
/// are recorded when it ends, so they come only with a final status.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionUpdate {
    status: ExecutionStatus,
    output: Option<Payload>,
    error: Option<Payload>,
}

impl ExecutionUpdate {
    /// A JSON `null` output or error is none.
    pub fn new(
        status: ExecutionStatus,
        output: Option<Payload>,
        error: Option<Payload>,
    ) -> Result<Self, DomainError> {
        let output = output.filter(|payload| !payload.as_value().is_null());
        let error = error.filter(|payload| !payload.as_value().is_null());
        if !status.is_final() {
            let given = [("output", output.is_some()), ("error", error.is_some())];
            if let Some((field, _)) = given.into_iter().find(|(_, given)| *given) {
                return Err(DomainError::invalid(
                    field,
                    format!(
                        "is recorded when the execution ends: give it with succeeded, failed \
                         or cancelled, not {status}"
                    ),
                ));
            }
        }
        Ok(Self {
            status,
            output,
            error,
        })
    }

    /// A status change alone.
    pub fn status_only(status: ExecutionStatus) -> Self {
        Self {
            status,
            output: None,
            error: None,
        }
    }

    pub fn status(&self) -> ExecutionStatus {
        self.status
    }

    pub fn output(&self) -> Option<&Payload> {
        self.output.as_ref()
    }

    pub fn error(&self) -> Option<&Payload> {
        self.error.as_ref()
    }

    /// Whether this update changes `execution`: `false` when it repeats the execution's
    /// status (and its output and error, when given), an error when the status cannot change
    /// so or when it would rewrite the output or error of an execution already ended.
    pub fn changes(&self, execution: &WorkflowExecution) -> Result<bool, DomainError> {
        execution.status.check_transition(self.status)?;
        if execution.status != self.status {
            return Ok(true);
        }
        let recorded = [
            ("output", &self.output, &execution.output),
            ("error", &self.error, &execution.error),
        ];
        for (field, given, stored) in recorded {
            if given.is_some() && given != stored {
                return Err(DomainError::invalid(
                    field,
                    format!(
                        "the execution is already {}: what it recorded does not change",
                        self.status
                    ),
                ));
            }
        }
        Ok(false)
    }
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
        assert!(
            ExecutionStatus::TRANSITIONS
                .iter()
                .all(|(from, _)| !from.is_final())
        );
    }

    fn execution(status: ExecutionStatus, output: Option<Payload>) -> WorkflowExecution {
        WorkflowExecution {
            id: WorkflowExecutionId::new(),
            organization_id: OrganizationId::new(),
            workflow_id: WorkflowId::new(),
            version_id: WorkflowVersionId::new(),
            version: 1,
            status,
            input: Payload::default(),
            output,
            error: None,
            started_at: None,
            finished_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn payload(value: serde_json::Value) -> Payload {
        Payload::parse(value).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn outcomes_come_with_a_final_status() {
        use ExecutionStatus::*;
        let early = ExecutionUpdate::new(Running, Some(payload(serde_json::json!(1))), None);
        assert_eq!(early.map_err(|e| e.field()), Err(Some("output")));
        let early = ExecutionUpdate::new(Pending, None, Some(payload(serde_json::json!("x"))));
        assert_eq!(early.map_err(|e| e.field()), Err(Some("error")));
        let done = ExecutionUpdate::new(Failed, None, Some(payload(serde_json::json!("boom"))))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(done.status(), Failed);
        assert_eq!(done.error(), Some(&payload(serde_json::json!("boom"))));
        assert_eq!(done.output(), None);
        let null = ExecutionUpdate::new(Running, Some(payload(serde_json::Value::Null)), None);
        assert_eq!(null.map(|u| u.output().cloned()), Ok(None));
    }

    #[test]
    fn an_update_changes_or_repeats() {
        use ExecutionStatus::*;
        let pending = execution(Pending, None);
        assert_eq!(
            ExecutionUpdate::status_only(Running).changes(&pending),
            Ok(true)
        );
        assert_eq!(
            ExecutionUpdate::status_only(Pending).changes(&pending),
            Ok(false)
        );
        assert!(
            ExecutionUpdate::status_only(Succeeded)
                .changes(&pending)
                .is_err()
        );

        let output = payload(serde_json::json!({"ok": true}));
        let done = execution(Succeeded, Some(output.clone()));
        let again =
            ExecutionUpdate::new(Succeeded, Some(output), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.changes(&done), Ok(false));
        assert_eq!(
            ExecutionUpdate::status_only(Succeeded).changes(&done),
            Ok(false)
        );
        let rewrite = ExecutionUpdate::new(Succeeded, Some(payload(serde_json::json!(2))), None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            rewrite.changes(&done).map_err(|e| e.field()),
            Err(Some("output"))
        );
        assert!(
            ExecutionUpdate::status_only(Cancelled)
                .changes(&done)
                .is_err()
        );
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
