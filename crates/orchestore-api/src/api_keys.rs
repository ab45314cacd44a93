//! `/api/v1/me/api-keys` and `/api/v1/users/{id}/api-keys`; the body that creates a key is
//! shared with `/api/v1/agents/{id}/api-keys`.

use chrono::{DateTime, Utc};
use orchestore_domain::{ApiKey, Permission};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// `POST /api/v1/me/api-keys` and `POST /api/v1/agents/{id}/api-keys`. What the new key may be
// depends on the calling key, so the server checks it into a key.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyBody {
    /// What the key is for, e.g. the host its worker runs on or the service that uses it.
    #[schema(min_length = 1)]
    pub name: String,
    /// Permission codes the key is limited to; absent for all of its owner's (a key that
    /// creates a key must name them, each one it grants).
    #[schema(value_type = Option<Vec<Permission>>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// When the key stops working; absent for never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key in the caller's list, marked when it is the one the request presented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MyKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Whether this is the key the request presented.
    pub current: bool,
}
