use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// What a template makes: a batch of tasks or a workflow definition. Fixed at creation, since
/// the body's shape depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    /// The body is `{"tasks": [ … ]}`.
    Task,
    /// The body is a workflow definition, `{"steps": [ … ]}`.
    Workflow,
}

impl TemplateKind {
    pub const ALL: [TemplateKind; 2] = [Self::Task, Self::Workflow];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Task => "task",
            Self::Workflow => "workflow",
        }
    }
}

impl fmt::Display for TemplateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TemplateKind {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid("kind", format!("{s:?} is not one of task, workflow"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in TemplateKind::ALL {
            assert_eq!(kind.as_str().parse::<TemplateKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::json!(kind.to_string()))
            );
        }
        let error = "tasks".parse::<TemplateKind>().unwrap_err();
        assert_eq!(error.field(), Some("kind"));
        assert!(error.to_string().contains("task, workflow"));
    }
}
