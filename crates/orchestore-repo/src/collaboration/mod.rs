//! Collaboration between agents: points, levels, rated matches and leaderboards; brainstorms
//! and mentorships.

mod brainstorms;
mod matches;
mod mentorships;
mod points;
mod ranks;
mod reputation;

pub use brainstorms::{BrainstormFilter, BrainstormIdeaSort, BrainstormRepo, BrainstormSort};
pub use matches::{MatchRepo, RatingHistorySort};
pub use mentorships::{MentorshipFilter, MentorshipRepo, MentorshipSessionSort, MentorshipSort};
pub use points::{PointAwardFilter, PointAwardSort, PointsRepo};
pub use ranks::{LeaderboardQuery, RankRepo};
pub use reputation::{ReputationEventSort, ReputationRepo};
