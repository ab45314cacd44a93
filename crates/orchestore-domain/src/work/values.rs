//! The constrained values of a task: progress, estimate, attempts and idempotency key.

use std::fmt;

use serde::Serialize;

use crate::DomainError;

/// Reads `raw` as an integer within `range`, or refuses it naming `field`.
fn bounded<T: TryFrom<i64> + PartialOrd + fmt::Display + Copy>(
    field: &'static str,
    raw: i64,
    min: T,
    max: T,
) -> Result<T, DomainError> {
    match T::try_from(raw) {
        Ok(value) if value >= min && value <= max => Ok(value),
        _ => Err(DomainError::invalid(
            field,
            format!("must be between {min} and {max}"),
        )),
    }
}

/// How far along a task is, in percent: 0 to 100.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct Progress(u8);

deserialize_by_parse!(Progress, i64, Progress::parse);

impl Progress {
    pub const MAX: u8 = 100;

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        bounded("progress", raw, 0, Self::MAX).map(Self)
    }

    pub const fn get(self) -> u8 {
        self.0
    }
}

/// An estimate of the work a task needs, in minutes: 1 to 1,000,000 (about two years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Effort(u32);

deserialize_by_parse!(Effort, i64, Effort::parse);

impl Effort {
    pub const MAX_MINUTES: u32 = 1_000_000;

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        bounded("estimated_minutes", raw, 1, Self::MAX_MINUTES).map(Self)
    }

    pub const fn minutes(self) -> u32 {
        self.0
    }
}

/// How many times a task may run before it fails for good: 1 to 100, 3 unless told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct MaxAttempts(u32);

deserialize_by_parse!(MaxAttempts, i64, MaxAttempts::parse);

impl MaxAttempts {
    pub const MAX: u32 = 100;
    pub const DEFAULT: u32 = 3;

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        bounded("max_attempts", raw, 1, Self::MAX).map(Self)
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for MaxAttempts {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

/// A client's name for one task creation, unique within the organization, so that sending
/// the same creation twice makes one task: 1 to 255 characters, taken as given (not trimmed),
/// without U+0000, which PostgreSQL cannot store.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

deserialize_by_parse!(IdempotencyKey, String, |raw| IdempotencyKey::parse(&raw));

impl IdempotencyKey {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let chars = raw.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "idempotency_key",
                format!("must be 1 to {} characters, got {chars}", Self::MAX_CHARS),
            ));
        }
        if raw.contains('\0') {
            return Err(DomainError::invalid(
                "idempotency_key",
                "must not contain U+0000",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_bounded_and_name_their_field() {
        assert_eq!(Progress::parse(0).map(Progress::get), Ok(0));
        assert_eq!(Progress::parse(100).map(Progress::get), Ok(100));
        for bad in [-1, 101, i64::MAX] {
            assert_eq!(Progress::parse(bad).unwrap_err().field(), Some("progress"));
        }
        assert_eq!(Effort::parse(1).map(Effort::minutes), Ok(1));
        assert_eq!(Effort::parse(1_000_000).map(Effort::minutes), Ok(1_000_000));
        for bad in [0, 1_000_001, -5] {
            assert_eq!(
                Effort::parse(bad).unwrap_err().field(),
                Some("estimated_minutes")
            );
        }
        assert_eq!(MaxAttempts::default().get(), 3);
        assert_eq!(MaxAttempts::parse(100).map(MaxAttempts::get), Ok(100));
        let zero = MaxAttempts::parse(0).unwrap_err();
        assert_eq!(zero.field(), Some("max_attempts"));
        assert_eq!(zero.to_string(), "max_attempts: must be between 1 and 100");
        assert!(MaxAttempts::parse(101).is_err());
    }

    #[test]
    fn idempotency_keys_are_taken_as_given() {
        assert_eq!(
            IdempotencyKey::parse(" order-42 ").map(|k| k.as_str().to_owned()),
            Ok(" order-42 ".to_owned())
        );
        assert!(IdempotencyKey::parse(&"é".repeat(255)).is_ok());
        for bad in ["", "a\0b"] {
            assert_eq!(
                IdempotencyKey::parse(bad).unwrap_err().field(),
                Some("idempotency_key")
            );
        }
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }
}
