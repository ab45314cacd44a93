//! The points ledger and each holder's standing.

use orchestore_domain::{NewPointAward, Participant, PointAward, PointAwardId, Standing};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the points ledger.
    pub enum PointAwardSort for "point_awards" {
        /// Newest first.
        AwardedAtDesc = "-awarded_at",
        /// Oldest first.
        AwardedAt = "awarded_at",
    }
}

/// Which ledger entries a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct PointAwardFilter {
    pub holder: Option<Participant>,
}

/// The points of the context's organization's agents and users.
#[async_trait::async_trait]
pub trait PointsRepo: Send + Sync {
    /// Appends an entry to the ledger and adds it to the holder's standing in the same
    /// transaction (`points = points + n`, in the database: concurrent awards never lose one).
    /// The holder must exist in the organization, else a `Reference` error on `holder`.
    async fn award_points(&self, ctx: &Ctx, new: NewPointAward) -> RepoResult<PointAward>;
    async fn get_point_award(&self, ctx: &Ctx, id: PointAwardId) -> RepoResult<PointAward>;
    async fn list_point_awards(
        &self,
        ctx: &Ctx,
        filter: PointAwardFilter,
        page: PageRequest<PointAwardSort>,
    ) -> RepoResult<Page<PointAward, PointAwardSort>>;
    /// The holder's totals, level and rating: a holder nothing was awarded to yet has zeros,
    /// level 1 and the initial rating. A holder the organization does not have is `NotFound`.
    async fn get_standing(&self, ctx: &Ctx, holder: Participant) -> RepoResult<Standing>;
}
