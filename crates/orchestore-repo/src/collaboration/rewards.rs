//! Rewards: allocated to an agent or a user, redeemed once for points, a badge or a permission
//! for a while; what a holder may do with its grants and suspensions; the sweep of what ended.

use orchestore_domain::{
    EffectivePermissions, NewReward, OrganizationId, Participant, Redemption, Reward, RewardId,
    RewardStatus,
};
use serde::{Deserialize, Serialize};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the reward list.
    pub enum RewardSort for "rewards" {
        /// Newest first.
        AllocatedAtDesc = "-allocated_at",
        /// Oldest first.
        AllocatedAt = "allocated_at",
    }
}

/// Which rewards a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct RewardFilter {
    pub recipient: Option<Participant>,
    pub status: Option<RewardStatus>,
}

/// Who redeems a reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeemer {
    /// The actor of the context, who must be the reward's recipient.
    Recipient,
    /// An administrator, for the recipient (the caller checked that the actor may).
    Administrator,
}

/// What one sweep of an organization ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SweptSanctions {
    /// Allocations not redeemed by their `expires_at`, now `expired`.
    pub rewards_expired: u64,
    /// Grants past their `expires_at`, now `expired`.
    pub grants_expired: u64,
    /// Suspensions past their `suspended_until`, now `ended`.
    pub suspensions_ended: u64,
}

impl SweptSanctions {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[async_trait::async_trait]
pub trait RewardRepo: Send + Sync {
    /// Allocates a reward. The recipient must exist in the organization (else `Reference` on
    /// `recipient`); an `expires_at` not in the future is `Invalid` on `expires_at`.
    async fn allocate_reward(&self, ctx: &Ctx, new: NewReward) -> RepoResult<Reward>;
    async fn get_reward(&self, ctx: &Ctx, id: RewardId) -> RepoResult<Reward>;
    async fn list_rewards(
        &self,
        ctx: &Ctx,
        filter: RewardFilter,
        page: PageRequest<RewardSort>,
    ) -> RepoResult<Page<Reward, RewardSort>>;
    /// Redeems a reward, once: it turns `redeemed` by a conditional update (`WHERE status =
    /// 'allocated'`), and in the same transaction its points go into the ledger and the
    /// holder's standing, or its permission is granted until the period's end. A reward
    /// redeemed or expired already (or past its `expires_at`) is `Conflict`; a
    /// [`Redeemer::Recipient`] who is not the recipient is `Invalid` on `reward_id`. Nothing
    /// is written when refused. A grant raises the access version of a user holder, so that
    /// their access tokens are signed again with it.
    async fn redeem_reward(&self, ctx: &Ctx, id: RewardId, by: Redeemer) -> RepoResult<Redemption>;
    /// What `holder` may do now: its roles' permissions (an agent's, the `agent` role's), with
    /// its grants not expired and without its suspensions neither ended nor overturned — by
    /// their instants, whether the sweep has marked them or not — and when that next changes
    /// by itself. A holder the organization does not have is `NotFound`.
    async fn effective_permissions(
        &self,
        ctx: &Ctx,
        holder: Participant,
    ) -> RepoResult<EffectivePermissions>;
    /// Marks what has ended in the organization by now: allocations past their `expires_at`,
    /// grants past theirs, suspensions past their `suspended_until`; each with its audit row,
    /// and the access version of each user holder of an ended grant or suspension raised.
    async fn expire_sanctions(&self, ctx: &Ctx) -> RepoResult<SweptSanctions>;
    /// Instance-wide, for the server's periodic sweep: organizations that have something for
    /// [`RewardRepo::expire_sanctions`] to end, at most `limit` of them.
    async fn organizations_with_ended_sanctions(
        &self,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>>;
}
