//! The organization's rules for ranks, and leaderboards.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, EloSettings, LeaderboardEntry, LeaderboardKind, LeaderboardWeights, LevelThreshold,
    LevelThresholds, RankSettings, Reputation, ReputationDimension, Revised, Revision,
    overall_from_key, reputation_key_scale,
};
use orchestore_repo::{Ctx, LeaderboardQuery, RankRepo, RepoResult};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, NotSet, Order, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use uuid::Uuid;

use super::boards::{latest_combined, leaderboard_weights};
use super::entity::{collaboration_settings, point_awards, reputation_events, standings};
use super::{holder_of, rank_settings};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Audited, Verb, diff};
use crate::revision::{SettingsTable, replace_settings, to_revision};
use crate::scoped::scoped;

/// A standing's holder and totals, as the combined ranking reads them: holder, agent, user,
/// points, rating, reputation key.
type CombinedRow = (Uuid, Option<Uuid>, Option<Uuid>, i64, i32, f64);

/// Ranks `(holder, score)` rows sorted best first: equal scores share a rank (1, 1, 3).
pub(super) fn ranked(
    entity: &'static str,
    rows: Vec<(Uuid, Option<Uuid>, Option<Uuid>, f64)>,
) -> RepoResult<Vec<LeaderboardEntry>> {
    let mut entries: Vec<LeaderboardEntry> = Vec::with_capacity(rows.len());
    for (position, (_, agent, user, score)) in (1u32..).zip(rows) {
        let rank = match entries.last() {
            Some(last) if last.score == score => last.rank,
            _ => position,
        };
        entries.push(LeaderboardEntry {
            rank,
            holder: holder_of(entity, agent, user)?,
            score,
        });
    }
    Ok(entries)
}

/// A leaderboard read from the standings and the ledger as they are: every kind but the
/// combined ranking, which is read from its snapshots (see `boards`).
pub(super) async fn live_board(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    query: LeaderboardQuery,
) -> RepoResult<Vec<LeaderboardEntry>> {
    query.kind.check_period(query.period)?;
    let limit = u64::from(query.limit.get());
    let org = ctx.org().as_uuid();
    let start = query.period.start(query.as_of);
    let rows: Vec<(Uuid, Option<Uuid>, Option<Uuid>, f64)> = match (query.kind, start) {
        // The first rows of `idx_standings_points` / `idx_standings_rating` (a rating has no
        // period: `check_period` refused one).
        (LeaderboardKind::Points, None) | (LeaderboardKind::Rating, _) => {
            let (column, agents_only) = match query.kind {
                LeaderboardKind::Points => (standings::Column::Points, false),
                _ => (standings::Column::Rating, true),
            };
            let mut select = standings::Entity::find()
                .filter(standings::Column::OrganizationId.eq(org))
                .select_only()
                .column(standings::Column::HolderId)
                .column(standings::Column::AgentId)
                .column(standings::Column::UserId)
                .column_as(Expr::col(column).cast_as("BIGINT"), "score")
                .order_by(column, Order::Desc)
                .order_by(standings::Column::HolderId, Order::Asc)
                .limit(limit);
            if agents_only {
                select = select.filter(standings::Column::AgentId.is_not_null());
            }
            let rows: Vec<(Uuid, Option<Uuid>, Option<Uuid>, i64)> =
                select.into_tuple().all(db).await.map_err(db_err)?;
            whole(rows)
        }
        // The ledger's entries of the period: a range of `idx_point_awards_awarded_at`.
        (LeaderboardKind::Points, Some(start)) => {
            let total = || Expr::cust("CAST(SUM(points) AS BIGINT)");
            let rows: Vec<(Uuid, Option<Uuid>, Option<Uuid>, i64)> = point_awards::Entity::find()
                .filter(point_awards::Column::OrganizationId.eq(org))
                .filter(point_awards::Column::AwardedAt.gte(start))
                .filter(point_awards::Column::AwardedAt.lte(query.as_of))
                .select_only()
                .column(point_awards::Column::HolderId)
                .column(point_awards::Column::AgentId)
                .column(point_awards::Column::UserId)
                .column_as(total(), "score")
                .group_by(point_awards::Column::HolderId)
                .group_by(point_awards::Column::AgentId)
                .group_by(point_awards::Column::UserId)
                .order_by(total(), Order::Desc)
                .order_by(point_awards::Column::HolderId, Order::Asc)
                .limit(limit)
                .into_tuple()
                .all(db)
                .await
                .map_err(db_err)?;
            whole(rows)
        }
        (LeaderboardKind::Reputation, _) => reputation_rows(db, ctx, query.as_of, limit).await?,
        (LeaderboardKind::Combined, _) => {
            let weights = leaderboard_weights(db, ctx).await?.value;
            combined_rows(db, ctx, weights, query.as_of, limit).await?
        }
    };
    ranked(standings::Entity::NAME, rows)
}

fn whole(
    rows: Vec<(Uuid, Option<Uuid>, Option<Uuid>, i64)>,
) -> Vec<(Uuid, Option<Uuid>, Option<Uuid>, f64)> {
    rows.into_iter()
        .map(|(holder, agent, user, score)| (holder, agent, user, score as f64))
        .collect()
}

/// The agents by reputation at `as_of`. When no event of the organization is later, the first
/// rows of `idx_standings_reputation`, each key scaled to the score at `as_of`; for an earlier
/// instant the key holds events after it, so the scores are summed from the events up to then
/// (every event of that range: a read of the past, not of the top).
async fn reputation_rows(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    as_of: DateTime<Utc>,
    limit: u64,
) -> RepoResult<Vec<(Uuid, Option<Uuid>, Option<Uuid>, f64)>> {
    let later = scoped::<reputation_events::Entity>(ctx)
        .filter(reputation_events::Column::OccurredAt.gt(as_of))
        .select_only()
        .column(reputation_events::Column::Id)
        .limit(1)
        .into_tuple::<Uuid>()
        .one(db)
        .await
        .map_err(db_err)?;
    if later.is_none() {
        let rows: Vec<(Uuid, Option<Uuid>, Option<Uuid>, f64)> = standings::Entity::find()
            .filter(standings::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(standings::Column::AgentId.is_not_null())
            .select_only()
            .column(standings::Column::HolderId)
            .column(standings::Column::AgentId)
            .column(standings::Column::UserId)
            .column(standings::Column::ReputationKey)
            .order_by(standings::Column::ReputationKey, Order::Desc)
            .order_by(standings::Column::HolderId, Order::Asc)
            .limit(limit)
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        return Ok(rows
            .into_iter()
            .map(|(holder, agent, user, key)| (holder, agent, user, overall_from_key(key, as_of)))
            .collect());
    }
    let events: Vec<(Uuid, i32, DateTime<Utc>)> = scoped::<reputation_events::Entity>(ctx)
        .filter(reputation_events::Column::OccurredAt.lte(as_of))
        .select_only()
        .column(reputation_events::Column::AgentId)
        .column(reputation_events::Column::Delta)
        .column(reputation_events::Column::OccurredAt)
        .into_tuple()
        .all(db)
        .await
        .map_err(db_err)?;
    let mut by_agent: BTreeMap<Uuid, Vec<(ReputationDimension, i32, DateTime<Utc>)>> =
        BTreeMap::new();
    for (agent, delta, at) in events {
        // The overall score is the mean of the four dimensions: which one does not matter.
        by_agent
            .entry(agent)
            .or_default()
            .push((ReputationDimension::Trust, delta, at));
    }
    let mut rows: Vec<(Uuid, Option<Uuid>, Option<Uuid>, f64)> = by_agent
        .into_iter()
        .map(|(agent, events)| {
            let score = Reputation::at(AgentId::from_uuid(agent), as_of, events).overall;
            (agent, Some(agent), None, score)
        })
        .collect();
    rows.sort_by(|a, b| b.3.total_cmp(&a.3).then(a.0.cmp(&b.0)));
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(rows)
}

/// The holders by combined score at `as_of`, computed over every standing of the
/// organization (what a snapshot of the combined ranking does once, so that reads of it do
/// not): `points × w + (rating − 1500) × w + overall × w`, the overall from the key.
pub(super) async fn combined_rows(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    weights: LeaderboardWeights,
    as_of: DateTime<Utc>,
    limit: u64,
) -> RepoResult<Vec<(Uuid, Option<Uuid>, Option<Uuid>, f64)>> {
    let scale = reputation_key_scale(as_of);
    let combined = Expr::val(weights.points())
        .mul(Expr::col(standings::Column::Points))
        .add(
            Expr::val(weights.rating())
                .mul(Expr::col(standings::Column::Rating).sub(EloSettings::INITIAL_RATING)),
        )
        .add(
            Expr::val(weights.reputation() * scale)
                .mul(Expr::col(standings::Column::ReputationKey)),
        );
    let rows: Vec<CombinedRow> = standings::Entity::find()
        .filter(standings::Column::OrganizationId.eq(ctx.org().as_uuid()))
        .select_only()
        .column(standings::Column::HolderId)
        .column(standings::Column::AgentId)
        .column(standings::Column::UserId)
        .column(standings::Column::Points)
        .column(standings::Column::Rating)
        .column(standings::Column::ReputationKey)
        .order_by(combined, Order::Desc)
        .order_by(standings::Column::HolderId, Order::Asc)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
        .map_err(db_err)?;
    Ok(rows
        .into_iter()
        .map(|(holder, agent, user, points, rating, key)| {
            let score = weights.combined(points, rating, overall_from_key(key, as_of));
            (holder, agent, user, (score * 1000.0).round() / 1000.0)
        })
        .collect())
}

impl SettingsTable for collaboration_settings::Entity {
    type Settings = RankSettings;

    fn organization_column() -> collaboration_settings::Column {
        collaboration_settings::Column::OrganizationId
    }

    /// The rank settings the row holds, or the standard ones without one.
    fn settings_of(
        row: Option<collaboration_settings::Model>,
    ) -> RepoResult<Revised<RankSettings>> {
        let Some(row) = row else {
            return Ok(Revised {
                value: RankSettings::default(),
                revision: Revision::FIRST,
            });
        };
        let bad = |e: String| corrupt(collaboration_settings::Entity::NAME, e);
        let steps: Vec<LevelThreshold> =
            serde_json::from_value(row.level_thresholds).map_err(|e| bad(e.to_string()))?;
        let unsigned = |value: i32| u32::try_from(value).map_err(|e| bad(e.to_string()));
        let value = RankSettings {
            level_thresholds: LevelThresholds::parse(steps).map_err(|e| bad(e.to_string()))?,
            elo: EloSettings::parse(
                unsigned(row.k_factor)?,
                unsigned(row.provisional_k_factor)?,
                unsigned(row.provisional_matches)?,
            )
            .map_err(|e| bad(e.to_string()))?,
        };
        Ok(Revised {
            value,
            revision: to_revision(collaboration_settings::Entity::NAME, row.revision)?,
        })
    }
}

#[async_trait::async_trait]
impl RankRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn get_rank_settings(&self, ctx: &Ctx) -> RepoResult<Revised<RankSettings>> {
        rank_settings(&self.db().await, ctx).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn set_rank_settings(
        &self,
        ctx: &Ctx,
        settings: RankSettings,
        expected: Option<Revision>,
    ) -> RepoResult<Revised<RankSettings>> {
        self.mutate(ctx, async |m| {
            let signed = |value: u32| Set(i32::try_from(value).unwrap_or(i32::MAX));
            let (before, revision) = replace_settings(
                m.txn(),
                ctx,
                collaboration_settings::ActiveModel {
                    organization_id: Set(ctx.org().as_uuid()),
                    level_thresholds: Set(serde_json::to_value(&settings.level_thresholds)
                        .map_err(orchestore_repo::RepoError::internal)?),
                    k_factor: signed(settings.elo.k_factor()),
                    provisional_k_factor: signed(settings.elo.provisional_k_factor()),
                    provisional_matches: signed(settings.elo.provisional_matches()),
                    updated_at: Set(m.at()),
                    revision: NotSet,
                },
                expected,
            )
            .await?;
            m.audit::<collaboration_settings::Entity>(
                Verb::Update,
                ctx.org(),
                diff(&before, &settings),
            )
            .await?;
            Ok(Revised {
                value: settings,
                revision,
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), kind = %query.kind, period = %query.period))]
    async fn leaderboard(
        &self,
        ctx: &Ctx,
        query: LeaderboardQuery,
    ) -> RepoResult<Vec<LeaderboardEntry>> {
        let db = self.db().await;
        match query.kind {
            LeaderboardKind::Combined => {
                query.kind.check_period(query.period)?;
                latest_combined(&db, ctx, query.as_of, query.limit).await
            }
            _ => live_board(&db, ctx, query).await,
        }
    }
}
