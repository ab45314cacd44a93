//! `/api/v1/me/api-keys` (the caller's own keys), `/api/v1/users/{id}/api-keys` (an
//! administrator's view of a user's keys) and `/api/v1/agents/{id}/api-keys` (the keys an
//! agent's workers act with).

use futures_util::Stream;
use orchestore_api::PageQuery;
use orchestore_api::api_keys::{CreateApiKeyBody, MyKey};
use orchestore_domain::{AgentId, ApiKey, ApiKeyId, IssuedApiKey, UserId};
use orchestore_repo::{ApiKeySort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /me/api-keys`: a key acting as the caller, with its secret shown this once.
    pub async fn create_api_key(&self, body: &CreateApiKeyBody) -> Result<IssuedApiKey> {
        self.call(Method::POST, "/me/api-keys")
            .json(body)
            .send()
            .await
    }

    /// `GET /me/api-keys`: one page of the caller's keys.
    pub async fn list_api_keys(&self, query: &PageQuery) -> Result<Page<MyKey, ApiKeySort>> {
        self.call(Method::GET, "/me/api-keys")
            .query(query)
            .send()
            .await
    }

    /// `GET /me/api-keys`: every key of the caller from the page `query` names on.
    pub fn list_api_keys_stream(
        &self,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<MyKey>> + Send + 'static {
        self.stream::<MyKey, ApiKeySort>("/me/api-keys".to_owned(), query)
    }

    /// `DELETE /me/api-keys/{id}`: the caller's key stops working at once.
    pub async fn revoke_api_key(&self, id: ApiKeyId) -> Result<()> {
        self.call(Method::DELETE, format!("/me/api-keys/{id}"))
            .send_empty()
            .await
    }

    /// `GET /users/{id}/api-keys`: one page of a user's keys.
    pub async fn list_user_api_keys(
        &self,
        id: UserId,
        query: &PageQuery,
    ) -> Result<Page<ApiKey, ApiKeySort>> {
        self.call(Method::GET, format!("/users/{id}/api-keys"))
            .query(query)
            .send()
            .await
    }

    /// `GET /users/{id}/api-keys`: every key of a user from the page `query` names on.
    pub fn list_user_api_keys_stream(
        &self,
        id: UserId,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<ApiKey>> + Send + 'static {
        self.stream::<ApiKey, ApiKeySort>(format!("/users/{id}/api-keys"), query)
    }

    /// `DELETE /users/{id}/api-keys/{key_id}`: a user's key stops working at once.
    pub async fn revoke_user_api_key(&self, id: UserId, key_id: ApiKeyId) -> Result<()> {
        self.call(Method::DELETE, format!("/users/{id}/api-keys/{key_id}"))
            .send_empty()
            .await
    }

    /// `POST /agents/{id}/api-keys`: a key for the agent's worker, with its secret shown this
    /// once; a request with it acts as the agent.
    pub async fn create_agent_api_key(
        &self,
        id: AgentId,
        body: &CreateApiKeyBody,
    ) -> Result<IssuedApiKey> {
        self.call(Method::POST, format!("/agents/{id}/api-keys"))
            .json(body)
            .send()
            .await
    }

    /// `GET /agents/{id}/api-keys`: one page of an agent's keys, without secrets.
    pub async fn list_agent_api_keys(
        &self,
        id: AgentId,
        query: &PageQuery,
    ) -> Result<Page<ApiKey, ApiKeySort>> {
        self.call(Method::GET, format!("/agents/{id}/api-keys"))
            .query(query)
            .send()
            .await
    }

    /// `GET /agents/{id}/api-keys`: every key of an agent from the page `query` names on.
    pub fn list_agent_api_keys_stream(
        &self,
        id: AgentId,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<ApiKey>> + Send + 'static {
        self.stream::<ApiKey, ApiKeySort>(format!("/agents/{id}/api-keys"), query)
    }

    /// `DELETE /agents/{id}/api-keys/{key_id}`: an agent's key stops working at once.
    pub async fn revoke_agent_api_key(&self, id: AgentId, key_id: ApiKeyId) -> Result<()> {
        self.call(Method::DELETE, format!("/agents/{id}/api-keys/{key_id}"))
            .send_empty()
            .await
    }
}
