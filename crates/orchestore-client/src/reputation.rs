//! `/api/v1/reputation-events`, and the reputation of agents.

use futures_util::Stream;
use orchestore_api::reputation::{AsOfQuery, EventsQuery, ReputationEventBody, TaskOutcomeBody};
use orchestore_domain::{AgentId, Reputation, ReputationEvent};
use orchestore_repo::{Page, ReputationEventSort};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /reputation-events`: the event, recorded.
    pub async fn record_reputation_event(
        &self,
        body: &ReputationEventBody,
    ) -> Result<ReputationEvent> {
        self.call(Method::POST, "/reputation-events")
            .json(body)
            .send()
            .await
    }

    /// `POST /agents/{id}/task-outcomes`: the reliability event the outcome recorded (the same
    /// one again for the same ending of the task).
    pub async fn record_task_outcome(
        &self,
        id: AgentId,
        body: &TaskOutcomeBody,
    ) -> Result<ReputationEvent> {
        self.call(Method::POST, format!("/agents/{id}/task-outcomes"))
            .json(body)
            .send()
            .await
    }

    /// `GET /agents/{id}/reputation`: the agent's four dimensions and their mean.
    pub async fn agent_reputation(&self, id: AgentId, query: &AsOfQuery) -> Result<Reputation> {
        self.call(Method::GET, format!("/agents/{id}/reputation"))
            .query(query)
            .send()
            .await
    }

    /// `GET /agents/{id}/reputation-events`: one page.
    pub async fn list_reputation_events(
        &self,
        id: AgentId,
        query: &EventsQuery,
    ) -> Result<Page<ReputationEvent, ReputationEventSort>> {
        self.call(Method::GET, format!("/agents/{id}/reputation-events"))
            .query(query)
            .send()
            .await
    }

    /// `GET /agents/{id}/reputation-events`: every event from the page `query` names on.
    pub fn list_reputation_events_stream(
        &self,
        id: AgentId,
        query: &EventsQuery,
    ) -> impl Stream<Item = Result<ReputationEvent>> + Send + 'static {
        self.stream::<ReputationEvent, ReputationEventSort>(
            format!("/agents/{id}/reputation-events"),
            query,
        )
    }
}
