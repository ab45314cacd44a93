//! Organizations, users, roles, sessions, API keys and invitations.

mod api_keys;
mod auth;
pub(crate) mod entity;
mod invitations;
mod organizations;
mod roles;
pub(crate) mod users;

use entity::{
    api_keys as key_rows, invitations as invitation_rows, organizations as orgs,
    roles as role_rows, sessions, users as user_rows,
};

crate::scoped::entities! {
    tenanted: user_rows::Entity => "user", sessions::Entity => "session",
        invitation_rows::Entity => "invitation", key_rows::Entity => "api_key";
    audited: orgs::Entity => "organization", role_rows::Entity => "role",
}

crate::revision::revised! {
    user_rows::Entity, role_rows::Entity
}
