//! Kinds of task: the tasks that ended in a window, by the capabilities they require.
//!
//! A task's kind is its `required_capabilities`, a sorted set every task carries (empty: any
//! agent runs it); it is what the queue matches agents on and what its statistics group by,
//! whereas a workflow step names only the tasks of executions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use orchestore_domain::{AnalyticsReport, AnalyticsWindow, TaskKindAnalytics};
use orchestore_repo::{Ctx, RepoResult};

use super::{PG_STATUS_COUNTS, Tally, count, durations_of, millis_between, outcomes_of, pg_millis};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::scoped::string_array;

/// The statuses a task ends in: a failed task may still be retried, but until then it has
/// ended.
const ENDED: &str = "status IN ('succeeded', 'failed', 'cancelled')";

/// The tasks that ended in the window (`$1` organization, `$2` since, `$3` until), through
/// `idx_tasks_organization_finished_at`.
fn pg_by_kind() -> String {
    format!(
        "SELECT required_capabilities::text AS kind, {PG_STATUS_COUNTS}, \
         sum(attempts)::bigint AS attempts, {}, {} \
         FROM tasks WHERE organization_id = $1 AND finished_at >= $2 AND finished_at < $3 \
         AND {ENDED} GROUP BY required_capabilities",
        super::pg_duration_columns("queued", &pg_millis("created_at", "started_at")),
        super::pg_duration_columns("running", &pg_millis("started_at", "finished_at")),
    )
}

fn sqlite_by_kind() -> String {
    format!(
        "SELECT required_capabilities AS kind, status, attempts, created_at, started_at, \
         finished_at FROM tasks WHERE organization_id = ? AND finished_at >= ? \
         AND finished_at < ? AND {ENDED}"
    )
}

fn kind_of(text: &str) -> RepoResult<Vec<String>> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| corrupt("task", e))?;
    let mut kind = string_array(&value)
        .ok_or_else(|| corrupt("task", "required_capabilities is not an array of strings"))?;
    kind.sort();
    Ok(kind)
}

fn mean_attempts(attempts: u64, tasks: u64) -> Option<f64> {
    (tasks > 0).then(|| attempts as f64 / tasks as f64)
}

impl SeaStore {
    pub(super) async fn analytics_by_task_kind(
        &self,
        ctx: &Ctx,
        window: AnalyticsWindow,
    ) -> RepoResult<AnalyticsReport<TaskKindAnalytics>> {
        let values = vec![
            ctx.org().as_uuid().into(),
            window.since().into(),
            window.until().into(),
        ];
        let mut items = Vec::new();
        if self.is_postgres() {
            for row in self.analytics_rows(&pg_by_kind(), values).await? {
                let kind: String = row.try_get("", "kind").map_err(db_err)?;
                let tasks = outcomes_of(&row)?;
                let attempts = count(&row, "attempts")?;
                items.push(TaskKindAnalytics {
                    required_capabilities: kind_of(&kind)?,
                    mean_attempts: mean_attempts(attempts, tasks.total),
                    tasks,
                    attempts,
                    queued: durations_of(&row, "queued")?,
                    running: durations_of(&row, "running")?,
                });
            }
        } else {
            let mut groups: BTreeMap<Vec<String>, (Tally, u64)> = BTreeMap::new();
            for row in self.analytics_rows(&sqlite_by_kind(), values).await? {
                let kind: String = row.try_get("", "kind").map_err(db_err)?;
                let status: String = row.try_get("", "status").map_err(db_err)?;
                let attempts: i32 = row.try_get("", "attempts").map_err(db_err)?;
                let created: DateTime<Utc> = row.try_get("", "created_at").map_err(db_err)?;
                let started: Option<DateTime<Utc>> =
                    row.try_get("", "started_at").map_err(db_err)?;
                let finished: Option<DateTime<Utc>> =
                    row.try_get("", "finished_at").map_err(db_err)?;
                let (tally, total_attempts) = groups.entry(kind_of(&kind)?).or_default();
                tally.status(&status);
                *total_attempts += u64::try_from(attempts).unwrap_or(0);
                tally.duration("queued", millis_between(Some(created), started));
                tally.duration("running", millis_between(started, finished));
            }
            items = groups
                .into_iter()
                .map(|(kind, (tally, attempts))| TaskKindAnalytics {
                    required_capabilities: kind,
                    tasks: tally.outcomes(),
                    attempts,
                    mean_attempts: mean_attempts(attempts, tally.total),
                    queued: tally.durations("queued"),
                    running: tally.durations("running"),
                })
                .collect();
        }
        items.sort_by(|a, b| a.required_capabilities.cmp(&b.required_capabilities));
        Ok(AnalyticsReport { window, items })
    }
}
