use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::SourceName;
use super::values::{plain_text, text_enum};
use crate::{AlertId, DomainError, Metadata, OrganizationId};

text_enum!(
    AlertSeverity, "severity" {
        Info = "info",
        Warning = "warning",
        Critical = "critical",
    }
);

text_enum!(
    /// Where an alert stands: `open` → `acknowledged` → `resolved`, or `open` → `resolved`.
    AlertStatus, "status" {
        Open = "open",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
    }
);

impl AlertStatus {
    /// Every allowed change, as `(from, to)`.
    pub const TRANSITIONS: &'static [(AlertStatus, AlertStatus)] = &[
        (Self::Open, Self::Acknowledged),
        (Self::Open, Self::Resolved),
        (Self::Acknowledged, Self::Resolved),
    ];

    /// `to` from here, or [`DomainError::InvalidTransition`].
    pub fn to(self, to: AlertStatus) -> Result<AlertStatus, DomainError> {
        if Self::TRANSITIONS.contains(&(self, to)) {
            Ok(to)
        } else {
            Err(DomainError::InvalidTransition {
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }
}

/// What an alert says: 1 to 2,000 characters of text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct AlertMessage(String);

deserialize_by_parse!(AlertMessage, String, |raw| AlertMessage::parse(&raw));

impl AlertMessage {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        plain_text("message", raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What makes two raises the same alert, with their source: 1 to 200 characters of text. The
/// message when none is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Fingerprint(String);

deserialize_by_parse!(Fingerprint, String, |raw| Fingerprint::parse(&raw));

impl Fingerprint {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        plain_text("fingerprint", raw, Self::MAX_CHARS).map(Self)
    }

    /// A message's fingerprint: the message itself, cut to [`Fingerprint::MAX_CHARS`].
    pub fn of_message(message: &AlertMessage) -> Self {
        Self(
            message
                .as_str()
                .chars()
                .take(Self::MAX_CHARS)
                .collect::<String>()
                .trim_end()
                .to_owned(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A condition someone must look at. While it is not resolved, raising it again (same source
/// and fingerprint) counts another occurrence of it instead of opening another alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: AlertId,
    pub organization_id: OrganizationId,
    pub severity: AlertSeverity,
    pub source: SourceName,
    pub fingerprint: Fingerprint,
    pub message: AlertMessage,
    pub details: Metadata,
    pub status: AlertStatus,
    /// How many times it was raised; at least 1.
    pub occurrences: u64,
    pub first_raised_at: DateTime<Utc>,
    pub last_raised_at: DateTime<Utc>,
    /// Who acknowledged it (`user:<id>`, `agent:<id>` or `system`), and when.
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// An alert to raise.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub severity: AlertSeverity,
    pub source: SourceName,
    pub message: AlertMessage,
    pub fingerprint: Fingerprint,
    pub details: Metadata,
}

impl NewAlert {
    /// An alert whose fingerprint is its message.
    pub fn new(severity: AlertSeverity, source: SourceName, message: AlertMessage) -> Self {
        Self {
            severity,
            source,
            fingerprint: Fingerprint::of_message(&message),
            message,
            details: Metadata::default(),
        }
    }
}

/// What [`NewAlert`] raised: a new alert, or another occurrence of one not resolved yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Raised {
    pub alert: Alert,
    pub created: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_move_forward_only() {
        use AlertStatus::*;
        assert_eq!(Open.to(Acknowledged), Ok(Acknowledged));
        assert_eq!(Open.to(Resolved), Ok(Resolved));
        assert_eq!(Acknowledged.to(Resolved), Ok(Resolved));
        for (from, to) in [
            (Acknowledged, Acknowledged),
            (Resolved, Acknowledged),
            (Resolved, Open),
            (Acknowledged, Open),
            (Resolved, Resolved),
        ] {
            assert!(from.to(to).is_err(), "{from} → {to}");
        }
    }

    #[test]
    fn the_fingerprint_defaults_to_the_message() {
        let message = AlertMessage::parse(&format!("{} tail", "x".repeat(199))).expect("text");
        let fingerprint = Fingerprint::of_message(&message);
        assert_eq!(fingerprint.as_str(), "x".repeat(199));
        assert!(AlertMessage::parse("  ").is_err());
        assert!(Fingerprint::parse(&"y".repeat(201)).is_err());
    }
}
