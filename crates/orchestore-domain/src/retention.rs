//! Retention: how long an organization keeps each kind of row it is done with.
//!
//! A [`RetentionPolicy`] names, per [`RetentionTarget`], a [`RetentionAge`] past which a purge
//! deletes such rows; a target without an age is kept forever (the audit log among them,
//! unless it is named).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::{DomainError, OrganizationId, Revision};

/// The kinds of rows a policy can give an age to, and how each one's age is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RetentionTarget {
    /// Tasks that succeeded, by `finished_at`.
    SucceededTasks,
    /// Tasks that failed (attempts exhausted), by `finished_at`.
    FailedTasks,
    /// Tasks that were cancelled, by `finished_at`.
    CancelledTasks,
    /// Events, by `occurred_at`.
    Events,
    /// Metric samples, by `recorded_at`.
    Metrics,
    /// Messages, by `created_at`.
    Messages,
    /// Sessions that expired or were revoked, by when they ended.
    Sessions,
    /// Sealed audit rows, by `created_at`, oldest first along the chain.
    AuditLogs,
}

impl RetentionTarget {
    pub const ALL: [Self; 8] = [
        Self::SucceededTasks,
        Self::FailedTasks,
        Self::CancelledTasks,
        Self::Events,
        Self::Metrics,
        Self::Messages,
        Self::Sessions,
        Self::AuditLogs,
    ];

    /// The name of the policy's field (and of the report's line).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SucceededTasks => "succeeded_tasks",
            Self::FailedTasks => "failed_tasks",
            Self::CancelledTasks => "cancelled_tasks",
            Self::Events => "events",
            Self::Metrics => "metrics",
            Self::Messages => "messages",
            Self::Sessions => "sessions",
            Self::AuditLogs => "audit_logs",
        }
    }

    /// The table the rows are deleted from.
    pub fn table(self) -> &'static str {
        match self {
            Self::SucceededTasks | Self::FailedTasks | Self::CancelledTasks => "tasks",
            Self::Events => "events",
            Self::Metrics => "metrics",
            Self::Messages => "messages",
            Self::Sessions => "sessions",
            Self::AuditLogs => "audit_logs",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RetentionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RetentionTarget {
    type Err = DomainError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|target| target.as_str() == text)
            .ok_or_else(|| {
                DomainError::invalid("target", format!("{text:?} is not a retention target"))
            })
    }
}

impl Serialize for RetentionTarget {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

deserialize_by_parse!(RetentionTarget, String, |raw| raw.parse());

/// How long rows are kept: at least an hour (a shorter age would purge what is still in use,
/// such as a session refreshed a minute ago), at most a hundred years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RetentionAge(i64);

const UNITS: [(&str, i64); 4] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];

impl RetentionAge {
    pub const MIN_SECONDS: i64 = 3_600;
    pub const MAX_SECONDS: i64 = 100 * 365 * 86_400;

    /// An age of `seconds`, refused on `field` when it is under an hour or over a hundred
    /// years.
    pub fn from_seconds(field: &'static str, seconds: i64) -> Result<Self, DomainError> {
        if seconds < Self::MIN_SECONDS {
            return Err(DomainError::invalid(
                field,
                format!("must be at least 1h ({} seconds)", Self::MIN_SECONDS),
            ));
        }
        if seconds > Self::MAX_SECONDS {
            return Err(DomainError::invalid(field, "must be at most 36500d"));
        }
        Ok(Self(seconds))
    }

    /// `"90d"`, `"36h"`, `"120m"`, `"7200s"` (a number and one unit), as [`fmt::Display`]
    /// writes it back.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, DomainError> {
        let invalid = || {
            DomainError::invalid(
                field,
                format!("{text:?} is not an age such as 90d, 36h, 120m or 7200s"),
            )
        };
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(invalid)?;
        let (number, unit) = text.split_at(split);
        let number: i64 = number.parse().map_err(|_| invalid())?;
        let (_, size) = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .ok_or_else(invalid)?;
        let seconds = number.checked_mul(*size).ok_or_else(invalid)?;
        Self::from_seconds(field, seconds)
    }

    pub fn seconds(self) -> i64 {
        self.0
    }

    /// Rows older than this instant are past the age at `now`.
    pub fn cutoff(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::seconds(self.0)
    }
}

/// The largest unit that states the age exactly.
impl fmt::Display for RetentionAge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, size) = UNITS
            .iter()
            .find(|(_, size)| self.0 % size == 0)
            .copied()
            .unwrap_or(("s", 1));
        write!(f, "{}{unit}", self.0 / size)
    }
}

impl Serialize for RetentionAge {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

deserialize_by_parse!(RetentionAge, String, |raw| RetentionAge::parse(
    "max_age", &raw
));

/// An age per target; a target without one is kept forever. The default keeps everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionRules {
    ages: [Option<RetentionAge>; RetentionTarget::ALL.len()],
}

impl RetentionRules {
    /// These rules with `target` kept for `age` (`None`: forever).
    pub fn with(mut self, target: RetentionTarget, age: Option<RetentionAge>) -> Self {
        self.ages[target.index()] = age;
        self
    }

    pub fn age(&self, target: RetentionTarget) -> Option<RetentionAge> {
        self.ages[target.index()]
    }

    /// The targets with an age, in [`RetentionTarget::ALL`]'s order.
    pub fn named(&self) -> impl Iterator<Item = (RetentionTarget, RetentionAge)> + '_ {
        RetentionTarget::ALL
            .into_iter()
            .filter_map(|target| self.age(target).map(|age| (target, age)))
    }
}

/// An organization's policy. One that was never set keeps everything, has no `updated_at`
/// and is at [`Revision::FIRST`] (see [`crate::Revised`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub organization_id: OrganizationId,
    pub rules: RetentionRules,
    pub updated_at: Option<DateTime<Utc>>,
    pub revision: Revision,
}

/// How many rows a purge deletes in one transaction: 1 to 100,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeBatch(u32);

impl PurgeBatch {
    pub const MAX: u32 = 100_000;

    pub fn parse(field: &'static str, rows: u32) -> Result<Self, DomainError> {
        if rows == 0 || rows > Self::MAX {
            return Err(DomainError::invalid(
                field,
                format!("must be between 1 and {}", Self::MAX),
            ));
        }
        Ok(Self(rows))
    }

    pub fn rows(self) -> u32 {
        self.0
    }
}

impl Default for PurgeBatch {
    fn default() -> Self {
        Self(1_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_parse_in_each_unit_and_print_back_in_the_largest() {
        for (text, seconds, shown) in [
            ("90d", 90 * 86_400, "90d"),
            ("36h", 36 * 3_600, "36h"),
            ("120m", 7_200, "2h"),
            ("5400s", 5_400, "90m"),
            ("3601s", 3_601, "3601s"),
        ] {
            let age = RetentionAge::parse("age", text).expect(text);
            assert_eq!(age.seconds(), seconds);
            assert_eq!(age.to_string(), shown);
        }
    }

    #[test]
    fn ages_under_an_hour_or_malformed_are_refused() {
        for text in [
            "0d", "59m", "3599s", "-1d", "1", "d", "", "1y", "1 d", "36501d",
        ] {
            let err = RetentionAge::parse("events", text).expect_err(text);
            assert_eq!(err.field(), Some("events"), "{text}");
        }
        assert!(RetentionAge::parse("x", "99999999999999999999d").is_err());
    }

    #[test]
    fn rules_keep_everything_unless_named() {
        let month = RetentionAge::parse("events", "30d").expect("age");
        let rules = RetentionRules::default().with(RetentionTarget::Events, Some(month));
        assert_eq!(rules.age(RetentionTarget::Events), Some(month));
        assert_eq!(rules.age(RetentionTarget::AuditLogs), None);
        assert_eq!(
            rules.named().collect::<Vec<_>>(),
            [(RetentionTarget::Events, month)]
        );
    }

    #[test]
    fn targets_round_trip_their_names() {
        for target in RetentionTarget::ALL {
            assert_eq!(target.as_str().parse::<RetentionTarget>(), Ok(target));
        }
        assert!("tasks".parse::<RetentionTarget>().is_err());
    }

    #[test]
    fn batches_are_bounded() {
        assert!(PurgeBatch::parse("batch", 0).is_err());
        assert!(PurgeBatch::parse("batch", PurgeBatch::MAX + 1).is_err());
        assert_eq!(PurgeBatch::parse("batch", 2).expect("2").rows(), 2);
        assert_eq!(PurgeBatch::default().rows(), 1_000);
    }
}
