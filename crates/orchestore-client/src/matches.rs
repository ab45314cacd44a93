//! `/api/v1/matches`, and the rating history of agents.

use futures_util::Stream;
use orchestore_api::matches::{CreateMatchBody, HistoryQuery, MatchResultBody};
use orchestore_domain::{AgentId, Match, MatchId, RatingChange};
use orchestore_repo::{Page, RatingHistorySort};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /matches`: the match, open.
    pub async fn create_match(&self, body: &CreateMatchBody) -> Result<Match> {
        self.call(Method::POST, "/matches").json(body).send().await
    }

    /// `GET /matches/{id}`.
    pub async fn get_match(&self, id: MatchId) -> Result<Match> {
        self.call(Method::GET, format!("/matches/{id}"))
            .send()
            .await
    }

    /// `POST /matches/{id}/result`: the match, finished, with each rating change.
    pub async fn record_match_result(&self, id: MatchId, body: &MatchResultBody) -> Result<Match> {
        self.call(Method::POST, format!("/matches/{id}/result"))
            .json(body)
            .send()
            .await
    }

    /// `GET /agents/{id}/rating-history`: one page, one rating change a match.
    pub async fn rating_history(
        &self,
        id: AgentId,
        query: &HistoryQuery,
    ) -> Result<Page<RatingChange, RatingHistorySort>> {
        self.call(Method::GET, format!("/agents/{id}/rating-history"))
            .query(query)
            .send()
            .await
    }

    /// `GET /agents/{id}/rating-history`: every rating change from the page `query` names on.
    pub fn rating_history_stream(
        &self,
        id: AgentId,
        query: &HistoryQuery,
    ) -> impl Stream<Item = Result<RatingChange>> + Send + 'static {
        self.stream::<RatingChange, RatingHistorySort>(
            format!("/agents/{id}/rating-history"),
            query,
        )
    }
}
