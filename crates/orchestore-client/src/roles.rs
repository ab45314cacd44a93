//! `/api/v1/roles`.

use futures_util::Stream;
use orchestore_api::roles::{CreateRoleBody, ListRolesQuery, PatchRoleBody};
use orchestore_domain::{Revision, Role, RoleId};
use orchestore_repo::{Page, RoleSort};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /roles`: a custom role of the caller's organization.
    pub async fn create_role(&self, body: &CreateRoleBody) -> Result<Role> {
        self.call(Method::POST, "/roles").json(body).send().await
    }

    /// `GET /roles`: one page of the system roles and the organization's own.
    pub async fn list_roles(&self, query: &ListRolesQuery) -> Result<Page<Role, RoleSort>> {
        self.call(Method::GET, "/roles").query(query).send().await
    }

    /// `GET /roles`: every role from the page `query` names on.
    pub fn list_roles_stream(
        &self,
        query: &ListRolesQuery,
    ) -> impl Stream<Item = Result<Role>> + Send + 'static {
        self.stream::<Role, RoleSort>("/roles".to_owned(), query)
    }

    /// `GET /roles/{id}`.
    pub async fn get_role(&self, id: RoleId) -> Result<Role> {
        self.call(Method::GET, format!("/roles/{id}")).send().await
    }

    /// `PATCH /roles/{id}`: a custom role's description or permissions; with `if_match`, only
    /// when the role is still at that revision (else a 412 problem).
    pub async fn update_role(
        &self,
        id: RoleId,
        body: &PatchRoleBody,
        if_match: Option<Revision>,
    ) -> Result<Role> {
        self.call(Method::PATCH, format!("/roles/{id}"))
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }

    /// `DELETE /roles/{id}`: a custom role nobody holds.
    pub async fn delete_role(&self, id: RoleId, if_match: Option<Revision>) -> Result<()> {
        self.call(Method::DELETE, format!("/roles/{id}"))
            .if_match(if_match)
            .send_empty()
            .await
    }
}
