//! `/api/v1/audit-logs`.

use futures_util::Stream;
use orchestore_api::audit_logs::ListAuditQuery;
use orchestore_repo::{AuditEntry, AuditSort, ChainReport, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /audit-logs`: one page of the organization's audit rows.
    pub async fn list_audit_logs(
        &self,
        query: &ListAuditQuery,
    ) -> Result<Page<AuditEntry, AuditSort>> {
        self.call(Method::GET, "/audit-logs")
            .query(query)
            .send()
            .await
    }

    /// `GET /audit-logs`: every audit row from the page `query` names on.
    pub fn list_audit_logs_stream(
        &self,
        query: &ListAuditQuery,
    ) -> impl Stream<Item = Result<AuditEntry>> + Send + 'static {
        self.stream::<AuditEntry, AuditSort>("/audit-logs".to_owned(), query)
    }

    /// `GET /audit-logs/verification`: what the walk of the organization's hash chain found.
    pub async fn verify_audit_logs(&self) -> Result<ChainReport> {
        self.call(Method::GET, "/audit-logs/verification")
            .send()
            .await
    }
}
