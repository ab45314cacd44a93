//! `/api/v1/projects`.

use futures_util::Stream;
use orchestore_api::projects::{CreateProjectBody, ListProjectsQuery, PatchProjectBody};
use orchestore_domain::{Project, ProjectId, Revision, TaskStats};
use orchestore_repo::{Page, ProjectSort};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /projects`.
    pub async fn create_project(&self, body: &CreateProjectBody) -> Result<Project> {
        self.call(Method::POST, "/projects").json(body).send().await
    }

    /// `GET /projects`: one page.
    pub async fn list_projects(
        &self,
        query: &ListProjectsQuery,
    ) -> Result<Page<Project, ProjectSort>> {
        self.call(Method::GET, "/projects")
            .query(query)
            .send()
            .await
    }

    /// `GET /projects`: every project from the page `query` names on.
    pub fn list_projects_stream(
        &self,
        query: &ListProjectsQuery,
    ) -> impl Stream<Item = Result<Project>> + Send + 'static {
        self.stream::<Project, ProjectSort>("/projects".to_owned(), query)
    }

    /// `GET /projects/{id}`.
    pub async fn get_project(&self, id: ProjectId) -> Result<Project> {
        self.call(Method::GET, format!("/projects/{id}"))
            .send()
            .await
    }

    /// `PATCH /projects/{id}`; with `if_match`, only when the project is still at that
    /// revision (else a 412 problem).
    pub async fn update_project(
        &self,
        id: ProjectId,
        body: &PatchProjectBody,
        if_match: Option<Revision>,
    ) -> Result<Project> {
        self.call(Method::PATCH, format!("/projects/{id}"))
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }

    /// `DELETE /projects/{id}`: the project and its tasks.
    pub async fn delete_project(&self, id: ProjectId, if_match: Option<Revision>) -> Result<()> {
        self.call(Method::DELETE, format!("/projects/{id}"))
            .if_match(if_match)
            .send_empty()
            .await
    }

    /// `GET /projects/{id}/stats`.
    pub async fn project_stats(&self, id: ProjectId) -> Result<TaskStats> {
        self.call(Method::GET, format!("/projects/{id}/stats"))
            .send()
            .await
    }
}
