use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::points::short_text;
use super::ranks::word_enum;
use super::rewards::{PermissionGrant, PermissionPeriod, SanctionReason};
use crate::{
    AppealId, DomainError, OrganizationId, Participant, PenaltyId, Permission, PointAmount,
    PointAwardId, ViolationId,
};

short_text!(
    /// The rule a violation broke: 1 to 200 characters, trimmed.
    RuleName, "rule", 200
);

word_enum!(
    /// How grave a violation is.
    Severity, "severity" {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
);

word_enum!(
    /// What a penalty takes.
    PenaltyKind, "kind" {
        /// Points off the holder's total.
        Points = "points",
        /// A permission, for a while.
        Suspension = "suspension",
    }
);

word_enum!(
    /// Where a penalty is: `applied`; `ended` when its suspension's period ran out (marked by
    /// the sweep); `overturned` when an appeal against it was, which gave back what it took.
    PenaltyStatus, "status" {
        Applied = "applied",
        Ended = "ended",
        Overturned = "overturned",
    }
);

word_enum!(
    /// Where an appeal is: `open` until a reviewer decides it.
    AppealStatus, "status" {
        Open = "open",
        Upheld = "upheld",
        Overturned = "overturned",
    }
);

word_enum!(
    /// A reviewer's decision on an appeal.
    AppealOutcome, "outcome" {
        /// The penalty stands.
        Upheld = "upheld",
        /// The penalty is undone: what it took is given back.
        Overturned = "overturned",
    }
);

impl AppealOutcome {
    pub const fn status(self) -> AppealStatus {
        match self {
            Self::Upheld => AppealStatus::Upheld,
            Self::Overturned => AppealStatus::Overturned,
        }
    }
}

/// What shows a violation happened: 1 to 10,000 characters (line breaks allowed), trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Evidence(String);

deserialize_by_parse!(Evidence, String, |raw| Evidence::parse(&raw));

impl Evidence {
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(DomainError::invalid("evidence", "must not be empty"));
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(DomainError::invalid(
                "evidence",
                "must not contain control characters other than line breaks and tabs",
            ));
        }
        let chars = trimmed.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "evidence",
                format!(
                    "must be at most {} characters, got {chars}",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A violation to record.
#[derive(Debug, Clone)]
pub struct NewViolation {
    pub offender: Participant,
    pub rule: RuleName,
    pub severity: Severity,
    pub evidence: Evidence,
}

/// A violation as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Violation {
    pub id: ViolationId,
    pub organization_id: OrganizationId,
    pub offender: Participant,
    pub rule: RuleName,
    pub severity: Severity,
    pub evidence: Evidence,
    /// Who reported it: `user:<id>`, `agent:<id>` or `system`.
    pub reported_by: String,
    pub reported_at: DateTime<Utc>,
}

/// What a penalty to apply takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PenaltyAction {
    /// This many points off (a positive amount).
    Points(PointAmount),
    /// `permission`, for `period` from now.
    Suspension {
        permission: Permission,
        period: PermissionPeriod,
    },
}

impl PenaltyAction {
    /// Points to deduct: a positive amount.
    pub fn points(amount: PointAmount) -> Result<Self, DomainError> {
        if amount.get() < 0 {
            return Err(DomainError::invalid(
                "points",
                "the points a penalty deducts are a positive amount",
            ));
        }
        Ok(Self::Points(amount))
    }
}

/// A penalty to apply for a violation, to the violation's offender.
#[derive(Debug, Clone)]
pub struct NewPenalty {
    pub violation_id: ViolationId,
    pub action: PenaltyAction,
    pub reason: SanctionReason,
}

/// What a penalty took. Serialized with its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PenaltyValue {
    /// `points` off: the ledger entry `point_award_id` of −`points`.
    Points {
        points: i64,
        point_award_id: PointAwardId,
    },
    /// `permission` suspended until `suspended_until`.
    Suspension {
        permission: Permission,
        suspended_until: DateTime<Utc>,
    },
}

impl PenaltyValue {
    pub const fn kind(&self) -> PenaltyKind {
        match self {
            Self::Points { .. } => PenaltyKind::Points,
            Self::Suspension { .. } => PenaltyKind::Suspension,
        }
    }
}

/// A penalty as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Penalty {
    pub id: PenaltyId,
    pub organization_id: OrganizationId,
    pub violation_id: ViolationId,
    /// The violation's offender.
    pub holder: Participant,
    #[serde(flatten)]
    pub value: PenaltyValue,
    pub reason: SanctionReason,
    pub status: PenaltyStatus,
    pub applied_by: String,
    pub applied_at: DateTime<Utc>,
    /// When it ended or was overturned.
    pub ended_at: Option<DateTime<Utc>>,
    /// The ledger entry that gave the points back when it was overturned.
    pub restored_award_id: Option<PointAwardId>,
}

/// An appeal to file: the holder of the penalty, in the context, says why it is wrong.
#[derive(Debug, Clone)]
pub struct NewAppeal {
    pub penalty_id: PenaltyId,
    pub reason: SanctionReason,
}

/// A reviewer's decision.
#[derive(Debug, Clone)]
pub struct AppealDecision {
    pub outcome: AppealOutcome,
    pub reason: SanctionReason,
}

/// An appeal as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Appeal {
    pub id: AppealId,
    pub organization_id: OrganizationId,
    pub penalty_id: PenaltyId,
    pub appellant: Participant,
    pub reason: SanctionReason,
    pub status: AppealStatus,
    pub filed_at: DateTime<Utc>,
    /// Who decided it.
    pub reviewer: Option<String>,
    pub decision_reason: Option<SanctionReason>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// An organization's rewards and penalties, counted: every kind, status and severity is
/// listed, at 0 when there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SanctionsSummary {
    pub rewards_by_kind: BTreeMap<String, u64>,
    pub rewards_by_status: BTreeMap<String, u64>,
    pub violations_by_severity: BTreeMap<String, u64>,
    pub penalties_by_kind: BTreeMap<String, u64>,
    pub penalties_by_status: BTreeMap<String, u64>,
    pub appeals_by_status: BTreeMap<String, u64>,
    /// The points all penalties deducted, and what overturned ones gave back.
    pub points_deducted: i64,
    pub points_restored: i64,
}

/// One holder's rewards and penalties: counts, the points penalties took and gave back, and
/// what is in force now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HolderSanctions {
    pub holder: Participant,
    pub rewards_by_status: BTreeMap<String, u64>,
    pub violations: u64,
    pub penalties_by_status: BTreeMap<String, u64>,
    pub points_deducted: i64,
    pub points_restored: i64,
    /// The grants not expired, soonest to end first.
    pub active_grants: Vec<PermissionGrant>,
    /// The suspensions neither ended nor overturned, soonest to end first.
    pub active_suspensions: Vec<Penalty>,
}

/// Zero for each of `keys`, with `counts` (key, count) added.
pub fn counted(
    keys: &[&str],
    counts: impl IntoIterator<Item = (String, u64)>,
) -> BTreeMap<String, u64> {
    let mut map: BTreeMap<String, u64> = keys.iter().map(|k| ((*k).to_owned(), 0)).collect();
    for (key, count) in counts {
        *map.entry(key).or_default() += count;
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_keeps_line_breaks_and_penalties_take_positive_points() {
        assert_eq!(
            Evidence::parse(" log:\nline 2 ").map(|e| e.as_str().to_owned()),
            Ok("log:\nline 2".to_owned())
        );
        assert!(Evidence::parse("\u{7}").is_err());
        assert!(Evidence::parse("").is_err());
        assert!(matches!(
            PointAmount::parse(-3).map(PenaltyAction::points),
            Ok(Err(_))
        ));
        assert_eq!("critical".parse(), Ok(Severity::Critical));
        assert!("pending".parse::<AppealOutcome>().is_err());
        assert_eq!(AppealOutcome::Overturned.status(), AppealStatus::Overturned);
        let counts = counted(&["a", "b"], [("b".to_owned(), 2)]);
        assert_eq!(counts.get("a"), Some(&0));
        assert_eq!(counts.get("b"), Some(&2));
    }
}
