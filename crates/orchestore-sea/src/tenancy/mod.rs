//! Organizations, users, roles and sessions.

mod auth;
pub(crate) mod entity;
mod organizations;
mod roles;
mod users;

use entity::{organizations as orgs, roles as role_rows, sessions, users as user_rows};

crate::scoped::entities! {
    tenanted: user_rows::Entity => "user", sessions::Entity => "session";
    audited: orgs::Entity => "organization", role_rows::Entity => "role",
}
