//! `/api/v1/retention-policy`.

use orchestore_api::retention::{PolicyBody, PolicyView};
use orchestore_domain::Revision;
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /retention-policy`: the organization's retention policy.
    pub async fn get_retention_policy(&self) -> Result<PolicyView> {
        self.call(Method::GET, "/retention-policy").send().await
    }

    /// `PUT /retention-policy`: replaces the whole policy; with `if_match`, only when it is still
    /// at that revision.
    pub async fn replace_retention_policy(
        &self,
        body: &PolicyBody,
        if_match: Option<Revision>,
    ) -> Result<PolicyView> {
        self.call(Method::PUT, "/retention-policy")
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }
}
