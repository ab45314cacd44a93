//! `/api/v1/users` and the roles each user holds.

use futures_util::Stream;
use orchestore_api::users::{
    AssignRoleBody, CreateUserBody, ListUsersQuery, LookupUserQuery, PatchUserBody, RoleList,
};
use orchestore_domain::{Revision, RoleId, User, UserId};
use orchestore_repo::{Page, UserSort};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /users`.
    pub async fn create_user(&self, body: &CreateUserBody) -> Result<User> {
        self.call(Method::POST, "/users").json(body).send().await
    }

    /// `GET /users`: one page.
    pub async fn list_users(&self, query: &ListUsersQuery) -> Result<Page<User, UserSort>> {
        self.call(Method::GET, "/users").query(query).send().await
    }

    /// `GET /users`: every user from the page `query` names on.
    pub fn list_users_stream(
        &self,
        query: &ListUsersQuery,
    ) -> impl Stream<Item = Result<User>> + Send + 'static {
        self.stream::<User, UserSort>("/users".to_owned(), query)
    }

    /// `GET /users/lookup`: the user with this e-mail address or username.
    pub async fn lookup_user(&self, query: &LookupUserQuery) -> Result<User> {
        self.call(Method::GET, "/users/lookup")
            .query(query)
            .send()
            .await
    }

    /// `GET /users/{id}`.
    pub async fn get_user(&self, id: UserId) -> Result<User> {
        self.call(Method::GET, format!("/users/{id}")).send().await
    }

    /// `PATCH /users/{id}`: changes or (de)activates the user; with `if_match`, only when the
    /// user is still at that revision (else a 412 problem).
    pub async fn update_user(
        &self,
        id: UserId,
        body: &PatchUserBody,
        if_match: Option<Revision>,
    ) -> Result<User> {
        self.call(Method::PATCH, format!("/users/{id}"))
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }

    /// `GET /users/{id}/roles`: the roles the user holds, by code.
    pub async fn list_user_roles(&self, id: UserId) -> Result<RoleList> {
        self.call(Method::GET, format!("/users/{id}/roles"))
            .send()
            .await
    }

    /// `POST /users/{id}/roles`: grants a role; answers the roles the user holds now.
    pub async fn assign_role(&self, id: UserId, body: &AssignRoleBody) -> Result<RoleList> {
        self.call(Method::POST, format!("/users/{id}/roles"))
            .json(body)
            .send()
            .await
    }

    /// `DELETE /users/{id}/roles/{role_id}`: takes a role from the user.
    pub async fn remove_role(&self, id: UserId, role_id: RoleId) -> Result<()> {
        self.call(Method::DELETE, format!("/users/{id}/roles/{role_id}"))
            .send_empty()
            .await
    }
}
