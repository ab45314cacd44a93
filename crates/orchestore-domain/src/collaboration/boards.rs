use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::ranks::word_enum;
use super::{EloSettings, HALF_LIFE_DAYS, LeaderboardEntry, LeaderboardKind, LeaderboardPeriod};
use crate::{DomainError, LeaderboardSnapshotId, OrganizationId, Participant};

/// The weights of the combined ranking: a holder's combined score is
/// `points × points + rating × (rating − 1500) + reputation × overall`, each weight a finite
/// number from 0 to 1,000, not all three 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LeaderboardWeights {
    points: f64,
    rating: f64,
    reputation: f64,
}

/// The wire form of [`LeaderboardWeights`], checked by its parser when read.
#[derive(Deserialize)]
struct RawWeights {
    points: f64,
    rating: f64,
    reputation: f64,
}

deserialize_by_parse!(LeaderboardWeights, RawWeights, |raw| {
    LeaderboardWeights::parse(raw.points, raw.rating, raw.reputation)
});

impl LeaderboardWeights {
    pub const MAX: f64 = 1_000.0;

    pub fn parse(points: f64, rating: f64, reputation: f64) -> Result<Self, DomainError> {
        for (field, weight) in [
            ("points", points),
            ("rating", rating),
            ("reputation", reputation),
        ] {
            if !(0.0..=Self::MAX).contains(&weight) {
                return Err(DomainError::invalid(
                    field,
                    format!("a weight must be from 0 to {}, got {weight}", Self::MAX),
                ));
            }
        }
        if points + rating + reputation == 0.0 {
            return Err(DomainError::invalid(
                "points",
                "at least one weight must be above 0",
            ));
        }
        Ok(Self {
            points,
            rating,
            reputation,
        })
    }

    pub const fn points(self) -> f64 {
        self.points
    }

    pub const fn rating(self) -> f64 {
        self.rating
    }

    pub const fn reputation(self) -> f64 {
        self.reputation
    }

    /// The combined score of a holder with these totals.
    pub fn combined(self, points: i64, rating: i32, overall: f64) -> f64 {
        self.points * points as f64
            + self.rating * f64::from(rating - EloSettings::INITIAL_RATING)
            + self.reputation * overall
    }
}

impl Default for LeaderboardWeights {
    /// Every component counts as it is.
    fn default() -> Self {
        Self {
            points: 1.0,
            rating: 1.0,
            reputation: 1.0,
        }
    }
}

/// The instant the reputation ranking key counts from (2026-01-01 UTC).
pub fn reputation_epoch() -> DateTime<Utc> {
    Utc.timestamp_opt(1_767_225_600, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// Half-lives between the epoch and `at` (negative before it).
fn half_lives_since_epoch(at: DateTime<Utc>) -> f64 {
    (at - reputation_epoch()).num_milliseconds() as f64 / 86_400_000.0 / HALF_LIFE_DAYS
}

/// What an event of `delta` at `at` adds to its agent's reputation key:
/// delta × 2^((at − epoch) / half-life). The key's order is the order of `overall` at any
/// instant no event is later than, since every agent's score is its key times one common
/// factor (see [`overall_from_key`]).
///
/// The key doubles every half-life (about 12 times a year): 100 × 2^(12.2 × 80) is about
/// 2^980, so with a million events an agent's key stays below `f64::MAX` (2^1024) until about
/// 2105; a migration can then move the epoch forward, halving every key alike (their order
/// stays).
pub fn reputation_key_weight(delta: i32, at: DateTime<Utc>) -> f64 {
    f64::from(delta) * 2f64.powf(half_lives_since_epoch(at))
}

/// The reputation's `overall` at `as_of` from its key: key × 0.5^((as_of − epoch) / half-life)
/// over the four dimensions, rounded to three decimals as [`super::Reputation`] is. Exact when
/// no event of the agent is later than `as_of`.
pub fn overall_from_key(key: f64, as_of: DateTime<Utc>) -> f64 {
    let overall = key * reputation_key_scale(as_of);
    (overall * 1000.0).round() / 1000.0
}

/// What a key is multiplied by to give the `overall` at `as_of`, unrounded:
/// 0.5^((as_of − epoch) / half-life) / 4.
pub fn reputation_key_scale(as_of: DateTime<Utc>) -> f64 {
    0.5f64.powf(half_lives_since_epoch(as_of)) / 4.0
}

word_enum!(
    /// Why a snapshot was taken.
    SnapshotTrigger, "trigger" {
        /// Someone asked for it.
        OnDemand = "on_demand",
        /// The server's schedule took it.
        Scheduled = "scheduled",
    }
);

/// How many rows a snapshot keeps.
pub const SNAPSHOT_SIZE: u32 = 100;

/// The leaderboards a scheduled snapshot takes, each kind over each period it is ranked over.
pub const SCHEDULED_BOARDS: [(LeaderboardKind, LeaderboardPeriod); 6] = [
    (LeaderboardKind::Points, LeaderboardPeriod::AllTime),
    (LeaderboardKind::Points, LeaderboardPeriod::Month),
    (LeaderboardKind::Points, LeaderboardPeriod::Week),
    (LeaderboardKind::Rating, LeaderboardPeriod::AllTime),
    (LeaderboardKind::Reputation, LeaderboardPeriod::AllTime),
    (LeaderboardKind::Combined, LeaderboardPeriod::AllTime),
];

/// A leaderboard as it stood when the snapshot was taken: its first [`SNAPSHOT_SIZE`] rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LeaderboardSnapshot {
    pub id: LeaderboardSnapshotId,
    pub organization_id: OrganizationId,
    pub kind: LeaderboardKind,
    pub period: LeaderboardPeriod,
    pub trigger: SnapshotTrigger,
    pub taken_at: DateTime<Utc>,
    /// How many rows it keeps.
    pub size: u32,
}

/// How far down a hall of fame counts: rank 1 (the firsts) to [`SNAPSHOT_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct HallOfFameTop(u32);

deserialize_by_parse!(HallOfFameTop, u64, HallOfFameTop::parse);

impl HallOfFameTop {
    pub fn parse(raw: u64) -> Result<Self, DomainError> {
        match u32::try_from(raw) {
            Ok(top) if (1..=SNAPSHOT_SIZE).contains(&top) => Ok(Self(top)),
            _ => Err(DomainError::invalid(
                "top",
                format!("must be from 1 to {SNAPSHOT_SIZE}, got {raw}"),
            )),
        }
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for HallOfFameTop {
    /// The firsts.
    fn default() -> Self {
        Self(1)
    }
}

/// A snapshot with its rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SnapshotBoard {
    #[serde(flatten)]
    pub snapshot: LeaderboardSnapshot,
    pub entries: Vec<LeaderboardEntry>,
}

/// A holder in the hall of fame: how many snapshots of one leaderboard ranked it within the
/// top asked for, its best rank, and when first and last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HallOfFameEntry {
    pub holder: Participant,
    pub times: u32,
    pub best_rank: u32,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::{AgentId, Reputation, ReputationDimension};

    #[test]
    fn the_key_scaled_back_is_the_overall_score() {
        let at = reputation_epoch() + Duration::days(400);
        let events = [(40, at), (-10, at + Duration::days(45))];
        let key: f64 = events
            .iter()
            .map(|(delta, at)| reputation_key_weight(*delta, *at))
            .sum();
        let as_of = at + Duration::days(90);
        let expected = Reputation::at(
            AgentId::new(),
            as_of,
            events.map(|(delta, at)| (ReputationDimension::Trust, delta, at)),
        );
        assert_eq!(overall_from_key(key, as_of), expected.overall);
        // Eighty years on, a large key is still finite.
        let late = reputation_epoch() + Duration::days(365 * 80);
        assert!((reputation_key_weight(100, late) * 1e6).is_finite());
    }

    #[test]
    fn weights_are_bounded_and_combine() {
        assert!(LeaderboardWeights::parse(0.0, 0.0, 0.0).is_err());
        assert!(LeaderboardWeights::parse(-1.0, 1.0, 1.0).is_err());
        assert!(LeaderboardWeights::parse(f64::NAN, 1.0, 1.0).is_err());
        let weights = LeaderboardWeights::parse(1.0, 0.5, 2.0);
        assert_eq!(weights.map(|w| w.combined(100, 1540, 2.5)), Ok(125.0));
    }
}
