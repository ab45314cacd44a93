//! `/health/live` and `/health/ready`, outside `/api/v1`: what a server answers about itself.

use orchestore_repo::Backend;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The answer of `GET /health/live`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Live {
    /// Always `ok`.
    #[schema(value_type = String, example = "ok")]
    pub status: String,
}

/// The answer of a ready server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Ready {
    /// Always `ready`.
    #[schema(value_type = String, example = "ready")]
    pub status: String,
    pub backend: Backend,
    pub pool: PoolState,
}

/// The database connections of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PoolState {
    /// Open connections.
    pub connections: u32,
    /// Open connections no request holds.
    pub idle: u32,
}

/// The answer of a server that cannot serve yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotReady {
    /// `migrations_pending` or `unavailable`.
    #[schema(value_type = String, example = "unavailable")]
    pub status: String,
    /// Why, for a person.
    pub reason: String,
    /// With `migrations_pending`: the migrations the database lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Vec<String>>,
}
