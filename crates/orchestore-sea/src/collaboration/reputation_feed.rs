//! The task-outcome feeder: task history becomes reliability events without a client asking.
//!
//! Each organization has a watermark (`reputation_feed_watermarks`): the history position (a
//! time-ordered `task_events` id) up to which every ending has been fed. A batch, in one
//! write transaction, locks the watermark (feeders of one organization take turns: PostgreSQL
//! `FOR UPDATE`, SQLite's write transaction), reads the runs after it that ended `succeeded` or
//! `failed` on an agent and have no event yet, appends each through the same code as
//! `record_task_outcome`, and moves the watermark.
//!
//! The queue writes its history without coordination, so an event's id (taken before its
//! transaction commits) can be older than events already visible. The watermark therefore
//! trails the present by [`SETTLE`]: the last minute of history is read again by each batch,
//! and the unique key on `reputation_events (organization_id, source_event_id)` (read as
//! `NOT EXISTS`, enforced on insert) keeps what was fed from counting twice. A history event
//! whose transaction commits more than a minute after its id was taken would be missed.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use orchestore_domain::{
    AgentId, DomainError, NewReputationEvent, OrganizationId, TaskId, TaskStatus,
};
use orchestore_repo::{Ctx, FedOutcomes, MAX_FEED_BATCH, RepoError, RepoResult};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, JoinType, OnConflict, Order, Query, SimpleExpr,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
    Set,
};
use uuid::Uuid;

use super::entity::{reputation_events, reputation_feed_watermarks as watermarks};
use super::reputation_events::{append_event, lock_standings};
use crate::SeaStore;
use crate::error::db_err;
use crate::tenancy::entity::organizations;
use crate::work::entity::{task_events, tasks};

/// How far behind the present the watermark stays: the longest a history event's transaction
/// may take to commit after its id was taken and still be fed.
const SETTLE: Duration = Duration::seconds(60);

/// The statuses a run ends in that count for reputation.
const ENDINGS: [TaskStatus; 2] = [TaskStatus::Succeeded, TaskStatus::Failed];

/// An ending as a batch reads it: the history event's id, the task, the status it ended in,
/// when, and the agent the task is assigned to.
type Ending = (Uuid, Uuid, String, DateTime<Utc>, Option<Uuid>);

/// The smallest time-ordered id of the instant `at`: every history event id taken at or after
/// it is greater.
fn position_at(at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &[0; 10]).into_uuid()
}

/// `NOT EXISTS` an event recorded from the history event in `task_events.id`.
fn not_fed(org: Uuid) -> SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(reputation_events::Entity)
            .and_where(
                Expr::col((
                    reputation_events::Entity,
                    reputation_events::Column::OrganizationId,
                ))
                .eq(org),
            )
            .and_where(
                Expr::col((
                    reputation_events::Entity,
                    reputation_events::Column::SourceEventId,
                ))
                .equals((task_events::Entity, task_events::Column::Id)),
            )
            .to_owned(),
    )
    .not()
}

impl SeaStore {
    /// One batch of [`orchestore_repo::ReputationRepo::feed_task_outcomes`].
    pub(super) async fn feed_batch(&self, ctx: &Ctx, limit: u32) -> RepoResult<FedOutcomes> {
        if !(1..=MAX_FEED_BATCH).contains(&limit) {
            return Err(DomainError::invalid(
                "limit",
                format!("must be from 1 to {MAX_FEED_BATCH}, got {limit}"),
            )
            .into());
        }
        self.mutate(ctx, async |m| {
            let org = ctx.org().as_uuid();
            // The watermark exists before it is locked: an organization's first batch starts it
            // at the beginning of its history.
            watermarks::Entity::insert(watermarks::ActiveModel {
                organization_id: Set(org),
                last_event_id: Set(Uuid::nil()),
            })
            .on_conflict(
                OnConflict::column(watermarks::Column::OrganizationId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(m.txn())
            .await
            .map_err(db_err)?;
            let mut locking = watermarks::Entity::find_by_id(org);
            if self.is_postgres() {
                locking = locking.lock_exclusive();
            }
            let watermark = locking
                .one(m.txn())
                .await
                .map_err(db_err)?
                .ok_or_else(|| RepoError::internal("the reputation feed watermark vanished"))?
                .last_event_id;
            // Read under the lock: what a feeder fed before it was ours is excluded now.
            let ended: Vec<Ending> = task_events::Entity::find()
                .select_only()
                .column(task_events::Column::Id)
                .column(task_events::Column::TaskId)
                .column(task_events::Column::ToStatus)
                .column(task_events::Column::CreatedAt)
                .column(tasks::Column::AssignedAgentId)
                .join(JoinType::InnerJoin, task_events::Relation::Task.def())
                .filter(task_events::Column::OrganizationId.eq(org))
                .filter(task_events::Column::Id.gt(watermark))
                .filter(task_events::Column::ToStatus.is_in(ENDINGS.map(TaskStatus::as_str)))
                .filter(tasks::Column::AssignedAgentId.is_not_null())
                .filter(not_fed(org))
                .order_by_asc(task_events::Column::Id)
                .limit(u64::from(limit))
                .into_tuple()
                .all(m.txn())
                .await
                .map_err(db_err)?;
            // Every agent's standing locked up front, in holder order.
            let agents: BTreeSet<AgentId> = ended
                .iter()
                .filter_map(|(.., agent)| agent.map(AgentId::from_uuid))
                .collect();
            lock_standings(m, &agents.into_iter().collect::<Vec<_>>()).await?;
            let mut recorded = 0u32;
            for (source, task, to, at, agent) in &ended {
                let Some(agent) = agent else { continue };
                let succeeded = to == TaskStatus::Succeeded.as_str();
                let new = NewReputationEvent::task_outcome(
                    AgentId::from_uuid(*agent),
                    TaskId::from_uuid(*task),
                    succeeded,
                );
                if append_event(m, &new, *at, Some(*source)).await?.is_some() {
                    recorded += 1;
                }
            }
            let more = ended.len() == limit as usize;
            let settled = position_at(m.at() - SETTLE);
            let reached = match ended.last() {
                Some((last, ..)) if more => Ord::min(*last, settled),
                _ => settled,
            };
            if reached > watermark {
                watermarks::Entity::update_many()
                    .col_expr(watermarks::Column::LastEventId, Expr::value(reached))
                    .filter(watermarks::Column::OrganizationId.eq(org))
                    .exec(m.txn())
                    .await
                    .map_err(db_err)?;
            }
            Ok(FedOutcomes { recorded, more })
        })
        .await
    }

    /// Organizations with history endings after their watermark, the furthest behind first.
    pub(super) async fn organizations_to_feed(
        &self,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>> {
        let (o, w, e) = (Alias::new("o"), Alias::new("w"), Alias::new("e"));
        let position = Func::coalesce([
            Expr::col((w.clone(), watermarks::Column::LastEventId)),
            Expr::val(Uuid::nil()),
        ]);
        let endings = Query::select()
            .expr(Expr::val(1))
            .from_as(task_events::Entity, e.clone())
            .and_where(
                Expr::col((e.clone(), task_events::Column::OrganizationId))
                    .equals((o.clone(), organizations::Column::Id)),
            )
            .and_where(Expr::col((e.clone(), task_events::Column::Id)).gt(position.clone()))
            .and_where(
                Expr::col((e.clone(), task_events::Column::ToStatus))
                    .is_in(ENDINGS.map(TaskStatus::as_str)),
            )
            .to_owned();
        let query = Query::select()
            .column((o.clone(), organizations::Column::Id))
            .from_as(organizations::Entity, o.clone())
            .join_as(
                JoinType::LeftJoin,
                watermarks::Entity,
                w.clone(),
                Expr::col((w.clone(), watermarks::Column::OrganizationId))
                    .equals((o.clone(), organizations::Column::Id)),
            )
            .and_where(Expr::exists(endings))
            .order_by_expr(position.into(), Order::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let db = self.db().await;
        let rows = db.query_all(&query).await.map_err(db_err)?;
        rows.iter()
            .map(|row| {
                row.try_get_by_index::<Uuid>(0)
                    .map(OrganizationId::from_uuid)
                    .map_err(db_err)
            })
            .collect()
    }
}
