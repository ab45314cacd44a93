use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{DomainError, OrganizationId, Participant, PointAwardId};

/// How many points one award moves: a non-zero whole number within ±1,000,000. A negative
/// amount is a penalty: it lowers the total but not the experience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct PointAmount(i64);

deserialize_by_parse!(PointAmount, i64, PointAmount::parse);

impl PointAmount {
    pub const MAX: i64 = 1_000_000;

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        if raw == 0 {
            return Err(DomainError::invalid("points", "must not be zero"));
        }
        if raw.abs() > Self::MAX {
            return Err(DomainError::invalid(
                "points",
                format!("must be within ±{}, got {raw}", Self::MAX),
            ));
        }
        Ok(Self(raw))
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// What the award adds to experience: its amount when positive, else nothing.
    pub const fn experience(self) -> i64 {
        if self.0 > 0 { self.0 } else { 0 }
    }
}

macro_rules! short_text {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                let trimmed = raw.trim();
                if trimmed.is_empty() {
                    return Err(DomainError::invalid($field, "must not be empty"));
                }
                if trimmed.chars().any(char::is_control) {
                    return Err(DomainError::invalid($field, "must not contain control characters"));
                }
                let chars = trimmed.chars().count();
                if chars > Self::MAX_CHARS {
                    return Err(DomainError::invalid(
                        $field,
                        format!("must be at most {} characters, got {chars}", Self::MAX_CHARS),
                    ));
                }
                Ok(Self(trimmed.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        deserialize_by_parse!($name, String, |raw| $name::parse(&raw));

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }
    };
}
pub(crate) use short_text;

short_text!(
    /// Why points were awarded: 1 to 500 characters, trimmed.
    PointReason, "reason", 500
);
short_text!(
    /// What awarded them (`task`, `review`, `match`, …): 1 to 100 characters, trimmed.
    PointSource, "source", 100
);

/// One entry of the ledger. Entries are never changed or removed (a correction is a new
/// entry with the opposite amount).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PointAward {
    pub id: PointAwardId,
    pub organization_id: OrganizationId,
    pub holder: Participant,
    pub points: i64,
    pub reason: PointReason,
    pub source: PointSource,
    pub awarded_at: DateTime<Utc>,
}

/// Points to award.
#[derive(Debug, Clone)]
pub struct NewPointAward {
    pub holder: Participant,
    pub points: PointAmount,
    pub reason: PointReason,
    pub source: PointSource,
}

/// One step of the level ladder: from `experience` on, a holder is at least at this step's
/// level (its position, counted from 1) and in its `tier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelThreshold {
    pub experience: i64,
    pub tier: String,
}

/// The level ladder of an organization: 1 to 100 steps, the first at 0 experience, each
/// higher than the one before, tiers named by 1 to 50 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct LevelThresholds(Vec<LevelThreshold>);

deserialize_by_parse!(LevelThresholds, Vec<LevelThreshold>, LevelThresholds::parse);

impl LevelThresholds {
    pub const MAX_STEPS: usize = 100;

    pub fn parse(steps: Vec<LevelThreshold>) -> Result<Self, DomainError> {
        let bad = |reason: String| Err(DomainError::invalid("level_thresholds", reason));
        if steps.is_empty() || steps.len() > Self::MAX_STEPS {
            return bad(format!("must have 1 to {} steps", Self::MAX_STEPS));
        }
        if steps[0].experience != 0 {
            return bad("the first step must start at 0 experience".into());
        }
        for pair in steps.windows(2) {
            if pair[1].experience <= pair[0].experience {
                return bad("each step must need more experience than the one before".into());
            }
        }
        if let Some(step) = steps.iter().find(|s| {
            s.tier.trim().is_empty() || s.tier.chars().count() > 50 || s.tier != s.tier.trim()
        }) {
            return bad(format!(
                "tier {:?} must be 1 to 50 characters without surrounding spaces",
                step.tier
            ));
        }
        Ok(Self(steps))
    }

    /// bronze from 0, silver from 1,000, gold from 10,000, platinum from 100,000, ten levels
    /// in all.
    pub fn standard() -> Self {
        let steps = [
            (0, "bronze"),
            (100, "bronze"),
            (300, "bronze"),
            (1_000, "silver"),
            (3_000, "silver"),
            (10_000, "gold"),
            (30_000, "gold"),
            (100_000, "platinum"),
            (300_000, "platinum"),
            (1_000_000, "platinum"),
        ];
        Self(
            steps
                .into_iter()
                .map(|(experience, tier)| LevelThreshold {
                    experience,
                    tier: tier.to_owned(),
                })
                .collect(),
        )
    }

    pub fn steps(&self) -> &[LevelThreshold] {
        &self.0
    }

    /// The level reached with `experience`: the last step it reaches.
    pub fn level_of(&self, experience: i64) -> Level {
        let reached = self
            .0
            .iter()
            .take_while(|step| step.experience <= experience)
            .count()
            .max(1);
        let step = &self.0[reached - 1];
        Level {
            level: reached as u32,
            tier: step.tier.clone(),
            next_level_at: self.0.get(reached).map(|next| next.experience),
        }
    }
}

/// Where a holder stands on the ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Level {
    pub level: u32,
    pub tier: String,
    /// The experience the next level needs; `None` at the top.
    pub next_level_at: Option<i64>,
}

/// A holder's totals, kept with the ledger and the matches: a summary of an agent or user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Standing {
    pub holder: Participant,
    /// The sum of every award.
    pub points: i64,
    /// The sum of the positive awards: it never falls.
    pub experience: i64,
    pub level: Level,
    /// The ELO rating (agents only; a user keeps the initial rating).
    pub rating: i32,
    pub matches_played: i32,
    /// When anything last changed it; `None` before the first award or match.
    pub updated_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder(steps: &[(i64, &str)]) -> Result<LevelThresholds, DomainError> {
        LevelThresholds::parse(
            steps
                .iter()
                .map(|(experience, tier)| LevelThreshold {
                    experience: *experience,
                    tier: (*tier).to_owned(),
                })
                .collect(),
        )
    }

    #[test]
    fn levels_follow_the_ladder() {
        let ladder = ladder(&[(0, "a"), (10, "a"), (100, "b")])
            .unwrap_or_else(|_| LevelThresholds::standard());
        assert_eq!(ladder.level_of(0).level, 1);
        assert_eq!(ladder.level_of(9).next_level_at, Some(10));
        assert_eq!(ladder.level_of(10).level, 2);
        let top = ladder.level_of(5_000);
        assert_eq!(
            (top.level, top.tier.as_str(), top.next_level_at),
            (3, "b", None)
        );
    }

    #[test]
    fn bad_ladders_are_refused() {
        assert!(ladder(&[]).is_err());
        assert!(ladder(&[(5, "a")]).is_err());
        assert!(ladder(&[(0, "a"), (0, "b")]).is_err());
        assert!(ladder(&[(0, " ")]).is_err());
    }

    #[test]
    fn amounts_are_bounded_and_penalties_add_no_experience() {
        assert!(PointAmount::parse(0).is_err());
        assert!(PointAmount::parse(1_000_001).is_err());
        assert_eq!(PointAmount::parse(-5).map(PointAmount::experience), Ok(0));
        assert_eq!(PointAmount::parse(7).map(PointAmount::experience), Ok(7));
        assert!(PointReason::parse("  ").is_err());
    }
}
