use chrono::{DateTime, Utc};
use orchestore_domain::{
    Email, OrganizationId, Password, PasswordHash, SessionId, Slug, User, UserId,
};
use orchestore_repo::{Actor, AuthRepo, Ctx, RepoError, RepoResult, SessionGrant};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};

use super::entity::{instance_settings, organizations, sessions, users};
use super::users::to_user;
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::Verb;
use crate::scoped::{Lock, scoped};
use crate::store::now;

fn unknown_refresh_token() -> RepoError {
    RepoError::not_found("session", "for this refresh token")
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
        refresh_token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> RepoResult<SessionId> {
        self.mutate(ctx, async |m| {
            self.find_scoped::<users::Entity>(m.txn(), ctx, user, Lock::None)
                .await?;
            let id = SessionId::new();
            sessions::ActiveModel {
                id: Set(id.as_uuid()),
                organization_id: Set(ctx.org().as_uuid()),
                user_id: Set(user.as_uuid()),
                refresh_token_hash: Set(refresh_token_hash.to_owned()),
                expires_at: Set(expires_at),
                revoked_at: Set(None),
                created_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let changes = serde_json::json!({ "user_id": user, "expires_at": expires_at });
            m.audit::<sessions::Entity>(Verb::Create, id, changes)
                .await?;
            Ok(id)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn rotate_session(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        request_id: Option<&str>,
    ) -> RepoResult<SessionGrant> {
        // The token names no tenant: find its session's organization first (the only lookup
        // across organizations), then rotate inside that organization, re-reading the session
        // under a lock so that two refreshes racing with one token cannot both succeed.
        let (org, user): (uuid::Uuid, uuid::Uuid) = sessions::Entity::find()
            .select_only()
            .column(sessions::Column::OrganizationId)
            .column(sessions::Column::UserId)
            .filter(sessions::Column::RefreshTokenHash.eq(old_hash))
            .into_tuple()
            .one(&self.db().await)
            .await
            .map_err(db_err)?
            .ok_or_else(unknown_refresh_token)?;
        let mut ctx = Ctx::new(
            OrganizationId::from_uuid(org),
            Actor::User(UserId::from_uuid(user)),
        );
        if let Some(request_id) = request_id {
            ctx = ctx.with_request_id(request_id);
        }
        self.mutate(&ctx, async |m| {
            let mut query = scoped::<sessions::Entity>(&ctx)
                .filter(sessions::Column::RefreshTokenHash.eq(old_hash))
                .filter(sessions::Column::RevokedAt.is_null())
                .filter(sessions::Column::ExpiresAt.gt(m.at()));
            if self.is_postgres() {
                query = query.lock_exclusive();
            }
            let old = query
                .one(m.txn())
                .await
                .map_err(db_err)?
                .ok_or_else(unknown_refresh_token)?;
            let user = scoped::<users::Entity>(&ctx)
                .filter(users::Column::Id.eq(old.user_id))
                .filter(users::Column::Active.eq(true))
                .one(m.txn())
                .await
                .map_err(db_err)?
                .ok_or_else(|| RepoError::not_found("user", old.user_id))
                .and_then(to_user)?;

            let old_id = old.id;
            let mut revoked = old.into_active_model();
            revoked.revoked_at = Set(Some(m.at()));
            revoked.update(m.txn()).await.map_err(db_err)?;

            let session_id = SessionId::new();
            sessions::ActiveModel {
                id: Set(session_id.as_uuid()),
                organization_id: Set(org),
                user_id: Set(user.id.as_uuid()),
                refresh_token_hash: Set(new_hash.to_owned()),
                expires_at: Set(new_expires_at),
                revoked_at: Set(None),
                created_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let changes = serde_json::json!({ "replaces": old_id, "expires_at": new_expires_at });
            m.audit::<sessions::Entity>(Verb::Named("rotate"), session_id, changes)
                .await?;
            Ok(SessionGrant { user, session_id })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn revoke_session(&self, ctx: &Ctx, refresh_token_hash: &str) -> RepoResult<()> {
        let Actor::User(user) = ctx.actor() else {
            return Err(unknown_refresh_token());
        };
        self.mutate(ctx, async |m| {
            let mut query = scoped::<sessions::Entity>(ctx)
                .filter(sessions::Column::UserId.eq(user.as_uuid()))
                .filter(sessions::Column::RefreshTokenHash.eq(refresh_token_hash))
                .filter(sessions::Column::RevokedAt.is_null());
            if self.is_postgres() {
                // A refresh racing with this logout: one of them wins, the other finds the
                // session revoked.
                query = query.lock_exclusive();
            }
            let session = query
                .one(m.txn())
                .await
                .map_err(db_err)?
                .ok_or_else(unknown_refresh_token)?;
            let id = session.id;
            let mut revoked = session.into_active_model();
            revoked.revoked_at = Set(Some(m.at()));
            revoked.update(m.txn()).await.map_err(db_err)?;
            m.audit::<sessions::Entity>(Verb::Named("revoke"), id, serde_json::json!({}))
                .await
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
