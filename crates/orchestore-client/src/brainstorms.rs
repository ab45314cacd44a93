//! `/api/v1/brainstorms`.

use futures_util::Stream;
use orchestore_api::PageQuery;
use orchestore_api::brainstorms::{
    BrainstormIdeaBody, CreateBrainstormBody, IdeaVoteBody, ListBrainstormsQuery, TopIdeas,
    TopQuery, WithdrawQuery,
};
use orchestore_domain::{
    Brainstorm, BrainstormId, BrainstormIdea, BrainstormIdeaId, BrainstormStats,
};
use orchestore_repo::{BrainstormIdeaSort, BrainstormSort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /brainstorms`: the brainstorm, open.
    pub async fn create_brainstorm(&self, body: &CreateBrainstormBody) -> Result<Brainstorm> {
        self.call(Method::POST, "/brainstorms")
            .json(body)
            .send()
            .await
    }

    /// `GET /brainstorms`: one page.
    pub async fn list_brainstorms(
        &self,
        query: &ListBrainstormsQuery,
    ) -> Result<Page<Brainstorm, BrainstormSort>> {
        self.call(Method::GET, "/brainstorms")
            .query(query)
            .send()
            .await
    }

    /// `GET /brainstorms`: every brainstorm from the page `query` names on.
    pub fn list_brainstorms_stream(
        &self,
        query: &ListBrainstormsQuery,
    ) -> impl Stream<Item = Result<Brainstorm>> + Send + 'static {
        self.stream::<Brainstorm, BrainstormSort>("/brainstorms".to_owned(), query)
    }

    /// `GET /brainstorms/{id}`.
    pub async fn get_brainstorm(&self, id: BrainstormId) -> Result<Brainstorm> {
        self.call(Method::GET, format!("/brainstorms/{id}"))
            .send()
            .await
    }

    /// `POST /brainstorms/{id}/close`: the brainstorm, closed (409 when it was already).
    pub async fn close_brainstorm(&self, id: BrainstormId) -> Result<Brainstorm> {
        self.call(Method::POST, format!("/brainstorms/{id}/close"))
            .send()
            .await
    }

    /// `POST /brainstorms/{id}/ideas`: the idea, with no votes yet.
    pub async fn add_brainstorm_idea(
        &self,
        id: BrainstormId,
        body: &BrainstormIdeaBody,
    ) -> Result<BrainstormIdea> {
        self.call(Method::POST, format!("/brainstorms/{id}/ideas"))
            .json(body)
            .send()
            .await
    }

    /// `GET /brainstorms/{id}/ideas`: one page.
    pub async fn list_brainstorm_ideas(
        &self,
        id: BrainstormId,
        query: &PageQuery,
    ) -> Result<Page<BrainstormIdea, BrainstormIdeaSort>> {
        self.call(Method::GET, format!("/brainstorms/{id}/ideas"))
            .query(query)
            .send()
            .await
    }

    /// `GET /brainstorms/{id}/ideas`: every idea from the page `query` names on.
    pub fn list_brainstorm_ideas_stream(
        &self,
        id: BrainstormId,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<BrainstormIdea>> + Send + 'static {
        self.stream::<BrainstormIdea, BrainstormIdeaSort>(format!("/brainstorms/{id}/ideas"), query)
    }

    /// `POST /brainstorms/{id}/ideas/{idea_id}/votes`: the idea with its votes counted.
    pub async fn vote_for_idea(
        &self,
        id: BrainstormId,
        idea: BrainstormIdeaId,
        body: &IdeaVoteBody,
    ) -> Result<BrainstormIdea> {
        self.call(
            Method::POST,
            format!("/brainstorms/{id}/ideas/{idea}/votes"),
        )
        .json(body)
        .send()
        .await
    }

    /// `DELETE /brainstorms/{id}/ideas/{idea_id}/votes`: the idea with its votes counted.
    pub async fn withdraw_idea_vote(
        &self,
        id: BrainstormId,
        idea: BrainstormIdeaId,
        query: &WithdrawQuery,
    ) -> Result<BrainstormIdea> {
        self.call(
            Method::DELETE,
            format!("/brainstorms/{id}/ideas/{idea}/votes"),
        )
        .query(query)
        .send()
        .await
    }

    /// `GET /brainstorms/{id}/top-ideas`: most votes first, ties oldest first.
    pub async fn top_brainstorm_ideas(
        &self,
        id: BrainstormId,
        query: &TopQuery,
    ) -> Result<TopIdeas> {
        self.call(Method::GET, format!("/brainstorms/{id}/top-ideas"))
            .query(query)
            .send()
            .await
    }

    /// `GET /brainstorms/{id}/stats`: its ideas, participants and votes, counted.
    pub async fn brainstorm_stats(&self, id: BrainstormId) -> Result<BrainstormStats> {
        self.call(Method::GET, format!("/brainstorms/{id}/stats"))
            .send()
            .await
    }
}
