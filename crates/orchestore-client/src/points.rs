//! `/api/v1/points`, and the standing of agents and users.

use futures_util::Stream;
use orchestore_api::points::{AwardPointsBody, ListPointsQuery};
use orchestore_domain::{AgentId, PointAward, PointAwardId, Standing, UserId};
use orchestore_repo::{Page, PointAwardSort};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /points`: the ledger entry, recorded.
    pub async fn award_points(&self, body: &AwardPointsBody) -> Result<PointAward> {
        self.call(Method::POST, "/points").json(body).send().await
    }

    /// `GET /points`: one page of the ledger.
    pub async fn list_points(
        &self,
        query: &ListPointsQuery,
    ) -> Result<Page<PointAward, PointAwardSort>> {
        self.call(Method::GET, "/points").query(query).send().await
    }

    /// `GET /points`: every ledger entry from the page `query` names on.
    pub fn list_points_stream(
        &self,
        query: &ListPointsQuery,
    ) -> impl Stream<Item = Result<PointAward>> + Send + 'static {
        self.stream::<PointAward, PointAwardSort>("/points".to_owned(), query)
    }

    /// `GET /points/{id}`: one ledger entry.
    pub async fn get_point_award(&self, id: PointAwardId) -> Result<PointAward> {
        self.call(Method::GET, format!("/points/{id}")).send().await
    }

    /// `GET /agents/{id}/standing`: the agent's points, experience, level and rating.
    pub async fn agent_standing(&self, id: AgentId) -> Result<Standing> {
        self.call(Method::GET, format!("/agents/{id}/standing"))
            .send()
            .await
    }

    /// `GET /users/{id}/standing`: the user's points, experience and level.
    pub async fn user_standing(&self, id: UserId) -> Result<Standing> {
        self.call(Method::GET, format!("/users/{id}/standing"))
            .send()
            .await
    }
}
