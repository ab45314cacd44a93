//! `/api/v1/me`: the caller.

use orchestore_api::me::{ChangePasswordBody, MeResponse};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /me`: the calling user (the owner, for a user's API key) and their permissions.
    pub async fn get_me(&self) -> Result<MeResponse> {
        self.call(Method::GET, "/me").send().await
    }

    /// `POST /me/password`: the caller's new password, given the current one; their other
    /// sessions are revoked.
    pub async fn change_password(&self, body: &ChangePasswordBody) -> Result<()> {
        self.call(Method::POST, "/me/password")
            .json(body)
            .send_empty()
            .await
    }
}
