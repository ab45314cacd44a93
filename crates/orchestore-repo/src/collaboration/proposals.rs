//! Proposals put to a vote, their votes, and their closing by time or by hand.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    NewProposal, OptionLabel, OrganizationId, Participant, Proposal, ProposalId, ProposalStatus,
    Vote,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the proposals.
    pub enum ProposalSort for "proposals" {
        /// Newest first.
        CreatedAtDesc = "-created_at",
        /// Oldest first.
        CreatedAt = "created_at",
    }
}

crate::list_sort! {
    /// The order of a proposal's votes.
    pub enum VoteSort for "votes" {
        /// By the voter's id.
        VoterId = "voter_id",
    }
}

/// Which proposals a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct ProposalFilter {
    pub status: Option<ProposalStatus>,
}

/// The proposals of the context's organization.
///
/// A proposal whose closing time has passed is closed, and its result computed, by whichever
/// comes first: [`ProposalRepo::close_due_proposals`] (the server's sweep), a read of it, or a
/// vote on it (which is refused).
#[async_trait::async_trait]
pub trait ProposalRepo: Send + Sync {
    /// Opens a proposal. A closing time that is not in the future is `Invalid` on `closes_at`;
    /// an eligible role the organization does not have (neither a system role nor one of its
    /// own) is a `Reference` error on `eligible_roles`.
    async fn create_proposal(&self, ctx: &Ctx, new: NewProposal) -> RepoResult<Proposal>;
    /// The proposal with its tallies: current while it is open, final once it is closed.
    async fn get_proposal(&self, ctx: &Ctx, id: ProposalId) -> RepoResult<Proposal>;
    async fn list_proposals(
        &self,
        ctx: &Ctx,
        filter: ProposalFilter,
        page: PageRequest<ProposalSort>,
    ) -> RepoResult<Page<Proposal, ProposalSort>>;
    /// Records `voter`'s vote for `option`, with its audit row. A proposal that is closed or
    /// cancelled, not open yet, or past its closing time is a `Conflict`; so is a second vote
    /// (on `voter`) when the proposal does not allow changing one. An option the proposal does
    /// not have is `Invalid` on `option`; a voter the organization does not have is a
    /// `Reference` error on `voter`, one the proposal does not admit `Invalid` on `voter`.
    /// Either way nothing is written. A voter has one vote per proposal whatever the
    /// concurrency (the database's key): a changed vote replaces it, and a vote for the option
    /// already chosen changes nothing.
    async fn cast_vote(
        &self,
        ctx: &Ctx,
        id: ProposalId,
        voter: Participant,
        option: OptionLabel,
    ) -> RepoResult<Vote>;
    /// The proposal's votes. A proposal the organization does not have is `NotFound`.
    async fn list_votes(
        &self,
        ctx: &Ctx,
        id: ProposalId,
        page: PageRequest<VoteSort>,
    ) -> RepoResult<Page<Vote, VoteSort>>;
    /// Closes an open proposal by hand and stores its result. Closed or cancelled already is a
    /// `Conflict`. Once its closing time has passed it closes as by time, whoever asks.
    async fn close_proposal(&self, ctx: &Ctx, id: ProposalId) -> RepoResult<Proposal>;
    /// Withdraws an open proposal: no result, no more votes. Closed or cancelled already is a
    /// `Conflict`.
    async fn cancel_proposal(&self, ctx: &Ctx, id: ProposalId) -> RepoResult<Proposal>;
    /// Closes the organization's open proposals whose closing time is at or before `now`, at
    /// most 100 per call, each in its own transaction with its audit row, and returns them.
    /// Each result is written once, by a conditional update of an open proposal: of two
    /// closers at once, one closes it and the other leaves it.
    async fn close_due_proposals(
        &self,
        ctx: &Ctx,
        now: DateTime<Utc>,
    ) -> RepoResult<Vec<ProposalId>>;
    /// Instance-wide, for the server's periodic sweep: organizations that have open proposals
    /// past their closing time, at most `limit` of them.
    async fn organizations_with_due_proposals(&self, limit: u32)
    -> RepoResult<Vec<OrganizationId>>;
}
