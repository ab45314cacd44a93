use std::fmt;

use thiserror::Error;

/// Why a value or a transition was refused. `field` names the input at fault, so the API can
/// point at it. Non-exhaustive: match it with a wildcard arm, as later entities add cases.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DomainError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("status cannot change from {from} to {to}")]
    InvalidTransition {
        from: &'static str,
        to: &'static str,
    },
    /// An edge that would close a cycle in a graph that must stay acyclic (task dependencies,
    /// workflow steps). `path` starts with the new edge, `from → to → … → from`: its first
    /// node is repeated at the end.
    #[error("adding this edge makes a cycle: {}", .path.join(" → "))]
    Cycle {
        field: &'static str,
        path: Vec<String>,
    },
    /// A change to a system role (see [`crate::Role::ensure_changeable`]): the system roles
    /// are shared by every organization, so no organization may change or delete them.
    #[error(
        "role {code} is a system role, shared by every organization: it cannot be changed or deleted"
    )]
    SystemRole { code: String },
}

impl DomainError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// A [`DomainError::Cycle`] on `field` through `path` (first node repeated at the end), as
    /// [`crate::would_close_cycle`] returns it.
    pub fn cycle<K: fmt::Display>(field: &'static str, path: &[K]) -> Self {
        Self::Cycle {
            field,
            path: path.iter().map(ToString::to_string).collect(),
        }
    }

    /// The input field at fault, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Invalid { field, .. } | Self::Cycle { field, .. } => Some(field),
            Self::InvalidTransition { .. } => Some("status"),
            Self::SystemRole { .. } => None,
        }
    }

    /// The same error on another input field: a value parsed by a type that names its own
    /// field (a `password`) arriving under another name (`new_password`).
    pub fn for_field(self, field: &'static str) -> Self {
        match self {
            Self::Invalid { reason, .. } => Self::Invalid { field, reason },
            Self::Cycle { path, .. } => Self::Cycle { field, path },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_names_its_field() {
        let invalid = DomainError::invalid("title", "must not be empty");
        assert_eq!(invalid.field(), Some("title"));
        assert_eq!(
            invalid.clone().for_field("name").to_string(),
            "name: must not be empty"
        );
        assert_eq!(invalid.to_string(), "title: must not be empty");
        let transition = DomainError::InvalidTransition {
            from: "succeeded",
            to: "queued",
        };
        assert_eq!(transition.field(), Some("status"));
        assert_eq!(
            transition.to_string(),
            "status cannot change from succeeded to queued"
        );
    }

    #[test]
    fn a_cycle_shows_its_path() {
        let cycle = DomainError::cycle("depends_on", &["a", "b", "a"]);
        assert_eq!(cycle.field(), Some("depends_on"));
        assert_eq!(
            cycle.to_string(),
            "adding this edge makes a cycle: a → b → a"
        );
        assert_eq!(
            cycle,
            DomainError::Cycle {
                field: "depends_on",
                path: vec!["a".into(), "b".into(), "a".into()]
            }
        );
    }
}
