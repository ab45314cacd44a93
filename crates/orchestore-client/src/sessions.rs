//! `/api/v1/sessions`: the caller's own logins.

use futures_util::Stream;
use orchestore_api::PageQuery;
use orchestore_api::sessions::{RevokeAllQuery, Revoked, SessionItem};
use orchestore_domain::SessionId;
use orchestore_repo::{Page, SessionSort};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /sessions`: one page of the caller's live sessions, newest first unless `query`
    /// sorts otherwise.
    pub async fn list_sessions(&self, query: &PageQuery) -> Result<Page<SessionItem, SessionSort>> {
        self.call(Method::GET, "/sessions")
            .query(query)
            .send()
            .await
    }

    /// `GET /sessions`: every live session of the caller from the page `query` names on.
    pub fn list_sessions_stream(
        &self,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<SessionItem>> + Send + 'static {
        self.stream::<SessionItem, SessionSort>("/sessions".to_owned(), query)
    }

    /// `DELETE /sessions/{id}`: revokes one of the caller's sessions.
    pub async fn revoke_session(&self, id: SessionId) -> Result<()> {
        self.call(Method::DELETE, format!("/sessions/{id}"))
            .send_empty()
            .await
    }

    /// `DELETE /sessions`: revokes the caller's sessions (all but this one with
    /// `except_current`).
    pub async fn revoke_sessions(&self, query: &RevokeAllQuery) -> Result<Revoked> {
        self.call(Method::DELETE, "/sessions")
            .query(query)
            .send()
            .await
    }
}
