//! Brainstorms: a vote and the count it adds to land in one transaction.

use orchestore_domain::{
    Brainstorm, BrainstormId, BrainstormIdea, BrainstormIdeaId, BrainstormStats, BrainstormStatus,
    BrainstormTopic, Description, DomainError, IdeaText, NewBrainstorm, NewIdea, OrganizationId,
    Participant, ProjectId,
};
use orchestore_repo::{
    BrainstormFilter, BrainstormIdeaSort, BrainstormRepo, BrainstormSort, Ctx, Cursor, Limit, Page,
    PageRequest, RepoError, RepoResult,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use serde_json::json;

use super::entity::{brainstorm_idea_votes as votes, brainstorm_ideas as ideas, brainstorms};
use super::{find_shared, holder_columns, holder_of, require_holder, sql_backend};
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::mutation::{Audited, Verb, snapshot};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};
use crate::work::entity::projects;

fn to_brainstorm(row: brainstorms::Model) -> RepoResult<Brainstorm> {
    let bad = |e: DomainError| corrupt(brainstorms::Entity::NAME, e);
    Ok(Brainstorm {
        id: BrainstormId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        topic: BrainstormTopic::parse(&row.topic).map_err(bad)?,
        description: Description::parse("description", &row.description).map_err(bad)?,
        facilitator: holder_of(
            brainstorms::Entity::NAME,
            row.facilitator_agent_id,
            row.facilitator_user_id,
        )?,
        project_id: row.project_id.map(ProjectId::from_uuid),
        status: row.status.parse().map_err(bad)?,
        created_at: row.created_at,
        closed_at: row.closed_at,
    })
}

fn to_idea(row: ideas::Model) -> RepoResult<BrainstormIdea> {
    Ok(BrainstormIdea {
        id: BrainstormIdeaId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        brainstorm_id: BrainstormId::from_uuid(row.brainstorm_id),
        author: holder_of(ideas::Entity::NAME, row.author_agent_id, row.author_user_id)?,
        text: IdeaText::parse(&row.text).map_err(|e| corrupt(ideas::Entity::NAME, e))?,
        votes: row.votes,
        created_at: row.created_at,
    })
}

/// `Ok` while the brainstorm is open; a closed one takes nothing more.
fn ensure_open(row: &brainstorms::Model) -> RepoResult<()> {
    if row.status == BrainstormStatus::Open.as_str() {
        Ok(())
    } else {
        Err(RepoError::conflict(
            brainstorms::Entity::NAME,
            "the brainstorm is closed: it takes no more ideas or votes",
        ))
    }
}

/// The idea `idea` of brainstorm `brainstorm`; an idea of another brainstorm is `NotFound`.
async fn idea_of(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    brainstorm: BrainstormId,
    idea: BrainstormIdeaId,
) -> RepoResult<ideas::Model> {
    scoped::<ideas::Entity>(ctx)
        .filter(ideas::Column::BrainstormId.eq(brainstorm.as_uuid()))
        .filter(ideas::Column::Id.eq(idea.as_uuid()))
        .one(db)
        .await
        .map_err(db_err)?
        .ok_or_else(|| RepoError::not_found(ideas::Entity::NAME, idea))
}

/// Adds `delta` to the idea's count, in the database: concurrent votes all count.
async fn count_vote(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    idea: BrainstormIdeaId,
    delta: i64,
) -> RepoResult<()> {
    ideas::Entity::update_many()
        .col_expr(
            ideas::Column::Votes,
            Expr::col(ideas::Column::Votes).add(delta),
        )
        .filter(ideas::Column::OrganizationId.eq(ctx.org().as_uuid()))
        .filter(ideas::Column::Id.eq(idea.as_uuid()))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// The brainstorm's ideas, votes and participants (idea authors and voters, each once), in
/// one statement (`$1` organization, `$2` brainstorm).
const STATS: &str = "SELECT \
     (SELECT COUNT(*) FROM brainstorm_ideas \
      WHERE organization_id = $1 AND brainstorm_id = $2) AS ideas, \
     (SELECT COUNT(*) FROM brainstorm_idea_votes \
      WHERE organization_id = $1 AND brainstorm_id = $2) AS votes, \
     (SELECT COUNT(*) FROM ( \
        SELECT author_id AS participant FROM brainstorm_ideas \
        WHERE organization_id = $1 AND brainstorm_id = $2 \
        UNION \
        SELECT voter_id FROM brainstorm_idea_votes \
        WHERE organization_id = $1 AND brainstorm_id = $2) AS everyone) AS participants";

#[async_trait::async_trait]
impl BrainstormRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_brainstorm(&self, ctx: &Ctx, new: NewBrainstorm) -> RepoResult<Brainstorm> {
        self.mutate(ctx, async |m| {
            require_holder(m.txn(), ctx, "facilitator", new.facilitator).await?;
            if let Some(project) = new.project_id {
                let found = scoped::<projects::Entity>(ctx)
                    .filter(projects::Column::Id.eq(project.as_uuid()))
                    .count(m.txn())
                    .await
                    .map_err(db_err)?;
                if found == 0 {
                    return Err(RepoError::reference(
                        "project_id",
                        projects::Entity::NAME,
                        project,
                    ));
                }
            }
            let (agent_id, user_id) = holder_columns(new.facilitator);
            let row = brainstorms::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(BrainstormId::new().as_uuid()),
                topic: Set(new.topic.as_str().to_owned()),
                description: Set(new.description.as_str().to_owned()),
                facilitator_id: Set(new.facilitator.id()),
                facilitator_agent_id: Set(agent_id),
                facilitator_user_id: Set(user_id),
                project_id: Set(new.project_id.map(|p| p.as_uuid())),
                status: Set(BrainstormStatus::Open.as_str().to_owned()),
                created_at: Set(m.at()),
                closed_at: Set(None),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let created = to_brainstorm(row)?;
            m.audit::<brainstorms::Entity>(Verb::Create, created.id, snapshot(&created))
                .await?;
            Ok(created)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), brainstorm = %id))]
    async fn get_brainstorm(&self, ctx: &Ctx, id: BrainstormId) -> RepoResult<Brainstorm> {
        self.find_scoped::<brainstorms::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_brainstorm)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_brainstorms(
        &self,
        ctx: &Ctx,
        filter: BrainstormFilter,
        page: PageRequest<BrainstormSort>,
    ) -> RepoResult<Page<Brainstorm, BrainstormSort>> {
        let mut query = scoped::<brainstorms::Entity>(ctx);
        if let Some(status) = filter.status {
            query = query.filter(brainstorms::Column::Status.eq(status.as_str()));
        }
        if let Some(project) = filter.project_id {
            query = query.filter(brainstorms::Column::ProjectId.eq(project.as_uuid()));
        }
        // Ids are UUIDv7 taken when the brainstorm opens: id order is creation order.
        let keyset = match page.sort() {
            BrainstormSort::CreatedAt => Keyset::OldestFirst,
            BrainstormSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let items = rows
            .into_iter()
            .map(to_brainstorm)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, &page, |b: &Brainstorm| {
            Cursor::after(page.sort(), b.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), brainstorm = %id))]
    async fn close_brainstorm(&self, ctx: &Ctx, id: BrainstormId) -> RepoResult<Brainstorm> {
        self.mutate(ctx, async |m| {
            // Conditional on `open`: of two closes at once, the second changes no row.
            let closed = brainstorms::Entity::update_many()
                .col_expr(
                    brainstorms::Column::Status,
                    Expr::value(BrainstormStatus::Closed.as_str()),
                )
                .col_expr(brainstorms::Column::ClosedAt, Expr::value(m.at()))
                .filter(brainstorms::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(brainstorms::Column::Id.eq(id.as_uuid()))
                .filter(brainstorms::Column::Status.eq(BrainstormStatus::Open.as_str()))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
            let row = self
                .find_scoped::<brainstorms::Entity>(m.txn(), ctx, id, Lock::None)
                .await?;
            if closed.rows_affected == 0 {
                return Err(RepoError::conflict(
                    brainstorms::Entity::NAME,
                    "the brainstorm is closed already",
                ));
            }
            let after = to_brainstorm(row)?;
            m.audit::<brainstorms::Entity>(
                Verb::Status(BrainstormStatus::Closed.as_str()),
                id,
                json!({"status": {"from": BrainstormStatus::Open, "to": BrainstormStatus::Closed}}),
            )
            .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), brainstorm = %brainstorm))]
    async fn add_brainstorm_idea(
        &self,
        ctx: &Ctx,
        brainstorm: BrainstormId,
        new: NewIdea,
    ) -> RepoResult<BrainstormIdea> {
        self.mutate(ctx, async |m| {
            let session =
                find_shared::<brainstorms::Entity>(self, m.txn(), ctx, brainstorm).await?;
            ensure_open(&session)?;
            require_holder(m.txn(), ctx, "author", new.author).await?;
            let (agent_id, user_id) = holder_columns(new.author);
            let row = ideas::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(BrainstormIdeaId::new().as_uuid()),
                brainstorm_id: Set(brainstorm.as_uuid()),
                author_id: Set(new.author.id()),
                author_agent_id: Set(agent_id),
                author_user_id: Set(user_id),
                text: Set(new.text.as_str().to_owned()),
                votes: Set(0),
                created_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let idea = to_idea(row)?;
            m.audit::<ideas::Entity>(Verb::Create, idea.id, snapshot(&idea))
                .await?;
            Ok(idea)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), brainstorm = %brainstorm))]
    async fn list_brainstorm_ideas(
        &self,
        ctx: &Ctx,
        brainstorm: BrainstormId,
        page: PageRequest<BrainstormIdeaSort>,
    ) -> RepoResult<Page<BrainstormIdea, BrainstormIdeaSort>> {
        let db = self.db().await;
        self.find_scoped::<brainstorms::Entity>(&db, ctx, brainstorm, Lock::None)
            .await?;
        let query = scoped::<ideas::Entity>(ctx)
            .filter(ideas::Column::BrainstormId.eq(brainstorm.as_uuid()));
        let keyset = match page.sort() {
            BrainstormIdeaSort::CreatedAt => Keyset::OldestFirst,
            BrainstormIdeaSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let items = rows
            .into_iter()
            .map(to_idea)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, &page, |idea: &BrainstormIdea| {
            Cursor::after(page.sort(), idea.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), idea = %idea, voter = %voter))]
    async fn vote_for_idea(
        &self,
        ctx: &Ctx,
        brainstorm: BrainstormId,
        idea: BrainstormIdeaId,
        voter: Participant,
    ) -> RepoResult<BrainstormIdea> {
        self.mutate(ctx, async |m| {
            // Share-locked: votes go on together, and a close waits for them.
            let session =
                find_shared::<brainstorms::Entity>(self, m.txn(), ctx, brainstorm).await?;
            ensure_open(&session)?;
            idea_of(m.txn(), ctx, brainstorm, idea).await?;
            require_holder(m.txn(), ctx, "voter", voter).await?;
            let (agent_id, user_id) = holder_columns(voter);
            let cast = votes::Entity::insert(votes::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                brainstorm_id: Set(brainstorm.as_uuid()),
                idea_id: Set(idea.as_uuid()),
                voter_id: Set(voter.id()),
                voter_agent_id: Set(agent_id),
                voter_user_id: Set(user_id),
                voted_at: Set(m.at()),
            })
            .exec_without_returning(m.txn())
            .await;
            match cast {
                Err(err) if is_unique_violation(&err) => {
                    return Err(RepoError::taken(
                        votes::Entity::NAME,
                        "voter",
                        "this voter has voted for the idea already",
                    ));
                }
                other => other.map_err(db_err)?,
            };
            count_vote(m.txn(), ctx, idea, 1).await?;
            let after = to_idea(idea_of(m.txn(), ctx, brainstorm, idea).await?)?;
            m.audit::<votes::Entity>(
                Verb::Create,
                idea,
                json!({"voter": voter, "votes": after.votes}),
            )
            .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), idea = %idea, voter = %voter))]
    async fn withdraw_idea_vote(
        &self,
        ctx: &Ctx,
        brainstorm: BrainstormId,
        idea: BrainstormIdeaId,
        voter: Participant,
    ) -> RepoResult<BrainstormIdea> {
        self.mutate(ctx, async |m| {
            let session =
                find_shared::<brainstorms::Entity>(self, m.txn(), ctx, brainstorm).await?;
            ensure_open(&session)?;
            idea_of(m.txn(), ctx, brainstorm, idea).await?;
            let withdrawn = votes::Entity::delete_many()
                .filter(votes::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(votes::Column::IdeaId.eq(idea.as_uuid()))
                .filter(votes::Column::VoterId.eq(voter.id()))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
            if withdrawn.rows_affected == 0 {
                return Err(RepoError::not_found(
                    votes::Entity::NAME,
                    format!("of {voter} for idea {idea}"),
                ));
            }
            count_vote(m.txn(), ctx, idea, -1).await?;
            let after = to_idea(idea_of(m.txn(), ctx, brainstorm, idea).await?)?;
            m.audit::<votes::Entity>(
                Verb::Delete,
                idea,
                json!({"voter": voter, "votes": after.votes}),
            )
            .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), brainstorm = %brainstorm))]
    async fn top_brainstorm_ideas(
        &self,
        ctx: &Ctx,
        brainstorm: BrainstormId,
        limit: Limit,
    ) -> RepoResult<Vec<BrainstormIdea>> {
        let db = self.db().await;
        self.find_scoped::<brainstorms::Entity>(&db, ctx, brainstorm, Lock::None)
            .await?;
        // The first rows of `idx_brainstorm_ideas_top`: most votes first, ties oldest first.
        let rows = scoped::<ideas::Entity>(ctx)
            .filter(ideas::Column::BrainstormId.eq(brainstorm.as_uuid()))
            .order_by_desc(ideas::Column::Votes)
            .order_by_asc(ideas::Column::Id)
            .limit(u64::from(limit.get()))
            .all(&db)
            .await
            .map_err(db_err)?;
        rows.into_iter().map(to_idea).collect()
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), brainstorm = %brainstorm))]
    async fn brainstorm_stats(
        &self,
        ctx: &Ctx,
        brainstorm: BrainstormId,
    ) -> RepoResult<BrainstormStats> {
        let db = self.db().await;
        self.find_scoped::<brainstorms::Entity>(&db, ctx, brainstorm, Lock::None)
            .await?;
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                sql_backend(self),
                STATS,
                [ctx.org().as_uuid().into(), brainstorm.as_uuid().into()],
            ))
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::internal("the statistics query returned no row"))?;
        let count = |column: &str| row.try_get::<i64>("", column).map_err(db_err);
        Ok(BrainstormStats {
            brainstorm_id: brainstorm,
            ideas: count("ideas")?,
            participants: count("participants")?,
            votes: count("votes")?,
        })
    }
}
