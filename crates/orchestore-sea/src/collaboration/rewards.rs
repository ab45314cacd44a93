//! Rewards and the permission grants their redemption makes; what a holder may do with its
//! grants and suspensions; the sweep of what ended.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use orchestore_domain::{
    BadgeName, DomainError, EffectivePermissions, GrantStatus, NewPointAward, NewReward,
    OrganizationId, Participant, PenaltyKind, PenaltyStatus, Permission, PermissionGrant,
    PermissionGrantId, PermissionPeriod, PointAmount, PointReason, PointSource, Redemption, Reward,
    RewardId, RewardKind, RewardStatus, RewardValue, SanctionReason, UserId,
};
use orchestore_repo::{
    Actor, Ctx, Cursor, Page, PageRequest, Redeemer, RepoError, RepoResult, RewardFilter,
    RewardRepo, RewardSort, SweptSanctions,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement, UnionType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::{penalties, permission_grants, rewards};
use super::points::award_within;
use super::{holder_columns, holder_entity, holder_exists, holder_of, require_holder};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Audited, Mutation, Verb, snapshot};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};
use crate::tenancy::entity::{role_permissions, roles, user_roles};
use crate::tenancy::users::{Whose, raise_access_version};

/// The most rows of each kind one sweep ends; the rest wait for the next.
const SWEEP_BATCH: u64 = 1000;

/// A stored permission code; this build must know it.
pub(super) fn permission_of(entity: &'static str, code: &str) -> RepoResult<Permission> {
    Permission::from_code(code).ok_or_else(|| {
        corrupt(
            entity,
            format!("{code:?} is not a permission this build knows"),
        )
    })
}

fn to_reward(row: rewards::Model) -> RepoResult<Reward> {
    let entity = rewards::Entity::NAME;
    let bad = |e: DomainError| corrupt(entity, e);
    let missing = |column: &str| corrupt(entity, format!("a {} reward without {column}", row.kind));
    let kind: RewardKind = row.kind.parse().map_err(bad)?;
    let value = match kind {
        RewardKind::Points => RewardValue::Points {
            points: row.points.ok_or_else(|| missing("points"))?,
        },
        RewardKind::Badge => RewardValue::badge(
            BadgeName::parse(row.badge.as_deref().ok_or_else(|| missing("badge"))?).map_err(bad)?,
        ),
        RewardKind::Permission => RewardValue::Permission {
            permission: permission_of(
                entity,
                row.permission_code
                    .as_deref()
                    .ok_or_else(|| missing("permission_code"))?,
            )?,
            duration_seconds: row
                .duration_seconds
                .ok_or_else(|| missing("duration_seconds"))?,
        },
    };
    Ok(Reward {
        id: RewardId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        recipient: holder_of(entity, row.agent_id, row.user_id)?,
        value,
        reason: SanctionReason::parse(&row.reason).map_err(bad)?,
        status: row.status.parse().map_err(bad)?,
        allocated_by: row.allocated_by,
        allocated_at: row.allocated_at,
        expires_at: row.expires_at,
        redeemed_at: row.redeemed_at,
        redeemed_by: row.redeemed_by,
    })
}

pub(super) fn to_grant(row: permission_grants::Model) -> RepoResult<PermissionGrant> {
    let entity = permission_grants::Entity::NAME;
    Ok(PermissionGrant {
        id: PermissionGrantId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        holder: holder_of(entity, row.agent_id, row.user_id)?,
        permission: permission_of(entity, &row.permission_code)?,
        reward_id: RewardId::from_uuid(row.reward_id),
        granted_at: row.granted_at,
        expires_at: row.expires_at,
        status: row.status.parse().map_err(|e| corrupt(entity, e))?,
    })
}

/// Raises a user holder's access version: the permissions their access tokens carry changed.
/// An agent's keys are checked on every request, so nothing needs doing for an agent.
pub(super) async fn tokens_changed(m: &Mutation<'_>, holder: Participant) -> RepoResult<()> {
    match holder {
        Participant::User(user) => raise_access_version(m, Whose::User(user)).await,
        Participant::Agent(_) => Ok(()),
    }
}

/// `holder`'s permissions at `at`, in one statement: its roles' codes, its grants live at
/// `at` and its suspensions live at `at`, as `(code, source, until)` rows (source 0, 1 and 2).
pub(crate) async fn effective_permissions_of(
    db: &impl ConnectionTrait,
    org: OrganizationId,
    holder: Participant,
    at: DateTime<Utc>,
) -> RepoResult<EffectivePermissions> {
    const ROLE: i32 = 0;
    const GRANT: i32 = 1;
    const SUSPENSION: i32 = 2;
    let codes = role_permissions::Entity::find()
        .select_only()
        .column_as(role_permissions::Column::PermissionCode, "code")
        .column_as(Expr::cust(ROLE.to_string()), "source")
        .column_as(Expr::cust("NULL"), "until");
    let mut statement: SelectStatement = match holder {
        Participant::User(user) => codes.filter(
            role_permissions::Column::RoleId.in_subquery(
                Query::select()
                    .column(user_roles::Column::RoleId)
                    .from(user_roles::Entity)
                    .and_where(user_roles::Column::OrganizationId.eq(org.as_uuid()))
                    .and_where(user_roles::Column::UserId.eq(user.as_uuid()))
                    .to_owned(),
            ),
        ),
        // An agent holds what the `agent` system role grants.
        Participant::Agent(_) => codes
            .inner_join(roles::Entity)
            .filter(roles::Column::IsSystem.eq(true))
            .filter(roles::Column::Code.eq("agent")),
    }
    .into_query();
    let granted = permission_grants::Entity::find()
        .select_only()
        .column_as(permission_grants::Column::PermissionCode, "code")
        .column_as(Expr::cust(GRANT.to_string()), "source")
        .column_as(permission_grants::Column::ExpiresAt, "until")
        .filter(permission_grants::Column::OrganizationId.eq(org.as_uuid()))
        .filter(permission_grants::Column::HolderId.eq(holder.id()))
        .filter(permission_grants::Column::ExpiresAt.gt(at))
        .into_query();
    let suspended = penalties::Entity::find()
        .select_only()
        .column_as(penalties::Column::PermissionCode, "code")
        .column_as(Expr::cust(SUSPENSION.to_string()), "source")
        .column_as(penalties::Column::SuspendedUntil, "until")
        .filter(penalties::Column::OrganizationId.eq(org.as_uuid()))
        .filter(penalties::Column::HolderId.eq(holder.id()))
        .filter(penalties::Column::Kind.eq(PenaltyKind::Suspension.as_str()))
        .filter(penalties::Column::Status.eq(PenaltyStatus::Applied.as_str()))
        .filter(penalties::Column::SuspendedUntil.gt(at))
        .into_query();
    statement
        .union(UnionType::All, granted)
        .union(UnionType::All, suspended);
    let rows = db
        .query_all_raw(db.get_database_backend().build(&statement))
        .await
        .map_err(db_err)?;
    let (mut held, mut grants, mut suspensions) = (Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        let code: String = row.try_get("", "code").map_err(db_err)?;
        let source: i32 = row.try_get("", "source").map_err(db_err)?;
        // A code this build does not know grants (or takes) nothing.
        let Some(permission) = Permission::from_code(&code) else {
            continue;
        };
        if source == ROLE {
            held.push(permission);
            continue;
        }
        let until: Option<DateTime<Utc>> = row.try_get("", "until").map_err(db_err)?;
        let until =
            until.ok_or_else(|| RepoError::internal("a grant or suspension without its end"))?;
        match source {
            GRANT => grants.push((permission, until)),
            _ => suspensions.push((permission, until)),
        }
    }
    Ok(EffectivePermissions::at(at, held, grants, suspensions))
}

/// Whether the context's actor is `holder`.
pub(super) fn acts_as(ctx: &Ctx, holder: Participant) -> bool {
    match (ctx.actor(), holder) {
        (Actor::User(actor), Participant::User(holder)) => actor == holder,
        (Actor::Agent(actor), Participant::Agent(holder)) => actor == holder,
        _ => false,
    }
}

#[async_trait::async_trait]
impl RewardRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), recipient = %new.recipient))]
    async fn allocate_reward(&self, ctx: &Ctx, new: NewReward) -> RepoResult<Reward> {
        self.mutate(ctx, async |m| {
            if new.expires_at.is_some_and(|at| at <= m.at()) {
                return Err(DomainError::invalid("expires_at", "must be in the future").into());
            }
            require_holder(m.txn(), ctx, "recipient", new.recipient).await?;
            let (agent_id, user_id) = holder_columns(new.recipient);
            let (points, badge, permission, duration) = match &new.value {
                RewardValue::Points { points } => (Some(*points), None, None, None),
                RewardValue::Badge { badge } => (None, Some(badge.as_str().to_owned()), None, None),
                RewardValue::Permission {
                    permission,
                    duration_seconds,
                } => (
                    None,
                    None,
                    Some(permission.code().to_owned()),
                    Some(*duration_seconds),
                ),
            };
            let row = rewards::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(RewardId::new().as_uuid()),
                holder_id: Set(new.recipient.id()),
                agent_id: Set(agent_id),
                user_id: Set(user_id),
                kind: Set(new.value.kind().as_str().to_owned()),
                points: Set(points),
                badge: Set(badge),
                permission_code: Set(permission),
                duration_seconds: Set(duration),
                reason: Set(new.reason.as_str().to_owned()),
                status: Set(RewardStatus::Allocated.as_str().to_owned()),
                allocated_by: Set(ctx.actor().to_string()),
                allocated_at: Set(m.at()),
                expires_at: Set(new.expires_at),
                redeemed_at: Set(None),
                redeemed_by: Set(None),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let reward = to_reward(row)?;
            m.audit::<rewards::Entity>(Verb::Create, reward.id, snapshot(&reward))
                .await?;
            Ok(reward)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), reward = %id))]
    async fn get_reward(&self, ctx: &Ctx, id: RewardId) -> RepoResult<Reward> {
        self.find_scoped::<rewards::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_reward)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_rewards(
        &self,
        ctx: &Ctx,
        filter: RewardFilter,
        page: PageRequest<RewardSort>,
    ) -> RepoResult<Page<Reward, RewardSort>> {
        let mut query = scoped::<rewards::Entity>(ctx);
        if let Some(recipient) = filter.recipient {
            query = query.filter(rewards::Column::HolderId.eq(recipient.id()));
        }
        if let Some(status) = filter.status {
            query = query.filter(rewards::Column::Status.eq(status.as_str()));
        }
        let keyset = match page.sort() {
            RewardSort::AllocatedAt => Keyset::OldestFirst,
            RewardSort::AllocatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let rewards = rows
            .into_iter()
            .map(to_reward)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(rewards, &page, |reward| {
            Cursor::after(page.sort(), reward.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), reward = %id))]
    async fn redeem_reward(&self, ctx: &Ctx, id: RewardId, by: Redeemer) -> RepoResult<Redemption> {
        self.mutate(ctx, async |m| {
            let before = self
                .find_scoped::<rewards::Entity>(m.txn(), ctx, id, Lock::None)
                .await?;
            let recipient = holder_of(rewards::Entity::NAME, before.agent_id, before.user_id)?;
            if by == Redeemer::Recipient && !acts_as(ctx, recipient) {
                return Err(DomainError::invalid(
                    "reward_id",
                    "the reward is another holder's: only its recipient redeems it",
                )
                .into());
            }
            // Once: of two redemptions, the second finds no allocated row to change.
            let redeemed = rewards::Entity::update_many()
                .col_expr(
                    rewards::Column::Status,
                    Expr::value(RewardStatus::Redeemed.as_str()),
                )
                .col_expr(rewards::Column::RedeemedAt, Expr::value(m.at()))
                .col_expr(
                    rewards::Column::RedeemedBy,
                    Expr::value(ctx.actor().to_string()),
                )
                .filter(rewards::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(rewards::Column::Id.eq(id.as_uuid()))
                .filter(rewards::Column::Status.eq(RewardStatus::Allocated.as_str()))
                .filter(
                    rewards::Column::ExpiresAt
                        .is_null()
                        .or(rewards::Column::ExpiresAt.gt(m.at())),
                )
                .exec_with_returning(m.txn())
                .await
                .map_err(db_err)?;
            let Some(row) = redeemed.into_iter().next() else {
                let why = if before.status == RewardStatus::Expired.as_str()
                    || before.expires_at.is_some_and(|at| at <= m.at())
                {
                    "the reward expired before it was redeemed"
                } else {
                    "the reward is redeemed already: a reward is redeemed once"
                };
                return Err(RepoError::conflict(rewards::Entity::NAME, why));
            };
            let reward = to_reward(row)?;
            let (point_award, grant) = match &reward.value {
                RewardValue::Points { points } => {
                    let award = NewPointAward {
                        holder: recipient,
                        points: PointAmount::parse(*points)?,
                        reason: PointReason::parse(reward.reason.as_str())?,
                        source: PointSource::parse("reward")?,
                    };
                    (Some(award_within(m, &award).await?), None)
                }
                RewardValue::Badge { .. } => (None, None),
                RewardValue::Permission {
                    permission,
                    duration_seconds,
                } => {
                    let period = PermissionPeriod::parse_seconds(*duration_seconds)?;
                    let (agent_id, user_id) = holder_columns(recipient);
                    let row = permission_grants::ActiveModel {
                        organization_id: Set(ctx.org().as_uuid()),
                        id: Set(PermissionGrantId::new().as_uuid()),
                        holder_id: Set(recipient.id()),
                        agent_id: Set(agent_id),
                        user_id: Set(user_id),
                        permission_code: Set(permission.code().to_owned()),
                        reward_id: Set(reward.id.as_uuid()),
                        granted_at: Set(m.at()),
                        expires_at: Set(period.end(m.at())),
                        status: Set(GrantStatus::Active.as_str().to_owned()),
                    }
                    .insert(m.txn())
                    .await
                    .map_err(db_err)?;
                    let grant = to_grant(row)?;
                    m.audit::<permission_grants::Entity>(Verb::Create, grant.id, snapshot(&grant))
                        .await?;
                    tokens_changed(m, recipient).await?;
                    (None, Some(grant))
                }
            };
            m.audit::<rewards::Entity>(
                Verb::Named("redeem"),
                reward.id,
                json!({
                    "point_award_id": point_award.as_ref().map(|a| a.id),
                    "grant_id": grant.as_ref().map(|g| g.id),
                }),
            )
            .await?;
            Ok(Redemption {
                reward,
                point_award,
                grant,
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), holder = %holder))]
    async fn effective_permissions(
        &self,
        ctx: &Ctx,
        holder: Participant,
    ) -> RepoResult<EffectivePermissions> {
        let db = self.db().await;
        if !holder_exists(&db, ctx, holder).await? {
            return Err(RepoError::not_found(holder_entity(holder), holder.id()));
        }
        effective_permissions_of(&db, ctx.org(), holder, crate::store::now()).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn expire_sanctions(&self, ctx: &Ctx) -> RepoResult<SweptSanctions> {
        self.mutate(ctx, async |m| {
            let org = ctx.org().as_uuid();
            let mut users: BTreeSet<Uuid> = BTreeSet::new();
            // Each a conditional update returning what it changed: a row another sweep ended
            // first is neither counted nor audited twice.
            let expired_rewards = rewards::Entity::update_many()
                .col_expr(
                    rewards::Column::Status,
                    Expr::value(RewardStatus::Expired.as_str()),
                )
                .filter(rewards::Column::OrganizationId.eq(org))
                .filter(
                    rewards::Column::Id.in_subquery(
                        Query::select()
                            .column(rewards::Column::Id)
                            .from(rewards::Entity)
                            .and_where(rewards::Column::OrganizationId.eq(org))
                            .and_where(rewards::Column::Status.eq(RewardStatus::Allocated.as_str()))
                            .and_where(rewards::Column::ExpiresAt.lte(m.at()))
                            .limit(SWEEP_BATCH)
                            .to_owned(),
                    ),
                )
                .filter(rewards::Column::Status.eq(RewardStatus::Allocated.as_str()))
                .exec_with_returning(m.txn())
                .await
                .map_err(db_err)?;
            for row in &expired_rewards {
                m.audit::<rewards::Entity>(
                    Verb::Status(RewardStatus::Expired.as_str()),
                    row.id,
                    json!({ "expires_at": row.expires_at }),
                )
                .await?;
            }
            let expired_grants = permission_grants::Entity::update_many()
                .col_expr(
                    permission_grants::Column::Status,
                    Expr::value(GrantStatus::Expired.as_str()),
                )
                .filter(permission_grants::Column::OrganizationId.eq(org))
                .filter(
                    permission_grants::Column::Id.in_subquery(
                        Query::select()
                            .column(permission_grants::Column::Id)
                            .from(permission_grants::Entity)
                            .and_where(permission_grants::Column::OrganizationId.eq(org))
                            .and_where(
                                permission_grants::Column::Status.eq(GrantStatus::Active.as_str()),
                            )
                            .and_where(permission_grants::Column::ExpiresAt.lte(m.at()))
                            .limit(SWEEP_BATCH)
                            .to_owned(),
                    ),
                )
                .filter(permission_grants::Column::Status.eq(GrantStatus::Active.as_str()))
                .exec_with_returning(m.txn())
                .await
                .map_err(db_err)?;
            for row in &expired_grants {
                users.extend(row.user_id);
                m.audit::<permission_grants::Entity>(
                    Verb::Status(GrantStatus::Expired.as_str()),
                    row.id,
                    json!({ "permission": row.permission_code, "expires_at": row.expires_at }),
                )
                .await?;
            }
            let ended = penalties::Entity::update_many()
                .col_expr(
                    penalties::Column::Status,
                    Expr::value(PenaltyStatus::Ended.as_str()),
                )
                .col_expr(penalties::Column::EndedAt, Expr::value(m.at()))
                .filter(penalties::Column::OrganizationId.eq(org))
                .filter(
                    penalties::Column::Id.in_subquery(
                        Query::select()
                            .column(penalties::Column::Id)
                            .from(penalties::Entity)
                            .and_where(penalties::Column::OrganizationId.eq(org))
                            .and_where(
                                penalties::Column::Status.eq(PenaltyStatus::Applied.as_str()),
                            )
                            .and_where(penalties::Column::SuspendedUntil.lte(m.at()))
                            .limit(SWEEP_BATCH)
                            .to_owned(),
                    ),
                )
                .filter(penalties::Column::Status.eq(PenaltyStatus::Applied.as_str()))
                .exec_with_returning(m.txn())
                .await
                .map_err(db_err)?;
            for row in &ended {
                users.extend(row.user_id);
                m.audit::<penalties::Entity>(
                    Verb::Status(PenaltyStatus::Ended.as_str()),
                    row.id,
                    json!({
                        "permission": row.permission_code,
                        "suspended_until": row.suspended_until,
                    }),
                )
                .await?;
            }
            for user in users {
                raise_access_version(m, Whose::User(UserId::from_uuid(user))).await?;
            }
            Ok(SweptSanctions {
                rewards_expired: expired_rewards.len() as u64,
                grants_expired: expired_grants.len() as u64,
                suspensions_ended: ended.len() as u64,
            })
        })
        .await
    }

    async fn organizations_with_ended_sanctions(
        &self,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>> {
        let db = self.db().await;
        let now = crate::store::now();
        let limit = u64::from(limit);
        let mut orgs: BTreeSet<Uuid> = BTreeSet::new();
        let rewards: Vec<Uuid> = rewards::Entity::find()
            .select_only()
            .column(rewards::Column::OrganizationId)
            .distinct()
            .filter(rewards::Column::Status.eq(RewardStatus::Allocated.as_str()))
            .filter(rewards::Column::ExpiresAt.lte(now))
            .limit(limit)
            .into_tuple()
            .all(&db)
            .await
            .map_err(db_err)?;
        orgs.extend(rewards);
        let grants: Vec<Uuid> = permission_grants::Entity::find()
            .select_only()
            .column(permission_grants::Column::OrganizationId)
            .distinct()
            .filter(permission_grants::Column::Status.eq(GrantStatus::Active.as_str()))
            .filter(permission_grants::Column::ExpiresAt.lte(now))
            .limit(limit)
            .into_tuple()
            .all(&db)
            .await
            .map_err(db_err)?;
        orgs.extend(grants);
        let suspensions: Vec<Uuid> = penalties::Entity::find()
            .select_only()
            .column(penalties::Column::OrganizationId)
            .distinct()
            .filter(penalties::Column::Status.eq(PenaltyStatus::Applied.as_str()))
            .filter(penalties::Column::SuspendedUntil.lte(now))
            .limit(limit)
            .into_tuple()
            .all(&db)
            .await
            .map_err(db_err)?;
        orgs.extend(suspensions);
        Ok(orgs
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(OrganizationId::from_uuid)
            .collect())
    }
}
