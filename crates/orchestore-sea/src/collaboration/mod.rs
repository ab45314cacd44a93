//! Points, levels, rated matches and leaderboards; rewards and penalties; brainstorms and
//! mentorships; proposals and votes; achievements and leaderboard snapshots.

mod achievements;
mod boards;
mod brainstorms;
pub(crate) mod entity;
mod matches;
mod mentorships;
mod penalties;
mod points;
mod proposals;
mod ranks;
mod reputation_events;
mod reputation_feed;
mod rewards;

pub(crate) use rewards::effective_permissions_of;

use chrono::{DateTime, Utc};
use orchestore_domain::{AgentId, EloSettings, Participant, RankSettings, Revised, UserId};
use orchestore_repo::{Ctx, RepoError, RepoResult};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use crate::agents::entity::agents;
use crate::error::{corrupt, db_err};
use crate::mutation::Audited;
use crate::revision::read_settings;
use crate::scoped::{Lock, scoped};
use crate::tenancy::entity::users;
use entity::{collaboration_settings, match_players, point_awards, standings};

crate::scoped::entities! {
    tenanted: point_awards::Entity => "point_award", entity::matches::Entity => "match",
        entity::reputation_events::Entity => "reputation_event",
        entity::rewards::Entity => "reward", entity::permission_grants::Entity => "permission_grant",
        entity::violations::Entity => "violation", entity::penalties::Entity => "penalty",
        entity::appeals::Entity => "appeal", entity::proposals::Entity => "proposal";
    audited: standings::Entity => "standing", match_players::Entity => "match_player",
        collaboration_settings::Entity => "collaboration_settings",
        entity::proposal_options::Entity => "proposal_option", entity::votes::Entity => "vote"
}

crate::revision::revised! { collaboration_settings::Entity, entity::leaderboard_settings::Entity }

crate::scoped::entities! {
    tenanted: entity::brainstorms::Entity => "brainstorm",
        entity::brainstorm_ideas::Entity => "brainstorm_idea",
        entity::mentorships::Entity => "mentorship",
        entity::mentorship_sessions::Entity => "mentorship_session";
    audited: entity::brainstorm_idea_votes::Entity => "brainstorm_idea_vote"
}

crate::scoped::entities! {
    tenanted: entity::achievement_definitions::Entity => "achievement_definition",
        entity::achievements::Entity => "achievement",
        entity::leaderboard_snapshots::Entity => "leaderboard_snapshot";
    audited: entity::leaderboard_settings::Entity => "leaderboard_settings"
}

/// A holder as its two columns: `(agent id, user id)`.
fn holder_columns(holder: Participant) -> (Option<Uuid>, Option<Uuid>) {
    match holder {
        Participant::Agent(id) => (Some(id.as_uuid()), None),
        Participant::User(id) => (None, Some(id.as_uuid())),
    }
}

/// The holder a row's two columns name.
fn holder_of(
    entity: &'static str,
    agent: Option<Uuid>,
    user: Option<Uuid>,
) -> RepoResult<Participant> {
    match (agent, user) {
        (Some(id), None) => Ok(Participant::Agent(AgentId::from_uuid(id))),
        (None, Some(id)) => Ok(Participant::User(UserId::from_uuid(id))),
        _ => Err(corrupt(
            entity,
            "the holder is not exactly one agent or one user",
        )),
    }
}

/// Whether `holder` exists in the context's organization.
async fn holder_exists(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    holder: Participant,
) -> RepoResult<bool> {
    let found = match holder {
        Participant::Agent(id) => {
            scoped::<agents::Entity>(ctx)
                .filter(agents::Column::Id.eq(id.as_uuid()))
                .count(db)
                .await
        }
        Participant::User(id) => {
            scoped::<users::Entity>(ctx)
                .filter(users::Column::Id.eq(id.as_uuid()))
                .count(db)
                .await
        }
    };
    found.map(|n| n > 0).map_err(db_err)
}

/// The entity name a missing holder is reported under.
fn holder_entity(holder: Participant) -> &'static str {
    match holder {
        Participant::Agent(_) => agents::Entity::NAME,
        Participant::User(_) => users::Entity::NAME,
    }
}

/// A standing row at zero for each holder that has none yet, so that every later change is an
/// `UPDATE … SET x = x + n` of an existing row.
async fn ensure_standings(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    holders: &[Participant],
    at: DateTime<Utc>,
) -> RepoResult<()> {
    let rows = holders.iter().map(|holder| {
        let (agent_id, user_id) = holder_columns(*holder);
        standings::ActiveModel {
            organization_id: Set(ctx.org().as_uuid()),
            holder_id: Set(holder.id()),
            agent_id: Set(agent_id),
            user_id: Set(user_id),
            points: Set(0),
            experience: Set(0),
            rating: Set(EloSettings::INITIAL_RATING),
            matches_played: Set(0),
            updated_at: Set(at),
            reputation_key: Set(0.0),
        }
    });
    standings::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                standings::Column::OrganizationId,
                standings::Column::HolderId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// The organization's rules: its row, or the standard ones.
async fn rank_settings(db: &impl ConnectionTrait, ctx: &Ctx) -> RepoResult<Revised<RankSettings>> {
    read_settings::<collaboration_settings::Entity>(db, ctx, Lock::None).await
}

/// `Err(Reference)` on `field` unless `holder` exists.
async fn require_holder(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    field: &'static str,
    holder: Participant,
) -> RepoResult<()> {
    if holder_exists(db, ctx, holder).await? {
        Ok(())
    } else {
        Err(RepoError::reference(
            field,
            holder_entity(holder),
            holder.id(),
        ))
    }
}

/// Row `id` of `E` in a write, share-locked on PostgreSQL (SQLite's write transaction holds
/// the database already): writes that only need the row to stay as it is (an idea, a vote, a
/// session) go on together, while a change of the row (a close, a completion) waits for them
/// and they for it.
async fn find_shared<E: crate::scoped::Tenanted>(
    store: &crate::SeaStore,
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    id: impl Into<Uuid> + std::fmt::Display + Copy,
) -> RepoResult<E::Model> {
    let mut query = scoped::<E>(ctx).filter(E::id_column().eq(id.into()));
    if store.is_postgres() {
        query = query.lock_shared();
    }
    query
        .one(db)
        .await
        .map_err(db_err)?
        .ok_or_else(|| RepoError::not_found(E::NAME, id))
}

/// The backend a raw statement is written for.
fn sql_backend(store: &crate::SeaStore) -> sea_orm::DbBackend {
    if store.is_postgres() {
        sea_orm::DbBackend::Postgres
    } else {
        sea_orm::DbBackend::Sqlite
    }
}
