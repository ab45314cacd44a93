use chrono::{DateTime, Utc};
use orchestore_domain::{Name, NewOrganization, NewUser, Organization, OrganizationId, Slug, User};
use orchestore_repo::{Ctx, OrganizationRepo, RepoError, RepoResult};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, Set};

use super::users::insert_user;
use crate::SeaStore;
use crate::audit;
use crate::entities::organizations;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::store::{commit, now};

pub(crate) fn to_organization(row: organizations::Model) -> RepoResult<Organization> {
    Ok(Organization {
        id: OrganizationId::from_uuid(row.id),
        slug: Slug::parse("slug", &row.slug).map_err(|e| corrupt("organization", e))?,
        name: Name::parse("name", &row.name).map_err(|e| corrupt("organization", e))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Inserts organization `ctx.org()` and its audit row inside `txn`.
async fn insert_organization(
    txn: &DatabaseTransaction,
    ctx: &Ctx,
    new: NewOrganization,
    at: DateTime<Utc>,
) -> RepoResult<Organization> {
    let row = organizations::ActiveModel {
        id: Set(ctx.org().as_uuid()),
        slug: Set(new.slug.as_str().to_owned()),
        name: Set(new.name.as_str().to_owned()),
        settings: Set(serde_json::json!({})),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(txn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            RepoError::Conflict(format!("organization slug {} is taken", new.slug))
        } else {
            db_err(e)
        }
    })?;
    let organization = to_organization(row)?;
    audit::record(
        txn,
        ctx,
        "organization.create",
        "organization",
        organization.id,
        audit::snapshot(&organization),
        at,
    )
    .await?;
    Ok(organization)
}

#[async_trait::async_trait]
impl OrganizationRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_organization(
        &self,
        ctx: &Ctx,
        new: NewOrganization,
    ) -> RepoResult<Organization> {
        let txn = self.write().await?;
        let organization = insert_organization(&txn, ctx, new, now()).await?;
        commit(txn).await?;
        Ok(organization)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_organization_with_owner(
        &self,
        ctx: &Ctx,
        new: NewOrganization,
        owner: NewUser,
    ) -> RepoResult<(Organization, User)> {
        let at = now();
        let txn = self.write().await?;
        let organization = insert_organization(&txn, ctx, new, at).await?;
        let owner = insert_user(&txn, ctx, owner, at).await?;
        commit(txn).await?;
        Ok((organization, owner))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn get_organization(&self, ctx: &Ctx) -> RepoResult<Organization> {
        organizations::Entity::find_by_id(ctx.org().as_uuid())
            .one(self.db())
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::not_found("organization", ctx.org()))
            .and_then(to_organization)
    }
}
