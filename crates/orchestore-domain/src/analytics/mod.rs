//! Analytics: how workflows, kinds of task and templates fare over a window of time.
//!
//! Every figure is computed over a bounded [`AnalyticsWindow`], so that a report reads the
//! rows of that window through an index and never the whole history.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{DomainError, TemplateId, TemplateKind, WorkflowId};

/// The time a report covers: from `since` (included) to `until` (excluded), at most
/// [`AnalyticsWindow::MAX_DAYS`] days; by default the [`AnalyticsWindow::DEFAULT_DAYS`] days
/// before now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AnalyticsWindow {
    since: DateTime<Utc>,
    until: DateTime<Utc>,
}

/// The wire form of an [`AnalyticsWindow`], checked by its parser when read.
#[derive(Deserialize)]
struct RawWindow {
    since: DateTime<Utc>,
    until: DateTime<Utc>,
}

deserialize_by_parse!(AnalyticsWindow, RawWindow, |raw| {
    AnalyticsWindow::parse(Some(raw.since), Some(raw.until), raw.until)
});

impl AnalyticsWindow {
    pub const DEFAULT_DAYS: i64 = 30;
    pub const MAX_DAYS: i64 = 92;

    /// `until` defaults to `now`, `since` to [`AnalyticsWindow::DEFAULT_DAYS`] days before
    /// `until`.
    pub fn parse(
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        let until = until.unwrap_or(now);
        let since = since.unwrap_or(until - Duration::days(Self::DEFAULT_DAYS));
        if since >= until {
            return Err(DomainError::invalid("since", "must be before until"));
        }
        if until - since > Duration::days(Self::MAX_DAYS) {
            return Err(DomainError::invalid(
                "since",
                format!("the window must be at most {} days", Self::MAX_DAYS),
            ));
        }
        Ok(Self { since, until })
    }

    pub fn since(self) -> DateTime<Utc> {
        self.since
    }

    pub fn until(self) -> DateTime<Utc> {
        self.until
    }

    /// The UTC days the window touches, first to last.
    pub fn days(self) -> Vec<NaiveDate> {
        let last = (self.until - Duration::microseconds(1)).date_naive();
        self.since
            .date_naive()
            .iter_days()
            .take_while(|day| *day <= last)
            .collect()
    }
}

/// Durations of a set of runs: how many were measured, their mean, and their 95th percentile
/// by nearest rank — the smallest duration that at least 95 % of them do not exceed, the
/// ⌈0.95 n⌉-th smallest (PostgreSQL's `percentile_disc(0.95)`), as for the task statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DurationStats {
    pub measured: u64,
    pub mean_seconds: Option<f64>,
    pub p95_seconds: Option<f64>,
}

impl DurationStats {
    /// From durations in milliseconds, in any order; a negative one (a clock that went back)
    /// counts as zero.
    pub fn from_millis(durations: impl IntoIterator<Item = i64>) -> Self {
        let mut millis: Vec<i64> = durations.into_iter().map(|d| d.max(0)).collect();
        millis.sort_unstable();
        let p95 = millis
            .len()
            .checked_sub(1)
            .map(|_| millis[(millis.len() * 95).div_ceil(100) - 1]);
        let total: i128 = millis.iter().map(|&ms| i128::from(ms)).sum();
        Self::from_parts(millis.len() as u64, total, p95)
    }

    /// From what a database computed: how many durations, their sum and their 95th percentile
    /// by nearest rank, in milliseconds. The mean is computed here, so that it is the same
    /// number whichever backend summed.
    pub fn from_parts(measured: u64, total_millis: i128, p95_millis: Option<i64>) -> Self {
        let seconds = |ms: f64| ms / 1000.0;
        Self {
            measured,
            mean_seconds: (measured > 0).then(|| seconds(total_millis as f64 / measured as f64)),
            p95_seconds: p95_millis
                .filter(|_| measured > 0)
                .map(|ms| seconds(ms as f64)),
        }
    }
}

/// How many runs (executions, tasks) ended each way, and the share that succeeded of those
/// that ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outcomes {
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Not ended yet.
    pub unfinished: u64,
    /// `succeeded / (succeeded + failed + cancelled)`; `None` while none ended.
    pub success_rate: Option<f64>,
}

impl Outcomes {
    pub fn new(total: u64, succeeded: u64, failed: u64, cancelled: u64) -> Self {
        let ended = succeeded + failed + cancelled;
        Self {
            total,
            succeeded,
            failed,
            cancelled,
            unfinished: total.saturating_sub(ended),
            success_rate: (ended > 0).then(|| succeeded as f64 / ended as f64),
        }
    }
}

/// One workflow's executions started in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkflowAnalytics {
    pub workflow_id: WorkflowId,
    pub name: String,
    pub executions: Outcomes,
    /// From start to end, of the executions that ended.
    pub duration: DurationStats,
}

/// One UTC day of a workflow's executions: those started that day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkflowDay {
    pub day: NaiveDate,
    pub executions: Outcomes,
    pub duration: DurationStats,
}

/// A workflow's executions day by day: every day of the window, with zeros where none started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkflowDaily {
    pub workflow_id: WorkflowId,
    pub window: AnalyticsWindow,
    pub days: Vec<WorkflowDay>,
}

/// The tasks of one kind — one set of required capabilities — that ended in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskKindAnalytics {
    /// The kind: the capabilities its tasks require, sorted (empty: any agent runs them).
    pub required_capabilities: Vec<String>,
    pub tasks: Outcomes,
    /// Attempts the tasks took, all told.
    pub attempts: u64,
    pub mean_attempts: Option<f64>,
    /// From a task's creation to the start of its last run (time blocked, waiting in the queue
    /// and earlier attempts included), of the tasks that ran.
    pub queued: DurationStats,
    /// The last run, from its start to the task's end.
    pub running: DurationStats,
}

/// One template's uses in the window, and how what they produced fared: for a task template the
/// tasks it created, for a workflow template the executions of the versions it wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TemplateAnalytics {
    pub template_id: TemplateId,
    pub name: String,
    pub kind: TemplateKind,
    pub uses: u64,
    pub produced: Outcomes,
}

/// A report over a window: one item per workflow, kind or template that had any in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnalyticsReport<T> {
    pub window: AnalyticsWindow,
    pub items: Vec<T>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn windows_default_and_are_bounded() {
        let now = at("2026-11-27T10:00:00Z");
        let window = AnalyticsWindow::parse(None, None, now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(window.until(), now);
        assert_eq!(window.since(), at("2026-10-28T10:00:00Z"));
        let backwards = AnalyticsWindow::parse(Some(now), Some(now), now).unwrap_err();
        assert_eq!(backwards.field(), Some("since"));
        let long = AnalyticsWindow::parse(Some(now - Duration::days(93)), None, now).unwrap_err();
        assert_eq!(long.field(), Some("since"));
        assert!(AnalyticsWindow::parse(Some(now - Duration::days(92)), None, now).is_ok());
    }

    #[test]
    fn days_cover_the_window() {
        let window = AnalyticsWindow::parse(
            Some(at("2026-11-01T12:00:00Z")),
            Some(at("2026-11-03T00:00:00Z")),
            Utc::now(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let days: Vec<String> = window.days().iter().map(ToString::to_string).collect();
        assert_eq!(days, ["2026-11-01", "2026-11-02"]);
    }

    #[test]
    fn durations_by_nearest_rank() {
        let none = DurationStats::from_millis([]);
        assert_eq!(
            (none.measured, none.mean_seconds, none.p95_seconds),
            (0, None, None)
        );
        let twenty = DurationStats::from_millis((1..=20).rev().map(|s| s * 1000));
        assert_eq!(twenty.measured, 20);
        assert_eq!(twenty.mean_seconds, Some(10.5));
        assert_eq!(twenty.p95_seconds, Some(19.0));
        assert_eq!(DurationStats::from_parts(20, 210_000, Some(19_000)), twenty);
        assert_eq!(
            DurationStats::from_millis([-5, 1000]).mean_seconds,
            Some(0.5)
        );
    }

    #[test]
    fn success_rate_counts_what_ended() {
        let outcomes = Outcomes::new(5, 3, 1, 0);
        assert_eq!(outcomes.unfinished, 1);
        assert_eq!(outcomes.success_rate, Some(0.75));
        assert_eq!(Outcomes::new(2, 0, 0, 0).success_rate, None);
    }
}
