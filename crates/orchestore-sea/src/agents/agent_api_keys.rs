//! API keys of agents: created (the secret returned once), listed, revoked, and checked for
//! each request that presents one.

use chrono::Duration;
use orchestore_domain::{
    AgentApiKey, AgentId, AgentStatus, ApiKeyId, ApiKeySecret, IssuedApiKey, Name, OrganizationId,
    Permission,
};
use orchestore_repo::{
    AgentKeyGrant, AgentKeyRepo, ApiKeySort, Ctx, Cursor, Page, PageRequest, RepoError, RepoResult,
};
use rand::RngCore as _;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde_json::json;

use super::entity::{agent_api_keys, agents};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::Verb;
use crate::scoped::{Keyset, Lock, keyset_page, scoped};
use crate::tenancy::entity::{role_permissions, roles};

/// How stale `last_used_at` may get before a request writes it again.
const LAST_USED_GRANULARITY: i64 = 60;

fn to_key(row: agent_api_keys::Model) -> RepoResult<AgentApiKey> {
    Ok(AgentApiKey {
        id: ApiKeyId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        agent_id: AgentId::from_uuid(row.agent_id),
        name: Name::parse("name", &row.name).map_err(|e| corrupt("agent_api_key", e))?,
        created_by: row.created_by,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    })
}

fn unknown_key() -> RepoError {
    RepoError::not_found("agent_api_key", "presented")
}

#[async_trait::async_trait]
impl AgentKeyRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %agent))]
    async fn create_agent_api_key(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        name: Name,
    ) -> RepoResult<IssuedApiKey> {
        let id = ApiKeyId::new();
        let mut random = [0u8; 32];
        rand::rng().fill_bytes(&mut random);
        let secret = ApiKeySecret::new(ctx.org(), id, random);
        self.mutate(ctx, async |m| {
            self.agent_for(m, "agent_id", agent).await?;
            let row = agent_api_keys::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(id.as_uuid()),
                agent_id: Set(agent.as_uuid()),
                name: Set(name.as_str().to_owned()),
                key_hash: Set(secret.hash()),
                created_by: Set(ctx.actor().to_string()),
                created_at: Set(m.at()),
                last_used_at: Set(None),
                revoked_at: Set(None),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let key = to_key(row)?;
            m.audit::<agent_api_keys::Entity>(
                Verb::Create,
                id,
                json!({ "agent_id": agent, "name": key.name }),
            )
            .await?;
            Ok(IssuedApiKey {
                key,
                secret: secret.clone(),
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %agent))]
    async fn list_agent_api_keys(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        page: PageRequest<ApiKeySort>,
    ) -> RepoResult<Page<AgentApiKey, ApiKeySort>> {
        let db = self.db().await;
        self.find_scoped::<agents::Entity>(&db, ctx, agent, Lock::None)
            .await?;
        let query = scoped::<agent_api_keys::Entity>(ctx)
            .filter(agent_api_keys::Column::AgentId.eq(agent.as_uuid()));
        let keyset = match page.sort() {
            ApiKeySort::CreatedAt => Keyset::OldestFirst,
            ApiKeySort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
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

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %agent, key = %id))]
    async fn revoke_agent_api_key(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        id: ApiKeyId,
    ) -> RepoResult<AgentApiKey> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<agent_api_keys::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            if row.agent_id != agent.as_uuid() {
                return Err(RepoError::not_found("agent_api_key", id));
            }
            if row.revoked_at.is_some() {
                return to_key(row);
            }
            let mut update: agent_api_keys::ActiveModel = row.into();
            update.revoked_at = Set(Some(m.at()));
            let key = to_key(update.update(m.txn()).await.map_err(db_err)?)?;
            m.audit::<agent_api_keys::Entity>(
                Verb::Named("revoke"),
                id,
                json!({ "agent_id": agent, "name": key.name }),
            )
            .await?;
            Ok(key)
        })
        .await
    }

    async fn authenticate_agent_api_key(&self, key: &ApiKeySecret) -> RepoResult<AgentKeyGrant> {
        let db = self.db().await;
        let found = agent_api_keys::Entity::find()
            .filter(agent_api_keys::Column::OrganizationId.eq(key.organization().as_uuid()))
            .filter(agent_api_keys::Column::Id.eq(key.id().as_uuid()))
            .filter(agent_api_keys::Column::KeyHash.eq(key.hash()))
            .filter(agent_api_keys::Column::RevokedAt.is_null())
            .find_also_related(agents::Entity)
            .one(&db)
            .await
            .map_err(db_err)?;
        let Some((row, Some(agent))) = found else {
            return Err(unknown_key());
        };
        if agent.status == AgentStatus::Inactive.as_str() {
            return Err(unknown_key());
        }
        let codes: Vec<String> = role_permissions::Entity::find()
            .select_only()
            .column(role_permissions::Column::PermissionCode)
            .inner_join(roles::Entity)
            .filter(roles::Column::IsSystem.eq(true))
            .filter(roles::Column::Code.eq("agent"))
            .into_tuple()
            .all(&db)
            .await
            .map_err(db_err)?;
        let now = crate::store::now();
        if row
            .last_used_at
            .is_none_or(|at| now - at >= Duration::seconds(LAST_USED_GRANULARITY))
        {
            // Bookkeeping, not part of the request: a failure here costs nothing but the mark.
            let marked = agent_api_keys::Entity::update_many()
                .col_expr(agent_api_keys::Column::LastUsedAt, Expr::value(now))
                .filter(agent_api_keys::Column::OrganizationId.eq(row.organization_id))
                .filter(agent_api_keys::Column::Id.eq(row.id))
                .exec(&db)
                .await;
            if let Err(error) = marked {
                tracing::warn!(%error, "recording an API key's last use");
            }
        }
        Ok(AgentKeyGrant {
            organization_id: OrganizationId::from_uuid(row.organization_id),
            agent_id: AgentId::from_uuid(row.agent_id),
            key_id: ApiKeyId::from_uuid(row.id),
            // A code this build does not know grants nothing.
            permissions: codes
                .iter()
                .filter_map(|code| Permission::from_code(code))
                .collect(),
        })
    }
}
