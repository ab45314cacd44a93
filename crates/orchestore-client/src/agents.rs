//! `/api/v1/agents`: the agents themselves, their heartbeats and statistics.

use futures_util::Stream;
use orchestore_api::agents::{CreateAgentBody, ListAgentsQuery, PatchAgentBody};
use orchestore_domain::{Agent, AgentId, AgentStats, Revision};
use orchestore_repo::{AgentSort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /agents`: registers an agent.
    pub async fn create_agent(&self, body: &CreateAgentBody) -> Result<Agent> {
        self.call(Method::POST, "/agents").json(body).send().await
    }

    /// `GET /agents`: one page.
    pub async fn list_agents(&self, query: &ListAgentsQuery) -> Result<Page<Agent, AgentSort>> {
        self.call(Method::GET, "/agents").query(query).send().await
    }

    /// `GET /agents`: every agent from the page `query` names on.
    pub fn list_agents_stream(
        &self,
        query: &ListAgentsQuery,
    ) -> impl Stream<Item = Result<Agent>> + Send + 'static {
        self.stream::<Agent, AgentSort>("/agents".to_owned(), query)
    }

    /// `GET /agents/{id}`.
    pub async fn get_agent(&self, id: AgentId) -> Result<Agent> {
        self.call(Method::GET, format!("/agents/{id}")).send().await
    }

    /// `PATCH /agents/{id}`; with `if_match`, only when the agent is still at that revision
    /// (else a 412 problem).
    pub async fn update_agent(
        &self,
        id: AgentId,
        body: &PatchAgentBody,
        if_match: Option<Revision>,
    ) -> Result<Agent> {
        self.call(Method::PATCH, format!("/agents/{id}"))
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }

    /// `DELETE /agents/{id}`: the agent with its counters, heartbeats and messages; its tasks
    /// are unassigned.
    pub async fn delete_agent(&self, id: AgentId, if_match: Option<Revision>) -> Result<()> {
        self.call(Method::DELETE, format!("/agents/{id}"))
            .if_match(if_match)
            .send_empty()
            .await
    }

    /// `POST /agents/{id}/heartbeat`: the agent, alive now (an `offline` one is `active`
    /// again).
    pub async fn heartbeat(&self, id: AgentId) -> Result<Agent> {
        self.call(Method::POST, format!("/agents/{id}/heartbeat"))
            .send()
            .await
    }

    /// `GET /agents/{id}/stats`: counters, mean task time and success rate.
    pub async fn agent_stats(&self, id: AgentId) -> Result<AgentStats> {
        self.call(Method::GET, format!("/agents/{id}/stats"))
            .send()
            .await
    }
}
