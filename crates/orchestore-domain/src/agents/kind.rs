use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// What sort of worker an agent is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    /// A model behind an API.
    Ai,
    /// A person working through a client.
    Human,
    /// A deterministic program (CI runner, script).
    Bot,
}

impl AgentKind {
    pub const ALL: [AgentKind; 3] = [Self::Ai, Self::Human, Self::Bot];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ai => "ai",
            Self::Human => "human",
            Self::Bot => "bot",
        }
    }
}

impl fmt::Display for AgentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AgentKind {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid("kind", format!("{s:?} is not one of ai, human, bot"))
            })
    }
}

/// Whether an agent is around and free.
///
/// There is no state machine: any status may follow any other. Status is reported by the agent
/// itself (or set by an operator) and the orchestrator only reads it; refusing a change would
/// leave the stored status wrong rather than protect an invariant. Liveness is told by
/// `last_heartbeat_at`, not by the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Registered and ready to take work.
    Active,
    /// Switched off on purpose; takes no work.
    Inactive,
    /// At its capacity for now.
    Busy,
    /// Not reachable (missed heartbeats, shut down).
    Offline,
}

impl AgentStatus {
    pub const ALL: [AgentStatus; 4] = [Self::Active, Self::Inactive, Self::Busy, Self::Offline];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Busy => "busy",
            Self::Offline => "offline",
        }
    }
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AgentStatus {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "status",
                    format!("{s:?} is not one of active, inactive, busy, offline"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in AgentKind::ALL {
            assert_eq!(kind.as_str().parse::<AgentKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::json!(kind.to_string()))
            );
        }
        for status in AgentStatus::ALL {
            assert_eq!(status.as_str().parse::<AgentStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::json!(status.to_string()))
            );
        }
    }

    #[test]
    fn unknown_names_name_the_field_and_the_choices() {
        let kind = "robot".parse::<AgentKind>().unwrap_err();
        assert_eq!(kind.field(), Some("kind"));
        assert!(kind.to_string().contains("ai, human, bot"));
        let status = "Active".parse::<AgentStatus>().unwrap_err();
        assert_eq!(status.field(), Some("status"));
        assert!(
            status
                .to_string()
                .contains("active, inactive, busy, offline")
        );
    }
}
