//! Workflows: their executions started in a window, per workflow and per day.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use orchestore_domain::{
    AnalyticsReport, AnalyticsWindow, Outcomes, WorkflowAnalytics, WorkflowDaily, WorkflowDay,
    WorkflowId,
};
use orchestore_repo::{Ctx, RepoResult};
use sea_orm::Value;
use uuid::Uuid;

use super::{PG_STATUS_COUNTS, Tally, durations_of, millis_between, outcomes_of, pg_millis};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::scoped::Lock;
use crate::workflows::entity::workflows;

fn pg_duration() -> String {
    super::pg_duration_columns("run", &pg_millis("e.started_at", "e.finished_at"))
}

/// The executions of the organization started in the window (`$1` organization, `$2` since,
/// `$3` until), through `idx_workflow_executions_organization_created_at`.
fn pg_by_workflow() -> String {
    format!(
        "SELECT e.workflow_id, w.name, {PG_STATUS_COUNTS}, {} \
         FROM workflow_executions e \
         JOIN workflows w ON w.organization_id = e.organization_id AND w.id = e.workflow_id \
         WHERE e.organization_id = $1 AND e.created_at >= $2 AND e.created_at < $3 \
         GROUP BY e.workflow_id, w.name",
        pg_duration()
    )
}

const SQLITE_BY_WORKFLOW: &str = "SELECT e.workflow_id, w.name, e.status, e.started_at, \
     e.finished_at FROM workflow_executions e \
     JOIN workflows w ON w.organization_id = e.organization_id AND w.id = e.workflow_id \
     WHERE e.organization_id = ? AND e.created_at >= ? AND e.created_at < ?";

/// One workflow's executions started in the window (`$4` the workflow), by UTC day, through
/// `idx_workflow_executions_organization_workflow_created_at`.
fn pg_by_day() -> String {
    format!(
        "SELECT to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, \
         {PG_STATUS_COUNTS}, {} \
         FROM workflow_executions e \
         WHERE e.organization_id = $1 AND e.created_at >= $2 AND e.created_at < $3 \
         AND e.workflow_id = $4 GROUP BY 1",
        pg_duration()
    )
}

const SQLITE_BY_DAY: &str = "SELECT e.created_at, e.status, e.started_at, e.finished_at \
     FROM workflow_executions e WHERE e.organization_id = ? AND e.created_at >= ? \
     AND e.created_at < ? AND e.workflow_id = ?";

fn window_values(ctx: &Ctx, window: AnalyticsWindow) -> Vec<Value> {
    vec![
        ctx.org().as_uuid().into(),
        window.since().into(),
        window.until().into(),
    ]
}

impl SeaStore {
    pub(super) async fn analytics_by_workflow(
        &self,
        ctx: &Ctx,
        window: AnalyticsWindow,
    ) -> RepoResult<AnalyticsReport<WorkflowAnalytics>> {
        let values = window_values(ctx, window);
        let mut items = Vec::new();
        if self.is_postgres() {
            for row in self.analytics_rows(&pg_by_workflow(), values).await? {
                let id: Uuid = row.try_get("", "workflow_id").map_err(db_err)?;
                items.push(WorkflowAnalytics {
                    workflow_id: WorkflowId::from_uuid(id),
                    name: row.try_get("", "name").map_err(db_err)?,
                    executions: outcomes_of(&row)?,
                    duration: durations_of(&row, "run")?,
                });
            }
        } else {
            let mut groups: BTreeMap<Uuid, (String, Tally)> = BTreeMap::new();
            for row in self.analytics_rows(SQLITE_BY_WORKFLOW, values).await? {
                let id: Uuid = row.try_get("", "workflow_id").map_err(db_err)?;
                let name: String = row.try_get("", "name").map_err(db_err)?;
                let status: String = row.try_get("", "status").map_err(db_err)?;
                let started: Option<DateTime<Utc>> =
                    row.try_get("", "started_at").map_err(db_err)?;
                let finished: Option<DateTime<Utc>> =
                    row.try_get("", "finished_at").map_err(db_err)?;
                let (_, tally) = groups.entry(id).or_insert_with(|| (name, Tally::default()));
                tally.status(&status);
                tally.duration("run", millis_between(started, finished));
            }
            items = groups
                .into_iter()
                .map(|(id, (name, tally))| WorkflowAnalytics {
                    workflow_id: WorkflowId::from_uuid(id),
                    name,
                    executions: tally.outcomes(),
                    duration: tally.durations("run"),
                })
                .collect();
        }
        items.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then_with(|| a.workflow_id.cmp(&b.workflow_id))
        });
        Ok(AnalyticsReport { window, items })
    }

    pub(super) async fn analytics_by_day(
        &self,
        ctx: &Ctx,
        workflow: WorkflowId,
        window: AnalyticsWindow,
    ) -> RepoResult<WorkflowDaily> {
        self.find_scoped::<workflows::Entity>(&self.db().await, ctx, workflow, Lock::None)
            .await?;
        let mut values = window_values(ctx, window);
        values.push(workflow.as_uuid().into());
        let mut found: BTreeMap<NaiveDate, (Outcomes, orchestore_domain::DurationStats)> =
            BTreeMap::new();
        if self.is_postgres() {
            for row in self.analytics_rows(&pg_by_day(), values).await? {
                let day: String = row.try_get("", "day").map_err(db_err)?;
                let day = day
                    .parse::<NaiveDate>()
                    .map_err(|e| corrupt("workflow_execution", e))?;
                found.insert(day, (outcomes_of(&row)?, durations_of(&row, "run")?));
            }
        } else {
            let mut tallies: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
            for row in self.analytics_rows(SQLITE_BY_DAY, values).await? {
                let created: DateTime<Utc> = row.try_get("", "created_at").map_err(db_err)?;
                let status: String = row.try_get("", "status").map_err(db_err)?;
                let started: Option<DateTime<Utc>> =
                    row.try_get("", "started_at").map_err(db_err)?;
                let finished: Option<DateTime<Utc>> =
                    row.try_get("", "finished_at").map_err(db_err)?;
                let tally = tallies.entry(created.date_naive()).or_default();
                tally.status(&status);
                tally.duration("run", millis_between(started, finished));
            }
            found = tallies
                .into_iter()
                .map(|(day, tally)| (day, (tally.outcomes(), tally.durations("run"))))
                .collect();
        }
        let days = window
            .days()
            .into_iter()
            .map(|day| {
                let (executions, duration) = found.remove(&day).unwrap_or_else(|| {
                    (
                        Outcomes::default(),
                        orchestore_domain::DurationStats::from_millis([]),
                    )
                });
                WorkflowDay {
                    day,
                    executions,
                    duration,
                }
            })
            .collect();
        Ok(WorkflowDaily {
            workflow_id: workflow,
            window,
            days,
        })
    }
}
