use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::points::short_text;
use super::ranks::word_enum;
use crate::{
    DomainError, OrganizationId, Participant, Permission, PermissionGrantId, PointAmount,
    PointAward, RewardId,
};

short_text!(
    /// Why a reward was allocated, a penalty applied or an appeal filed or decided: 1 to 500
    /// characters, trimmed.
    SanctionReason, "reason", 500
);
short_text!(
    /// The name of a badge: 1 to 100 characters, trimmed.
    BadgeName, "badge", 100
);

word_enum!(
    /// What a reward gives.
    RewardKind, "kind" {
        Points = "points",
        Badge = "badge",
        /// A permission for a while.
        Permission = "permission",
    }
);

word_enum!(
    /// Where a reward is: allocated, it waits for its recipient to redeem it (once); an
    /// allocation not redeemed by its `expires_at` expires.
    RewardStatus, "status" {
        Allocated = "allocated",
        Redeemed = "redeemed",
        Expired = "expired",
    }
);

word_enum!(
    /// Whether a granted permission still counts: a grant past its `expires_at` counts no more
    /// whatever its status; the sweep marks it `expired`.
    GrantStatus, "status" {
        Active = "active",
        Expired = "expired",
    }
);

/// How long a granted or a suspended permission lasts: from one second to 365 days, in whole
/// seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct PermissionPeriod(i64);

deserialize_by_parse!(PermissionPeriod, i64, PermissionPeriod::parse_seconds);

impl PermissionPeriod {
    pub const MIN_SECONDS: i64 = 1;
    pub const MAX_SECONDS: i64 = 365 * 86_400;

    pub fn parse_seconds(raw: i64) -> Result<Self, DomainError> {
        if !(Self::MIN_SECONDS..=Self::MAX_SECONDS).contains(&raw) {
            return Err(DomainError::invalid(
                "duration_seconds",
                format!(
                    "must be from {} to {} seconds, got {raw}",
                    Self::MIN_SECONDS,
                    Self::MAX_SECONDS
                ),
            ));
        }
        Ok(Self(raw))
    }

    pub const fn seconds(self) -> i64 {
        self.0
    }

    /// The instant the period that starts at `from` ends.
    pub fn end(self, from: DateTime<Utc>) -> DateTime<Utc> {
        from + Duration::seconds(self.0)
    }
}

/// What a reward gives its recipient when redeemed. Serialized with its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RewardValue {
    /// Points added to the ledger (a positive amount).
    Points {
        points: i64,
    },
    Badge {
        badge: BadgeName,
    },
    /// `permission` for `duration_seconds` from the redemption.
    Permission {
        permission: Permission,
        duration_seconds: i64,
    },
}

impl RewardValue {
    /// Points to award: a positive [`PointAmount`].
    pub fn points(amount: PointAmount) -> Result<Self, DomainError> {
        if amount.get() < 0 {
            return Err(DomainError::invalid(
                "points",
                "a reward's points must be positive",
            ));
        }
        Ok(Self::Points {
            points: amount.get(),
        })
    }

    pub fn badge(badge: BadgeName) -> Self {
        Self::Badge { badge }
    }

    pub fn permission(permission: Permission, period: PermissionPeriod) -> Self {
        Self::Permission {
            permission,
            duration_seconds: period.seconds(),
        }
    }

    pub const fn kind(&self) -> RewardKind {
        match self {
            Self::Points { .. } => RewardKind::Points,
            Self::Badge { .. } => RewardKind::Badge,
            Self::Permission { .. } => RewardKind::Permission,
        }
    }
}

/// A reward to allocate: to whom, what, why, and by when it must be redeemed (never, when
/// `None`).
#[derive(Debug, Clone)]
pub struct NewReward {
    pub recipient: Participant,
    pub value: RewardValue,
    pub reason: SanctionReason,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A reward as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reward {
    pub id: RewardId,
    pub organization_id: OrganizationId,
    pub recipient: Participant,
    #[serde(flatten)]
    pub value: RewardValue,
    pub reason: SanctionReason,
    pub status: RewardStatus,
    /// Who allocated it: `user:<id>`, `agent:<id>` or `system`.
    pub allocated_by: String,
    pub allocated_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub redeemed_at: Option<DateTime<Utc>>,
    /// Who redeemed it: its recipient, or an administrator for it.
    pub redeemed_by: Option<String>,
}

/// A permission a holder has for a while, beyond what its roles grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PermissionGrant {
    pub id: PermissionGrantId,
    pub organization_id: OrganizationId,
    pub holder: Participant,
    pub permission: Permission,
    /// The reward whose redemption granted it.
    pub reward_id: RewardId,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub status: GrantStatus,
}

/// What a redemption did: the reward, now redeemed, and the ledger entry or the grant it
/// made (neither for a badge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Redemption {
    pub reward: Reward,
    pub point_award: Option<PointAward>,
    pub grant: Option<PermissionGrant>,
}

/// What a holder may do at an instant: its roles' permissions, with its live grants and
/// without its live suspensions, and the first instant after it at which a grant or a
/// suspension ends and the set changes by itself (`None`: not before something is written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EffectivePermissions {
    pub permissions: Vec<Permission>,
    pub changes_at: Option<DateTime<Utc>>,
}

impl EffectivePermissions {
    /// `held` (the roles' permissions), plus `granted`, less `suspended`; each grant and
    /// suspension is `(permission, until)` and counts only when `until` is after `at`.
    pub fn at(
        at: DateTime<Utc>,
        held: impl IntoIterator<Item = Permission>,
        granted: impl IntoIterator<Item = (Permission, DateTime<Utc>)>,
        suspended: impl IntoIterator<Item = (Permission, DateTime<Utc>)>,
    ) -> Self {
        let live = |(_, until): &(Permission, DateTime<Utc>)| *until > at;
        let granted: Vec<_> = granted.into_iter().filter(live).collect();
        let suspended: Vec<_> = suspended.into_iter().filter(live).collect();
        let changes_at = granted
            .iter()
            .chain(&suspended)
            .map(|(_, until)| *until)
            .min();
        let permissions = Permission::sorted_set(
            held.into_iter()
                .chain(granted.iter().map(|(p, _)| *p))
                .filter(|p| !suspended.iter().any(|(s, _)| s == p)),
        );
        Self {
            permissions,
            changes_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_add_and_suspensions_take_away_while_they_last() {
        let at = Utc::now();
        let later = at + Duration::hours(1);
        let soon = at + Duration::minutes(5);
        let past = at - Duration::minutes(1);
        let effective = EffectivePermissions::at(
            at,
            [Permission::TasksRead, Permission::MessagesWrite],
            [
                (Permission::CollaborationWrite, later),
                (Permission::AgentsWrite, past),
            ],
            [
                (Permission::MessagesWrite, soon),
                (Permission::TasksRead, past),
            ],
        );
        assert_eq!(
            effective.permissions,
            [Permission::CollaborationWrite, Permission::TasksRead]
        );
        assert_eq!(effective.changes_at, Some(soon));
        let none = EffectivePermissions::at(at, [Permission::TasksRead], [], []);
        assert_eq!(none.changes_at, None);
    }

    #[test]
    fn periods_and_reward_points_are_bounded() {
        assert!(PermissionPeriod::parse_seconds(0).is_err());
        assert!(PermissionPeriod::parse_seconds(366 * 86_400).is_err());
        assert!(PermissionPeriod::parse_seconds(3600).is_ok());
        let minus = PointAmount::parse(-5).map(RewardValue::points);
        assert!(matches!(minus, Ok(Err(_))));
        assert!(SanctionReason::parse(" ").is_err());
        assert!(BadgeName::parse(&"b".repeat(101)).is_err());
    }
}
