//! Organizations, users, roles, sessions, API keys and invitations.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    ApiKey, ApiKeyId, ApiKeySecret, ClientInfo, Email, Invitation, InvitationId, InvitationToken,
    IssuedApiKey, IssuedInvitation, KeyOwner, Name, NewApiKey, NewOrganization, NewRole, NewUser,
    Organization, OrganizationId, Password, PasswordHash, Permission, Revision, Role, RoleCode,
    RoleId, RolePatch, Session, SessionId, Slug, User, UserId, UserPatch, Username,
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
    async fn update_user(
        &self,
        ctx: &Ctx,
        id: UserId,
        patch: UserPatch,
        expected: Option<Revision>,
    ) -> RepoResult<User>;
    /// Deactivates (`false`) or reactivates (`true`) the user. Deactivation revokes all their
    /// sessions and raises their access version, so their access tokens stop working too.
    /// Deactivating the organization's last active owner is `Conflict`.
    async fn set_user_active(&self, ctx: &Ctx, id: UserId, active: bool) -> RepoResult<User>;
    /// The roles the user holds, sorted by code.
    async fn user_roles(&self, ctx: &Ctx, id: UserId) -> RepoResult<Vec<Role>>;
    /// Grants the user a system role or a custom role of this organization, and returns the
    /// roles they hold now. Granting a role they hold already changes nothing. Another
    /// organization's custom role (or no role at all) is `Reference` on `role_id`.
    async fn assign_role(&self, ctx: &Ctx, user: UserId, role: RoleId) -> RepoResult<Vec<Role>>;
    /// Takes a role from the user and raises their access version (their tokens carry the
    /// role's permissions): `NotFound` when they do not hold it, `Conflict` when it is the
    /// owner role of the organization's last active owner.
    async fn remove_role(&self, ctx: &Ctx, user: UserId, role: RoleId) -> RepoResult<()>;
    /// The union of the permissions of the user's roles, sorted by code; `NotFound` for a user
    /// this organization does not have.
    async fn user_permissions(&self, ctx: &Ctx, id: UserId) -> RepoResult<Vec<Permission>>;
    /// Replaces the user's password when `current` is their password now (bcrypt work off the
    /// async threads), and revokes all their sessions but `keep` (the one asking, if any).
    /// A wrong `current` is `Invalid` on `current_password` and changes nothing.
    async fn change_password(
        &self,
        ctx: &Ctx,
        id: UserId,
        current: &Password,
        new: PasswordHash,
        keep: Option<SessionId>,
    ) -> RepoResult<()>;
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
    async fn update_role(
        &self,
        ctx: &Ctx,
        id: RoleId,
        patch: RolePatch,
        expected: Option<Revision>,
    ) -> RepoResult<Role>;
    /// Deletes a custom role that nobody holds. A role still held is `Conflict`, saying by how
    /// many users: take it from them first, so that nobody loses permissions unnoticed.
    async fn delete_role(
        &self,
        ctx: &Ctx,
        id: RoleId,
        expected: Option<Revision>,
    ) -> RepoResult<()>;
}

/// A session about to open: the hash of its first refresh token, when that expires, and where
/// the login came from.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub refresh_token_hash: String,
    pub expires_at: DateTime<Utc>,
    pub client: ClientInfo,
}

/// What a refresh grants: the session, still the same one, for this user, whose access tokens
/// must carry `access_version`.
#[derive(Debug, Clone)]
pub struct SessionGrant {
    pub user: User,
    pub session_id: SessionId,
    pub access_version: i64,
}

/// Whether an access token of a session still stands: its session is live (not revoked, not
/// expired, its user active), and its user's access version, which the token must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStanding {
    pub user_id: UserId,
    pub live: bool,
    pub access_version: i64,
}

/// Authentication. These are the calls that come before a [`Ctx`] exists (a login knows only
/// an organization and an e-mail, a refresh only a token) and produce one, and the calls on
/// the sessions a login opens.
///
/// A session is one login. Each refresh replaces its token (the old one is kept, hashed, as
/// retired): a retired token offered again means two parties hold the session's tokens, so
/// the whole session is revoked. An access token names its session and carries its user's
/// access version, which rises when what the user may do shrinks; the server checks both
/// through [`AuthRepo::session_standing`], cached for a short bound, and
/// [`AuthRepo::standing_epoch`] tells it when a change made through this store has made
/// its cache stale.
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
    /// Opens a session for `user`, and returns it with the access version its tokens carry.
    async fn create_session(
        &self,
        ctx: &Ctx,
        user: UserId,
        new: NewSession,
    ) -> RepoResult<SessionGrant>;
    /// Replaces the session's token that hashes to `old_hash` by `new_hash`, in one
    /// transaction with its audit row (which carries `request_id`). An unknown, revoked or
    /// expired token, or a deactivated user's, is `NotFound`; so is a retired token, after it
    /// has revoked its session for good.
    async fn rotate_session(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        client: &ClientInfo,
        request_id: Option<&str>,
    ) -> RepoResult<SessionGrant>;
    /// Whether the session's access tokens stand. Another organization's session, or none, is
    /// `NotFound`.
    async fn session_standing(&self, ctx: &Ctx, session: SessionId) -> RepoResult<SessionStanding>;
    /// A number that rises after every change made through this store that can make a
    /// session's standing fall (a revocation, a deactivation, a permission taken away), once
    /// the change has committed (inside a transaction, once the outermost one has): a cache of
    /// standings filled at a lower number is stale.
    fn standing_epoch(&self) -> u64;
    /// One page of the user's live sessions (neither revoked nor expired), newest first unless
    /// `page` sorts otherwise.
    async fn list_sessions(
        &self,
        ctx: &Ctx,
        user: UserId,
        page: PageRequest<SessionSort>,
    ) -> RepoResult<Page<Session, SessionSort>>;
    /// Revokes one live session of `user`: `NotFound` when it is not theirs or not live.
    async fn revoke_session(&self, ctx: &Ctx, user: UserId, session: SessionId) -> RepoResult<()>;
    /// Revokes every live session of `user` but `keep`, and returns how many.
    async fn revoke_user_sessions(
        &self,
        ctx: &Ctx,
        user: UserId,
        keep: Option<SessionId>,
    ) -> RepoResult<u64>;
    /// The instance-wide setting `key`, storing `generated` first when it is unset. Concurrent
    /// callers all get the value that was stored first.
    async fn instance_setting_or_insert(&self, key: &str, generated: &str) -> RepoResult<String>;
}

crate::list_sort! {
    /// The orders of the invitation list.
    pub enum InvitationSort for "invitations" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

crate::list_sort! {
    /// The orders of a user's live sessions.
    pub enum SessionSort for "sessions" {
        /// Newest first.
        CreatedAtDesc = "-created_at",
        /// Oldest first.
        CreatedAt = "created_at",
    }
}

crate::list_sort! {
    /// The orders of an owner's API keys.
    pub enum ApiKeySort for "api_keys" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// An invitation about to be issued: who may join, with which roles, until when.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub email: Email,
    /// The codes of the roles to grant: system roles, or custom roles of the organization.
    pub roles: Vec<RoleCode>,
    pub expires_at: DateTime<Utc>,
}

/// What the invited person adds to the invitation to make their account.
#[derive(Debug, Clone)]
pub struct InvitationAcceptance {
    pub display_name: Name,
    pub username: Option<Username>,
    pub password_hash: PasswordHash,
}

/// Invitations of the context's organization: a one-time token by which one person becomes a
/// user with the e-mail address and the roles the inviter chose. The token is returned once,
/// at issue; the store keeps its SHA-256 only.
///
/// An invitation is pending until it is accepted, revoked or expired. Accepting one is like a
/// login: it comes before a [`Ctx`] exists (the token names no organization), so the two calls
/// that take a token find the organization by the token's hash first.
#[async_trait::async_trait]
pub trait InvitationRepo: Send + Sync {
    /// Issues an invitation, audited without its token. An address that a user of the
    /// organization has is `Conflict` on `email`; an unknown role code (or another
    /// organization's custom role) is `Reference` on `roles`. Inviting an address again issues
    /// another token: the first accepted makes the user, and the others then conflict.
    async fn create_invitation(
        &self,
        ctx: &Ctx,
        new: NewInvitation,
    ) -> RepoResult<IssuedInvitation>;
    /// Any invitation of the organization, pending or not.
    async fn get_invitation(&self, ctx: &Ctx, id: InvitationId) -> RepoResult<Invitation>;
    /// The pending invitations.
    async fn list_invitations(
        &self,
        ctx: &Ctx,
        page: PageRequest<InvitationSort>,
    ) -> RepoResult<Page<Invitation, InvitationSort>>;
    /// Stops the token working; revoking again changes nothing. An accepted invitation is
    /// `Conflict`: its user exists, deactivate them instead.
    async fn revoke_invitation(&self, ctx: &Ctx, id: InvitationId) -> RepoResult<Invitation>;
    /// Instance-wide: the pending invitation of this token. An unknown, accepted, revoked or
    /// expired token is the same `NotFound`.
    async fn find_pending_invitation(&self, token: &InvitationToken) -> RepoResult<Invitation>;
    /// Instance-wide: creates the invited user (the invitation's e-mail address and roles,
    /// with `acceptance`) and marks the invitation accepted, in one transaction with their
    /// audit rows (which carry `request_id`). The invitation is read again under a lock, so
    /// that of two acceptances racing with one token exactly one makes a user. A token that is
    /// not pending is `NotFound`, as for [`InvitationRepo::find_pending_invitation`]; an
    /// address that became a user's meanwhile is `Conflict` on `email`, a taken username
    /// `Conflict` on `username`, and the invitation stays pending.
    async fn accept_invitation(
        &self,
        token: &InvitationToken,
        acceptance: InvitationAcceptance,
        request_id: Option<&str>,
    ) -> RepoResult<User>;
}

/// What a presented API key lets its caller do now: act as its owner, in its organization,
/// with [`ApiKeyGrant::permissions`] — the key's scopes that its owner holds at this moment
/// (for an agent, what the `agent` system role grants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyGrant {
    pub organization_id: OrganizationId,
    pub owner: KeyOwner,
    pub key_id: ApiKeyId,
    pub expires_at: Option<DateTime<Utc>>,
    pub permissions: Vec<Permission>,
}

/// API keys of the context's organization, each an agent's or a user's. The key is returned
/// once, at creation; the store keeps its SHA-256 only.
#[async_trait::async_trait]
pub trait ApiKeyRepo: Send + Sync {
    /// Creates a key for its owner, audited without the secret. An owner the organization does
    /// not have is a `Reference` error on `agent_id` or `user_id`; a scope the owner does not
    /// hold now (for an agent: that the `agent` system role does not grant) is `Invalid` on
    /// `scopes`.
    async fn create_api_key(&self, ctx: &Ctx, new: NewApiKey) -> RepoResult<IssuedApiKey>;
    /// The owner's keys, revoked and expired ones included. An owner the organization does not
    /// have is `NotFound` (`agent` or `user`).
    async fn list_api_keys(
        &self,
        ctx: &Ctx,
        owner: KeyOwner,
        page: PageRequest<ApiKeySort>,
    ) -> RepoResult<Page<ApiKey, ApiKeySort>>;
    /// Stops the key working at once; revoking it again changes nothing. Another owner's key
    /// is `NotFound`.
    async fn revoke_api_key(&self, ctx: &Ctx, owner: KeyOwner, id: ApiKeyId) -> RepoResult<ApiKey>;
    /// Instance-wide, like a login: the grant of a presented key, or `NotFound` for a key that
    /// is unknown, revoked or expired, or whose owner is an `inactive` agent or a deactivated
    /// user. Its owner's permissions are read now, so what the owner loses the key loses at
    /// once. Records when the key was last used (at most once a minute).
    async fn authenticate_api_key(&self, key: &ApiKeySecret) -> RepoResult<ApiKeyGrant>;
}
