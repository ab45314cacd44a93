//! Fairness keys: a name shared by tasks of one organization (`project:web`) under which claims
//! take turns, so that one key's backlog does not hold back another key's tasks of the same
//! priority.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// The name of a group of tasks that claims serve in turn with the organization's other
/// groups: 1 to 128 characters of ASCII letters, digits and `: / . _ -`, as a concurrency key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct FairnessKey(String);

deserialize_by_parse!(FairnessKey, String, |raw| FairnessKey::parse(&raw));

impl FairnessKey {
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.is_empty() || raw.len() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "fairness.key",
                format!("must be 1 to {} characters", Self::MAX_CHARS),
            ));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.' | '_' | '-')))
        {
            return Err(DomainError::invalid(
                "fairness.key",
                format!("may hold ASCII letters, digits and : / . _ - only, not {bad:?}"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FairnessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for FairnessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A fairness key's weight, 1 to 1,000: with weights 3 and 1, two keys with backlogs of the
/// same priority get three tasks and one task of every four claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct FairnessWeight(u16);

deserialize_by_parse!(FairnessWeight, i64, FairnessWeight::parse);

impl FairnessWeight {
    pub const MAX: u16 = 1_000;

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        match u16::try_from(raw) {
            Ok(weight) if (1..=Self::MAX).contains(&weight) => Ok(Self(weight)),
            _ => Err(DomainError::invalid(
                "fairness.weight",
                format!("must be between 1 and {}", Self::MAX),
            )),
        }
    }

    pub const fn get(self) -> u16 {
        self.0
    }
}

impl Default for FairnessWeight {
    fn default() -> Self {
        Self(1)
    }
}

/// A task's fairness key with the weight it was enqueued with. The key's weight is the one its
/// latest enqueue named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskFairness {
    pub key: FairnessKey,
    pub weight: FairnessWeight,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_and_plain() {
        assert_eq!(
            FairnessKey::parse("project:web").map(|k| k.to_string()),
            Ok("project:web".to_owned())
        );
        assert!(FairnessKey::parse(&"k".repeat(128)).is_ok());
        for bad in ["", "a b", "é", "a\0", &"k".repeat(129)] {
            assert_eq!(
                FairnessKey::parse(bad).unwrap_err().field(),
                Some("fairness.key")
            );
        }
    }

    #[test]
    fn weights_are_one_to_a_thousand() {
        assert_eq!(FairnessWeight::default().get(), 1);
        assert_eq!(
            FairnessWeight::parse(1_000).map(FairnessWeight::get),
            Ok(1_000)
        );
        for bad in [0, -1, 1_001, i64::MAX] {
            assert_eq!(
                FairnessWeight::parse(bad).unwrap_err().field(),
                Some("fairness.weight")
            );
        }
    }
}
