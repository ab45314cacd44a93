use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::points::short_text;
use super::ranks::word_enum;
use crate::{
    BrainstormId, BrainstormIdeaId, Description, DomainError, OrganizationId, Participant,
    ProjectId,
};

short_text!(
    /// What a brainstorm is about: 1 to 200 characters, trimmed.
    BrainstormTopic, "topic", 200
);
short_text!(
    /// An idea put to a brainstorm: 1 to 2,000 characters, trimmed.
    IdeaText, "text", 2000
);

word_enum!(
    /// Whether a brainstorm still takes ideas and votes.
    BrainstormStatus, "status" {
        Open = "open",
        /// Closed for good: its ideas and votes stay as they were.
        Closed = "closed",
    }
);

/// A brainstorm to open.
#[derive(Debug, Clone)]
pub struct NewBrainstorm {
    pub topic: BrainstormTopic,
    pub description: Description,
    /// Who leads it: an agent or a user of the organization.
    pub facilitator: Participant,
    pub project_id: Option<ProjectId>,
}

/// A brainstorming session: open until it is closed, once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Brainstorm {
    pub id: BrainstormId,
    pub organization_id: OrganizationId,
    pub topic: BrainstormTopic,
    pub description: Description,
    pub facilitator: Participant,
    pub project_id: Option<ProjectId>,
    pub status: BrainstormStatus,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// An idea to add to an open brainstorm.
#[derive(Debug, Clone)]
pub struct NewIdea {
    pub author: Participant,
    pub text: IdeaText,
}

/// An idea of a brainstorm, with the number of votes it holds (kept with the votes, in the
/// transaction of each vote and withdrawal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BrainstormIdea {
    pub id: BrainstormIdeaId,
    pub organization_id: OrganizationId,
    pub brainstorm_id: BrainstormId,
    pub author: Participant,
    pub text: IdeaText,
    pub votes: i64,
    pub created_at: DateTime<Utc>,
}

/// What a brainstorm gathered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BrainstormStats {
    pub brainstorm_id: BrainstormId,
    pub ideas: i64,
    /// Distinct agents and users that put an idea or cast a vote.
    pub participants: i64,
    pub votes: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_ideas_are_bounded_and_statuses_named() {
        assert!(BrainstormTopic::parse(" ").is_err());
        assert!(BrainstormTopic::parse(&"t".repeat(201)).is_err());
        assert_eq!(
            BrainstormTopic::parse("  naming  ").map(|t| t.to_string()),
            Ok("naming".to_owned())
        );
        assert!(IdeaText::parse(&"i".repeat(2001)).is_err());
        assert!(IdeaText::parse("a\u{7}b").is_err());
        assert_eq!("closed".parse(), Ok(BrainstormStatus::Closed));
        assert!("done".parse::<BrainstormStatus>().is_err());
    }
}
