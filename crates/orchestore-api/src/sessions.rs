//! `/api/v1/sessions`: the caller's own logins, and revoking them.

use orchestore_domain::Session;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A session, marked when it is the caller's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionItem {
    #[serde(flatten)]
    pub session: Session,
    /// Whether this is the session of the access token that asks.
    pub current: bool,
}

// `DELETE /api/v1/sessions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RevokeAllQuery {
    /// Keep the session that asks (log out everywhere else).
    #[serde(default)]
    #[param(default = false)]
    pub except_current: bool,
}

/// How many sessions a logout ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Revoked {
    /// The sessions revoked.
    pub revoked: u64,
}
