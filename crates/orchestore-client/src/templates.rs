//! `/api/v1/templates`: templates of tasks and of workflows, instantiated and counted.

use futures_util::Stream;
use orchestore_api::PageQuery;
use orchestore_api::templates::{
    CreateTemplateBody, InstantiateBody, Instantiated, ListTemplatesQuery, PatchTemplateBody,
};
use orchestore_domain::{Revision, Template, TemplateId, TemplateUsage};
use orchestore_repo::{Page, TemplateSort, TemplateUsageSort};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /templates`.
    pub async fn create_template(&self, body: &CreateTemplateBody) -> Result<Template> {
        self.call(Method::POST, "/templates")
            .json(body)
            .send()
            .await
    }

    /// `GET /templates`: one page.
    pub async fn list_templates(
        &self,
        query: &ListTemplatesQuery,
    ) -> Result<Page<Template, TemplateSort>> {
        self.call(Method::GET, "/templates")
            .query(query)
            .send()
            .await
    }

    /// `GET /templates`: every template from the page `query` names on.
    pub fn list_templates_stream(
        &self,
        query: &ListTemplatesQuery,
    ) -> impl Stream<Item = Result<Template>> + Send + 'static {
        self.stream::<Template, TemplateSort>("/templates".to_owned(), query)
    }

    /// `GET /templates/{id}`.
    pub async fn get_template(&self, id: TemplateId) -> Result<Template> {
        self.call(Method::GET, format!("/templates/{id}"))
            .send()
            .await
    }

    /// `PATCH /templates/{id}`; with `if_match`, only when it is still at that revision.
    pub async fn update_template(
        &self,
        id: TemplateId,
        body: &PatchTemplateBody,
        if_match: Option<Revision>,
    ) -> Result<Template> {
        self.call(Method::PATCH, format!("/templates/{id}"))
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }

    /// `DELETE /templates/{id}`.
    pub async fn delete_template(&self, id: TemplateId, if_match: Option<Revision>) -> Result<()> {
        self.call(Method::DELETE, format!("/templates/{id}"))
            .if_match(if_match)
            .send_empty()
            .await
    }

    /// `POST /templates/{id}/instantiate`: the tasks of a task template, or the version (and
    /// with `run`, the execution) of a workflow template.
    pub async fn instantiate_template(
        &self,
        id: TemplateId,
        body: &InstantiateBody,
    ) -> Result<Instantiated> {
        self.call(Method::POST, format!("/templates/{id}/instantiate"))
            .json(body)
            .send()
            .await
    }

    /// `GET /templates/{id}/usages`: one page of the template's instantiations.
    pub async fn list_template_usages(
        &self,
        id: TemplateId,
        query: &PageQuery,
    ) -> Result<Page<TemplateUsage, TemplateUsageSort>> {
        self.call(Method::GET, format!("/templates/{id}/usages"))
            .query(query)
            .send()
            .await
    }

    /// `GET /templates/{id}/usages`: every instantiation of the template.
    pub fn list_template_usages_stream(
        &self,
        id: TemplateId,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<TemplateUsage>> + Send + 'static {
        self.stream::<TemplateUsage, TemplateUsageSort>(format!("/templates/{id}/usages"), query)
    }
}
