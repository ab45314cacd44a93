//! Reputation events, and the score computed from them when read.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, DomainError, NewReputationEvent, OrganizationId, Participant, Reputation,
    ReputationDimension, ReputationEvent, ReputationEventId, ReputationReason, TaskId, TaskStatus,
    reputation_key_weight,
};
use orchestore_repo::{
    Ctx, Cursor, FedOutcomes, Page, PageRequest, RepoError, RepoResult, ReputationEventSort,
    ReputationRepo,
};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::{reputation_events, standings};
use super::{ensure_standings, holder_exists, require_holder};
use crate::SeaStore;
use crate::agents::entity::agents;
use crate::error::{corrupt, db_err};
use crate::mutation::{Audited, Mutation, Verb, snapshot};
use crate::scoped::{Keyset, keyset_page, scoped};
use crate::work::entity::{task_events, tasks};

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

/// Refuses an event whose agent or task the organization does not have.
async fn check_references(m: &Mutation<'_>, new: &NewReputationEvent) -> RepoResult<()> {
    let ctx = m.ctx();
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
    Ok(())
}

/// The latest history event in which `task` ended with this outcome (`succeeded`, or `failed`
/// for good), if it ever did.
async fn latest_ending(
    m: &Mutation<'_>,
    task: TaskId,
    succeeded: bool,
) -> RepoResult<Option<Uuid>> {
    let to = if succeeded {
        TaskStatus::Succeeded
    } else {
        TaskStatus::Failed
    };
    task_events::Entity::find()
        .select_only()
        .column(task_events::Column::Id)
        .filter(task_events::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
        .filter(task_events::Column::TaskId.eq(task.as_uuid()))
        .filter(task_events::Column::ToStatus.eq(to.as_str()))
        .order_by_desc(task_events::Column::Id)
        .into_tuple()
        .one(m.txn())
        .await
        .map_err(db_err)
}

/// The event recorded from the history event `source`, if there is one.
async fn recorded_from(m: &Mutation<'_>, source: Uuid) -> RepoResult<Option<ReputationEvent>> {
    scoped::<reputation_events::Entity>(m.ctx())
        .filter(reputation_events::Column::SourceEventId.eq(source))
        .one(m.txn())
        .await
        .map_err(db_err)?
        .map(to_event)
        .transpose()
}

/// Creates the standings of `agents` that are missing and locks them all, in holder order (the
/// order a match result takes too, so that writers with agents in common cannot deadlock);
/// SQLite's write transaction excludes every other writer already.
pub(super) async fn lock_standings(m: &Mutation<'_>, agents: &[AgentId]) -> RepoResult<()> {
    if agents.is_empty() {
        return Ok(());
    }
    let holders: Vec<Participant> = agents.iter().copied().map(Participant::Agent).collect();
    ensure_standings(m.txn(), m.ctx(), &holders, m.at()).await?;
    if m.txn().get_database_backend() == DbBackend::Postgres {
        standings::Entity::find()
            .select_only()
            .column(standings::Column::HolderId)
            .filter(standings::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
            .filter(
                standings::Column::HolderId
                    .is_in(agents.iter().map(|a| a.as_uuid()).collect::<Vec<_>>()),
            )
            .order_by_asc(standings::Column::HolderId)
            .lock_exclusive()
            .into_tuple::<Uuid>()
            .all(m.txn())
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

/// Appends `new`, at `at`, recorded from the history event `source` when there is one, with
/// the agent's ranking key and the audit row; `None`, and nothing written, when `source` has
/// its event already (the unique key on it decides, also between concurrent writers).
pub(super) async fn append_event(
    m: &Mutation<'_>,
    new: &NewReputationEvent,
    at: DateTime<Utc>,
    source: Option<Uuid>,
) -> RepoResult<Option<ReputationEvent>> {
    let ctx = m.ctx();
    // The standing first, then the event: a writer that holds an event's unique key holds
    // every lock it will take, so a feeder and a client recording one ending cannot deadlock.
    lock_standings(m, &[new.agent_id]).await?;
    let id = ReputationEventId::new();
    let inserted = reputation_events::Entity::insert(reputation_events::ActiveModel {
        organization_id: Set(ctx.org().as_uuid()),
        id: Set(id.as_uuid()),
        agent_id: Set(new.agent_id.as_uuid()),
        dimension: Set(new.dimension.as_str().to_owned()),
        delta: Set(new.delta.get()),
        reason: Set(new.reason.as_str().to_owned()),
        task_id: Set(new.task_id.map(|t| t.as_uuid())),
        occurred_at: Set(at),
        source_event_id: Set(source),
    })
    .on_conflict(
        OnConflict::columns([
            reputation_events::Column::OrganizationId,
            reputation_events::Column::SourceEventId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(m.txn())
    .await
    .map_err(db_err)?;
    if inserted == 0 {
        return Ok(None);
    }
    let event = ReputationEvent {
        id,
        organization_id: ctx.org(),
        agent_id: new.agent_id,
        dimension: new.dimension,
        delta: new.delta.get(),
        reason: new.reason.clone(),
        task_id: new.task_id,
        occurred_at: at,
    };
    // The ranking key, added in the database: concurrent events never lose one.
    let agent = Participant::Agent(new.agent_id);
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
    let mut changes = snapshot(&event);
    if let (Some(source), Some(object)) = (source, changes.as_object_mut()) {
        object.insert("source_event_id".to_owned(), json!(source));
    }
    m.audit::<reputation_events::Entity>(Verb::Create, event.id, changes)
        .await?;
    Ok(Some(event))
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
            check_references(m, &new).await?;
            append_event(m, &new, m.at(), None)
                .await?
                .ok_or_else(|| RepoError::internal("an event without a source was not inserted"))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %agent, task = %task))]
    async fn record_task_outcome(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        task: TaskId,
        succeeded: bool,
    ) -> RepoResult<ReputationEvent> {
        let new = NewReputationEvent::task_outcome(agent, task, succeeded);
        self.mutate(ctx, async |m| {
            check_references(m, &new).await?;
            let ending = latest_ending(m, task, succeeded).await?;
            if let Some(source) = ending
                && let Some(recorded) = recorded_from(m, source).await?
            {
                return Ok(recorded);
            }
            match append_event(m, &new, m.at(), ending).await? {
                Some(event) => Ok(event),
                // A feeder recorded this ending meanwhile: its event is the one.
                None => match ending {
                    Some(source) => recorded_from(m, source).await?.ok_or_else(|| {
                        RepoError::internal("the event of a task's ending vanished")
                    }),
                    None => Err(RepoError::internal(
                        "an event without a source was not inserted",
                    )),
                },
            }
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), limit))]
    async fn feed_task_outcomes(&self, ctx: &Ctx, limit: u32) -> RepoResult<FedOutcomes> {
        self.feed_batch(ctx, limit).await
    }

    #[tracing::instrument(skip_all, fields(limit))]
    async fn organizations_with_task_outcomes_to_feed(
        &self,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>> {
        self.organizations_to_feed(limit).await
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
