//! `/api/v1/invitations`.

use futures_util::Stream;
use orchestore_api::PageQuery;
use orchestore_api::auth::TokenResponse;
use orchestore_api::invitations::{AcceptBody, CreateInvitationBody};
use orchestore_domain::{Invitation, InvitationId, IssuedInvitation};
use orchestore_repo::{InvitationSort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /invitations`: the invitation, with its token shown this once.
    pub async fn create_invitation(&self, body: &CreateInvitationBody) -> Result<IssuedInvitation> {
        self.call(Method::POST, "/invitations")
            .json(body)
            .send()
            .await
    }

    /// `GET /invitations`: one page of the pending invitations.
    pub async fn list_invitations(
        &self,
        query: &PageQuery,
    ) -> Result<Page<Invitation, InvitationSort>> {
        self.call(Method::GET, "/invitations")
            .query(query)
            .send()
            .await
    }

    /// `GET /invitations`: every pending invitation from the page `query` names on.
    pub fn list_invitations_stream(
        &self,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<Invitation>> + Send + 'static {
        self.stream::<Invitation, InvitationSort>("/invitations".to_owned(), query)
    }

    /// `GET /invitations/{id}`: pending or not, without its token.
    pub async fn get_invitation(&self, id: InvitationId) -> Result<Invitation> {
        self.call(Method::GET, format!("/invitations/{id}"))
            .send()
            .await
    }

    /// `DELETE /invitations/{id}`: the token stops working.
    pub async fn revoke_invitation(&self, id: InvitationId) -> Result<()> {
        self.call(Method::DELETE, format!("/invitations/{id}"))
            .send_empty()
            .await
    }

    /// `POST /invitations/accept`: the new user, logged in (public: the token is the
    /// credential).
    pub async fn accept_invitation(&self, body: &AcceptBody) -> Result<TokenResponse> {
        self.call(Method::POST, "/invitations/accept")
            .json(body)
            .send()
            .await
    }
}
