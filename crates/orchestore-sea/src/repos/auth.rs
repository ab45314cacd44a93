use chrono::{DateTime, Utc};
use orchestore_domain::{Email, Password, PasswordHash, SessionId, User, UserId};
use orchestore_repo::{AuthRepo, Ctx, RepoError, RepoResult, SessionGrant};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};

use super::Lock;
use super::users::to_user;
use crate::SeaStore;
use crate::audit;
use crate::entities::{instance_settings, sessions, users};
use crate::error::{corrupt, db_err};
use crate::store::{commit, now};

#[async_trait::async_trait]
impl AuthRepo for SeaStore {
    #[tracing::instrument(skip_all)]
    async fn count_users(&self) -> RepoResult<u64> {
        users::Entity::find().count(self.db()).await.map_err(db_err)
    }

    #[tracing::instrument(skip_all)]
    async fn verify_login(&self, email: &Email, password: &Password) -> RepoResult<Option<User>> {
        let row = users::Entity::find()
            .filter(users::Column::Email.eq(email.as_str()))
            .filter(users::Column::Active.eq(true))
            .one(self.db())
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
            .map_err(|e| RepoError::Internal(format!("checking a password: {e}")))?;
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
        let at = now();
        let txn = self.write().await?;
        self.find_scoped::<users::Entity>(&txn, ctx, user, Lock::None)
            .await?;
        let id = SessionId::new();
        sessions::ActiveModel {
            id: Set(id.as_uuid()),
            organization_id: Set(ctx.org().as_uuid()),
            user_id: Set(user.as_uuid()),
            refresh_token_hash: Set(refresh_token_hash.to_owned()),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
            created_at: Set(at),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        let changes = serde_json::json!({ "user_id": user, "expires_at": expires_at });
        audit::record(&txn, ctx, "session.create", "session", id, changes, at).await?;
        commit(txn).await?;
        Ok(id)
    }

    #[tracing::instrument(skip_all)]
    async fn rotate_session(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
    ) -> RepoResult<SessionGrant> {
        let at = now();
        let txn = self.write().await?;
        let mut query = sessions::Entity::find()
            .filter(sessions::Column::RefreshTokenHash.eq(old_hash))
            .filter(sessions::Column::RevokedAt.is_null())
            .filter(sessions::Column::ExpiresAt.gt(at));
        if self.is_postgres() {
            // Two refreshes racing with one token: the second waits, then finds it revoked.
            query = query.lock_exclusive();
        }
        let old = query
            .one(&txn)
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::not_found("session", "for this refresh token"))?;
        let user_row = users::Entity::find_by_id(old.user_id)
            .filter(users::Column::Active.eq(true))
            .one(&txn)
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::not_found("user", old.user_id))?;
        let user = to_user(user_row)?;

        let mut revoked = old.clone().into_active_model();
        revoked.revoked_at = Set(Some(at));
        revoked.update(&txn).await.map_err(db_err)?;

        let session_id = SessionId::new();
        sessions::ActiveModel {
            id: Set(session_id.as_uuid()),
            organization_id: Set(old.organization_id),
            user_id: Set(old.user_id),
            refresh_token_hash: Set(new_hash.to_owned()),
            expires_at: Set(new_expires_at),
            revoked_at: Set(None),
            created_at: Set(at),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        let ctx = Ctx::new(user.organization_id, orchestore_repo::Actor::User(user.id));
        let changes = serde_json::json!({ "replaces": old.id, "expires_at": new_expires_at });
        audit::record(
            &txn,
            &ctx,
            "session.rotate",
            "session",
            session_id,
            changes,
            at,
        )
        .await?;
        commit(txn).await?;
        Ok(SessionGrant { user, session_id })
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn revoke_session(&self, ctx: &Ctx, refresh_token_hash: &str) -> RepoResult<()> {
        let orchestore_repo::Actor::User(user) = ctx.actor() else {
            return Err(RepoError::not_found("session", "for this refresh token"));
        };
        let at = now();
        let txn = self.write().await?;
        let session = sessions::Entity::find()
            .filter(sessions::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(sessions::Column::UserId.eq(user.as_uuid()))
            .filter(sessions::Column::RefreshTokenHash.eq(refresh_token_hash))
            .filter(sessions::Column::RevokedAt.is_null())
            .one(&txn)
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::not_found("session", "for this refresh token"))?;
        let id = session.id;
        let mut revoked = session.into_active_model();
        revoked.revoked_at = Set(Some(at));
        revoked.update(&txn).await.map_err(db_err)?;
        audit::record(
            &txn,
            ctx,
            "session.revoke",
            "session",
            id,
            serde_json::json!({}),
            at,
        )
        .await?;
        commit(txn).await
    }

    #[tracing::instrument(skip_all, fields(key))]
    async fn instance_setting_or_insert(&self, key: &str, generated: &str) -> RepoResult<String> {
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
        .exec_without_returning(self.db())
        .await
        .map_err(db_err)?;
        instance_settings::Entity::find_by_id(key.to_owned())
            .one(self.db())
            .await
            .map_err(db_err)?
            .map(|row| row.value)
            .ok_or_else(|| RepoError::Internal(format!("instance setting {key} vanished")))
    }
}
