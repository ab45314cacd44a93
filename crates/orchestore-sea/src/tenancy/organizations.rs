use orchestore_domain::{Name, NewOrganization, NewUser, Organization, OrganizationId, Slug, User};
use orchestore_repo::{Ctx, OrganizationRepo, RepoError, RepoResult};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use super::entity::organizations;
use super::users::insert_user;
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::mutation::{Mutation, Verb, snapshot};

pub(crate) fn to_organization(row: organizations::Model) -> RepoResult<Organization> {
    Ok(Organization {
        id: OrganizationId::from_uuid(row.id),
        slug: Slug::parse("slug", &row.slug).map_err(|e| corrupt("organization", e))?,
        name: Name::parse("name", &row.name).map_err(|e| corrupt("organization", e))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Inserts organization `ctx.org()` and its audit row.
async fn insert_organization(m: &Mutation<'_>, new: NewOrganization) -> RepoResult<Organization> {
    let row = organizations::ActiveModel {
        id: Set(m.ctx().org().as_uuid()),
        slug: Set(new.slug.as_str().to_owned()),
        name: Set(new.name.as_str().to_owned()),
        settings: Set(serde_json::json!({})),
        created_at: Set(m.at()),
        updated_at: Set(m.at()),
    }
    .insert(m.txn())
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            RepoError::taken(
                "organization",
                "slug",
                format!("organization slug {} is taken", new.slug),
            )
        } else {
            db_err(e)
        }
    })?;
    let organization = to_organization(row)?;
    m.audit::<organizations::Entity>(Verb::Create, organization.id, snapshot(&organization))
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
        self.mutate(ctx, async |m| insert_organization(m, new).await)
            .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_organization_with_owner(
        &self,
        ctx: &Ctx,
        new: NewOrganization,
        owner: NewUser,
    ) -> RepoResult<(Organization, User)> {
        self.mutate(ctx, async |m| {
            let organization = insert_organization(m, new).await?;
            let owner = insert_user(m, owner).await?;
            Ok((organization, owner))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn get_organization(&self, ctx: &Ctx) -> RepoResult<Organization> {
        organizations::Entity::find_by_id(ctx.org().as_uuid())
            .one(&self.db().await)
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::not_found("organization", ctx.org()))
            .and_then(to_organization)
    }
}

impl SeaStore {
    /// The organization with this slug, if there is one: for the one-off commands of the
    /// binary, which name an organization before any context exists.
    #[tracing::instrument(skip_all)]
    pub async fn find_organization_by_slug(&self, slug: &Slug) -> RepoResult<Option<Organization>> {
        use sea_orm::{ColumnTrait, QueryFilter};
        organizations::Entity::find()
            .filter(organizations::Column::Slug.eq(slug.as_str()))
            .one(&self.db().await)
            .await
            .map_err(db_err)?
            .map(to_organization)
            .transpose()
    }
}
