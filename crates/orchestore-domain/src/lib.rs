//! Orchestore's domain: ids, constrained values, entities and their state machines.
//!
//! Every value here is valid once it exists: constrained types keep their field private and
//! are built through `parse`, so the layers above never re-check them. Nothing in this crate
//! knows about a database, an async runtime or HTTP.

#[macro_use]
mod wire;

mod agents;
mod analytics;
mod collaboration;
mod error;
mod graph;
mod ids;
mod json;
mod knowledge;
mod marketplace;
mod messaging;
mod observability;
mod retention;
mod schema;
mod templates;
mod tenancy;
mod values;
mod work;
mod workflows;

pub use agents::{
    Agent, AgentKind, AgentPatch, AgentStats, AgentStatus, ModelName, NewAgent, ProviderName,
    agent_capabilities,
};
pub use analytics::{
    AnalyticsReport, AnalyticsWindow, DurationStats, Outcomes, TaskKindAnalytics,
    TemplateAnalytics, WorkflowAnalytics, WorkflowDaily, WorkflowDay,
};
pub use collaboration::{
    Achievement, AchievementCode, AchievementDefinition, AchievementDescription, AchievementName,
    AchievementPoints, Appeal, AppealDecision, AppealOutcome, AppealStatus, BadgeName, Brainstorm,
    BrainstormIdea, BrainstormStats, BrainstormStatus, BrainstormTopic, EffectivePermissions,
    Evidence, GrantStatus, HallOfFameEntry, HallOfFameTop, HolderSanctions, HolderSummary,
    IdeaText, LeaderboardSnapshot, LeaderboardWeights, MentorStats, Mentorship, MentorshipCounts,
    MentorshipGoal, MentorshipGoals, MentorshipProgress, MentorshipSession, MentorshipStatus,
    NewAchievement, NewAchievementDefinition, NewAppeal, NewBrainstorm, NewIdea, NewMentorship,
    NewMentorshipSession, NewPenalty, NewReward, NewViolation, Penalty, PenaltyAction, PenaltyKind,
    PenaltyStatus, PenaltyValue, PermissionGrant, PermissionPeriod, Redemption, Reward, RewardKind,
    RewardStatus, RewardValue, RuleName, SCHEDULED_BOARDS, SNAPSHOT_SIZE, SanctionReason,
    SanctionsSummary, SessionMinutes, Severity, SnapshotBoard, SnapshotTrigger, Violation, counted,
    overall_from_key, reputation_epoch, reputation_key_scale, reputation_key_weight,
};
pub use collaboration::{
    Challenge, EloSettings, LeaderboardEntry, LeaderboardKind, LeaderboardPeriod, Level,
    LevelThreshold, LevelThresholds, Match, MatchStatus, MatchSubject, NewMatch, NewPointAward,
    Placements, PointAmount, PointAward, PointReason, PointSource, RankSettings, RatingChange,
    Standing, elo_changes, expected_score,
};
pub use collaboration::{
    ClosedBy, Eligibility, NewProposal, OptionLabel, OptionTally, Proposal, ProposalBody,
    ProposalChoices, ProposalKind, ProposalResult, ProposalSchedule, ProposalStatus, ProposalTitle,
    Quorum, Threshold, Vote, decide,
};
pub use collaboration::{
    HALF_LIFE_DAYS, NewReputationEvent, Reputation, ReputationDelta, ReputationDimension,
    ReputationEvent, ReputationReason, decayed,
};
pub use error::DomainError;
pub use graph::{check_new_edge, find_cycle, would_close_cycle};
pub use ids::ProposalId;
pub use ids::RateLimitId;
pub use ids::ScheduleId;
pub use ids::{AchievementDefinitionId, AchievementId, LeaderboardSnapshotId};
pub use ids::{
    AgentId, AlertId, ApiKeyId, AuditLogId, CommunicationId, ComponentHealthId, ComponentId,
    EventId, ExecutionStepId, InvitationId, KnowledgeCollectionId, KnowledgeEntryId,
    LearningRecordId, MarketplaceInstallId, MarketplaceItemId, MatchId, MessageId, MetricSampleId,
    OrganizationId, PointAwardId, ProjectId, ReputationEventId, RoleId, SessionId, TaskEventId,
    TaskId, TemplateId, TemplateUsageId, ThreadId, UserId, WorkflowExecutionId, WorkflowId,
    WorkflowVersionId, WorkflowWaitId,
};
pub use ids::{AppealId, PenaltyId, PermissionGrantId, RewardId, ViolationId};
pub use ids::{BrainstormId, BrainstormIdeaId, MentorshipId, MentorshipSessionId};
pub use json::canonical_json;
pub use knowledge::{
    CollectionName, Dimension, Embedding, EntryContent, EntrySource, EntryTitle, Fused,
    HIGHLIGHT_END, HIGHLIGHT_START, KnowledgeCollection, KnowledgeEntry, KnowledgeEntryPatch,
    MARK_CLOSE, MARK_OPEN, NewKnowledgeCollection, NewKnowledgeEntry, RRF_K, SearchLimit,
    TextQuery, TopK, cosine_similarity, highlighted, reciprocal_rank_fusion,
};
pub use marketplace::{
    InstalledCopy, MarketplaceContent, MarketplaceInstall, MarketplaceItem, MarketplaceKind,
    MarketplaceSource, NewMarketplaceItem,
};
pub use messaging::{
    Message, MessageContent, MessageIds, NewMessage, Participant, ParticipantKind,
};
pub use observability::{
    Alert, AlertMessage, AlertSeverity, AlertStatus, Bucket, Communication, CommunicationKind,
    Component, ComponentHealth, ComponentKind, ComponentPatch, ComponentStatus, ComponentVersion,
    CorrelationId, Endpoint, Event, EventKind, Fingerprint, HealthCheck, HealthStatus, Measure,
    MetricBucket, MetricName, MetricQuery, MetricTags, MetricUnit, NewAlert, NewCommunication,
    NewComponent, NewEvent, NewHealthCheck, NewMetricSample, Outcome, Raised, Records, ResourceUse,
    SourceName, p95_between, p95_ranks, percentile_95,
};
pub use retention::{PurgeBatch, RetentionAge, RetentionPolicy, RetentionRules, RetentionTarget};
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
    Capabilities, Capability, Description, Email, Metadata, Name, Payload, Priority, Revised,
    Revision, Slug, Tags, Title,
};
pub use work::{
    Backoff, BatchFault, BatchTask, CapabilityDepth, ClaimLimit, ClaimRequest, ClaimWait,
    ClaimedTask, Completion, Completions, Effort, Enqueued, IdempotencyKey, LeaseDuration,
    LeaseToken, MaxAttempts, NewProject, NewTask, PriorityCount, Progress, Project, ProjectPatch,
    QueueDepth, QueueStats, RunTimeStats, Task, TaskEvent, TaskPatch, TaskStats, TaskStatus,
    Throughput, parse_repository_url,
};
pub use work::{ConcurrencyKey, ConcurrencyLimit, ConcurrencyStrategy, TaskConcurrency};
pub use work::{
    CronSchedule, FiringPlan, MAX_UPCOMING, MISFIRE_GRACE, MisfirePolicy, NewSchedule, Schedule,
    ScheduleFiring, ScheduleOutcome, SchedulePatch, ScheduleTarget, ScheduledTask,
    ScheduledWorkflow, TimeZone, occurrence_key,
};
pub use work::{
    ExternalKey, ImportAction, ImportOutcome, ImportReport, ImportedStatus, ImportedTask,
    MissingTask, TaskImport,
};
pub use work::{FairnessKey, FairnessWeight, TaskFairness};
pub use work::{
    NewRateLimit, RateLimit, RateLimitName, RateLimitPatch, RateLimitUse, RateLimitUses,
    RawRateLimitUse, RefillPeriod, TokenBucket, TokenCount,
};
pub use work::{QueueShare, QueueShareWeight, SharedClaim, SharedClaimRequest};
pub use workflows::{
    ByteCount, ContextFilter, ContextValue, ExecutionStatus, ExecutionStep, ExecutionTask,
    LearningOutcome, LearningRecord, NewExecutionStep, NewLearningRecord, NewWorkflow,
    NewWorkflowExecution, OperationName, Pattern, PatternPrefix, PatternQuery, Score, StepName,
    StepOutcome, StepTasks, StepTiming, Workflow, WorkflowDefinition, WorkflowExecution,
    WorkflowPatch, WorkflowStep, WorkflowVersion, WorkflowVersionRef,
};
pub use workflows::{SignalName, StepWait, WaitStatus, WorkflowWait};
