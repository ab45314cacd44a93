use std::sync::Arc;

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AuditLogId, Email, NewOrganization, NewProject, NewTask, NewUser, Organization, OrganizationId,
    Password, Permission, Project, ProjectId, ProjectPatch, SessionId, Task, TaskId, TaskPatch,
    TaskStatus, User, UserId,
};
use serde::Serialize;

use crate::{Ctx, Page, PageRequest, RepoResult};

/// Organizations. `create_organization` creates the organization whose id is `ctx.org()`, so
/// that a caller can build the context before the tenant exists.
#[async_trait::async_trait]
pub trait OrganizationRepo: Send + Sync {
    async fn create_organization(
        &self,
        ctx: &Ctx,
        new: NewOrganization,
    ) -> RepoResult<Organization>;
    /// Creates the organization and its first user in one transaction: both exist, or neither.
    async fn create_organization_with_owner(
        &self,
        ctx: &Ctx,
        new: NewOrganization,
        owner: NewUser,
    ) -> RepoResult<(Organization, User)>;
    async fn get_organization(&self, ctx: &Ctx) -> RepoResult<Organization>;
}

/// Users of the context's organization. The password hash goes in and never comes out.
#[async_trait::async_trait]
pub trait UserRepo: Send + Sync {
    /// Creates a user with the given system roles. A taken email is `Conflict`.
    async fn create_user(&self, ctx: &Ctx, new: NewUser) -> RepoResult<User>;
    async fn get_user(&self, ctx: &Ctx, id: UserId) -> RepoResult<User>;
    /// The union of the permissions of the user's roles, sorted by code.
    async fn user_permissions(&self, ctx: &Ctx, id: UserId) -> RepoResult<Vec<Permission>>;
}

/// What a refresh grants: a new session for this user.
#[derive(Debug, Clone)]
pub struct SessionGrant {
    pub user: User,
    pub session_id: SessionId,
}

/// Authentication. These are the calls that come before a [`Ctx`] exists (a login knows only
/// an email, a refresh only a token) and produce one; every other method is tenant-scoped.
#[async_trait::async_trait]
pub trait AuthRepo: Send + Sync {
    /// How many users exist across all organizations: zero means the server must bootstrap.
    async fn count_users(&self) -> RepoResult<u64>;
    /// The active user with this email, when `password` matches their hash. An unknown email
    /// costs the same bcrypt work as a known one, so timing tells nothing; the hash itself never
    /// leaves the store.
    async fn verify_login(&self, email: &Email, password: &Password) -> RepoResult<Option<User>>;
    /// Records a session whose refresh token hashes to `refresh_token_hash`.
    async fn create_session(
        &self,
        ctx: &Ctx,
        user: UserId,
        refresh_token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> RepoResult<SessionId>;
    /// Revokes the live session whose token hashes to `old_hash` and opens a new one in the
    /// same transaction. An unknown, revoked or expired token is `NotFound`.
    async fn rotate_session(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
    ) -> RepoResult<SessionGrant>;
    /// Revokes the session whose token hashes to `refresh_token_hash`, if it belongs to the
    /// context's user.
    async fn revoke_session(&self, ctx: &Ctx, refresh_token_hash: &str) -> RepoResult<()>;
    /// The instance-wide setting `key`, storing `generated` first when it is unset. Concurrent
    /// callers all get the value that was stored first.
    async fn instance_setting_or_insert(&self, key: &str, generated: &str) -> RepoResult<String>;
}

/// Projects of the context's organization. Names are unique per organization.
#[async_trait::async_trait]
pub trait ProjectRepo: Send + Sync {
    async fn create_project(&self, ctx: &Ctx, new: NewProject) -> RepoResult<Project>;
    async fn get_project(&self, ctx: &Ctx, id: ProjectId) -> RepoResult<Project>;
    async fn list_projects(&self, ctx: &Ctx, page: PageRequest) -> RepoResult<Page<Project>>;
    async fn update_project(
        &self,
        ctx: &Ctx,
        id: ProjectId,
        patch: ProjectPatch,
    ) -> RepoResult<Project>;
    /// Deletes the project and its tasks.
    async fn delete_project(&self, ctx: &Ctx, id: ProjectId) -> RepoResult<()>;
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub project_id: Option<ProjectId>,
    pub status: Option<TaskStatus>,
}

/// Tasks of the context's organization.
#[async_trait::async_trait]
pub trait TaskRepo: Send + Sync {
    /// Creates a queued task. A project of another organization is `NotFound`.
    async fn create_task(&self, ctx: &Ctx, new: NewTask) -> RepoResult<Task>;
    async fn get_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<Task>;
    async fn list_tasks(
        &self,
        ctx: &Ctx,
        filter: TaskFilter,
        page: PageRequest,
    ) -> RepoResult<Page<Task>>;
    async fn update_task(&self, ctx: &Ctx, id: TaskId, patch: TaskPatch) -> RepoResult<Task>;
    async fn delete_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<()>;
}

/// One row of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: AuditLogId,
    pub organization_id: OrganizationId,
    /// `user:<id>` or `system`.
    pub actor: String,
    /// `<entity>.<verb>`, e.g. `task.create`.
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub changes: serde_json::Value,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Reads the audit log; rows are written by the mutations themselves.
#[async_trait::async_trait]
pub trait AuditRepo: Send + Sync {
    async fn list_audit(&self, ctx: &Ctx, page: PageRequest) -> RepoResult<Page<AuditEntry>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What `/health/ready` reports.
#[derive(Debug, Clone, Serialize)]
pub struct StoreHealth {
    pub backend: Backend,
    /// Migrations this build knows that the database has not applied.
    pub pending_migrations: Vec<String>,
    pub pool_connections: u32,
    pub pool_idle: u32,
}

/// Every repository of one backend.
#[async_trait::async_trait]
pub trait Store:
    OrganizationRepo + UserRepo + AuthRepo + ProjectRepo + TaskRepo + AuditRepo + Send + Sync
{
    fn backend(&self) -> Backend;
    /// Reaches the database and reads the migration state.
    async fn health(&self) -> RepoResult<StoreHealth>;
}

// `Arc<S>` is a store too, so `Arc<dyn Store>` can be passed wherever `S: Store` is expected.
macro_rules! forward {
    ($($trait:ident { $(fn $method:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)* })*) => {$(
        #[async_trait::async_trait]
        impl<S: $trait + ?Sized> $trait for Arc<S> {
            $(async fn $method(&self $(, $arg: $ty)*) -> $ret {
                (**self).$method($($arg),*).await
            })*
        }
    )*};
}

forward! {
    OrganizationRepo {
        fn create_organization(&self, ctx: &Ctx, new: NewOrganization) -> RepoResult<Organization>;
        fn create_organization_with_owner(&self, ctx: &Ctx, new: NewOrganization, owner: NewUser) -> RepoResult<(Organization, User)>;
        fn get_organization(&self, ctx: &Ctx) -> RepoResult<Organization>;
    }
    UserRepo {
        fn create_user(&self, ctx: &Ctx, new: NewUser) -> RepoResult<User>;
        fn get_user(&self, ctx: &Ctx, id: UserId) -> RepoResult<User>;
        fn user_permissions(&self, ctx: &Ctx, id: UserId) -> RepoResult<Vec<Permission>>;
    }
    AuthRepo {
        fn count_users(&self) -> RepoResult<u64>;
        fn verify_login(&self, email: &Email, password: &Password) -> RepoResult<Option<User>>;
        fn create_session(&self, ctx: &Ctx, user: UserId, refresh_token_hash: &str, expires_at: DateTime<Utc>) -> RepoResult<SessionId>;
        fn rotate_session(&self, old_hash: &str, new_hash: &str, new_expires_at: DateTime<Utc>) -> RepoResult<SessionGrant>;
        fn revoke_session(&self, ctx: &Ctx, refresh_token_hash: &str) -> RepoResult<()>;
        fn instance_setting_or_insert(&self, key: &str, generated: &str) -> RepoResult<String>;
    }
    ProjectRepo {
        fn create_project(&self, ctx: &Ctx, new: NewProject) -> RepoResult<Project>;
        fn get_project(&self, ctx: &Ctx, id: ProjectId) -> RepoResult<Project>;
        fn list_projects(&self, ctx: &Ctx, page: PageRequest) -> RepoResult<Page<Project>>;
        fn update_project(&self, ctx: &Ctx, id: ProjectId, patch: ProjectPatch) -> RepoResult<Project>;
        fn delete_project(&self, ctx: &Ctx, id: ProjectId) -> RepoResult<()>;
    }
    TaskRepo {
        fn create_task(&self, ctx: &Ctx, new: NewTask) -> RepoResult<Task>;
        fn get_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<Task>;
        fn list_tasks(&self, ctx: &Ctx, filter: TaskFilter, page: PageRequest) -> RepoResult<Page<Task>>;
        fn update_task(&self, ctx: &Ctx, id: TaskId, patch: TaskPatch) -> RepoResult<Task>;
        fn delete_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<()>;
    }
    AuditRepo {
        fn list_audit(&self, ctx: &Ctx, page: PageRequest) -> RepoResult<Page<AuditEntry>>;
    }
}

#[async_trait::async_trait]
impl<S: Store + ?Sized> Store for Arc<S> {
    fn backend(&self) -> Backend {
        (**self).backend()
    }

    async fn health(&self) -> RepoResult<StoreHealth> {
        (**self).health().await
    }
}
