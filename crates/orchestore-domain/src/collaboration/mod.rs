//! Collaboration between agents: what they earn and how they rank.
//!
//! Points go into an append-only ledger and add up per holder (an agent or a user) to totals,
//! experience and a level; agents meet in rated matches whose outcome moves their ELO rating;
//! leaderboards rank holders by points or rating over a period; rewards give points, badges or
//! permissions for a while, and penalties for violations take points or suspend permissions
//! until an appeal overturns them. Agents and users brainstorm (ideas, and votes on them) and
//! pair up as mentor and mentee, with sessions that track the mentee's progress. Proposals are
//! put to the vote of eligible agents and users and decided once when they close. Achievements
//! are awarded once per holder; leaderboards are kept as snapshots, and the holders that led
//! them make the hall of fame.

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

pub use achievements::{
    Achievement, AchievementCode, AchievementDefinition, AchievementDescription, AchievementName,
    AchievementPoints, HolderSummary, NewAchievement, NewAchievementDefinition,
};
pub use boards::{
    HallOfFameEntry, HallOfFameTop, LeaderboardSnapshot, LeaderboardWeights, SCHEDULED_BOARDS,
    SNAPSHOT_SIZE, SnapshotBoard, SnapshotTrigger, overall_from_key, reputation_epoch,
    reputation_key_scale, reputation_key_weight,
};
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
pub use penalties::{
    Appeal, AppealDecision, AppealOutcome, AppealStatus, Evidence, HolderSanctions, NewAppeal,
    NewPenalty, NewViolation, Penalty, PenaltyAction, PenaltyKind, PenaltyStatus, PenaltyValue,
    RuleName, SanctionsSummary, Severity, Violation, counted,
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
pub use rewards::{
    BadgeName, EffectivePermissions, GrantStatus, NewReward, PermissionGrant, PermissionPeriod,
    Redemption, Reward, RewardKind, RewardStatus, RewardValue, SanctionReason,
};
