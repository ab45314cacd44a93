//! Rated matches between agents and the rating history they leave.

use orchestore_domain::{AgentId, Match, MatchId, NewMatch, Placements, RatingChange};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of an agent's rating history.
    pub enum RatingHistorySort for "rating_history" {
        /// The oldest match first.
        MatchId = "match_id",
        /// The latest match first.
        MatchIdDesc = "-match_id",
    }
}

/// The matches of the context's organization.
#[async_trait::async_trait]
pub trait MatchRepo: Send + Sync {
    /// Starts a match. Every agent and the task must exist in the organization, else a
    /// `Reference` error on `agents` or `task_id`.
    async fn create_match(&self, ctx: &Ctx, new: NewMatch) -> RepoResult<Match>;
    async fn get_match(&self, ctx: &Ctx, id: MatchId) -> RepoResult<Match>;
    /// Finishes an open match with its placements and moves each player's rating (see
    /// [`orchestore_domain::elo_changes`]) and matches played, in one transaction. A finished
    /// match is a `Conflict`; placements that do not name exactly its agents are `Invalid` on
    /// `placements`. Either way nothing is written.
    async fn record_match_result(
        &self,
        ctx: &Ctx,
        id: MatchId,
        placements: Placements,
    ) -> RepoResult<Match>;
    /// The agent's rating changes, one per finished match. An agent the organization does
    /// not have is `NotFound`.
    async fn rating_history(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        page: PageRequest<RatingHistorySort>,
    ) -> RepoResult<Page<RatingChange, RatingHistorySort>>;
}
