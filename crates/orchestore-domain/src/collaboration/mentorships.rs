use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::points::short_text;
use super::ranks::word_enum;
use crate::{
    Description, DomainError, MentorshipId, MentorshipSessionId, OrganizationId, Participant,
};

short_text!(
    /// One goal of a mentorship: 1 to 500 characters, trimmed.
    MentorshipGoal, "goals", 500
);

/// What a mentorship aims at: 1 to 20 distinct goals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct MentorshipGoals(Vec<MentorshipGoal>);

deserialize_by_parse!(MentorshipGoals, Vec<String>, |raw| MentorshipGoals::parse(
    &raw
));

impl MentorshipGoals {
    pub const MAX_GOALS: usize = 20;

    pub fn parse(raw: &[String]) -> Result<Self, DomainError> {
        if raw.is_empty() || raw.len() > Self::MAX_GOALS {
            return Err(DomainError::invalid(
                "goals",
                format!(
                    "must list 1 to {} goals, got {}",
                    Self::MAX_GOALS,
                    raw.len()
                ),
            ));
        }
        let goals = raw
            .iter()
            .map(|goal| MentorshipGoal::parse(goal))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, goal) in goals.iter().enumerate() {
            if goals[..i].contains(goal) {
                return Err(DomainError::invalid(
                    "goals",
                    format!("{:?} is listed twice", goal.as_str()),
                ));
            }
        }
        Ok(Self(goals))
    }

    pub fn goals(&self) -> &[MentorshipGoal] {
        &self.0
    }
}

word_enum!(
    /// Where a mentorship is: `proposed` → `active` → `completed`, and `cancelled` from either
    /// of the first two.
    MentorshipStatus, "status" {
        Proposed = "proposed",
        Active = "active",
        Completed = "completed",
        Cancelled = "cancelled",
    }
);

impl MentorshipStatus {
    /// Whether a mentorship may go from `self` to `to`: proposed to active or cancelled, active
    /// to completed or cancelled; completed and cancelled are final.
    pub const fn can_become(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Proposed, Self::Active | Self::Cancelled)
                | (Self::Active, Self::Completed | Self::Cancelled)
        )
    }

    /// The statuses a mentorship may go to `to` from.
    pub fn sources_of(to: Self) -> Vec<Self> {
        Self::ALL
            .iter()
            .copied()
            .filter(|from| from.can_become(to))
            .collect()
    }

    /// Whether the mentorship has ended (completed or cancelled).
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }
}

/// A mentorship to propose: a mentor and a different mentee, and what they aim at.
#[derive(Debug, Clone)]
pub struct NewMentorship {
    mentor: Participant,
    mentee: Participant,
    goals: MentorshipGoals,
}

impl NewMentorship {
    pub fn new(
        mentor: Participant,
        mentee: Participant,
        goals: MentorshipGoals,
    ) -> Result<Self, DomainError> {
        if mentor == mentee {
            return Err(DomainError::invalid(
                "mentee",
                "must be someone other than the mentor",
            ));
        }
        Ok(Self {
            mentor,
            mentee,
            goals,
        })
    }

    pub fn mentor(&self) -> Participant {
        self.mentor
    }

    pub fn mentee(&self) -> Participant {
        self.mentee
    }

    pub fn goals(&self) -> &MentorshipGoals {
        &self.goals
    }
}

/// A pairing of a mentor and a mentee. `started_at` is set when it becomes active, `ended_at`
/// when it is completed or cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Mentorship {
    pub id: MentorshipId,
    pub organization_id: OrganizationId,
    pub mentor: Participant,
    pub mentee: Participant,
    pub goals: MentorshipGoals,
    pub status: MentorshipStatus,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// How far a mentee has come towards the goals, as a session judged it: 0 to 100 (percent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct MentorshipProgress(u8);

deserialize_by_parse!(MentorshipProgress, i64, MentorshipProgress::parse);

impl MentorshipProgress {
    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        match u8::try_from(raw) {
            Ok(value) if value <= 100 => Ok(Self(value)),
            _ => Err(DomainError::invalid(
                "progress",
                format!("must be from 0 to 100, got {raw}"),
            )),
        }
    }

    pub const fn get(self) -> u8 {
        self.0
    }
}

/// How long a session lasted: 1 to 1,440 minutes (a day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct SessionMinutes(u16);

deserialize_by_parse!(SessionMinutes, i64, SessionMinutes::parse);

impl SessionMinutes {
    pub const MAX: u16 = 1440;

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        match u16::try_from(raw) {
            Ok(value) if (1..=Self::MAX).contains(&value) => Ok(Self(value)),
            _ => Err(DomainError::invalid(
                "duration_minutes",
                format!("must be from 1 to {}, got {raw}", Self::MAX),
            )),
        }
    }

    pub const fn get(self) -> u16 {
        self.0
    }
}

/// A session to record on an active mentorship.
#[derive(Debug, Clone)]
pub struct NewMentorshipSession {
    pub held_at: DateTime<Utc>,
    pub duration: SessionMinutes,
    pub notes: Description,
    pub progress: MentorshipProgress,
}

/// A session held: when, how long, its notes and the progress it judged; `recorded_by` is
/// the actor that recorded it (`user:<id>`, `agent:<id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MentorshipSession {
    pub id: MentorshipSessionId,
    pub organization_id: OrganizationId,
    pub mentorship_id: MentorshipId,
    pub held_at: DateTime<Utc>,
    pub duration_minutes: u16,
    pub notes: Description,
    pub progress: u8,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A mentor's mentorships, counted by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MentorshipCounts {
    pub proposed: i64,
    pub active: i64,
    pub completed: i64,
    pub cancelled: i64,
}

impl MentorshipCounts {
    /// Adds `count` mentorships of `status`.
    pub fn add(&mut self, status: MentorshipStatus, count: i64) {
        let slot = match status {
            MentorshipStatus::Proposed => &mut self.proposed,
            MentorshipStatus::Active => &mut self.active,
            MentorshipStatus::Completed => &mut self.completed,
            MentorshipStatus::Cancelled => &mut self.cancelled,
        };
        *slot += count;
    }
}

/// What a mentor has done: its mentorships by status, the sessions held in them and their
/// minutes, and the mean over its mentees of each mentee's latest progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MentorStats {
    pub mentor: Participant,
    pub mentorships: MentorshipCounts,
    pub sessions: i64,
    pub total_minutes: i64,
    /// Mentees with at least one session.
    pub mentees_with_sessions: i64,
    /// The mean, over those mentees, of the progress of each one's latest session (by
    /// `held_at`, then the order recorded), to two decimals; `None` without a session.
    pub mean_latest_progress: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentId, UserId};

    #[test]
    fn transitions_follow_the_lifecycle() {
        use MentorshipStatus::*;
        assert!(Proposed.can_become(Active));
        assert!(Proposed.can_become(Cancelled));
        assert!(Active.can_become(Completed));
        assert!(Active.can_become(Cancelled));
        assert!(!Proposed.can_become(Completed));
        assert!(!Active.can_become(Active));
        assert!(!Completed.can_become(Active));
        assert!(!Cancelled.can_become(Proposed));
        assert_eq!(MentorshipStatus::sources_of(Cancelled), [Proposed, Active]);
        assert!(Completed.is_final() && !Active.is_final());
    }

    #[test]
    fn a_mentorship_needs_two_people_and_goals() {
        let goals = MentorshipGoals::parse(&["ship a release".to_owned()]);
        let Ok(goals) = goals else {
            panic!("goals: {goals:?}");
        };
        let agent = Participant::Agent(AgentId::new());
        assert!(NewMentorship::new(agent, agent, goals.clone()).is_err());
        assert!(NewMentorship::new(agent, Participant::User(UserId::new()), goals).is_ok());
        assert!(MentorshipGoals::parse(&[]).is_err());
        assert!(MentorshipGoals::parse(&["a".to_owned(), " a ".to_owned()]).is_err());
        assert!(MentorshipGoals::parse(&vec!["g".to_owned(); 21]).is_err());
        assert!(MentorshipGoals::parse(&[" ".to_owned()]).is_err());
    }

    #[test]
    fn sessions_are_bounded() {
        assert!(MentorshipProgress::parse(101).is_err());
        assert!(MentorshipProgress::parse(-1).is_err());
        assert_eq!(
            MentorshipProgress::parse(100).map(MentorshipProgress::get),
            Ok(100)
        );
        assert!(SessionMinutes::parse(0).is_err());
        assert!(SessionMinutes::parse(1441).is_err());
        assert_eq!(SessionMinutes::parse(45).map(SessionMinutes::get), Ok(45));
    }
}
