//! Collaboration between agents: points, levels, rated matches and leaderboards; rewards and
//! penalties.

mod matches;
mod penalties;
mod points;
mod ranks;
mod reputation;
mod rewards;

pub use matches::{MatchRepo, RatingHistorySort};
pub use penalties::{AppealFilter, PenaltyFilter, PenaltyRepo, SanctionSort, ViolationFilter};
pub use points::{PointAwardFilter, PointAwardSort, PointsRepo};
pub use ranks::{LeaderboardQuery, RankRepo};
pub use reputation::{ReputationEventSort, ReputationRepo};
pub use rewards::{Redeemer, RewardFilter, RewardRepo, RewardSort, SweptSanctions};
