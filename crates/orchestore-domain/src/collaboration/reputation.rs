use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::points::short_text;
use super::ranks::word_enum;
use crate::{AgentId, DomainError, OrganizationId, ReputationEventId, TaskId};

word_enum!(
    /// What a reputation event is about.
    ReputationDimension, "dimension" {
        Trust = "trust",
        /// Fed by task outcomes.
        Reliability = "reliability",
        Quality = "quality",
        Collaboration = "collaboration",
    }
);

short_text!(
    /// Why a reputation moved: 1 to 500 characters, trimmed.
    ReputationReason, "reason", 500
);

/// How far one event moves a dimension: a non-zero whole number from −100 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ReputationDelta(i32);

deserialize_by_parse!(ReputationDelta, i64, ReputationDelta::parse);

impl ReputationDelta {
    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        match i32::try_from(raw) {
            Ok(value) if value != 0 && (-100..=100).contains(&value) => Ok(Self(value)),
            _ => Err(DomainError::invalid(
                "delta",
                format!("must be a non-zero whole number from -100 to 100, got {raw}"),
            )),
        }
    }

    pub const fn get(self) -> i32 {
        self.0
    }
}

/// An event that moves one dimension of an agent's reputation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReputationEvent {
    pub id: ReputationEventId,
    pub organization_id: OrganizationId,
    pub agent_id: AgentId,
    pub dimension: ReputationDimension,
    pub delta: i32,
    pub reason: ReputationReason,
    pub task_id: Option<TaskId>,
    pub occurred_at: DateTime<Utc>,
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewReputationEvent {
    pub agent_id: AgentId,
    pub dimension: ReputationDimension,
    pub delta: ReputationDelta,
    pub reason: ReputationReason,
    pub task_id: Option<TaskId>,
}

impl NewReputationEvent {
    /// What a task's outcome adds to reliability: +5 for a success, −10 for a failure.
    pub fn task_outcome(agent_id: AgentId, task_id: TaskId, succeeded: bool) -> Self {
        let (delta, reason) = if succeeded {
            (ReputationDelta(5), "task succeeded")
        } else {
            (ReputationDelta(-10), "task failed")
        };
        Self {
            agent_id,
            dimension: ReputationDimension::Reliability,
            delta,
            reason: ReputationReason(reason.to_owned()),
            task_id: Some(task_id),
        }
    }
}

/// An agent's reputation at one instant: each dimension is the sum of its events' deltas,
/// each halved for every [`HALF_LIFE_DAYS`] since it happened; `overall` is their mean.
/// Rounded to three decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reputation {
    pub agent_id: AgentId,
    pub as_of: DateTime<Utc>,
    pub trust: f64,
    pub reliability: f64,
    pub quality: f64,
    pub collaboration: f64,
    pub overall: f64,
}

/// The half-life of a reputation event.
pub const HALF_LIFE_DAYS: f64 = 30.0;

/// What an event of `delta` at `at` still counts at `as_of`: delta × 0.5^(age / half-life),
/// its full delta when it lies in the future of `as_of` (callers leave those out).
pub fn decayed(delta: i32, at: DateTime<Utc>, as_of: DateTime<Utc>) -> f64 {
    let age_days = ((as_of - at).num_milliseconds().max(0) as f64) / 86_400_000.0;
    f64::from(delta) * 0.5f64.powf(age_days / HALF_LIFE_DAYS)
}

impl Reputation {
    /// The reputation of `agent_id` at `as_of` from its events (`(dimension, delta, at)`);
    /// events after `as_of` do not count.
    pub fn at(
        agent_id: AgentId,
        as_of: DateTime<Utc>,
        events: impl IntoIterator<Item = (ReputationDimension, i32, DateTime<Utc>)>,
    ) -> Self {
        let mut sums = [0.0f64; 4];
        for (dimension, delta, at) in events {
            if at > as_of {
                continue;
            }
            let slot = match dimension {
                ReputationDimension::Trust => 0,
                ReputationDimension::Reliability => 1,
                ReputationDimension::Quality => 2,
                ReputationDimension::Collaboration => 3,
            };
            sums[slot] += decayed(delta, at, as_of);
        }
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        Self {
            agent_id,
            as_of,
            trust: round(sums[0]),
            reliability: round(sums[1]),
            quality: round(sums[2]),
            collaboration: round(sums[3]),
            overall: round(sums.iter().sum::<f64>() / 4.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn events_halve_every_half_life() {
        let Some(start) = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single() else {
            return;
        };
        let agent = AgentId::new();
        let events = [
            (ReputationDimension::Trust, 40, start),
            (ReputationDimension::Quality, 10, start + Duration::days(30)),
            (ReputationDimension::Trust, 100, start + Duration::days(90)),
        ];
        let at = Reputation::at(agent, start + Duration::days(60), events);
        // 40 × 0.5² = 10; 10 × 0.5 = 5; the third is in the future.
        assert_eq!((at.trust, at.quality, at.reliability), (10.0, 5.0, 0.0));
        assert_eq!(at.overall, 3.75);
        assert!(ReputationDelta::parse(0).is_err());
        assert!(ReputationDelta::parse(101).is_err());
    }
}
