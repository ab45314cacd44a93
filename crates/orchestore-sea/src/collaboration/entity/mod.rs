//! The tables of points, levels and rated matches.

pub(crate) mod collaboration_settings;
pub(crate) mod match_players;
pub(crate) mod matches;
pub(crate) mod point_awards;
pub(crate) mod proposal_options;
pub(crate) mod proposals;
pub(crate) mod reputation_events;
pub(crate) mod standings;
pub(crate) mod votes;
