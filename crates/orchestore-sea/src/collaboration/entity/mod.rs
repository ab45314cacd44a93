//! The tables of points, levels, rated matches, reputation, achievements, leaderboard
//! snapshots, rewards and penalties, brainstorms, mentorships, proposals and votes.

pub(crate) mod achievement_definitions;
pub(crate) mod achievements;
pub(crate) mod appeals;
pub(crate) mod brainstorm_idea_votes;
pub(crate) mod brainstorm_ideas;
pub(crate) mod brainstorms;
pub(crate) mod collaboration_settings;
pub(crate) mod leaderboard_settings;
pub(crate) mod leaderboard_snapshot_entries;
pub(crate) mod leaderboard_snapshots;
pub(crate) mod match_players;
pub(crate) mod matches;
pub(crate) mod mentorship_sessions;
pub(crate) mod mentorships;
pub(crate) mod penalties;
pub(crate) mod permission_grants;
pub(crate) mod point_awards;
pub(crate) mod proposal_options;
pub(crate) mod proposals;
pub(crate) mod reputation_events;
pub(crate) mod reputation_feed_watermarks;
pub(crate) mod rewards;
pub(crate) mod standings;
pub(crate) mod violations;
pub(crate) mod votes;
