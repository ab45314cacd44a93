use orchestore_domain::{
    Email, Name, NewUser, OrganizationId, Participant, Password, PasswordHash, Permission,
    Revision, Role, RoleCode, RoleId, SessionId, SystemRole, User, UserId, UserPatch, Username,
};
use orchestore_repo::{
    Ctx, Cursor, Page, PageRequest, RepoError, RepoResult, UserFilter, UserRepo, UserSort,
};
use sea_orm::sea_query::{Expr, ExprTrait, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::auth::{Revocation, revoke_sessions_of};
use super::entity::{organizations, roles, user_roles, users};
use super::roles::{find_visible, to_roles, visible};
use crate::SeaStore;
use crate::collaboration::effective_permissions_of;
use crate::error::{corrupt, db_err, is_foreign_key_violation, is_unique_violation};
use crate::mutation::{Mutation, Verb, diff, snapshot};
use crate::revision::{expect_revision, to_revision, update_revised};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};
use crate::store::now;

pub(crate) fn to_user(row: users::Model) -> RepoResult<User> {
    Ok(User {
        id: UserId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        email: Email::parse(&row.email).map_err(|e| corrupt("user", e))?,
        username: row
            .username
            .as_deref()
            .map(Username::parse)
            .transpose()
            .map_err(|e| corrupt("user", e))?,
        display_name: Name::parse("display_name", &row.display_name)
            .map_err(|e| corrupt("user", e))?,
        active: row.active,
        created_at: row.created_at,
        updated_at: row.updated_at,
        revision: to_revision("user", row.revision)?,
    })
}

/// Whose access tokens a change cuts down.
pub(crate) enum Whose {
    User(UserId),
    HoldersOf(RoleId),
}

/// Raises the access version of the users `whose` names in the mutation's organization: what
/// their access tokens grant has shrunk, so the tokens signed before stop working.
pub(crate) async fn raise_access_version(m: &Mutation<'_>, whose: Whose) -> RepoResult<()> {
    let org = m.ctx().org().as_uuid();
    let update = users::Entity::update_many()
        .col_expr(
            users::Column::AccessVersion,
            Expr::col(users::Column::AccessVersion).add(1),
        )
        .filter(users::Column::OrganizationId.eq(org));
    let update = match whose {
        Whose::User(id) => update.filter(users::Column::Id.eq(id.as_uuid())),
        Whose::HoldersOf(role) => update.filter(
            users::Column::Id.in_subquery(
                Query::select()
                    .column(user_roles::Column::UserId)
                    .from(user_roles::Entity)
                    .and_where(user_roles::Column::OrganizationId.eq(org))
                    .and_where(user_roles::Column::RoleId.eq(role.as_uuid()))
                    .to_owned(),
            ),
        ),
    };
    if update.exec(m.txn()).await.map_err(db_err)?.rows_affected > 0 {
        m.standing_fell();
    }
    Ok(())
}

/// Inserts or updates a user row inside a savepoint, so that after a unique violation the
/// transaction can still ask which value was taken (PostgreSQL refuses every further statement
/// of a transaction once one failed).
async fn write_user(
    m: &Mutation<'_>,
    row: users::ActiveModel,
    insert: bool,
) -> Result<users::Model, DbErr> {
    let savepoint = m.txn().begin().await?;
    let written = if insert {
        row.insert(&savepoint).await
    } else {
        row.update(&savepoint).await
    };
    match written {
        Ok(model) => {
            savepoint.commit().await?;
            Ok(model)
        }
        Err(err) => {
            savepoint.rollback().await?;
            Err(err)
        }
    }
}

/// Names the value a failed write of a user took from another user: the e-mail when another
/// user of the organization has it, else the username.
async fn user_write_error(
    m: &Mutation<'_>,
    email: Option<&Email>,
    username: Option<&Username>,
    err: DbErr,
) -> RepoError {
    if !is_unique_violation(&err) {
        return db_err(err);
    }
    if let Some(email) = email {
        match scoped::<users::Entity>(m.ctx())
            .filter(users::Column::Email.eq(email.as_str()))
            .count(m.txn())
            .await
        {
            Ok(0) => {}
            Ok(_) => {
                return RepoError::taken(
                    "user",
                    "email",
                    format!("a user with email {email} already exists"),
                );
            }
            Err(err) => return db_err(err),
        }
    }
    match username {
        Some(username) => RepoError::taken(
            "user",
            "username",
            format!("the username {username} is taken"),
        ),
        None => db_err(err),
    }
}

/// A role to grant, as a row that refers to it keeps it: its id and its scope.
pub(crate) struct GrantedRole {
    pub(crate) id: Uuid,
    pub(crate) scope: Uuid,
}

/// The roles `codes` name in the mutation's organization (system roles or its own), and the
/// codes sorted, each once; a code that names none is `Reference` on `roles`.
pub(crate) async fn roles_named(
    m: &Mutation<'_>,
    codes: &[RoleCode],
) -> RepoResult<(Vec<GrantedRole>, Vec<RoleCode>)> {
    let mut codes = codes.to_vec();
    codes.sort_unstable();
    codes.dedup();
    let rows: Vec<(Uuid, String, Uuid)> = visible(m.ctx())
        .select_only()
        .column(roles::Column::Id)
        .column(roles::Column::Code)
        .column(roles::Column::Scope)
        .filter(roles::Column::Code.is_in(codes.iter().map(RoleCode::as_str)))
        .into_tuple()
        .all(m.txn())
        .await
        .map_err(db_err)?;
    if let Some(missing) = codes
        .iter()
        .find(|code| !rows.iter().any(|(_, found, _)| found == code.as_str()))
    {
        return Err(RepoError::reference("roles", "role", missing));
    }
    let granted = rows
        .into_iter()
        .map(|(id, _, scope)| GrantedRole { id, scope })
        .collect();
    Ok((granted, codes))
}

/// Inserts a user of the mutation's organization with its roles and its audit row.
pub(crate) async fn insert_user(m: &Mutation<'_>, new: NewUser) -> RepoResult<User> {
    let org = m.ctx().org().as_uuid();
    let (role_rows, codes) = roles_named(m, &new.roles).await?;

    let row = users::ActiveModel {
        id: Set(UserId::new().as_uuid()),
        organization_id: Set(org),
        email: Set(new.email.as_str().to_owned()),
        username: Set(new.username.as_ref().map(|u| u.as_str().to_owned())),
        display_name: Set(new.display_name.as_str().to_owned()),
        password_hash: Set(new.password_hash.as_str().to_owned()),
        active: Set(true),
        access_version: Set(0),
        created_at: Set(m.at()),
        updated_at: Set(m.at()),
        revision: Set(Revision::FIRST.get()),
    };
    let row = match write_user(m, row, true).await {
        Ok(row) => row,
        Err(err) => {
            return Err(user_write_error(m, Some(&new.email), new.username.as_ref(), err).await);
        }
    };
    let user = to_user(row)?;

    if !role_rows.is_empty() {
        user_roles::Entity::insert_many(role_rows.iter().map(|role| user_roles::ActiveModel {
            organization_id: Set(org),
            user_id: Set(user.id.as_uuid()),
            role_id: Set(role.id),
            created_at: Set(m.at()),
            role_scope: Set(role.scope),
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

/// The roles user `id` holds (in the context's organization), sorted by code.
async fn roles_of(
    db: &impl sea_orm::ConnectionTrait,
    ctx: &Ctx,
    id: UserId,
) -> RepoResult<Vec<Role>> {
    let held = Query::select()
        .column(user_roles::Column::RoleId)
        .from(user_roles::Entity)
        .and_where(user_roles::Column::OrganizationId.eq(ctx.org().as_uuid()))
        .and_where(user_roles::Column::UserId.eq(id.as_uuid()))
        .to_owned();
    let rows = visible(ctx)
        .filter(roles::Column::Id.in_subquery(held))
        .all(db)
        .await
        .map_err(db_err)?;
    let mut roles = to_roles(db, rows).await?;
    roles.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(roles)
}

/// The users of the context's organization who hold role `role`.
fn holders_of(ctx: &Ctx, role: Uuid) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(user_roles::Column::UserId)
        .from(user_roles::Entity)
        .and_where(user_roles::Column::OrganizationId.eq(ctx.org().as_uuid()))
        .and_where(user_roles::Column::RoleId.eq(role))
        .to_owned()
}

impl SeaStore {
    /// Serializes the changes that could leave the organization without an active owner: on
    /// PostgreSQL, two of them at once (each seeing the other's owner still there) would
    /// otherwise both pass the check. `FOR NO KEY UPDATE` leaves the organization's other
    /// writes alone (their foreign-key checks take a key share lock). SQLite's write
    /// transaction serializes them already.
    async fn lock_owners(&self, m: &Mutation<'_>) -> RepoResult<()> {
        if self.is_postgres() {
            organizations::Entity::find_by_id(m.ctx().org().as_uuid())
                .select_only()
                .column(organizations::Column::Id)
                .lock(LockType::NoKeyUpdate)
                .into_tuple::<Uuid>()
                .one(m.txn())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    /// Refuses a change that would take `user` away from the organization's active owners
    /// (`what` says which) when they are the last one. Call [`SeaStore::lock_owners`] first.
    async fn keep_an_owner(&self, m: &Mutation<'_>, user: &User, what: &str) -> RepoResult<()> {
        let owner: Option<Uuid> = roles::Entity::find()
            .select_only()
            .column(roles::Column::Id)
            .filter(roles::Column::IsSystem.eq(true))
            .filter(roles::Column::Code.eq(SystemRole::Owner.code()))
            .into_tuple()
            .one(m.txn())
            .await
            .map_err(db_err)?;
        let Some(owner) = owner else {
            return Err(RepoError::internal(
                "the owner role is missing: is the database migrated?",
            ));
        };
        let active_owners = scoped::<users::Entity>(m.ctx())
            .filter(users::Column::Active.eq(true))
            .filter(users::Column::Id.in_subquery(holders_of(m.ctx(), owner)));
        let is_one = active_owners
            .clone()
            .filter(users::Column::Id.eq(user.id.as_uuid()))
            .count(m.txn())
            .await
            .map_err(db_err)?;
        if is_one == 0 {
            return Ok(());
        }
        let others = active_owners
            .filter(users::Column::Id.ne(user.id.as_uuid()))
            .count(m.txn())
            .await
            .map_err(db_err)?;
        if others == 0 {
            return Err(RepoError::conflict(
                "user",
                format!(
                    "{} is the organization's last active owner: make another user owner before \
                     you {what}",
                    user.email
                ),
            ));
        }
        Ok(())
    }
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

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn find_user_by_email(&self, ctx: &Ctx, email: &Email) -> RepoResult<Option<User>> {
        scoped::<users::Entity>(ctx)
            .filter(users::Column::Email.eq(email.as_str()))
            .one(&self.db().await)
            .await
            .map_err(db_err)?
            .map(to_user)
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn find_user_by_username(
        &self,
        ctx: &Ctx,
        username: &Username,
    ) -> RepoResult<Option<User>> {
        scoped::<users::Entity>(ctx)
            .filter(users::Column::Username.eq(username.as_str()))
            .one(&self.db().await)
            .await
            .map_err(db_err)?
            .map(to_user)
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_users(
        &self,
        ctx: &Ctx,
        filter: UserFilter,
        page: PageRequest<UserSort>,
    ) -> RepoResult<Page<User, UserSort>> {
        let mut query = scoped::<users::Entity>(ctx);
        if let Some(active) = filter.active {
            query = query.filter(users::Column::Active.eq(active));
        }
        if let Some(role) = filter.role {
            query = query.filter(users::Column::Id.in_subquery(holders_of(ctx, role.as_uuid())));
        }
        let keyset = match page.sort() {
            UserSort::CreatedAt => Keyset::OldestFirst,
            UserSort::CreatedAtDesc => Keyset::NewestFirst,
            UserSort::Email => Keyset::TextAsc {
                column: users::Column::Email,
                postgres: self.is_postgres(),
            },
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let users = rows
            .into_iter()
            .map(to_user)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(users, &page, |user| match page.sort() {
            UserSort::Email => Cursor::after_text(page.sort(), user.email.as_str(), user.id),
            UserSort::CreatedAt | UserSort::CreatedAtDesc => Cursor::after(page.sort(), user.id),
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %id))]
    async fn update_user(
        &self,
        ctx: &Ctx,
        id: UserId,
        patch: UserPatch,
        expected: Option<Revision>,
    ) -> RepoResult<User> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<users::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            // Locked: the revision read is the row's until this transaction ends.
            expect_revision::<users::Entity>(id, row.revision, expected)?;
            let before = to_user(row.clone())?;
            if patch.is_empty() {
                return Ok(before);
            }
            let revision = row.revision + 1;
            let mut update = row.into_active_model();
            update.revision = Set(revision);
            if let Some(display_name) = &patch.display_name {
                update.display_name = Set(display_name.as_str().to_owned());
            }
            if let Some(username) = &patch.username {
                update.username = Set(username.as_ref().map(|u| u.as_str().to_owned()));
            }
            update.updated_at = Set(m.at());
            let row = match write_user(m, update, false).await {
                Ok(row) => row,
                Err(err) => {
                    let username = patch.username.as_ref().and_then(Option::as_ref);
                    return Err(user_write_error(m, None, username, err).await);
                }
            };
            let after = to_user(row)?;
            m.audit::<users::Entity>(Verb::Update, id, diff(&before, &after))
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %id, active))]
    async fn set_user_active(&self, ctx: &Ctx, id: UserId, active: bool) -> RepoResult<User> {
        self.mutate(ctx, async |m| {
            if !active {
                self.lock_owners(m).await?;
            }
            let row = self
                .find_scoped::<users::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let before = to_user(row.clone())?;
            if before.active == active {
                return Ok(before);
            }
            if !active {
                self.keep_an_owner(m, &before, "deactivate them").await?;
            }
            let read = row.revision;
            let mut update = row.into_active_model();
            update.active = Set(active);
            update.updated_at = Set(m.at());
            let after = to_user(update_revised(m.txn(), id, update, read, None, db_err).await?)?;
            let verb = if active { "reactivate" } else { "deactivate" };
            let mut changes = diff(&before, &after);
            if !active {
                // Their access tokens stop with their sessions, at once.
                raise_access_version(m, Whose::User(id)).await?;
                let revoked = revoke_sessions_of(m, id, None, Revocation::UserDeactivated).await?;
                changes["sessions_revoked"] = revoked.into();
            }
            m.audit::<users::Entity>(Verb::Named(verb), id, changes)
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %id))]
    async fn user_roles(&self, ctx: &Ctx, id: UserId) -> RepoResult<Vec<Role>> {
        let db = self.db().await;
        self.find_scoped::<users::Entity>(&db, ctx, id, Lock::None)
            .await?;
        roles_of(&db, ctx, id).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %user, role = %role))]
    async fn assign_role(&self, ctx: &Ctx, user: UserId, role: RoleId) -> RepoResult<Vec<Role>> {
        self.mutate(ctx, async |m| {
            self.find_scoped::<users::Entity>(m.txn(), ctx, user, Lock::None)
                .await?;
            // Another organization's custom role is as unknown here as no role at all.
            let granted = find_visible(self, m.txn(), ctx, role, Lock::None)
                .await
                .map_err(|err| match err {
                    RepoError::NotFound { .. } => RepoError::reference("role_id", "role", role),
                    other => other,
                })?;
            let held = user_roles::Entity::find()
                .filter(user_roles::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(user_roles::Column::UserId.eq(user.as_uuid()))
                .filter(user_roles::Column::RoleId.eq(role.as_uuid()))
                .count(m.txn())
                .await
                .map_err(db_err)?;
            if held == 0 {
                user_roles::ActiveModel {
                    organization_id: Set(ctx.org().as_uuid()),
                    user_id: Set(user.as_uuid()),
                    role_id: Set(role.as_uuid()),
                    created_at: Set(m.at()),
                    role_scope: Set(granted.scope),
                }
                .insert(m.txn())
                .await
                .map_err(|e| {
                    // The role was deleted since it was read.
                    if is_foreign_key_violation(&e) {
                        RepoError::reference("role_id", "role", role)
                    } else {
                        db_err(e)
                    }
                })?;
                let changes = serde_json::json!({ "role_id": role, "role": granted.code });
                m.audit::<users::Entity>(Verb::Named("assign_role"), user, changes)
                    .await?;
            }
            roles_of(m.txn(), ctx, user).await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %user, role = %role))]
    async fn remove_role(&self, ctx: &Ctx, user: UserId, role: RoleId) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            self.lock_owners(m).await?;
            let holder = to_user(
                self.find_scoped::<users::Entity>(m.txn(), ctx, user, Lock::ForUpdate)
                    .await?,
            )?;
            let not_held = || RepoError::not_found("role", format!("{role} of user {user}"));
            let removed = find_visible(self, m.txn(), ctx, role, Lock::None)
                .await
                .map_err(|err| match err {
                    RepoError::NotFound { .. } => not_held(),
                    other => other,
                })?;
            if removed.is_system && removed.code == SystemRole::Owner.code() {
                self.keep_an_owner(m, &holder, "remove their owner role")
                    .await?;
            }
            let deleted = user_roles::Entity::delete_many()
                .filter(user_roles::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(user_roles::Column::UserId.eq(user.as_uuid()))
                .filter(user_roles::Column::RoleId.eq(role.as_uuid()))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
            if deleted.rows_affected == 0 {
                return Err(not_held());
            }
            raise_access_version(m, Whose::User(user)).await?;
            let changes = serde_json::json!({ "role_id": role, "role": removed.code });
            m.audit::<users::Entity>(Verb::Named("remove_role"), user, changes)
                .await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %id))]
    async fn user_permissions(&self, ctx: &Ctx, id: UserId) -> RepoResult<Vec<Permission>> {
        let db = self.db().await;
        let effective =
            effective_permissions_of(&db, ctx.org(), Participant::User(id), now()).await?;
        if effective.permissions.is_empty() {
            // A user without a role has no permission; a user this organization does not have
            // is not found, as everywhere else.
            self.find_scoped::<users::Entity>(&db, ctx, id, Lock::None)
                .await?;
        }
        Ok(effective.permissions)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), user = %id))]
    async fn change_password(
        &self,
        ctx: &Ctx,
        id: UserId,
        current: &Password,
        new: PasswordHash,
        keep: Option<SessionId>,
    ) -> RepoResult<()> {
        let stored = self
            .find_scoped::<users::Entity>(&self.db().await, ctx, id, Lock::None)
            .await?
            .password_hash;
        let hash = PasswordHash::from_stored(stored).map_err(|e| corrupt("user", e))?;
        let offered = current.clone();
        let matches = tokio::task::spawn_blocking(move || hash.verify(&offered))
            .await
            .map_err(|e| RepoError::internal(format!("checking a password: {e}")))?;
        if !matches {
            return Err(RepoError::Invalid(orchestore_domain::DomainError::invalid(
                "current_password",
                "is not the user's password",
            )));
        }
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<users::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            let mut update = row.into_active_model();
            update.password_hash = Set(new.as_str().to_owned());
            update.updated_at = Set(m.at());
            update_revised(m.txn(), id, update, read, None, db_err).await?;
            let revoked = revoke_sessions_of(m, id, keep, Revocation::PasswordChanged).await?;
            let changes = serde_json::json!({ "sessions_revoked": revoked });
            m.audit::<users::Entity>(Verb::Named("change_password"), id, changes)
                .await
        })
        .await
    }
}
