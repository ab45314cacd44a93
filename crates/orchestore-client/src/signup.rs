//! `/api/v1/organizations/signup`.

use orchestore_api::auth::TokenResponse;
use orchestore_api::signup::SignupBody;
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /organizations/signup`: a new organization and its owner, logged in (public, when
    /// the server takes sign-ups).
    pub async fn sign_up(&self, body: &SignupBody) -> Result<TokenResponse> {
        self.call(Method::POST, "/organizations/signup")
            .json(body)
            .send()
            .await
    }
}
