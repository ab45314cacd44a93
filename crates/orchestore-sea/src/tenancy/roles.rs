use std::collections::HashMap;

use orchestore_domain::{
    Description, NewRole, OrganizationId, Permission, Revision, Role, RoleCode, RoleId, RolePatch,
};
use orchestore_repo::{Ctx, Cursor, Page, PageRequest, RepoError, RepoResult, RoleRepo, RoleSort};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QuerySelect, Select, Set,
};
use uuid::Uuid;

use super::entity::{role_permissions, roles, user_roles};
use super::users::{Whose, raise_access_version};
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::mutation::{Mutation, Verb, diff, snapshot};
use crate::revision::{expect_revision, to_revision, update_revised};
use crate::scoped::{Keyed, Keyset, Lock, keyset_page};

// Roles are not tenanted (a system role has no organization): they are read through
// `visible`, and paged by id like the tenant tables.
impl Keyed for roles::Entity {
    fn id_column() -> roles::Column {
        roles::Column::Id
    }
}

/// The roles the context's organization sees: the system roles and its own custom roles.
pub(crate) fn visible(ctx: &Ctx) -> Select<roles::Entity> {
    roles::Entity::find().filter(
        Condition::any()
            .add(roles::Column::OrganizationId.is_null())
            .add(roles::Column::OrganizationId.eq(ctx.org().as_uuid())),
    )
}

/// Role `id` as the context's organization sees it: `NotFound` for another organization's.
pub(crate) async fn find_visible(
    store: &SeaStore,
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    id: RoleId,
    lock: Lock,
) -> RepoResult<roles::Model> {
    let mut query = visible(ctx).filter(roles::Column::Id.eq(id.as_uuid()));
    if lock == Lock::ForUpdate && store.is_postgres() {
        query = query.lock_exclusive();
    }
    query
        .one(db)
        .await
        .map_err(db_err)?
        .ok_or_else(|| RepoError::not_found("role", id))
}

fn to_role(row: roles::Model, permissions: Vec<Permission>) -> RepoResult<Role> {
    let bad = |e: String| corrupt("role", e);
    if row.is_system != row.organization_id.is_none() {
        return Err(bad(
            "a system role has no organization and a custom role has one".into(),
        ));
    }
    Ok(Role {
        id: RoleId::from_uuid(row.id),
        organization_id: row.organization_id.map(OrganizationId::from_uuid),
        code: RoleCode::parse("code", &row.code).map_err(|e| bad(e.to_string()))?,
        description: Description::parse("description", &row.description)
            .map_err(|e| bad(e.to_string()))?,
        is_system: row.is_system,
        permissions: Permission::sorted_set(permissions),
        created_at: row.created_at,
        revision: to_revision("role", row.revision)?,
    })
}

/// Decodes role rows with what each grants (one query for all of them), in the rows' order.
pub(crate) async fn to_roles(
    db: &impl ConnectionTrait,
    rows: Vec<roles::Model>,
) -> RepoResult<Vec<Role>> {
    let mut granted: HashMap<Uuid, Vec<Permission>> = HashMap::new();
    if !rows.is_empty() {
        let grants: Vec<(Uuid, String)> = role_permissions::Entity::find()
            .select_only()
            .column(role_permissions::Column::RoleId)
            .column(role_permissions::Column::PermissionCode)
            .filter(role_permissions::Column::RoleId.is_in(rows.iter().map(|row| row.id)))
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        for (role, code) in grants {
            // A code this build does not know (granted by a newer version) is skipped.
            if let Some(permission) = Permission::from_code(&code) {
                granted.entry(role).or_default().push(permission);
            }
        }
    }
    rows.into_iter()
        .map(|row| {
            let permissions = granted.remove(&row.id).unwrap_or_default();
            to_role(row, permissions)
        })
        .collect()
}

async fn to_one_role(db: &impl ConnectionTrait, row: roles::Model) -> RepoResult<Role> {
    to_roles(db, vec![row])
        .await?
        .pop()
        .ok_or_else(|| RepoError::internal("a decoded role vanished"))
}

/// Grants `permissions` to role `id`.
async fn grant(m: &Mutation<'_>, id: RoleId, permissions: &[Permission]) -> RepoResult<()> {
    if permissions.is_empty() {
        return Ok(());
    }
    role_permissions::Entity::insert_many(permissions.iter().map(|permission| {
        role_permissions::ActiveModel {
            role_id: Set(id.as_uuid()),
            permission_code: Set(permission.code().to_owned()),
        }
    }))
    .exec_without_returning(m.txn())
    .await
    .map(|_| ())
    .map_err(db_err)
}

/// A system role is shared by every organization: refusing to change it is a conflict with
/// the other organizations, not a bad input.
fn refuse_system_role(role: &Role) -> RepoResult<()> {
    role.ensure_changeable()
        .map_err(|e| RepoError::conflict("role", e.to_string()))
}

#[async_trait::async_trait]
impl RoleRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_role(&self, ctx: &Ctx, new: NewRole) -> RepoResult<Role> {
        self.mutate(ctx, async |m| {
            // The unique index (organization_id, code) keeps a code unique in the organization
            // but cannot compare it with the system codes, whose organization is NULL (distinct
            // from every value in a unique index): a custom `owner` would make the code name
            // two roles. System roles change only with migrations, so this check cannot race.
            let system = roles::Entity::find()
                .filter(roles::Column::IsSystem.eq(true))
                .filter(roles::Column::Code.eq(new.code.as_str()))
                .count(m.txn())
                .await
                .map_err(db_err)?;
            if system > 0 {
                return Err(RepoError::taken(
                    "role",
                    "code",
                    format!("{} is the code of a system role", new.code),
                ));
            }
            let id = RoleId::new();
            let row = roles::ActiveModel {
                id: Set(id.as_uuid()),
                organization_id: Set(Some(ctx.org().as_uuid())),
                code: Set(new.code.as_str().to_owned()),
                is_system: Set(false),
                description: Set(new.description.as_str().to_owned()),
                created_at: Set(m.at()),
                scope: Set(ctx.org().as_uuid()),
                revision: Set(Revision::FIRST.get()),
            }
            .insert(m.txn())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    RepoError::taken(
                        "role",
                        "code",
                        format!("a role with code {} already exists", new.code),
                    )
                } else {
                    db_err(e)
                }
            })?;
            grant(
                m,
                id,
                &Permission::sorted_set(new.permissions.iter().copied()),
            )
            .await?;
            let role = to_one_role(m.txn(), row).await?;
            m.audit::<roles::Entity>(Verb::Create, role.id, snapshot(&role))
                .await?;
            Ok(role)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), role = %id))]
    async fn get_role(&self, ctx: &Ctx, id: RoleId) -> RepoResult<Role> {
        let db = self.db().await;
        let row = find_visible(self, &db, ctx, id, Lock::None).await?;
        to_one_role(&db, row).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn find_role_by_code(&self, ctx: &Ctx, code: &RoleCode) -> RepoResult<Option<Role>> {
        let db = self.db().await;
        match visible(ctx)
            .filter(roles::Column::Code.eq(code.as_str()))
            .one(&db)
            .await
            .map_err(db_err)?
        {
            Some(row) => to_one_role(&db, row).await.map(Some),
            None => Ok(None),
        }
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_roles(
        &self,
        ctx: &Ctx,
        page: PageRequest<RoleSort>,
    ) -> RepoResult<Page<Role, RoleSort>> {
        let keyset = match page.sort() {
            RoleSort::Code => Keyset::TextAsc {
                column: roles::Column::Code,
                postgres: self.is_postgres(),
            },
            RoleSort::CreatedAt => Keyset::OldestFirst,
        };
        let db = self.db().await;
        let rows = keyset_page(visible(ctx), &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let roles = to_roles(&db, rows).await?;
        Ok(Page::from_rows(roles, &page, |role| match page.sort() {
            RoleSort::Code => Cursor::after_text(page.sort(), role.code.as_str(), role.id),
            RoleSort::CreatedAt => Cursor::after(page.sort(), role.id),
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), role = %id))]
    async fn update_role(
        &self,
        ctx: &Ctx,
        id: RoleId,
        patch: RolePatch,
        expected: Option<Revision>,
    ) -> RepoResult<Role> {
        self.mutate(ctx, async |m| {
            let row = find_visible(self, m.txn(), ctx, id, Lock::ForUpdate).await?;
            let read = row.revision;
            expect_revision::<roles::Entity>(id, read, expected)?;
            let before = to_one_role(m.txn(), row.clone()).await?;
            refuse_system_role(&before)?;
            if patch.is_empty() {
                return Ok(before);
            }
            // The row is written whatever the patch holds: its revision covers its grants.
            let mut update = row.into_active_model();
            if let Some(description) = patch.description {
                update.description = Set(description.into_string());
            }
            let row = update_revised(m.txn(), id, update, read, expected, db_err).await?;
            if let Some(permissions) = patch.permissions {
                role_permissions::Entity::delete_many()
                    .filter(role_permissions::Column::RoleId.eq(id.as_uuid()))
                    .exec(m.txn())
                    .await
                    .map_err(db_err)?;
                grant(m, id, &Permission::sorted_set(permissions)).await?;
            }
            let after = to_one_role(m.txn(), row).await?;
            if before
                .permissions
                .iter()
                .any(|p| !after.permissions.contains(p))
            {
                // Its holders' access tokens carry a permission it no longer grants.
                raise_access_version(m, Whose::HoldersOf(id)).await?;
            }
            m.audit::<roles::Entity>(Verb::Update, id, diff(&before, &after))
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), role = %id))]
    async fn delete_role(
        &self,
        ctx: &Ctx,
        id: RoleId,
        expected: Option<Revision>,
    ) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            // Locking the role waits for a grant in flight (its foreign-key check holds a key
            // share lock on the role), so that grant is counted below; a grant that comes
            // later waits for this delete and then finds no role.
            let row = find_visible(self, m.txn(), ctx, id, Lock::ForUpdate).await?;
            let read = row.revision;
            expect_revision::<roles::Entity>(id, read, expected)?;
            let role = to_one_role(m.txn(), row).await?;
            refuse_system_role(&role)?;
            let holders = user_roles::Entity::find()
                .filter(user_roles::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(user_roles::Column::RoleId.eq(id.as_uuid()))
                .count(m.txn())
                .await
                .map_err(db_err)?;
            if holders > 0 {
                let users = if holders == 1 { "user" } else { "users" };
                return Err(RepoError::conflict(
                    "role",
                    format!(
                        "role {} is held by {holders} {users}: remove it from them before \
                         deleting it",
                        role.code
                    ),
                ));
            }
            // Its grants go with it (role_permissions cascades).
            let deleted = roles::Entity::delete_many()
                .filter(roles::Column::Id.eq(id.as_uuid()))
                .filter(roles::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(roles::Column::Revision.eq(read))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
            if deleted.rows_affected == 0 {
                // Locked and read at `read`: unreachable unless the lock did not hold.
                return Err(RepoError::internal(format!("role {id} moved while locked")));
            }
            m.audit::<roles::Entity>(Verb::Delete, id, snapshot(&role))
                .await
        })
        .await
    }
}
