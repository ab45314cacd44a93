//! Rewards and penalties: `/api/v1/rewards`, `/api/v1/violations`, `/api/v1/penalties`,
//! `/api/v1/appeals`, `/api/v1/sanctions/…` and each holder's `/sanctions`.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AppealDecision, AppealOutcome, AppealStatus, BadgeName, DomainError, Evidence, NewAppeal,
    NewPenalty, NewReward, NewViolation, Participant, PenaltyAction, PenaltyId, PenaltyKind,
    Permission, PermissionPeriod, PointAmount, RewardKind, RewardStatus, RewardValue, RuleName,
    SanctionReason, Severity, ViolationId,
};
use orchestore_repo::{
    AppealFilter, PageRequest, PenaltyFilter, RewardFilter, RewardSort, SanctionSort,
    ViolationFilter,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{FieldErrors, Invalid, ParticipantBody, page_request, participant_param};

fn required<T>(field: &'static str, value: Option<T>) -> Result<T, DomainError> {
    value.ok_or_else(|| DomainError::invalid(field, "is required"))
}

/// A permission for a while: the caller must hold it to give it (so that `collaboration:admin`
/// gives no more than its holder has).
fn granted_permission(held: &[Permission], code: Option<&str>) -> Result<Permission, DomainError> {
    let code = code.ok_or_else(|| DomainError::invalid("permission", "is required"))?;
    let permission: Permission = code.parse()?;
    if held.contains(&permission) {
        Ok(permission)
    } else {
        Err(DomainError::invalid(
            "permission",
            format!(
                "{permission} is not the caller's: only a permission the caller holds is given"
            ),
        ))
    }
}

/// A reward: `points`, `badge`, or `permission` with `duration_seconds`, as `kind` says.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewardBody {
    #[schema(value_type = Participant)]
    pub recipient: ParticipantBody,
    #[schema(value_type = RewardKind)]
    pub kind: String,
    /// The points of a `points` reward: above 0.
    #[schema(minimum = 1, maximum = 1_000_000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<i64>,
    /// The badge of a `badge` reward: 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub badge: Option<String>,
    /// The permission of a `permission` reward: one the caller holds.
    #[schema(value_type = Option<Permission>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    /// How long a `permission` reward's permission lasts once redeemed: up to a year.
    #[schema(minimum = 1, maximum = 31_536_000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    /// Why: 1 to 500 characters, trimmed.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    /// When the reward expires unless it is redeemed; never when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl RewardBody {
    /// The reward to allocate; a `permission` reward gives only one of `held`, the caller's
    /// permissions.
    pub fn into_new_reward(self, held: &[Permission]) -> Result<NewReward, Invalid> {
        let mut errors = FieldErrors::default();
        let recipient = errors.check(self.recipient.parse("recipient.kind"));
        let reason = errors.check(SanctionReason::parse(&self.reason));
        let value = match errors.check(self.kind.parse::<RewardKind>()) {
            Some(RewardKind::Points) => errors.check(
                required("points", self.points)
                    .and_then(PointAmount::parse)
                    .and_then(RewardValue::points),
            ),
            Some(RewardKind::Badge) => errors.check(
                required("badge", self.badge.as_deref())
                    .and_then(BadgeName::parse)
                    .map(RewardValue::badge),
            ),
            Some(RewardKind::Permission) => {
                let permission = errors.check(granted_permission(held, self.permission.as_deref()));
                let period = errors.check(
                    required("duration_seconds", self.duration_seconds)
                        .and_then(PermissionPeriod::parse_seconds),
                );
                permission
                    .zip(period)
                    .map(|(permission, period)| RewardValue::permission(permission, period))
            }
            None => None,
        };
        let (Some(recipient), Some(value), Some(reason)) = (recipient, value, reason) else {
            return Err(errors.into_error());
        };
        Ok(NewReward {
            recipient,
            value,
            reason,
            expires_at: self.expires_at,
        })
    }
}

/// `GET /api/v1/rewards`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRewardsQuery {
    /// Only this recipient's rewards: given with `recipient_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_kind: Option<String>,
    /// Given with `recipient_kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<Uuid>,
    /// Only rewards in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Rows per page, 1 to 200 (50 when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// `-allocated_at` (the default) or `allocated_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListRewardsQuery {
    pub fn into_filter_and_page(self) -> Result<(RewardFilter, PageRequest<RewardSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let recipient = errors.check(participant_param(
            "recipient_kind",
            "recipient_id",
            self.recipient_kind,
            self.recipient_id,
        ));
        let status = errors.check(self.status.map(|s| s.parse::<RewardStatus>()).transpose());
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(recipient), Some(status), Some(page)) = (recipient, status, page) else {
            return Err(errors.into_error());
        };
        Ok((RewardFilter { recipient, status }, page))
    }
}

// `POST /api/v1/violations`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViolationBody {
    #[schema(value_type = Participant)]
    pub offender: ParticipantBody,
    /// The rule broken: 1 to 200 characters, trimmed.
    #[schema(min_length = 1, max_length = 200)]
    pub rule: String,
    #[schema(value_type = Severity)]
    pub severity: String,
    /// What shows it happened: 1 to 10,000 characters (line breaks allowed), trimmed.
    #[schema(min_length = 1, max_length = 10_000)]
    pub evidence: String,
}

impl ViolationBody {
    pub fn into_new_violation(self) -> Result<NewViolation, Invalid> {
        let mut errors = FieldErrors::default();
        let offender = errors.check(self.offender.parse("offender.kind"));
        let rule = errors.check(RuleName::parse(&self.rule));
        let severity = errors.check(self.severity.parse::<Severity>());
        let evidence = errors.check(Evidence::parse(&self.evidence));
        let (Some(offender), Some(rule), Some(severity), Some(evidence)) =
            (offender, rule, severity, evidence)
        else {
            return Err(errors.into_error());
        };
        Ok(NewViolation {
            offender,
            rule,
            severity,
            evidence,
        })
    }
}

/// `GET /api/v1/violations`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListViolationsQuery {
    /// Only this offender's violations: given with `offender_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offender_kind: Option<String>,
    /// Given with `offender_kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offender_id: Option<Uuid>,
    /// Only violations this grave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Rows per page, 1 to 200 (50 when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// `-created_at` (the default) or `created_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListViolationsQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(ViolationFilter, PageRequest<SanctionSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let offender = errors.check(participant_param(
            "offender_kind",
            "offender_id",
            self.offender_kind,
            self.offender_id,
        ));
        let severity = errors.check(self.severity.map(|s| s.parse::<Severity>()).transpose());
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(offender), Some(severity), Some(page)) = (offender, severity, page) else {
            return Err(errors.into_error());
        };
        Ok((ViolationFilter { offender, severity }, page))
    }
}

/// A penalty of the violation's offender: `points`, or a `suspension` of `permission` for
/// `duration_seconds`, as `kind` says.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PenaltyBody {
    pub violation_id: ViolationId,
    #[schema(value_type = PenaltyKind)]
    pub kind: String,
    /// The points a `points` penalty takes off: above 0.
    #[schema(minimum = 1, maximum = 1_000_000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<i64>,
    /// The permission a `suspension` takes away.
    #[schema(value_type = Option<Permission>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    /// How long a `suspension` lasts: up to a year.
    #[schema(minimum = 1, maximum = 31_536_000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    /// Why: 1 to 500 characters, trimmed.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

impl PenaltyBody {
    pub fn into_new_penalty(self) -> Result<NewPenalty, Invalid> {
        let mut errors = FieldErrors::default();
        let reason = errors.check(SanctionReason::parse(&self.reason));
        let action = match errors.check(self.kind.parse::<PenaltyKind>()) {
            Some(PenaltyKind::Points) => errors.check(
                required("points", self.points)
                    .and_then(PointAmount::parse)
                    .and_then(PenaltyAction::points),
            ),
            Some(PenaltyKind::Suspension) => {
                let permission = errors.check(
                    required("permission", self.permission.as_deref())
                        .and_then(|code| code.parse::<Permission>()),
                );
                let period = errors.check(
                    required("duration_seconds", self.duration_seconds)
                        .and_then(PermissionPeriod::parse_seconds),
                );
                permission
                    .zip(period)
                    .map(|(permission, period)| PenaltyAction::Suspension { permission, period })
            }
            None => None,
        };
        let (Some(action), Some(reason)) = (action, reason) else {
            return Err(errors.into_error());
        };
        Ok(NewPenalty {
            violation_id: self.violation_id,
            action,
            reason,
        })
    }
}

/// `GET /api/v1/penalties`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListPenaltiesQuery {
    /// Only this holder's penalties: given with `holder_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_kind: Option<String>,
    /// Given with `holder_kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_id: Option<Uuid>,
    /// Only the penalties of this violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation_id: Option<ViolationId>,
    /// Rows per page, 1 to 200 (50 when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// `-created_at` (the default) or `created_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListPenaltiesQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(PenaltyFilter, PageRequest<SanctionSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let holder = errors.check(participant_param(
            "holder_kind",
            "holder_id",
            self.holder_kind,
            self.holder_id,
        ));
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(holder), Some(page)) = (holder, page) else {
            return Err(errors.into_error());
        };
        let filter = PenaltyFilter {
            holder,
            violation_id: self.violation_id,
        };
        Ok((filter, page))
    }
}

// `POST /api/v1/appeals`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealBody {
    pub penalty_id: PenaltyId,
    /// Why: 1 to 500 characters, trimmed.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

impl AppealBody {
    pub fn into_new_appeal(self) -> Result<NewAppeal, Invalid> {
        let reason = SanctionReason::parse(&self.reason)?;
        Ok(NewAppeal {
            penalty_id: self.penalty_id,
            reason,
        })
    }
}

/// `GET /api/v1/appeals`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListAppealsQuery {
    /// Only this penalty's appeals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penalty_id: Option<PenaltyId>,
    /// Only appeals in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Rows per page, 1 to 200 (50 when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// `-created_at` (the default) or `created_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListAppealsQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(AppealFilter, PageRequest<SanctionSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let status = errors.check(self.status.map(|s| s.parse::<AppealStatus>()).transpose());
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(status), Some(page)) = (status, page) else {
            return Err(errors.into_error());
        };
        let filter = AppealFilter {
            penalty_id: self.penalty_id,
            status,
        };
        Ok((filter, page))
    }
}

// `POST /api/v1/appeals/{id}/decision`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    #[schema(value_type = AppealOutcome)]
    pub outcome: String,
    /// Why: 1 to 500 characters, trimmed.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

impl DecisionBody {
    pub fn into_decision(self) -> Result<AppealDecision, Invalid> {
        let mut errors = FieldErrors::default();
        let outcome = errors.check(self.outcome.parse::<AppealOutcome>());
        let reason = errors.check(SanctionReason::parse(&self.reason));
        let (Some(outcome), Some(reason)) = (outcome, reason) else {
            return Err(errors.into_error());
        };
        Ok(AppealDecision { outcome, reason })
    }
}
