//! Violations, the penalties applied for them, and appeals; the statistics of rewards and
//! penalties.

use orchestore_domain::{
    Appeal, AppealDecision, AppealId, AppealStatus, HolderSanctions, NewAppeal, NewPenalty,
    NewViolation, Participant, Penalty, PenaltyId, SanctionsSummary, Severity, Violation,
    ViolationId,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the violation, penalty and appeal lists: by creation.
    pub enum SanctionSort for "sanctions" {
        /// Newest first.
        CreatedAtDesc = "-created_at",
        /// Oldest first.
        CreatedAt = "created_at",
    }
}

/// Which violations a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct ViolationFilter {
    pub offender: Option<Participant>,
    pub severity: Option<Severity>,
}

/// Which penalties a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct PenaltyFilter {
    pub holder: Option<Participant>,
    pub violation_id: Option<ViolationId>,
}

/// Which appeals a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct AppealFilter {
    pub penalty_id: Option<PenaltyId>,
    pub status: Option<AppealStatus>,
}

#[async_trait::async_trait]
pub trait PenaltyRepo: Send + Sync {
    /// Records a violation; the offender must exist in the organization, else `Reference` on
    /// `offender`.
    async fn record_violation(&self, ctx: &Ctx, new: NewViolation) -> RepoResult<Violation>;
    async fn get_violation(&self, ctx: &Ctx, id: ViolationId) -> RepoResult<Violation>;
    async fn list_violations(
        &self,
        ctx: &Ctx,
        filter: ViolationFilter,
        page: PageRequest<SanctionSort>,
    ) -> RepoResult<Page<Violation, SanctionSort>>;
    /// Applies a penalty to the violation's offender (`Reference` on `violation_id` when the
    /// organization has no such violation). Points: a ledger entry of minus that many, and
    /// the standing lowered, in the same transaction. A suspension: the permission is taken
    /// from the holder until the period's end, and a user holder's access version is raised.
    async fn apply_penalty(&self, ctx: &Ctx, new: NewPenalty) -> RepoResult<Penalty>;
    async fn get_penalty(&self, ctx: &Ctx, id: PenaltyId) -> RepoResult<Penalty>;
    async fn list_penalties(
        &self,
        ctx: &Ctx,
        filter: PenaltyFilter,
        page: PageRequest<SanctionSort>,
    ) -> RepoResult<Page<Penalty, SanctionSort>>;
    /// Files an appeal of a penalty by its holder, the actor of the context: another actor is
    /// `Invalid` on `penalty_id`, a penalty the organization does not have `Reference` on
    /// `penalty_id`. An overturned penalty, or one with an open appeal (a unique index of the
    /// open appeals), is `Conflict`.
    async fn file_appeal(&self, ctx: &Ctx, new: NewAppeal) -> RepoResult<Appeal>;
    async fn get_appeal(&self, ctx: &Ctx, id: AppealId) -> RepoResult<Appeal>;
    async fn list_appeals(
        &self,
        ctx: &Ctx,
        filter: AppealFilter,
        page: PageRequest<SanctionSort>,
    ) -> RepoResult<Page<Appeal, SanctionSort>>;
    /// Decides an open appeal, the actor of the context its reviewer: a conditional update
    /// (`WHERE status = 'open'`), so a decided appeal is `Conflict`. Overturned, the penalty
    /// is marked `overturned` in the same transaction and gives back exactly what it took: a
    /// ledger entry of the points it deducted, or its suspension lifted (a user holder's
    /// access version raised).
    async fn decide_appeal(
        &self,
        ctx: &Ctx,
        id: AppealId,
        decision: AppealDecision,
    ) -> RepoResult<Appeal>;
    /// The organization's rewards, violations, penalties and appeals, counted.
    async fn sanctions_summary(&self, ctx: &Ctx) -> RepoResult<SanctionsSummary>;
    /// One holder's rewards and penalties, and its grants and suspensions in force now. A
    /// holder the organization does not have is `NotFound`.
    async fn holder_sanctions(&self, ctx: &Ctx, holder: Participant)
    -> RepoResult<HolderSanctions>;
}
