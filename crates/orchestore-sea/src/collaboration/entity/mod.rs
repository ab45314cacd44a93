//! The tables of points, levels and rated matches, rewards and penalties.

pub(crate) mod appeals;
pub(crate) mod collaboration_settings;
pub(crate) mod match_players;
pub(crate) mod matches;
pub(crate) mod penalties;
pub(crate) mod permission_grants;
pub(crate) mod point_awards;
pub(crate) mod reputation_events;
pub(crate) mod rewards;
pub(crate) mod standings;
pub(crate) mod violations;
