//! `/api/v1/auth`: login, refresh and logout. Login and refresh are public: a client with
//! `Credential::Anonymous` calls them, then switches with
//! `client.with_credential(Credential::Bearer(tokens.access_token))`.

use orchestore_api::auth::{LoginBody, RefreshBody, TokenResponse};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /auth/login`: a new session's tokens.
    pub async fn login(&self, body: &LoginBody) -> Result<TokenResponse> {
        self.call(Method::POST, "/auth/login")
            .json(body)
            .send()
            .await
    }

    /// `POST /auth/refresh`: trades the session's refresh token for a new pair, once.
    pub async fn refresh(&self, body: &RefreshBody) -> Result<TokenResponse> {
        self.call(Method::POST, "/auth/refresh")
            .json(body)
            .send()
            .await
    }

    /// `POST /auth/logout`: revokes the session of the client's access token.
    pub async fn logout(&self) -> Result<()> {
        self.call(Method::POST, "/auth/logout").send_empty().await
    }
}
