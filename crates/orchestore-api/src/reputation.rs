//! Agents' reputation: `/api/v1/reputation-events` and `/api/v1/agents/{id}/reputation…`.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, NewReputationEvent, ReputationDelta, ReputationDimension, ReputationReason, TaskId,
};
use orchestore_repo::{PageRequest, ReputationEventSort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, PageQuery};

// `POST /api/v1/reputation-events`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReputationEventBody {
    pub agent_id: AgentId,
    #[schema(value_type = ReputationDimension)]
    pub dimension: String,
    /// How far the event moves the dimension: not 0.
    #[schema(minimum = -100, maximum = 100)]
    pub delta: i64,
    /// Why: 1 to 500 characters, trimmed.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    /// The task the event is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
}

impl ReputationEventBody {
    pub fn into_new_event(self) -> Result<NewReputationEvent, Invalid> {
        let mut errors = FieldErrors::default();
        let dimension = errors.check(self.dimension.parse::<ReputationDimension>());
        let delta = errors.check(ReputationDelta::parse(self.delta));
        let reason = errors.check(ReputationReason::parse(&self.reason));
        let (Some(dimension), Some(delta), Some(reason)) = (dimension, delta, reason) else {
            return Err(errors.into_error());
        };
        Ok(NewReputationEvent {
            agent_id: self.agent_id,
            dimension,
            delta,
            reason,
            task_id: self.task_id,
        })
    }
}

// `POST /api/v1/agents/{id}/task-outcomes`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskOutcomeBody {
    pub task_id: TaskId,
    /// Whether the agent carried the task out: it raises the agent's reliability, or lowers it.
    pub succeeded: bool,
}

/// `GET /api/v1/agents/{id}/reputation`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// The instant the reputation is read at; now when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<DateTime<Utc>>,
}

/// `GET /api/v1/agents/{id}/reputation-events`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<ReputationEventSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl EventsQuery {
    pub fn into_page_request(self) -> Result<PageRequest<ReputationEventSort>, Invalid> {
        PageQuery {
            limit: self.limit,
            cursor: self.cursor,
            sort: self.sort,
        }
        .into_page_request()
    }
}
