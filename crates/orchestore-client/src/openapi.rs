//! `/api/openapi.json`.

use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /api/openapi.json`: the server's OpenAPI 3.1 document, as JSON.
    pub async fn openapi_document(&self) -> Result<serde_json::Value> {
        self.call_root(Method::GET, "/api/openapi.json")
            .send()
            .await
    }
}
