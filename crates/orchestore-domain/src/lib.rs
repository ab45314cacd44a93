//! Orchestore's domain: ids, constrained values, entities and their state machines.
//!
//! Every value here is valid once it exists: constrained types keep their field private and
//! are built through `parse`, so the layers above never re-check them. Nothing in this crate
//! knows about a database, an async runtime or HTTP.

mod agents;
mod collaboration;
mod error;
mod graph;
mod ids;
mod json;
mod messaging;
mod templates;
mod tenancy;
mod values;
mod work;
mod workflows;

pub use agents::{
    Agent, AgentKind, AgentPatch, AgentStats, AgentStatus, ModelName, NewAgent, ProviderName,
    agent_capabilities,
};
pub use collaboration::{
    Challenge, EloSettings, LeaderboardEntry, LeaderboardKind, LeaderboardPeriod, Level,
    LevelThreshold, LevelThresholds, Match, MatchStatus, MatchSubject, NewMatch, NewPointAward,
    Placements, PointAmount, PointAward, PointReason, PointSource, RankSettings, RatingChange,
    Standing, elo_changes, expected_score,
};
pub use collaboration::{
    HALF_LIFE_DAYS, NewReputationEvent, Reputation, ReputationDelta, ReputationDimension,
    ReputationEvent, ReputationReason, decayed,
};
pub use error::DomainError;
pub use graph::{check_new_edge, find_cycle, would_close_cycle};
pub use ids::{
    AgentId, ApiKeyId, AuditLogId, InvitationId, MatchId, MessageId, OrganizationId, PointAwardId,
    ProjectId, ReputationEventId, RoleId, SessionId, TaskEventId, TaskId, TemplateId,
    TemplateUsageId, ThreadId, UserId, WorkflowExecutionId, WorkflowId, WorkflowVersionId,
};
pub use json::canonical_json;
pub use messaging::{
    Message, MessageContent, MessageIds, NewMessage, Participant, ParticipantKind,
};
pub use templates::{
    Instantiated, NewTemplate, ParameterName, TaskSpec, Template, TemplateBody, TemplateKind,
    TemplateParameter, TemplateParameters, TemplatePatch, TemplateUsage,
};
pub use tenancy::{
    ApiKey, ApiKeySecret, ClientInfo, Invitation, InvitationToken, IssuedApiKey, IssuedInvitation,
    KeyExpiry, KeyOwner, KeyScopes, NewApiKey, NewOrganization, NewRole, NewUser, Organization,
    Password, PasswordHash, Permission, Role, RoleCode, RolePatch, Session, SystemRole, User,
    UserAgent, UserPatch, Username,
};
pub use values::{
    Capabilities, Capability, Description, Email, Metadata, Name, Payload, Priority, Slug, Tags,
    Title,
};
pub use work::{
    Backoff, BatchFault, BatchTask, CapabilityDepth, ClaimLimit, ClaimRequest, ClaimWait,
    ClaimedTask, Completion, Completions, Effort, Enqueued, IdempotencyKey, LeaseDuration,
    LeaseToken, MaxAttempts, NewProject, NewTask, PriorityCount, Progress, Project, ProjectPatch,
    QueueStats, RunTimeStats, Task, TaskEvent, TaskPatch, TaskStats, TaskStatus, Throughput,
    parse_repository_url,
};
pub use workflows::{
    ExecutionStatus, ExecutionTask, NewWorkflow, NewWorkflowExecution, StepName, StepTasks,
    Workflow, WorkflowDefinition, WorkflowExecution, WorkflowPatch, WorkflowStep, WorkflowVersion,
    WorkflowVersionRef,
};
