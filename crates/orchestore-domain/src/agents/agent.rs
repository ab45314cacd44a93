use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    AgentId, AgentKind, AgentStatus, Capabilities, DomainError, Metadata, ModelName, Name,
    OrganizationId, ProviderName, Revision,
};

/// A registered worker. Names are unique within an organization.
///
/// The counters only grow: the store adds to them when a task the agent held succeeds or fails
/// and when the agent sends a message. Run time is kept as a whole number of milliseconds
/// (`total_task_millis`) rather than fractional seconds so that sums are exact and map to an
/// integer column on every backend; [`Agent::mean_task_seconds`] derives the mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Agent {
    pub id: AgentId,
    pub organization_id: OrganizationId,
    pub name: Name,
    pub kind: AgentKind,
    pub capabilities: Capabilities,
    pub status: AgentStatus,
    /// Caller-defined settings (a JSON object).
    pub config: Metadata,
    pub model: Option<ModelName>,
    pub provider: Option<ProviderName>,
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    pub tasks_completed: u64,
    pub tasks_failed: u64,
    pub messages_sent: u64,
    /// Time spent on finished tasks (succeeded or failed), in milliseconds.
    pub total_task_millis: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it has been written (1 when created); its HTTP `ETag`.
    pub revision: Revision,
}

impl Agent {
    /// Mean run time of a finished task in seconds; `None` before the first one.
    pub fn mean_task_seconds(&self) -> Option<f64> {
        self.stats().mean_task_seconds
    }

    pub fn stats(&self) -> AgentStats {
        AgentStats::new(
            self.tasks_completed,
            self.tasks_failed,
            self.messages_sent,
            self.total_task_millis,
        )
    }
}

/// An agent's counters and what follows from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentStats {
    pub tasks_completed: u64,
    pub tasks_failed: u64,
    pub messages_sent: u64,
    pub total_task_millis: u64,
    /// `total_task_millis / (tasks_completed + tasks_failed)`, in seconds.
    pub mean_task_seconds: Option<f64>,
    /// `tasks_completed / (tasks_completed + tasks_failed)`, between 0 and 1.
    pub success_rate: Option<f64>,
}

impl AgentStats {
    pub fn new(
        tasks_completed: u64,
        tasks_failed: u64,
        messages_sent: u64,
        total_task_millis: u64,
    ) -> Self {
        let finished = tasks_completed.saturating_add(tasks_failed);
        // Counters stay far below 2^53, where u64 → f64 starts to round.
        let (mean_task_seconds, success_rate) = if finished == 0 {
            (None, None)
        } else {
            (
                Some(total_task_millis as f64 / 1000.0 / finished as f64),
                Some(tasks_completed as f64 / finished as f64),
            )
        };
        Self {
            tasks_completed,
            tasks_failed,
            messages_sent,
            total_task_millis,
            mean_task_seconds,
            success_rate,
        }
    }
}

/// Parses an agent's capabilities. [`Capabilities::parse`] names the task field
/// `required_capabilities`; an agent's field is `capabilities`.
pub fn agent_capabilities<S: AsRef<str>>(raw: &[S]) -> Result<Capabilities, DomainError> {
    Capabilities::parse(raw).map_err(|error| match error {
        DomainError::Invalid { reason, .. } => DomainError::invalid("capabilities", reason),
        other => other,
    })
}

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub name: Name,
    pub kind: AgentKind,
    pub capabilities: Capabilities,
    pub status: AgentStatus,
    pub config: Metadata,
    pub model: Option<ModelName>,
    pub provider: Option<ProviderName>,
}

impl NewAgent {
    /// An active agent with no capabilities, config, model or provider.
    pub fn named(name: Name, kind: AgentKind) -> Self {
        Self {
            name,
            kind,
            capabilities: Capabilities::default(),
            status: AgentStatus::Active,
            config: Metadata::default(),
            model: None,
            provider: None,
        }
    }
}

/// The fields a PATCH may change; `None` leaves a field as it is. Any status may follow any
/// other (see [`AgentStatus`]). Counters and the heartbeat are not patchable: the store keeps
/// them.
#[derive(Debug, Clone, Default)]
pub struct AgentPatch {
    pub name: Option<Name>,
    pub kind: Option<AgentKind>,
    pub capabilities: Option<Capabilities>,
    pub status: Option<AgentStatus>,
    pub config: Option<Metadata>,
    /// `Some(None)` clears the model.
    pub model: Option<Option<ModelName>>,
    /// `Some(None)` clears the provider.
    pub provider: Option<Option<ProviderName>>,
}

impl AgentPatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.kind.is_none()
            && self.capabilities.is_none()
            && self.status.is_none()
            && self.config.is_none()
            && self.model.is_none()
            && self.provider.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(completed: u64, failed: u64, millis: u64) -> Agent {
        let now = Utc::now();
        Agent {
            id: AgentId::new(),
            organization_id: OrganizationId::new(),
            name: Name::parse("name", "reviewer").unwrap_or_else(|_| unreachable!()),
            kind: AgentKind::Ai,
            capabilities: Capabilities::default(),
            status: AgentStatus::Active,
            config: Metadata::default(),
            model: ModelName::parse("claude").ok(),
            provider: None,
            last_heartbeat_at: None,
            tasks_completed: completed,
            tasks_failed: failed,
            messages_sent: 7,
            total_task_millis: millis,
            created_at: now,
            updated_at: now,
            revision: Revision::FIRST,
        }
    }

    #[test]
    fn stats_follow_from_the_counters() {
        let fresh = agent(0, 0, 0);
        assert_eq!(fresh.mean_task_seconds(), None);
        assert_eq!(fresh.stats().success_rate, None);

        let busy = agent(3, 1, 10_000);
        assert_eq!(busy.mean_task_seconds(), Some(2.5));
        let stats = busy.stats();
        assert_eq!(stats.success_rate, Some(0.75));
        assert_eq!(stats.messages_sent, 7);
        assert_eq!(stats.total_task_millis, 10_000);
    }

    #[test]
    fn serialises_with_snake_case_enums() {
        let value = serde_json::to_value(agent(1, 0, 1)).unwrap_or_default();
        assert_eq!(value["kind"], "ai");
        assert_eq!(value["status"], "active");
        assert_eq!(value["model"], "claude");
        assert_eq!(value["provider"], serde_json::Value::Null);
    }

    #[test]
    fn agent_capabilities_name_their_field() {
        let caps = agent_capabilities(&["rust", "review"]).unwrap_or_default();
        assert_eq!(
            caps.to_strings(),
            vec!["review".to_owned(), "rust".to_owned()]
        );
        let error = agent_capabilities(&["Not Valid"]).unwrap_err();
        assert_eq!(error.field(), Some("capabilities"));
    }

    #[test]
    fn patches_know_when_they_are_empty() {
        assert!(AgentPatch::default().is_empty());
        let clear_model = AgentPatch {
            model: Some(None),
            ..AgentPatch::default()
        };
        assert!(!clear_model.is_empty());
        let named = NewAgent::named(
            Name::parse("name", "bot").unwrap_or_else(|_| unreachable!()),
            AgentKind::Bot,
        );
        assert_eq!(named.status, AgentStatus::Active);
    }
}
