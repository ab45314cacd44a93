//! `/api/v1/events`: events recorded one at a time or by the batch, listed newest first.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    CorrelationId, EventId, EventKind, NewEvent, ProjectId, SourceName, TaskId, WorkflowId,
};
use orchestore_repo::{EventFilter, EventSort, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, page_request};

// `POST /api/v1/events`, one event alone or in a batch.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// What happened, e.g. `task.completed`.
    pub kind: String,
    /// Who reports it, e.g. a component's name.
    pub source: String,
    /// Any JSON; null when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
    /// Ties together the events of one flow across sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<WorkflowId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// RFC 3339; now when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<DateTime<Utc>>,
}

impl EventBody {
    /// The event, or every bad field.
    pub fn parse(self) -> Result<NewEvent, FieldErrors> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(EventKind::parse(&self.kind));
        let source = errors.check(SourceName::parse(&self.source));
        let payload = errors.check(NewEvent::payload(
            self.payload.unwrap_or(serde_json::Value::Null),
        ));
        let correlation_id = errors.check(
            self.correlation_id
                .as_deref()
                .map(CorrelationId::parse)
                .transpose(),
        );
        let (Some(kind), Some(source), Some(payload), Some(correlation_id)) =
            (kind, source, payload, correlation_id)
        else {
            return Err(errors);
        };
        Ok(NewEvent {
            kind,
            source,
            payload,
            correlation_id,
            project_id: self.project_id,
            workflow_id: self.workflow_id,
            task_id: self.task_id,
            occurred_at: self.occurred_at,
        })
    }
}

/// `{"events": [...]}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatchBody {
    /// Up to 10,000 events, recorded all or none.
    #[schema(min_items = 1, max_items = 10_000)]
    pub events: Vec<EventBody>,
}

/// The answer to a batch of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordedEvents {
    /// How many events were recorded.
    pub recorded: usize,
    /// Their ids, in the order of the batch.
    pub ids: Vec<EventId>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEventsQuery {
    /// Only events of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Only events from this source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Only events of this correlation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// RFC 3339: events that happened at or after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// RFC 3339: events that happened before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<EventSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListEventsQuery {
    pub fn into_filter_and_page(self) -> Result<(EventFilter, PageRequest<EventSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(self.kind.as_deref().map(EventKind::parse).transpose());
        let source = errors.check(self.source.as_deref().map(SourceName::parse).transpose());
        let correlation_id = errors.check(
            self.correlation_id
                .as_deref()
                .map(CorrelationId::parse)
                .transpose(),
        );
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(kind), Some(source), Some(correlation_id), Some(page)) =
            (kind, source, correlation_id, page)
        else {
            return Err(errors.into_error());
        };
        Ok((
            EventFilter {
                kind,
                source,
                correlation_id,
                since: self.since,
                until: self.until,
            },
            page,
        ))
    }
}
