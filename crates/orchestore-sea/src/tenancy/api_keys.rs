//! API keys of agents and users: created (the secret returned once), listed, revoked, and
//! checked for each request that presents one.

use chrono::Duration;
use orchestore_domain::{
    AgentId, AgentStatus, ApiKey, ApiKeyId, ApiKeySecret, IssuedApiKey, KeyOwner, KeyScopes, Name,
    NewApiKey, OrganizationId, Participant, Permission, UserId,
};
use orchestore_repo::{
    ApiKeyGrant, ApiKeyRepo, ApiKeySort, Ctx, Cursor, Page, PageRequest, RepoError, RepoResult,
};
use rand::RngCore as _;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::json;

use super::entity::{api_keys, users};
use crate::SeaStore;
use crate::agents::entity::agents;
use crate::collaboration::effective_permissions_of;
use crate::error::{corrupt, db_err};
use crate::mutation::Verb;
use crate::scoped::{Keyset, Lock, keyset_page, scoped};

/// How stale `last_used_at` may get before a request writes it again.
const LAST_USED_GRANULARITY: i64 = 60;

fn to_key(row: api_keys::Model) -> RepoResult<ApiKey> {
    let owner = match (row.agent_id, row.user_id) {
        (Some(agent), None) => KeyOwner::Agent(AgentId::from_uuid(agent)),
        (None, Some(user)) => KeyOwner::User(UserId::from_uuid(user)),
        _ => return Err(corrupt("api_key", "not exactly one owner")),
    };
    let codes = row
        .scopes
        .map(serde_json::from_value::<Vec<String>>)
        .transpose()
        .map_err(|e| corrupt("api_key", e))?;
    Ok(ApiKey {
        id: ApiKeyId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        owner,
        name: Name::parse("name", &row.name).map_err(|e| corrupt("api_key", e))?,
        scopes: KeyScopes::stored(codes),
        created_by: row.created_by,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    })
}

fn unknown_key() -> RepoError {
    RepoError::not_found("api_key", "presented")
}

/// The rows of `owner`'s keys in the context's organization.
fn of_owner(ctx: &Ctx, owner: KeyOwner) -> sea_orm::Select<api_keys::Entity> {
    let query = scoped::<api_keys::Entity>(ctx);
    match owner {
        KeyOwner::Agent(id) => query.filter(api_keys::Column::AgentId.eq(id.as_uuid())),
        KeyOwner::User(id) => query.filter(api_keys::Column::UserId.eq(id.as_uuid())),
    }
}

/// What `owner` holds now: a user, what their roles grant; an agent, what the `agent` system
/// role grants; either with its live grants and without its live suspensions. One query.
async fn permissions_of(
    db: &impl ConnectionTrait,
    org: OrganizationId,
    owner: KeyOwner,
) -> RepoResult<Vec<Permission>> {
    let holder = match owner {
        KeyOwner::Agent(agent) => Participant::Agent(agent),
        KeyOwner::User(user) => Participant::User(user),
    };
    effective_permissions_of(db, org, holder, crate::store::now())
        .await
        .map(|effective| effective.permissions)
}

/// Who the owner is, for audit rows.
fn owner_json(owner: KeyOwner) -> serde_json::Value {
    match owner {
        KeyOwner::Agent(id) => json!({ "agent_id": id }),
        KeyOwner::User(id) => json!({ "user_id": id }),
    }
}

#[async_trait::async_trait]
impl ApiKeyRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), owner = %new.owner))]
    async fn create_api_key(&self, ctx: &Ctx, new: NewApiKey) -> RepoResult<IssuedApiKey> {
        let id = ApiKeyId::new();
        let mut random = [0u8; 32];
        rand::rng().fill_bytes(&mut random);
        let secret = ApiKeySecret::new(ctx.org(), id, random);
        self.mutate(ctx, async |m| {
            let holder = match new.owner {
                KeyOwner::Agent(agent) => {
                    self.agent_for(m, "agent_id", agent).await?;
                    "the agent role"
                }
                KeyOwner::User(user) => {
                    self.find_scoped::<users::Entity>(m.txn(), ctx, user, Lock::None)
                        .await
                        .map_err(|e| match e {
                            RepoError::NotFound { .. } => {
                                RepoError::reference("user_id", "user", user)
                            }
                            other => other,
                        })?;
                    "the owner"
                }
            };
            let held = permissions_of(m.txn(), ctx.org(), new.owner).await?;
            new.scopes.within(&held, holder)?;
            let scopes = new
                .scopes
                .listed()
                .map(|listed| json!(listed.iter().map(|p| p.code()).collect::<Vec<_>>()));
            let row = api_keys::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(id.as_uuid()),
                agent_id: Set(new.owner.agent().map(|agent| agent.as_uuid())),
                user_id: Set(new.owner.user().map(|user| user.as_uuid())),
                name: Set(new.name.as_str().to_owned()),
                key_hash: Set(secret.hash()),
                scopes: Set(scopes),
                created_by: Set(ctx.actor().to_string()),
                created_at: Set(m.at()),
                expires_at: Set(new.expires_at.map(|expiry| expiry.at())),
                last_used_at: Set(None),
                revoked_at: Set(None),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let key = to_key(row)?;
            let mut changes = owner_json(new.owner);
            changes["name"] = json!(key.name);
            changes["scopes"] = json!(key.scopes);
            changes["expires_at"] = json!(key.expires_at);
            m.audit::<api_keys::Entity>(Verb::Create, id, changes)
                .await?;
            Ok(IssuedApiKey {
                key,
                secret: secret.clone(),
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), owner = %owner))]
    async fn list_api_keys(
        &self,
        ctx: &Ctx,
        owner: KeyOwner,
        page: PageRequest<ApiKeySort>,
    ) -> RepoResult<Page<ApiKey, ApiKeySort>> {
        let db = self.db().await;
        match owner {
            KeyOwner::Agent(id) => {
                self.find_scoped::<agents::Entity>(&db, ctx, id, Lock::None)
                    .await?;
            }
            KeyOwner::User(id) => {
                self.find_scoped::<users::Entity>(&db, ctx, id, Lock::None)
                    .await?;
            }
        }
        let keyset = match page.sort() {
            ApiKeySort::CreatedAt => Keyset::OldestFirst,
            ApiKeySort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(of_owner(ctx, owner), &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let keys = rows
            .into_iter()
            .map(to_key)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(keys, &page, |k| {
            Cursor::after(page.sort(), k.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), owner = %owner, key = %id))]
    async fn revoke_api_key(&self, ctx: &Ctx, owner: KeyOwner, id: ApiKeyId) -> RepoResult<ApiKey> {
        self.mutate(ctx, async |m| {
            let mut query = of_owner(ctx, owner).filter(api_keys::Column::Id.eq(id.as_uuid()));
            if self.is_postgres() {
                query = query.lock_exclusive();
            }
            let row = query
                .one(m.txn())
                .await
                .map_err(db_err)?
                .ok_or_else(|| RepoError::not_found("api_key", id))?;
            if row.revoked_at.is_some() {
                return to_key(row);
            }
            let mut update: api_keys::ActiveModel = row.into();
            update.revoked_at = Set(Some(m.at()));
            let key = to_key(update.update(m.txn()).await.map_err(db_err)?)?;
            let mut changes = owner_json(owner);
            changes["name"] = json!(key.name);
            m.audit::<api_keys::Entity>(Verb::Named("revoke"), id, changes)
                .await?;
            Ok(key)
        })
        .await
    }

    async fn authenticate_api_key(&self, key: &ApiKeySecret) -> RepoResult<ApiKeyGrant> {
        let db = self.db().await;
        // One query by primary key, with the owner's standing beside it.
        let found = api_keys::Entity::find()
            .filter(api_keys::Column::OrganizationId.eq(key.organization().as_uuid()))
            .filter(api_keys::Column::Id.eq(key.id().as_uuid()))
            .filter(api_keys::Column::KeyHash.eq(key.hash()))
            .filter(api_keys::Column::RevokedAt.is_null())
            .find_also_related(agents::Entity)
            .find_also_related(users::Entity)
            .one(&db)
            .await
            .map_err(db_err)?;
        let Some((row, agent, user)) = found else {
            return Err(unknown_key());
        };
        let now = crate::store::now();
        let owner_stands = match (&agent, &user) {
            (Some(agent), None) => agent.status != AgentStatus::Inactive.as_str(),
            (None, Some(user)) => user.active,
            _ => false,
        };
        if !owner_stands || row.expires_at.is_some_and(|at| at <= now) {
            return Err(unknown_key());
        }
        let (key_id, last_used_at) = (row.id, row.last_used_at);
        let key = to_key(row)?;
        let held = permissions_of(&db, key.organization_id, key.owner).await?;
        if last_used_at.is_none_or(|at| now - at >= Duration::seconds(LAST_USED_GRANULARITY)) {
            // Bookkeeping, not part of the request: a failure here costs nothing but the mark.
            let marked = api_keys::Entity::update_many()
                .col_expr(api_keys::Column::LastUsedAt, Expr::value(now))
                .filter(api_keys::Column::OrganizationId.eq(key.organization_id.as_uuid()))
                .filter(api_keys::Column::Id.eq(key_id))
                .exec(&db)
                .await;
            if let Err(error) = marked {
                tracing::warn!(%error, "recording an API key's last use");
            }
        }
        Ok(ApiKeyGrant {
            organization_id: key.organization_id,
            owner: key.owner,
            key_id: key.id,
            permissions: key.scopes.effective(&held),
            expires_at: key.expires_at,
        })
    }
}
