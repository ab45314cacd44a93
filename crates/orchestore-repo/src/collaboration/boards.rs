//! Leaderboard weights, snapshots and the hall of fame.

use std::time::Duration;

use orchestore_domain::{
    HallOfFameEntry, HallOfFameTop, LeaderboardKind, LeaderboardPeriod, LeaderboardSnapshot,
    LeaderboardSnapshotId, LeaderboardWeights, OrganizationId, Revised, Revision, SnapshotBoard,
};

use crate::{Ctx, Limit, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the snapshots.
    pub enum SnapshotSort for "leaderboard_snapshots" {
        /// The latest first.
        TakenAtDesc = "-taken_at",
        /// The first taken first.
        TakenAt = "taken_at",
    }
}

/// Which snapshots a list returns; `None` matches any.
#[derive(Debug, Clone, Copy, Default)]
pub struct SnapshotFilter {
    pub kind: Option<LeaderboardKind>,
    pub period: Option<LeaderboardPeriod>,
}

/// Which hall of fame to read: of which leaderboard's snapshots, counting the holders ranked
/// `top` or better, how many holders.
#[derive(Debug, Clone, Copy)]
pub struct HallOfFameQuery {
    pub kind: LeaderboardKind,
    pub period: LeaderboardPeriod,
    pub top: HallOfFameTop,
    pub limit: Limit,
}

#[async_trait::async_trait]
pub trait BoardRepo: Send + Sync {
    /// The weights of the combined ranking; the standard ones (1, 1, 1) until it sets its own.
    async fn get_leaderboard_weights(&self, ctx: &Ctx) -> RepoResult<Revised<LeaderboardWeights>>;
    /// Replaces them; with `expected`, only if they are still at that revision (else
    /// `RevisionMismatch`, nothing written). They apply from the next snapshot of the combined
    /// ranking on.
    async fn set_leaderboard_weights(
        &self,
        ctx: &Ctx,
        weights: LeaderboardWeights,
        expected: Option<Revision>,
    ) -> RepoResult<Revised<LeaderboardWeights>>;
    /// Takes a snapshot of a leaderboard now: its first rows, as
    /// [`RankRepo::leaderboard`](crate::RankRepo::leaderboard) reads them (the combined
    /// ranking computed from the standings with the weights in force). A period the kind is
    /// not ranked over is `Invalid` on `period`.
    async fn take_leaderboard_snapshot(
        &self,
        ctx: &Ctx,
        kind: LeaderboardKind,
        period: LeaderboardPeriod,
    ) -> RepoResult<SnapshotBoard>;
    /// Takes the scheduled snapshots of the time slot `every` that holds now (see
    /// [`orchestore_domain::SCHEDULED_BOARDS`]), unless they are taken already: a unique key
    /// on the slot lets one caller of many take them. The snapshots taken, or none.
    async fn take_scheduled_snapshots(
        &self,
        ctx: &Ctx,
        every: Duration,
    ) -> RepoResult<Vec<LeaderboardSnapshot>>;
    /// Instance-wide, for the server's schedule: organizations with standings that have no
    /// scheduled snapshot in the slot of `every` that holds now, at most `limit` of them.
    async fn organizations_due_for_snapshots(
        &self,
        every: Duration,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>>;
    async fn list_leaderboard_snapshots(
        &self,
        ctx: &Ctx,
        filter: SnapshotFilter,
        page: PageRequest<SnapshotSort>,
    ) -> RepoResult<Page<LeaderboardSnapshot, SnapshotSort>>;
    async fn get_leaderboard_snapshot(
        &self,
        ctx: &Ctx,
        id: LeaderboardSnapshotId,
    ) -> RepoResult<SnapshotBoard>;
    /// The holders ranked `top` or better in the snapshots of one leaderboard: how many times,
    /// best rank, first and last; most times first. A range of an index of the entries.
    async fn hall_of_fame(
        &self,
        ctx: &Ctx,
        query: HallOfFameQuery,
    ) -> RepoResult<Vec<HallOfFameEntry>>;
}
