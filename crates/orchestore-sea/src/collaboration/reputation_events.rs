//! Reputation events, and the score computed from them when read.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, DomainError, NewReputationEvent, OrganizationId, Participant, Reputation,
    ReputationDimension, ReputationEvent, ReputationEventId, ReputationReason, TaskId,
    reputation_key_weight,
};
use orchestore_repo::{
    Ctx, Cursor, Page, PageRequest, RepoError, RepoResult, ReputationEventSort, ReputationRepo,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entity::{reputation_events, standings};
use super::{ensure_standings, holder_exists, require_holder};
use crate::SeaStore;
use crate::agents::entity::agents;
use crate::error::{corrupt, db_err};
use crate::mutation::{Audited, Verb, snapshot};
use crate::scoped::{Keyset, keyset_page, scoped};
use crate::work::entity::tasks;

fn to_event(row: reputation_events::Model) -> RepoResult<ReputationEvent> {
    let bad = |e: DomainError| corrupt(reputation_events::Entity::NAME, e);
    Ok(ReputationEvent {
        id: ReputationEventId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        agent_id: AgentId::from_uuid(row.agent_id),
        dimension: row.dimension.parse().map_err(bad)?,
        delta: row.delta,
        reason: ReputationReason::parse(&row.reason).map_err(bad)?,
        task_id: row.task_id.map(TaskId::from_uuid),
        occurred_at: row.occurred_at,
    })
}

#[async_trait::async_trait]
impl ReputationRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %new.agent_id))]
    async fn record_reputation_event(
        &self,
        ctx: &Ctx,
        new: NewReputationEvent,
    ) -> RepoResult<ReputationEvent> {
        self.mutate(ctx, async |m| {
            require_holder(m.txn(), ctx, "agent_id", Participant::Agent(new.agent_id)).await?;
            if let Some(task) = new.task_id {
                let found = scoped::<tasks::Entity>(ctx)
                    .filter(tasks::Column::Id.eq(task.as_uuid()))
                    .count(m.txn())
                    .await
                    .map_err(db_err)?;
                if found == 0 {
                    return Err(RepoError::reference("task_id", tasks::Entity::NAME, task));
                }
            }
            let row = reputation_events::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(ReputationEventId::new().as_uuid()),
                agent_id: Set(new.agent_id.as_uuid()),
                dimension: Set(new.dimension.as_str().to_owned()),
                delta: Set(new.delta.get()),
                reason: Set(new.reason.as_str().to_owned()),
                task_id: Set(new.task_id.map(|t| t.as_uuid())),
                occurred_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let event = to_event(row)?;
            // The ranking key, added in the database: concurrent events never lose one.
            let agent = Participant::Agent(new.agent_id);
            ensure_standings(m.txn(), ctx, &[agent], m.at()).await?;
            let weight = reputation_key_weight(event.delta, event.occurred_at);
            standings::Entity::update_many()
                .col_expr(
                    standings::Column::ReputationKey,
                    Expr::col(standings::Column::ReputationKey).add(weight),
                )
                .col_expr(standings::Column::UpdatedAt, Expr::value(m.at()))
                .filter(standings::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(standings::Column::HolderId.eq(agent.id()))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
            m.audit::<reputation_events::Entity>(Verb::Create, event.id, snapshot(&event))
                .await?;
            Ok(event)
        })
        .await
    }

    async fn record_task_outcome(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        task: TaskId,
        succeeded: bool,
    ) -> RepoResult<ReputationEvent> {
        self.record_reputation_event(
            ctx,
            NewReputationEvent::task_outcome(agent, task, succeeded),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %agent))]
    async fn get_reputation(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        as_of: DateTime<Utc>,
    ) -> RepoResult<Reputation> {
        let db = self.db().await;
        if !holder_exists(&db, ctx, Participant::Agent(agent)).await? {
            return Err(RepoError::not_found(agents::Entity::NAME, agent));
        }
        // Only the columns the score needs, of the events up to `as_of`.
        let rows: Vec<(String, i32, DateTime<Utc>)> = scoped::<reputation_events::Entity>(ctx)
            .filter(reputation_events::Column::AgentId.eq(agent.as_uuid()))
            .filter(reputation_events::Column::OccurredAt.lte(as_of))
            .select_only()
            .column(reputation_events::Column::Dimension)
            .column(reputation_events::Column::Delta)
            .column(reputation_events::Column::OccurredAt)
            .order_by_asc(reputation_events::Column::Id)
            .into_tuple()
            .all(&db)
            .await
            .map_err(db_err)?;
        let mut events = Vec::with_capacity(rows.len());
        for (dimension, delta, at) in rows {
            let dimension: ReputationDimension = dimension
                .parse()
                .map_err(|e| corrupt(reputation_events::Entity::NAME, e))?;
            events.push((dimension, delta, at));
        }
        Ok(Reputation::at(agent, as_of, events))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %agent))]
    async fn list_reputation_events(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        page: PageRequest<ReputationEventSort>,
    ) -> RepoResult<Page<ReputationEvent, ReputationEventSort>> {
        let db = self.db().await;
        if !holder_exists(&db, ctx, Participant::Agent(agent)).await? {
            return Err(RepoError::not_found(agents::Entity::NAME, agent));
        }
        let query = scoped::<reputation_events::Entity>(ctx)
            .filter(reputation_events::Column::AgentId.eq(agent.as_uuid()));
        let keyset = match page.sort() {
            ReputationEventSort::OccurredAt => Keyset::OldestFirst,
            ReputationEventSort::OccurredAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let events = rows
            .into_iter()
            .map(to_event)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(events, &page, |event: &ReputationEvent| {
            Cursor::after(page.sort(), event.id)
        }))
    }
}
