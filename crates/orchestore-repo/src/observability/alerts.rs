//! Alerts: raised, counted while they stay unresolved, acknowledged and resolved.

use orchestore_domain::{Alert, AlertId, AlertSeverity, AlertStatus, NewAlert, Raised, SourceName};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the alert list, by when each was first raised.
    pub enum AlertSort for "alerts" {
        /// Newest first.
        FirstRaisedAtDesc = "-first_raised_at",
        /// Oldest first.
        FirstRaisedAt = "first_raised_at",
    }
}

/// Which alerts a list returns; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    pub status: Option<AlertStatus>,
    pub severity: Option<AlertSeverity>,
    pub source: Option<SourceName>,
}

/// The alerts of the context's organization. Every change is audited (`alert.create`,
/// `alert.raise`, `alert.status.acknowledged`, `alert.status.resolved`).
#[async_trait::async_trait]
pub trait AlertRepo: Send + Sync {
    /// Raises an alert. While an alert of the same source and fingerprint is not resolved
    /// (open or acknowledged), the raise counts another occurrence of it (`occurrences`,
    /// `last_raised_at`; severity, message and details become the new raise's) instead of
    /// opening another: one statement against a unique index of the unresolved alerts, so
    /// concurrent raises count on one alert.
    async fn raise_alert(&self, ctx: &Ctx, new: NewAlert) -> RepoResult<Raised>;
    async fn get_alert(&self, ctx: &Ctx, id: AlertId) -> RepoResult<Alert>;
    async fn list_alerts(
        &self,
        ctx: &Ctx,
        filter: AlertFilter,
        page: PageRequest<AlertSort>,
    ) -> RepoResult<Page<Alert, AlertSort>>;
    /// Acknowledges an open alert, naming the context's actor; from any other status a
    /// `Conflict`.
    async fn acknowledge_alert(&self, ctx: &Ctx, id: AlertId) -> RepoResult<Alert>;
    /// Resolves an open or acknowledged alert, naming the context's actor; a resolved one is a
    /// `Conflict`. A later raise opens a new alert.
    async fn resolve_alert(&self, ctx: &Ctx, id: AlertId) -> RepoResult<Alert>;
}
