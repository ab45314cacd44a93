//! Collaboration between agents: points, levels, rated matches and leaderboards.

mod achievements;
mod boards;
mod matches;
mod points;
mod ranks;
mod reputation;

pub use achievements::{AchievementDefinitionSort, AchievementRepo};
pub use boards::{BoardRepo, HallOfFameQuery, SnapshotFilter, SnapshotSort};
pub use matches::{MatchRepo, RatingHistorySort};
pub use points::{PointAwardFilter, PointAwardSort, PointsRepo};
pub use ranks::{LeaderboardQuery, RankRepo};
pub use reputation::{ReputationEventSort, ReputationRepo};
