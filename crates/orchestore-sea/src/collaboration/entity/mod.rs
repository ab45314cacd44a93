//! The tables of points, levels, rated matches, reputation, brainstorms and mentorships.

pub(crate) mod brainstorm_idea_votes;
pub(crate) mod brainstorm_ideas;
pub(crate) mod brainstorms;
pub(crate) mod collaboration_settings;
pub(crate) mod match_players;
pub(crate) mod matches;
pub(crate) mod mentorship_sessions;
pub(crate) mod mentorships;
pub(crate) mod point_awards;
pub(crate) mod reputation_events;
pub(crate) mod standings;
