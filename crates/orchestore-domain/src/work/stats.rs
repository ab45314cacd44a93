use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Priority, TaskStatus};

/// What a set of tasks (an organization's, a project's) looks like: how many are in each
/// status and at each priority, and how long the recent runs took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskStats {
    pub total: u64,
    /// Every status, with zero for the ones no task is in.
    pub by_status: BTreeMap<TaskStatus, u64>,
    /// The priorities in use, highest first.
    pub by_priority: Vec<PriorityCount>,
    pub run_time: RunTimeStats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PriorityCount {
    pub priority: Priority,
    pub count: u64,
}

impl TaskStats {
    /// Totals `by_status` (a status may be missing or repeated) and orders `by_priority`
    /// highest first.
    pub fn new(
        by_status: impl IntoIterator<Item = (TaskStatus, u64)>,
        by_priority: impl IntoIterator<Item = PriorityCount>,
        run_time: RunTimeStats,
    ) -> Self {
        let mut counts: BTreeMap<TaskStatus, u64> =
            TaskStatus::ALL.into_iter().map(|s| (s, 0)).collect();
        for (status, count) in by_status {
            *counts.entry(status).or_default() += count;
        }
        let mut by_priority: Vec<PriorityCount> = by_priority.into_iter().collect();
        by_priority.sort_by_key(|p| std::cmp::Reverse(p.priority));
        Self {
            total: counts.values().sum(),
            by_status: counts,
            by_priority,
            run_time,
        }
    }
}

/// Run times (`finished_at - started_at`) of the most recently finished tasks that ran: at
/// most [`RunTimeStats::WINDOW`] of them, so that the figure costs the same on a table of any
/// size and follows recent behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunTimeStats {
    /// The most runs measured.
    pub window: u32,
    /// The runs measured: fewer than `window` when fewer tasks have finished.
    pub measured: u64,
    pub mean_seconds: Option<f64>,
    /// The 95th percentile by nearest rank: the smallest run time that at least 95 % of the
    /// measured runs do not exceed.
    pub p95_seconds: Option<f64>,
}

impl RunTimeStats {
    pub const WINDOW: u32 = 1000;

    /// From run times in milliseconds, in any order; a negative one (a clock that went back)
    /// counts as zero.
    pub fn from_millis(durations: impl IntoIterator<Item = i64>) -> Self {
        let mut millis: Vec<u64> = durations
            .into_iter()
            .map(|d| u64::try_from(d).unwrap_or(0))
            .collect();
        millis.sort_unstable();
        let measured = millis.len() as u64;
        let seconds = |ms: u64| ms as f64 / 1000.0;
        let (mean_seconds, p95_seconds) = if millis.is_empty() {
            (None, None)
        } else {
            let total: u128 = millis.iter().map(|&ms| u128::from(ms)).sum();
            let mean = total as f64 / 1000.0 / millis.len() as f64;
            // Nearest rank: the ⌈0.95 n⌉-th smallest.
            let rank = (millis.len() * 95).div_ceil(100);
            (Some(mean), Some(seconds(millis[rank - 1])))
        };
        Self {
            window: Self::WINDOW,
            measured,
            mean_seconds,
            p95_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priority(value: i64) -> Priority {
        Priority::parse(value).expect("priority")
    }

    #[test]
    fn counts_cover_every_status_and_sort_priorities() {
        let stats = TaskStats::new(
            [(TaskStatus::Queued, 3), (TaskStatus::Failed, 1)],
            [
                PriorityCount {
                    priority: priority(-1),
                    count: 1,
                },
                PriorityCount {
                    priority: priority(10),
                    count: 3,
                },
            ],
            RunTimeStats::from_millis([]),
        );
        assert_eq!(stats.total, 4);
        assert_eq!(stats.by_status.len(), 6);
        assert_eq!(stats.by_status[&TaskStatus::Blocked], 0);
        assert_eq!(stats.by_status[&TaskStatus::Queued], 3);
        assert_eq!(stats.by_priority[0].priority.get(), 10);
        let json = serde_json::to_value(&stats).expect("json");
        assert_eq!(json["by_status"]["queued"], 3);
        assert_eq!(
            json["by_priority"][1],
            serde_json::json!({"priority": -1, "count": 1})
        );
        assert_eq!(json["run_time"]["mean_seconds"], serde_json::Value::Null);
    }

    #[test]
    fn mean_and_nearest_rank_p95() {
        let one = RunTimeStats::from_millis([2500]);
        assert_eq!(one.measured, 1);
        assert_eq!(one.mean_seconds, Some(2.5));
        assert_eq!(one.p95_seconds, Some(2.5));

        // 1..=100 seconds: the 95th smallest is 95 s.
        let hundred = RunTimeStats::from_millis((1..=100).rev().map(|s| s * 1000));
        assert_eq!(hundred.mean_seconds, Some(50.5));
        assert_eq!(hundred.p95_seconds, Some(95.0));

        // Twenty runs: ⌈19⌉ = the 19th smallest.
        let twenty = RunTimeStats::from_millis((1..=20).map(|s| s * 1000));
        assert_eq!(twenty.p95_seconds, Some(19.0));

        let skewed = RunTimeStats::from_millis([-5, 1000]);
        assert_eq!(skewed.mean_seconds, Some(0.5));
        assert_eq!(skewed.window, RunTimeStats::WINDOW);
    }
}
