//! Events: what happened in the system, appended by the components that saw it.

use chrono::{DateTime, Utc};
use orchestore_domain::{CorrelationId, Event, EventId, EventKind, NewEvent, Records, SourceName};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the event list, by the time each event happened (then its id).
    pub enum EventSort for "events" {
        /// Newest first.
        OccurredAtDesc = "-occurred_at",
        /// Oldest first.
        OccurredAt = "occurred_at",
    }
}

/// Which events a list returns; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub kind: Option<EventKind>,
    pub source: Option<SourceName>,
    pub correlation_id: Option<CorrelationId>,
    /// Events that happened at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Events that happened before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// The events of the context's organization. Events are appended and never changed, and write
/// no audit row: they are themselves the record of what happened (see `docs/observability.md`).
#[async_trait::async_trait]
pub trait EventRepo: Send + Sync {
    /// Appends the events in one transaction, all or none, in multi-row statements. The
    /// project, workflow and task an event names must be the organization's: else
    /// `InBatch { index, Reference }` on `project_id`, `workflow_id` or `task_id` of the first
    /// event at fault, and nothing is written.
    async fn record_events(&self, ctx: &Ctx, events: Records<NewEvent>) -> RepoResult<Vec<Event>>;
    async fn get_event(&self, ctx: &Ctx, id: EventId) -> RepoResult<Event>;
    async fn list_events(
        &self,
        ctx: &Ctx,
        filter: EventFilter,
        page: PageRequest<EventSort>,
    ) -> RepoResult<Page<Event, EventSort>>;
}
