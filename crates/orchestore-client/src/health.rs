//! `/health/live` and `/health/ready`, outside `/api/v1` (public).

use orchestore_api::health::{Live, Ready};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /health/live`: the process answers.
    pub async fn health_live(&self) -> Result<Live> {
        self.call_root(Method::GET, "/health/live").send().await
    }

    /// `GET /health/ready`: the database answers and is migrated. A server that cannot serve
    /// answers 503 with a `NotReady` body (`orchestore_api::health`), which is no problem
    /// document: the error is `Error::Unexpected` with that body as its detail.
    pub async fn health_ready(&self) -> Result<Ready> {
        self.call_root(Method::GET, "/health/ready").send().await
    }
}
