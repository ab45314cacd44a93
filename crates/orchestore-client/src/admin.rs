//! `/api/v1/admin`: the instance itself, for the organization that operates it.

use orchestore_repo::DatabaseStatus;
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /admin/database`: the backend, the pool, the slowest statements and the tables'
    /// sizes.
    pub async fn get_database_status(&self) -> Result<DatabaseStatus> {
        self.call(Method::GET, "/admin/database").send().await
    }
}
