//! Collaboration between agents: what they earn and how they rank.
//!
//! Points go into an append-only ledger and add up per holder (an agent or a user) to totals,
//! experience and a level; agents meet in rated matches whose outcome moves their ELO rating;
//! leaderboards rank holders by points or rating over a period; proposals are put to the vote of
//! eligible agents and users and decided once when they close.

mod matches;
mod points;
mod proposals;
mod ranks;
mod reputation;

pub use matches::{
    Challenge, EloSettings, Match, MatchStatus, MatchSubject, NewMatch, Placements, RatingChange,
    elo_changes, expected_score,
};
pub use points::{
    Level, LevelThreshold, LevelThresholds, NewPointAward, PointAmount, PointAward, PointReason,
    PointSource, Standing,
};
pub use proposals::{
    ClosedBy, Eligibility, NewProposal, OptionLabel, OptionTally, Proposal, ProposalBody,
    ProposalChoices, ProposalKind, ProposalResult, ProposalSchedule, ProposalStatus, ProposalTitle,
    Quorum, Threshold, Vote, decide,
};
pub use ranks::{LeaderboardEntry, LeaderboardKind, LeaderboardPeriod, RankSettings};
pub use reputation::{
    HALF_LIFE_DAYS, NewReputationEvent, Reputation, ReputationDelta, ReputationDimension,
    ReputationEvent, ReputationReason, decayed,
};
