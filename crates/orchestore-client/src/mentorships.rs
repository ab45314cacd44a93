//! `/api/v1/mentorships`, and the mentor statistics of agents and users.

use futures_util::Stream;
use orchestore_api::PageQuery;
use orchestore_api::mentorships::{
    CreateMentorshipBody, ListMentorshipsQuery, MentorshipSessionBody, MentorshipStatusBody,
};
use orchestore_domain::{
    AgentId, MentorStats, Mentorship, MentorshipId, MentorshipSession, UserId,
};
use orchestore_repo::{MentorshipSessionSort, MentorshipSort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /mentorships`: the mentorship, proposed.
    pub async fn create_mentorship(&self, body: &CreateMentorshipBody) -> Result<Mentorship> {
        self.call(Method::POST, "/mentorships")
            .json(body)
            .send()
            .await
    }

    /// `GET /mentorships`: one page.
    pub async fn list_mentorships(
        &self,
        query: &ListMentorshipsQuery,
    ) -> Result<Page<Mentorship, MentorshipSort>> {
        self.call(Method::GET, "/mentorships")
            .query(query)
            .send()
            .await
    }

    /// `GET /mentorships`: every mentorship from the page `query` names on.
    pub fn list_mentorships_stream(
        &self,
        query: &ListMentorshipsQuery,
    ) -> impl Stream<Item = Result<Mentorship>> + Send + 'static {
        self.stream::<Mentorship, MentorshipSort>("/mentorships".to_owned(), query)
    }

    /// `GET /mentorships/{id}`.
    pub async fn get_mentorship(&self, id: MentorshipId) -> Result<Mentorship> {
        self.call(Method::GET, format!("/mentorships/{id}"))
            .send()
            .await
    }

    /// `POST /mentorships/{id}/status`: the mentorship, moved.
    pub async fn set_mentorship_status(
        &self,
        id: MentorshipId,
        body: &MentorshipStatusBody,
    ) -> Result<Mentorship> {
        self.call(Method::POST, format!("/mentorships/{id}/status"))
            .json(body)
            .send()
            .await
    }

    /// `POST /mentorships/{id}/sessions`: the session, recorded (409 unless the mentorship is
    /// active).
    pub async fn record_mentorship_session(
        &self,
        id: MentorshipId,
        body: &MentorshipSessionBody,
    ) -> Result<MentorshipSession> {
        self.call(Method::POST, format!("/mentorships/{id}/sessions"))
            .json(body)
            .send()
            .await
    }

    /// `GET /mentorships/{id}/sessions`: one page.
    pub async fn list_mentorship_sessions(
        &self,
        id: MentorshipId,
        query: &PageQuery,
    ) -> Result<Page<MentorshipSession, MentorshipSessionSort>> {
        self.call(Method::GET, format!("/mentorships/{id}/sessions"))
            .query(query)
            .send()
            .await
    }

    /// `GET /mentorships/{id}/sessions`: every session from the page `query` names on.
    pub fn list_mentorship_sessions_stream(
        &self,
        id: MentorshipId,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<MentorshipSession>> + Send + 'static {
        self.stream::<MentorshipSession, MentorshipSessionSort>(
            format!("/mentorships/{id}/sessions"),
            query,
        )
    }

    /// `GET /agents/{id}/mentor-stats`: the agent's mentorships as a mentor, counted.
    pub async fn agent_mentor_stats(&self, id: AgentId) -> Result<MentorStats> {
        self.call(Method::GET, format!("/agents/{id}/mentor-stats"))
            .send()
            .await
    }

    /// `GET /users/{id}/mentor-stats`: the user's mentorships as a mentor, counted.
    pub async fn user_mentor_stats(&self, id: UserId) -> Result<MentorStats> {
        self.call(Method::GET, format!("/users/{id}/mentor-stats"))
            .send()
            .await
    }
}
