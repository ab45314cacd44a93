//! `/api/v1/matches` and an agent's rating history.

use std::collections::BTreeMap;

use orchestore_domain::{AgentId, DomainError, MatchSubject, NewMatch, Placements, TaskId};
use orchestore_repo::{PageRequest, RatingHistorySort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, PageQuery};

/// A match on a task (`task_id`) or a challenge (`challenge`), one of them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMatchBody {
    /// The agents who play: 2 to 32, none twice.
    #[schema(min_items = 2, max_items = 32)]
    pub agents: Vec<AgentId>,
    /// The task the match is played on; give this or `challenge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// The challenge the match is played on (1 to 200 characters); give this or `task_id`.
    #[schema(min_length = 1, max_length = 200)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}

impl CreateMatchBody {
    pub fn into_new_match(self) -> Result<NewMatch, Invalid> {
        let mut errors = FieldErrors::default();
        let subject = errors.check(match (self.task_id, self.challenge) {
            (Some(task), None) => Ok(MatchSubject::Task(task)),
            (None, Some(challenge)) => MatchSubject::challenge(&challenge),
            _ => Err(DomainError::invalid(
                "task_id",
                "give either task_id or challenge",
            )),
        });
        let agents = self.agents;
        let Some(subject) = subject else {
            // The agents are checked too, so that one answer names every bad field.
            errors.check(NewMatch::new(MatchSubject::Task(TaskId::new()), agents));
            return Err(errors.into_error());
        };
        errors
            .check(NewMatch::new(subject, agents))
            .ok_or_else(|| errors.into_error())
    }
}

/// `{"placements": {"<agent id>": place, …}}`, 1 the best, ties sharing a place.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchResultBody {
    /// Each agent's place, by agent id: from 1 to the number of agents.
    pub placements: BTreeMap<AgentId, u32>,
}

impl MatchResultBody {
    pub fn into_placements(self) -> Result<Placements, Invalid> {
        Placements::parse(self.placements).map_err(Invalid::from)
    }
}

/// `GET /api/v1/agents/{id}/rating-history`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<RatingHistorySort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl HistoryQuery {
    pub fn into_page_request(self) -> Result<PageRequest<RatingHistorySort>, Invalid> {
        PageQuery {
            limit: self.limit,
            cursor: self.cursor,
            sort: self.sort,
        }
        .into_page_request()
    }
}
