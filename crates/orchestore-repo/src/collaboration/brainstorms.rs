//! Brainstorms: sessions, the ideas put to them and the votes on those ideas.

use orchestore_domain::{
    Brainstorm, BrainstormId, BrainstormIdea, BrainstormIdeaId, BrainstormStats, BrainstormStatus,
    NewBrainstorm, NewIdea, Participant, ProjectId,
};

use crate::{Ctx, Limit, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the brainstorms list.
    pub enum BrainstormSort for "brainstorms" {
        /// Newest first.
        CreatedAtDesc = "-created_at",
        /// Oldest first.
        CreatedAt = "created_at",
    }
}

crate::list_sort! {
    /// The orders of a brainstorm's ideas.
    pub enum BrainstormIdeaSort for "brainstorm_ideas" {
        /// Oldest first: the order they were put.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// Which brainstorms a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct BrainstormFilter {
    pub status: Option<BrainstormStatus>,
    pub project_id: Option<ProjectId>,
}

/// The brainstorms of the context's organization.
#[async_trait::async_trait]
pub trait BrainstormRepo: Send + Sync {
    /// Opens a brainstorm. The facilitator and the project must exist in the organization,
    /// else a `Reference` error on `facilitator` or `project_id`.
    async fn create_brainstorm(&self, ctx: &Ctx, new: NewBrainstorm) -> RepoResult<Brainstorm>;
    async fn get_brainstorm(&self, ctx: &Ctx, id: BrainstormId) -> RepoResult<Brainstorm>;
    async fn list_brainstorms(
        &self,
        ctx: &Ctx,
        filter: BrainstormFilter,
        page: PageRequest<BrainstormSort>,
    ) -> RepoResult<Page<Brainstorm, BrainstormSort>>;
    /// Closes an open brainstorm, once: a closed one is a `Conflict` (the update is
    /// conditional on `status = 'open'`, so of two closes at once one lands).
    async fn close_brainstorm(&self, ctx: &Ctx, id: BrainstormId) -> RepoResult<Brainstorm>;
    /// Puts an idea to an open brainstorm; a closed one is a `Conflict`. The author must exist
    /// in the organization, else a `Reference` error on `author`.
    async fn add_brainstorm_idea(
        &self,
        ctx: &Ctx,
        brainstorm: BrainstormId,
        new: NewIdea,
    ) -> RepoResult<BrainstormIdea>;
    async fn list_brainstorm_ideas(
        &self,
        ctx: &Ctx,
        brainstorm: BrainstormId,
        page: PageRequest<BrainstormIdeaSort>,
    ) -> RepoResult<Page<BrainstormIdea, BrainstormIdeaSort>>;
    /// Casts `voter`'s vote for an idea of an open brainstorm and adds it to the idea's count
    /// in the same transaction (`votes = votes + 1`, in the database). One vote per voter and
    /// idea: a second is a `Conflict` on `voter`, as is a vote in a closed brainstorm. The
    /// voter must exist in the organization, else a `Reference` error on `voter`.
    async fn vote_for_idea(
        &self,
        ctx: &Ctx,
        brainstorm: BrainstormId,
        idea: BrainstormIdeaId,
        voter: Participant,
    ) -> RepoResult<BrainstormIdea>;
    /// Withdraws `voter`'s vote while the brainstorm is open (`votes = votes - 1`); no such
    /// vote is `NotFound`, a closed brainstorm a `Conflict`.
    async fn withdraw_idea_vote(
        &self,
        ctx: &Ctx,
        brainstorm: BrainstormId,
        idea: BrainstormIdeaId,
        voter: Participant,
    ) -> RepoResult<BrainstormIdea>;
    /// The brainstorm's first `limit` ideas by votes, most first, ties oldest first: the first
    /// rows of an index.
    async fn top_brainstorm_ideas(
        &self,
        ctx: &Ctx,
        brainstorm: BrainstormId,
        limit: Limit,
    ) -> RepoResult<Vec<BrainstormIdea>>;
    /// Its ideas, votes, and the distinct agents and users that put or voted on one.
    async fn brainstorm_stats(
        &self,
        ctx: &Ctx,
        brainstorm: BrainstormId,
    ) -> RepoResult<BrainstormStats>;
}
