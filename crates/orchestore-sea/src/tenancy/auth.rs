use std::net::IpAddr;

use chrono::{DateTime, Utc};
use orchestore_domain::{
    ClientInfo, Email, OrganizationId, Password, PasswordHash, Session, SessionId, Slug, User,
    UserAgent, UserId,
};
use orchestore_repo::{
    Actor, AuthRepo, Ctx, Cursor, NewSession, Page, PageRequest, RepoError, RepoResult,
    SessionGrant, SessionSort, SessionStanding,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};

use super::entity::{instance_settings, organizations, session_retired_tokens, sessions, users};
use super::users::to_user;
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Mutation, Verb};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};
use crate::store::now;

fn unknown_refresh_token() -> RepoError {
    RepoError::not_found("session", "for this refresh token")
}

/// Why a session was revoked, as `sessions.revoked_reason` keeps it.
#[derive(Clone, Copy)]
pub(crate) enum Revocation {
    /// Its owner logged out or revoked it.
    Revoked,
    /// Its owner revoked all their sessions.
    AllRevoked,
    /// A token it had replaced was offered again.
    TokenReused,
    /// Its user changed their password from another session.
    PasswordChanged,
    /// Its user was deactivated.
    UserDeactivated,
}

impl Revocation {
    fn code(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::AllRevoked => "all_revoked",
            Self::TokenReused => "refresh_token_reused",
            Self::PasswordChanged => "password_changed",
            Self::UserDeactivated => "user_deactivated",
        }
    }
}

fn to_session(row: sessions::Model) -> RepoResult<Session> {
    let client_address = row
        .client_address
        .as_deref()
        .map(str::parse::<IpAddr>)
        .transpose()
        .map_err(|e| corrupt("session", e))?;
    Ok(Session {
        id: SessionId::from_uuid(row.id),
        user_id: UserId::from_uuid(row.user_id),
        created_at: row.created_at,
        refreshed_at: row.refreshed_at,
        expires_at: row.expires_at,
        client_address,
        user_agent: row.user_agent.as_deref().and_then(UserAgent::parse),
    })
}

/// The live sessions of `user` in the mutation's organization (all but `keep`), revoked for
/// `why`; how many. Cached standings are dropped at commit when there were any.
pub(crate) async fn revoke_sessions_of(
    m: &Mutation<'_>,
    user: UserId,
    keep: Option<SessionId>,
    why: Revocation,
) -> RepoResult<u64> {
    let mut update = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(m.at()))
        .col_expr(sessions::Column::RevokedReason, Expr::value(why.code()))
        .filter(sessions::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
        .filter(sessions::Column::UserId.eq(user.as_uuid()))
        .filter(sessions::Column::RevokedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(m.at()));
    if let Some(keep) = keep {
        update = update.filter(sessions::Column::Id.ne(keep.as_uuid()));
    }
    let revoked = update.exec(m.txn()).await.map_err(db_err)?.rows_affected;
    if revoked > 0 {
        m.standing_fell();
    }
    Ok(revoked)
}

/// Revokes the session in `row` for `why`, with its audit row.
async fn revoke_one(m: &Mutation<'_>, row: sessions::Model, why: Revocation) -> RepoResult<()> {
    let id = row.id;
    let mut revoked = row.into_active_model();
    revoked.revoked_at = Set(Some(m.at()));
    revoked.revoked_reason = Set(Some(why.code().to_owned()));
    revoked.update(m.txn()).await.map_err(db_err)?;
    m.standing_fell();
    m.audit::<sessions::Entity>(
        Verb::Named("revoke"),
        id,
        serde_json::json!({ "reason": why.code() }),
    )
    .await
}

/// What a refresh found under its lock.
enum Rotation {
    Rotated(SessionGrant),
    /// The token had been replaced already: its session is revoked now.
    Replayed,
}

#[async_trait::async_trait]
impl AuthRepo for SeaStore {
    #[tracing::instrument(skip_all)]
    async fn count_users(&self) -> RepoResult<u64> {
        users::Entity::find()
            .count(&self.db().await)
            .await
            .map_err(db_err)
    }

    #[tracing::instrument(skip_all)]
    async fn verify_login(
        &self,
        organization: &Slug,
        email: &Email,
        password: &Password,
    ) -> RepoResult<Option<User>> {
        let row = users::Entity::find()
            .inner_join(organizations::Entity)
            .filter(organizations::Column::Slug.eq(organization.as_str()))
            .filter(users::Column::Email.eq(email.as_str()))
            .filter(users::Column::Active.eq(true))
            .one(&self.db().await)
            .await
            .map_err(db_err)?;
        let hash = match &row {
            Some(row) => PasswordHash::from_stored(row.password_hash.clone())
                .map_err(|e| corrupt("user", e))?,
            None => self.decoy().await?,
        };
        let offered = password.clone();
        let matches = tokio::task::spawn_blocking(move || hash.verify(&offered))
            .await
            .map_err(|e| RepoError::internal(format!("checking a password: {e}")))?;
        match row {
            Some(row) if matches => to_user(row).map(Some),
            _ => Ok(None),
        }
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %user))]
    async fn create_session(
        &self,
        ctx: &Ctx,
        user: UserId,
        new: NewSession,
    ) -> RepoResult<SessionGrant> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<users::Entity>(m.txn(), ctx, user, Lock::None)
                .await?;
            let access_version = row.access_version;
            let user = to_user(row)?;
            let id = SessionId::new();
            sessions::ActiveModel {
                id: Set(id.as_uuid()),
                organization_id: Set(ctx.org().as_uuid()),
                user_id: Set(user.id.as_uuid()),
                refresh_token_hash: Set(new.refresh_token_hash),
                expires_at: Set(new.expires_at),
                revoked_at: Set(None),
                created_at: Set(m.at()),
                refreshed_at: Set(None),
                client_address: Set(new.client.address.map(|a| a.to_string())),
                user_agent: Set(new.client.user_agent.map(|ua| ua.as_str().to_owned())),
                revoked_reason: Set(None),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let changes = serde_json::json!({ "user_id": user.id, "expires_at": new.expires_at });
            m.audit::<sessions::Entity>(Verb::Create, id, changes)
                .await?;
            Ok(SessionGrant {
                user,
                session_id: id,
                access_version,
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn rotate_session(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        client: &ClientInfo,
        request_id: Option<&str>,
    ) -> RepoResult<SessionGrant> {
        // The token names no tenant: find the organization of the session that holds it, or
        // held it (the only lookups across organizations), then work inside that organization,
        // reading the session again under a lock so that two refreshes racing with one token
        // cannot both succeed.
        let db = self.db().await;
        let live: Option<(uuid::Uuid, uuid::Uuid)> = sessions::Entity::find()
            .select_only()
            .column(sessions::Column::OrganizationId)
            .column(sessions::Column::UserId)
            .filter(sessions::Column::RefreshTokenHash.eq(old_hash))
            .into_tuple()
            .one(&db)
            .await
            .map_err(db_err)?;
        let held = live.is_some();
        let (org, actor) = match live {
            Some((org, user)) => (org, Actor::User(UserId::from_uuid(user))),
            None => {
                let retired: Option<uuid::Uuid> = session_retired_tokens::Entity::find()
                    .select_only()
                    .column(session_retired_tokens::Column::OrganizationId)
                    .filter(session_retired_tokens::Column::TokenHash.eq(old_hash))
                    .into_tuple()
                    .one(&db)
                    .await
                    .map_err(db_err)?;
                // Whoever replays a stolen token is not known to be the user: the system
                // revokes the session.
                (retired.ok_or_else(unknown_refresh_token)?, Actor::System)
            }
        };
        drop(db);
        let mut ctx = Ctx::new(OrganizationId::from_uuid(org), actor);
        if let Some(request_id) = request_id {
            ctx = ctx.with_request_id(request_id);
        }
        if let Some(address) = client.address {
            ctx = ctx.with_client_addr(address);
        }
        let rotation = self
            .mutate(&ctx, async |m| {
                let mut query = scoped::<sessions::Entity>(&ctx)
                    .filter(sessions::Column::RefreshTokenHash.eq(old_hash));
                if self.is_postgres() {
                    query = query.lock_exclusive();
                }
                let Some(old) = query.one(m.txn()).await.map_err(db_err)? else {
                    // Held a moment ago and replaced since: a refresh racing with this one
                    // won, which is no theft. Otherwise the token was retired before.
                    return if held {
                        Err(unknown_refresh_token())
                    } else {
                        replayed(m, old_hash).await
                    };
                };
                if old.revoked_at.is_some() || old.expires_at <= m.at() {
                    return Err(unknown_refresh_token());
                }
                let user_row = scoped::<users::Entity>(&ctx)
                    .filter(users::Column::Id.eq(old.user_id))
                    .filter(users::Column::Active.eq(true))
                    .one(m.txn())
                    .await
                    .map_err(db_err)?
                    .ok_or_else(unknown_refresh_token)?;
                let access_version = user_row.access_version;
                let user = to_user(user_row)?;

                session_retired_tokens::ActiveModel {
                    organization_id: Set(org),
                    token_hash: Set(old_hash.to_owned()),
                    session_id: Set(old.id),
                    retired_at: Set(m.at()),
                }
                .insert(m.txn())
                .await
                .map_err(db_err)?;
                let session_id = SessionId::from_uuid(old.id);
                let mut rotated = old.into_active_model();
                rotated.refresh_token_hash = Set(new_hash.to_owned());
                rotated.expires_at = Set(new_expires_at);
                rotated.refreshed_at = Set(Some(m.at()));
                if let Some(address) = client.address {
                    rotated.client_address = Set(Some(address.to_string()));
                }
                rotated.update(m.txn()).await.map_err(db_err)?;
                let changes = serde_json::json!({ "expires_at": new_expires_at });
                m.audit::<sessions::Entity>(Verb::Named("rotate"), session_id, changes)
                    .await?;
                Ok(Rotation::Rotated(SessionGrant {
                    user,
                    session_id,
                    access_version,
                }))
            })
            .await?;
        match rotation {
            Rotation::Rotated(grant) => Ok(grant),
            // Committed: the revocation stands, and the caller learns only that the token is
            // no good.
            Rotation::Replayed => Err(unknown_refresh_token()),
        }
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), session = %session))]
    async fn session_standing(&self, ctx: &Ctx, session: SessionId) -> RepoResult<SessionStanding> {
        let (row, user) = scoped::<sessions::Entity>(ctx)
            .filter(sessions::Column::Id.eq(session.as_uuid()))
            .find_also_related(users::Entity)
            .one(&self.db().await)
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::not_found("session", session))?;
        let user = user.ok_or_else(|| corrupt("session", "its user is missing"))?;
        Ok(SessionStanding {
            user_id: UserId::from_uuid(row.user_id),
            live: row.revoked_at.is_none() && row.expires_at > now() && user.active,
            access_version: user.access_version,
        })
    }

    fn standing_epoch(&self) -> u64 {
        self.standing_epoch
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %user))]
    async fn list_sessions(
        &self,
        ctx: &Ctx,
        user: UserId,
        page: PageRequest<SessionSort>,
    ) -> RepoResult<Page<Session, SessionSort>> {
        let db = self.db().await;
        self.find_scoped::<users::Entity>(&db, ctx, user, Lock::None)
            .await?;
        let live = scoped::<sessions::Entity>(ctx)
            .filter(sessions::Column::UserId.eq(user.as_uuid()))
            .filter(sessions::Column::RevokedAt.is_null())
            .filter(sessions::Column::ExpiresAt.gt(now()));
        // Ids are time-ordered (version 7): their order is the order of creation.
        let keyset = match page.sort() {
            SessionSort::CreatedAtDesc => Keyset::NewestFirst,
            SessionSort::CreatedAt => Keyset::OldestFirst,
        };
        let sessions = keyset_page(live, &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(to_session)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(sessions, &page, |s| {
            Cursor::after(page.sort(), s.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %user, session = %session))]
    async fn revoke_session(&self, ctx: &Ctx, user: UserId, session: SessionId) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            let mut query = scoped::<sessions::Entity>(ctx)
                .filter(sessions::Column::Id.eq(session.as_uuid()))
                .filter(sessions::Column::UserId.eq(user.as_uuid()))
                .filter(sessions::Column::RevokedAt.is_null())
                .filter(sessions::Column::ExpiresAt.gt(m.at()));
            if self.is_postgres() {
                // A refresh racing with this revocation: one of them wins, the other finds the
                // session revoked or its token replaced.
                query = query.lock_exclusive();
            }
            let row = query
                .one(m.txn())
                .await
                .map_err(db_err)?
                .ok_or_else(|| RepoError::not_found("session", session))?;
            revoke_one(m, row, Revocation::Revoked).await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %user))]
    async fn revoke_user_sessions(
        &self,
        ctx: &Ctx,
        user: UserId,
        keep: Option<SessionId>,
    ) -> RepoResult<u64> {
        self.mutate(ctx, async |m| {
            self.find_scoped::<users::Entity>(m.txn(), ctx, user, Lock::None)
                .await?;
            let revoked = revoke_sessions_of(m, user, keep, Revocation::AllRevoked).await?;
            if revoked > 0 {
                let changes = serde_json::json!({ "revoked": revoked, "kept": keep });
                m.audit::<users::Entity>(Verb::Named("revoke_sessions"), user, changes)
                    .await?;
            }
            Ok(revoked)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(key))]
    async fn instance_setting_or_insert(&self, key: &str, generated: &str) -> RepoResult<String> {
        let db = self.db().await;
        instance_settings::Entity::insert(instance_settings::ActiveModel {
            key: Set(key.to_owned()),
            value: Set(generated.to_owned()),
            created_at: Set(now()),
        })
        .on_conflict(
            OnConflict::column(instance_settings::Column::Key)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&db)
        .await
        .map_err(db_err)?;
        instance_settings::Entity::find_by_id(key.to_owned())
            .one(&db)
            .await
            .map_err(db_err)?
            .map(|row| row.value)
            .ok_or_else(|| RepoError::internal(format!("instance setting {key} vanished")))
    }
}

/// A token that no session holds any more: if a session replaced it, that session is revoked
/// (whoever offers it holds a copy of a token the session's owner has moved on from).
async fn replayed(m: &Mutation<'_>, old_hash: &str) -> RepoResult<Rotation> {
    let retired = session_retired_tokens::Entity::find()
        .filter(session_retired_tokens::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
        .filter(session_retired_tokens::Column::TokenHash.eq(old_hash))
        .one(m.txn())
        .await
        .map_err(db_err)?
        .ok_or_else(unknown_refresh_token)?;
    let session = scoped::<sessions::Entity>(m.ctx())
        .filter(sessions::Column::Id.eq(retired.session_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .one(m.txn())
        .await
        .map_err(db_err)?;
    match session {
        Some(session) => {
            tracing::warn!(
                session = %session.id,
                "a replaced refresh token was offered again: the session is revoked"
            );
            revoke_one(m, session, Revocation::TokenReused).await?;
            Ok(Rotation::Replayed)
        }
        None => Err(unknown_refresh_token()),
    }
}
