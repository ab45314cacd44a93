use std::collections::BTreeSet;

use orchestore_domain::{
    Communication, CommunicationId, CommunicationKind, ComponentId, NewCommunication,
    OrganizationId, Records,
};
use orchestore_repo::{CommunicationFilter, CommunicationSort, Ctx, Page, PageRequest, RepoResult};
use sea_orm::{ColumnTrait, Condition, QueryFilter, Set};
use uuid::Uuid;

use super::entity::{component_communications as communications, components};
use super::{
    code, first_missing, insert_rows, present, stored_time, time_cursor, time_page, within,
};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::Audited;
use crate::scoped::scoped;

fn to_communication(row: communications::Model) -> RepoResult<Communication> {
    let bad = |e: String| corrupt("component_communication", e);
    Ok(Communication {
        id: CommunicationId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        from_component_id: ComponentId::from_uuid(row.from_component_id),
        to_component_id: ComponentId::from_uuid(row.to_component_id),
        kind: CommunicationKind::parse(&row.kind).map_err(|e| bad(e.to_string()))?,
        payload_bytes: u64::try_from(row.payload_bytes).map_err(|e| bad(e.to_string()))?,
        latency_ms: row.latency_ms,
        outcome: code("component_communication", &row.outcome)?,
        occurred_at: row.occurred_at,
    })
}

impl SeaStore {
    /// `ComponentRepo::record_communications`: both ends of every record checked by one
    /// lookup, then multi-row inserts, in one transaction without an audit row.
    pub(super) async fn record_communications_in(
        &self,
        ctx: &Ctx,
        communications: Records<NewCommunication>,
    ) -> RepoResult<Vec<Communication>> {
        self.mutate(ctx, async |m| {
            let batch = communications.as_slice();
            let ends: BTreeSet<Uuid> = batch
                .iter()
                .flat_map(|c| [c.from_component_id.as_uuid(), c.to_component_id.as_uuid()])
                .collect();
            let found = present::<components::Entity>(m.txn(), ctx, &ends).await?;
            let component = components::Entity::NAME;
            first_missing(batch, &found, "from_component_id", component, |c| {
                Some(c.from_component_id.as_uuid())
            })?;
            first_missing(batch, &found, "to_component_id", component, |c| {
                Some(c.to_component_id.as_uuid())
            })?;
            let recorded: Vec<Communication> = batch
                .iter()
                .map(|new| Communication {
                    id: CommunicationId::new(),
                    organization_id: ctx.org(),
                    from_component_id: new.from_component_id,
                    to_component_id: new.to_component_id,
                    kind: new.kind.clone(),
                    payload_bytes: new.payload_bytes,
                    latency_ms: new.latency_ms.get(),
                    outcome: new.outcome,
                    occurred_at: stored_time(new.occurred_at, m.at()),
                })
                .collect();
            let rows = recorded
                .iter()
                .map(|c| communications::ActiveModel {
                    organization_id: Set(c.organization_id.as_uuid()),
                    id: Set(c.id.as_uuid()),
                    from_component_id: Set(c.from_component_id.as_uuid()),
                    to_component_id: Set(c.to_component_id.as_uuid()),
                    kind: Set(c.kind.as_str().to_owned()),
                    // Bounded by `NewCommunication::payload_bytes` to what an i64 holds.
                    payload_bytes: Set(i64::try_from(c.payload_bytes).unwrap_or(i64::MAX)),
                    latency_ms: Set(c.latency_ms),
                    outcome: Set(c.outcome.as_str().to_owned()),
                    occurred_at: Set(c.occurred_at),
                })
                .collect();
            insert_rows::<communications::Entity>(m.txn(), self.is_postgres(), rows).await?;
            Ok(recorded)
        })
        .await
    }

    pub(super) async fn list_communications_in(
        &self,
        ctx: &Ctx,
        filter: CommunicationFilter,
        page: PageRequest<CommunicationSort>,
    ) -> RepoResult<Page<Communication, CommunicationSort>> {
        let mut query = scoped::<communications::Entity>(ctx);
        if let Some(component) = filter.component_id {
            query = query.filter(
                Condition::any()
                    .add(communications::Column::FromComponentId.eq(component.as_uuid()))
                    .add(communications::Column::ToComponentId.eq(component.as_uuid())),
            );
        }
        if let Some(from) = filter.from_component_id {
            query = query.filter(communications::Column::FromComponentId.eq(from.as_uuid()));
        }
        if let Some(to) = filter.to_component_id {
            query = query.filter(communications::Column::ToComponentId.eq(to.as_uuid()));
        }
        if let Some(kind) = &filter.kind {
            query = query.filter(communications::Column::Kind.eq(kind.as_str()));
        }
        if let Some(outcome) = filter.outcome {
            query = query.filter(communications::Column::Outcome.eq(outcome.as_str()));
        }
        let time = communications::Column::OccurredAt;
        let query = within(query, time, filter.since, filter.until);
        let newest_first = page.sort() == CommunicationSort::OccurredAtDesc;
        let rows = time_page(query, &page, time, newest_first)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let items = rows
            .into_iter()
            .map(to_communication)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, &page, |c| {
            time_cursor(page.sort(), c.occurred_at, c.id)
        }))
    }
}
