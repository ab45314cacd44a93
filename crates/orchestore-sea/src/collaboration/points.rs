//! The points ledger and standings.

use orchestore_domain::{
    EloSettings, NewPointAward, OrganizationId, Participant, PointAward, PointAwardId, PointReason,
    PointSource, Standing,
};
use orchestore_repo::{
    Ctx, Cursor, Page, PageRequest, PointAwardFilter, PointAwardSort, PointsRepo, RepoError,
    RepoResult,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::entity::{point_awards, standings};
use super::{
    ensure_standings, holder_columns, holder_entity, holder_exists, holder_of, rank_settings,
    require_holder,
};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Audited, Mutation, Verb, snapshot};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};

fn to_award(row: point_awards::Model) -> RepoResult<PointAward> {
    let bad = |e: String| corrupt(point_awards::Entity::NAME, e);
    Ok(PointAward {
        id: PointAwardId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        holder: holder_of(point_awards::Entity::NAME, row.agent_id, row.user_id)?,
        points: row.points,
        reason: PointReason::parse(&row.reason).map_err(|e| bad(e.to_string()))?,
        source: PointSource::parse(&row.source).map_err(|e| bad(e.to_string()))?,
        awarded_at: row.awarded_at,
    })
}

/// Appends `new` to the ledger and adds it to its holder's standing, with its audit row, in
/// the mutation's transaction (the holder is known to exist): what an award, an achievement's
/// points, a redeemed reward, a penalty and an overturned one all write.
pub(super) async fn award_within(m: &Mutation<'_>, new: &NewPointAward) -> RepoResult<PointAward> {
    let ctx = m.ctx();
    ensure_standings(m.txn(), ctx, &[new.holder], m.at()).await?;
    // Added in the database, so that concurrent awards to one holder all count.
    let points = new.points.get();
    standings::Entity::update_many()
        .col_expr(
            standings::Column::Points,
            Expr::col(standings::Column::Points).add(points),
        )
        .col_expr(
            standings::Column::Experience,
            Expr::col(standings::Column::Experience).add(new.points.experience()),
        )
        .col_expr(standings::Column::UpdatedAt, Expr::value(m.at()))
        .filter(standings::Column::OrganizationId.eq(ctx.org().as_uuid()))
        .filter(standings::Column::HolderId.eq(new.holder.id()))
        .exec(m.txn())
        .await
        .map_err(db_err)?;
    let (agent_id, user_id) = holder_columns(new.holder);
    let row = point_awards::ActiveModel {
        organization_id: Set(ctx.org().as_uuid()),
        id: Set(PointAwardId::new().as_uuid()),
        holder_id: Set(new.holder.id()),
        agent_id: Set(agent_id),
        user_id: Set(user_id),
        points: Set(points),
        reason: Set(new.reason.as_str().to_owned()),
        source: Set(new.source.as_str().to_owned()),
        awarded_at: Set(m.at()),
    }
    .insert(m.txn())
    .await
    .map_err(db_err)?;
    let award = to_award(row)?;
    m.audit::<point_awards::Entity>(Verb::Create, award.id, snapshot(&award))
        .await?;
    Ok(award)
}

#[async_trait::async_trait]
impl PointsRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), holder = %new.holder))]
    async fn award_points(&self, ctx: &Ctx, new: NewPointAward) -> RepoResult<PointAward> {
        self.mutate(ctx, async |m| {
            require_holder(m.txn(), ctx, "holder", new.holder).await?;
            award_within(m, &new).await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), award = %id))]
    async fn get_point_award(&self, ctx: &Ctx, id: PointAwardId) -> RepoResult<PointAward> {
        self.find_scoped::<point_awards::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_award)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_point_awards(
        &self,
        ctx: &Ctx,
        filter: PointAwardFilter,
        page: PageRequest<PointAwardSort>,
    ) -> RepoResult<Page<PointAward, PointAwardSort>> {
        let mut query = scoped::<point_awards::Entity>(ctx);
        if let Some(holder) = filter.holder {
            query = query.filter(point_awards::Column::HolderId.eq(holder.id()));
        }
        // Ids are UUIDv7 taken when the award is written: id order is award order.
        let keyset = match page.sort() {
            PointAwardSort::AwardedAt => Keyset::OldestFirst,
            PointAwardSort::AwardedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let awards = rows
            .into_iter()
            .map(to_award)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(awards, &page, |award| {
            Cursor::after(page.sort(), award.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), holder = %holder))]
    async fn get_standing(&self, ctx: &Ctx, holder: Participant) -> RepoResult<Standing> {
        let db = self.db().await;
        if !holder_exists(&db, ctx, holder).await? {
            return Err(RepoError::not_found(holder_entity(holder), holder.id()));
        }
        let settings = rank_settings(&db, ctx).await?.value;
        let row = standings::Entity::find_by_id((ctx.org().as_uuid(), holder.id()))
            .one(&db)
            .await
            .map_err(db_err)?;
        let (points, experience, rating, matches_played, updated_at) = match row {
            Some(row) => (
                row.points,
                row.experience,
                row.rating,
                row.matches_played,
                Some(row.updated_at),
            ),
            None => (0, 0, EloSettings::INITIAL_RATING, 0, None),
        };
        Ok(Standing {
            holder,
            points,
            experience,
            level: settings.level_thresholds.level_of(experience),
            rating,
            matches_played,
            updated_at,
        })
    }
}
