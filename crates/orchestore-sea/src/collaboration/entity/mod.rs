//! The tables of points, levels and rated matches.

pub(crate) mod achievement_definitions;
pub(crate) mod achievements;
pub(crate) mod collaboration_settings;
pub(crate) mod leaderboard_settings;
pub(crate) mod leaderboard_snapshot_entries;
pub(crate) mod leaderboard_snapshots;
pub(crate) mod match_players;
pub(crate) mod matches;
pub(crate) mod point_awards;
pub(crate) mod reputation_events;
pub(crate) mod standings;
