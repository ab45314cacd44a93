//! The organization's rules for ranks, and leaderboards.

use orchestore_domain::{DomainError, LeaderboardEntry, LeaderboardKind, RankSettings};
use orchestore_repo::{Ctx, LeaderboardQuery, RankRepo, RepoResult};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use super::entity::{collaboration_settings, point_awards, standings};
use super::{holder_of, rank_settings};
use crate::SeaStore;
use crate::error::db_err;
use crate::mutation::{Audited, Verb, diff};

/// Ranks `(holder, score)` rows sorted best first: equal scores share a rank (1, 1, 3).
fn ranked(
    entity: &'static str,
    rows: Vec<(Uuid, Option<Uuid>, Option<Uuid>, i64)>,
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

#[async_trait::async_trait]
impl RankRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn get_rank_settings(&self, ctx: &Ctx) -> RepoResult<RankSettings> {
        rank_settings(&self.db().await, ctx).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn set_rank_settings(
        &self,
        ctx: &Ctx,
        settings: RankSettings,
    ) -> RepoResult<RankSettings> {
        self.mutate(ctx, async |m| {
            let before = rank_settings(m.txn(), ctx).await?;
            let signed = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
            collaboration_settings::Entity::insert(collaboration_settings::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                level_thresholds: Set(serde_json::to_value(&settings.level_thresholds)
                    .map_err(orchestore_repo::RepoError::internal)?),
                k_factor: Set(signed(settings.elo.k_factor())),
                provisional_k_factor: Set(signed(settings.elo.provisional_k_factor())),
                provisional_matches: Set(signed(settings.elo.provisional_matches())),
                updated_at: Set(m.at()),
            })
            .on_conflict(
                OnConflict::column(collaboration_settings::Column::OrganizationId)
                    .update_columns([
                        collaboration_settings::Column::LevelThresholds,
                        collaboration_settings::Column::KFactor,
                        collaboration_settings::Column::ProvisionalKFactor,
                        collaboration_settings::Column::ProvisionalMatches,
                        collaboration_settings::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(m.txn())
            .await
            .map_err(db_err)?;
            m.audit::<collaboration_settings::Entity>(
                Verb::Update,
                ctx.org(),
                diff(&before, &settings),
            )
            .await?;
            Ok(settings)
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
        let limit = u64::from(query.limit.get());
        let org = ctx.org().as_uuid();
        let start = query.period.start(query.as_of);
        let rows: Vec<(Uuid, Option<Uuid>, Option<Uuid>, i64)> = match (query.kind, start) {
            (LeaderboardKind::Rating, Some(_)) => {
                return Err(DomainError::invalid(
                    "period",
                    "a rating is current: only all_time applies",
                )
                .into());
            }
            // The first rows of `idx_standings_points` / `idx_standings_rating`.
            (LeaderboardKind::Points | LeaderboardKind::Rating, None) => {
                let (column, agents_only) = match query.kind {
                    LeaderboardKind::Points => (standings::Column::Points, false),
                    LeaderboardKind::Rating => (standings::Column::Rating, true),
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
                select.into_tuple().all(&db).await.map_err(db_err)?
            }
            // The ledger's entries of the period: a range of `idx_point_awards_awarded_at`.
            (LeaderboardKind::Points, Some(start)) => {
                let total = || Expr::cust("CAST(SUM(points) AS BIGINT)");
                point_awards::Entity::find()
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
                    .all(&db)
                    .await
                    .map_err(db_err)?
            }
        };
        ranked(standings::Entity::NAME, rows)
    }
}
