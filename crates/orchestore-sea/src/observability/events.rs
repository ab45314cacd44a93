use std::collections::BTreeSet;

use orchestore_domain::{
    CorrelationId, Event, EventId, EventKind, NewEvent, OrganizationId, Payload, ProjectId,
    Records, SourceName, TaskId, WorkflowId,
};
use orchestore_repo::{Ctx, EventFilter, EventRepo, EventSort, Page, PageRequest, RepoResult};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entity::events;
use super::{first_missing, insert_rows, present, stored_time, time_cursor, time_page, within};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::Mutation;
use crate::scoped::{Lock, Tenanted, scoped};
use crate::work::entity::{projects, tasks};
use crate::workflows::entity::workflows;

fn to_event(row: events::Model) -> RepoResult<Event> {
    let bad = |e: orchestore_domain::DomainError| corrupt("event", e);
    Ok(Event {
        id: EventId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        kind: EventKind::parse(&row.kind).map_err(bad)?,
        source: SourceName::parse(&row.source).map_err(bad)?,
        payload: Payload::parse(row.payload).map_err(bad)?,
        correlation_id: row
            .correlation_id
            .as_deref()
            .map(CorrelationId::parse)
            .transpose()
            .map_err(bad)?,
        project_id: row.project_id.map(ProjectId::from_uuid),
        workflow_id: row.workflow_id.map(WorkflowId::from_uuid),
        task_id: row.task_id.map(TaskId::from_uuid),
        occurred_at: row.occurred_at,
        recorded_at: row.recorded_at,
    })
}

/// Refuses the batch at its first event that names a row of `E` the organization lacks.
async fn check_references<E: Tenanted>(
    m: &Mutation<'_>,
    events: &[NewEvent],
    field: &'static str,
    reference: impl Fn(&NewEvent) -> Option<Uuid>,
) -> RepoResult<()>
where
    E::Model: Sync,
{
    let ids: BTreeSet<Uuid> = events.iter().filter_map(&reference).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let found = present::<E>(m.txn(), m.ctx(), &ids).await?;
    first_missing(events, &found, field, E::NAME, reference)
}

#[async_trait::async_trait]
impl EventRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), events = events.len()))]
    async fn record_events(&self, ctx: &Ctx, events: Records<NewEvent>) -> RepoResult<Vec<Event>> {
        self.mutate(ctx, async |m| {
            let batch = events.as_slice();
            check_references::<projects::Entity>(m, batch, "project_id", |e| {
                e.project_id.map(|id| id.as_uuid())
            })
            .await?;
            check_references::<workflows::Entity>(m, batch, "workflow_id", |e| {
                e.workflow_id.map(|id| id.as_uuid())
            })
            .await?;
            check_references::<tasks::Entity>(m, batch, "task_id", |e| {
                e.task_id.map(|id| id.as_uuid())
            })
            .await?;
            let recorded: Vec<Event> = batch
                .iter()
                .map(|new| Event {
                    id: EventId::new(),
                    organization_id: ctx.org(),
                    kind: new.kind.clone(),
                    source: new.source.clone(),
                    payload: new.payload.clone(),
                    correlation_id: new.correlation_id.clone(),
                    project_id: new.project_id,
                    workflow_id: new.workflow_id,
                    task_id: new.task_id,
                    occurred_at: stored_time(new.occurred_at, m.at()),
                    recorded_at: m.at(),
                })
                .collect();
            let rows = recorded
                .iter()
                .map(|event| events::ActiveModel {
                    organization_id: Set(event.organization_id.as_uuid()),
                    id: Set(event.id.as_uuid()),
                    kind: Set(event.kind.as_str().to_owned()),
                    source: Set(event.source.as_str().to_owned()),
                    payload: Set(event.payload.as_value().clone()),
                    correlation_id: Set(event
                        .correlation_id
                        .as_ref()
                        .map(|c| c.as_str().to_owned())),
                    project_id: Set(event.project_id.map(|id| id.as_uuid())),
                    workflow_id: Set(event.workflow_id.map(|id| id.as_uuid())),
                    task_id: Set(event.task_id.map(|id| id.as_uuid())),
                    occurred_at: Set(event.occurred_at),
                    recorded_at: Set(event.recorded_at),
                })
                .collect();
            insert_rows::<events::Entity>(m.txn(), self.is_postgres(), rows).await?;
            Ok(recorded)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), event = %id))]
    async fn get_event(&self, ctx: &Ctx, id: EventId) -> RepoResult<Event> {
        self.find_scoped::<events::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_event)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_events(
        &self,
        ctx: &Ctx,
        filter: EventFilter,
        page: PageRequest<EventSort>,
    ) -> RepoResult<Page<Event, EventSort>> {
        let mut query = scoped::<events::Entity>(ctx);
        if let Some(kind) = &filter.kind {
            query = query.filter(events::Column::Kind.eq(kind.as_str()));
        }
        if let Some(source) = &filter.source {
            query = query.filter(events::Column::Source.eq(source.as_str()));
        }
        if let Some(correlation) = &filter.correlation_id {
            query = query.filter(events::Column::CorrelationId.eq(correlation.as_str()));
        }
        let query = within(
            query,
            events::Column::OccurredAt,
            filter.since,
            filter.until,
        );
        let newest_first = page.sort() == EventSort::OccurredAtDesc;
        let rows = time_page(query, &page, events::Column::OccurredAt, newest_first)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let events = rows
            .into_iter()
            .map(to_event)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(events, &page, |event| {
            time_cursor(page.sort(), event.occurred_at, event.id)
        }))
    }
}
