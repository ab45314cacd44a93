//! Orchestore's repository layer: the traits every backend implements, the [`Store`] that
//! bundles them, the [`Ctx`] each call runs in, pagination, and [`RepoError`].
//!
//! One module per aggregate, named as in every other crate: [`tenancy`], [`work`],
//! [`agents`], [`messaging`], [`workflows`], [`templates`], [`observability`]. The traits name
//! no ORM type; `orchestore-sea` implements them for SQLite and PostgreSQL. They work
//! generically (`S: Store + ?Sized`) and as `Arc<dyn Store>`.

pub mod agents;
pub mod collaboration;
mod ctx;
mod error;
pub mod messaging;
pub mod observability;
mod page;
mod store;
pub mod templates;
pub mod tenancy;
pub mod work;
pub mod workflows;

pub use agents::{AgentFilter, AgentRepo, AgentSort};
pub use collaboration::{
    LeaderboardQuery, MatchRepo, PointAwardFilter, PointAwardSort, PointsRepo, RankRepo,
    RatingHistorySort, ReputationEventSort, ReputationRepo,
};
pub use ctx::{Actor, Credential, Ctx};
pub use error::{Cause, RepoError, RepoResult};
pub use messaging::{MarkRead, MessageFilter, MessageRepo, MessageSort};
pub use observability::{
    AuditEntry, AuditFilter, AuditRepo, AuditSort, ChainBreak, ChainHead, ChainReport, SealOutcome,
};
pub use page::{Cursor, Limit, ListSort, Page, PageRequest};
pub use store::{Backend, Store, StoreHealth, StoreTransaction, transaction};
pub use templates::{
    TemplateFilter, TemplateRepo, TemplateSort, TemplateUsageSort, WorkflowTarget,
};
pub use tenancy::{
    ApiKeyGrant, ApiKeyRepo, ApiKeySort, AuthRepo, InvitationAcceptance, InvitationRepo,
    InvitationSort, NewInvitation, NewSession, OrganizationRepo, RoleRepo, RoleSort, SessionGrant,
    SessionStanding, UserFilter, UserRepo, UserSort,
};
pub use work::{
    DependencySort, DependentSort, ExpiredLeases, ProjectRepo, ProjectSort, QueueRepo, Retry,
    TaskEventSort, TaskFilter, TaskGraphRepo, TaskRepo, TaskSort, TaskStatsScope,
};
pub use workflows::{
    ExecutionFilter, ExecutionSort, ExecutionTaskSort, WorkflowRepo, WorkflowSort,
    WorkflowVersionSort,
};

pub use async_trait::async_trait;

/// Not part of the API: what [`list_sort!`] expands to needs these paths.
#[doc(hidden)]
pub mod __private {
    pub use orchestore_domain::DomainError;
}
