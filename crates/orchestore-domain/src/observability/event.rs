use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CorrelationId, EventKind, SourceName};
use crate::{DomainError, EventId, OrganizationId, Payload, ProjectId, TaskId, WorkflowId};

/// Something that happened in the system, as its source reported it. Events are appended and
/// never changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    pub id: EventId,
    pub organization_id: OrganizationId,
    pub kind: EventKind,
    pub source: SourceName,
    pub payload: Payload,
    pub correlation_id: Option<CorrelationId>,
    pub project_id: Option<ProjectId>,
    pub workflow_id: Option<WorkflowId>,
    pub task_id: Option<TaskId>,
    /// When it happened, as the source says (the time it was recorded when not given).
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}

/// An event to record. The payload is any JSON of at most [`NewEvent::MAX_PAYLOAD_BYTES`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub source: SourceName,
    pub payload: Payload,
    pub correlation_id: Option<CorrelationId>,
    pub project_id: Option<ProjectId>,
    pub workflow_id: Option<WorkflowId>,
    pub task_id: Option<TaskId>,
    /// `None`: now.
    pub occurred_at: Option<DateTime<Utc>>,
}

impl NewEvent {
    /// Events are many: their payload is bounded tighter than a task's.
    pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

    pub fn new(kind: EventKind, source: SourceName) -> Self {
        Self {
            kind,
            source,
            payload: Payload::default(),
            correlation_id: None,
            project_id: None,
            workflow_id: None,
            task_id: None,
            occurred_at: None,
        }
    }

    /// `raw` as an event's payload: a [`Payload`] of at most [`NewEvent::MAX_PAYLOAD_BYTES`].
    pub fn payload(raw: serde_json::Value) -> Result<Payload, DomainError> {
        let payload = Payload::parse(raw)?;
        let size = serde_json::to_vec(payload.as_value()).map_or(usize::MAX, |b| b.len());
        if size > Self::MAX_PAYLOAD_BYTES {
            return Err(DomainError::invalid(
                "payload",
                format!("must be at most {} bytes of JSON", Self::MAX_PAYLOAD_BYTES),
            ));
        }
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_bounded() {
        assert!(NewEvent::payload(serde_json::json!({"ok": true})).is_ok());
        let big = serde_json::Value::String("x".repeat(NewEvent::MAX_PAYLOAD_BYTES));
        assert_eq!(NewEvent::payload(big).unwrap_err().field(), Some("payload"));
    }
}
