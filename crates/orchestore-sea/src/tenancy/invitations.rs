//! Invitations: issued (the token returned once), listed while pending, revoked, and accepted
//! by the invited person before any context exists, as a login is.

use std::collections::HashMap;

use orchestore_domain::{
    Email, Invitation, InvitationId, InvitationToken, IssuedInvitation, NewUser, OrganizationId,
    RoleCode, User, UserId,
};
use orchestore_repo::{
    Actor, Ctx, Cursor, InvitationAcceptance, InvitationRepo, InvitationSort, NewInvitation, Page,
    PageRequest, RepoError, RepoResult,
};
use rand::RngCore as _;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::{invitation_roles, invitations, roles, users};
use super::users::{insert_user, roles_named};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Mutation, Verb, snapshot};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};
use crate::store::now;

/// One answer for every token that cannot be accepted, so that it tells nothing of why.
fn not_pending() -> RepoError {
    RepoError::not_found("invitation", "for this token")
}

fn to_invitation(row: invitations::Model, roles: Vec<RoleCode>) -> RepoResult<Invitation> {
    Ok(Invitation {
        id: InvitationId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        email: Email::parse(&row.email).map_err(|e| corrupt("invitation", e))?,
        roles,
        invited_by: row.invited_by,
        created_at: row.created_at,
        expires_at: row.expires_at,
        accepted_at: row.accepted_at,
        accepted_user_id: row.accepted_user_id.map(UserId::from_uuid),
        revoked_at: row.revoked_at,
    })
}

/// The codes of the roles each of `ids` (invitations of `org`) grants, sorted.
async fn roles_of(
    db: &impl ConnectionTrait,
    org: Uuid,
    ids: impl IntoIterator<Item = Uuid>,
) -> RepoResult<HashMap<Uuid, Vec<RoleCode>>> {
    let rows: Vec<(Uuid, String)> = invitation_roles::Entity::find()
        .select_only()
        .column(invitation_roles::Column::InvitationId)
        .column(roles::Column::Code)
        .inner_join(roles::Entity)
        .filter(invitation_roles::Column::OrganizationId.eq(org))
        .filter(invitation_roles::Column::InvitationId.is_in(ids))
        .into_tuple()
        .all(db)
        .await
        .map_err(db_err)?;
    let mut granted: HashMap<Uuid, Vec<RoleCode>> = HashMap::new();
    for (invitation, code) in rows {
        let code = RoleCode::parse("code", &code).map_err(|e| corrupt("role", e))?;
        granted.entry(invitation).or_default().push(code);
    }
    for codes in granted.values_mut() {
        codes.sort();
    }
    Ok(granted)
}

/// `rows` (invitations of `org`) with the roles each grants.
async fn with_roles(
    db: &impl ConnectionTrait,
    org: Uuid,
    rows: Vec<invitations::Model>,
) -> RepoResult<Vec<Invitation>> {
    let mut granted = roles_of(db, org, rows.iter().map(|row| row.id)).await?;
    rows.into_iter()
        .map(|row| {
            let roles = granted.remove(&row.id).unwrap_or_default();
            to_invitation(row, roles)
        })
        .collect()
}

async fn one_with_roles(
    db: &impl ConnectionTrait,
    row: invitations::Model,
) -> RepoResult<Invitation> {
    let org = row.organization_id;
    with_roles(db, org, vec![row])
        .await?
        .pop()
        .ok_or_else(|| RepoError::internal("an invitation vanished while its roles were read"))
}

impl SeaStore {
    /// The invitation whose token hashes to `hash`, in whichever organization: the one lookup
    /// across organizations, before the context is known.
    async fn invitation_by_token(
        &self,
        db: &impl ConnectionTrait,
        hash: &str,
    ) -> RepoResult<invitations::Model> {
        invitations::Entity::find()
            .filter(invitations::Column::TokenHash.eq(hash))
            .one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(not_pending)
    }
}

#[async_trait::async_trait]
impl InvitationRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_invitation(
        &self,
        ctx: &Ctx,
        new: NewInvitation,
    ) -> RepoResult<IssuedInvitation> {
        let mut random = [0u8; 32];
        rand::rng().fill_bytes(&mut random);
        let token = InvitationToken::new(random);
        let id = InvitationId::new();
        self.mutate(ctx, async |m| {
            let org = ctx.org().as_uuid();
            let taken = scoped::<users::Entity>(ctx)
                .filter(users::Column::Email.eq(new.email.as_str()))
                .count(m.txn())
                .await
                .map_err(db_err)?;
            if taken > 0 {
                return Err(RepoError::taken(
                    "invitation",
                    "email",
                    format!("a user with email {} already exists", new.email),
                ));
            }
            let (granted, codes) = roles_named(m, &new.roles).await?;
            let row = invitations::ActiveModel {
                organization_id: Set(org),
                id: Set(id.as_uuid()),
                email: Set(new.email.as_str().to_owned()),
                token_hash: Set(token.hash()),
                invited_by: Set(ctx.actor().to_string()),
                created_at: Set(m.at()),
                expires_at: Set(new.expires_at),
                accepted_at: Set(None),
                accepted_user_id: Set(None),
                revoked_at: Set(None),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            if !granted.is_empty() {
                invitation_roles::Entity::insert_many(granted.iter().map(|role| {
                    invitation_roles::ActiveModel {
                        organization_id: Set(org),
                        invitation_id: Set(id.as_uuid()),
                        role_id: Set(role.id),
                        role_scope: Set(role.scope),
                    }
                }))
                .exec_without_returning(m.txn())
                .await
                .map_err(db_err)?;
            }
            let invitation = to_invitation(row, codes)?;
            // The invitation holds no token, so neither does its snapshot.
            m.audit::<invitations::Entity>(Verb::Create, id, snapshot(&invitation))
                .await?;
            Ok(IssuedInvitation {
                invitation,
                token: token.clone(),
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), invitation = %id))]
    async fn get_invitation(&self, ctx: &Ctx, id: InvitationId) -> RepoResult<Invitation> {
        let db = self.db().await;
        let row = self
            .find_scoped::<invitations::Entity>(&db, ctx, id, Lock::None)
            .await?;
        one_with_roles(&db, row).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_invitations(
        &self,
        ctx: &Ctx,
        page: PageRequest<InvitationSort>,
    ) -> RepoResult<Page<Invitation, InvitationSort>> {
        let db = self.db().await;
        let query = scoped::<invitations::Entity>(ctx)
            .filter(invitations::Column::AcceptedAt.is_null())
            .filter(invitations::Column::RevokedAt.is_null())
            .filter(invitations::Column::ExpiresAt.gt(now()));
        let keyset = match page.sort() {
            InvitationSort::CreatedAt => Keyset::OldestFirst,
            InvitationSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let invitations = with_roles(&db, ctx.org().as_uuid(), rows).await?;
        Ok(Page::from_rows(invitations, &page, |invitation| {
            Cursor::after(page.sort(), invitation.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), invitation = %id))]
    async fn revoke_invitation(&self, ctx: &Ctx, id: InvitationId) -> RepoResult<Invitation> {
        self.mutate(ctx, async |m| {
            // Locked, so that an acceptance racing with the revocation either comes first (and
            // the revocation conflicts) or finds it revoked.
            let row = self
                .find_scoped::<invitations::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            if row.accepted_at.is_some() {
                return Err(RepoError::conflict(
                    "invitation",
                    "the invitation was accepted: deactivate the user it made instead",
                ));
            }
            if row.revoked_at.is_some() {
                return one_with_roles(m.txn(), row).await;
            }
            let mut revoked = row.into_active_model();
            revoked.revoked_at = Set(Some(m.at()));
            let row = revoked.update(m.txn()).await.map_err(db_err)?;
            let invitation = one_with_roles(m.txn(), row).await?;
            m.audit::<invitations::Entity>(
                Verb::Named("revoke"),
                id,
                json!({ "email": invitation.email }),
            )
            .await?;
            Ok(invitation)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn find_pending_invitation(&self, token: &InvitationToken) -> RepoResult<Invitation> {
        let db = self.db().await;
        let row = self.invitation_by_token(&db, &token.hash()).await?;
        let invitation = one_with_roles(&db, row).await?;
        if !invitation.is_pending(now()) {
            return Err(not_pending());
        }
        Ok(invitation)
    }

    #[tracing::instrument(skip_all, fields(org = tracing::field::Empty))]
    async fn accept_invitation(
        &self,
        token: &InvitationToken,
        acceptance: InvitationAcceptance,
        request_id: Option<&str>,
    ) -> RepoResult<User> {
        let hash = token.hash();
        let found = self.invitation_by_token(&self.db().await, &hash).await?;
        let org = OrganizationId::from_uuid(found.organization_id);
        tracing::Span::current().record("org", tracing::field::display(org));
        // Nobody is logged in: the token, not a person, authorizes the acceptance, so the
        // system acts; the audit rows name the user it makes.
        let mut ctx = Ctx::new(org, Actor::System);
        if let Some(request_id) = request_id {
            ctx = ctx.with_request_id(request_id);
        }
        self.mutate(&ctx, async |m: &Mutation<'_>| {
            // Read again under the lock (PostgreSQL; SQLite's write transaction serializes
            // already): of two acceptances racing, the second finds it accepted.
            let row = self
                .find_scoped::<invitations::Entity>(m.txn(), &ctx, found.id, Lock::ForUpdate)
                .await?;
            let invitation = one_with_roles(m.txn(), row.clone()).await?;
            if !invitation.is_pending(m.at()) {
                return Err(not_pending());
            }
            let user = insert_user(
                m,
                NewUser {
                    email: invitation.email.clone(),
                    username: acceptance.username,
                    display_name: acceptance.display_name,
                    password_hash: acceptance.password_hash,
                    roles: invitation.roles.clone(),
                },
            )
            .await?;
            let mut accepted = row.into_active_model();
            accepted.accepted_at = Set(Some(m.at()));
            accepted.accepted_user_id = Set(Some(user.id.as_uuid()));
            accepted.update(m.txn()).await.map_err(db_err)?;
            m.audit::<invitations::Entity>(
                Verb::Named("accept"),
                invitation.id,
                json!({ "user_id": user.id, "email": invitation.email }),
            )
            .await?;
            Ok(user)
        })
        .await
    }
}
