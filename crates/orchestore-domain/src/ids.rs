use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered (UUIDv7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// An organization: the tenant every other row belongs to.
    OrganizationId
);
id_type!(UserId);
id_type!(
    /// A role: a system role every organization shares, or a custom role of one organization.
    RoleId
);
id_type!(ProjectId);
id_type!(TaskId);
id_type!(
    /// One entry of a task's state history.
    TaskEventId
);
id_type!(SessionId);
id_type!(
    /// An invitation to join an organization (its token is an
    /// [`InvitationToken`](crate::InvitationToken)).
    InvitationId
);
id_type!(AuditLogId);
id_type!(
    /// An agent: an AI model, a person or a bot that takes tasks.
    AgentId
);
id_type!(
    /// An API key of an agent or a user (the key itself is an [`ApiKeySecret`](crate::ApiKeySecret)).
    ApiKeyId
);
id_type!(MessageId);
id_type!(
    /// A conversation: messages that share it are read together.
    ThreadId
);
id_type!(WorkflowId);
id_type!(WorkflowVersionId);
id_type!(WorkflowExecutionId);
id_type!(
    /// The durable wait of a waiting step of an execution.
    WorkflowWaitId
);
id_type!(
    /// One operation in an execution's step log.
    ExecutionStepId
);
id_type!(
    /// A learning record: a pattern an agent saw, in a context, and how it turned out.
    LearningRecordId
);
id_type!(TemplateId);
id_type!(TemplateUsageId);
id_type!(
    /// An entry of the knowledge base.
    KnowledgeEntryId
);
id_type!(
    /// A collection of vectors of one dimension (one embedding model's).
    KnowledgeCollectionId
);
id_type!(
    /// An item published to the marketplace (one version of it).
    MarketplaceItemId
);
id_type!(
    /// The record of one installation of a marketplace item.
    MarketplaceInstallId
);
id_type!(
    /// An event: something that happened, as its source reported it.
    EventId
);
id_type!(
    /// A component of the system in the registry.
    ComponentId
);
id_type!(
    /// One recorded message between two components.
    CommunicationId
);
id_type!(
    /// One health check of a component.
    ComponentHealthId
);
id_type!(
    /// One metric sample.
    MetricSampleId
);
id_type!(AlertId);
id_type!(
    /// One entry of the points ledger.
    PointAwardId
);
id_type!(
    /// A rated match between agents.
    MatchId
);
id_type!(
    /// An event that moved an agent's reputation.
    ReputationEventId
);
id_type!(
    /// A reward allocated to an agent or a user.
    RewardId
);
id_type!(
    /// A permission granted for a while by a redeemed reward.
    PermissionGrantId
);
id_type!(
    /// A violation of a rule, reported against an agent or a user.
    ViolationId
);
id_type!(
    /// A penalty applied for a violation.
    PenaltyId
);
id_type!(
    /// An appeal of a penalty by the holder it was applied to.
    AppealId
);
id_type!(
    /// A brainstorming session.
    BrainstormId
);
id_type!(
    /// An idea put to a brainstorm.
    BrainstormIdeaId
);
id_type!(
    /// A pairing of a mentor and a mentee.
    MentorshipId
);
id_type!(
    /// A session held in a mentorship.
    MentorshipSessionId
);
id_type!(
    /// A proposal put to a vote.
    ProposalId
);
id_type!(
    /// An achievement an organization can award.
    AchievementDefinitionId
);
id_type!(
    /// An achievement awarded to an agent or a user.
    AchievementId
);
id_type!(
    /// A leaderboard as it stood at one instant.
    LeaderboardSnapshotId
);
id_type!(
    /// A schedule: a cron pattern that enqueues a task or starts a workflow.
    ScheduleId
);
id_type!(
    /// A rate limit: a named token bucket that tasks consume.
    RateLimitId
);
