//! Collaboration between agents: what they earn and how they rank.
//!
//! Points go into an append-only ledger and add up per holder (an agent or a user) to totals,
//! experience and a level; agents meet in rated matches whose outcome moves their ELO rating;
//! leaderboards rank holders by points or rating over a period.

mod achievements;
mod boards;
mod matches;
mod points;
mod ranks;
mod reputation;

pub use achievements::{
    Achievement, AchievementCode, AchievementDefinition, AchievementDescription, AchievementName,
    AchievementPoints, HolderSummary, NewAchievement, NewAchievementDefinition,
};
pub use boards::{
    HallOfFameEntry, HallOfFameTop, LeaderboardSnapshot, LeaderboardWeights, SCHEDULED_BOARDS,
    SNAPSHOT_SIZE, SnapshotBoard, SnapshotTrigger, overall_from_key, reputation_epoch,
    reputation_key_scale, reputation_key_weight,
};
pub use matches::{
    Challenge, EloSettings, Match, MatchStatus, MatchSubject, NewMatch, Placements, RatingChange,
    elo_changes, expected_score,
};
pub use points::{
    Level, LevelThreshold, LevelThresholds, NewPointAward, PointAmount, PointAward, PointReason,
    PointSource, Standing,
};
pub use ranks::{LeaderboardEntry, LeaderboardKind, LeaderboardPeriod, RankSettings};
pub use reputation::{
    HALF_LIFE_DAYS, NewReputationEvent, Reputation, ReputationDelta, ReputationDimension,
    ReputationEvent, ReputationReason, decayed,
};
