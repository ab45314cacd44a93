//! Leaderboard weights, snapshots (on demand and scheduled) and the hall of fame.

use std::time::Duration;

use chrono::{DateTime, Utc};
use orchestore_domain::{
    HallOfFameEntry, LeaderboardEntry, LeaderboardKind, LeaderboardPeriod, LeaderboardSnapshot,
    LeaderboardSnapshotId, LeaderboardWeights, OrganizationId, Revised, Revision, SCHEDULED_BOARDS,
    SNAPSHOT_SIZE, SnapshotBoard, SnapshotTrigger,
};
use orchestore_repo::{
    BoardRepo, Ctx, Cursor, HallOfFameQuery, LeaderboardQuery, Limit, Page, PageRequest,
    RepoResult, SnapshotFilter, SnapshotSort,
};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, NotSet, Order, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use uuid::Uuid;

use super::entity::{
    leaderboard_settings, leaderboard_snapshot_entries as entries, leaderboard_snapshots, standings,
};
use super::holder_of;
use super::ranks::live_board;
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Audited, Mutation, Verb, diff, snapshot};
use crate::revision::{SettingsTable, read_settings, replace_settings, to_revision};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};
use crate::store::now;

/// The organization's weights: its row, or the standard ones.
pub(super) async fn leaderboard_weights(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
) -> RepoResult<Revised<LeaderboardWeights>> {
    read_settings::<leaderboard_settings::Entity>(db, ctx, Lock::None).await
}

impl SettingsTable for leaderboard_settings::Entity {
    type Settings = LeaderboardWeights;

    fn organization_column() -> leaderboard_settings::Column {
        leaderboard_settings::Column::OrganizationId
    }

    /// The row's weights, or the standard ones without one.
    fn settings_of(
        row: Option<leaderboard_settings::Model>,
    ) -> RepoResult<Revised<LeaderboardWeights>> {
        let Some(row) = row else {
            return Ok(Revised {
                value: LeaderboardWeights::default(),
                revision: Revision::FIRST,
            });
        };
        Ok(Revised {
            value: LeaderboardWeights::parse(
                row.weight_points,
                row.weight_rating,
                row.weight_reputation,
            )
            .map_err(|e| corrupt(leaderboard_settings::Entity::NAME, e))?,
            revision: to_revision(leaderboard_settings::Entity::NAME, row.revision)?,
        })
    }
}

/// The combined ranking as of `as_of`: the rows of the latest snapshot of it taken then or
/// before (none before the first): one row of `idx_leaderboard_snapshots_board`, then the
/// first rows of the snapshot's key.
pub(super) async fn latest_combined(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    as_of: DateTime<Utc>,
    limit: Limit,
) -> RepoResult<Vec<LeaderboardEntry>> {
    let latest = scoped::<leaderboard_snapshots::Entity>(ctx)
        .filter(leaderboard_snapshots::Column::Kind.eq(LeaderboardKind::Combined.as_str()))
        .filter(leaderboard_snapshots::Column::Period.eq(LeaderboardPeriod::AllTime.as_str()))
        .filter(leaderboard_snapshots::Column::TakenAt.lte(as_of))
        .select_only()
        .column(leaderboard_snapshots::Column::Id)
        .order_by_desc(leaderboard_snapshots::Column::Id)
        .limit(1)
        .into_tuple::<Uuid>()
        .one(db)
        .await
        .map_err(db_err)?;
    match latest {
        Some(id) => snapshot_entries(db, ctx, id, Some(u64::from(limit.get()))).await,
        None => Ok(Vec::new()),
    }
}

/// The rows of snapshot `id` in order, the first `limit` of them or all.
async fn snapshot_entries(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    id: Uuid,
    limit: Option<u64>,
) -> RepoResult<Vec<LeaderboardEntry>> {
    let rows = entries::Entity::find()
        .filter(entries::Column::OrganizationId.eq(ctx.org().as_uuid()))
        .filter(entries::Column::SnapshotId.eq(id))
        .order_by_asc(entries::Column::Position)
        .limit(limit)
        .all(db)
        .await
        .map_err(db_err)?;
    rows.into_iter()
        .map(|row| {
            Ok(LeaderboardEntry {
                rank: u32::try_from(row.rank)
                    .map_err(|e| corrupt(leaderboard_snapshots::Entity::NAME, e))?,
                holder: holder_of(
                    leaderboard_snapshots::Entity::NAME,
                    row.agent_id,
                    row.user_id,
                )?,
                score: row.score,
            })
        })
        .collect()
}

fn to_snapshot(row: leaderboard_snapshots::Model) -> RepoResult<LeaderboardSnapshot> {
    let bad = |e: String| corrupt(leaderboard_snapshots::Entity::NAME, e);
    Ok(LeaderboardSnapshot {
        id: LeaderboardSnapshotId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        kind: row.kind.parse().map_err(|e| bad(format!("{e}")))?,
        period: row.period.parse().map_err(|e| bad(format!("{e}")))?,
        trigger: row.trigger.parse().map_err(|e| bad(format!("{e}")))?,
        taken_at: row.taken_at,
        size: u32::try_from(row.size).map_err(|e| bad(e.to_string()))?,
    })
}

/// A holder of the hall of fame as read: holder, agent, user, times, best rank, first and
/// last time.
type FameRow = (
    Uuid,
    Option<Uuid>,
    Option<Uuid>,
    i64,
    i32,
    DateTime<Utc>,
    DateTime<Utc>,
);

/// The slot of `every` that holds `at`: whole `every`s since the Unix epoch.
fn slot_of(at: DateTime<Utc>, every: Duration) -> i64 {
    let seconds = i64::try_from(Ord::max(every.as_secs(), 1)).unwrap_or(i64::MAX);
    at.timestamp().div_euclid(seconds)
}

/// Takes a snapshot of one leaderboard in the mutation's transaction, with its audit row; a
/// scheduled one only when its slot is not taken yet (`None` then).
async fn take(
    m: &Mutation<'_>,
    kind: LeaderboardKind,
    period: LeaderboardPeriod,
    trigger: SnapshotTrigger,
    slot: Option<i64>,
) -> RepoResult<Option<SnapshotBoard>> {
    let ctx = m.ctx();
    let query = LeaderboardQuery {
        kind,
        period,
        as_of: m.at(),
        limit: Limit::parse(u64::from(SNAPSHOT_SIZE))?,
    };
    let board = live_board(m.txn(), ctx, query).await?;
    let id = LeaderboardSnapshotId::new();
    let size = i32::try_from(board.len()).unwrap_or(i32::MAX);
    let inserted = leaderboard_snapshots::Entity::insert(leaderboard_snapshots::ActiveModel {
        organization_id: Set(ctx.org().as_uuid()),
        id: Set(id.as_uuid()),
        kind: Set(kind.as_str().to_owned()),
        period: Set(period.as_str().to_owned()),
        trigger: Set(trigger.as_str().to_owned()),
        slot: Set(slot),
        size: Set(size),
        taken_at: Set(m.at()),
    })
    // Another caller took this slot's snapshot: this one writes nothing.
    .on_conflict(
        OnConflict::columns([
            leaderboard_snapshots::Column::OrganizationId,
            leaderboard_snapshots::Column::Kind,
            leaderboard_snapshots::Column::Period,
            leaderboard_snapshots::Column::Slot,
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
    if !board.is_empty() {
        let rows = (1i32..).zip(&board).map(|(position, entry)| {
            let (agent_id, user_id) = super::holder_columns(entry.holder);
            entries::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                snapshot_id: Set(id.as_uuid()),
                position: Set(position),
                rank: Set(i32::try_from(entry.rank).unwrap_or(i32::MAX)),
                holder_id: Set(entry.holder.id()),
                agent_id: Set(agent_id),
                user_id: Set(user_id),
                score: Set(entry.score),
                kind: Set(kind.as_str().to_owned()),
                period: Set(period.as_str().to_owned()),
                taken_at: Set(m.at()),
            }
        });
        entries::Entity::insert_many(rows)
            .exec_without_returning(m.txn())
            .await
            .map_err(db_err)?;
    }
    let header = LeaderboardSnapshot {
        id,
        organization_id: ctx.org(),
        kind,
        period,
        trigger,
        taken_at: m.at(),
        size: u32::try_from(size).unwrap_or(0),
    };
    m.audit::<leaderboard_snapshots::Entity>(Verb::Create, id, snapshot(&header))
        .await?;
    Ok(Some(SnapshotBoard {
        snapshot: header,
        entries: board,
    }))
}

#[async_trait::async_trait]
impl BoardRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn get_leaderboard_weights(&self, ctx: &Ctx) -> RepoResult<Revised<LeaderboardWeights>> {
        leaderboard_weights(&self.db().await, ctx).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn set_leaderboard_weights(
        &self,
        ctx: &Ctx,
        weights: LeaderboardWeights,
        expected: Option<Revision>,
    ) -> RepoResult<Revised<LeaderboardWeights>> {
        self.mutate(ctx, async |m| {
            let (before, revision) = replace_settings(
                m.txn(),
                ctx,
                leaderboard_settings::ActiveModel {
                    organization_id: Set(ctx.org().as_uuid()),
                    weight_points: Set(weights.points()),
                    weight_rating: Set(weights.rating()),
                    weight_reputation: Set(weights.reputation()),
                    updated_at: Set(m.at()),
                    revision: NotSet,
                },
                expected,
            )
            .await?;
            m.audit::<leaderboard_settings::Entity>(
                Verb::Update,
                ctx.org(),
                diff(&before, &weights),
            )
            .await?;
            Ok(Revised {
                value: weights,
                revision,
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), kind = %kind, period = %period))]
    async fn take_leaderboard_snapshot(
        &self,
        ctx: &Ctx,
        kind: LeaderboardKind,
        period: LeaderboardPeriod,
    ) -> RepoResult<SnapshotBoard> {
        kind.check_period(period)?;
        self.mutate(ctx, async |m| {
            take(m, kind, period, SnapshotTrigger::OnDemand, None)
                .await?
                .ok_or_else(|| {
                    orchestore_repo::RepoError::internal("a snapshot without a slot conflicted")
                })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn take_scheduled_snapshots(
        &self,
        ctx: &Ctx,
        every: Duration,
    ) -> RepoResult<Vec<LeaderboardSnapshot>> {
        self.mutate(ctx, async |m| {
            let slot = slot_of(m.at(), every);
            let mut taken = Vec::new();
            for (kind, period) in SCHEDULED_BOARDS {
                if let Some(board) =
                    take(m, kind, period, SnapshotTrigger::Scheduled, Some(slot)).await?
                {
                    taken.push(board.snapshot);
                }
            }
            Ok(taken)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn organizations_due_for_snapshots(
        &self,
        every: Duration,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>> {
        let slot = slot_of(now(), every);
        let taken = Query::select()
            .expr(Expr::val(1))
            .from(leaderboard_snapshots::Entity)
            .and_where(
                Expr::col((
                    leaderboard_snapshots::Entity,
                    leaderboard_snapshots::Column::OrganizationId,
                ))
                .equals((standings::Entity, standings::Column::OrganizationId)),
            )
            .and_where(
                Expr::col((
                    leaderboard_snapshots::Entity,
                    leaderboard_snapshots::Column::Slot,
                ))
                .eq(slot),
            )
            .to_owned();
        let organizations: Vec<Uuid> = standings::Entity::find()
            .select_only()
            .column(standings::Column::OrganizationId)
            .distinct()
            .filter(Expr::exists(taken).not())
            .limit(u64::from(limit))
            .into_tuple()
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        Ok(organizations
            .into_iter()
            .map(OrganizationId::from_uuid)
            .collect())
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_leaderboard_snapshots(
        &self,
        ctx: &Ctx,
        filter: SnapshotFilter,
        page: PageRequest<SnapshotSort>,
    ) -> RepoResult<Page<LeaderboardSnapshot, SnapshotSort>> {
        let mut query = scoped::<leaderboard_snapshots::Entity>(ctx);
        if let Some(kind) = filter.kind {
            query = query.filter(leaderboard_snapshots::Column::Kind.eq(kind.as_str()));
        }
        if let Some(period) = filter.period {
            query = query.filter(leaderboard_snapshots::Column::Period.eq(period.as_str()));
        }
        // Ids are UUIDv7 taken when the snapshot is: id order is the order they were taken.
        let keyset = match page.sort() {
            SnapshotSort::TakenAt => Keyset::OldestFirst,
            SnapshotSort::TakenAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let snapshots = rows
            .into_iter()
            .map(to_snapshot)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(snapshots, &page, |snapshot| {
            Cursor::after(page.sort(), snapshot.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), snapshot = %id))]
    async fn get_leaderboard_snapshot(
        &self,
        ctx: &Ctx,
        id: LeaderboardSnapshotId,
    ) -> RepoResult<SnapshotBoard> {
        let db = self.db().await;
        let row = self
            .find_scoped::<leaderboard_snapshots::Entity>(&db, ctx, id, Lock::None)
            .await?;
        let entries = snapshot_entries(&db, ctx, row.id, None).await?;
        Ok(SnapshotBoard {
            snapshot: to_snapshot(row)?,
            entries,
        })
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), kind = %query.kind, period = %query.period))]
    async fn hall_of_fame(
        &self,
        ctx: &Ctx,
        query: HallOfFameQuery,
    ) -> RepoResult<Vec<HallOfFameEntry>> {
        query.kind.check_period(query.period)?;
        let times = || Expr::cust("COUNT(*)");
        let last = || Expr::col(entries::Column::TakenAt).max();
        // A range of `idx_leaderboard_snapshot_entries_fame`: the rows of one leaderboard
        // ranked `top` or better.
        let rows: Vec<FameRow> = entries::Entity::find()
            .filter(entries::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(entries::Column::Kind.eq(query.kind.as_str()))
            .filter(entries::Column::Period.eq(query.period.as_str()))
            .filter(entries::Column::Rank.lte(query.top.get()))
            .select_only()
            .column(entries::Column::HolderId)
            .column(entries::Column::AgentId)
            .column(entries::Column::UserId)
            .column_as(times(), "times")
            .column_as(Expr::col(entries::Column::Rank).min(), "best_rank")
            .column_as(Expr::col(entries::Column::TakenAt).min(), "first_at")
            .column_as(last(), "last_at")
            .group_by(entries::Column::HolderId)
            .group_by(entries::Column::AgentId)
            .group_by(entries::Column::UserId)
            .order_by(times(), Order::Desc)
            .order_by(last(), Order::Desc)
            .order_by(entries::Column::HolderId, Order::Asc)
            .limit(u64::from(query.limit.get()))
            .into_tuple()
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let bad = |e: std::num::TryFromIntError| corrupt(leaderboard_snapshots::Entity::NAME, e);
        rows.into_iter()
            .map(|(_, agent, user, times, best, first_at, last_at)| {
                Ok(HallOfFameEntry {
                    holder: holder_of(leaderboard_snapshots::Entity::NAME, agent, user)?,
                    times: u32::try_from(times).map_err(bad)?,
                    best_rank: u32::try_from(best).map_err(bad)?,
                    first_at,
                    last_at,
                })
            })
            .collect()
    }
}
