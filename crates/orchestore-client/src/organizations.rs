//! `/api/v1/organization`: the caller's organization.

use orchestore_domain::Organization;
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /organization`: the caller's organization.
    pub async fn get_organization(&self) -> Result<Organization> {
        self.call(Method::GET, "/organization").send().await
    }
}
