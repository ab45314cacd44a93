//! Organizations, users, roles and sessions.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    Email, NewOrganization, NewRole, NewUser, Organization, Password, Permission, Role, RoleCode,
    RoleId, RolePatch, SessionId, Slug, User, UserId, UserPatch, Username,
};

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

crate::list_sort! {
    /// The orders of the user list.
    pub enum UserSort for "users" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
        /// By e-mail address, A to Z.
        Email = "email",
    }
}

/// Which users a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub active: Option<bool>,
    /// Users who hold this role.
    pub role: Option<RoleId>,
}

/// Users of the context's organization and the roles they hold. The password hash goes in
/// and never comes out. An e-mail address, and a username, is unique within one organization;
/// the same address in another organization is another user, and nothing about it shows here.
///
/// Every organization keeps at least one active owner: deactivating the last one, or taking
/// the owner role from them, is a `Conflict`.
#[async_trait::async_trait]
pub trait UserRepo: Send + Sync {
    /// Creates a user with the roles named by code (system roles, or custom roles of this
    /// organization). A taken e-mail or username is `Conflict` on that field; an unknown role
    /// code is `Reference` on `roles`.
    async fn create_user(&self, ctx: &Ctx, new: NewUser) -> RepoResult<User>;
    async fn get_user(&self, ctx: &Ctx, id: UserId) -> RepoResult<User>;
    async fn find_user_by_email(&self, ctx: &Ctx, email: &Email) -> RepoResult<Option<User>>;
    async fn find_user_by_username(
        &self,
        ctx: &Ctx,
        username: &Username,
    ) -> RepoResult<Option<User>>;
    async fn list_users(
        &self,
        ctx: &Ctx,
        filter: UserFilter,
        page: PageRequest<UserSort>,
    ) -> RepoResult<Page<User, UserSort>>;
    async fn update_user(&self, ctx: &Ctx, id: UserId, patch: UserPatch) -> RepoResult<User>;
    /// Deactivates (`false`) or reactivates (`true`) the user. A deactivated user cannot log
    /// in or refresh a session; the access tokens already issued work until they expire.
    /// Deactivating the organization's last active owner is `Conflict`.
    async fn set_user_active(&self, ctx: &Ctx, id: UserId, active: bool) -> RepoResult<User>;
    /// The roles the user holds, sorted by code.
    async fn user_roles(&self, ctx: &Ctx, id: UserId) -> RepoResult<Vec<Role>>;
    /// Grants the user a system role or a custom role of this organization, and returns the
    /// roles they hold now. Granting a role they hold already changes nothing. Another
    /// organization's custom role (or no role at all) is `Reference` on `role_id`.
    async fn assign_role(&self, ctx: &Ctx, user: UserId, role: RoleId) -> RepoResult<Vec<Role>>;
    /// Takes a role from the user: `NotFound` when they do not hold it, `Conflict` when it is
    /// the owner role of the organization's last active owner.
    async fn remove_role(&self, ctx: &Ctx, user: UserId, role: RoleId) -> RepoResult<()>;
    /// The union of the permissions of the user's roles, sorted by code.
    async fn user_permissions(&self, ctx: &Ctx, id: UserId) -> RepoResult<Vec<Permission>>;
}

crate::list_sort! {
    /// The orders of the role list.
    pub enum RoleSort for "roles" {
        /// By code, A to Z.
        Code = "code",
        /// Oldest first: the system roles, then the custom roles as they were created.
        CreatedAt = "created_at",
    }
}

/// The roles the context's organization sees: the system roles every organization shares,
/// and its own custom roles. Another organization's custom role is `NotFound` here.
///
/// A custom role's code is unique in its organization and may not be a system role's code,
/// so that a code names one role. System roles cannot be changed or deleted (`Conflict`).
#[async_trait::async_trait]
pub trait RoleRepo: Send + Sync {
    /// Creates a custom role. A code taken by a role of this organization or by a system
    /// role is `Conflict` on `code`.
    async fn create_role(&self, ctx: &Ctx, new: NewRole) -> RepoResult<Role>;
    async fn get_role(&self, ctx: &Ctx, id: RoleId) -> RepoResult<Role>;
    /// The system role or custom role of this organization with this code.
    async fn find_role_by_code(&self, ctx: &Ctx, code: &RoleCode) -> RepoResult<Option<Role>>;
    async fn list_roles(
        &self,
        ctx: &Ctx,
        page: PageRequest<RoleSort>,
    ) -> RepoResult<Page<Role, RoleSort>>;
    /// Changes a custom role's description or permissions; the users who hold it gain or lose
    /// permissions with their next token.
    async fn update_role(&self, ctx: &Ctx, id: RoleId, patch: RolePatch) -> RepoResult<Role>;
    /// Deletes a custom role that nobody holds. A role still held is `Conflict`, saying by how
    /// many users: take it from them first, so that nobody loses permissions unnoticed.
    async fn delete_role(&self, ctx: &Ctx, id: RoleId) -> RepoResult<()>;
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
    /// The active user of `organization` with this e-mail, when `password` matches their hash
    /// (a deactivated user is `None`, as a wrong password is).
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
    /// token, or a deactivated user's, is `NotFound`.
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
