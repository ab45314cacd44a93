//! `/api/v1/proposals`.

use futures_util::Stream;
use orchestore_api::proposals::{
    CreateProposalBody, ListProposalsQuery, ProposalVoteBody, VotesQuery,
};
use orchestore_domain::{Proposal, ProposalId, Vote};
use orchestore_repo::{Page, ProposalSort, VoteSort};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /proposals`: the proposal, open.
    pub async fn create_proposal(&self, body: &CreateProposalBody) -> Result<Proposal> {
        self.call(Method::POST, "/proposals")
            .json(body)
            .send()
            .await
    }

    /// `GET /proposals`: one page.
    pub async fn list_proposals(
        &self,
        query: &ListProposalsQuery,
    ) -> Result<Page<Proposal, ProposalSort>> {
        self.call(Method::GET, "/proposals")
            .query(query)
            .send()
            .await
    }

    /// `GET /proposals`: every proposal from the page `query` names on.
    pub fn list_proposals_stream(
        &self,
        query: &ListProposalsQuery,
    ) -> impl Stream<Item = Result<Proposal>> + Send + 'static {
        self.stream::<Proposal, ProposalSort>("/proposals".to_owned(), query)
    }

    /// `GET /proposals/{id}`: the proposal with its tallies.
    pub async fn get_proposal(&self, id: ProposalId) -> Result<Proposal> {
        self.call(Method::GET, format!("/proposals/{id}"))
            .send()
            .await
    }

    /// `POST /proposals/{id}/votes`: the vote as it stands.
    pub async fn vote_on_proposal(&self, id: ProposalId, body: &ProposalVoteBody) -> Result<Vote> {
        self.call(Method::POST, format!("/proposals/{id}/votes"))
            .json(body)
            .send()
            .await
    }

    /// `GET /proposals/{id}/votes`: one page.
    pub async fn list_proposal_votes(
        &self,
        id: ProposalId,
        query: &VotesQuery,
    ) -> Result<Page<Vote, VoteSort>> {
        self.call(Method::GET, format!("/proposals/{id}/votes"))
            .query(query)
            .send()
            .await
    }

    /// `GET /proposals/{id}/votes`: every vote from the page `query` names on.
    pub fn list_proposal_votes_stream(
        &self,
        id: ProposalId,
        query: &VotesQuery,
    ) -> impl Stream<Item = Result<Vote>> + Send + 'static {
        self.stream::<Vote, VoteSort>(format!("/proposals/{id}/votes"), query)
    }

    /// `POST /proposals/{id}/close`: the proposal, closed, with its result.
    pub async fn close_proposal(&self, id: ProposalId) -> Result<Proposal> {
        self.call(Method::POST, format!("/proposals/{id}/close"))
            .send()
            .await
    }

    /// `POST /proposals/{id}/cancel`: the proposal, cancelled.
    pub async fn cancel_proposal(&self, id: ProposalId) -> Result<Proposal> {
        self.call(Method::POST, format!("/proposals/{id}/cancel"))
            .send()
            .await
    }
}
