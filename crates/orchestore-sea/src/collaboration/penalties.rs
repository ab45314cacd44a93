//! Violations, penalties and appeals; the statistics of rewards and penalties.

use orchestore_domain::{
    Appeal, AppealDecision, AppealId, AppealOutcome, AppealStatus, DomainError, Evidence,
    HolderSanctions, NewAppeal, NewPenalty, NewPointAward, NewViolation, OrganizationId,
    Participant, Penalty, PenaltyAction, PenaltyId, PenaltyKind, PenaltyStatus, PenaltyValue,
    PointAmount, PointAwardId, PointReason, PointSource, RewardKind, RewardStatus, RuleName,
    SanctionReason, SanctionsSummary, Severity, Violation, ViolationId, counted,
};
use orchestore_repo::{
    AppealFilter, Ctx, Cursor, Page, PageRequest, PenaltyFilter, PenaltyRepo, RepoError,
    RepoResult, SanctionSort, ViolationFilter,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set,
};
use serde_json::json;

use super::entity::{appeals, penalties, permission_grants, rewards, violations};
use super::points::award_within;
use super::rewards::{acts_as, permission_of, to_grant, tokens_changed};
use super::{holder_columns, holder_entity, holder_exists, holder_of, require_holder};
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::mutation::{Audited, Verb, snapshot};
use crate::scoped::{Keyed, Keyset, Lock, Tenanted, keyset_page, scoped};

fn to_violation(row: violations::Model) -> RepoResult<Violation> {
    let entity = violations::Entity::NAME;
    let bad = |e: DomainError| corrupt(entity, e);
    Ok(Violation {
        id: ViolationId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        offender: holder_of(entity, row.agent_id, row.user_id)?,
        rule: RuleName::parse(&row.rule).map_err(bad)?,
        severity: row.severity.parse().map_err(bad)?,
        evidence: Evidence::parse(&row.evidence).map_err(bad)?,
        reported_by: row.reported_by,
        reported_at: row.reported_at,
    })
}

fn to_penalty(row: penalties::Model) -> RepoResult<Penalty> {
    let entity = penalties::Entity::NAME;
    let bad = |e: DomainError| corrupt(entity, e);
    let missing =
        |column: &str| corrupt(entity, format!("a {} penalty without {column}", row.kind));
    let kind: PenaltyKind = row.kind.parse().map_err(bad)?;
    let value = match kind {
        PenaltyKind::Points => PenaltyValue::Points {
            points: row.points.ok_or_else(|| missing("points"))?,
            point_award_id: PointAwardId::from_uuid(
                row.point_award_id
                    .ok_or_else(|| missing("point_award_id"))?,
            ),
        },
        PenaltyKind::Suspension => PenaltyValue::Suspension {
            permission: permission_of(
                entity,
                row.permission_code
                    .as_deref()
                    .ok_or_else(|| missing("permission_code"))?,
            )?,
            suspended_until: row
                .suspended_until
                .ok_or_else(|| missing("suspended_until"))?,
        },
    };
    Ok(Penalty {
        id: PenaltyId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        violation_id: ViolationId::from_uuid(row.violation_id),
        holder: holder_of(entity, row.agent_id, row.user_id)?,
        value,
        reason: SanctionReason::parse(&row.reason).map_err(bad)?,
        status: row.status.parse().map_err(bad)?,
        applied_by: row.applied_by,
        applied_at: row.applied_at,
        ended_at: row.ended_at,
        restored_award_id: row.restored_award_id.map(PointAwardId::from_uuid),
    })
}

fn to_appeal(row: appeals::Model) -> RepoResult<Appeal> {
    let entity = appeals::Entity::NAME;
    let bad = |e: DomainError| corrupt(entity, e);
    Ok(Appeal {
        id: AppealId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        penalty_id: PenaltyId::from_uuid(row.penalty_id),
        appellant: holder_of(entity, row.agent_id, row.user_id)?,
        reason: SanctionReason::parse(&row.reason).map_err(bad)?,
        status: row.status.parse().map_err(bad)?,
        filed_at: row.filed_at,
        reviewer: row.reviewer,
        decision_reason: row
            .decision_reason
            .as_deref()
            .map(SanctionReason::parse)
            .transpose()
            .map_err(bad)?,
        decided_at: row.decided_at,
    })
}

/// A `Reference` error on `field` when `result` is `NotFound`.
fn as_reference<T>(
    result: RepoResult<T>,
    field: &'static str,
    entity: &'static str,
    id: impl ToString,
) -> RepoResult<T> {
    result.map_err(|e| match e {
        RepoError::NotFound { .. } => RepoError::reference(field, entity, id),
        other => other,
    })
}

/// How many rows of `query` have each value of `column`.
async fn count_by<E: EntityTrait>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    column: E::Column,
) -> RepoResult<Vec<(String, u64)>> {
    let rows: Vec<(String, i64)> = query
        .select_only()
        .column(column)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(column)
        .into_tuple()
        .all(db)
        .await
        .map_err(db_err)?;
    Ok(rows
        .into_iter()
        .map(|(key, n)| (key, u64::try_from(n).unwrap_or_default()))
        .collect())
}

/// The points of the points penalties of `query`: all of them, and those overturned.
async fn points_taken_and_restored(
    db: &impl ConnectionTrait,
    query: Select<penalties::Entity>,
) -> RepoResult<(i64, i64)> {
    // Both sums in one statement: the overturned ones through a `CASE` inside the sum.
    let row: Option<(i64, i64)> = query
        .filter(penalties::Column::Kind.eq(PenaltyKind::Points.as_str()))
        .select_only()
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(points), 0) AS BIGINT)"),
            "deducted",
        )
        .column_as(
            Expr::cust(format!(
                "CAST(COALESCE(SUM(CASE WHEN status = '{}' THEN points ELSE 0 END), 0) AS BIGINT)",
                PenaltyStatus::Overturned.as_str()
            )),
            "restored",
        )
        .into_tuple()
        .one(db)
        .await
        .map_err(db_err)?;
    Ok(row.unwrap_or_default())
}

/// A page of `query` in creation order.
async fn page_of<E, T>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    page: &PageRequest<SanctionSort>,
    to: fn(E::Model) -> RepoResult<T>,
    id: fn(&T) -> uuid::Uuid,
) -> RepoResult<Page<T, SanctionSort>>
where
    E: Tenanted + Keyed,
{
    let keyset = match page.sort() {
        SanctionSort::CreatedAt => Keyset::OldestFirst,
        SanctionSort::CreatedAtDesc => Keyset::NewestFirst,
    };
    let rows = keyset_page(query, page, keyset)?
        .all(db)
        .await
        .map_err(db_err)?;
    let items = rows.into_iter().map(to).collect::<RepoResult<Vec<_>>>()?;
    Ok(Page::from_rows(items, page, |item| {
        Cursor::after(page.sort(), id(item))
    }))
}

#[async_trait::async_trait]
impl PenaltyRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), offender = %new.offender))]
    async fn record_violation(&self, ctx: &Ctx, new: NewViolation) -> RepoResult<Violation> {
        self.mutate(ctx, async |m| {
            require_holder(m.txn(), ctx, "offender", new.offender).await?;
            let (agent_id, user_id) = holder_columns(new.offender);
            let row = violations::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(ViolationId::new().as_uuid()),
                holder_id: Set(new.offender.id()),
                agent_id: Set(agent_id),
                user_id: Set(user_id),
                rule: Set(new.rule.as_str().to_owned()),
                severity: Set(new.severity.as_str().to_owned()),
                evidence: Set(new.evidence.as_str().to_owned()),
                reported_by: Set(ctx.actor().to_string()),
                reported_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let violation = to_violation(row)?;
            m.audit::<violations::Entity>(Verb::Create, violation.id, snapshot(&violation))
                .await?;
            Ok(violation)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), violation = %id))]
    async fn get_violation(&self, ctx: &Ctx, id: ViolationId) -> RepoResult<Violation> {
        self.find_scoped::<violations::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_violation)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_violations(
        &self,
        ctx: &Ctx,
        filter: ViolationFilter,
        page: PageRequest<SanctionSort>,
    ) -> RepoResult<Page<Violation, SanctionSort>> {
        let mut query = scoped::<violations::Entity>(ctx);
        if let Some(offender) = filter.offender {
            query = query.filter(violations::Column::HolderId.eq(offender.id()));
        }
        if let Some(severity) = filter.severity {
            query = query.filter(violations::Column::Severity.eq(severity.as_str()));
        }
        page_of(&self.db().await, query, &page, to_violation, |v| {
            v.id.as_uuid()
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), violation = %new.violation_id))]
    async fn apply_penalty(&self, ctx: &Ctx, new: NewPenalty) -> RepoResult<Penalty> {
        self.mutate(ctx, async |m| {
            let violation = as_reference(
                self.find_scoped::<violations::Entity>(m.txn(), ctx, new.violation_id, Lock::None)
                    .await,
                "violation_id",
                violations::Entity::NAME,
                new.violation_id,
            )?;
            let holder = holder_of(
                violations::Entity::NAME,
                violation.agent_id,
                violation.user_id,
            )?;
            let (kind, points, award, permission, until) = match new.action {
                PenaltyAction::Points(amount) => {
                    let deduction = NewPointAward {
                        holder,
                        points: PointAmount::parse(-amount.get())?,
                        reason: PointReason::parse(new.reason.as_str())?,
                        source: PointSource::parse("penalty")?,
                    };
                    let award = award_within(m, &deduction).await?;
                    (
                        PenaltyKind::Points,
                        Some(amount.get()),
                        Some(award.id.as_uuid()),
                        None,
                        None,
                    )
                }
                PenaltyAction::Suspension { permission, period } => {
                    tokens_changed(m, holder).await?;
                    (
                        PenaltyKind::Suspension,
                        None,
                        None,
                        Some(permission.code().to_owned()),
                        Some(period.end(m.at())),
                    )
                }
            };
            let (agent_id, user_id) = holder_columns(holder);
            let row = penalties::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(PenaltyId::new().as_uuid()),
                holder_id: Set(holder.id()),
                agent_id: Set(agent_id),
                user_id: Set(user_id),
                violation_id: Set(violation.id),
                kind: Set(kind.as_str().to_owned()),
                points: Set(points),
                point_award_id: Set(award),
                permission_code: Set(permission),
                suspended_until: Set(until),
                reason: Set(new.reason.as_str().to_owned()),
                status: Set(PenaltyStatus::Applied.as_str().to_owned()),
                applied_by: Set(ctx.actor().to_string()),
                applied_at: Set(m.at()),
                ended_at: Set(None),
                restored_award_id: Set(None),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let penalty = to_penalty(row)?;
            m.audit::<penalties::Entity>(Verb::Create, penalty.id, snapshot(&penalty))
                .await?;
            Ok(penalty)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), penalty = %id))]
    async fn get_penalty(&self, ctx: &Ctx, id: PenaltyId) -> RepoResult<Penalty> {
        self.find_scoped::<penalties::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_penalty)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_penalties(
        &self,
        ctx: &Ctx,
        filter: PenaltyFilter,
        page: PageRequest<SanctionSort>,
    ) -> RepoResult<Page<Penalty, SanctionSort>> {
        let mut query = scoped::<penalties::Entity>(ctx);
        if let Some(holder) = filter.holder {
            query = query.filter(penalties::Column::HolderId.eq(holder.id()));
        }
        if let Some(violation) = filter.violation_id {
            query = query.filter(penalties::Column::ViolationId.eq(violation.as_uuid()));
        }
        page_of(&self.db().await, query, &page, to_penalty, |p| {
            p.id.as_uuid()
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), penalty = %new.penalty_id))]
    async fn file_appeal(&self, ctx: &Ctx, new: NewAppeal) -> RepoResult<Appeal> {
        self.mutate(ctx, async |m| {
            let penalty = as_reference(
                self.find_scoped::<penalties::Entity>(m.txn(), ctx, new.penalty_id, Lock::None)
                    .await,
                "penalty_id",
                penalties::Entity::NAME,
                new.penalty_id,
            )?;
            let holder = holder_of(penalties::Entity::NAME, penalty.agent_id, penalty.user_id)?;
            if !acts_as(ctx, holder) {
                return Err(DomainError::invalid(
                    "penalty_id",
                    "the penalty is another holder's: only the holder it was applied to appeals it",
                )
                .into());
            }
            if penalty.status == PenaltyStatus::Overturned.as_str() {
                return Err(RepoError::conflict(
                    penalties::Entity::NAME,
                    "the penalty is overturned already",
                ));
            }
            let (agent_id, user_id) = holder_columns(holder);
            // The partial unique index keeps one open appeal per penalty, also against an
            // appeal filed at the same moment.
            let row = appeals::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(AppealId::new().as_uuid()),
                holder_id: Set(holder.id()),
                agent_id: Set(agent_id),
                user_id: Set(user_id),
                penalty_id: Set(penalty.id),
                reason: Set(new.reason.as_str().to_owned()),
                status: Set(AppealStatus::Open.as_str().to_owned()),
                filed_at: Set(m.at()),
                reviewer: Set(None),
                decision_reason: Set(None),
                decided_at: Set(None),
            }
            .insert(m.txn())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    RepoError::conflict(
                        appeals::Entity::NAME,
                        "the penalty has an open appeal already",
                    )
                } else {
                    db_err(e)
                }
            })?;
            let appeal = to_appeal(row)?;
            m.audit::<appeals::Entity>(Verb::Create, appeal.id, snapshot(&appeal))
                .await?;
            Ok(appeal)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), appeal = %id))]
    async fn get_appeal(&self, ctx: &Ctx, id: AppealId) -> RepoResult<Appeal> {
        self.find_scoped::<appeals::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_appeal)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_appeals(
        &self,
        ctx: &Ctx,
        filter: AppealFilter,
        page: PageRequest<SanctionSort>,
    ) -> RepoResult<Page<Appeal, SanctionSort>> {
        let mut query = scoped::<appeals::Entity>(ctx);
        if let Some(penalty) = filter.penalty_id {
            query = query.filter(appeals::Column::PenaltyId.eq(penalty.as_uuid()));
        }
        if let Some(status) = filter.status {
            query = query.filter(appeals::Column::Status.eq(status.as_str()));
        }
        page_of(&self.db().await, query, &page, to_appeal, |a| {
            a.id.as_uuid()
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), appeal = %id))]
    async fn decide_appeal(
        &self,
        ctx: &Ctx,
        id: AppealId,
        decision: AppealDecision,
    ) -> RepoResult<Appeal> {
        self.mutate(ctx, async |m| {
            let org = ctx.org().as_uuid();
            // Once: of two decisions, the second finds no open appeal to change.
            let decided = appeals::Entity::update_many()
                .col_expr(
                    appeals::Column::Status,
                    Expr::value(decision.outcome.status().as_str()),
                )
                .col_expr(
                    appeals::Column::Reviewer,
                    Expr::value(ctx.actor().to_string()),
                )
                .col_expr(
                    appeals::Column::DecisionReason,
                    Expr::value(decision.reason.as_str()),
                )
                .col_expr(appeals::Column::DecidedAt, Expr::value(m.at()))
                .filter(appeals::Column::OrganizationId.eq(org))
                .filter(appeals::Column::Id.eq(id.as_uuid()))
                .filter(appeals::Column::Status.eq(AppealStatus::Open.as_str()))
                .exec_with_returning(m.txn())
                .await
                .map_err(db_err)?;
            let Some(row) = decided.into_iter().next() else {
                self.find_scoped::<appeals::Entity>(m.txn(), ctx, id, Lock::None)
                    .await?;
                return Err(RepoError::conflict(
                    appeals::Entity::NAME,
                    "the appeal is decided already",
                ));
            };
            let appeal = to_appeal(row)?;
            if decision.outcome == AppealOutcome::Overturned {
                let overturned = penalties::Entity::update_many()
                    .col_expr(
                        penalties::Column::Status,
                        Expr::value(PenaltyStatus::Overturned.as_str()),
                    )
                    .col_expr(penalties::Column::EndedAt, Expr::value(m.at()))
                    .filter(penalties::Column::OrganizationId.eq(org))
                    .filter(penalties::Column::Id.eq(appeal.penalty_id.as_uuid()))
                    .filter(penalties::Column::Status.ne(PenaltyStatus::Overturned.as_str()))
                    .exec_with_returning(m.txn())
                    .await
                    .map_err(db_err)?;
                let Some(row) = overturned.into_iter().next() else {
                    return Err(RepoError::conflict(
                        penalties::Entity::NAME,
                        "the penalty is overturned already",
                    ));
                };
                let penalty = to_penalty(row)?;
                // Exactly what it took, back.
                let restored = match penalty.value {
                    PenaltyValue::Points { points, .. } => {
                        let refund = NewPointAward {
                            holder: penalty.holder,
                            points: PointAmount::parse(points)?,
                            reason: PointReason::parse(decision.reason.as_str())?,
                            source: PointSource::parse("appeal")?,
                        };
                        let award = award_within(m, &refund).await?;
                        penalties::Entity::update_many()
                            .col_expr(
                                penalties::Column::RestoredAwardId,
                                Expr::value(award.id.as_uuid()),
                            )
                            .filter(penalties::Column::OrganizationId.eq(org))
                            .filter(penalties::Column::Id.eq(penalty.id.as_uuid()))
                            .exec(m.txn())
                            .await
                            .map_err(db_err)?;
                        json!({ "restored_award_id": award.id })
                    }
                    PenaltyValue::Suspension { permission, .. } => {
                        tokens_changed(m, penalty.holder).await?;
                        json!({ "permission": permission })
                    }
                };
                m.audit::<penalties::Entity>(
                    Verb::Status(PenaltyStatus::Overturned.as_str()),
                    penalty.id,
                    json!({ "appeal_id": appeal.id, "restored": restored }),
                )
                .await?;
            }
            m.audit::<appeals::Entity>(
                Verb::Named("decide"),
                appeal.id,
                json!({ "outcome": decision.outcome, "reason": decision.reason }),
            )
            .await?;
            Ok(appeal)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn sanctions_summary(&self, ctx: &Ctx) -> RepoResult<SanctionsSummary> {
        let db = self.db().await;
        let reward_kinds: Vec<&str> = RewardKind::ALL.iter().map(|k| k.as_str()).collect();
        let reward_statuses: Vec<&str> = RewardStatus::ALL.iter().map(|s| s.as_str()).collect();
        let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        let penalty_kinds: Vec<&str> = PenaltyKind::ALL.iter().map(|k| k.as_str()).collect();
        let penalty_statuses: Vec<&str> = PenaltyStatus::ALL.iter().map(|s| s.as_str()).collect();
        let appeal_statuses: Vec<&str> = AppealStatus::ALL.iter().map(|s| s.as_str()).collect();
        let rewards_by_kind =
            count_by(&db, scoped::<rewards::Entity>(ctx), rewards::Column::Kind).await?;
        let rewards_by_status =
            count_by(&db, scoped::<rewards::Entity>(ctx), rewards::Column::Status).await?;
        let violations = count_by(
            &db,
            scoped::<violations::Entity>(ctx),
            violations::Column::Severity,
        )
        .await?;
        let penalties_by_kind = count_by(
            &db,
            scoped::<penalties::Entity>(ctx),
            penalties::Column::Kind,
        )
        .await?;
        let penalties_by_status = count_by(
            &db,
            scoped::<penalties::Entity>(ctx),
            penalties::Column::Status,
        )
        .await?;
        let appeals =
            count_by(&db, scoped::<appeals::Entity>(ctx), appeals::Column::Status).await?;
        let (points_deducted, points_restored) =
            points_taken_and_restored(&db, scoped::<penalties::Entity>(ctx)).await?;
        Ok(SanctionsSummary {
            rewards_by_kind: counted(&reward_kinds, rewards_by_kind),
            rewards_by_status: counted(&reward_statuses, rewards_by_status),
            violations_by_severity: counted(&severities, violations),
            penalties_by_kind: counted(&penalty_kinds, penalties_by_kind),
            penalties_by_status: counted(&penalty_statuses, penalties_by_status),
            appeals_by_status: counted(&appeal_statuses, appeals),
            points_deducted,
            points_restored,
        })
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), holder = %holder))]
    async fn holder_sanctions(
        &self,
        ctx: &Ctx,
        holder: Participant,
    ) -> RepoResult<HolderSanctions> {
        let db = self.db().await;
        if !holder_exists(&db, ctx, holder).await? {
            return Err(RepoError::not_found(holder_entity(holder), holder.id()));
        }
        let now = crate::store::now();
        let reward_statuses: Vec<&str> = RewardStatus::ALL.iter().map(|s| s.as_str()).collect();
        let penalty_statuses: Vec<&str> = PenaltyStatus::ALL.iter().map(|s| s.as_str()).collect();
        let rewards = count_by(
            &db,
            scoped::<rewards::Entity>(ctx).filter(rewards::Column::HolderId.eq(holder.id())),
            rewards::Column::Status,
        )
        .await?;
        let of_holder =
            || scoped::<penalties::Entity>(ctx).filter(penalties::Column::HolderId.eq(holder.id()));
        let penalties_by_status = count_by(&db, of_holder(), penalties::Column::Status).await?;
        let violations = scoped::<violations::Entity>(ctx)
            .filter(violations::Column::HolderId.eq(holder.id()))
            .count(&db)
            .await
            .map_err(db_err)?;
        let (points_deducted, points_restored) =
            points_taken_and_restored(&db, of_holder()).await?;
        let active_grants = scoped::<permission_grants::Entity>(ctx)
            .filter(permission_grants::Column::HolderId.eq(holder.id()))
            .filter(permission_grants::Column::ExpiresAt.gt(now))
            .order_by_asc(permission_grants::Column::ExpiresAt)
            .order_by_asc(permission_grants::Column::Id)
            .all(&db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(to_grant)
            .collect::<RepoResult<Vec<_>>>()?;
        let active_suspensions = of_holder()
            .filter(penalties::Column::Kind.eq(PenaltyKind::Suspension.as_str()))
            .filter(penalties::Column::Status.eq(PenaltyStatus::Applied.as_str()))
            .filter(penalties::Column::SuspendedUntil.gt(now))
            .order_by_asc(penalties::Column::SuspendedUntil)
            .order_by_asc(penalties::Column::Id)
            .all(&db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(to_penalty)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(HolderSanctions {
            holder,
            rewards_by_status: counted(&reward_statuses, rewards),
            violations,
            penalties_by_status: counted(&penalty_statuses, penalties_by_status),
            points_deducted,
            points_restored,
            active_grants,
            active_suspensions,
        })
    }
}
