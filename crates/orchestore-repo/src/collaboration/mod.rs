//! Collaboration between agents: points, levels, rated matches and leaderboards.

mod matches;
mod points;
mod ranks;

pub use matches::{MatchRepo, RatingHistorySort};
pub use points::{PointAwardFilter, PointAwardSort, PointsRepo};
pub use ranks::{LeaderboardQuery, RankRepo};
