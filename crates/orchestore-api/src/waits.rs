//! `/api/v1/workflows/executions/{execution_id}/…`: the durable waits of an execution and the
//! signals that end them.

use orchestore_domain::{Payload, WorkflowWait};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::Invalid;
use crate::workflows::payload;

/// A signal's body: what the waiting step succeeds with (`null` when absent).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignalBody {
    /// Any JSON document: the waiting step's result.
    #[serde(default)]
    pub payload: Value,
}

impl SignalBody {
    pub fn into_payload(self) -> Result<Payload, Invalid> {
        Ok(payload("payload", self.payload)?)
    }
}

/// An execution's waits.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Waits {
    pub items: Vec<WorkflowWait>,
}
