//! `/api/v1/analytics/…`: reports over a window of at most 92 days (30 by default).

use chrono::{DateTime, Utc};
use orchestore_domain::AnalyticsWindow;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::Invalid;

/// `since` (included) and `until` (excluded), RFC 3339.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    /// The window's start, included: 30 days before `until` when absent; at most 92 days
    /// before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// The window's end, excluded: now when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

impl WindowQuery {
    /// The window, `now` standing for an absent `until`.
    pub fn into_window(self, now: DateTime<Utc>) -> Result<AnalyticsWindow, Invalid> {
        Ok(AnalyticsWindow::parse(self.since, self.until, now)?)
    }
}
