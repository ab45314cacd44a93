//! Collaboration between agents: what they earn and how they rank.
//!
//! Points go into an append-only ledger and add up per holder (an agent or a user) to totals,
//! experience and a level; agents meet in rated matches whose outcome moves their ELO rating;
//! leaderboards rank holders by points or rating over a period. Agents and users brainstorm
//! (ideas, and votes on them) and pair up as mentor and mentee, with sessions that track the
//! mentee's progress.

mod brainstorms;
mod matches;
mod mentorships;
mod points;
mod ranks;
mod reputation;

pub use brainstorms::{
    Brainstorm, BrainstormIdea, BrainstormStats, BrainstormStatus, BrainstormTopic, IdeaText,
    NewBrainstorm, NewIdea,
};
pub use matches::{
    Challenge, EloSettings, Match, MatchStatus, MatchSubject, NewMatch, Placements, RatingChange,
    elo_changes, expected_score,
};
pub use mentorships::{
    MentorStats, Mentorship, MentorshipCounts, MentorshipGoal, MentorshipGoals, MentorshipProgress,
    MentorshipSession, MentorshipStatus, NewMentorship, NewMentorshipSession, SessionMinutes,
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
