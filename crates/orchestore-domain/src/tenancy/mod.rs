//! Tenancy and people: organizations, users, passwords, roles, permissions, sessions, API keys
//! and invitations.

mod api_key;
mod invitation;
mod organization;
mod password;
mod permissions;
mod roles;
mod session;
mod user;

pub use api_key::{ApiKey, ApiKeySecret, IssuedApiKey, KeyExpiry, KeyOwner, KeyScopes, NewApiKey};
pub use invitation::{Invitation, InvitationToken, IssuedInvitation};
pub use organization::{NewOrganization, Organization};
pub use password::{Password, PasswordHash};
pub use permissions::Permission;
pub use roles::{NewRole, Role, RoleCode, RolePatch, SystemRole};
pub use session::{ClientInfo, Session, UserAgent};
pub use user::{NewUser, User, UserPatch, Username};
