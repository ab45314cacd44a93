//! Rate limits: named token buckets that tasks declare they consume, kept in the database so
//! that every server replica shares them.

use orchestore_domain::{NewRateLimit, RateLimit, RateLimitName, RateLimitPatch, Revision};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the rate limit list.
    pub enum RateLimitSort for "rate_limits" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// The rate limits of the context's organization, found by name.
///
/// A claim hands a task out only when each bucket it names holds the units it needs, and takes
/// them in the claim's transaction (the bucket's row locked, refilled from the time elapsed);
/// a task that does not fit stays queued and the claim goes on to the next. A task naming a
/// bucket that was deleted since is no longer held back by it.
#[async_trait::async_trait]
pub trait RateLimitRepo: Send + Sync {
    /// Creates a bucket, full. A taken name is a `Conflict` on `name`.
    async fn create_rate_limit(&self, ctx: &Ctx, new: NewRateLimit) -> RepoResult<RateLimit>;
    /// The bucket with its balance now.
    async fn get_rate_limit(&self, ctx: &Ctx, name: &RateLimitName) -> RepoResult<RateLimit>;
    async fn list_rate_limits(
        &self,
        ctx: &Ctx,
        page: PageRequest<RateLimitSort>,
    ) -> RepoResult<Page<RateLimit, RateLimitSort>>;
    /// Changes a bucket's capacity or period: the balance earned under the old terms is kept,
    /// at most the new capacity.
    async fn update_rate_limit(
        &self,
        ctx: &Ctx,
        name: &RateLimitName,
        patch: RateLimitPatch,
        expected: Option<Revision>,
    ) -> RepoResult<RateLimit>;
    /// Deletes a bucket: the tasks that name it are no longer held back by it.
    async fn delete_rate_limit(
        &self,
        ctx: &Ctx,
        name: &RateLimitName,
        expected: Option<Revision>,
    ) -> RepoResult<()>;
}
