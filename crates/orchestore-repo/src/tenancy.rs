//! Organizations, users, roles and sessions.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    Email, NewOrganization, NewUser, Organization, Password, Permission, SessionId, Slug, User,
    UserId,
};

use crate::{Ctx, RepoResult};

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
/// An e-mail address is unique within one organization; the same address in another
/// organization is another user, and nothing about it shows here.
#[async_trait::async_trait]
pub trait UserRepo: Send + Sync {
    /// Creates a user with the given system roles. An e-mail taken in this organization is
    /// `Conflict`.
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
/// an organization and an e-mail, a refresh only a token) and produce one; every other method
/// is tenant-scoped.
#[async_trait::async_trait]
pub trait AuthRepo: Send + Sync {
    /// How many users exist across all organizations: zero means the server must bootstrap.
    async fn count_users(&self) -> RepoResult<u64>;
    /// The active user of `organization` with this e-mail, when `password` matches their hash.
    /// An unknown organization or e-mail costs the same bcrypt work as a known one, so timing
    /// tells nothing; the hash itself never leaves the store.
    async fn verify_login(
        &self,
        organization: &Slug,
        email: &Email,
        password: &Password,
    ) -> RepoResult<Option<User>>;
    /// Records a session whose refresh token hashes to `refresh_token_hash`.
    async fn create_session(
        &self,
        ctx: &Ctx,
        user: UserId,
        refresh_token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> RepoResult<SessionId>;
    /// Revokes the live session whose token hashes to `old_hash` and opens a new one in the
    /// same transaction; the audit row carries `request_id`. An unknown, revoked or expired
    /// token is `NotFound`.
    async fn rotate_session(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        request_id: Option<&str>,
    ) -> RepoResult<SessionGrant>;
    /// Revokes the session whose token hashes to `refresh_token_hash`, if it belongs to the
    /// context's user.
    async fn revoke_session(&self, ctx: &Ctx, refresh_token_hash: &str) -> RepoResult<()>;
    /// The instance-wide setting `key`, storing `generated` first when it is unset. Concurrent
    /// callers all get the value that was stored first.
    async fn instance_setting_or_insert(&self, key: &str, generated: &str) -> RepoResult<String>;
}
