//! The step log of an execution: every operation its workers ran, as they report it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StepName;
use crate::{DomainError, ExecutionStepId, OrganizationId, WorkflowExecutionId};

/// What an operation within a step was, e.g. `call_model` or `git.clone`: 1 to 200
/// characters of `a-z`, `A-Z`, `0-9`, `_`, `-`, `.` and `:`, so that it groups and filters as
/// an identifier.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct OperationName(String);

deserialize_by_parse!(OperationName, String, |raw| OperationName::parse(&raw));

impl OperationName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let valid = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
        if !valid {
            return Err(DomainError::invalid(
                "operation",
                format!(
                    "{raw:?} is not an operation name (1 to 200 of a-z, A-Z, 0-9, '_', '-', '.' \
                     and ':')"
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OperationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for OperationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Succeeded,
    Failed,
    /// Not run: what it would have done was not needed (a cache hit, a condition not met).
    Skipped,
}

impl StepOutcome {
    pub const ALL: [StepOutcome; 3] = [Self::Succeeded, Self::Failed, Self::Skipped];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

impl fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StepOutcome {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "outcome",
                    format!("{s:?} is not one of succeeded, failed, skipped"),
                )
            })
    }
}

/// A size in bytes that the database can store: 0 to `i64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ByteCount(u64);

deserialize_by_parse!(ByteCount, u64, |raw| ByteCount::parse("bytes", raw));

impl ByteCount {
    pub fn parse(field: &'static str, raw: u64) -> Result<Self, DomainError> {
        if i64::try_from(raw).is_err() {
            return Err(DomainError::invalid(
                field,
                format!("must be at most {} bytes", i64::MAX),
            ));
        }
        Ok(Self(raw))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

/// When an operation ran: it finished at or after it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepTiming {
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
}

impl StepTiming {
    pub fn new(started_at: DateTime<Utc>, finished_at: DateTime<Utc>) -> Result<Self, DomainError> {
        if finished_at < started_at {
            return Err(DomainError::invalid(
                "finished_at",
                "must not be before started_at",
            ));
        }
        Ok(Self {
            started_at,
            finished_at,
        })
    }

    pub fn started_at(self) -> DateTime<Utc> {
        self.started_at
    }

    pub fn finished_at(self) -> DateTime<Utc> {
        self.finished_at
    }

    /// Whole milliseconds from start to finish.
    pub fn duration_ms(self) -> u64 {
        u64::try_from((self.finished_at - self.started_at).num_milliseconds()).unwrap_or(0)
    }
}

/// One operation of an execution, as recorded. Entries are never changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExecutionStep {
    pub id: ExecutionStepId,
    pub organization_id: OrganizationId,
    pub execution_id: WorkflowExecutionId,
    /// The step of the execution's version the operation belongs to.
    pub step: StepName,
    pub operation: OperationName,
    pub input_bytes: ByteCount,
    pub output_bytes: ByteCount,
    pub outcome: StepOutcome,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_ms: u64,
    /// Who recorded it: `agent:<id>`, `user:<id>` or `system`.
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
}

/// An operation to record in an execution's step log.
#[derive(Debug, Clone)]
pub struct NewExecutionStep {
    pub execution_id: WorkflowExecutionId,
    pub step: StepName,
    pub operation: OperationName,
    pub input_bytes: ByteCount,
    pub output_bytes: ByteCount,
    pub outcome: StepOutcome,
    pub timing: StepTiming,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_identifiers() {
        assert!(OperationName::parse("llm.call:gpt-4o_mini").is_ok());
        for bad in ["", "with space", "é", &"a".repeat(201)] {
            let error = OperationName::parse(bad).unwrap_err();
            assert_eq!(error.field(), Some("operation"), "{bad}");
        }
    }

    #[test]
    fn outcomes_round_trip() {
        for outcome in StepOutcome::ALL {
            assert_eq!(outcome.as_str().parse::<StepOutcome>().ok(), Some(outcome));
        }
        assert_eq!(
            "done".parse::<StepOutcome>().unwrap_err().field(),
            Some("outcome")
        );
    }

    #[test]
    fn timing_runs_forward_and_sizes_fit_the_database() {
        let start = Utc::now();
        let timing = StepTiming::new(start, start + chrono::Duration::milliseconds(1500))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(timing.duration_ms(), 1500);
        let backwards = StepTiming::new(start, start - chrono::Duration::seconds(1)).unwrap_err();
        assert_eq!(backwards.field(), Some("finished_at"));
        assert!(ByteCount::parse("input_bytes", i64::MAX as u64).is_ok());
        assert_eq!(
            ByteCount::parse("input_bytes", u64::MAX)
                .unwrap_err()
                .field(),
            Some("input_bytes")
        );
    }
}
