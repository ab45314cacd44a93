//! The tables of the tenancy aggregate.

pub(crate) mod api_keys;
pub(crate) mod instance_settings;
pub(crate) mod invitation_roles;
pub(crate) mod invitations;
pub(crate) mod organizations;
pub(crate) mod role_permissions;
pub(crate) mod roles;
pub(crate) mod session_retired_tokens;
pub(crate) mod sessions;
pub(crate) mod user_roles;
pub(crate) mod users;
