//! Achievement definitions, awards (with their points) and the summary of a holder.

use std::collections::BTreeMap;

use orchestore_domain::{
    Achievement, AchievementCode, AchievementDefinition, AchievementDefinitionId,
    AchievementDescription, AchievementId, AchievementName, AchievementPoints, HolderSummary,
    Metadata, NewAchievement, NewAchievementDefinition, NewPointAward, OrganizationId, Participant,
    PointAwardId, PointReason, PointSource,
};
use orchestore_repo::{
    AchievementDefinitionSort, AchievementRepo, Ctx, Cursor, Page, PageRequest, PointsRepo,
    RepoError, RepoResult, ReputationRepo,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::entity::{achievement_definitions as definitions, achievements};
use super::points::award_within;
use super::{holder_columns, holder_of, require_holder};
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::mutation::{Audited, Verb, snapshot};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};

fn to_definition(row: definitions::Model) -> RepoResult<AchievementDefinition> {
    let bad = |e: orchestore_domain::DomainError| corrupt(definitions::Entity::NAME, e);
    Ok(AchievementDefinition {
        id: AchievementDefinitionId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        code: AchievementCode::parse(&row.code).map_err(bad)?,
        name: AchievementName::parse(&row.name).map_err(bad)?,
        description: AchievementDescription::parse(&row.description).map_err(bad)?,
        points: row.points,
        criteria: row
            .criteria
            .map(|json| Metadata::parse("criteria", json))
            .transpose()
            .map_err(bad)?,
        created_at: row.created_at,
    })
}

fn to_achievement(
    row: achievements::Model,
    definition: &AchievementDefinition,
) -> RepoResult<Achievement> {
    Ok(Achievement {
        id: AchievementId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        definition_id: definition.id,
        code: definition.code.clone(),
        name: definition.name.clone(),
        holder: holder_of(achievements::Entity::NAME, row.agent_id, row.user_id)?,
        points: row.points,
        point_award_id: row.point_award_id.map(PointAwardId::from_uuid),
        awarded_at: row.awarded_at,
        awarded_by: row.awarded_by,
    })
}

#[async_trait::async_trait]
impl AchievementRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), code = %new.code))]
    async fn create_achievement_definition(
        &self,
        ctx: &Ctx,
        new: NewAchievementDefinition,
    ) -> RepoResult<AchievementDefinition> {
        self.mutate(ctx, async |m| {
            let row = definitions::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(AchievementDefinitionId::new().as_uuid()),
                code: Set(new.code.as_str().to_owned()),
                name: Set(new.name.as_str().to_owned()),
                description: Set(new.description.as_str().to_owned()),
                points: Set(new.points.get()),
                criteria: Set(new.criteria.as_ref().map(Metadata::to_value)),
                created_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    RepoError::taken(
                        definitions::Entity::NAME,
                        "code",
                        format!("achievement code {} is taken", new.code),
                    )
                } else {
                    db_err(e)
                }
            })?;
            let definition = to_definition(row)?;
            m.audit::<definitions::Entity>(Verb::Create, definition.id, snapshot(&definition))
                .await?;
            Ok(definition)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), definition = %id))]
    async fn get_achievement_definition(
        &self,
        ctx: &Ctx,
        id: AchievementDefinitionId,
    ) -> RepoResult<AchievementDefinition> {
        self.find_scoped::<definitions::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_definition)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_achievement_definitions(
        &self,
        ctx: &Ctx,
        page: PageRequest<AchievementDefinitionSort>,
    ) -> RepoResult<Page<AchievementDefinition, AchievementDefinitionSort>> {
        // Ids are UUIDv7 taken when the definition is written: id order is creation order.
        let keyset = match page.sort() {
            AchievementDefinitionSort::CreatedAt => Keyset::OldestFirst,
            AchievementDefinitionSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(scoped::<definitions::Entity>(ctx), &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let definitions = rows
            .into_iter()
            .map(to_definition)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(definitions, &page, |definition| {
            Cursor::after(page.sort(), definition.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), holder = %new.holder))]
    async fn award_achievement(&self, ctx: &Ctx, new: NewAchievement) -> RepoResult<Achievement> {
        self.mutate(ctx, async |m| {
            let definition = scoped::<definitions::Entity>(ctx)
                .filter(definitions::Column::Id.eq(new.definition_id.as_uuid()))
                .one(m.txn())
                .await
                .map_err(db_err)?
                .ok_or_else(|| {
                    RepoError::reference(
                        "definition_id",
                        definitions::Entity::NAME,
                        new.definition_id,
                    )
                })
                .and_then(to_definition)?;
            require_holder(m.txn(), ctx, "holder", new.holder).await?;
            let points = AchievementPoints::parse(definition.points)
                .map_err(|e| corrupt(definitions::Entity::NAME, e))?;
            let award = match points.amount() {
                Some(points) => Some(
                    award_within(
                        m,
                        &NewPointAward {
                            holder: new.holder,
                            points,
                            reason: PointReason::parse(&format!(
                                "achievement {}",
                                definition.code
                            ))?,
                            source: PointSource::parse("achievement")?,
                        },
                    )
                    .await?,
                ),
                None => None,
            };
            let (agent_id, user_id) = holder_columns(new.holder);
            // The unique key on (definition, holder) refuses a second award; the transaction
            // then rolls back, the points above with it.
            let row = achievements::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(AchievementId::new().as_uuid()),
                definition_id: Set(definition.id.as_uuid()),
                holder_id: Set(new.holder.id()),
                agent_id: Set(agent_id),
                user_id: Set(user_id),
                points: Set(definition.points),
                point_award_id: Set(award.map(|award| award.id.as_uuid())),
                awarded_at: Set(m.at()),
                awarded_by: Set(ctx.actor().to_string()),
            }
            .insert(m.txn())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    RepoError::conflict(
                        achievements::Entity::NAME,
                        format!("{} has achievement {} already", new.holder, definition.code),
                    )
                } else {
                    db_err(e)
                }
            })?;
            let achievement = to_achievement(row, &definition)?;
            m.audit::<achievements::Entity>(Verb::Create, achievement.id, snapshot(&achievement))
                .await?;
            Ok(achievement)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), holder = %holder))]
    async fn holder_summary(&self, ctx: &Ctx, holder: Participant) -> RepoResult<HolderSummary> {
        // `get_standing` answers `NotFound` for a holder the organization does not have.
        let standing = self.get_standing(ctx, holder).await?;
        let db = self.db().await;
        let rows = scoped::<achievements::Entity>(ctx)
            .filter(achievements::Column::HolderId.eq(holder.id()))
            .order_by_asc(achievements::Column::Id)
            .all(&db)
            .await
            .map_err(db_err)?;
        let wanted: Vec<Uuid> = rows.iter().map(|row| row.definition_id).collect();
        let definitions: BTreeMap<Uuid, AchievementDefinition> = if wanted.is_empty() {
            BTreeMap::new()
        } else {
            scoped::<definitions::Entity>(ctx)
                .filter(definitions::Column::Id.is_in(wanted))
                .all(&db)
                .await
                .map_err(db_err)?
                .into_iter()
                .map(|row| to_definition(row).map(|d| (d.id.as_uuid(), d)))
                .collect::<RepoResult<_>>()?
        };
        drop(db);
        let achievements = rows
            .into_iter()
            .map(|row| {
                let definition = definitions.get(&row.definition_id).ok_or_else(|| {
                    corrupt(achievements::Entity::NAME, "its definition is missing")
                })?;
                to_achievement(row, definition)
            })
            .collect::<RepoResult<Vec<_>>>()?;
        let reputation = match holder {
            Participant::Agent(agent) => {
                Some(self.get_reputation(ctx, agent, crate::store::now()).await?)
            }
            Participant::User(_) => None,
        };
        Ok(HolderSummary {
            standing,
            achievements,
            reputation,
        })
    }
}
