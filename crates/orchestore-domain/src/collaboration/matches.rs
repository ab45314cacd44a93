use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::points::short_text;
use crate::{AgentId, DomainError, MatchId, OrganizationId, TaskId};

short_text!(
    /// A challenge a match is played on (when it is not a task): 1 to 200 characters.
    Challenge, "challenge", 200
);

/// What a match is played on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum MatchSubject {
    Task(TaskId),
    Challenge(Challenge),
}

impl MatchSubject {
    pub fn challenge(raw: &str) -> Result<Self, DomainError> {
        Challenge::parse(raw).map(Self::Challenge)
    }
}

/// Whether a match still waits for its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    Open,
    Finished,
}

impl MatchStatus {
    pub const ALL: [MatchStatus; 2] = [Self::Open, Self::Finished];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Finished => "finished",
        }
    }
}

impl fmt::Display for MatchStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MatchStatus {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid("status", format!("{s:?} is not one of open, finished"))
            })
    }
}

/// A match to start: 2 to 32 distinct agents on a task or a challenge.
#[derive(Debug, Clone)]
pub struct NewMatch {
    subject: MatchSubject,
    agents: Vec<AgentId>,
}

impl NewMatch {
    pub const MAX_AGENTS: usize = 32;

    pub fn new(subject: MatchSubject, agents: Vec<AgentId>) -> Result<Self, DomainError> {
        let mut distinct = agents.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() != agents.len() {
            return Err(DomainError::invalid("agents", "must not repeat an agent"));
        }
        if !(2..=Self::MAX_AGENTS).contains(&agents.len()) {
            return Err(DomainError::invalid(
                "agents",
                format!(
                    "must name 2 to {} agents, got {}",
                    Self::MAX_AGENTS,
                    agents.len()
                ),
            ));
        }
        Ok(Self { subject, agents })
    }

    pub fn subject(&self) -> &MatchSubject {
        &self.subject
    }

    pub fn agents(&self) -> &[AgentId] {
        &self.agents
    }
}

/// A match's outcome: each agent's place, 1 the best; agents sharing a place drew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Placements(BTreeMap<AgentId, u32>);

deserialize_by_parse!(Placements, BTreeMap<AgentId, u32>, Placements::parse);

impl Placements {
    pub fn parse(places: BTreeMap<AgentId, u32>) -> Result<Self, DomainError> {
        if places
            .values()
            .any(|place| *place == 0 || *place as usize > places.len())
        {
            return Err(DomainError::invalid(
                "placements",
                "each place must be from 1 to the number of agents",
            ));
        }
        Ok(Self(places))
    }

    pub fn place_of(&self, agent: AgentId) -> Option<u32> {
        self.0.get(&agent).copied()
    }

    /// `Ok` when the placements name exactly `agents`.
    pub fn cover(&self, agents: &[AgentId]) -> Result<(), DomainError> {
        if self.0.len() != agents.len() || agents.iter().any(|a| !self.0.contains_key(a)) {
            return Err(DomainError::invalid(
                "placements",
                "must place every agent of the match and no other",
            ));
        }
        Ok(())
    }
}

/// How ratings move: a rating starts at [`EloSettings::INITIAL_RATING`]; an agent's first
/// `provisional_matches` matches move it by `provisional_k_factor`, later ones by `k_factor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EloSettings {
    k_factor: u32,
    provisional_k_factor: u32,
    provisional_matches: u32,
}

/// The wire form of [`EloSettings`], checked by its parser when read.
#[derive(Deserialize)]
struct RawEloSettings {
    k_factor: u32,
    provisional_k_factor: u32,
    provisional_matches: u32,
}

deserialize_by_parse!(EloSettings, RawEloSettings, |raw| {
    EloSettings::parse(
        raw.k_factor,
        raw.provisional_k_factor,
        raw.provisional_matches,
    )
});

impl EloSettings {
    pub const INITIAL_RATING: i32 = 1500;

    pub fn parse(
        k_factor: u32,
        provisional_k_factor: u32,
        provisional_matches: u32,
    ) -> Result<Self, DomainError> {
        if !(1..=100).contains(&k_factor) {
            return Err(DomainError::invalid("k_factor", "must be from 1 to 100"));
        }
        if !(k_factor..=200).contains(&provisional_k_factor) {
            return Err(DomainError::invalid(
                "provisional_k_factor",
                "must be from k_factor to 200",
            ));
        }
        if provisional_matches > 1000 {
            return Err(DomainError::invalid(
                "provisional_matches",
                "must be at most 1000",
            ));
        }
        Ok(Self {
            k_factor,
            provisional_k_factor,
            provisional_matches,
        })
    }

    /// K = 32, and 64 for an agent's first 10 matches.
    pub const fn standard() -> Self {
        Self {
            k_factor: 32,
            provisional_k_factor: 64,
            provisional_matches: 10,
        }
    }

    pub const fn k_factor(self) -> u32 {
        self.k_factor
    }

    pub const fn provisional_k_factor(self) -> u32 {
        self.provisional_k_factor
    }

    pub const fn provisional_matches(self) -> u32 {
        self.provisional_matches
    }

    /// The K of an agent that has played `matches_played` rated matches.
    pub const fn k_for(self, matches_played: i32) -> u32 {
        if matches_played < self.provisional_matches as i32 {
            self.provisional_k_factor
        } else {
            self.k_factor
        }
    }
}

/// The score `a` is expected to take against `b`: 1 / (1 + 10^((b − a) / 400)).
pub fn expected_score(a: i32, b: i32) -> f64 {
    1.0 / (1.0 + 10f64.powf(f64::from(b - a) / 400.0))
}

/// Each player's rating change. `players` are `(rating, matches played, place)`. A match of
/// n players counts as every pair playing once: the player's actual score against each other
/// (1 for a better place, ½ for the same, 0 for a worse) less its expected score, summed and
/// divided by n − 1, times the player's K, rounded to the nearest whole point (half away from
/// zero). Computed here, not in SQL, so both backends store exactly the same integers.
pub fn elo_changes(players: &[(i32, i32, u32)], settings: EloSettings) -> Vec<i32> {
    let opponents = players.len().saturating_sub(1).max(1) as f64;
    players
        .iter()
        .enumerate()
        .map(|(i, &(rating, played, place))| {
            let surplus: f64 = players
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, &(other, _, other_place))| {
                    let actual = match place.cmp(&other_place) {
                        std::cmp::Ordering::Less => 1.0,
                        std::cmp::Ordering::Equal => 0.5,
                        std::cmp::Ordering::Greater => 0.0,
                    };
                    actual - expected_score(rating, other)
                })
                .sum();
            (f64::from(settings.k_for(played)) * surplus / opponents).round() as i32
        })
        .collect()
}

/// One agent's rating change in one match: an entry of its rating history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RatingChange {
    pub match_id: MatchId,
    pub agent_id: AgentId,
    pub place: u32,
    pub rating_before: i32,
    pub rating_after: i32,
    pub at: DateTime<Utc>,
}

/// A match as stored; `placements` and `changes` are empty until it is finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Match {
    pub id: MatchId,
    pub organization_id: OrganizationId,
    pub subject: MatchSubject,
    pub agents: Vec<AgentId>,
    pub status: MatchStatus,
    pub changes: Vec<RatingChange>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    // Worked examples, K = 32 (no provisional period).
    fn k32() -> EloSettings {
        EloSettings::parse(32, 32, 0).unwrap_or(EloSettings::standard())
    }

    #[test]
    fn equal_players_move_by_half_k() {
        assert_eq!(
            elo_changes(&[(1500, 0, 1), (1500, 0, 2)], k32()),
            vec![16, -16]
        );
        assert_eq!(
            elo_changes(&[(1500, 0, 1), (1500, 0, 1)], k32()),
            vec![0, 0]
        );
    }

    #[test]
    fn the_favourite_gains_little_and_the_underdog_much() {
        // E(1600 vs 1400) = 1 / (1 + 10^(-0.5)) = 0.7597: 32 × 0.2403 = 7.69 → 8.
        assert!((expected_score(1600, 1400) - 0.759_746_9).abs() < 1e-6);
        assert_eq!(
            elo_changes(&[(1600, 0, 1), (1400, 0, 2)], k32()),
            vec![8, -8]
        );
        // 32 × 0.7597 = 24.31 → 24.
        assert_eq!(
            elo_changes(&[(1600, 0, 2), (1400, 0, 1)], k32()),
            vec![-24, 24]
        );
    }

    #[test]
    fn provisional_players_move_by_the_larger_k() {
        let settings = EloSettings::standard();
        // The newcomer (0 played) uses 64, the veteran (10 played) 32.
        assert_eq!(
            elo_changes(&[(1500, 0, 1), (1500, 10, 2)], settings),
            vec![32, -16]
        );
    }

    #[test]
    fn three_players_count_as_pairs() {
        // Each pair once: winner 2 × 0.5 / 2 × 32 = 16, middle 0, last −16.
        assert_eq!(
            elo_changes(&[(1500, 0, 1), (1500, 0, 2), (1500, 0, 3)], k32()),
            vec![16, 0, -16]
        );
    }

    #[test]
    fn matches_and_placements_are_checked() {
        let a = AgentId::new();
        let subject = MatchSubject::challenge("chess").unwrap_or(MatchSubject::Task(TaskId::new()));
        assert!(NewMatch::new(subject.clone(), vec![a]).is_err());
        assert!(NewMatch::new(subject, vec![a, a]).is_err());
        assert!(Placements::parse(BTreeMap::from([(a, 0)])).is_err());
        assert!(Placements::parse(BTreeMap::from([(a, 2)])).is_err());
        assert!(EloSettings::parse(40, 20, 5).is_err());
    }
}
