//! Collaboration between agents: points, levels, rated matches, leaderboards and proposals.

mod matches;
mod points;
mod proposals;
mod ranks;
mod reputation;

pub use matches::{MatchRepo, RatingHistorySort};
pub use points::{PointAwardFilter, PointAwardSort, PointsRepo};
pub use proposals::{ProposalFilter, ProposalRepo, ProposalSort, VoteSort};
pub use ranks::{LeaderboardQuery, RankRepo};
pub use reputation::{ReputationEventSort, ReputationRepo};
