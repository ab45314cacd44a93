//! Schedules and their firing.
//!
//! Firing a due schedule is one mutation: first a compare-and-set moves `next_run_at` from the
//! due occurrence on (`UPDATE … WHERE id = … AND next_run_at = <due>`). Of two firers (two
//! replicas' sweeps), the second one's update waits for the first on PostgreSQL, then finds the
//! row changed and touches nothing (SQLite's writers take turns); it writes nothing more. The
//! winner then creates the task, with idempotency key `schedule:<id>:<occurrence>`, or the
//! execution, in the same transaction, and records the outcome and its audit row. The key is a
//! second guard: should one occurrence be fired again (a schedule's pattern changed back and
//! forth with clocks apart), it finds the first task rather than making another.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    BatchTask, Capabilities, CronSchedule, Description, FiringPlan, MaxAttempts, MisfirePolicy,
    Name, NewSchedule, OrganizationId, Payload, Priority, ProjectId, Revision, Schedule,
    ScheduleFiring, ScheduleId, ScheduleOutcome, SchedulePatch, ScheduleTarget, ScheduledTask,
    ScheduledWorkflow, Tags, TimeZone, Title, WorkflowId, occurrence_key,
};
use orchestore_repo::{
    Ctx, Cursor, Page, PageRequest, RepoError, RepoResult, ScheduleFilter, ScheduleRepo,
    ScheduleSort,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::enqueue::Recorded;
use super::entity::{projects, schedules};
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::mutation::{Audited, Mutation, Verb, diff, snapshot};
use crate::revision::{Revised, delete_revised, expect_revision, to_revision, update_revised};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};
use crate::workflows::entity::workflows;

/// The fields of a task target kept in `schedules.target`.
#[derive(Serialize, Deserialize)]
struct TaskTargetRow {
    title: String,
    description: String,
    priority: i32,
    payload: Value,
    required_capabilities: Vec<String>,
    tags: Vec<String>,
    max_attempts: u32,
}

/// The fields of a workflow target kept in `schedules.target`.
#[derive(Serialize, Deserialize)]
struct WorkflowTargetRow {
    version: Option<u32>,
    input: Value,
    priority: i32,
}

/// The columns a target is stored in: its kind, project, workflow and the rest as JSON.
fn target_columns(target: &ScheduleTarget) -> (&'static str, Uuid, Option<Uuid>, Value) {
    match target {
        ScheduleTarget::Task(task) => (
            "task",
            task.project_id.as_uuid(),
            None,
            json!(TaskTargetRow {
                title: task.title.as_str().to_owned(),
                description: task.description.as_str().to_owned(),
                priority: task.priority.get(),
                payload: task.payload.as_value().clone(),
                required_capabilities: task.required_capabilities.to_strings(),
                tags: task.tags.to_strings(),
                max_attempts: task.max_attempts.get(),
            }),
        ),
        ScheduleTarget::Workflow(workflow) => (
            "workflow",
            workflow.project_id.as_uuid(),
            Some(workflow.workflow_id.as_uuid()),
            json!(WorkflowTargetRow {
                version: workflow.version,
                input: workflow.input.as_value().clone(),
                priority: workflow.priority.get(),
            }),
        ),
    }
}

fn to_target(row: &schedules::Model) -> RepoResult<ScheduleTarget> {
    let bad = |e: String| corrupt(schedules::Entity::NAME, e);
    let domain = |e: orchestore_domain::DomainError| bad(e.to_string());
    let project_id = ProjectId::from_uuid(row.project_id);
    match (row.target_kind.as_str(), row.workflow_id) {
        ("task", None) => {
            let t: TaskTargetRow =
                serde_json::from_value(row.target.clone()).map_err(|e| bad(e.to_string()))?;
            Ok(ScheduleTarget::Task(ScheduledTask {
                project_id,
                title: Title::parse(&t.title).map_err(domain)?,
                description: Description::parse("description", &t.description).map_err(domain)?,
                priority: Priority::parse(i64::from(t.priority)).map_err(domain)?,
                payload: Payload::parse(t.payload).map_err(domain)?,
                required_capabilities: Capabilities::parse(&t.required_capabilities)
                    .map_err(domain)?,
                tags: Tags::parse(&t.tags).map_err(domain)?,
                max_attempts: MaxAttempts::parse(i64::from(t.max_attempts)).map_err(domain)?,
            }))
        }
        ("workflow", Some(workflow_id)) => {
            let w: WorkflowTargetRow =
                serde_json::from_value(row.target.clone()).map_err(|e| bad(e.to_string()))?;
            Ok(ScheduleTarget::Workflow(ScheduledWorkflow {
                workflow_id: WorkflowId::from_uuid(workflow_id),
                version: w.version,
                project_id,
                input: Payload::parse(w.input).map_err(domain)?,
                priority: Priority::parse(i64::from(w.priority)).map_err(domain)?,
            }))
        }
        (kind, _) => Err(bad(format!(
            "target kind {kind:?} does not match its columns"
        ))),
    }
}

fn to_schedule(row: schedules::Model) -> RepoResult<Schedule> {
    let bad = |e: String| corrupt(schedules::Entity::NAME, e);
    let target = to_target(&row)?;
    Ok(Schedule {
        id: ScheduleId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        name: Name::parse("name", &row.name).map_err(|e| bad(e.to_string()))?,
        cron: CronSchedule::parse(&row.cron).map_err(|e| bad(e.to_string()))?,
        time_zone: TimeZone::parse(&row.time_zone).map_err(|e| bad(e.to_string()))?,
        misfire_policy: row
            .misfire_policy
            .parse::<MisfirePolicy>()
            .map_err(|e| bad(e.to_string()))?,
        target,
        enabled: row.enabled,
        next_run_at: row.next_run_at,
        last_run_at: row.last_run_at,
        last_outcome: row
            .last_outcome
            .map(serde_json::from_value::<ScheduleOutcome>)
            .transpose()
            .map_err(|e| bad(e.to_string()))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        revision: to_revision("schedule", row.revision)?,
    })
}

fn name_taken(name: &Name) -> RepoError {
    RepoError::taken(
        schedules::Entity::NAME,
        "name",
        format!("a schedule named {name:?} already exists (names compare ignoring case)"),
    )
}

/// Whether a target's refusal of an occurrence is the target's (recorded on the schedule, which
/// moves on) rather than the database's (the occurrence stays due and the next sweep tries
/// again).
fn refused_by_target(err: &RepoError) -> bool {
    matches!(
        err,
        RepoError::NotFound { .. }
            | RepoError::Conflict { .. }
            | RepoError::Reference { .. }
            | RepoError::Invalid(_)
            | RepoError::InBatch { .. }
    )
}

impl SeaStore {
    /// Checks that the target's project and workflow are the organization's.
    async fn check_target(&self, m: &Mutation<'_>, target: &ScheduleTarget) -> RepoResult<()> {
        let project = target.project_id();
        let found = scoped::<projects::Entity>(m.ctx())
            .filter(projects::Column::Id.eq(project.as_uuid()))
            .count(m.txn())
            .await
            .map_err(db_err)?;
        if found == 0 {
            return Err(RepoError::reference("project_id", "project", project));
        }
        if let Some(workflow) = target.workflow_id() {
            let found = scoped::<workflows::Entity>(m.ctx())
                .filter(workflows::Column::Id.eq(workflow.as_uuid()))
                .count(m.txn())
                .await
                .map_err(db_err)?;
            if found == 0 {
                return Err(RepoError::reference("workflow_id", "workflow", workflow));
            }
        }
        Ok(())
    }

    /// Moves schedule `id` from due occurrence `due` to `next`, when `due` is still its
    /// `next_run_at`: whether this call won the occurrence.
    async fn advance(
        &self,
        m: &Mutation<'_>,
        id: ScheduleId,
        due: DateTime<Utc>,
        next: Option<DateTime<Utc>>,
    ) -> RepoResult<bool> {
        let moved = schedules::Entity::update_many()
            .col_expr(schedules::Column::NextRunAt, Expr::value(next))
            .col_expr(schedules::Column::UpdatedAt, Expr::value(m.at()))
            .col_expr(
                schedules::Column::Revision,
                schedules::Entity::next_revision(),
            )
            .filter(schedules::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
            .filter(schedules::Column::Id.eq(id.as_uuid()))
            .filter(schedules::Column::Enabled.eq(true))
            .filter(schedules::Column::NextRunAt.eq(due))
            .exec(m.txn())
            .await
            .map_err(db_err)?;
        Ok(moved.rows_affected == 1)
    }

    /// Records what an occurrence produced on the schedule, with the audit row of the firing:
    /// in the transaction of its [`Self::advance`], whose revision covers both.
    async fn record_outcome(
        &self,
        m: &Mutation<'_>,
        id: ScheduleId,
        outcome: &ScheduleOutcome,
        next: Option<DateTime<Utc>>,
    ) -> RepoResult<()> {
        schedules::Entity::update_many()
            .col_expr(
                schedules::Column::LastRunAt,
                Expr::value(outcome.occurrence()),
            )
            .col_expr(schedules::Column::LastOutcome, Expr::value(json!(outcome)))
            .filter(schedules::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
            .filter(schedules::Column::Id.eq(id.as_uuid()))
            .exec(m.txn())
            .await
            .map_err(db_err)?;
        m.audit::<schedules::Entity>(
            Verb::Named("fire"),
            id,
            json!({ "outcome": outcome, "next_run_at": next }),
        )
        .await
    }

    /// Runs the target for `occurrence` in mutation `m`.
    async fn run_target(
        &self,
        m: &Mutation<'_>,
        schedule: &Schedule,
        occurrence: DateTime<Utc>,
    ) -> RepoResult<ScheduleOutcome> {
        match &schedule.target {
            ScheduleTarget::Task(task) => {
                // A key that does not parse is a bug, not the target's refusal.
                let key = occurrence_key(schedule.id, occurrence).map_err(RepoError::internal)?;
                let batch = vec![BatchTask::from(task.to_new_task(key))];
                if let Some(fault) = BatchTask::check_batch(&batch).into_iter().next() {
                    return Err(fault.into());
                }
                let enqueued = self
                    .enqueue_in(m, &batch, Recorded::Create)
                    .await?
                    .pop()
                    .ok_or_else(|| RepoError::internal("an enqueue answered no task"))?;
                Ok(ScheduleOutcome::Task {
                    occurrence,
                    task_id: enqueued.task.id,
                })
            }
            ScheduleTarget::Workflow(workflow) => {
                let execution = self
                    .create_execution_in(m, workflow.to_new_execution())
                    .await?;
                Ok(ScheduleOutcome::Execution {
                    occurrence,
                    execution_id: execution.id,
                })
            }
        }
    }

    /// Fires due schedule `schedule` at `now` as the system; `None` when another firer moved
    /// it first.
    async fn fire(
        &self,
        ctx: &Ctx,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<ScheduleFiring>> {
        let Some(due) = schedule.next_run_at else {
            return Ok(None);
        };
        let plan = FiringPlan::at(
            &schedule.cron,
            schedule.time_zone,
            schedule.misfire_policy,
            due,
            now,
        );
        let system = Ctx::system(ctx.org());
        let firing = |outcome| ScheduleFiring {
            schedule_id: schedule.id,
            outcome,
            next_run_at: plan.next,
        };
        let Some(occurrence) = plan.fire else {
            let skipped = self
                .mutate(&system, async |m| {
                    if !self.advance(m, schedule.id, due, plan.next).await? {
                        return Ok(false);
                    }
                    m.audit::<schedules::Entity>(
                        Verb::Named("skip"),
                        schedule.id,
                        json!({ "missed_from": due, "next_run_at": plan.next }),
                    )
                    .await?;
                    Ok(true)
                })
                .await?;
            return Ok(skipped.then(|| firing(None)));
        };
        let fired = self
            .mutate(&system, async |m| {
                if !self.advance(m, schedule.id, due, plan.next).await? {
                    return Ok(None);
                }
                let outcome = self.run_target(m, schedule, occurrence).await?;
                self.record_outcome(m, schedule.id, &outcome, plan.next)
                    .await?;
                Ok(Some(outcome))
            })
            .await;
        let refusal = match fired {
            Ok(outcome) => return Ok(outcome.map(|o| firing(Some(o)))),
            Err(err) if refused_by_target(&err) => err,
            Err(err) => return Err(err),
        };
        // The target refused the occurrence, and everything it wrote was rolled back: the
        // schedule records why and moves on, under the same compare-and-set.
        tracing::warn!(schedule = %schedule.id, %occurrence, error = %refusal, "a schedule's target refused its occurrence");
        let outcome = ScheduleOutcome::Failed {
            occurrence,
            error: refusal.to_string(),
        };
        let recorded = self
            .mutate(&system, async |m| {
                if !self.advance(m, schedule.id, due, plan.next).await? {
                    return Ok(false);
                }
                self.record_outcome(m, schedule.id, &outcome, plan.next)
                    .await?;
                Ok(true)
            })
            .await?;
        Ok(recorded.then(|| firing(Some(outcome))))
    }

    /// Enables or pauses schedule `id`; a schedule already so is answered as it is.
    async fn set_enabled(&self, ctx: &Ctx, id: ScheduleId, enabled: bool) -> RepoResult<Schedule> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<schedules::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let before = to_schedule(row.clone())?;
            if before.enabled == enabled {
                return Ok(before);
            }
            let read = row.revision;
            let next_run_at = if enabled {
                before.cron.next_after(m.at(), before.time_zone)
            } else {
                None
            };
            let mut update = row.into_active_model();
            update.enabled = Set(enabled);
            update.next_run_at = Set(next_run_at);
            update.updated_at = Set(m.at());
            let after =
                to_schedule(update_revised(m.txn(), id, update, read, None, db_err).await?)?;
            m.audit::<schedules::Entity>(
                Verb::Named(if enabled { "resume" } else { "pause" }),
                id,
                json!({ "next_run_at": next_run_at }),
            )
            .await?;
            Ok(after)
        })
        .await
    }
}

#[async_trait::async_trait]
impl ScheduleRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_schedule(&self, ctx: &Ctx, new: NewSchedule) -> RepoResult<Schedule> {
        self.mutate(ctx, async |m| {
            self.check_target(m, &new.target).await?;
            let next_run_at = if new.enabled {
                new.cron
                    .next_from(new.starts_at.unwrap_or(m.at()), new.time_zone)
            } else {
                None
            };
            let (kind, project_id, workflow_id, target) = target_columns(&new.target);
            let row = schedules::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(ScheduleId::new().as_uuid()),
                name: Set(new.name.as_str().to_owned()),
                name_key: Set(new.name.key()),
                cron: Set(new.cron.as_str().to_owned()),
                time_zone: Set(new.time_zone.name().to_owned()),
                misfire_policy: Set(new.misfire_policy.as_str().to_owned()),
                target_kind: Set(kind.to_owned()),
                project_id: Set(project_id),
                workflow_id: Set(workflow_id),
                target: Set(target),
                enabled: Set(new.enabled),
                next_run_at: Set(next_run_at),
                last_run_at: Set(None),
                last_outcome: Set(None),
                created_at: Set(m.at()),
                updated_at: Set(m.at()),
                revision: Set(Revision::FIRST.get()),
            }
            .insert(m.txn())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    name_taken(&new.name)
                } else {
                    db_err(e)
                }
            })?;
            let schedule = to_schedule(row)?;
            m.audit::<schedules::Entity>(Verb::Create, schedule.id, snapshot(&schedule))
                .await?;
            Ok(schedule)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), schedule = %id))]
    async fn get_schedule(&self, ctx: &Ctx, id: ScheduleId) -> RepoResult<Schedule> {
        self.find_scoped::<schedules::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_schedule)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_schedules(
        &self,
        ctx: &Ctx,
        filter: ScheduleFilter,
        page: PageRequest<ScheduleSort>,
    ) -> RepoResult<Page<Schedule, ScheduleSort>> {
        let mut query = scoped::<schedules::Entity>(ctx);
        if let Some(enabled) = filter.enabled {
            query = query.filter(schedules::Column::Enabled.eq(enabled));
        }
        let keyset = match page.sort() {
            ScheduleSort::CreatedAt => Keyset::OldestFirst,
            ScheduleSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let schedules = rows
            .into_iter()
            .map(to_schedule)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(schedules, &page, |s| {
            Cursor::after(page.sort(), s.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), schedule = %id))]
    async fn update_schedule(
        &self,
        ctx: &Ctx,
        id: ScheduleId,
        patch: SchedulePatch,
        expected: Option<Revision>,
    ) -> RepoResult<Schedule> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<schedules::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<schedules::Entity>(id, read, expected)?;
            let before = to_schedule(row.clone())?;
            let mut after = before.clone();
            if let Some(name) = &patch.name {
                after.name = name.clone();
            }
            if let Some(cron) = &patch.cron {
                after.cron = cron.clone();
            }
            if let Some(time_zone) = patch.time_zone {
                after.time_zone = time_zone;
            }
            if let Some(policy) = patch.misfire_policy {
                after.misfire_policy = policy;
            }
            if let Some(target) = &patch.target {
                self.check_target(m, target).await?;
                after.target = target.clone();
            }
            if let Some(enabled) = patch.enabled {
                after.enabled = enabled;
            }
            let timing_changed = after.cron != before.cron
                || after.time_zone != before.time_zone
                || after.enabled != before.enabled;
            if timing_changed {
                after.next_run_at = if after.enabled {
                    after.cron.next_after(m.at(), after.time_zone)
                } else {
                    None
                };
            }
            if after == before {
                return Ok(before);
            }
            after.updated_at = m.at();
            let (kind, project_id, workflow_id, target) = target_columns(&after.target);
            let mut update = row.into_active_model();
            update.name = Set(after.name.as_str().to_owned());
            update.name_key = Set(after.name.key());
            update.cron = Set(after.cron.as_str().to_owned());
            update.time_zone = Set(after.time_zone.name().to_owned());
            update.misfire_policy = Set(after.misfire_policy.as_str().to_owned());
            update.target_kind = Set(kind.to_owned());
            update.project_id = Set(project_id);
            update.workflow_id = Set(workflow_id);
            update.target = Set(target);
            update.enabled = Set(after.enabled);
            update.next_run_at = Set(after.next_run_at);
            update.updated_at = Set(after.updated_at);
            let row = update_revised(m.txn(), id, update, read, expected, |e| {
                if is_unique_violation(&e) {
                    name_taken(&after.name)
                } else {
                    db_err(e)
                }
            })
            .await?;
            after.revision = to_revision("schedule", row.revision)?;
            m.audit::<schedules::Entity>(Verb::Update, id, diff(&before, &after))
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), schedule = %id))]
    async fn delete_schedule(
        &self,
        ctx: &Ctx,
        id: ScheduleId,
        expected: Option<Revision>,
    ) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<schedules::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<schedules::Entity>(id, read, expected)?;
            let schedule = to_schedule(row)?;
            delete_revised::<schedules::Entity>(m.txn(), ctx, id, read, expected).await?;
            m.audit::<schedules::Entity>(Verb::Delete, id, snapshot(&schedule))
                .await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), schedule = %id))]
    async fn pause_schedule(&self, ctx: &Ctx, id: ScheduleId) -> RepoResult<Schedule> {
        self.set_enabled(ctx, id, false).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), schedule = %id))]
    async fn resume_schedule(&self, ctx: &Ctx, id: ScheduleId) -> RepoResult<Schedule> {
        self.set_enabled(ctx, id, true).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn fire_due_schedules(
        &self,
        ctx: &Ctx,
        now: DateTime<Utc>,
        limit: u32,
    ) -> RepoResult<Vec<ScheduleFiring>> {
        let rows = scoped::<schedules::Entity>(ctx)
            .filter(schedules::Column::Enabled.eq(true))
            .filter(schedules::Column::NextRunAt.lte(now))
            .order_by_asc(schedules::Column::NextRunAt)
            .limit(u64::from(limit))
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        // One schedule that cannot be fired (a row that does not decode, a database error on its
        // transaction) must not hold back the others due after it: each is fired on its own,
        // and the sweep fails only when none could be.
        let mut fired = Vec::with_capacity(rows.len());
        let mut first_error = None;
        for row in rows {
            let id = row.id;
            let firing = match to_schedule(row) {
                Ok(schedule) => self.fire(ctx, &schedule, now).await,
                Err(error) => Err(error),
            };
            match firing {
                Ok(Some(firing)) => fired.push(firing),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(org = %ctx.org(), schedule = %id, %error, "schedule not fired");
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) if fired.is_empty() => Err(error),
            _ => Ok(fired),
        }
    }

    async fn organizations_with_due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>> {
        let orgs: Vec<Uuid> = schedules::Entity::find()
            .select_only()
            .column(schedules::Column::OrganizationId)
            .distinct()
            .filter(schedules::Column::Enabled.eq(true))
            .filter(schedules::Column::NextRunAt.lte(now))
            .limit(u64::from(limit))
            .into_tuple()
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let unique: std::collections::BTreeSet<Uuid> = orgs.into_iter().collect();
        Ok(unique.into_iter().map(OrganizationId::from_uuid).collect())
    }
}
