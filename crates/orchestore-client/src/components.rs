//! `/api/v1/components` and `/api/v1/component-communications`: the registry of the system's
//! components, their health, and the communications between them.

use futures_util::Stream;
use orchestore_api::components::{
    CommunicationBatchBody, CommunicationBody, CreateComponentBody, HealthCheckBody,
    HealthHistoryQuery, ListCommunicationsQuery, ListComponentsQuery, PatchComponentBody,
    RecordedCommunications,
};
use orchestore_domain::{
    Communication, Component, ComponentHealth, ComponentId, HealthCheck, Revision,
};
use orchestore_repo::{CommunicationSort, ComponentSort, HealthSort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /components`: registers a component.
    pub async fn create_component(&self, body: &CreateComponentBody) -> Result<Component> {
        self.call(Method::POST, "/components")
            .json(body)
            .send()
            .await
    }

    /// `GET /components`: one page.
    pub async fn list_components(
        &self,
        query: &ListComponentsQuery,
    ) -> Result<Page<Component, ComponentSort>> {
        self.call(Method::GET, "/components")
            .query(query)
            .send()
            .await
    }

    /// `GET /components`: every component from the page `query` names on.
    pub fn list_components_stream(
        &self,
        query: &ListComponentsQuery,
    ) -> impl Stream<Item = Result<Component>> + Send + 'static {
        self.stream::<Component, ComponentSort>("/components".to_owned(), query)
    }

    /// `GET /components/{id}`.
    pub async fn get_component(&self, id: ComponentId) -> Result<Component> {
        self.call(Method::GET, format!("/components/{id}"))
            .send()
            .await
    }

    /// `PATCH /components/{id}`; with `if_match`, only when the component is still at that
    /// revision (else a 412 problem).
    pub async fn update_component(
        &self,
        id: ComponentId,
        body: &PatchComponentBody,
        if_match: Option<Revision>,
    ) -> Result<Component> {
        self.call(Method::PATCH, format!("/components/{id}"))
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }

    /// `POST /components/{id}/health`: records a health check.
    pub async fn record_health(
        &self,
        id: ComponentId,
        body: &HealthCheckBody,
    ) -> Result<HealthCheck> {
        self.call(Method::POST, format!("/components/{id}/health"))
            .json(body)
            .send()
            .await
    }

    /// `GET /components/{id}/health`: one page of the component's checks, newest first.
    pub async fn list_health(
        &self,
        id: ComponentId,
        query: &HealthHistoryQuery,
    ) -> Result<Page<HealthCheck, HealthSort>> {
        self.call(Method::GET, format!("/components/{id}/health"))
            .query(query)
            .send()
            .await
    }

    /// `GET /components/{id}/health`: every check of the component from the page `query`
    /// names on.
    pub fn list_health_stream(
        &self,
        id: ComponentId,
        query: &HealthHistoryQuery,
    ) -> impl Stream<Item = Result<HealthCheck>> + Send + 'static {
        self.stream::<HealthCheck, HealthSort>(format!("/components/{id}/health"), query)
    }

    /// `GET /components/health`: one page of components, each with its latest check.
    pub async fn latest_health(
        &self,
        query: &ListComponentsQuery,
    ) -> Result<Page<ComponentHealth, ComponentSort>> {
        self.call(Method::GET, "/components/health")
            .query(query)
            .send()
            .await
    }

    /// `GET /components/health`: every component with its latest check, from the page
    /// `query` names on.
    pub fn latest_health_stream(
        &self,
        query: &ListComponentsQuery,
    ) -> impl Stream<Item = Result<ComponentHealth>> + Send + 'static {
        self.stream::<ComponentHealth, ComponentSort>("/components/health".to_owned(), query)
    }

    /// `POST /component-communications` with one communication: the communication,
    /// recorded.
    pub async fn record_communication(&self, body: &CommunicationBody) -> Result<Communication> {
        self.call(Method::POST, "/component-communications")
            .json(body)
            .send()
            .await
    }

    /// `POST /component-communications` with a batch (up to 10,000): their ids, recorded all
    /// or none.
    pub async fn record_communications(
        &self,
        body: &CommunicationBatchBody,
    ) -> Result<RecordedCommunications> {
        self.call(Method::POST, "/component-communications")
            .json(body)
            .send()
            .await
    }

    /// `GET /component-communications`: one page, newest first.
    pub async fn list_communications(
        &self,
        query: &ListCommunicationsQuery,
    ) -> Result<Page<Communication, CommunicationSort>> {
        self.call(Method::GET, "/component-communications")
            .query(query)
            .send()
            .await
    }

    /// `GET /component-communications`: every communication from the page `query` names on.
    pub fn list_communications_stream(
        &self,
        query: &ListCommunicationsQuery,
    ) -> impl Stream<Item = Result<Communication>> + Send + 'static {
        self.stream::<Communication, CommunicationSort>(
            "/component-communications".to_owned(),
            query,
        )
    }
}
