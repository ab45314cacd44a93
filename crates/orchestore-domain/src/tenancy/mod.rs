//! Tenancy and people: organizations, users, passwords, roles and permissions.

mod organization;
mod password;
mod permissions;
mod roles;
mod user;

pub use organization::{NewOrganization, Organization};
pub use password::{Password, PasswordHash};
pub use permissions::Permission;
pub use roles::{NewRole, Role, RoleCode, RolePatch, SystemRole};
pub use user::{NewUser, User, UserPatch, Username};
