//! `/api/v1/achievement-definitions`, `/api/v1/achievements`, and the summaries of agents and
//! users.

use futures_util::Stream;
use orchestore_api::achievements::{
    AchievementDefinitionBody, AwardAchievementBody, ListDefinitionsQuery,
};
use orchestore_domain::{
    Achievement, AchievementDefinition, AchievementDefinitionId, AgentId, HolderSummary, UserId,
};
use orchestore_repo::{AchievementDefinitionSort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /achievement-definitions`: the achievement, defined.
    pub async fn define_achievement(
        &self,
        body: &AchievementDefinitionBody,
    ) -> Result<AchievementDefinition> {
        self.call(Method::POST, "/achievement-definitions")
            .json(body)
            .send()
            .await
    }

    /// `GET /achievement-definitions`: one page.
    pub async fn list_achievement_definitions(
        &self,
        query: &ListDefinitionsQuery,
    ) -> Result<Page<AchievementDefinition, AchievementDefinitionSort>> {
        self.call(Method::GET, "/achievement-definitions")
            .query(query)
            .send()
            .await
    }

    /// `GET /achievement-definitions`: every definition from the page `query` names on.
    pub fn list_achievement_definitions_stream(
        &self,
        query: &ListDefinitionsQuery,
    ) -> impl Stream<Item = Result<AchievementDefinition>> + Send + 'static {
        self.stream::<AchievementDefinition, AchievementDefinitionSort>(
            "/achievement-definitions".to_owned(),
            query,
        )
    }

    /// `GET /achievement-definitions/{id}`.
    pub async fn get_achievement_definition(
        &self,
        id: AchievementDefinitionId,
    ) -> Result<AchievementDefinition> {
        self.call(Method::GET, format!("/achievement-definitions/{id}"))
            .send()
            .await
    }

    /// `POST /achievements`: the achievement, awarded.
    pub async fn award_achievement(&self, body: &AwardAchievementBody) -> Result<Achievement> {
        self.call(Method::POST, "/achievements")
            .json(body)
            .send()
            .await
    }

    /// `GET /agents/{id}/summary`: the agent's standing, achievements and reputation.
    pub async fn agent_summary(&self, id: AgentId) -> Result<HolderSummary> {
        self.call(Method::GET, format!("/agents/{id}/summary"))
            .send()
            .await
    }

    /// `GET /users/{id}/summary`: the user's standing and achievements.
    pub async fn user_summary(&self, id: UserId) -> Result<HolderSummary> {
        self.call(Method::GET, format!("/users/{id}/summary"))
            .send()
            .await
    }
}
