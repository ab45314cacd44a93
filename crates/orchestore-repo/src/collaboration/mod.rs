//! Collaboration between agents: points, levels, rated matches and leaderboards.

mod matches;
mod points;
mod ranks;
mod reputation;

pub use matches::{MatchRepo, RatingHistorySort};
pub use points::{PointAwardFilter, PointAwardSort, PointsRepo};
pub use ranks::{LeaderboardQuery, RankRepo};
pub use reputation::{ReputationEventSort, ReputationRepo};
