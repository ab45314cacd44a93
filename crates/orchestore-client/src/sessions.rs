//! `/api/v1/sessions`: the caller's own logins.

use orchestore_api::sessions::{RevokeAllQuery, Revoked, SessionList};
use orchestore_domain::SessionId;
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /sessions`: the caller's live sessions, newest first.
    pub async fn list_sessions(&self) -> Result<SessionList> {
        self.call(Method::GET, "/sessions").send().await
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
