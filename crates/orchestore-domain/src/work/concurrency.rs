//! Concurrency keys: a name shared by tasks (`repo:acme/web`) with a limit on how many of them
//! run at once, and what an enqueue does when the key is already full.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// The name that groups tasks under one running limit, within an organization: 1 to 128
/// characters of ASCII letters, digits and `: / . _ -`, so that a key reads the same in a URL,
/// a log line and a metric label.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ConcurrencyKey(String);

deserialize_by_parse!(ConcurrencyKey, String, |raw| ConcurrencyKey::parse(&raw));

impl ConcurrencyKey {
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.is_empty() || raw.len() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "concurrency.key",
                format!("must be 1 to {} characters", Self::MAX_CHARS),
            ));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.' | '_' | '-')))
        {
            return Err(DomainError::invalid(
                "concurrency.key",
                format!("may hold ASCII letters, digits and : / . _ - only, not {bad:?}"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConcurrencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for ConcurrencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// How many tasks of one key may run at once: 1 to 10,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ConcurrencyLimit(u32);

deserialize_by_parse!(ConcurrencyLimit, i64, ConcurrencyLimit::parse);

impl ConcurrencyLimit {
    pub const MAX: u32 = 10_000;

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        match u32::try_from(raw) {
            Ok(limit) if (1..=Self::MAX).contains(&limit) => Ok(Self(limit)),
            _ => Err(DomainError::invalid(
                "concurrency.limit",
                format!("must be between 1 and {}", Self::MAX),
            )),
        }
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

/// What happens to a task whose key is full.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConcurrencyStrategy {
    /// The task waits in the queue; a claim skips it until a run of its key ends.
    #[default]
    Queue,
    /// A task enqueued while its key already has `limit` tasks queued or running is created
    /// cancelled, with the reason in its history.
    CancelNewest,
}

impl ConcurrencyStrategy {
    pub const ALL: [Self; 2] = [Self::Queue, Self::CancelNewest];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queue => "queue",
            Self::CancelNewest => "cancel_newest",
        }
    }
}

impl FromStr for ConcurrencyStrategy {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|strategy| strategy.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "concurrency.strategy",
                    "must be one of queue, cancel_newest",
                )
            })
    }
}

/// A task's concurrency key with the limit and strategy it was enqueued with. The key's
/// limit and strategy are the ones its latest enqueue named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskConcurrency {
    pub key: ConcurrencyKey,
    pub limit: ConcurrencyLimit,
    pub strategy: ConcurrencyStrategy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_and_plain() {
        assert_eq!(
            ConcurrencyKey::parse("repo:acme/web").map(|k| k.to_string()),
            Ok("repo:acme/web".to_owned())
        );
        assert!(ConcurrencyKey::parse(&"k".repeat(128)).is_ok());
        for bad in ["", "a b", "é", "a\0", &"k".repeat(129)] {
            assert_eq!(
                ConcurrencyKey::parse(bad).unwrap_err().field(),
                Some("concurrency.key")
            );
        }
    }

    #[test]
    fn limits_are_positive_and_strategies_named() {
        assert_eq!(ConcurrencyLimit::parse(1).map(ConcurrencyLimit::get), Ok(1));
        assert_eq!(
            ConcurrencyLimit::parse(10_000).map(ConcurrencyLimit::get),
            Ok(10_000)
        );
        for bad in [0, -1, 10_001, i64::MAX] {
            assert_eq!(
                ConcurrencyLimit::parse(bad).unwrap_err().field(),
                Some("concurrency.limit")
            );
        }
        for strategy in ConcurrencyStrategy::ALL {
            assert_eq!(strategy.as_str().parse(), Ok(strategy));
        }
        assert!("newest".parse::<ConcurrencyStrategy>().is_err());
    }
}
