use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::values::text_enum;
use super::{CommunicationKind, ComponentKind, ComponentVersion, Endpoint, Measure, ResourceUse};
use crate::{
    CommunicationId, ComponentHealthId, ComponentId, DomainError, Metadata, Name, OrganizationId,
    Revision,
};

text_enum!(
    /// Where a component stands in the registry (its health is reported apart).
    ComponentStatus, "status" {
        /// In service.
        Active = "active",
        /// Taken out of service for a while on purpose.
        Maintenance = "maintenance",
        /// No longer in service; its records stay.
        Retired = "retired",
    }
);

/// A part of the system (a service, a worker pool, a database) whose traffic, health and
/// metrics are recorded. Names are unique within an organization, ignoring case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Component {
    pub id: ComponentId,
    pub organization_id: OrganizationId,
    pub name: Name,
    pub kind: ComponentKind,
    pub version: Option<ComponentVersion>,
    pub endpoint: Option<Endpoint>,
    pub status: ComponentStatus,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it has been written (1 when created); its HTTP `ETag`.
    pub revision: Revision,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewComponent {
    pub name: Name,
    pub kind: ComponentKind,
    pub version: Option<ComponentVersion>,
    pub endpoint: Option<Endpoint>,
    /// `Active` unless given.
    pub status: ComponentStatus,
    pub metadata: Metadata,
}

impl NewComponent {
    pub fn named(name: Name, kind: ComponentKind) -> Self {
        Self {
            name,
            kind,
            version: None,
            endpoint: None,
            status: ComponentStatus::Active,
            metadata: Metadata::default(),
        }
    }
}

/// The fields a change sets; `None` leaves one as it is, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComponentPatch {
    pub name: Option<Name>,
    pub kind: Option<ComponentKind>,
    pub version: Option<Option<ComponentVersion>>,
    pub endpoint: Option<Option<Endpoint>>,
    pub status: Option<ComponentStatus>,
    pub metadata: Option<Metadata>,
}

impl ComponentPatch {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

text_enum!(
    /// How one call between components ended.
    Outcome, "outcome" {
        Success = "success",
        Failure = "failure",
        Timeout = "timeout",
    }
);

/// One message from one component to another, appended and never changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Communication {
    pub id: CommunicationId,
    pub organization_id: OrganizationId,
    pub from_component_id: ComponentId,
    pub to_component_id: ComponentId,
    pub kind: CommunicationKind,
    pub payload_bytes: u64,
    pub latency_ms: f64,
    pub outcome: Outcome,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewCommunication {
    pub from_component_id: ComponentId,
    pub to_component_id: ComponentId,
    pub kind: CommunicationKind,
    pub payload_bytes: u64,
    pub latency_ms: Measure,
    pub outcome: Outcome,
    /// `None`: now.
    pub occurred_at: Option<DateTime<Utc>>,
}

impl NewCommunication {
    /// The largest payload size recorded: what a signed 64-bit column holds.
    pub const MAX_PAYLOAD_BYTES: u64 = i64::MAX as u64;

    pub fn payload_bytes(raw: u64) -> Result<u64, DomainError> {
        if raw > Self::MAX_PAYLOAD_BYTES {
            return Err(DomainError::invalid(
                "payload_bytes",
                format!("must be at most {}", Self::MAX_PAYLOAD_BYTES),
            ));
        }
        Ok(raw)
    }
}

text_enum!(
    /// What a health check found.
    HealthStatus, "status" {
        Healthy = "healthy",
        Degraded = "degraded",
        Down = "down",
    }
);

/// One health check of a component, appended and never changed: its history is the
/// component's health over time, the newest its latest state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HealthCheck {
    pub id: ComponentHealthId,
    pub organization_id: OrganizationId,
    pub component_id: ComponentId,
    pub status: HealthStatus,
    pub details: Metadata,
    pub resources: ResourceUse,
    pub checked_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewHealthCheck {
    pub status: HealthStatus,
    pub details: Metadata,
    pub resources: ResourceUse,
    /// `None`: now.
    pub checked_at: Option<DateTime<Utc>>,
}

impl NewHealthCheck {
    pub fn new(status: HealthStatus) -> Self {
        Self {
            status,
            details: Metadata::default(),
            resources: ResourceUse::default(),
            checked_at: None,
        }
    }
}

/// A component with its latest health check (`None` until it has one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ComponentHealth {
    pub component: Component,
    pub latest: Option<HealthCheck>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_name_their_field() {
        assert_eq!("down".parse::<HealthStatus>(), Ok(HealthStatus::Down));
        assert_eq!(
            "dead".parse::<HealthStatus>().unwrap_err().field(),
            Some("status")
        );
        assert_eq!("timeout".parse::<Outcome>(), Ok(Outcome::Timeout));
        assert_eq!(
            "lost".parse::<Outcome>().unwrap_err().to_string(),
            "outcome: \"lost\" is not one of success, failure, timeout"
        );
        assert_eq!(ComponentStatus::Retired.as_str(), "retired");
        assert!(NewCommunication::payload_bytes(u64::MAX).is_err());
        assert!(
            !ComponentPatch {
                status: Some(ComponentStatus::Maintenance),
                ..ComponentPatch::default()
            }
            .is_empty()
        );
        assert!(ComponentPatch::default().is_empty());
    }
}
