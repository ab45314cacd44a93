use orchestore_domain::{Email, Name, NewUser, OrganizationId, Permission, User, UserId};
use orchestore_repo::{Ctx, RepoError, RepoResult, UserRepo};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::entity::{role_permissions, roles, user_roles, users};
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::mutation::{Mutation, Verb, snapshot};
use crate::scoped::Lock;

pub(crate) fn to_user(row: users::Model) -> RepoResult<User> {
    Ok(User {
        id: UserId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        email: Email::parse(&row.email).map_err(|e| corrupt("user", e))?,
        display_name: Name::parse("display_name", &row.display_name)
            .map_err(|e| corrupt("user", e))?,
        active: row.active,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Inserts a user of the mutation's organization with its system roles and its audit row.
pub(crate) async fn insert_user(m: &Mutation<'_>, new: NewUser) -> RepoResult<User> {
    let org = m.ctx().org().as_uuid();
    let row = users::ActiveModel {
        id: Set(UserId::new().as_uuid()),
        organization_id: Set(org),
        email: Set(new.email.as_str().to_owned()),
        display_name: Set(new.display_name.as_str().to_owned()),
        password_hash: Set(new.password_hash.as_str().to_owned()),
        active: Set(true),
        created_at: Set(m.at()),
        updated_at: Set(m.at()),
    }
    .insert(m.txn())
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            RepoError::taken(
                "user",
                "email",
                format!("a user with email {} already exists", new.email),
            )
        } else {
            db_err(e)
        }
    })?;
    let user = to_user(row)?;

    let mut codes: Vec<&str> = new.roles.iter().map(|role| role.code()).collect();
    codes.sort_unstable();
    codes.dedup();
    let role_ids: Vec<uuid::Uuid> = roles::Entity::find()
        .select_only()
        .column(roles::Column::Id)
        .filter(roles::Column::IsSystem.eq(true))
        .filter(roles::Column::Code.is_in(codes.iter().copied()))
        .into_tuple()
        .all(m.txn())
        .await
        .map_err(db_err)?;
    if role_ids.len() != codes.len() {
        return Err(RepoError::internal(
            "the system roles are missing: is the database migrated?",
        ));
    }
    if !role_ids.is_empty() {
        user_roles::Entity::insert_many(role_ids.into_iter().map(|role_id| {
            user_roles::ActiveModel {
                organization_id: Set(org),
                user_id: Set(user.id.as_uuid()),
                role_id: Set(role_id),
                created_at: Set(m.at()),
            }
        }))
        .exec_without_returning(m.txn())
        .await
        .map_err(db_err)?;
    }
    let mut changes = snapshot(&user);
    if let Some(object) = changes.as_object_mut() {
        object.insert("roles".into(), serde_json::json!(codes));
    }
    m.audit::<users::Entity>(Verb::Create, user.id, changes)
        .await?;
    Ok(user)
}

#[async_trait::async_trait]
impl UserRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_user(&self, ctx: &Ctx, new: NewUser) -> RepoResult<User> {
        self.mutate(ctx, async |m| insert_user(m, new).await).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %id))]
    async fn get_user(&self, ctx: &Ctx, id: UserId) -> RepoResult<User> {
        self.find_scoped::<users::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_user)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %id))]
    async fn user_permissions(&self, ctx: &Ctx, id: UserId) -> RepoResult<Vec<Permission>> {
        let db = self.db().await;
        let role_ids: Vec<uuid::Uuid> = user_roles::Entity::find()
            .select_only()
            .column(user_roles::Column::RoleId)
            .filter(user_roles::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(user_roles::Column::UserId.eq(id.as_uuid()))
            .into_tuple()
            .all(&db)
            .await
            .map_err(db_err)?;
        if role_ids.is_empty() {
            return Ok(Vec::new());
        }
        let codes: Vec<String> = role_permissions::Entity::find()
            .select_only()
            .column(role_permissions::Column::PermissionCode)
            .filter(role_permissions::Column::RoleId.is_in(role_ids))
            .into_tuple()
            .all(&db)
            .await
            .map_err(db_err)?;
        // A code this build does not know (granted by a newer version) is skipped, not fatal.
        let mut permissions: Vec<Permission> = codes
            .iter()
            .filter_map(|code| Permission::from_code(code))
            .collect();
        permissions.sort_by_key(|p| p.code());
        permissions.dedup();
        Ok(permissions)
    }
}
