//! [`Store`]: every repository of one backend, and transactions across them.

use serde::{Deserialize, Serialize};

use crate::RepoResult;
use crate::agents::AgentRepo;
use crate::analytics::AnalyticsRepo;
use crate::collaboration::{
    AchievementRepo, BoardRepo, BrainstormRepo, MatchRepo, MentorshipRepo, PenaltyRepo, PointsRepo,
    ProposalRepo, RankRepo, ReputationRepo, RewardRepo,
};
use crate::database::{DatabaseStatus, PoolStatus};
use crate::idempotency::IdempotencyRepo;
use crate::knowledge::KnowledgeRepo;
use crate::marketplace::MarketplaceRepo;
use crate::messaging::MessageRepo;
use crate::observability::{AlertRepo, AuditRepo, ComponentRepo, EventRepo, MetricRepo};
use crate::retention::RetentionRepo;
use crate::templates::TemplateRepo;
use crate::tenancy::{ApiKeyRepo, AuthRepo, InvitationRepo, OrganizationRepo, RoleRepo, UserRepo};
use crate::work::{
    ProjectRepo, QueueRepo, RateLimitRepo, ScheduleRepo, SharedQueueRepo, TaskGraphRepo, TaskRepo,
};
use crate::workflows::{ExecutionStepRepo, LearningRepo, WaitRepo, WorkflowRepo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What `/health/ready` reports.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoreHealth {
    pub backend: Backend,
    /// Migrations this build knows that the database has not applied.
    pub pending_migrations: Vec<String>,
    pub pool_connections: u32,
    pub pool_idle: u32,
}

/// Every repository of one backend. Use it generically (`S: Store + ?Sized`) or as
/// `Arc<dyn Store>`; a generic function called with an `Arc<dyn Store>` takes `&*store`.
///
/// Adding a repository: add its trait to this list; the backend implements it.
#[async_trait::async_trait]
pub trait Store:
    OrganizationRepo
    + UserRepo
    + RoleRepo
    + AuthRepo
    + InvitationRepo
    + ApiKeyRepo
    + ProjectRepo
    + TaskRepo
    + TaskGraphRepo
    + QueueRepo
    + AgentRepo
    + MessageRepo
    + WorkflowRepo
    + ExecutionStepRepo
    + LearningRepo
    + AnalyticsRepo
    + TemplateRepo
    + KnowledgeRepo
    + MarketplaceRepo
    + AuditRepo
    + EventRepo
    + ComponentRepo
    + MetricRepo
    + AlertRepo
    + PointsRepo
    + MatchRepo
    + RankRepo
    + ReputationRepo
    + RewardRepo
    + PenaltyRepo
    + BrainstormRepo
    + MentorshipRepo
    + ProposalRepo
    + AchievementRepo
    + BoardRepo
    + RetentionRepo
    + ScheduleRepo
    + IdempotencyRepo
    + WaitRepo
    + SharedQueueRepo
    + RateLimitRepo
    + Send
    + Sync
{
    fn backend(&self) -> Backend;
    /// Reaches the database and reads the migration state.
    async fn health(&self) -> RepoResult<StoreHealth>;
    /// The database as this process sees it: its server's version, the pool, the slowest
    /// statements this process ran and the size of each table. Instance-wide: it names no
    /// organization's rows, but is for the instance's operators.
    async fn database_status(&self) -> RepoResult<DatabaseStatus>;
    /// This process's connection pool now, without asking the database: what the server's
    /// `/metrics` samples at every scrape.
    fn pool_status(&self) -> PoolStatus;
    /// Opens a transaction over every repository. Calls through it see each other's writes
    /// and become visible to others at [`StoreTransaction::commit`]; dropping it without a
    /// commit rolls everything back. Each call inside stays atomic on its own (a savepoint),
    /// so a refused call leaves the transaction usable.
    ///
    /// While it is open, use only the transaction: on SQLite it holds the database's write
    /// lock, and a call through the store would wait for it.
    async fn begin(&self) -> RepoResult<Box<dyn StoreTransaction>>;
}

/// A [`Store`] inside one database transaction.
#[async_trait::async_trait]
pub trait StoreTransaction: Store {
    async fn commit(self: Box<Self>) -> RepoResult<()>;
    async fn rollback(self: Box<Self>) -> RepoResult<()>;
}

/// Runs `work` in one transaction over the whole store: it commits when `work` returns `Ok`
/// and rolls back when it returns `Err`, so either every write lands or none does.
///
/// ```no_run
/// # async fn demo(store: &dyn orchestore_repo::Store, ctx: &orchestore_repo::Ctx,
/// #     project: orchestore_domain::NewProject, title: orchestore_domain::Title)
/// #     -> orchestore_repo::RepoResult<()> {
/// use orchestore_domain::NewTask;
/// let (project, task) = orchestore_repo::transaction(store, async |tx| {
///     let project = tx.create_project(ctx, project).await?;
///     let task = tx.create_task(ctx, NewTask::titled(project.id, title)).await?;
///     Ok((project, task))
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn transaction<S, T, F>(store: &S, work: F) -> RepoResult<T>
where
    S: Store + ?Sized,
    F: for<'t> AsyncFnOnce(&'t dyn StoreTransaction) -> RepoResult<T>,
{
    let tx = store.begin().await?;
    match work(tx.as_ref()).await {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(err) => {
            // The work's error is the one to report; a failed rollback ends the transaction
            // all the same when the connection drops it.
            let _ = tx.rollback().await;
            Err(err)
        }
    }
}
