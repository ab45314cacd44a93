//! The organization's rules for ranks, and its leaderboards.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    LeaderboardEntry, LeaderboardKind, LeaderboardPeriod, RankSettings, Revised, Revision,
};

use crate::{Ctx, Limit, RepoResult};

/// Which leaderboard to read: by what, over which period (as of when), how many rows.
#[derive(Debug, Clone, Copy)]
pub struct LeaderboardQuery {
    pub kind: LeaderboardKind,
    pub period: LeaderboardPeriod,
    /// The instant whose week or month is read.
    pub as_of: DateTime<Utc>,
    pub limit: Limit,
}

#[async_trait::async_trait]
pub trait RankRepo: Send + Sync {
    /// The organization's level ladder and K-factors; the standard ones until it sets its own.
    async fn get_rank_settings(&self, ctx: &Ctx) -> RepoResult<Revised<RankSettings>>;
    /// Replaces them; with `expected`, only if they are still at that revision (else
    /// `RevisionMismatch`, nothing written). Levels are computed when read, so a new ladder
    /// applies to everyone at once; K-factors apply to results recorded afterwards.
    async fn set_rank_settings(
        &self,
        ctx: &Ctx,
        settings: RankSettings,
        expected: Option<Revision>,
    ) -> RepoResult<Revised<RankSettings>>;
    /// The top `limit` holders. By points over all time, or by rating, it reads the first rows
    /// of an index of the standings; by points over a week or a month, it sums the ledger
    /// entries of that range. The rating has no period: anything but `all_time` is `Invalid`
    /// on `period`.
    async fn leaderboard(
        &self,
        ctx: &Ctx,
        query: LeaderboardQuery,
    ) -> RepoResult<Vec<LeaderboardEntry>>;
}
