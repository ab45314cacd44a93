//! `/api/v1/leaderboards` and `/api/v1/collaboration/settings`.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    EloSettings, LeaderboardEntry, LeaderboardKind, LeaderboardPeriod, LevelThreshold,
    LevelThresholds, RankSettings, Revised, Revision,
};
use orchestore_repo::{LeaderboardQuery, Limit};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid};

/// `GET /api/v1/leaderboards`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LeaderboardParams {
    /// `points` (the default), `rating`, `reputation` or `combined`.
    #[param(value_type = Option<LeaderboardKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `all_time` (the default), `month` or `week`.
    #[param(value_type = Option<LeaderboardPeriod>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// The instant whose week or month is read; now when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<DateTime<Utc>>,
    /// How many rows.
    #[param(minimum = 1, maximum = 200, default = 100)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl LeaderboardParams {
    /// The leaderboard to read, at `now` when the parameters leave `as_of` out.
    pub fn into_query(self, now: DateTime<Utc>) -> Result<LeaderboardQuery, Invalid> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(
            self.kind
                .as_deref()
                .map_or(Ok(LeaderboardKind::Points), str::parse),
        );
        let period = errors.check(
            self.period
                .as_deref()
                .map_or(Ok(LeaderboardPeriod::AllTime), str::parse),
        );
        let limit = errors.check(Limit::parse(self.limit.unwrap_or(100)));
        let (Some(kind), Some(period), Some(limit)) = (kind, period, limit) else {
            return Err(errors.into_error());
        };
        Ok(LeaderboardQuery {
            kind,
            period,
            as_of: self.as_of.unwrap_or(now),
            limit,
        })
    }
}

/// The whole of the settings, as `GET` shows them (its `revision` included or left out).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RankSettingsBody {
    /// The level ladder: 1 to 100 steps, the first at 0 experience, each needing more than the
    /// one before.
    #[schema(min_items = 1, max_items = 100)]
    pub level_thresholds: Vec<LevelThreshold>,
    /// How far a match moves a rating once the agent is past its provisional matches.
    #[schema(minimum = 1, maximum = 100)]
    pub k_factor: u32,
    /// How far a match moves a rating in the agent's provisional matches: from `k_factor` to
    /// 200.
    #[schema(minimum = 1, maximum = 200)]
    pub provisional_k_factor: u32,
    /// How many of an agent's first matches are provisional.
    #[schema(maximum = 1000)]
    pub provisional_matches: u32,
    /// The revision read: when given, the settings are replaced only if still at it, as with
    /// `If-Match`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<Revision>,
}

impl RankSettingsBody {
    pub fn into_rank_settings(self) -> Result<RankSettings, Invalid> {
        let mut errors = FieldErrors::default();
        let ladder = errors.check(LevelThresholds::parse(self.level_thresholds));
        let elo = errors.check(EloSettings::parse(
            self.k_factor,
            self.provisional_k_factor,
            self.provisional_matches,
        ));
        let (Some(level_thresholds), Some(elo)) = (ladder, elo) else {
            return Err(errors.into_error());
        };
        Ok(RankSettings {
            level_thresholds,
            elo,
        })
    }
}

/// A leaderboard as read: what was asked for, and its rows, the first rank first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Leaderboard {
    pub kind: LeaderboardKind,
    pub period: LeaderboardPeriod,
    /// The instant the leaderboard was read at.
    pub as_of: DateTime<Utc>,
    pub items: Vec<LeaderboardEntry>,
}

/// An organization's rules for ranks, as they read: the level ladder and the ELO settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RankSettingsReply {
    pub level_thresholds: LevelThresholds,
    /// How far a match moves a rating once the agent is past its provisional matches.
    pub k_factor: u32,
    /// How far a match moves a rating in the agent's provisional matches.
    pub provisional_k_factor: u32,
    /// How many of an agent's first matches are provisional.
    pub provisional_matches: u32,
    /// 1 until the settings are first set, one more with every `PUT`; sent as the `ETag`.
    pub revision: Revision,
}

impl From<Revised<RankSettings>> for RankSettingsReply {
    fn from(
        Revised {
            value: settings,
            revision,
        }: Revised<RankSettings>,
    ) -> Self {
        Self {
            revision,
            k_factor: settings.elo.k_factor(),
            provisional_k_factor: settings.elo.provisional_k_factor(),
            provisional_matches: settings.elo.provisional_matches(),
            level_thresholds: settings.level_thresholds,
        }
    }
}
