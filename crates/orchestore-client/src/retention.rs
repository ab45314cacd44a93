//! `/api/v1/retention-policy`.

use orchestore_api::retention::{PolicyBody, PolicyView};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /retention-policy`: the organization's retention policy.
    pub async fn get_retention_policy(&self) -> Result<PolicyView> {
        self.call(Method::GET, "/retention-policy").send().await
    }

    /// `PUT /retention-policy`: replaces the whole policy.
    pub async fn replace_retention_policy(&self, body: &PolicyBody) -> Result<PolicyView> {
        self.call(Method::PUT, "/retention-policy")
            .json(body)
            .send()
            .await
    }
}
