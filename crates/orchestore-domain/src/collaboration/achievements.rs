use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::points::short_text;
use super::{PointAmount, Reputation, Standing};
use crate::{
    AchievementDefinitionId, AchievementId, DomainError, Metadata, OrganizationId, Participant,
    PointAwardId,
};

/// An achievement's code, unique in its organization: 1 to 64 characters of `a`–`z`, `0`–`9`,
/// `_`, `-` and `.`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct AchievementCode(String);

deserialize_by_parse!(AchievementCode, String, |raw| AchievementCode::parse(&raw));

impl AchievementCode {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let valid = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b));
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::invalid(
                "code",
                format!(
                    "must be 1 to {} characters of a-z, 0-9, '_', '-' and '.'",
                    Self::MAX_CHARS
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AchievementCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for AchievementCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

short_text!(
    /// An achievement's name: 1 to 200 characters, trimmed.
    AchievementName, "name", 200
);
short_text!(
    /// What an achievement is for: 1 to 2,000 characters, trimmed.
    AchievementDescription, "description", 2000
);

/// The points an achievement brings with it: a whole number from 0 to 1,000,000 (0: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct AchievementPoints(i64);

deserialize_by_parse!(AchievementPoints, i64, AchievementPoints::parse);

impl AchievementPoints {
    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        if (0..=PointAmount::MAX).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err(DomainError::invalid(
                "points",
                format!("must be from 0 to {}, got {raw}", PointAmount::MAX),
            ))
        }
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// The ledger entry's amount; `None` for an achievement worth no points.
    pub fn amount(self) -> Option<PointAmount> {
        PointAmount::parse(self.0).ok()
    }
}

/// An achievement an organization can award: each holder gets it at most once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AchievementDefinition {
    pub id: AchievementDefinitionId,
    pub organization_id: OrganizationId,
    pub code: AchievementCode,
    pub name: AchievementName,
    pub description: AchievementDescription,
    pub points: i64,
    /// What earns it, for the callers that award it; the store keeps it and never reads it.
    pub criteria: Option<Metadata>,
    pub created_at: DateTime<Utc>,
}

/// An achievement to define.
#[derive(Debug, Clone)]
pub struct NewAchievementDefinition {
    pub code: AchievementCode,
    pub name: AchievementName,
    pub description: AchievementDescription,
    pub points: AchievementPoints,
    pub criteria: Option<Metadata>,
}

/// An achievement awarded to a holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Achievement {
    pub id: AchievementId,
    pub organization_id: OrganizationId,
    pub definition_id: AchievementDefinitionId,
    pub code: AchievementCode,
    pub name: AchievementName,
    pub holder: Participant,
    pub points: i64,
    /// The ledger entry of its points; `None` when it is worth none.
    pub point_award_id: Option<PointAwardId>,
    pub awarded_at: DateTime<Utc>,
    /// Who awarded it: `user:<id>`, `agent:<id>` or `system`.
    pub awarded_by: String,
}

/// An achievement to award.
#[derive(Debug, Clone, Copy)]
pub struct NewAchievement {
    pub definition_id: AchievementDefinitionId,
    pub holder: Participant,
}

/// Everything about one agent or user at once: its standing, its achievements (oldest first)
/// and, for an agent, its reputation now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HolderSummary {
    pub standing: Standing,
    pub achievements: Vec<Achievement>,
    pub reputation: Option<Reputation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_points_are_bounded() {
        assert!(AchievementCode::parse("first-pr.merged_1").is_ok());
        assert!(AchievementCode::parse("").is_err());
        assert!(AchievementCode::parse("Upper").is_err());
        assert!(AchievementCode::parse(&"a".repeat(65)).is_err());
        assert!(AchievementPoints::parse(-1).is_err());
        assert!(AchievementPoints::parse(1_000_001).is_err());
        assert_eq!(
            AchievementPoints::parse(0).map(AchievementPoints::amount),
            Ok(None)
        );
        assert_eq!(
            AchievementPoints::parse(5).map(|p| p.amount().map(PointAmount::get)),
            Ok(Some(5))
        );
    }
}
