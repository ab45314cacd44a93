//! Organizations, users, roles and sessions.

mod auth;
pub(crate) mod entity;
mod organizations;
mod users;

use entity::{organizations as orgs, sessions, users as user_rows};

crate::scoped::entities! {
    tenanted: user_rows::Entity => "user", sessions::Entity => "session";
    audited: orgs::Entity => "organization",
}
