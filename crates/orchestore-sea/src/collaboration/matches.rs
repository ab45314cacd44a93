//! Rated matches: ratings move in the transaction that records the result.

use orchestore_domain::{
    AgentId, Match, MatchId, MatchStatus, MatchSubject, NewMatch, OrganizationId, Participant,
    Placements, RatingChange, TaskId, elo_changes,
};
use orchestore_repo::{
    Ctx, Cursor, MatchRepo, Page, PageRequest, RatingHistorySort, RepoError, RepoResult,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::{match_players, matches, standings};
use super::{ensure_standings, holder_exists, rank_settings};
use crate::SeaStore;
use crate::agents::entity::agents;
use crate::error::{corrupt, db_err};
use crate::mutation::{Audited, Verb, snapshot};
use crate::scoped::{Lock, scoped};
use crate::work::entity::tasks;

fn unsigned(entity: &'static str, value: i32) -> RepoResult<u32> {
    u32::try_from(value).map_err(|e| corrupt(entity, e))
}

fn to_change(row: &match_players::Model) -> RepoResult<Option<RatingChange>> {
    let entity = match_players::Entity::NAME;
    match (
        row.place,
        row.rating_before,
        row.rating_after,
        row.finished_at,
    ) {
        (Some(place), Some(before), Some(after), Some(at)) => Ok(Some(RatingChange {
            match_id: MatchId::from_uuid(row.match_id),
            agent_id: AgentId::from_uuid(row.agent_id),
            place: unsigned(entity, place)?,
            rating_before: before,
            rating_after: after,
            at,
        })),
        (None, None, None, None) => Ok(None),
        _ => Err(corrupt(entity, "a result is only partly recorded")),
    }
}

fn to_match(row: matches::Model, players: &[match_players::Model]) -> RepoResult<Match> {
    let bad = |e: String| corrupt(matches::Entity::NAME, e);
    let subject = match (row.task_id, row.challenge) {
        (Some(task), None) => MatchSubject::Task(TaskId::from_uuid(task)),
        (None, Some(challenge)) => {
            MatchSubject::challenge(&challenge).map_err(|e| bad(e.to_string()))?
        }
        _ => return Err(bad("not exactly one of a task and a challenge".into())),
    };
    let status: MatchStatus = row
        .status
        .parse()
        .map_err(|e: orchestore_domain::DomainError| bad(e.to_string()))?;
    let mut changes = Vec::new();
    for player in players {
        if let Some(change) = to_change(player)? {
            changes.push(change);
        }
    }
    Ok(Match {
        id: MatchId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        subject,
        agents: players
            .iter()
            .map(|p| AgentId::from_uuid(p.agent_id))
            .collect(),
        status,
        changes,
        created_at: row.created_at,
        finished_at: row.finished_at,
    })
}

/// The players of match `id`, in the order the match named them.
async fn players_of(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    id: Uuid,
) -> RepoResult<Vec<match_players::Model>> {
    match_players::Entity::find()
        .filter(match_players::Column::OrganizationId.eq(ctx.org().as_uuid()))
        .filter(match_players::Column::MatchId.eq(id))
        .order_by_asc(match_players::Column::Position)
        .all(db)
        .await
        .map_err(db_err)
}

#[async_trait::async_trait]
impl MatchRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_match(&self, ctx: &Ctx, new: NewMatch) -> RepoResult<Match> {
        self.mutate(ctx, async |m| {
            let agents: Vec<Uuid> = new.agents().iter().map(|a| a.as_uuid()).collect();
            let found: Vec<Uuid> = scoped::<agents::Entity>(ctx)
                .filter(agents::Column::Id.is_in(agents.clone()))
                .select_only()
                .column(agents::Column::Id)
                .into_tuple()
                .all(m.txn())
                .await
                .map_err(db_err)?;
            if let Some(missing) = agents.iter().find(|id| !found.contains(id)) {
                return Err(RepoError::reference(
                    "agents",
                    agents::Entity::NAME,
                    missing,
                ));
            }
            let (task_id, challenge) = match new.subject() {
                MatchSubject::Task(task) => {
                    let exists = scoped::<tasks::Entity>(ctx)
                        .filter(tasks::Column::Id.eq(task.as_uuid()))
                        .count(m.txn())
                        .await
                        .map_err(db_err)?;
                    if exists == 0 {
                        return Err(RepoError::reference("task_id", tasks::Entity::NAME, task));
                    }
                    (Some(task.as_uuid()), None)
                }
                MatchSubject::Challenge(challenge) => (None, Some(challenge.as_str().to_owned())),
            };
            let id = MatchId::new().as_uuid();
            let row = matches::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(id),
                task_id: Set(task_id),
                challenge: Set(challenge),
                status: Set(MatchStatus::Open.as_str().to_owned()),
                created_at: Set(m.at()),
                finished_at: Set(None),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let players: Vec<match_players::Model> = agents
                .iter()
                .zip(0..)
                .map(|(agent, position)| match_players::Model {
                    organization_id: ctx.org().as_uuid(),
                    match_id: id,
                    agent_id: *agent,
                    position,
                    place: None,
                    rating_before: None,
                    rating_after: None,
                    finished_at: None,
                })
                .collect();
            match_players::Entity::insert_many(
                players
                    .iter()
                    .cloned()
                    .map(match_players::ActiveModel::from),
            )
            .exec_without_returning(m.txn())
            .await
            .map_err(db_err)?;
            let created = to_match(row, &players)?;
            m.audit::<matches::Entity>(Verb::Create, created.id, snapshot(&created))
                .await?;
            Ok(created)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), r#match = %id))]
    async fn get_match(&self, ctx: &Ctx, id: MatchId) -> RepoResult<Match> {
        let db = self.db().await;
        let row = self
            .find_scoped::<matches::Entity>(&db, ctx, id, Lock::None)
            .await?;
        let players = players_of(&db, ctx, id.as_uuid()).await?;
        to_match(row, &players)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), r#match = %id))]
    async fn record_match_result(
        &self,
        ctx: &Ctx,
        id: MatchId,
        placements: Placements,
    ) -> RepoResult<Match> {
        self.mutate(ctx, async |m| {
            // Locked first: of two results for one match, the second finds it finished.
            let row = self
                .find_scoped::<matches::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            if row.status != MatchStatus::Open.as_str() {
                return Err(RepoError::conflict(
                    matches::Entity::NAME,
                    "the match is finished: its result is recorded already",
                ));
            }
            let players = players_of(m.txn(), ctx, id.as_uuid()).await?;
            let agents: Vec<AgentId> = players
                .iter()
                .map(|p| AgentId::from_uuid(p.agent_id))
                .collect();
            placements.cover(&agents)?;
            let holders: Vec<Participant> = agents.iter().copied().map(Participant::from).collect();
            ensure_standings(m.txn(), ctx, &holders, m.at()).await?;
            // The players' standings, locked in holder order (the order every result takes,
            // so two results with players in common cannot deadlock).
            let mut locking = standings::Entity::find()
                .filter(standings::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(
                    standings::Column::HolderId
                        .is_in(agents.iter().map(|a| a.as_uuid()).collect::<Vec<_>>()),
                )
                .order_by_asc(standings::Column::HolderId);
            if self.is_postgres() {
                locking = locking.lock_exclusive();
            }
            let current = locking.all(m.txn()).await.map_err(db_err)?;
            let settings = rank_settings(m.txn(), ctx).await?.value;
            let mut table = Vec::with_capacity(agents.len());
            for agent in &agents {
                let standing = current
                    .iter()
                    .find(|s| s.holder_id == agent.as_uuid())
                    .ok_or_else(|| RepoError::internal("a player's standing vanished"))?;
                let place = placements
                    .place_of(*agent)
                    .ok_or_else(|| RepoError::internal("a player has no place"))?;
                table.push((standing.rating, standing.matches_played, place));
            }
            let deltas = elo_changes(&table, settings.elo);
            for ((agent, (rating, _, place)), delta) in agents.iter().zip(&table).zip(&deltas) {
                standings::Entity::update_many()
                    .col_expr(
                        standings::Column::Rating,
                        Expr::col(standings::Column::Rating).add(*delta),
                    )
                    .col_expr(
                        standings::Column::MatchesPlayed,
                        Expr::col(standings::Column::MatchesPlayed).add(1),
                    )
                    .col_expr(standings::Column::UpdatedAt, Expr::value(m.at()))
                    .filter(standings::Column::OrganizationId.eq(ctx.org().as_uuid()))
                    .filter(standings::Column::HolderId.eq(agent.as_uuid()))
                    .exec(m.txn())
                    .await
                    .map_err(db_err)?;
                let place =
                    i32::try_from(*place).map_err(|_| RepoError::internal("a place beyond i32"))?;
                match_players::Entity::update_many()
                    .col_expr(match_players::Column::Place, Expr::value(place))
                    .col_expr(match_players::Column::RatingBefore, Expr::value(*rating))
                    .col_expr(
                        match_players::Column::RatingAfter,
                        Expr::value(rating + delta),
                    )
                    .col_expr(match_players::Column::FinishedAt, Expr::value(m.at()))
                    .filter(match_players::Column::OrganizationId.eq(ctx.org().as_uuid()))
                    .filter(match_players::Column::MatchId.eq(id.as_uuid()))
                    .filter(match_players::Column::AgentId.eq(agent.as_uuid()))
                    .exec(m.txn())
                    .await
                    .map_err(db_err)?;
            }
            let mut finished: matches::ActiveModel = row.into();
            finished.status = Set(MatchStatus::Finished.as_str().to_owned());
            finished.finished_at = Set(Some(m.at()));
            let row = finished.update(m.txn()).await.map_err(db_err)?;
            let players = players_of(m.txn(), ctx, id.as_uuid()).await?;
            let done = to_match(row, &players)?;
            m.audit::<matches::Entity>(
                Verb::Named("finish"),
                done.id,
                json!({ "placements": placements, "changes": done.changes }),
            )
            .await?;
            Ok(done)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %agent))]
    async fn rating_history(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        page: PageRequest<RatingHistorySort>,
    ) -> RepoResult<Page<RatingChange, RatingHistorySort>> {
        let db = self.db().await;
        if !holder_exists(&db, ctx, Participant::Agent(agent)).await? {
            return Err(RepoError::not_found(agents::Entity::NAME, agent));
        }
        let mut query = match_players::Entity::find()
            .filter(match_players::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(match_players::Column::AgentId.eq(agent.as_uuid()))
            .filter(match_players::Column::FinishedAt.is_not_null());
        // Match ids are UUIDv7: id order is the order the matches began.
        query = match (page.sort(), page.after()) {
            (RatingHistorySort::MatchId, after) => {
                if let Some(cursor) = after {
                    query = query.filter(match_players::Column::MatchId.gt(cursor.id()));
                }
                query.order_by_asc(match_players::Column::MatchId)
            }
            (RatingHistorySort::MatchIdDesc, after) => {
                if let Some(cursor) = after {
                    query = query.filter(match_players::Column::MatchId.lt(cursor.id()));
                }
                query.order_by_desc(match_players::Column::MatchId)
            }
        };
        let rows = query
            .limit(u64::from(page.limit().get()) + 1)
            .all(&db)
            .await
            .map_err(db_err)?;
        let mut changes = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(change) = to_change(row)? {
                changes.push(change);
            }
        }
        Ok(Page::from_rows(changes, &page, |change| {
            Cursor::after(page.sort(), change.match_id)
        }))
    }
}
