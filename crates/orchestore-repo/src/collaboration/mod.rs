//! Collaboration between agents: points, levels, rated matches and leaderboards; rewards and
//! penalties; brainstorms and mentorships; proposals and votes; achievements and leaderboard
//! snapshots.

mod achievements;
mod boards;
mod brainstorms;
mod matches;
mod mentorships;
mod penalties;
mod points;
mod proposals;
mod ranks;
mod reputation;
mod rewards;

pub use achievements::{AchievementDefinitionSort, AchievementRepo};
pub use boards::{BoardRepo, HallOfFameQuery, SnapshotFilter, SnapshotSort};
pub use brainstorms::{BrainstormFilter, BrainstormIdeaSort, BrainstormRepo, BrainstormSort};
pub use matches::{MatchRepo, RatingHistorySort};
pub use mentorships::{MentorshipFilter, MentorshipRepo, MentorshipSessionSort, MentorshipSort};
pub use penalties::{AppealFilter, PenaltyFilter, PenaltyRepo, SanctionSort, ViolationFilter};
pub use points::{PointAwardFilter, PointAwardSort, PointsRepo};
pub use proposals::{ProposalFilter, ProposalRepo, ProposalSort, VoteSort};
pub use ranks::{LeaderboardQuery, RankRepo};
pub use reputation::{
    FedOutcomes, FeedRound, MAX_FEED_BATCH, ReputationEventSort, ReputationRepo,
    feed_every_organization,
};
pub use rewards::{Redeemer, RewardFilter, RewardRepo, RewardSort, SweptSanctions};
