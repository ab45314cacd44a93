//! Orchestore's repository layer: the traits every backend implements, the [`Store`] that
//! bundles them, the [`Ctx`] each call runs in, pagination, and [`RepoError`].
//!
//! One module per aggregate, named as in every other crate: [`tenancy`], [`work`],
//! [`agents`], [`messaging`], [`knowledge`], [`marketplace`], [`workflows`], [`templates`], [`observability`], [`analytics`]. The traits name
//! no ORM type; `orchestore-sea` implements them for SQLite and PostgreSQL. They work
//! generically (`S: Store + ?Sized`) and as `Arc<dyn Store>`.

pub mod agents;
pub mod analytics;
pub mod collaboration;
mod ctx;
mod database;
mod error;
pub mod idempotency;
pub mod knowledge;
pub mod marketplace;
pub mod messaging;
pub mod observability;
mod page;
pub mod retention;
mod store;
pub mod templates;
pub mod tenancy;
pub mod work;
pub mod workflows;

pub use agents::{AgentFilter, AgentRepo, AgentSort};
pub use analytics::AnalyticsRepo;
pub use collaboration::{
    AchievementDefinitionSort, AchievementRepo, AppealFilter, BoardRepo, BrainstormFilter,
    BrainstormIdeaSort, BrainstormRepo, BrainstormSort, HallOfFameQuery, MentorshipFilter,
    MentorshipRepo, MentorshipSessionSort, MentorshipSort, PenaltyFilter, PenaltyRepo, Redeemer,
    RewardFilter, RewardRepo, RewardSort, SanctionSort, SnapshotFilter, SnapshotSort,
    SweptSanctions, ViolationFilter,
};
pub use collaboration::{FedOutcomes, FeedRound, MAX_FEED_BATCH, feed_every_organization};
pub use collaboration::{
    LeaderboardQuery, MatchRepo, PointAwardFilter, PointAwardSort, PointsRepo, RankRepo,
    RatingHistorySort, ReputationEventSort, ReputationRepo,
};
pub use collaboration::{ProposalFilter, ProposalRepo, ProposalSort, VoteSort};
pub use ctx::{Actor, Credential, Ctx};
pub use database::{DatabaseStatus, PoolStatus, StatementTiming, TableSize};
pub use error::{Cause, RepoError, RepoResult};
pub use idempotency::{
    IdempotencyRepo, IdempotencyWindow, IdempotentStart, RequestFingerprint, StoredResponse,
};
pub use knowledge::{
    Highlight, KnowledgeCollectionSort, KnowledgeEntrySort, KnowledgeFilter, KnowledgeHit,
    KnowledgeRepo, KnowledgeSearch, SearchMode,
};
pub use marketplace::{
    Installation, MarketplaceFilter, MarketplaceHit, MarketplaceInstallSort, MarketplaceItemSort,
    MarketplaceRepo,
};
pub use messaging::{MarkRead, MessageFilter, MessageRepo, MessageSort};
pub use observability::{
    AlertFilter, AlertRepo, AlertSort, AuditBacklog, AuditEntry, AuditFilter, AuditRepo, AuditSort,
    ChainBreak, ChainHead, ChainReport, CommunicationFilter, CommunicationSort, ComponentFilter,
    ComponentRepo, ComponentSort, EventFilter, EventRepo, EventSort, HealthFilter, HealthSort,
    MetricRepo, SealOutcome,
};
pub use page::{Cursor, Limit, ListSort, Page, PageRequest};
pub use retention::{PurgedRows, RetentionRepo, RetentionReport};
pub use store::{Backend, Store, StoreHealth, StoreTransaction, transaction};
pub use templates::{
    TemplateFilter, TemplateRepo, TemplateSort, TemplateUsageSort, WorkflowTarget,
};
pub use tenancy::{
    ApiKeyGrant, ApiKeyRepo, ApiKeySort, AuthRepo, InvitationAcceptance, InvitationRepo,
    InvitationSort, NewInvitation, NewSession, OrganizationRepo, RoleRepo, RoleSort, SessionGrant,
    SessionSort, SessionStanding, UserFilter, UserRepo, UserSort,
};
pub use work::SharedQueueRepo;
pub use work::{CancelledDescendants, TaskCancellation};
pub use work::{
    DependencySort, DependentSort, ExpiredLeases, ProjectRepo, ProjectSort, QueueRepo, Retry,
    TaskEventSort, TaskFilter, TaskGraphRepo, TaskRepo, TaskSort, TaskStatsScope,
};
pub use work::{RateLimitRepo, RateLimitSort, ScheduleFilter, ScheduleRepo, ScheduleSort};
pub use workflows::{
    ExecutionFilter, ExecutionSort, ExecutionStepFilter, ExecutionStepRepo, ExecutionStepSort,
    ExecutionTaskSort, LearningFilter, LearningRepo, LearningSort, WaitRepo, WorkflowRepo,
    WorkflowSort, WorkflowVersionSort,
};

pub use async_trait::async_trait;

/// Not part of the API: what [`list_sort!`] expands to needs these paths.
#[doc(hidden)]
pub mod __private {
    pub use orchestore_domain::DomainError;
    pub use utoipa;
}
